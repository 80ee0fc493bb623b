/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile peers and hostile servers against the server: client.
 *
 * A real ivsh-server (the library, in a thread) serves a victim device
 * opened with ivsh_dev_open("server:...") and a hostile raw client that
 * holds every descriptor the protocol hands out. Each victim operation
 * that could hang or crash runs in a forked child with a deadline, so a
 * regression fails the test instead of hanging it:
 *
 * - the hostile client cannot shrink the shared memory (sealed memfd);
 * - it cannot make a doorbell block by saturating its own eventfd after
 *   clearing O_NONBLOCK on it (the flag is shared by all holders);
 * - nor by emptying and refilling it in a loop, so that the counter
 *   fills up between the victim's check and its write;
 * - it cannot make an INTx IntrStatus read block by clearing O_NONBLOCK
 *   on the victim's own eventfd;
 * - a hostile server that passes a pipe as an eventfd cannot hang rings;
 * - connect() honours timeout= against a listener whose backlog is full;
 * - the handshake deadline holds against a server that keeps talking;
 * - a server flooding eventfds cannot fill the client's descriptor table.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <endian.h>

#include <cmocka.h>

#include "ivsh_dev.h"
#include "ivsh_proto.h"
#include "served_fx.h"
#include "tclient.h"

/* A victim operation that takes longer than this is hung. */
#define HANG_MS 6000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read @p tc until @p done or 5 s pass. */
static void read_until(struct tclient *tc, bool (*done)(struct tclient *))
{
	int64_t end = now_ms() + 5000;

	while (!done(tc) && now_ms() < end) {
		struct pollfd p = { .fd = tc->sock, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			tc_read(tc);
	}
	assert_true(done(tc));
}

static bool has_shm_and_vec(struct tclient *tc)
{
	return tc->shm_fd >= 0 && tc->own_count > 0;
}

static bool knows_peer0(struct tclient *tc)
{
	return tc->peer_fd[0][0] >= 0;
}

static struct ivsh_dev *open_victim(struct served_fx *f, const char *keys)
{
	char name[400];
	struct ivsh_dev *dev = NULL;
	int rc;

	snprintf(name, sizeof(name), "server:%s%s", f->base.path, keys);
	rc = ivsh_dev_open(&dev, name, NULL);
	if (rc < 0)
		fail_msg("open %s: %s", name, ivsh_dev_last_error());
	return dev;
}

/* Process events of @p dev until it knows @p peer. */
static void wait_peer(struct ivsh_dev *dev, uint16_t peer)
{
	int64_t end = now_ms() + 5000;

	while (ivsh_dev_peer_connected(dev, peer) != 1 && now_ms() < end) {
		struct pollfd p = { .fd = ivsh_dev_event_fd(dev),
				    .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			(void)ivsh_dev_process_events(dev);
	}
	assert_int_equal(ivsh_dev_peer_connected(dev, peer), 1);
}

/*
 * Run @p fn in a child; fail unless it exits 0 within @p limit_ms.
 * @return the time it took.
 */
static int64_t in_child(int (*fn)(void *), void *arg, int limit_ms,
			const char *what)
{
	int64_t t0 = now_ms();
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		/* Die of a fault: cmocka's handlers would carry on here. */
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		_exit(fn(arg));
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (now_ms() - t0 > limit_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("%s: still blocked after %d ms", what,
				 limit_ms);
		}
		usleep(5000);
	}
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d (%s)", what,
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) != 0)
		fail_msg("%s: exit status %d", what, WEXITSTATUS(status));
	return now_ms() - t0;
}

/* ---- 1: the shared memory cannot be shrunk ---- */

static int touch_all(void *arg)
{
	struct ivsh_dev *dev = arg;
	volatile uint8_t *m = ivsh_dev_shm(dev);

	for (uint64_t off = 0; off < ivsh_dev_shm_size(dev); off += 4096)
		m[off] = (uint8_t)(m[off] + 1);
	return 0;
}

