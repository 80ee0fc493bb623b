/* SPDX-License-Identifier: BSD-3-Clause */
/* The server's public size parser is the one every layer shares. */
#include "ivsh_server.h"
#include "ivsh_size.h"

int ivsh_server_parse_size(const char *s, uint64_t *out)
{
	return ivsh_parse_size(s, out);
}
