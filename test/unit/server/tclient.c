/* SPDX-License-Identifier: BSD-3-Clause */
/* Test helpers for the server tests: see tclient.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"

void tc_mkdtemp(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/ivsh-test-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
}

void tc_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

struct tclient *tc_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct tclient *tc = calloc(1, sizeof(*tc));

	if (!tc)
		return NULL;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	tc->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (tc->sock < 0 ||
	    connect(tc->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fcntl(tc->sock, F_SETFL, O_NONBLOCK) < 0) {
		if (tc->sock >= 0)
			close(tc->sock);
		free(tc);
		return NULL;
	}
	ivsh_proto_client_init(&tc->pc);
	tc->id = -1;
	tc->shm_fd = -1;
	memset(tc->peer_fd, -1, sizeof(tc->peer_fd));
	return tc;
}

int tc_bind_only(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void tc_close(struct tclient *tc)
{
	if (!tc)
		return;
	if (tc->sock >= 0)
		close(tc->sock);
	if (tc->shm_fd >= 0)
		close(tc->shm_fd);
	for (int i = 0; i < tc->own_count; i++)
		close(tc->own_fd[i]);
	for (int p = 0; p < 8; p++)
		for (int v = 0; v < IVSH_PROTO_MAX_VECTORS; v++)
			if (tc->peer_fd[p][v] >= 0)
				close(tc->peer_fd[p][v]);
	free(tc);
}

static void handle(struct tclient *tc, const struct ivsh_proto_event *ev)
{
	switch (ev->type) {
	case IVSH_PROTO_EV_ID:
		tc->id = ev->peer;
		break;
	case IVSH_PROTO_EV_SHM:
		tc->shm_fd = ev->fd;
		return;
	case IVSH_PROTO_EV_OWN_VECTOR:
		tc->own_fd[tc->own_count++] = ev->fd;
		return;
	case IVSH_PROTO_EV_PEER_VECTOR:
		if (ev->peer < TC_TRACK_PEERS)
			tc->peer_vec_events[ev->peer]++;
		tc->total_peer_vec++;
		if (tc->keep_peer_fds && ev->peer < 8) {
			if (tc->peer_fd[ev->peer][ev->vector] >= 0)
				close(tc->peer_fd[ev->peer][ev->vector]);
			tc->peer_fd[ev->peer][ev->vector] = ev->fd;
			return;
		}
		break;
	case IVSH_PROTO_EV_PEER_GONE:
		if (ev->peer < TC_TRACK_PEERS)
			tc->peer_gone_events[ev->peer]++;
		tc->total_gone++;
		if (tc->keep_peer_fds && ev->peer < 8) {
			for (int v = 0; v < IVSH_PROTO_MAX_VECTORS; v++) {
				if (tc->peer_fd[ev->peer][v] >= 0)
					close(tc->peer_fd[ev->peer][v]);
				tc->peer_fd[ev->peer][v] = -1;
			}
		}
		break;
	default:
		break;
	}
	if (ev->fd >= 0)
		close(ev->fd);
}

int tc_read(struct tclient *tc)
{
	int n = 0;

	while (!tc->eof && !tc->err) {
		struct ivsh_proto_event ev;
		int64_t v;
		int fd, rc;

		rc = ivsh_proto_recv(tc->sock, &v, &fd);
		if (rc == -EAGAIN)
			break;
		if (rc == -ECONNRESET) {
			tc->eof = true;
			break;
		}
		if (rc < 0) {
			tc->err = rc;
			break;
		}
		n++;
		if (tc->nlog < TC_MAX_LOG) {
			tc->log[tc->nlog].value = v;
			tc->log[tc->nlog].has_fd = fd >= 0;
			tc->nlog++;
		}
		tc->nmsgs++;
		rc = ivsh_proto_client_feed(&tc->pc, v, fd, &ev);
		if (rc < 0) {
			tc->err = rc;
			break;
		}
		handle(tc, &ev);
	}
	return n;
}

int tc_pump(struct ivsh_server *srv, struct tclient **tcs, int n)
{
	int rounds = 0;

	for (;;) {
		int moved = 0;

		rounds++;
		for (int k = 0; k < 16; k++) {
			int rc = ivsh_server_process(srv, 0);

			if (rc <= 0)
				break;
			moved += rc;
		}
		for (int i = 0; i < n; i++)
			if (tcs[i])
				moved += tc_read(tcs[i]);
		if (!moved || rounds > 100000)
			return rounds;
	}
}

void tc_conf(struct ivsh_server_conf *conf, const char *path,
	     unsigned int vectors)
{
	memset(conf, 0, sizeof(*conf));
	conf->socket_path = path;
	conf->shm_size = 64 * 1024;
	conf->vectors = vectors;
	conf->shm_kind = IVSH_SERVER_SHM_MEMFD;
	conf->log = tc_log;
}

#define LOG_KEEP 64
static char log_lines[LOG_KEEP][256];
static unsigned int log_next;

void tc_log(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	if (getenv("IVSH_TEST_VERBOSE"))
		fprintf(stderr, "server: %s\n", msg);
	snprintf(log_lines[log_next % LOG_KEEP], sizeof(log_lines[0]), "%s",
		 msg);
	log_next++;
}

bool tc_log_has(const char *needle)
{
	for (unsigned int i = 0; i < LOG_KEEP; i++)
		if (strstr(log_lines[i], needle))
			return true;
	return false;
}

void tc_log_clear(void)
{
	memset(log_lines, 0, sizeof(log_lines));
	log_next = 0;
}

int tc_fx_setup(void **state)
{
	struct tc_fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->fds_before = test_count_fds();
	tc_mkdtemp(f->dir, sizeof(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/srv-%d.sock", f->dir,
		 (int)getpid());
	tc_conf(&f->conf, f->path, 1);
	tc_log_clear();
	*state = f;
	return 0;
}

int tc_fx_teardown(void **state)
{
	struct tc_fx *f = *state;

	ivsh_server_destroy(f->srv);
	tc_rmdir(f->dir);
	assert_int_equal(test_count_fds(), f->fds_before);
	free(f);
	return 0;
}

void tc_fx_start(struct tc_fx *f)
{
	char err[256] = "";
	int rc = ivsh_server_create(&f->srv, &f->conf, err, sizeof(err));

	if (rc)
		fail_msg("ivsh_server_create: %d %s", rc, err);
}
