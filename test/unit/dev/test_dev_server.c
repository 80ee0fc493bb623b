/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server: backend against a scripted fake server (built on
 * ivsh_proto_send): handshake, peers, doorbells, interrupt modes, late
 * notices, server loss, and every protocol violation reported by
 * ivsh_dev_open() with the right errno and no descriptor leaked.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivsh_dev.h"
#include "test_fds.h"
#include "ivsh_proto.h"

#define SHM_SIZE 65536
#define MAX_EFD 8

struct fake;
typedef void (*script_fn)(struct fake *f, int conn);

struct fake {
	char path[108];
	int lsock;
	int close_efd;          /* written by the test: close the connection */
	_Atomic int conn;       /* accepted connection, -1 before/after */
	pthread_t thr;
	script_fn script;
	uint16_t own_id;
	int memfd;
	int peer_efd[MAX_EFD];  /* peer 1's vectors: the device rings these */
	int own_efd[MAX_EFD];   /* the device's vectors: the test rings these */
	int n_peer, n_own;
};

static void *fake_thread(void *arg)
{
	struct fake *f = arg;
	uint64_t v;
	int conn = accept4(f->lsock, NULL, NULL, SOCK_CLOEXEC);

	if (conn < 0)
		return NULL;
	atomic_store_explicit(&f->conn, conn, memory_order_release);
	if (f->script)
		f->script(f, conn);
	/* Keep the connection until the test says so. */
	if (read(f->close_efd, &v, sizeof(v)) < 0)
		v = 0;
	atomic_store_explicit(&f->conn, -1, memory_order_release);
	close(conn);
	return NULL;
}

static void fake_start(struct fake *f, script_fn script, int n_peer,
		       int n_own)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static int seq;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/tmp/ivsh-test-dev-%d-%d.sock",
		 (int)getpid(), seq++);
	unlink(f->path);
	f->own_id = 3;
	f->script = script;
	f->n_peer = n_peer;
	f->n_own = n_own;
	atomic_init(&f->conn, -1);
	f->memfd = memfd_create("ivsh-test", MFD_CLOEXEC);
	assert_true(f->memfd >= 0);
	assert_int_equal(ftruncate(f->memfd, SHM_SIZE), 0);
	for (int i = 0; i < MAX_EFD; i++) {
		f->peer_efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		f->own_efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(f->peer_efd[i] >= 0 && f->own_efd[i] >= 0);
	}
	f->close_efd = eventfd(0, EFD_CLOEXEC);
	f->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lsock >= 0);
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(bind(f->lsock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lsock, 4), 0);
	assert_int_equal(pthread_create(&f->thr, NULL, fake_thread, f), 0);
}

/* Let the fake close its connection (the server "goes away"). */
static void fake_hangup(struct fake *f)
{
	uint64_t one = 1;

	assert_int_equal(write(f->close_efd, &one, sizeof(one)), sizeof(one));
}

static void fake_stop(struct fake *f)
{
	fake_hangup(f);
	/* Unblock accept() if the device never connected. */
	shutdown(f->lsock, SHUT_RDWR);
	pthread_join(f->thr, NULL);
	close(f->lsock);
	close(f->close_efd);
	close(f->memfd);
	for (int i = 0; i < MAX_EFD; i++) {
		close(f->peer_efd[i]);
		close(f->own_efd[i]);
	}
	unlink(f->path);
}

static const char *fake_name(const struct fake *f, const char *opts)
{
	static char name[256];

	snprintf(name, sizeof(name), "server:%s%s", f->path, opts);
	return name;
}

static void send_ok(int conn, int64_t v, int fd)
{
	assert_int_equal(ivsh_proto_send(conn, v, fd), 0);
}

/* A conforming server: peer 1 with n_peer vectors, then own vectors. */
static void script_good(struct fake *f, int conn)
{
	send_ok(conn, 0, -1);
	send_ok(conn, f->own_id, -1);
	send_ok(conn, -1, f->memfd);
	for (int i = 0; i < f->n_peer; i++)
		send_ok(conn, 1, f->peer_efd[i]);
	for (int i = 0; i < f->n_own; i++)
		send_ok(conn, f->own_id, f->own_efd[i]);
}

