/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Files that are not what they seem, against the ivsh-server program:
 * planted symlinks for the pid file and -m FILE, a /dev/shm object of
 * another user for -M, a pid file replaced while the server runs, and
 * --mode 0 under umask 0 (checked with a connection from another user).
 *
 * Runs as root (it needs a second user and root-owned victims); exits 77
 * otherwise.
 *
 * Usage: test_hostile_files /path/to/ivsh-server
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tclient.h"

static const char *server_bin;
static uid_t other_uid;
static gid_t other_gid;
static char dir[64];
static char sock[100];
static pid_t running = -1;

static int setup(void **state)
{
	(void)state;
	tc_mkdtemp(dir, sizeof(dir));
	/* The other user must reach the socket: only the mode decides. */
	chmod(dir, 0755);
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (running > 0) {
		kill(running, SIGKILL);
		waitpid(running, NULL, 0);
		running = -1;
	}
	tc_rmdir(dir);
	return 0;
}

/* Start the server in the foreground with @p extra args (NULL-ended). */
static pid_t spawn(const char *first, ...)
{
	const char *argv[16] = { server_bin, "-F", "-S", sock };
	int n = 4;
	va_list ap;
	pid_t pid;

	va_start(ap, first);
	for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execv(server_bin, (char *const *)argv);
		_exit(127);
	}
	running = pid;
	return pid;
}

/* Wait until the server listens (1) or exits (0, status in *status). */
static int wait_up(pid_t pid, int *status)
{
	struct stat st;

	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, status, WNOHANG) == pid) {
			running = -1;
			return 0;
		}
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
			/* The pid file is written after the socket exists:
			 * give a refusal time to show. */
			for (int j = 0; j < 30; j++) {
				usleep(10000);
				if (waitpid(pid, status, WNOHANG) == pid) {
					running = -1;
					return 0;
				}
			}
			return 1;
		}
		usleep(10000);
	}
	fail_msg("server neither started nor exited within 10 s");
	return -1;
}

static void stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	running = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
}

static void assert_file_is(const char *path, const char *text)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	if (strcmp(buf, text) != 0)
		fail_msg("%s now holds '%s', not '%s'", path, buf, text);
}

/* Start with @p args; it must refuse (exit 1) and leave @p victim as is. */
static void expect_refusal(const char *victim, const char *text,
			   const char *a1, const char *a2)
{
	int status = 0;
	pid_t pid = spawn(a1, a2, NULL);

	if (wait_up(pid, &status)) {
		stop(pid);
		assert_file_is(victim, text);
		fail_msg("the server started with %s %s", a1, a2);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_file_is(victim, text);
}

/* @p option names a planted symlink @p name to a file that must survive. */
static void expect_symlink_refused(const char *option, const char *name)
{
	char victim[300], link[300];

	snprintf(victim, sizeof(victim), "%s/precious", dir);
	snprintf(link, sizeof(link), "%s/%s", dir, name);
	write_file(victim, "precious\n");
	assert_int_equal(symlink(victim, link), 0);
	expect_refusal(victim, "precious\n", option, link);
}

static void test_pidfile_symlink(void **state)
{
	(void)state;
	expect_symlink_refused("-p", "srv.pid");
}

static void test_pidfile_removed_only_if_ours(void **state)
{
	char pidf[300], mine[32];
	pid_t pid;
	int status;

	(void)state;
	snprintf(pidf, sizeof(pidf), "%s/srv.pid", dir);
	/* A stale pid file of ours is replaced. */
	write_file(pidf, "99999999\n");
	pid = spawn("-p", pidf, NULL);
	assert_int_equal(wait_up(pid, &status), 1);
	snprintf(mine, sizeof(mine), "%ld\n", (long)pid);
	assert_file_is(pidf, mine);
	/* Someone else's pid file by now: left alone on exit. */
	assert_int_equal(unlink(pidf), 0);
	write_file(pidf, "12345\n");
	stop(pid);
	assert_file_is(pidf, "12345\n");
}

static void test_shm_file_symlink(void **state)
{
	(void)state;
	expect_symlink_refused("-m", "shm");
}

static void test_posix_shm_of_another_user(void **state)
{
	char name[64], path[128];
	int fd, status = 0;
	pid_t pid;

	(void)state;
	snprintf(name, sizeof(name), "ivsh-hostile-%d", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0666);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, other_uid, other_gid), 0);
	assert_int_equal(fchmod(fd, 0666), 0);
	close(fd);
	pid = spawn("-M", name, NULL);
	if (wait_up(pid, &status)) {
		stop(pid);
		unlink(path);
		fail_msg("the server reused a 0666 object of uid %u",
			 (unsigned int)other_uid);
	}
	unlink(path);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

/* A private file of our own that already exists is reused, and served. */
static void expect_reused(const char *option, const char *arg,
			  const char *path)
{
	int fd, status = 0;
	pid_t pid;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	pid = spawn(option, arg, "-l", "1M", NULL);
	if (!wait_up(pid, &status)) {
		unlink(path);
		fail_msg("the server refused its own 0600 file with %s %s (exit %d)",
			 option, arg, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	stop(pid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	unlink(path);
	/* Sized through the reused file, not through another descriptor. */
	assert_int_equal(st.st_size, 1 << 20);
}

static void test_own_private_files_reused(void **state)
{
	char name[64], path[300];

	(void)state;
	snprintf(path, sizeof(path), "%s/shm", dir);
	expect_reused("-m", path, path);
	snprintf(name, sizeof(name), "ivsh-own-%d", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	expect_reused("-M", name, path);
}

/* Can @p uid connect to the socket? 1 yes, 0 no (EACCES). */
static int other_user_connects(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s;

		if (setgid(other_gid) < 0 || setuid(other_uid) < 0)
			_exit(3);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			_exit(1);
		_exit(errno == EACCES ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_true(WEXITSTATUS(status) <= 1);
	return WEXITSTATUS(status);
}

static void check_mode(const char *mode, mode_t want, int connects)
{
	mode_t old = umask(0);
	struct stat st;
	int status;
	pid_t pid = mode ? spawn("--mode", mode, NULL) : spawn(NULL);

	umask(old);
	assert_int_equal(wait_up(pid, &status), 1);
	assert_int_equal(stat(sock, &st), 0);
	printf("umask 0, --mode %s: socket mode %04o, other user %s\n",
	       mode ? mode : "(none)", (unsigned int)(st.st_mode & 07777),
	       other_user_connects() ? "connects" : "refused");
	assert_int_equal(st.st_mode & 07777, want);
	assert_int_equal(other_user_connects(), connects);
	stop(pid);
}

static void test_mode_zero(void **state)
{
	(void)state;
	check_mode("0", 0, 0);
	check_mode("0600", 0600, 0);
	check_mode("0666", 0666, 1);
	/* No --mode: the umask decides, as for any file. */
	check_mode(NULL, 0777, 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pidfile_symlink, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_pidfile_removed_only_if_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shm_file_symlink, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_posix_shm_of_another_user,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_private_files_reused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_zero, setup,
						teardown),
	};
	struct passwd *pw = getpwnam("nobody");

	if (argc != 2) {
		fprintf(stderr, "usage: %s IVSH-SERVER\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0 || !pw) {
		printf("SKIP: needs root and a user 'nobody'\n");
		return 77;
	}
	other_uid = pw->pw_uid;
	other_gid = pw->pw_gid;
	server_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
