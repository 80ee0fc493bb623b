/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivsh-testpmd end to end, through a real ivsh-server (or a shm file):
 *
 *   txrx-poll     txonly -> rxonly --count N --json, 64 B, busy-polling
 *   txrx-intr     the same at 1500 B, both sides in interrupt mode
 *   jumbo-mq      9000 B frames over 2 queues
 *   shm           the shm: backend (no server, no interrupts)
 *   latency       latency engine against io (interrupt mode), p50/p99/max
 *   latency-poll-mac, latency-poll-macswap   the same against mac/macswap
 *   flowgen       flowgen -> rxonly
 *   zero-copy     --zero-copy on either side or both (64, 1500, 4096 and
 *                 9000 B, 2 queues, interrupt mode)
 *   stress-poll, stress-intr   longer runs (suite stress)
 *   sigint        an idle rxonly in interrupt mode sleeps (CPU time), and
 *                 SIGINT stops it with a summary
 *   cli           bad options: exit 1 with exactly one line on stderr
 *   auto          --peer auto on a layout with room for more than two
 *                 peers: rxonly and txonly find each other started in
 *                 either order; a third --peer auto next to two running
 *                 peers and one with nobody to find fail with one line;
 *                 an rxonly whose --duration ends with nothing received
 *                 exits 1
 *
 * Each receiver must report rx_packets == N, lost 0, reordered 0,
 * duplicated 0, corrupted 0.
 *
 * Usage: test_testpmd IVSH_SERVER IVSH_TESTPMD CASE
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static const char *server_bin, *testpmd_bin;

static uint64_t json_u64(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		IT_FAIL("key %s missing from JSON: %s", key, json);
	return strtoull(p + strlen(pat), NULL, 10);
}

static const char *json_line(const char *out)
{
	const char *p = strstr(out, "\n{");

	if (out[0] == '{')
		return out;
	if (!p)
		IT_FAIL("no JSON line in output:\n%s", out);
	return p + 1;
}

/* Run argv to completion; return its stdout (and status in *st). */
static char *run(char *const argv[], int *st, int timeout_ms)
{
	int out;
	pid_t pid = it_spawn(argv, &out, NULL);
	char *text = it_read_all(out, timeout_ms);

	*st = it_wait(pid, 5000);
	close(out);
	return text;
}

struct pair_conf {
	const char *dev_rx, *dev_tx; /* device strings */
	int peer_of_rx, peer_of_tx;  /* the other's ID */
	const char *pkt_len, *count, *mode, *queues;
	const char *tx_engine;       /* NULL: txonly */
	bool need_server;
	const char *rx_extra, *tx_extra; /* one more option each, or NULL */
};

static void check_rx_json(const char *what, const char *out, uint64_t n)
{
	const char *j = json_line(out);

	printf("%s rx: %s", what, j);
	IT_CHECK(json_u64(j, "rx_packets") == n, "%s: rx_packets %" PRIu64
		 " != %" PRIu64, what, json_u64(j, "rx_packets"), n);
	IT_CHECK(json_u64(j, "lost") == 0, "%s: lost frames", what);
	IT_CHECK(json_u64(j, "reordered") == 0, "%s: reordered frames", what);
	IT_CHECK(json_u64(j, "duplicated") == 0, "%s: duplicated frames", what);
	IT_CHECK(json_u64(j, "corrupted") == 0, "%s: corrupted frames", what);
	IT_CHECK(json_u64(j, "private_rss_kib") < 16 * 1024,
		 "%s: private RSS %" PRIu64 " KiB >= 16 MiB", what,
		 json_u64(j, "private_rss_kib"));
}

