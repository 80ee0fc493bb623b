/* SPDX-License-Identifier: BSD-3-Clause */
/* Device strings: "BACKEND:ARGUMENT[,key=value...]". */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dev_private.h"
#include "ivsh_size.h"

static const char *const irq_mode_names[] = {
	[IVSH_IRQ_AUTO] = "auto",
	[IVSH_IRQ_MSIX] = "msix",
	[IVSH_IRQ_INTX] = "intx",
	[IVSH_IRQ_INTX_POLL] = "intx-poll",
	[IVSH_IRQ_NONE] = "none",
};

#define N_IRQ_MODES (sizeof(irq_mode_names) / sizeof(irq_mode_names[0]))

const char *ivsh_dev_irq_mode_name(enum ivsh_irq_mode mode)
{
	if ((unsigned int)mode >= N_IRQ_MODES)
		return "?";
	return irq_mode_names[mode];
}

int ivsh_dev_parse_irq_mode(const char *s, enum ivsh_irq_mode *out)
{
	for (size_t i = 0; i < N_IRQ_MODES; i++) {
		if (strcmp(s, irq_mode_names[i]) == 0) {
			*out = (enum ivsh_irq_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal digits only: no sign, no spaces, no hex surprises. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return 0;
}

/* A decimal number within [min, max]. */
static int parse_ranged(const char *s, uint64_t min, uint64_t max,
			uint64_t *out)
{
	const char *end;
	uint64_t v;

	if (parse_u64(s, &end, &v) < 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int apply_key(const char *key, const char *val,
		     struct ivsh_dev_opts *opts)
{
	uint64_t v;

	if (strcmp(key, "id") == 0) {
		if (parse_ranged(val, 0, 65535, &v) < 0)
			goto bad;
		opts->id = (int)v;
		opts->id_set = true;
	} else if (strcmp(key, "vectors") == 0) {
		if (parse_ranged(val, 1, IVSH_DEV_MAX_VECTORS, &v) < 0) {
			ivsh_dev_set_error("vectors=%s: expected 1..%d", val,
					   IVSH_DEV_MAX_VECTORS);
			return -EINVAL;
		}
		opts->vectors = (unsigned int)v;
	} else if (strcmp(key, "size") == 0) {
		if (ivsh_parse_size(val, &v) < 0 || v == 0) {
			ivsh_dev_set_error("size=%s: expected a non-zero byte count with optional k/M/G suffix",
					   val);
			return -EINVAL;
		}
		if ((v & (v - 1)) != 0) {
			ivsh_dev_set_error("size=%s: must be a power of two",
					   val);
			return -EINVAL;
		}
		opts->size = v;
	} else if (strcmp(key, "timeout") == 0) {
		if (parse_ranged(val, 1, INT_MAX, &v) < 0) {
			ivsh_dev_set_error("timeout=%s: expected milliseconds, 1..%d",
					   val, INT_MAX);
			return -EINVAL;
		}
		opts->timeout_ms = (int)v;
	} else if (strcmp(key, "irq") == 0) {
		enum ivsh_irq_mode mode;

		if (ivsh_dev_parse_irq_mode(val, &mode) < 0) {
			ivsh_dev_set_error("irq=%s: expected auto, msix, intx, intx-poll or none",
					   val);
			return -EINVAL;
		}
		opts->irq_mode = mode;
	} else {
		ivsh_dev_set_error("unknown key '%s' (known: id, vectors, size, timeout, irq)",
				   key);
		return -EINVAL;
	}
	return 0;
bad:
	ivsh_dev_set_error("%s=%s: expected 0..65535", key, val);
	return -EINVAL;
}

void ivsh_dev_name_free(struct ivsh_dev_name *n)
{
	free(n->buf);
	n->buf = NULL;
	n->prefix = NULL;
	n->arg = NULL;
}

int ivsh_dev_parse_name(const char *name, struct ivsh_dev_opts *opts,
			struct ivsh_dev_name *out)
{
	static const char *const keys[] = { "id", "vectors", "size",
					    "timeout", "irq" };
	bool seen[sizeof(keys) / sizeof(keys[0])] = { false };
	char *buf, *colon, *opt, *next;
	int rc;

	out->buf = NULL;
	out->prefix = NULL;
	out->arg = NULL;
	if (name == NULL || *name == '\0') {
		ivsh_dev_set_error("empty device string (expected BACKEND:ARGUMENT[,key=value...])");
		return -EINVAL;
	}
	buf = strdup(name);
	if (buf == NULL) {
		ivsh_dev_set_error("out of memory");
		return -ENOMEM;
	}
	colon = strchr(buf, ':');
	if (colon == NULL || colon == buf) {
		ivsh_dev_set_error("'%s': expected BACKEND:ARGUMENT, e.g. shm:/dev/shm/NAME",
				   name);
		rc = -EINVAL;
		goto fail;
	}
	*colon = '\0';
	opt = strchr(colon + 1, ',');
	if (opt != NULL)
		*opt++ = '\0';
	if (colon[1] == '\0') {
		ivsh_dev_set_error("'%s': missing argument after '%s:'", name,
				   buf);
		rc = -EINVAL;
		goto fail;
	}
	for (; opt != NULL; opt = next) {
		char *eq;
		size_t k;

		next = strchr(opt, ',');
		if (next != NULL)
			*next++ = '\0';
		eq = strchr(opt, '=');
		if (*opt == '\0' || eq == NULL || eq == opt || eq[1] == '\0') {
			ivsh_dev_set_error("'%s': option '%s' is not key=value",
					   name, opt);
			rc = -EINVAL;
			goto fail;
		}
		*eq = '\0';
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (strcmp(opt, keys[k]) == 0)
				break;
		}
		if (k < sizeof(keys) / sizeof(keys[0])) {
			if (seen[k]) {
				ivsh_dev_set_error("key '%s' given twice", opt);
				rc = -EINVAL;
				goto fail;
			}
			seen[k] = true;
		}
		rc = apply_key(opt, eq + 1, opts);
		if (rc < 0)
			goto fail;
	}
	out->buf = buf;
	out->prefix = buf;
	out->arg = colon + 1;
	return 0;
fail:
	free(buf);
	return rc;
}
