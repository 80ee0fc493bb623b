/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command-line parsing. Accepts the short options of QEMU's example
 * ivshmem server (-S -l -n -m -M -F -p -v -h) beside long ones.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

#define PROG "ivsh-server"

enum {
	OPT_MAX_CLIENTS = 256,
	OPT_MODE,
	OPT_GROUP,
	OPT_MEMFD,
	OPT_MAX_QUEUED,
	OPT_STALL_TIMEOUT,
	OPT_SAFE_IDS,
	OPT_ID_SOCKET,
	OPT_MAX_INFLIGHT,
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, 'S' },
	{ "size", required_argument, NULL, 'l' },
	{ "vectors", required_argument, NULL, 'n' },
	{ "shm-dir", required_argument, NULL, 'm' },
	{ "shm", required_argument, NULL, 'M' },
	{ "memfd", no_argument, NULL, OPT_MEMFD },
	{ "foreground", no_argument, NULL, 'F' },
	{ "pidfile", required_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "max-queued", required_argument, NULL, OPT_MAX_QUEUED },
	{ "stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT },
	{ "safe-ids", no_argument, NULL, OPT_SAFE_IDS },
	{ "id-socket", required_argument, NULL, OPT_ID_SOCKET },
	{ "max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT },
	{ NULL, 0, NULL, 0 },
};

void options_usage(FILE *out)
{
	fprintf(out,
"Usage: " PROG " [OPTION]...\n"
"ivshmem server: hands the shared memory and interrupt eventfds to\n"
"QEMU ivshmem-doorbell devices and other ivshmem clients.\n"
"\n"
"  -S, --socket PATH       UNIX socket to listen on (default " DEFAULT_SOCKET ")\n"
"  -l, --size SIZE         shared memory size, a power of two; suffixes\n"
"                          k/K, m/M, g/G (default 4M)\n"
"  -n, --vectors N         interrupt vectors per client, 1..64 (default 1)\n"
"      --memfd             shared memory in an anonymous memfd (default)\n"
"  -M, --shm NAME          shared memory in POSIX object /dev/shm/NAME\n"
"  -m, --shm-dir DIR       shared memory in an unnamed file in DIR (e.g. a\n"
"                          hugetlbfs mount), or in file DIR if not a directory\n"
"  -F, --foreground        stay in the foreground, log to stderr\n"
"                          (default: daemonize and log to syslog)\n"
"  -p, --pidfile FILE      write the server's pid to FILE\n"
"  -v, --verbose           log debug messages too\n"
"      --max-clients N     accept at most N clients, 1..65536 (default 65536)\n"
"      --safe-ids          do not hand out an ID again while a client that saw\n"
"                          it go is still connected (QEMU 7.2's ivshmem\n"
"                          device corrupts its heap when a peer ID it saw\n"
"                          leave comes back); default: lowest unused ID\n"
"      --id-socket ID=PATH pin ID to a socket of its own: a client there gets\n"
"                          exactly ID, and is refused while ID is held; the\n"
"                          main socket never hands out a pinned ID (so with\n"
"                          0 pinned, its first client gets 1). Repeatable.\n"
"                          For migration: the master connects on ID 0's\n"
"                          socket, every peer on its own ID's socket\n"
"      --mode OCTAL        socket file mode, e.g. 0660\n"
"      --group NAME        socket file group (name or number)\n"
"      --max-queued N      messages a client may leave unread beyond its\n"
"                          handshake before it is dropped (default %u)\n"
"      --stall-timeout MS  drop a client whose socket stays full this long\n"
"                          (default %u)\n"
"      --max-inflight N    descriptors one user's connections may leave\n"
"                          unread at once, dropped ones included; beyond\n"
"                          it that user waits and new connections are\n"
"                          refused (default: a quarter of the descriptor\n"
"                          limit, at least 16)\n"
"  -h, --help              show this help and exit\n",
		IVSH_SERVER_DEFAULT_QUEUE, IVSH_SERVER_DEFAULT_STALL_MS);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "ivsh-server: <message>" as one line; returns -1. */
static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/*
 * getopt_long() failed on @p arg (argv[optind - 1]) without a missing
 * argument. optopt is 0 for an unknown long option, the option's value
 * for a long option given "=VALUE" although it takes none, else the
 * unknown short option character.
 */
static int bad_option(const char *arg)
{
	if (!optopt)
		return bad("unknown option '%s' (see --help)", arg);
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == optopt && o->has_arg == no_argument)
			return bad("option '--%s' takes no argument", o->name);
	if (optopt > 0 && optopt < 128) {
		char s[3] = { '-', (char)optopt, 0 };

		return bad("unknown option '%s' (see --help)", s);
	}
	return bad("unknown option '%s' (see --help)", arg);
}

/* Decimal unsigned number within [lo, hi]. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_size(const char *arg, uint64_t *out)
{
	uint64_t v;
	int rc = ivsh_server_parse_size(arg, &v);

	if (rc == -ERANGE)
		return bad("size '%s' is too large", arg);
	if (rc < 0)
		return bad("bad size '%s' (want a number with an optional k, M or G suffix)",
			   arg);
	if (!v || (v & (v - 1)))
		return bad("size '%s' is not a power of two", arg);
	if (v < IVSH_SERVER_MIN_SHM_SIZE)
		return bad("size '%s' is too small (at least 4K)", arg);
	if (v > IVSH_SERVER_MAX_SHM_SIZE)
		return bad("size '%s' is too large (at most 1T)", arg);
	*out = v;
	return 0;
}

static int parse_group(const char *arg, gid_t *gid)
{
	unsigned long v;
	struct group *g;

	if (parse_uint(arg, 0, (gid_t)-2, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	errno = 0;
	g = getgrnam(arg);
	if (!g)
		return bad("unknown group '%s'", arg);
	*gid = g->gr_gid;
	return 0;
}

/* Make @p path absolute: the daemon changes to "/". */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

static int set_path(char **dst, const char *arg)
{
	free(*dst);
	*dst = absolute(arg);
	if (!*dst)
		return bad("cannot resolve path '%s'", arg);
	return 0;
}

/* "ID=PATH": ID 0..65535, each ID and path once. */
static int add_id_socket(struct options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char idtext[8];
	unsigned long id;
	struct pinned_id *p;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(idtext) ||
	    !eq[1])
		return bad("bad --id-socket '%s' (want ID=PATH)", arg);
	memcpy(idtext, arg, (size_t)(eq - arg));
	idtext[eq - arg] = '\0';
	if (parse_uint(idtext, 0, IVSH_SERVER_MAX_CLIENTS - 1, &id))
		return bad("bad ID '%s' in --id-socket (want 0..65535)", idtext);
	if (o->npins == MAX_ID_SOCKETS)
		return bad("too many --id-socket (at most %d)", MAX_ID_SOCKETS);
	for (unsigned int i = 0; i < o->npins; i++)
		if (o->pins[i].id == id)
			return bad("ID %lu given twice in --id-socket", id);
	p = &o->pins[o->npins];
	p->path = NULL;
	if (set_path(&p->path, eq + 1))
		return -1;
	p->id = (unsigned int)id;
	o->npins++;
	return 0;
}

