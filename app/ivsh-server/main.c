/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-server: the ivshmem server for the host, a thin program over
 * lib/server. Runs the event loop, turns SIGTERM/SIGINT into a clean
 * shutdown (socket and pid file removed), detaches unless told not to.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon.h"
#include "ivsh_server.h"
#include "log.h"
#include "options.h"

#define PROG "ivsh-server"

/* Below this descriptor limit an unprivileged server warns at start. */
#define SAFE_NOFILE 65536

/* Many clients need many descriptors: use all we are allowed. */
static void raise_fd_limit(struct app_log *log)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			app_logf(log, LOG_DEBUG,
				 "descriptor limit raised to %llu",
				 (unsigned long long)rl.rlim_cur);
		else
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	/* The kernel lets an ordinary user have only this many descriptors
	 * in flight in UNIX sockets; each user of the clients gets a quarter
	 * (--max-inflight), so four users that never read fill it. */
	if (geteuid() != 0 && rl.rlim_cur < SAFE_NOFILE)
		app_logf(log, LOG_WARNING,
			 "descriptor limit %llu: four users whose clients never read can fill it with our descriptors in flight, and then new clients wait; raise it (ulimit -n, LimitNOFILE=) to %u or more, or restrict the socket to trusted users",
			 (unsigned long long)rl.rlim_cur, SAFE_NOFILE);
}

static int block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int run(struct ivsh_server *srv, int sigfd, struct app_log *log)
{
	struct pollfd pfd[2] = {
		{ .fd = ivsh_server_fd(srv), .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
	};

	for (;;) {
		int rc = poll(pfd, 2, -1);

		if (rc < 0) {
			if (errno == EINTR)
				continue;
			app_logf(log, LOG_ERR, "poll: %s", strerror(errno));
			return 1;
		}
		/* Events first: what happened before the signal is still
		 * handled (and logged). */
		if (pfd[0].revents) {
			rc = ivsh_server_process(srv, 0);
			if (rc < 0 && rc != -EINTR) {
				app_logf(log, LOG_ERR, "event loop: %s",
					 strerror(-rc));
				return 1;
			}
		}
		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				app_logf(log, LOG_NOTICE,
					 "%s received, shutting down",
					 strsignal((int)si.ssi_signo));
				return 0;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct app_log log = { .max_level = LOG_INFO, .use_syslog = 0 };
	struct ivsh_server *srv = NULL;
	struct options o;
	struct pidfile pf = { 0, 0 };
	char err[512] = "";
	int ready_fd = -1, sigfd, rc, status;

	if (options_parse(&o, argc, argv) < 0) {
		options_free(&o);
		return 1;
	}
	if (o.help) {
		options_usage(stdout);
		options_free(&o);
		return 0;
	}
	if (o.verbose)
		log.max_level = LOG_DEBUG;
	o.conf.log = app_log;
	o.conf.log_opaque = &log;

	sigfd = block_signals();
	if (sigfd < 0) {
		fprintf(stderr, PROG ": signal setup: %s\n", strerror(errno));
		return 1;
	}
	/* A daemon logs to syslog from the start; start-up errors still
	 * reach the terminal through err below. */
	if (!o.foreground) {
		openlog(PROG, LOG_PID, LOG_DAEMON);
		log.use_syslog = 1;
	}
	raise_fd_limit(&log);

	/* Create first: bad options and a busy socket are reported on the
	 * terminal, and the socket is listening before we detach. */
	rc = ivsh_server_create(&srv, &o.conf, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", err[0] ? err : strerror(-rc));
		options_free(&o);
		return 1;
	}
	if (options_pin_ids(&o, srv) < 0) {
		ivsh_server_destroy(srv);
		options_free(&o);
		return 1;
	}
	if (!o.foreground) {
		rc = daemon_start(&ready_fd);
		if (rc < 0) {
			fprintf(stderr, PROG ": cannot daemonize: %s\n",
				strerror(-rc));
			ivsh_server_destroy(srv);
			return 1;
		}
	}
	if (o.pidfile) {
		rc = pidfile_write(o.pidfile, &pf, err, sizeof(err));
		if (rc < 0) {
			if (!err[0])
				snprintf(err, sizeof(err), "%s", strerror(-rc));
			fprintf(stderr, PROG ": cannot write pid file %s: %s\n",
				o.pidfile, err);
			ivsh_server_destroy(srv);
			if (ready_fd >= 0)
				daemon_ready(ready_fd, 0);
			options_free(&o);
			return 1;
		}
	}
	if (!o.foreground)
		daemon_ready(ready_fd, 1);

	status = run(srv, sigfd, &log);

	ivsh_server_destroy(srv);
	if (o.pidfile)
		pidfile_remove(o.pidfile, &pf);
	close(sigfd);
	options_free(&o);
	return status;
}
