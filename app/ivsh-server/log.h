/* SPDX-License-Identifier: BSD-3-Clause */
/* Where ivsh-server's log lines go: stderr with timestamps, or syslog. */
#ifndef IVSH_SERVER_LOG_H
#define IVSH_SERVER_LOG_H

struct app_log {
	int max_level;  /* syslog priority: lines above it are dropped */
	int use_syslog;
};

/** An ivsh_server_log_fn; @p opaque is a struct app_log. */
void app_log(void *opaque, int level, const char *msg);
/** Log through @p l with printf formatting. */
void app_logf(struct app_log *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* IVSH_SERVER_LOG_H */