static uint64_t efd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void efd_ring(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void test_msix_peers_doorbells(void **state)
{
	struct ivsh_dev *dev;
	struct fake f;
	uint16_t ids[4];
	int base = test_count_fds();
	int ne[3], rc;

	(void)state;
	fake_start(&f, script_good, 2, 2);
	assert_int_equal(ivsh_dev_open(&dev, fake_name(&f, ",vectors=2"), NULL), 0);
	assert_string_equal(ivsh_dev_backend(dev), "server");
	assert_int_equal(ivsh_dev_id(dev), 3);
	assert_int_equal(ivsh_dev_shm_size(dev), SHM_SIZE);
	assert_int_equal(ivsh_dev_vectors(dev), 2);
	assert_int_equal(ivsh_dev_irq_mode(dev), IVSH_IRQ_MSIX);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_IVPOSITION), 3);

	/* The mapping is the server's memory. */
	((volatile uint8_t *)ivsh_dev_shm(dev))[SHM_SIZE - 1] = 0x5a;
	{
		uint8_t b = 0;

		assert_int_equal(pread(f.memfd, &b, 1, SHM_SIZE - 1), 1);
		assert_int_equal(b, 0x5a);
	}

	assert_int_equal(ivsh_dev_peers(dev, ids, 4), 1);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ivsh_dev_peer_vectors(dev, 1), 2);
	assert_int_equal(ivsh_dev_peer_connected(dev, 1), 1);
	assert_int_equal(ivsh_dev_peer_connected(dev, 2), 0);
	assert_int_equal(ivsh_dev_peer_connected(dev, 3), 0); /* self */

	/* Doorbell reaches exactly the peer's vector eventfd. */
	assert_int_equal(ivsh_dev_doorbell(dev, 1, 1), 0);
	assert_int_equal(efd_take(f.peer_efd[1]), 1);
	assert_int_equal(efd_take(f.peer_efd[0]), 0);
	ivsh_dev_reg_write(dev, IVSH_REG_DOORBELL, ivsh_doorbell_value(1, 0));
	assert_int_equal(efd_take(f.peer_efd[0]), 1);
	assert_int_equal(efd_take(f.peer_efd[1]), 0);
	assert_int_equal(ivsh_dev_doorbell(dev, 1, 2), -ENXIO);
	assert_int_equal(ivsh_dev_doorbell(dev, 7, 0), -ENXIO);
	ivsh_dev_reg_write(dev, IVSH_REG_DOORBELL, ivsh_doorbell_value(7, 0));

	/* Incoming: vector 1 fires, vector 0 does not. */
	efd_ring(f.own_efd[1]);
	efd_ring(f.own_efd[1]);
	assert_int_equal(ivsh_dev_irq_wait(dev, 1, 1000), 1);
	assert_int_equal(ivsh_dev_irq_wait(dev, 0, 0), 0);
	assert_int_equal(ivsh_dev_irq_ack(dev, 1), 0);
	efd_ring(f.own_efd[0]);
	assert_int_equal(ivsh_dev_irq_ack(dev, 0), 1);
	assert_int_equal(ivsh_dev_irq_fd(dev, 2), -EINVAL);
	assert_true(ivsh_dev_irq_fd(dev, 0) >= 0);
	assert_int_equal(ivsh_dev_intx_poll(dev, 0), -ENOTSUP);

	/* Late notices: peer 5 connects with 3 vectors (one too many), peer
	 * 1 disconnects. */
	for (int i = 0; i < 3; i++) {
		ne[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		send_ok(atomic_load(&f.conn), 5, ne[i]);
	}
	send_ok(atomic_load(&f.conn), 1, -1);
	assert_true(readable(ivsh_dev_event_fd(dev), 1000));
	for (int tries = 0; tries < 100 && ivsh_dev_peer_connected(dev, 1);
	     tries++) {
		rc = ivsh_dev_process_events(dev);
		assert_true(rc >= 0);
		if (ivsh_dev_peer_connected(dev, 1))
			usleep(10000);
	}
	assert_int_equal(ivsh_dev_peers(dev, ids, 4), 1);
	assert_int_equal(ids[0], 5);
	assert_int_equal(ivsh_dev_peer_vectors(dev, 5), 2);
	assert_int_equal(ivsh_dev_doorbell(dev, 1, 0), -ENXIO);
	assert_int_equal(ivsh_dev_doorbell(dev, 5, 1), 0);
	assert_int_equal(efd_take(ne[1]), 1);
	assert_int_equal(ivsh_dev_process_events(dev), 0);

	/* The server goes away: reported once, doorbells keep working. */
	fake_hangup(&f);
	assert_true(readable(ivsh_dev_event_fd(dev), 1000));
	assert_int_equal(ivsh_dev_process_events(dev), -ECONNRESET);
	assert_int_equal(ivsh_dev_process_events(dev), -ECONNRESET);
	assert_int_equal(ivsh_dev_event_fd(dev), -ECONNRESET);
	assert_int_equal(ivsh_dev_doorbell(dev, 5, 0), 0);
	assert_int_equal(efd_take(ne[0]), 1);

	ivsh_dev_close(dev);
	for (int i = 0; i < 3; i++)
		close(ne[i]);
	fake_stop(&f);
	assert_int_equal(test_count_fds(), base);
}

