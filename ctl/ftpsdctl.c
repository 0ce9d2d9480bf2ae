/*
 * ftpsdctl: talks to a running ftpsd through its control socket
 * (server/ctl.h has the protocol, ftpsdctl(8) the commands).  The answer
 * is printed as a table, or with --json as JSON; every failure is one
 * line on stderr and a non-zero exit: 1 for what the daemon refused,
 * 2 for usage, 3 when the daemon cannot be reached.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ops.h"

#define CTL_TIMEOUT_MS	40000	/* reload waits up to 30 s server-side */
#define CTL_ANSWER_MAX	(8u * 1024 * 1024)
#define FIELDS_MAX	32

/* Fields printed as JSON numbers. */
static const char *const numeric[] = {
	"id", "worker", "pid", "sessions", "idle", "bytes", "secs", "rate",
	"started", "uptime", "workers", "config_loaded", "reloads",
	"reload_at", "left", "kicked", NULL
};

struct rec {
	int	 n;
	char	*key[FIELDS_MAX], *val[FIELDS_MAX];
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ftpsdctl [-s SOCKET] [--json] COMMAND\n"
	    "  status            version, uptime, workers, sessions, last "
	    "reload\n"
	    "  who               sessions: user, address, TLS, transfer\n"
	    "  kick ID           end session ID (426 for a transfer, then "
	    "421)\n"
	    "  ban list          addresses banned for failed logins\n"
	    "  ban remove ADDR   lift the ban of ADDR\n"
	    "  reload            reload the configuration; waits for the "
	    "result\n"
	    "  metrics           the Prometheus metrics\n"
	    "  -s SOCKET  the control socket (default: control_socket of %s,"
	    "\n             else %s)\n"
	    "  --json     JSON instead of a table\n", FTPS_DEFAULT_CONF,
	    FTPS_CONTROL_SOCKET);
}

/*
 * control_socket of the default ftpsd.conf, when it is readable, into
 * buf; NULL when it is empty (no socket) or too long.
 */
static const char *
default_socket(char *buf, size_t len)
{
	struct conf	 cf;
	FILE		*devnull;
	const char	*p = NULL;

	if (conf_init(&cf) != 0)
		return NULL;
	if (access(FTPS_DEFAULT_CONF, R_OK) == 0 &&
	    (devnull = fopen("/dev/null", "w")) != NULL) {
		if (conf_load(&cf, FTPS_DEFAULT_CONF, devnull) != 0) {
			conf_free(&cf);
			(void)conf_init(&cf);
		}
		(void)fclose(devnull);
	}
	if (cf.control_socket != NULL &&
	    (size_t)snprintf(buf, len, "%s", cf.control_socket) < len)
		p = buf;
	conf_free(&cf);
	return p;
}