static void test_shm_truncate_refused(void **state)
{
	struct served_fx *f = *state;
	struct ivsh_dev *victim, *later;
	struct tclient *hostile;
	int rc, err;

	served_fx_start(f);
	victim = open_victim(f, "");
	hostile = tc_connect(f->base.path);
	assert_non_null(hostile);
	read_until(hostile, has_shm_and_vec);

	rc = ftruncate(hostile->shm_fd, 0);
	err = errno;
	printf("ftruncate(shm, 0) by a client: %s\n",
	       rc == 0 ? "succeeded" : strerror(err));
	(void)in_child(touch_all, victim, HANG_MS,
		       "victim touching its shared memory");
	assert_int_equal(rc, -1);
	assert_int_equal(err, EPERM);
	/* Growing it is refused too, and new clients still get memory. */
	assert_int_equal(ftruncate(hostile->shm_fd, 1 << 30), -1);
	later = open_victim(f, "");
	assert_int_equal(ivsh_dev_shm_size(later), f->base.conf.shm_size);
	ivsh_dev_close(later);
	ivsh_dev_close(victim);
	tc_close(hostile);
}

/* ---- 2: eventfds the hostile client shares with the victim ---- */

struct ring_arg {
	struct ivsh_dev *dev;
	uint16_t peer;
	int times;
};

static int ring(void *arg)
{
	struct ring_arg *r = arg;

	for (int i = 0; i < r->times; i++)
		if (ivsh_dev_doorbell(r->dev, r->peer, 0) < 0)
			return 1;
	return 0;
}

/*
 * Start the server, a victim device and a hostile client the victim
 * knows. The hostile peer turns its own eventfd into a blocking one and
 * fills the counter: a blocking write of 1 would wait forever.
 */
static struct tclient *saturating_peer(struct served_fx *f,
				       struct ivsh_dev **victim)
{
	uint64_t almost_full = 0xfffffffffffffffeULL;
	struct tclient *hostile;

	served_fx_start(f);
	*victim = open_victim(f, "");
	hostile = tc_connect(f->base.path);
	assert_non_null(hostile);
	read_until(hostile, has_shm_and_vec);
	wait_peer(*victim, (uint16_t)hostile->id);
	assert_int_equal(fcntl(hostile->own_fd[0], F_SETFL, 0), 0);
	assert_int_equal(write(hostile->own_fd[0], &almost_full, 8), 8);
	return hostile;
}

static void test_doorbell_saturated_blocking_eventfd(void **state)
{
	struct served_fx *f = *state;
	struct ivsh_dev *victim;
	struct tclient *hostile = saturating_peer(f, &victim);
	struct ring_arg r;
	int64_t took;

	r = (struct ring_arg){ victim, (uint16_t)hostile->id, 3 };
	took = in_child(ring, &r, HANG_MS, "doorbell to a saturated peer");
	printf("3 doorbells to the saturated peer took %lld ms\n",
	       (long long)took);
	ivsh_dev_close(victim);
	tc_close(hostile);
}

/*
 * The refill race: the hostile peer empties its blocking eventfd and at
 * once fills it again, every 100 ms. A victim doorbell that found room
 * just before the refill would wait in write() until the next emptying,
 * or forever once the peer stops. The victim rings for 3 s; no single
 * doorbell may take 250 ms (before the watchdog: 300-1001 ms; with it
 * 10-14 ms, the rest is slack for a loaded machine). When a doorbell
 * lands between the emptying and the refill, the refill itself would
 * wait: a helper of the test empties the counter again, so that the
 * attack goes on.
 */
struct refill_arg {
	int fd;
	atomic_int stop;
	atomic_llong refill_since; /* ms; 0 when not in the refill write */
	unsigned long cycles;
};

