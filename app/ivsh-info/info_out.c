/* SPDX-License-Identifier: BSD-3-Clause */
/* The text/JSON emitter of ivsh-info. */
#include <inttypes.h>
#include <string.h>

#include "info.h"

void info_out_init(struct info_out *o, FILE *f, bool json)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->json = json;
	o->first[0] = true;
}

static void indent(struct info_out *o, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", o->f);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Start a member: separator, indentation and (outside arrays) the key. */
static void member(struct info_out *o, const char *key)
{
	if (o->json) {
		if (!o->first[o->depth])
			fputc(',', o->f);
		fputc('\n', o->f);
		indent(o, o->depth + 1);
		if (!o->in_array[o->depth] && key != NULL) {
			json_string(o->f, key);
			fputs(": ", o->f);
		}
	} else {
		indent(o, o->depth);
		if (key != NULL)
			fprintf(o->f, "%-12s ", key);
		else
			fputs("- ", o->f);
	}
	o->first[o->depth] = false;
}

void info_out_begin(struct info_out *o)
{
	if (o->json)
		fputc('{', o->f);
}

void info_out_end(struct info_out *o)
{
	if (o->json)
		fputs("\n}\n", o->f);
	fflush(o->f);
}

static void open_nested(struct info_out *o, const char *key, bool array)
{
	if (o->json) {
		member(o, key);
		fputc(array ? '[' : '{', o->f);
	} else {
		indent(o, o->depth);
		fprintf(o->f, "%s\n", key != NULL ? key : "-");
		o->first[o->depth] = false;
	}
	if (o->depth < INFO_MAX_DEPTH)
		o->depth++;
	o->first[o->depth] = true;
	o->in_array[o->depth] = array;
}

void info_out_object(struct info_out *o, const char *key)
{
	open_nested(o, key, false);
}

void info_out_array(struct info_out *o, const char *key)
{
	open_nested(o, key, true);
}

void info_out_close(struct info_out *o)
{
	bool array = o->in_array[o->depth];
	bool empty = o->first[o->depth];

	if (o->depth > 0)
		o->depth--;
	if (!o->json)
		return;
	if (!empty) {
		fputc('\n', o->f);
		indent(o, o->depth + 1);
	}
	fputc(array ? ']' : '}', o->f);
}

void info_out_str(struct info_out *o, const char *key, const char *val)
{
	member(o, key);
	if (o->json)
		json_string(o->f, val);
	else
		fprintf(o->f, "%s\n", val);
}

void info_out_uint(struct info_out *o, const char *key, uint64_t val)
{
	member(o, key);
	fprintf(o->f, o->json ? "%" PRIu64 : "%" PRIu64 "\n", val);
}

void info_out_int(struct info_out *o, const char *key, int64_t val)
{
	member(o, key);
	fprintf(o->f, o->json ? "%" PRId64 : "%" PRId64 "\n", val);
}

void info_out_bool(struct info_out *o, const char *key, bool val)
{
	member(o, key);
	if (o->json)
		fputs(val ? "true" : "false", o->f);
	else
		fprintf(o->f, "%s\n", val ? "yes" : "no");
}

void info_out_hex32(struct info_out *o, const char *key, uint32_t val)
{
	member(o, key);
	if (o->json)
		fprintf(o->f, "%" PRIu32, val);
	else
		fprintf(o->f, "0x%08" PRIx32 "\n", val);
}

void info_out_null(struct info_out *o, const char *key, const char *why)
{
	member(o, key);
	if (o->json)
		fputs("null", o->f);
	else
		fprintf(o->f, "%s\n", why);
}
