/* SPDX-License-Identifier: BSD-3-Clause */
/* Server life cycle, the event dispatch, timers and introspection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "server_private.h"

#define EVENT_BATCH 64

uint64_t srv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * The timer runs only while something waits on time: a client whose
 * socket is full (stall limit), a paused listener (out of fds) or a
 * dropped connection still holding descriptors in flight.
 */
void srv_update_timer(struct ivsh_server *srv)
{
	bool want = srv->nblocked > 0 || srv->listen_paused || srv->held;
	struct itimerspec its;
	unsigned int tick;

	if (want == srv->timer_armed)
		return;
	memset(&its, 0, sizeof(its));
	if (want) {
		tick = srv->conf.stall_timeout_ms / 4;
		if (tick < 10)
			tick = 10;
		if (tick > 1000)
			tick = 1000;
		its.it_value.tv_sec = tick / 1000;
		its.it_value.tv_nsec = (long)(tick % 1000) * 1000000L;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(srv->timer_fd, 0, &its, NULL) == 0)
		srv->timer_armed = want;
}

static void resume_listener(struct ivsh_server *srv)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.ptr = &srv->listen_tag };

	if (srv->listen_throttled) {
		srv->listen_paused = false;
		return;
	}
	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, srv->listen_fd, &ev) == 0)
		srv->listen_paused = false;
}

static void on_timer(struct ivsh_server *srv)
{
	uint64_t expirations;

	if (read(srv->timer_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		srv_log(srv, LOG_ERR, "timerfd read: %s", strerror(errno));
	if (srv_inflight_sweep(srv))
		srv->fd_freed = true;
	srv_check_stalls(srv);
	if (srv->listen_paused)
		resume_listener(srv);
}

int ivsh_server_process(struct ivsh_server *srv, int timeout_ms)
{
	struct epoll_event evs[EVENT_BATCH];
	bool listen_ready = false;
	int n;

	n = epoll_wait(srv->epfd, evs, EVENT_BATCH, timeout_ms);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct ep_tag *tag = evs[i].data.ptr;

		switch (tag->kind) {
		case EP_LISTEN:
			listen_ready = true;
			break;
		case EP_TIMER:
			on_timer(srv);
			break;
		case EP_CLIENT:
			srv_client_event(srv, (struct client *)tag,
					 evs[i].events);
			break;
		case EP_PINNED:
			((struct pinned_socket *)tag)->ready = true;
			break;
		}
	}
	/* Reap first, so that IDs freed in this round are reused at once
	 * and no event above can refer to a client freed here. */
	srv_settle(srv);
	if (listen_ready) {
		srv_accept(srv);
		srv_settle(srv);
	}
	srv_pinned_accept(srv);
	srv_settle(srv);
	/* Out of descriptors earlier, and a client has just gone. */
	if (srv->listen_paused && srv->fd_freed)
		resume_listener(srv);
	srv->fd_freed = false;
	srv_throttle_accept(srv);
	srv_update_timer(srv);
	return n;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int check_conf(const struct ivsh_server_conf *conf, char *err,
		      size_t errlen)
{
	if (!conf->socket_path || !*conf->socket_path) {
		set_err(err, errlen, "no socket path given");
		return -EINVAL;
	}
	if (conf->vectors < 1 || conf->vectors > IVSH_PROTO_MAX_VECTORS) {
		set_err(err, errlen, "vectors must be 1..%d, not %u",
			IVSH_PROTO_MAX_VECTORS, conf->vectors);
		return -EINVAL;
	}
	if (!is_pow2(conf->shm_size)) {
		set_err(err, errlen, "shared memory size %llu is not a power of two",
			(unsigned long long)conf->shm_size);
		return -EINVAL;
	}
	if (conf->shm_size < IVSH_SERVER_MIN_SHM_SIZE ||
	    conf->shm_size > IVSH_SERVER_MAX_SHM_SIZE) {
		set_err(err, errlen, "shared memory size %llu out of range (%llu..%llu)",
			(unsigned long long)conf->shm_size,
			(unsigned long long)IVSH_SERVER_MIN_SHM_SIZE,
			(unsigned long long)IVSH_SERVER_MAX_SHM_SIZE);
		return -EINVAL;
	}
	if (conf->max_clients > IVSH_SERVER_MAX_CLIENTS) {
		set_err(err, errlen, "max clients must be 1..%u, not %u",
			IVSH_SERVER_MAX_CLIENTS, conf->max_clients);
		return -EINVAL;
	}
	if (conf->id_policy != IVSH_SERVER_IDS_LOWEST &&
	    conf->id_policy != IVSH_SERVER_IDS_SAFE) {
		set_err(err, errlen, "unknown ID policy %d",
			(int)conf->id_policy);
		return -EINVAL;
	}
	if (conf->shm_kind != IVSH_SERVER_SHM_MEMFD &&
	    (!conf->shm_name || !*conf->shm_name)) {
		set_err(err, errlen, "no shared memory name or path given");
		return -EINVAL;
	}
	return 0;
}

static int setup_events(struct ivsh_server *srv, char *err, size_t errlen)
{
	struct epoll_event ev;

	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0)
		goto fail;
	srv->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				       TFD_NONBLOCK | TFD_CLOEXEC);
	if (srv->timer_fd < 0)
		goto fail;
	ev.events = EPOLLIN;
	ev.data.ptr = &srv->timer_tag;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->timer_fd, &ev) < 0)
		goto fail;
	return 0;