static void *refill_loop(void *arg)
{
	struct refill_arg *a = arg;
	uint64_t almost_full = 0xfffffffffffffffeULL, n;

	while (!atomic_load(&a->stop)) {
		if (read(a->fd, &n, 8) == 8) {
			atomic_store(&a->refill_since, now_ms());
			if (write(a->fd, &almost_full, 8) == 8)
				a->cycles++;
			atomic_store(&a->refill_since, 0);
		}
		usleep(100 * 1000);
	}
	return NULL;
}

/* Empty the counter under a refill that has waited 20 ms. */
static void *unstick_loop(void *arg)
{
	struct refill_arg *a = arg;

	while (atomic_load(&a->stop) < 2) {
		int64_t t = atomic_load(&a->refill_since);
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		uint64_t n;

		if (t != 0 && now_ms() - t > 20 && poll(&p, 1, 0) == 1)
			(void)!read(a->fd, &n, 8);
		usleep(5000);
	}
	return NULL;
}

static int ring_timed(void *arg)
{
	struct ring_arg *r = arg;
	int64_t end = now_ms() + 3000, worst = 0;
	unsigned long rings = 0;

	while (now_ms() < end) {
		int64_t t0 = now_ms();

		if (ivsh_dev_doorbell(r->dev, r->peer, 0) < 0)
			return 1;
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
		rings++;
	}
	printf("%lu doorbells against a refilling peer, the slowest %lld ms\n",
	       rings, (long long)worst);
	return worst < 250 ? 0 : 2;
}

static void test_doorbell_refill_race(void **state)
{
	struct served_fx *f = *state;
	struct refill_arg a = { 0 };
	struct ivsh_dev *victim;
	struct tclient *hostile = saturating_peer(f, &victim);
	struct ring_arg r;
	pthread_t t, u;

	a.fd = hostile->own_fd[0];
	assert_int_equal(pthread_create(&t, NULL, refill_loop, &a), 0);
	assert_int_equal(pthread_create(&u, NULL, unstick_loop, &a), 0);
	r = (struct ring_arg){ victim, (uint16_t)hostile->id, 0 };
	(void)in_child(ring_timed, &r, HANG_MS, "doorbells to a refilling peer");
	atomic_store(&a.stop, 1);
	pthread_join(t, NULL);
	atomic_store(&a.stop, 2);
	pthread_join(u, NULL);
	printf("the peer emptied and refilled its eventfd %lu times\n",
	       a.cycles);
	ivsh_dev_close(victim);
	tc_close(hostile);
}

static int read_status(void *arg)
{
	struct ivsh_dev *dev = arg;

	(void)ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS);
	return ivsh_dev_irq_ack(dev, 0) >= 0 ? 0 : 1;
}

static void test_intx_status_blocking_own_eventfd(void **state)
{
	struct served_fx *f = *state;
	struct ivsh_dev *victim;
	struct tclient *hostile;
	int64_t took;

	served_fx_start(f);
	victim = open_victim(f, ",irq=intx");
	assert_int_equal(ivsh_dev_id(victim), 0);
	hostile = tc_connect(f->base.path);
	assert_non_null(hostile);
	hostile->keep_peer_fds = true;
	read_until(hostile, knows_peer0);
	wait_peer(victim, (uint16_t)hostile->id);

	/* Clear O_NONBLOCK on the victim's own (empty) eventfd. */
	assert_int_equal(fcntl(hostile->peer_fd[0][0], F_SETFL, 0), 0);
	took = in_child(read_status, victim, HANG_MS,
			"IntrStatus read with an empty blocking eventfd");
	printf("IntrStatus read + ack took %lld ms\n", (long long)took);
	ivsh_dev_close(victim);
	tc_close(hostile);
}

/* ---- hostile servers, scripted in a child process ---- */

enum script { PIPE_AS_EVENTFD, ENDLESS_TALK, FD_FLOOD, SILENT_BACKLOG };

/* Peer-gone notices (IDs 1..), as fast as the socket takes them. */
static void talk(int c)
{
	static int64_t burst[4096];

	for (int i = 0; i < 4096; i++)
		burst[i] = htole64((uint64_t)(1 + i % 1000));
	while (write(c, burst, sizeof(burst)) > 0)
		;
}

