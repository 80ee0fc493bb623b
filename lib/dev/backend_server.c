/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server: backend: this process becomes a peer of an ivshmem server,
 * exactly like a QEMU ivshmem-doorbell device. The shared memory and the
 * eventfds arrive over the server's UNIX socket; the registers are
 * emulated by the register model (IVPosition = ID, Doorbell = eventfd
 * write, IntrStatus fed by incoming eventfds in the INTx modes).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dev_private.h"
#include "ivsh_proto.h"
#include "regmodel.h"
#include "server_connect.h"
#include "server_eventfd.h"
#include "server_peers.h"

/* Messages handled per process_events() call (and after the handshake),
 * so that a flooding server cannot keep us busy forever. */
#define EVENTS_PER_CALL 4096

struct server_priv {
	int sock;            /* -1 once the server is gone */
	int epfd;            /* INTx: epoll set over own_fds, else -1 */
	unsigned int cfg_vectors;   /* vectors this device is configured for */
	unsigned int own_received;  /* own-vector messages seen, kept or not */
	int own_fds[IVSH_DEV_MAX_VECTORS];
	struct ivsh_proto_client *parser; /* large: heap */
	struct server_peers peers;
	_Atomic int last_notice_peer; /* -ENOENT until a notice names one */
	struct ivsh_regmodel regs;
	/* Guards regs and peers: doorbells and irq calls may run in
	 * different threads. */
	pthread_mutex_t lock;
	bool ring_pending;   /* a Doorbell register write to carry out */
	uint16_t ring_peer, ring_vector;
};

static struct server_priv *priv_of(const struct ivsh_dev *dev)
{
	return dev->priv;
}

static int clamp_count(uint64_t n)
{
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* INTx modes: move pending eventfd signals into IntrStatus. Locked. */
static uint64_t sync_intx(struct ivsh_dev *dev)
{
	struct server_priv *p = priv_of(dev);
	uint64_t total = 0;

	for (unsigned int v = 0; v < dev->vectors; v++) {
		uint64_t n = server_eventfd_drain(p->own_fds[v]);

		if (n != 0)
			ivsh_regmodel_interrupt(&p->regs, (uint16_t)v);
		total += n;
	}
	return total;
}

/* Ring @peer on @vector. Unlocked: the lock is taken only for the lookup,
 * never across the write. */
static int ring(struct server_priv *p, uint16_t peer, uint16_t vector)
{
	int fd, rc;

	pthread_mutex_lock(&p->lock);
	fd = server_peers_hold(&p->peers, peer, vector);
	pthread_mutex_unlock(&p->lock);
	if (fd < 0)
		return fd;
	rc = server_eventfd_signal(fd);
	server_peers_release(&p->peers);
	return rc;
}

/* A Doorbell register write, under the lock: rung once it is released. */
static void regs_doorbell(void *opaque, uint16_t peer, uint16_t vector)
{
	struct server_priv *p = opaque;

	p->ring_pending = true;
	p->ring_peer = peer;
	p->ring_vector = vector;
}

static void close_server(struct server_priv *p)
{
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
}

static void free_priv(struct ivsh_dev *dev)
{
	struct server_priv *p = priv_of(dev);

	if (p == NULL)
		return;
	close_server(p);
	if (p->epfd >= 0)
		close(p->epfd);
	for (unsigned int v = 0; v < IVSH_DEV_MAX_VECTORS; v++) {
		if (p->own_fds[v] >= 0)
			close(p->own_fds[v]);
	}
	server_peers_fini(&p->peers);
	free(p->parser);
	pthread_mutex_destroy(&p->lock);
	free(p);
	dev->priv = NULL;
	ivsh_dev_unguard_shm(dev);
	if (dev->shm != NULL)
		munmap(dev->shm, (size_t)dev->shm_size);
	dev->shm = NULL;
}

static int map_shm(struct ivsh_dev *dev, int fd)
{
	struct stat st;
	void *map;
	int err;

	if (fstat(fd, &st) < 0) {
		err = errno;
		close(fd);
		ivsh_dev_set_error("shared memory fd: %s", strerror(err));
		return -err;
	}
	if (st.st_size <= 0) {
		close(fd);
		ivsh_dev_set_error("the server's shared memory is empty");
		return -EPROTO;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = errno;
		close(fd);
		ivsh_dev_set_error("mmap of %lld bytes of shared memory: %s",
				   (long long)st.st_size, strerror(err));
		return -err;
	}
	dev->shm = map;
	dev->shm_size = (uint64_t)st.st_size;
	/* Unsealed memory (ivsh-server -M/-m, other servers) can be
	 * truncated by any client: guard it (takes fd). */
	return ivsh_dev_guard_shm(dev, fd);
}

static int keep_own_vector(struct ivsh_dev *dev, uint16_t vector, int fd)
{
	struct server_priv *p = priv_of(dev);
	int fl;

	p->own_received++;
	/* Spec: a client configured for fewer vectors closes the extras. */
	if (vector >= p->cfg_vectors || dev->irq_mode == IVSH_IRQ_NONE) {
		close(fd);
		return 0;
	}
	/* ack drains without blocking (the flag is per open file; only the
	 * receiving side ever reads this eventfd). */
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (p->epfd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN,
					  .data.u32 = vector };

		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int err = errno;

			close(fd);
			ivsh_dev_set_error("epoll_ctl: %s", strerror(err));
			return -err;
		}
	}
	if (p->own_fds[vector] >= 0)
		close(p->own_fds[vector]);
	p->own_fds[vector] = fd;
	if (vector >= dev->vectors)
		dev->vectors = vector + 1u;
	return 0;
}