static void txrx(const char *what, const struct pair_conf *c)
{
	char rx_peer[16], tx_peer[16], line[512];
	int rx_out, rx_err, st;

	snprintf(rx_peer, sizeof(rx_peer), "%d", c->peer_of_rx);
	snprintf(tx_peer, sizeof(tx_peer), "%d", c->peer_of_tx);
	char *const rxv[] = { (char *)testpmd_bin, "--device", (char *)c->dev_rx,
			      "--peer", rx_peer, "--engine", "rxonly",
			      "--pkt-len", (char *)c->pkt_len, "--count",
			      (char *)c->count, "--mode", (char *)c->mode,
			      "--queues", (char *)c->queues, "--duration", "40",
			      "--max-peers", "2", "--json", (char *)c->rx_extra,
			      NULL };
	pid_t rx = it_spawn(rxv, &rx_out, &rx_err);

	/* the receiver must be attached first: it is the master (ID 0) */
	if (it_wait_line(rx_err, "ready", line, sizeof(line), 15000))
		IT_FAIL("%s: receiver did not start", what);
	char *const txv[] = { (char *)testpmd_bin, "--device", (char *)c->dev_tx,
			      "--peer", tx_peer, "--engine",
			      (char *)(c->tx_engine ? c->tx_engine : "txonly"),
			      "--pkt-len", (char *)c->pkt_len, "--count",
			      (char *)c->count, "--mode", (char *)c->mode,
			      "--queues", (char *)c->queues, "--wait-link", "10",
			      "--json", (char *)c->tx_extra, NULL };
	char *tx_out = run(txv, &st, 45000);

	printf("%s tx: %s", what, json_line(tx_out));
	IT_CHECK(it_ok(st), "%s: txonly %s", what, it_status_str(st));
	char *rx_text = it_read_all(rx_out, 45000);

	st = it_wait(rx, 5000);
	IT_CHECK(it_ok(st), "%s: rxonly %s", what, it_status_str(st));
	uint64_t n = strtoull(c->count, NULL, 10);

	IT_CHECK(json_u64(json_line(tx_out), "tx_packets") == n,
		 "%s: tx_packets != %" PRIu64, what, n);
	check_rx_json(what, rx_text, n);
	free(tx_out);
	free(rx_text);
}

static void server_pair(const char *what, const char *len, const char *count,
			const char *mode, const char *queues)
{
	char dev[256];
	const char *sock = it_path("sock");

	it_start_server(server_bin, sock, "16M", 2);
	snprintf(dev, sizeof(dev), "server:%s", sock);
	struct pair_conf c = { dev, dev, 1, 0, len, count, mode, queues,
			       strcmp(what, "flowgen") ? NULL : "flowgen", true };

	txrx(what, &c);
}

/* --zero-copy on either side or both: built in the slots, verified from
 * them; single-slot frames, chained jumbo frames over 2 queues, and
 * interrupt mode. */
static void case_zero_copy(void)
{
	static const struct {
		const char *len, *count, *mode, *queues, *rx, *tx;
	} runs[] = {
		{ "64", "200000", "poll", "1", "--zero-copy", "--zero-copy" },
		{ "9000", "20000", "poll", "2", "--zero-copy", "--zero-copy" },
		{ "1500", "50000", "intr", "1", "--zero-copy", NULL },
		{ "4096", "20000", "poll", "1", NULL, "--zero-copy" },
	};
	const char *sock = it_path("sock");
	char dev[256], what[64];

	it_start_server(server_bin, sock, "16M", 2);
	snprintf(dev, sizeof(dev), "server:%s", sock);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct pair_conf c = { dev, dev, 1, 0, runs[i].len,
				       runs[i].count, runs[i].mode,
				       runs[i].queues, NULL, true,
				       runs[i].rx, runs[i].tx };

		snprintf(what, sizeof(what), "zero-copy %s B rx %s tx %s",
			 runs[i].len, runs[i].rx ? "zc" : "copy",
			 runs[i].tx ? "zc" : "copy");
		txrx(what, &c);
	}
}

static void case_shm(void)
{
	char d0[256], d1[256];
	char name[128];

	snprintf(name, sizeof(name), "/dev/shm/ivsh-it-testpmd-%d", (int)getpid());
	unlink(name);
	it_track(name);
	snprintf(d0, sizeof(d0), "shm:%s,id=0,size=4M", name);
	snprintf(d1, sizeof(d1), "shm:%s,id=1,size=4M", name);
	struct pair_conf c = { d0, d1, 1, 0, "512", "100000", "poll", "1", NULL,
			       false };

	txrx("shm", &c);
	unlink(name);
}