int options_pin_ids(const struct options *o, struct ivsh_server *srv)
{
	char err[512];

	for (unsigned int i = 0; i < o->npins; i++) {
		const struct pinned_id *p = &o->pins[i];
		int rc;

		err[0] = '\0';
		rc = ivsh_server_pin_id(srv, p->id, p->path, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, PROG ": --id-socket %u=%s: %s\n", p->id,
				p->path, err[0] ? err : strerror(-rc));
			return -1;
		}
	}
	return 0;
}

int options_parse(struct options *o, int argc, char **argv)
{
	struct ivsh_server_conf *c = &o->conf;
	const char *shm_name = NULL;
	int sources = 0;
	unsigned long v;
	int opt;

	memset(o, 0, sizeof(*o));
	c->shm_size = DEFAULT_SIZE;
	c->vectors = 1;
	c->shm_kind = IVSH_SERVER_SHM_MEMFD;
	opterr = 0; /* our own one-line messages */

	while ((opt = getopt_long(argc, argv, ":S:l:n:m:M:Fp:vh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'S':
			if (!*optarg)
				return bad("empty socket path");
			if (set_path(&o->socket_path, optarg))
				return -1;
			break;
		case 'l':
			if (parse_size(optarg, &c->shm_size))
				return -1;
			break;
		case 'n':
			if (parse_uint(optarg, 1, IVSH_PROTO_MAX_VECTORS, &v))
				return bad("bad vector count '%s' (want 1..64)",
					   optarg);
			c->vectors = (unsigned int)v;
			break;
		case 'm':
			if (set_path(&o->shm_path_alloc, optarg))
				return -1;
			c->shm_kind = IVSH_SERVER_SHM_PATH;
			sources++;
			break;
		case 'M':
			shm_name = optarg;
			c->shm_kind = IVSH_SERVER_SHM_POSIX;
			sources++;
			break;
		case OPT_MEMFD:
			c->shm_kind = IVSH_SERVER_SHM_MEMFD;
			sources++;
			break;
		case 'F':
			o->foreground = true;
			break;
		case 'p':
			if (set_path(&o->pidfile, optarg))
				return -1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			o->help = true;
			break;
		case OPT_MAX_CLIENTS:
			if (parse_uint(optarg, 1, IVSH_SERVER_MAX_CLIENTS, &v))
				return bad("bad client limit '%s' (want 1..65536)",
					   optarg);
			c->max_clients = (unsigned int)v;
			break;
		case OPT_MODE: {
			char *end;

			errno = 0;
			v = strtoul(optarg, &end, 8);
			if (errno || *end || !*optarg || v > 07777 ||
			    *optarg == '-' || *optarg == '+')
				return bad("bad socket mode '%s' (want octal, e.g. 0660)",
					   optarg);
			c->socket_mode = (mode_t)v;
			c->set_mode = 1;
			break;
		}
		case OPT_GROUP:
			if (parse_group(optarg, &c->socket_group))
				return -1;
			c->set_group = 1;
			break;
		case OPT_MAX_QUEUED:
			if (parse_uint(optarg, 1, 1u << 24, &v))
				return bad("bad queue bound '%s' (want 1..16777216)",
					   optarg);
			c->max_queued = (unsigned int)v;
			break;
		case OPT_STALL_TIMEOUT:
			if (parse_uint(optarg, 1, 3600000, &v))
				return bad("bad stall timeout '%s' (want 1..3600000 ms)",
					   optarg);
			c->stall_timeout_ms = (unsigned int)v;
			break;
		case OPT_MAX_INFLIGHT:
			if (parse_uint(optarg, 1, 1u << 30, &v))
				return bad("bad descriptors-in-flight share '%s' (want 1..1073741824)",
					   optarg);
			c->max_inflight_per_user = (unsigned int)v;
			break;
		case OPT_SAFE_IDS:
			c->id_policy = IVSH_SERVER_IDS_SAFE;
			break;
		case OPT_ID_SOCKET:
			if (add_id_socket(o, optarg))
				return -1;
			break;
		case ':':
			return bad("option '%s' needs an argument",
				   argv[optind - 1]);
		default:
			return bad_option(argv[optind - 1]);
		}
	}
	if (o->help)
		return 0;
	if (optind < argc)
		return bad("unexpected argument '%s' (see --help)", argv[optind]);
	if (sources > 1)
		return bad("choose one of --memfd, --shm and --shm-dir");
	if (!o->socket_path && set_path(&o->socket_path, DEFAULT_SOCKET))
		return -1;
	c->socket_path = o->socket_path;
	if (c->shm_kind == IVSH_SERVER_SHM_POSIX)
		c->shm_name = shm_name;
	else if (c->shm_kind == IVSH_SERVER_SHM_PATH)
		c->shm_name = o->shm_path_alloc;
	return 0;
}

void options_free(struct options *o)
{
	free(o->socket_path);
	free(o->pidfile);
	free(o->shm_path_alloc);
	for (unsigned int i = 0; i < o->npins; i++)
		free(o->pins[i].path);
	o->npins = 0;
}