fail:
	set_err(err, errlen, "event setup: %s", strerror(errno));
	return -errno;
}

int ivsh_server_create(struct ivsh_server **out,
		       const struct ivsh_server_conf *conf,
		       char *err, size_t errlen)
{
	struct ivsh_server *srv;
	struct epoll_event ev;
	int rc;

	if (!out || !conf) {
		set_err(err, errlen, "no configuration");
		return -EINVAL;
	}
	*out = NULL;
	rc = check_conf(conf, err, errlen);
	if (rc < 0)
		return rc;
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	srv->conf = *conf;
	srv->epfd = srv->listen_fd = srv->timer_fd = -1;
	srv->listen_tag.kind = EP_LISTEN;
	srv->timer_tag.kind = EP_TIMER;
	if (!srv->conf.max_clients)
		srv->conf.max_clients = IVSH_SERVER_MAX_CLIENTS;
	if (!srv->conf.max_queued)
		srv->conf.max_queued = IVSH_SERVER_DEFAULT_QUEUE;
	if (!srv->conf.stall_timeout_ms)
		srv->conf.stall_timeout_ms = IVSH_SERVER_DEFAULT_STALL_MS;
	srv->socket_path = strdup(conf->socket_path);
	srv->shm_name = conf->shm_name ? strdup(conf->shm_name) : NULL;
	if (!srv->socket_path || (conf->shm_name && !srv->shm_name)) {
		set_err(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	srv->conf.socket_path = srv->socket_path;
	srv->conf.shm_name = srv->shm_name;
	srv_inflight_init(srv);
	if (srv_ids_init(srv) < 0) {
		set_err(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}

	rc = setup_events(srv, err, errlen);
	if (rc < 0)
		goto fail;
	/* The socket first: a live server's shared memory is left alone. */
	rc = srv_socket_open(srv, err, errlen);
	if (rc < 0)
		goto fail;
	rc = srv_shm_open(srv, err, errlen);
	if (rc < 0)
		goto fail;
	ev.events = EPOLLIN;
	ev.data.ptr = &srv->listen_tag;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev) < 0) {
		rc = -errno;
		set_err(err, errlen, "epoll_ctl: %s", strerror(-rc));
		goto fail;
	}
	srv_log(srv, LOG_NOTICE,
		"listening on %s: %llu bytes of shared memory, %u vectors, up to %u clients, %u descriptors in flight per user%s",
		srv->socket_path, (unsigned long long)srv->shm_size,
		srv->conf.vectors, srv->conf.max_clients, srv->inflight_share,
		srv->id_released ? ", safe IDs" : "");
	*out = srv;
	return 0;
fail:
	ivsh_server_destroy(srv);
	return rc;
}

void ivsh_server_destroy(struct ivsh_server *srv)
{
	struct client *c;

	if (!srv)
		return;
	/* No disconnect notices: the spec lets clients carry on without us. */
	while ((c = srv->clients) != NULL) {
		srv->clients = c->next;
		srv_client_free(c);
	}
	srv_inflight_fini(srv);
	srv_pinned_close_all(srv);
	srv_socket_close(srv);
	srv_shm_close(srv);
	if (srv->timer_fd >= 0)
		close(srv->timer_fd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	srv_ids_fini(srv);
	free(srv->socket_path);
	free(srv->shm_name);
	free(srv);
}

int ivsh_server_fd(const struct ivsh_server *srv)
{
	return srv->epfd;
}

unsigned int ivsh_server_client_count(const struct ivsh_server *srv)
{
	return srv->nclients;
}

unsigned int ivsh_server_client_ids(const struct ivsh_server *srv,
				    uint16_t *ids, unsigned int max)
{
	unsigned int n = 0;

	for (const struct client *c = srv->clients; c; c = c->next, n++)
		if (n < max)
			ids[n] = c->id;
	return n;
}

long ivsh_server_client_pending(const struct ivsh_server *srv, uint16_t id)
{
	for (const struct client *c = srv->clients; c; c = c->next)
		if (c->id == id)
			return (long)c->out.len;
	return -ENOENT;
}

void ivsh_server_get_stats(const struct ivsh_server *srv,
			   struct ivsh_server_stats *st)
{
	*st = srv->st;
}

int ivsh_server_shm_fd(const struct ivsh_server *srv)
{
	return srv->shm ? srv->shm->fd : -1;
}

uint64_t ivsh_server_shm_size(const struct ivsh_server *srv)
{
	return srv->shm_size;
}

unsigned int ivsh_server_vectors(const struct ivsh_server *srv)
{
	return srv->conf.vectors;
}