static void serve_script(int lsock, enum script s)
{
	int mem = memfd_create("hostile", MFD_CLOEXEC);
	int efd = eventfd(0, EFD_NONBLOCK);
	int c, p[2];

	alarm(30); /* never outlive a failed test */
	c = accept(lsock, NULL, NULL);
	if (c < 0 || mem < 0 || efd < 0 || ftruncate(mem, 1 << 16) < 0 ||
	    pipe(p) < 0)
		_exit(2);
	(void)ivsh_proto_send(c, IVSH_PROTO_VERSION, -1);
	(void)ivsh_proto_send(c, 0, -1);
	switch (s) {
	case PIPE_AS_EVENTFD:
		(void)ivsh_proto_send(c, IVSH_PROTO_SHM_MARKER, mem);
		(void)ivsh_proto_send(c, 1, p[1]); /* peer 1's "eventfd" */
		(void)ivsh_proto_send(c, 0, efd);
		break;
	case ENDLESS_TALK:
		/* The memory, then peer-gone notices for ever, never the
		 * client's own vector. */
		(void)ivsh_proto_send(c, IVSH_PROTO_SHM_MARKER, mem);
		talk(c);
		break;
	case FD_FLOOD:
		(void)ivsh_proto_send(c, IVSH_PROTO_SHM_MARKER, mem);
		(void)ivsh_proto_send(c, 0, efd);
		for (int64_t id = 1; id < 65536; id++)
			if (ivsh_proto_send(c, id, efd) < 0)
				break;
		break;
	case SILENT_BACKLOG:
		break;
	}
	pause();
	_exit(0);
}

struct hostile_server {
	char dir[64];
	char path[100];
	pid_t pid;
	int fill[8];
	int nfill;
};

static void hostile_start(struct hostile_server *h, enum script s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l;

	memset(h, 0, sizeof(*h));
	tc_mkdtemp(h->dir, sizeof(h->dir));
	snprintf(h->path, sizeof(h->path), "%s/hostile.sock", h->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, s == SILENT_BACKLOG ? 0 : 4), 0);
	if (s == SILENT_BACKLOG) {
		/* Fill the backlog; nobody ever accepts. */
		for (h->nfill = 0; h->nfill < 8; h->nfill++) {
			int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
				       0);

			assert_true(c >= 0);
			if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) <
			    0) {
				close(c);
				break;
			}
			h->fill[h->nfill] = c;
		}
		assert_true(h->nfill < 8);
		h->pid = -1;
		h->fill[h->nfill++] = l;
		return;
	}
	h->pid = fork();
	assert_true(h->pid >= 0);
	if (h->pid == 0)
		serve_script(l, s);
	close(l);
}

static void hostile_stop(struct hostile_server *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	for (int i = 0; i < h->nfill; i++)
		close(h->fill[i]);
	tc_rmdir(h->dir);
}

struct open_arg {
	const char *path;
	const char *keys;
	int want;          /* expected open result: 0 or a -errno */
	int rings;         /* doorbells to peer 1 after opening */
	int events_ms;     /* then process server events this long */
	rlim_t nofile;     /* descriptor limit for the child; 0: keep */
};