static void case_latency(const char *reflector, const char *mode)
{
	char dev[256], line[512];
	int io_out, io_err, st;
	const char *sock = it_path("sock");

	it_start_server(server_bin, sock, "4M", 1);
	snprintf(dev, sizeof(dev), "server:%s", sock);
	char *const iov[] = { (char *)testpmd_bin, "--device", dev, "--peer", "1",
			      "--engine", (char *)reflector, "--mode", (char *)mode,
			      "--duration", "40", NULL };
	pid_t io = it_spawn(iov, &io_out, &io_err);

	if (it_wait_line(io_err, "ready", line, sizeof(line), 15000))
		IT_FAIL("io reflector did not start");
	char *const lv[] = { (char *)testpmd_bin, "--device", dev, "--peer", "0",
			     "--engine", "latency", "--mode", (char *)mode, "--count",
			     "2000", "--wait-link", "10", "--json", NULL };
	char *out = run(lv, &st, 45000);

	IT_CHECK(it_ok(st), "latency: %s", it_status_str(st));
	const char *j = json_line(out);

	printf("latency: %s", j);
	IT_CHECK(json_u64(j, "samples") == 2000, "latency: samples != 2000");
	IT_CHECK(json_u64(j, "lat_lost") == 0, "latency: pings lost");
	IT_CHECK(json_u64(j, "corrupted") == 0, "latency: replies corrupted");
	uint64_t p50 = json_u64(j, "p50_ns"), p99 = json_u64(j, "p99_ns"),
		 mx = json_u64(j, "max_ns");

	IT_CHECK(p50 > 0 && p50 <= p99 && p99 <= mx,
		 "latency: inconsistent p50 %" PRIu64 " p99 %" PRIu64 " max %"
		 PRIu64, p50, p99, mx);
	it_kill(io, SIGTERM);
	free(out);
}

/* utime + stime of a child, from /proc/PID/stat. */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		IT_FAIL("cannot read %s", path);
	fclose(f);
	/* fields 14 and 15, counted after the ")" that ends the name */
	const char *p = strrchr(buf, ')');

	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		IT_FAIL("cannot parse %s", path);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void case_sigint(void)
{
	char dev[256], line[512];
	int out, err;
	const char *sock = it_path("sock");

	it_start_server(server_bin, sock, "4M", 1);
	snprintf(dev, sizeof(dev), "server:%s", sock);
	char *const rv[] = { (char *)testpmd_bin, "--device", dev, "--peer", "1",
			     "--engine", "rxonly", "--mode", "intr", "--json", NULL };
	pid_t rx = it_spawn(rv, &out, &err);

	if (it_wait_line(err, "ready", line, sizeof(line), 15000))
		IT_FAIL("rxonly did not start");
	/* an idle receiver in interrupt mode sleeps: little CPU time */
	double cpu0 = cpu_seconds(rx);

	it_sleep_ms(1000);
	double used = cpu_seconds(rx) - cpu0;

	printf("sigint: idle intr-mode rxonly used %.3f s CPU in 1 s\n", used);
	IT_CHECK(used < 0.3, "idle rxonly in --mode intr used %.2f s of CPU in 1 s"
		 " (busy-polling?)", used);
	kill(rx, SIGINT);
	char *text = it_read_all(out, 5000);
	int st = it_wait(rx, 5000);

	IT_CHECK(it_ok(st), "SIGINT: %s", it_status_str(st));
	IT_CHECK(json_u64(json_line(text), "rx_packets") == 0, "SIGINT: summary");
	free(text);
}

