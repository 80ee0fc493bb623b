/* SPDX-License-Identifier: BSD-3-Clause */
/* Log and error-message helpers. */
#include <stdarg.h>
#include <stdio.h>

#include "server_private.h"

void srv_log(const struct ivsh_server *srv, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!srv->conf.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	srv->conf.log(srv->conf.log_opaque, level, line);
}

void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