/*
 * Peer vectors are capped at three quarters of the descriptor limit, so
 * that a server announcing endless peers cannot use up the process's fd
 * table. @return true if @p fd may be kept.
 */
static bool room_for_peer_fd(int fd)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return true;
	return (rlim_t)fd < rl.rlim_cur / 4 * 3;
}

/* Act on one parsed server message. Locked (or during open). */
static int handle_event(struct ivsh_dev *dev, const struct ivsh_proto_event *ev)
{
	struct server_priv *p = priv_of(dev);

	switch (ev->type) {
	case IVSH_PROTO_EV_NONE:
		return 0;
	case IVSH_PROTO_EV_ID:
		dev->id = ev->peer;
		return 0;
	case IVSH_PROTO_EV_SHM:
		return map_shm(dev, ev->fd);
	case IVSH_PROTO_EV_PEER_VECTOR:
	case IVSH_PROTO_EV_OWN_VECTOR:
		if (!server_eventfd_check(ev->fd)) {
			close(ev->fd);
			ivsh_dev_set_error("server sent an interrupt vector that is not an eventfd");
			return -EPROTO;
		}
		if (ev->type == IVSH_PROTO_EV_OWN_VECTOR)
			return keep_own_vector(dev, ev->vector, ev->fd);
		atomic_store_explicit(&p->last_notice_peer, ev->peer,
				      memory_order_relaxed);
		if (!room_for_peer_fd(ev->fd)) {
			/* Doorbells to this peer vector fail with -ENXIO. */
			close(ev->fd);
			return 0;
		}
		return server_peers_add_vector(&p->peers, ev->peer, ev->vector,
					       ev->fd);
	case IVSH_PROTO_EV_PEER_GONE:
		atomic_store_explicit(&p->last_notice_peer, ev->peer,
				      memory_order_relaxed);
		(void)server_peers_remove(&p->peers, ev->peer);
		return 0;
	}
	return 0;
}

/*
 * Receive and handle one message. @return 1 handled, 0 nothing waiting,
 * negative errno (message set) on a broken protocol or connection.
 */
static int receive_one(struct ivsh_dev *dev)
{
	struct server_priv *p = priv_of(dev);
	struct ivsh_proto_event ev;
	int64_t value;
	int fd, rc;

	rc = ivsh_proto_recv(p->sock, &value, &fd);
	if (rc == -EAGAIN)
		return 0;
	if (rc < 0) {
		if (rc == -ECONNRESET)
			ivsh_dev_set_error("server closed the connection");
		else
			ivsh_dev_set_error("server message: %s", strerror(-rc));
		return rc;
	}
	rc = ivsh_proto_client_feed(p->parser, value, fd, &ev);
	switch (rc) {
	case 0:
		rc = handle_event(dev, &ev);
		return rc < 0 ? rc : 1;
	case -EPROTONOSUPPORT:
		ivsh_dev_set_error("server speaks protocol version %" PRId64
				   ", only %d is supported", value,
				   IVSH_PROTO_VERSION);
		return rc;
	case -ERANGE:
		ivsh_dev_set_error("server sent ID %" PRId64
				   " outside 0..65535", value);
		return -EPROTO;
	default:
		ivsh_dev_set_error("server broke the protocol (message %" PRId64
				   "%s): %s", value,
				   fd >= 0 ? " with an fd" : "",
				   strerror(-rc));
		return rc;
	}
}

/* Handle whatever is waiting, at most EVENTS_PER_CALL messages. */
static int drain_messages(struct ivsh_dev *dev)
{
	int count = 0;

	while (count < EVENTS_PER_CALL) {
		int rc = receive_one(dev);

		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		count++;
	}
	return count;
}

static bool handshake_done(const struct ivsh_dev *dev)
{
	const struct server_priv *p = priv_of(dev);

	return ivsh_proto_client_has_shm(p->parser) &&
	       p->own_received >= p->cfg_vectors;
}