static void case_cli(void)
{
	static const char *const bad[][8] = {
		{ "--bogus" },
		{ "--device" },
		{ "--peer", "1" },
		{ "--device", "server:/nonexistent/x.sock" },
		{ "--device", "shm:/dev/shm/x", "--peer", "abc" },
		{ "--device", "shm:/dev/shm/x", "--peer", "65535" },
		{ "--device", "shm:/dev/shm/x", "--peer", "Auto" },
		{ "--device", "shm:/dev/shm/x", "--peer", "1", "--engine", "nope" },
		{ "--device", "shm:/dev/shm/x", "--peer", "1", "--pkt-len", "9001" },
		{ "--device", "shm:/dev/shm/x", "--peer", "1", "--pkt-len", "10" },
		{ "--device", "shm:/dev/shm/x", "--peer", "1", "--burst", "0" },
		{ "--device", "shm:/dev/shm/x", "--peer", "1", "--mode", "fast" },
		{ "--device", "shm:/dev/shm/x", "--peer", "1", "--duration", "-1" },
		{ "--device", "shm:/dev/shm/x", "--peer", "1", "extra" },
		{ "--device", "shm:/dev/shm/x", "--peer", "1", "--zero-copy" },
		{ "--device", "bogus:thing", "--peer", "1" },
		{ "--device", "server:/nonexistent/ivsh-it.sock", "--peer", "1" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[10] = { (char *)testpmd_bin };
		int n = 1, out, err;

		for (int k = 0; k < 8 && bad[i][k]; k++)
			argv[n++] = (char *)bad[i][k];
		argv[n] = NULL;
		pid_t pid = it_spawn(argv, &out, &err);
		char *e = it_read_all(err, 10000);
		int st = it_wait(pid, 5000);
		size_t lines = 0;

		for (char *c = e; *c; c++)
			lines += *c == '\n';
		printf("bad cli #%zu: %s", i, e);
		IT_CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
			 "bad cli #%zu: %s, expected exit 1", i, it_status_str(st));
		IT_CHECK(lines == 1 && strncmp(e, "ivsh-testpmd: ", 14) == 0,
			 "bad cli #%zu: expected one 'ivsh-testpmd: ...' line, got:\n%s",
			 i, e);
		free(e);
		close(out);
		close(err);
	}
	/* --help succeeds and lists every engine */
	char *const hv[] = { (char *)testpmd_bin, "--help", NULL };
	int st;
	char *h = run(hv, &st, 5000);

	IT_CHECK(it_ok(st), "--help: %s", it_status_str(st));
	static const char *const words[] = { "io", "mac", "macswap", "txonly",
		"rxonly", "flowgen", "latency", "--pkt-len", "--wait-link", "--json" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		IT_CHECK(strstr(h, words[i]), "--help does not mention %s", words[i]);
	free(h);
}

/* Start one ivsh-testpmd; its stdout and stderr in *out, *err. */
static pid_t auto_spawn(const char *dev, const char *peer, const char *engine,
			const char *extra, int *out, int *err)
{
	char *const v[] = { (char *)testpmd_bin, "--device", (char *)dev,
			    "--peer", (char *)peer, "--engine", (char *)engine,
			    "--count", "20000", "--duration", "40", "--json",
			    (char *)extra, NULL };

	return it_spawn(v, out, err);
}

/* Wait for a program that must fail with one line containing @p want. */
static void expect_fail(const char *what, pid_t pid, int err, const char *want)
{
	char *e = it_read_all(err, 20000);
	int st = it_wait(pid, 5000);

	printf("%s: %s", what, e);
	IT_CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
		 "%s: %s, expected exit 1", what, it_status_str(st));
	IT_CHECK(strstr(e, want) != NULL, "%s: no '%s' in:\n%s", what, want, e);
	free(e);
}

