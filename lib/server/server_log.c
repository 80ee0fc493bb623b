/* SPDX-License-Identifier: BSD-3-Clause */
/* Log and error-message helpers. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <syslog.h>

#include "server_private.h"

/* Per-client lines: a burst of LOG_BURST, then LOG_PER_SEC a second. */
#define LOG_BURST 50
#define LOG_PER_SEC 10

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

bool srv_log_client_ok(struct ivsh_server *srv, int level)
{
	/* Misbehaviour has a bucket of its own: a flood of hang-ups must
	 * not hide the line saying why a client was dropped. */
	struct srv_log_bucket *b = &srv->log_bucket[level < LOG_INFO];
	uint64_t now = srv_now_ms();
	uint64_t add = (now - b->filled_ms) * LOG_PER_SEC / 1000;

	if (b->filled_ms == 0 || add > 0) {
		uint64_t t = b->filled_ms ? b->tokens + add : LOG_BURST;

		b->tokens = t > LOG_BURST ? LOG_BURST : (unsigned int)t;
		b->filled_ms = now;
	}
	if (b->tokens == 0) {
		b->suppressed++;
		return false;
	}
	b->tokens--;
	if (b->suppressed) {
		srv_log(srv, LOG_NOTICE,
			"%lu client %s messages not logged (too many)",
			b->suppressed, level < LOG_INFO ? "error" :
			"connect/disconnect");
		b->suppressed = 0;
	}
	return true;
}