static void test_extra_vectors_closed(void **state)
{
	struct ivsh_dev *dev;
	struct fake f;
	int base = test_count_fds(), with_fake;

	(void)state;
	fake_start(&f, script_good, 3, 3);
	with_fake = test_count_fds();
	/* Default: one vector; peer and own extras are closed (spec). */
	assert_int_equal(ivsh_dev_open(&dev, fake_name(&f, ""), NULL), 0);
	assert_int_equal(ivsh_dev_vectors(dev), 1);
	assert_int_equal(ivsh_dev_peer_vectors(dev, 1), 1);
	assert_int_equal(ivsh_dev_irq_fd(dev, 1), -EINVAL);
	/* Held: the accepted conn (fake), the socket, one own and one peer
	 * vector, and the shm fd: this memfd is not sealed, so the SIGBUS
	 * guard keeps it to re-check the size. */
	assert_int_equal(test_count_fds(), with_fake + 5);
	ivsh_dev_close(dev);
	fake_stop(&f);
	assert_int_equal(test_count_fds(), base);
}

static void test_intx(void **state)
{
	struct ivsh_dev *dev;
	struct fake f;
	int base = test_count_fds(), fd;

	(void)state;
	fake_start(&f, script_good, 2, 2);
	assert_int_equal(ivsh_dev_open(&dev, fake_name(&f, ",vectors=2,irq=intx"),
				       NULL), 0);
	assert_int_equal(ivsh_dev_irq_mode(dev), IVSH_IRQ_INTX);
	fd = ivsh_dev_irq_fd(dev, 0);
	assert_true(fd >= 0);
	assert_int_equal(ivsh_dev_irq_fd(dev, 1), fd); /* one line */
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_MASK), 1);
	assert_false(readable(fd, 0));

	efd_ring(f.own_efd[1]);
	assert_true(readable(fd, 1000));
	assert_int_equal(ivsh_dev_irq_ack(dev, 0), 1);
	assert_false(readable(fd, 0));
	/* The ack read IntrStatus, clearing it. */
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS), 0);

	efd_ring(f.own_efd[0]);
	assert_int_equal(ivsh_dev_irq_wait(dev, 1, 1000), 1);
	assert_int_equal(ivsh_dev_irq_wait(dev, 0, 0), 0);

	/* A status read latches pending interrupts (and clears them). */
	efd_ring(f.own_efd[0]);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS), 1);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS), 0);
	assert_int_equal(ivsh_dev_intx_poll(dev, 0), -ENOTSUP);
	ivsh_dev_close(dev);
	fake_stop(&f);
	assert_int_equal(test_count_fds(), base);
}

