/* SPDX-License-Identifier: BSD-3-Clause */
/* Optional report sections of ivsh-info, each selected by its option. */
#include <stddef.h>

#include "info.h"

#ifdef IVSH_INFO_SECTION_LAYOUT
/* section_layout.c: the shared-memory layout (--layout). */
extern const struct info_section info_section_layout;
#endif

const struct info_section *const info_sections[] = {
#ifdef IVSH_INFO_SECTION_LAYOUT
	&info_section_layout,
#endif
	NULL,
};