/* Receive until the shared memory and all configured own vectors came. */
static int handshake(struct ivsh_dev *dev, const char *path, int timeout_ms,
		     int64_t deadline)
{
	struct server_priv *p = priv_of(dev);

	while (!handshake_done(dev)) {
		struct pollfd pfd = { .fd = p->sock, .events = POLLIN };
		/* The deadline holds even if the server never stops talking. */
		int left = ivsh_dev_ms_left(deadline);
		int rc = left > 0 ? poll(&pfd, 1, left) : 0;

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			ivsh_dev_set_error("server:%s: poll: %s", path,
					   strerror(errno));
			return -errno;
		}
		if (rc == 0) {
			if (!ivsh_proto_client_has_shm(p->parser))
				ivsh_dev_set_error("server:%s: no shared memory from the server within %d ms",
						   path, timeout_ms);
			else
				ivsh_dev_set_error("server:%s: only %u of %u interrupt vectors arrived within %d ms (the server has fewer: lower vectors=)",
						   path, p->own_received,
						   p->cfg_vectors, timeout_ms);
			return -ETIMEDOUT;
		}
		rc = receive_one(dev);
		if (rc < 0) {
			char why[200];

			snprintf(why, sizeof(why), "%s", ivsh_dev_last_error());
			if (rc == -ECONNRESET)
				ivsh_dev_set_error("server:%s: server closed the connection during the handshake",
						   path);
			else
				ivsh_dev_set_error("server:%s: %s", path, why);
			return rc;
		}
	}
	return 0;
}