static void test_intx_poll(void **state)
{
	struct ivsh_dev *dev;
	struct fake f;
	int base = test_count_fds();

	(void)state;
	fake_start(&f, script_good, 1, 1);
	assert_int_equal(ivsh_dev_open(&dev, fake_name(&f, ",irq=intx-poll"),
				       NULL), 0);
	assert_int_equal(ivsh_dev_irq_mode(dev), IVSH_IRQ_INTX_POLL);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_MASK), 0);
	assert_int_equal(ivsh_dev_irq_fd(dev, 0), -ENOTSUP);
	assert_int_equal(ivsh_dev_irq_ack(dev, 0), -ENOTSUP);
	assert_int_equal(ivsh_dev_intx_poll(dev, 0), 0);

	efd_ring(f.own_efd[0]);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS), 1);
	assert_int_equal(ivsh_dev_reg_read(dev, IVSH_REG_INTR_STATUS), 0);
	efd_ring(f.own_efd[0]);
	assert_int_equal(ivsh_dev_intx_poll(dev, 1000), 1);
	assert_int_equal(ivsh_dev_intx_poll(dev, 20), 0);
	efd_ring(f.own_efd[0]);
	assert_int_equal(ivsh_dev_irq_wait(dev, 0, 1000), 1);
	assert_int_equal(ivsh_dev_irq_wait(dev, 0, 0), 0);
	ivsh_dev_close(dev);
	fake_stop(&f);
	assert_int_equal(test_count_fds(), base);
}

static void test_irq_none(void **state)
{
	struct ivsh_dev *dev;
	struct fake f;
	int base = test_count_fds();

	(void)state;
	fake_start(&f, script_good, 1, 1);
	assert_int_equal(ivsh_dev_open(&dev, fake_name(&f, ",irq=none"), NULL), 0);
	assert_int_equal(ivsh_dev_vectors(dev), 0);
	assert_int_equal(ivsh_dev_irq_fd(dev, 0), -ENOTSUP);
	assert_int_equal(ivsh_dev_irq_wait(dev, 0, 0), -ENOTSUP);
	/* Sending still works. */
	assert_int_equal(ivsh_dev_doorbell(dev, 1, 0), 0);
	assert_int_equal(efd_take(f.peer_efd[0]), 1);
	ivsh_dev_close(dev);
	fake_stop(&f);
	assert_int_equal(test_count_fds(), base);
}

/* --- protocol violations ------------------------------------------------ */

static void script_bad_version(struct fake *f, int conn)
{
	(void)f;
	send_ok(conn, 1, -1);
}

static void script_bad_id(struct fake *f, int conn)
{
	(void)f;
	send_ok(conn, 0, -1);
	send_ok(conn, 70000, -1);
}

static void script_shm_without_fd(struct fake *f, int conn)
{
	(void)f;
	send_ok(conn, 0, -1);
	send_ok(conn, 2, -1);
	send_ok(conn, -1, -1);
}

static void script_two_shm(struct fake *f, int conn)
{
	script_good(f, conn);
	send_ok(conn, -1, f->memfd);
}

static void script_fd_with_version(struct fake *f, int conn)
{
	send_ok(conn, 0, f->memfd);
}

