/* SPDX-License-Identifier: BSD-3-Clause */
/* Log sink of ivsh-server: timestamped stderr lines, or syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

void app_log(void *opaque, int level, const char *msg)
{
	struct app_log *l = opaque;
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level > l->max_level)
		return;
	if (l->use_syslog) {
		syslog(level, "%s", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ ivsh-server: %s\n", stamp,
		ts.tv_nsec / 1000000L, msg);
}

void app_logf(struct app_log *l, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	app_log(l, level, line);
}