static int server_open(struct ivsh_dev *dev, const char *arg,
		       const struct ivsh_dev_opts *opts)
{
	struct server_priv *p;
	int64_t deadline;
	int rc;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ivsh_dev_set_error("out of memory");
		return -ENOMEM;
	}
	p->sock = -1;
	p->epfd = -1;
	p->last_notice_peer = -ENOENT;
	for (unsigned int v = 0; v < IVSH_DEV_MAX_VECTORS; v++)
		p->own_fds[v] = -1;
	p->cfg_vectors = opts->vectors ? opts->vectors : 1;
	server_peers_init(&p->peers, p->cfg_vectors);
	pthread_mutex_init(&p->lock, NULL);
	dev->priv = p;
	dev->irq_mode = opts->irq_mode == IVSH_IRQ_AUTO ? IVSH_IRQ_MSIX
							: opts->irq_mode;
	dev->vectors = 0;

	p->parser = malloc(sizeof(*p->parser));
	if (p->parser == NULL) {
		ivsh_dev_set_error("out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	ivsh_proto_client_init(p->parser);
	switch (dev->irq_mode) {
	case IVSH_IRQ_INTX:
	case IVSH_IRQ_INTX_POLL:
		ivsh_regmodel_init(&p->regs, IVSH_REGMODEL_INTX);
		break;
	default: /* MSIX, NONE: doorbells go out, nothing comes in */
		ivsh_regmodel_init(&p->regs, IVSH_REGMODEL_MSIX);
		break;
	}
	ivsh_regmodel_set_callbacks(&p->regs, regs_doorbell, NULL, p);
	if (dev->irq_mode == IVSH_IRQ_INTX) {
		p->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (p->epfd < 0) {
			rc = -errno;
			ivsh_dev_set_error("server:%s: epoll_create1: %s", arg,
					   strerror(errno));
			goto fail;
		}
	}
	deadline = ivsh_dev_now_ms() + opts->timeout_ms;
	rc = server_connect_socket(arg, opts->timeout_ms);
	if (rc < 0)
		goto fail;
	p->sock = rc;
	rc = handshake(dev, arg, opts->timeout_ms, deadline);
	if (rc < 0)
		goto fail;
	/* Whatever else is already waiting (later peers, extra vectors). */
	rc = drain_messages(dev);
	if (rc == -ECONNRESET) {
		close_server(p); /* peers keep working without the server */
	} else if (rc < 0) {
		char why[200];

		snprintf(why, sizeof(why), "%s", ivsh_dev_last_error());
		ivsh_dev_set_error("server:%s: %s", arg, why);
		goto fail;
	}
	ivsh_regmodel_set_ready(&p->regs, dev->id);
	/* Emulated INTx: the line is enabled; busy-poll keeps it masked. */
	if (dev->irq_mode == IVSH_IRQ_INTX)
		ivsh_regmodel_write32(&p->regs, IVSH_REG_INTR_MASK,
				      IVSH_INTR_PEER);
	ivsh_dev_set_error("%s", "");
	return 0;
fail:
	free_priv(dev);
	return rc;
}

static void server_close(struct ivsh_dev *dev)
{
	free_priv(dev);
}

static uint32_t server_reg_read(struct ivsh_dev *dev, uint32_t off)
{
	struct server_priv *p = priv_of(dev);
	uint32_t val;

	pthread_mutex_lock(&p->lock);
	/* INTx: the device latches interrupts that arrived meanwhile. */
	if (off == IVSH_REG_INTR_STATUS && p->regs.config == IVSH_REGMODEL_INTX)
		(void)sync_intx(dev);
	val = ivsh_regmodel_read32(&p->regs, off);
	pthread_mutex_unlock(&p->lock);
	return val;
}

static void server_reg_write(struct ivsh_dev *dev, uint32_t off, uint32_t val)
{
	struct server_priv *p = priv_of(dev);
	bool ring_now;
	uint16_t peer, vector;

	pthread_mutex_lock(&p->lock);
	ivsh_regmodel_write32(&p->regs, off, val);
	ring_now = p->ring_pending;
	peer = p->ring_peer;
	vector = p->ring_vector;
	p->ring_pending = false;
	pthread_mutex_unlock(&p->lock);
	/* A Doorbell write to an unconnected peer is ignored (spec). */
	if (ring_now)
		(void)ring(p, peer, vector);
}

static int server_doorbell(struct ivsh_dev *dev, uint16_t peer,
			   uint16_t vector)
{
	return ring(priv_of(dev), peer, vector);
}

static int check_vector(const struct ivsh_dev *dev, unsigned int vector)
{
	if (dev->irq_mode == IVSH_IRQ_NONE ||
	    dev->irq_mode == IVSH_IRQ_INTX_POLL)
		return -ENOTSUP;
	if (vector >= dev->vectors)
		return -EINVAL;
	return 0;
}

static int server_irq_fd(struct ivsh_dev *dev, unsigned int vector)
{
	struct server_priv *p = priv_of(dev);
	int rc = check_vector(dev, vector);

	if (rc < 0)
		return rc;
	return dev->irq_mode == IVSH_IRQ_INTX ? p->epfd : p->own_fds[vector];
}

static int server_irq_ack(struct ivsh_dev *dev, unsigned int vector)
{
	struct server_priv *p = priv_of(dev);
	uint64_t n;
	uint32_t status;
	int rc = check_vector(dev, vector);

	if (rc < 0)
		return rc;
	if (dev->irq_mode == IVSH_IRQ_MSIX)
		return clamp_count(server_eventfd_drain(p->own_fds[vector]));
	/* INTx: drain every vector into IntrStatus, read it (clearing it,
	 * which deasserts the line) and unmask. */
	pthread_mutex_lock(&p->lock);
	n = sync_intx(dev);
	status = ivsh_regmodel_read32(&p->regs, IVSH_REG_INTR_STATUS);
	ivsh_regmodel_write32(&p->regs, IVSH_REG_INTR_MASK, IVSH_INTR_PEER);
	pthread_mutex_unlock(&p->lock);
	if (n == 0 && (status & IVSH_INTR_PEER))
		n = 1;
	return clamp_count(n);
}

static int server_event_fd(struct ivsh_dev *dev)
{
	struct server_priv *p = priv_of(dev);

	return p->sock >= 0 ? p->sock : -ECONNRESET;
}

static int server_process_events(struct ivsh_dev *dev)
{
	struct server_priv *p = priv_of(dev);
	int rc;

	if (p->sock < 0)
		return -ECONNRESET;
	pthread_mutex_lock(&p->lock);
	rc = drain_messages(dev);
	/* Gone or broken: either way the connection is over (spec: close
	 * on error); doorbells to known peers keep working. */
	if (rc < 0)
		close_server(p);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static int server_last_notice_peer(const struct ivsh_dev *dev)
{
	return atomic_load_explicit(&priv_of(dev)->last_notice_peer,
				    memory_order_relaxed);
}

static int server_peer_vectors(const struct ivsh_dev *dev, uint16_t peer)
{
	struct server_priv *p = priv_of(dev);
	const struct server_peer *sp;
	int n;

	if (peer == dev->id)
		return 0;
	pthread_mutex_lock(&p->lock);
	sp = server_peers_find(&p->peers, peer);
	n = sp ? sp->nvec : 0;
	pthread_mutex_unlock(&p->lock);
	return n;
}

const struct ivsh_backend_ops ivsh_backend_server = {
	.prefix = "server",
	.open = server_open,
	.close = server_close,
	.reg_read = server_reg_read,
	.reg_write = server_reg_write,
	.doorbell = server_doorbell,
	.irq_fd = server_irq_fd,
	.irq_ack = server_irq_ack,
	.event_fd = server_event_fd,
	.process_events = server_process_events,
	.last_notice_peer = server_last_notice_peer,
	.peer_vectors = server_peer_vectors,
};