/* One message carrying two descriptors. */
static void script_two_fds(struct fake *f, int conn)
{
	uint8_t buf[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	int fds[2] = { f->memfd, f->peer_efd[0] };

	send_ok(conn, 0, -1);
	send_ok(conn, 2, -1);
	assert_int_equal(test_send_fds(conn, buf, sizeof(buf), fds, 2), 8);
}

static void script_half_message(struct fake *f, int conn)
{
	uint8_t half[4] = { 0 };

	(void)f;
	send_ok(conn, 0, -1);
	assert_int_equal(write(conn, half, sizeof(half)), 4);
	shutdown(conn, SHUT_WR);
}

static void script_hangup_mid(struct fake *f, int conn)
{
	(void)f;
	send_ok(conn, 0, -1);
	send_ok(conn, 4, -1);
	shutdown(conn, SHUT_WR);
}

static void script_version_only(struct fake *f, int conn)
{
	(void)f;
	send_ok(conn, 0, -1);
}

static void script_empty_shm(struct fake *f, int conn)
{
	int empty = memfd_create("ivsh-empty", MFD_CLOEXEC);

	(void)f;
	send_ok(conn, 0, -1);
	send_ok(conn, 1, -1);
	send_ok(conn, -1, empty);
	close(empty);
}

static const struct violation {
	const char *what;
	script_fn script;
	const char *opts;
	int err;
	const char *needle;
} violations[] = {
	{ "version 1", script_bad_version, "", -EPROTONOSUPPORT, "version 1" },
	{ "ID 70000", script_bad_id, "", -EPROTO, "70000" },
	{ "shm without fd", script_shm_without_fd, "", -EPROTO, "protocol" },
	{ "fd with version", script_fd_with_version, "", -EPROTO, "protocol" },
	{ "second shm", script_two_shm, ",vectors=2", -EPROTO, "protocol" },
	{ "two fds", script_two_fds, "", -EPROTO, "" },
	{ "half message", script_half_message, "", -EPROTO, "" },
	{ "hangup", script_hangup_mid, "", -ECONNRESET, "closed the connection" },
	{ "no shm", script_version_only, ",timeout=200", -ETIMEDOUT, "no shared memory" },
	{ "empty shm", script_empty_shm, "", -EPROTO, "empty" },
};

static void test_violations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(violations) / sizeof(violations[0]); i++) {
		const struct violation *v = &violations[i];
		struct ivsh_dev *dev = (struct ivsh_dev *)0x1;
		struct fake f;
		int base = test_count_fds(), with_fake, rc;

		fake_start(&f, v->script, 1, 1);
		with_fake = test_count_fds();
		rc = ivsh_dev_open(&dev, fake_name(&f, v->opts), NULL);
		if (rc != v->err || !strstr(ivsh_dev_last_error(), v->needle))
			fail_msg("%s: rc %d (%s), want %d containing '%s'",
				 v->what, rc, ivsh_dev_last_error(), v->err,
				 v->needle);
		assert_null(dev);
		assert_true(ivsh_dev_last_error()[0] != '\0');
		/* Only the fake's accepted connection is new. */
		assert_true(test_count_fds() <= with_fake + 1);
		fake_stop(&f);
		if (test_count_fds() != base)
			fail_msg("%s: %d fds leaked", v->what,
				 test_count_fds() - base);
	}
}

static void test_too_few_vectors(void **state)
{
	struct ivsh_dev *dev;
	struct fake f;
	int base = test_count_fds();

	(void)state;
	fake_start(&f, script_good, 1, 1);
	assert_int_equal(ivsh_dev_open(&dev, fake_name(&f, ",vectors=2,timeout=200"),
				       NULL), -ETIMEDOUT);
	assert_non_null(strstr(ivsh_dev_last_error(), "1 of 2"));
	fake_stop(&f);
	assert_int_equal(test_count_fds(), base);
}

static void test_no_server(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ivsh_dev *dev;
	char path[108], name[160];
	int s, base = test_count_fds();

	(void)state;
	snprintf(path, sizeof(path), "/tmp/ivsh-test-dev-none-%d.sock",
		 (int)getpid());
	unlink(path);
	snprintf(name, sizeof(name), "server:%s", path);
	assert_int_equal(ivsh_dev_open(&dev, name, NULL), -ENOENT);
	assert_non_null(strstr(ivsh_dev_last_error(), "no such socket"));

	/* A socket file nobody listens on any more. */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	assert_int_equal(ivsh_dev_open(&dev, name, NULL), -ECONNREFUSED);
	unlink(path);

	assert_int_equal(ivsh_dev_open(&dev, "server:/tmp/"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		NULL), -ENAMETOOLONG);
	assert_int_equal(test_count_fds(), base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msix_peers_doorbells),
		cmocka_unit_test(test_extra_vectors_closed),
		cmocka_unit_test(test_intx),
		cmocka_unit_test(test_intx_poll),
		cmocka_unit_test(test_irq_none),
		cmocka_unit_test(test_violations),
		cmocka_unit_test(test_too_few_vectors),
		cmocka_unit_test(test_no_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