static int open_and_ring(void *arg)
{
	struct open_arg *a = arg;
	struct ivsh_dev *dev = NULL;
	char name[400];
	int rc;

	if (a->nofile) {
		struct rlimit rl = { a->nofile, a->nofile };

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 3;
	}
	snprintf(name, sizeof(name), "server:%s%s", a->path, a->keys);
	rc = ivsh_dev_open(&dev, name, NULL);
	printf("  open: %s (%s)\n", rc ? strerror(-rc) : "ok",
	       ivsh_dev_last_error());
	if (rc != a->want)
		return 1;
	if (rc < 0)
		return 0;
	for (int i = 0; i < a->rings; i++)
		if (ivsh_dev_doorbell(dev, 1, 0) < 0)
			return 4;
	for (int64_t end = now_ms() + a->events_ms; now_ms() < end;) {
		struct pollfd p = { .fd = ivsh_dev_event_fd(dev),
				    .events = POLLIN };

		if (p.fd < 0 || poll(&p, 1, 50) < 0)
			break;
		(void)ivsh_dev_process_events(dev);
	}
	if (a->events_ms) {
		int fds[64], n = 0;

		printf("  peers known: %d, server connection %s, last error: %s\n",
		       ivsh_dev_peers(dev, NULL, 0),
		       ivsh_dev_event_fd(dev) >= 0 ? "open" : "closed",
		       ivsh_dev_last_error());
		/* The process still has room in its descriptor table, and
		 * the server connection was not broken by a lack of it. */
		while (n < 64 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
			n++;
		int got = n;

		printf("  descriptors still free: %d of the 64 tried\n", got);
		while (n > 0)
			close(fds[--n]);
		if (got < 64 || ivsh_dev_event_fd(dev) < 0)
			return 5;
	}
	ivsh_dev_close(dev);
	return 0;
}

/* Run open_and_ring(@p a) in a child against a server playing @p s;
 * @return how long it took (in_child() fails the test unless it exits 0
 * within HANG_MS). */
static int64_t open_against(enum script s, struct open_arg *a,
			    const char *what)
{
	struct hostile_server h;
	int64_t took;

	hostile_start(&h, s);
	a->path = h.path;
	took = in_child(open_and_ring, a, HANG_MS, what);
	hostile_stop(&h);
	return took;
}

static void test_server_pipe_as_eventfd(void **state)
{
	struct open_arg a = { .keys = ",timeout=3000", .rings = 20000,
			      .want = -EPROTO };
	int64_t took;

	(void)state;
	took = open_against(PIPE_AS_EVENTFD, &a,
			    "20000 doorbells into a pipe");
	printf("20000 doorbells into a never-read pipe took %lld ms\n",
	       (long long)took);
}

static void test_connect_timeout(void **state)
{
	struct open_arg a = { .keys = ",timeout=1000", .want = -ETIMEDOUT };
	int64_t took;

	(void)state;
	took = open_against(SILENT_BACKLOG, &a,
			    "connect with timeout=1000 to a full backlog");
	printf("connect to a full backlog, timeout=1000: gave up after %lld ms\n",
	       (long long)took);
	assert_true(took >= 900);
}

static void test_handshake_deadline(void **state)
{
	struct open_arg a = { .keys = ",timeout=1000", .want = -ETIMEDOUT };
	int64_t took;

	(void)state;
	took = open_against(ENDLESS_TALK, &a,
			    "handshake with timeout=1000 against endless notices");
	printf("handshake against endless notices, timeout=1000: gave up after %lld ms\n",
	       (long long)took);
	/* The deadline is checked on every message, not only when poll()
	 * times out; the margin covers fork and a loaded machine. */
	assert_true(took < 1450);
}

static void test_fd_flood(void **state)
{
	struct open_arg a = { .keys = ",timeout=3000", .nofile = 512,
			      .events_ms = 1500 };

	(void)state;
	(void)open_against(FD_FLOOD, &a,
			   "65535 peer eventfds against nofile 512");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shm_truncate_refused,
						served_fx_setup,
						served_fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_doorbell_saturated_blocking_eventfd,
			served_fx_setup, served_fx_teardown),
		cmocka_unit_test_setup_teardown(test_doorbell_refill_race,
						served_fx_setup,
						served_fx_teardown),
		cmocka_unit_test_setup_teardown(
			test_intx_status_blocking_own_eventfd,
			served_fx_setup, served_fx_teardown),
		cmocka_unit_test(test_server_pipe_as_eventfd),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_handshake_deadline),
		cmocka_unit_test(test_fd_flood),
	};

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