static void case_auto(void)
{
	static const char *const first[] = { "rxonly", "txonly" };
	char dev[256], line[512];
	int o[3], e[3];
	pid_t p[3];

	for (int round = 0; round < 2; round++) {
		const char *sock = it_path(round ? "sock-b" : "sock-a");

		/* 64M: the master lays out more than two peers, so auto waits
		 * for the other peer instead of taking the other ID. */
		it_start_server(server_bin, sock, "64M", 1);
		snprintf(dev, sizeof(dev), "server:%s", sock);
		p[0] = auto_spawn(dev, "auto", first[round], NULL, &o[0], &e[0]);
		it_sleep_ms(round ? 300 : 0);
		p[1] = auto_spawn(dev, "auto", first[!round], NULL, &o[1], &e[1]);
		int rx = round ? 1 : 0;
		char *rx_text = it_read_all(o[rx], 45000);
		char *tx_text = it_read_all(o[!rx], 45000);
		int st_rx = it_wait(p[rx], 5000), st_tx = it_wait(p[!rx], 5000);

		IT_CHECK(it_ok(st_rx) && it_ok(st_tx), "auto round %d: rx %s,"
			 " tx %s", round, it_status_str(st_rx),
			 it_status_str(st_tx));
		check_rx_json(round ? "auto tx-first" : "auto rx-first",
			      rx_text, 20000);
		free(rx_text);
		free(tx_text);
		for (int i = 0; i < 2; i++) {
			close(o[i]);
			close(e[i]);
		}
	}

	/* Two explicit peers running: a third cannot tell which to take. */
	const char *sock = it_path("sock-c");

	it_start_server(server_bin, sock, "64M", 1);
	snprintf(dev, sizeof(dev), "server:%s", sock);
	p[0] = auto_spawn(dev, "1", "rxonly", NULL, &o[0], &e[0]);
	if (it_wait_line(e[0], "ready", line, sizeof(line), 15000))
		IT_FAIL("auto: first explicit peer did not start");
	p[1] = auto_spawn(dev, "0", "rxonly", NULL, &o[1], &e[1]);
	if (it_wait_line(e[1], "ready", line, sizeof(line), 15000))
		IT_FAIL("auto: second explicit peer did not start");
	p[2] = auto_spawn(dev, "auto", "rxonly", NULL, &o[2], &e[2]);
	expect_fail("auto with two others", p[2], e[2], "other peers are attached");
	for (int i = 0; i < 2; i++)
		it_kill(p[i], SIGINT);

	/* Nobody else: auto gives up after --wait-link. */
	sock = it_path("sock-d");
	it_start_server(server_bin, sock, "64M", 1);
	snprintf(dev, sizeof(dev), "server:%s", sock);
	char *const lone[] = { (char *)testpmd_bin, "--device", dev, "--peer",
			       "auto", "--engine", "rxonly", "--wait-link", "1",
			       NULL };
	p[0] = it_spawn(lone, &o[0], &e[0]);
	expect_fail("auto alone", p[0], e[0], "no other peer attached");

	/* An rxonly run that receives nothing in its whole --duration fails. */
	char *const idle[] = { (char *)testpmd_bin, "--device", dev, "--peer",
			       "1", "--engine", "rxonly", "--duration", "1",
			       NULL };
	p[0] = it_spawn(idle, &o[0], &e[0]);
	expect_fail("rxonly idle", p[0], e[0], "received nothing from peer 1");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s IVSH_SERVER IVSH_TESTPMD CASE\n", argv[0]);
		return 1;
	}
	server_bin = argv[1];
	testpmd_bin = argv[2];
	const char *c = argv[3];
	bool needs_server = strcmp(c, "cli") && strcmp(c, "shm");

	it_init(c, 58, needs_server ? server_bin : NULL);
	if (access(testpmd_bin, X_OK) != 0) {
		printf("SKIP: %s not built\n", testpmd_bin);
		return IT_SKIP;
	}
	if (!strcmp(c, "txrx-poll"))
		server_pair(c, "64", "200000", "poll", "1");
	else if (!strcmp(c, "txrx-intr"))
		server_pair(c, "1500", "50000", "intr", "1");
	else if (!strcmp(c, "jumbo-mq"))
		server_pair(c, "9000", "20000", "poll", "2");
	else if (!strcmp(c, "shm"))
		case_shm();
	else if (!strcmp(c, "zero-copy"))
		case_zero_copy();
	else if (!strcmp(c, "latency"))
		case_latency("io", "intr");
	else if (!strcmp(c, "latency-poll-mac"))
		case_latency("mac", "poll");
	else if (!strcmp(c, "latency-poll-macswap"))
		case_latency("macswap", "poll");
	else if (!strcmp(c, "flowgen"))
		server_pair(c, "256", "100000", "poll", "1");
	else if (!strcmp(c, "stress-poll"))
		server_pair(c, "64", "3000000", "poll", "1");
	else if (!strcmp(c, "stress-intr"))
		server_pair(c, "1024", "500000", "intr", "2");
	else if (!strcmp(c, "sigint"))
		case_sigint();
	else if (!strcmp(c, "cli"))
		case_cli();
	else if (!strcmp(c, "auto"))
		case_auto();
	else
		IT_FAIL("unknown case %s", c);
	printf("PASS: ivsh-testpmd %s\n", c);
	return 0;
}
