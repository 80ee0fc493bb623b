/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-info internals: a tiny emitter that writes the same report as
 * aligned text or as JSON, and the hook for optional report sections
 * (e.g. the shared-memory layout, added in its own file).
 */
#ifndef IVSH_INFO_H
#define IVSH_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ivsh_dev.h"

#define INFO_MAX_DEPTH 8

/* Text: "key: value" lines, nested sections indented.
 * JSON: one object; arrays hold objects or scalars. */
struct info_out {
	FILE *f;
	bool json;
	int depth;
	bool first[INFO_MAX_DEPTH + 1]; /* no member written yet at depth */
	bool in_array[INFO_MAX_DEPTH + 1];
};

void info_out_init(struct info_out *o, FILE *f, bool json);
/* Open/close the top-level document (JSON braces; nothing in text). */
void info_out_begin(struct info_out *o);
void info_out_end(struct info_out *o);

/* A nested object; @key NULL inside an array. */
void info_out_object(struct info_out *o, const char *key);
/* A nested array of objects or scalars. */
void info_out_array(struct info_out *o, const char *key);
/* Close the innermost object or array. */
void info_out_close(struct info_out *o);

void info_out_str(struct info_out *o, const char *key, const char *val);
void info_out_uint(struct info_out *o, const char *key, uint64_t val);
void info_out_int(struct info_out *o, const char *key, int64_t val);
void info_out_bool(struct info_out *o, const char *key, bool val);
/* Text shows 0x%08x; JSON a number. */
void info_out_hex32(struct info_out *o, const char *key, uint32_t val);
/* JSON null; text shows @why. */
void info_out_null(struct info_out *o, const char *key, const char *why);

/*
 * Optional report sections, each in its own source file, selected by a
 * long option. A section prints with the emitter and returns 0, or
 * returns -1 after printing a one-line "ivsh-info: ..." error.
 */
struct info_section {
	const char *option;  /* long option name, e.g. "layout" */
	const char *help;    /* one line for --help */
	int (*print)(struct ivsh_dev *dev, struct info_out *o);
};

/* NULL-terminated; defined in sections.c. */
extern const struct info_section *const info_sections[];

/* report.c: the device report (backend, ID, memory, registers, peers).
 * IntrStatus is read (and so cleared) only when @read_status. */
void info_report(struct ivsh_dev *dev, const char *name, bool read_status,
		 struct info_out *o);

/* actions.c; each returns 0 or -1 after a one-line error on stderr. */
int info_ring(struct ivsh_dev *dev, uint16_t peer, uint16_t vector,
	      bool json);
int info_wait(struct ivsh_dev *dev, unsigned int vector, int timeout_ms,
	      bool json);
int info_listen(struct ivsh_dev *dev, int timeout_ms, bool json);

/* Print "ivsh-info: <message>" to stderr. */
void info_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* IVSH_INFO_H */