/* Sends the request, reads the whole answer; exits on failure. */
static char *
ask(const char *path, const char *req)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			*ans = NULL, *n;
	size_t			 len = 0, cap = 0;
	ssize_t			 r;
	int			 fd, left = CTL_TIMEOUT_MS;
	struct timespec		 t0, t1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "ftpsdctl: %s: socket path too long\n", path);
		exit(2);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "ftpsdctl: socket: %s\n", strerror(errno));
		exit(3);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EACCES || errno == EPERM)
			fprintf(stderr, "ftpsdctl: %s: permission denied (root "
			    "and the group of ftpsd's run_as_user may use "
			    "it)\n", path);
		else if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr, "ftpsdctl: %s: ftpsd is not running "
			    "(%s)\n", path, strerror(errno));
		else
			fprintf(stderr, "ftpsdctl: %s: %s\n", path,
			    strerror(errno));
		exit(3);
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
	    write(fd, "\n", 1) != 1) {
		fprintf(stderr, "ftpsdctl: %s: %s\n", path, strerror(errno));
		exit(3);
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((r = poll(&pfd, 1, left)) == 0) {
			fprintf(stderr, "ftpsdctl: %s: no answer within %d s\n",
			    path, CTL_TIMEOUT_MS / 1000);
			exit(3);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left -= (int)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left < 1)
			left = 1;
		if (r == -1 && errno == EINTR)
			continue;
		if (cap - len < 65536) {
			if (cap >= CTL_ANSWER_MAX ||
			    (n = realloc(ans, cap + 65536 + 1)) == NULL) {
				fprintf(stderr, "ftpsdctl: answer too large\n");
				exit(3);
			}
			ans = n;
			cap += 65536;
		}
		if ((r = read(fd, ans + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "ftpsdctl: %s: %s\n", path,
			    strerror(errno));
			exit(3);
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len == 0) {
		fprintf(stderr, "ftpsdctl: %s: the daemon closed the "
		    "connection without an answer\n", path);
		exit(3);
	}
	ans[len] = '\0';
	return ans;
}

/* Splits one record line in place and unescapes its values. */
static void
parse_rec(char *line, struct rec *r)
{
	char	*f, *eq, *p, *q;

	r->n = 0;
	while ((f = strsep(&line, "\t")) != NULL && r->n < FIELDS_MAX) {
		if ((eq = strchr(f, '=')) == NULL)
			continue;
		*eq = '\0';
		for (p = q = eq + 1; *p != '\0'; p++, q++) {
			if (*p == '\\' && p[1] != '\0') {
				p++;
				*q = (char)(*p == 't' ? '\t' : *p == 'n' ?
				    '\n' : *p == 'r' ? '\r' : *p);
			} else
				*q = *p;
		}
		*q = '\0';
		r->key[r->n] = f;
		r->val[r->n] = eq + 1;
		r->n++;
	}
}

static const char *
get(const struct rec *r, const char *key)
{
	int	 i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return r->val[i];
	return "";
}

static int
is_numeric(const char *key, const char *v)
{
	int	 i;

	if (*v == '\0' || strspn(v, "0123456789.-") != strlen(v))
		return 0;
	for (i = 0; numeric[i] != NULL; i++)
		if (strcmp(numeric[i], key) == 0)
			return 1;
	return 0;
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void
json_rec(const struct rec *r)
{
	int	 i;

	putchar('{');
	for (i = 0; i < r->n; i++) {
		if (i > 0)
			putchar(',');
		json_str(r->key[i]);
		putchar(':');
		if (is_numeric(r->key[i], r->val[i]))
			fputs(r->val[i], stdout);
		else
			json_str(r->val[i]);
	}
	putchar('}');
}

static const char *
human_bytes(const char *v, char *buf, size_t len)
{
	double		 b = strtod(v, NULL);
	const char	*u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int		 i = 0;

	while (b >= 1024 && i < 4) {
		b /= 1024;
		i++;
	}
	snprintf(buf, len, i == 0 ? "%.0f %s" : "%.1f %s", b, u[i]);
	return buf;
}

static void
print_who(struct rec *recs, int n)
{
	char	 b1[32], b2[32], xfer[600];
	int	 i, hosts = 0;

	/* HOST only where [host] sections put sessions on named hosts. */
	for (i = 0; i < n; i++)
		if (*get(&recs[i], "host") != '\0')
			hosts = 1;
	printf("%-6s %-3s %-16s %-22s ", "ID", "W", "USER", "ADDRESS");
	if (hosts)
		printf("%-24s ", "HOST");
	printf("%-8s %-8s %-7s %5s  %s\n", "PORT", "TLS", "STATE", "IDLE",
	    "TRANSFER");
	for (i = 0; i < n; i++) {
		if (*get(&recs[i], "note") != '\0') {
			printf("# %s\n", get(&recs[i], "note"));
			continue;
		}
		if (*get(&recs[i], "xfer") != '\0')
			snprintf(xfer, sizeof(xfer), "%s %s %s at %s/s",
			    get(&recs[i], "xfer"), get(&recs[i], "path"),
			    human_bytes(get(&recs[i], "bytes"), b1,
			    sizeof(b1)), human_bytes(get(&recs[i], "rate"), b2,
			    sizeof(b2)));
		else
			snprintf(xfer, sizeof(xfer), "-");
		printf("%-6s %-3s %-16s %-22s ", get(&recs[i], "id"),
		    get(&recs[i], "worker"),
		    *get(&recs[i], "user") ? get(&recs[i], "user") : "-",
		    get(&recs[i], "addr"));
		if (hosts)
			printf("%-24s ", *get(&recs[i], "host") ?
			    get(&recs[i], "host") : "(default)");
		printf("%-8s %-8s %-7s %5s  %s\n", get(&recs[i], "port"),
		    get(&recs[i], "tls"), get(&recs[i], "state"),
		    get(&recs[i], "idle"), xfer);
	}
}

static void
print_status(struct rec *recs, int n)
{
	const struct rec	*r = &recs[0];
	struct tm		 tm;
	time_t			 t;
	char			 when[64];
	int			 i;

	printf("ftpsd %s, pid %s, up %s s\n", get(r, "version"),
	    get(r, "pid"), get(r, "uptime"));
	t = (time_t)strtoll(get(r, "config_loaded"), NULL, 10);
	if (strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z",
	    localtime_r(&t, &tm)) == 0)
		when[0] = '\0';
	printf("configuration loaded: %s\n", when);
	if (strcmp(get(r, "reload"), "none") == 0)
		printf("last reload: none\n");
	else {
		t = (time_t)strtoll(get(r, "reload_at"), NULL, 10);
		if (strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z",
		    localtime_r(&t, &tm)) == 0)
			when[0] = '\0';
		printf("last reload: %s at %s: %s\n", get(r, "reload"), when,
		    get(r, "reload_detail"));
	}
	printf("workers: %s\nsessions: %s\n", get(r, "workers"),
	    get(r, "sessions"));
	for (i = 1; i < n; i++) {
		if (*get(&recs[i], "note") != '\0')
			printf("  # %s\n", get(&recs[i], "note"));
		else
			printf("  worker %s: pid %s, %s sessions\n",
			    get(&recs[i], "worker"), get(&recs[i], "pid"),
			    get(&recs[i], "sessions"));
	}
}

static void
print_bans(struct rec *recs, int n)
{
	int	 i;

	printf("%-44s %s\n", "ADDRESS", "SECONDS LEFT");
	for (i = 0; i < n; i++)
		printf("%-44s %s\n", get(&recs[i], "addr"),
		    get(&recs[i], "left"));
}

/* Prints the answer to req; the exit status. */
static int
answer(const char *cmd, const char *req, char *ans, const char *sock,
    int json)
{
	struct rec	*recs = NULL, *more;
	char		*body, *line, *v;
	int		 i, j, n = 0, cap = 0;

	if (strncmp(ans, "ERR ", 4) == 0) {
		ans[strcspn(ans, "\n")] = '\0';
		fprintf(stderr, "ftpsdctl: %s\n", ans + 4);
		return 1;
	}
	if (strncmp(ans, "OK\n", 3) != 0) {
		fprintf(stderr, "ftpsdctl: %s: not an ftpsd control socket "
		    "(unexpected answer)\n", sock);
		return 3;
	}
	body = ans + 3;
	if (strcmp(cmd, "metrics") == 0) {
		if (json) {
			printf("{\"metrics\":");
			json_str(body);
			printf("}\n");
		} else
			fputs(body, stdout);
		return 0;
	}
	while ((line = strsep(&body, "\n")) != NULL) {
		if (*line == '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((more = reallocarray(recs, (size_t)cap,
			    sizeof(*recs))) == NULL) {
				fprintf(stderr, "ftpsdctl: out of memory\n");
				free(recs);
				return 3;
			}
			recs = more;
		}
		parse_rec(line, &recs[n++]);
	}
	/*
	 * SECURITY: values come from clients too (a transfer's path): a
	 * table on the administrator's terminal shows control bytes as '?'
	 * rather than let them act as escape sequences (JSON escapes them).
	 */
	if (!json)
		for (i = 0; i < n; i++)
			for (j = 0; j < recs[i].n; j++)
				for (v = recs[i].val[j]; *v != '\0'; v++)
					if ((unsigned char)*v < 0x20 ||
					    *v == 0x7f)
						*v = '?';
	if (json && strcmp(cmd, "status") == 0 && n > 0) {
		printf("{\"status\":");
		json_rec(&recs[0]);
		printf(",\"processes\":[");
		for (i = 1; i < n; i++) {
			if (i > 1)
				putchar(',');
			json_rec(&recs[i]);
		}
		printf("]}\n");
	} else if (json) {
		if (strcmp(cmd, "who") == 0 || strcmp(cmd, "ban") == 0 ||
		    n != 1) {
			putchar('[');
			for (i = 0; i < n; i++) {
				if (i > 0)
					putchar(',');
				json_rec(&recs[i]);
			}
			putchar(']');
		} else
			json_rec(&recs[0]);
		putchar('\n');
	} else if (strcmp(cmd, "who") == 0)
		print_who(recs, n);
	else if (strcmp(cmd, "status") == 0 && n > 0)
		print_status(recs, n);
	else if (strcmp(cmd, "ban") == 0 && strcmp(req, "ban list") == 0)
		print_bans(recs, n);
	else if (strcmp(cmd, "kick") == 0 && n > 0)
		printf("session %s kicked\n", get(&recs[0], "kicked"));
	else if (strcmp(cmd, "ban") == 0 && n > 0)
		printf("ban of %s lifted\n", get(&recs[0], "removed"));
	else if (strcmp(cmd, "reload") == 0 && n > 0)
		printf("reload ok: %s\n", get(&recs[0], "detail"));
	free(recs);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char		 req[512], sockbuf[512], *ans;
	const char	*sock = NULL;
	int		 ch, json = 0, i, rc;
	size_t		 off = 0;
	const char	*cmd;

	while ((ch = getopt_long(argc, argv, "+s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	req[0] = '\0';
	for (i = optind; i < argc; i++) {
		if (strchr(argv[i], '\n') != NULL || strlen(argv[i]) + off +
		    2 > sizeof(req)) {
			fprintf(stderr, "ftpsdctl: command too long or with a "
			    "newline\n");
			return 2;
		}
		off += (size_t)snprintf(req + off, sizeof(req) - off, "%s%s",
		    i > optind ? " " : "", argv[i]);
	}
	if (sock == NULL && (sock = default_socket(sockbuf,
	    sizeof(sockbuf))) == NULL) {
		fprintf(stderr, "ftpsdctl: no control socket: control_socket "
		    "is empty in %s; give one with -s\n", FTPS_DEFAULT_CONF);
		return 2;
	}
	ans = ask(sock, req);
	rc = answer(cmd, req, ans, sock, json);
	free(ans);
	return rc;
}
