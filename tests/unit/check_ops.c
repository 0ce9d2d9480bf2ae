/*
 * tests/unit/check_ops.c: xferlog lines, the sd_notify datagram and
 * LISTEN_FDS protocols, user lookup and how a reload rebuilds the
 * configuration (server/xferlog.c, sdnotify.c, privdrop.c, ops.c,
 * load.c).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <check.h>

#include "conf.h"
#include "err.h"
#include "ftpsd.h"
#include "load.h"
#include "ops.h"
#include "privdrop.h"
#include "sdnotify.h"
#include "xferlog.h"
#include "testutil.h"

Suite	*unit_suite(void);

static char	 tmpdir[] = "/tmp/check_ops.XXXXXX";

static void
tmp_setup(void)
{
	strcpy(tmpdir, "/tmp/check_ops.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	/* Every case runs in its own child: this only affects the case. */
	setenv("TZ", "UTC0", 1);
	tzset();
}


static void
tmp_teardown(void)
{
	tu_rmtree(tmpdir);
}

static struct xlog_rec
sample_rec(void)
{
	struct xlog_rec	 r;

	memset(&r, 0, sizeof(r));
	r.when = 1709557262;		/* Mon Mar  4 13:01:02 2024 UTC */
	r.secs = 2.6;
	r.host = "192.0.2.7";
	r.bytes = 10485760;
	r.path = "/pub/a b.iso";
	r.ascii = 0;
	r.incoming = 0;
	r.anonymous = 0;
	r.user = "alice";
	r.complete = 1;
	return r;
}

START_TEST(xferlog_line)
{
	struct xlog_rec	 r = sample_rec();
	char		 line[XLOG_LINE_MAX];
	int		 n;

	n = xlog_format(&r, line, sizeof(line));
	ck_assert_str_eq(line, "Mon Mar  4 13:01:02 2024 3 192.0.2.7 10485760 "
	    "/pub/a_b.iso b _ o r alice ftp 0 * c\n");
	ck_assert_int_eq(n, (int)strlen(line));

	/* An aborted anonymous ASCII upload that took no time at all. */
	r.secs = 0.01;
	r.ascii = 1;
	r.incoming = 1;
	r.anonymous = 1;
	r.user = "anonymous";
	r.complete = 0;
	r.bytes = 0;
	r.path = "/in/x";
	ck_assert_int_gt(xlog_format(&r, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "Mon Mar  4 13:01:02 2024 1 192.0.2.7 0 /in/x "
	    "a _ i a anonymous ftp 0 * i\n");
}
END_TEST

START_TEST(xferlog_escapes)
{
	struct xlog_rec	 r = sample_rec();
	char		 line[XLOG_LINE_MAX];
	char		*fields[32], *p, *save = NULL;
	int		 n = 0;

	/* SECURITY: a newline would forge a line, a blank a field. */
	r.path = "/a\nb\\c d\x7f\t\xc3\xa9";
	r.user = "";
	ck_assert_int_gt(xlog_format(&r, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "Mon Mar  4 13:01:02 2024 3 192.0.2.7 10485760 "
	    "/a\\x0ab\\x5cc_d\\x7f\\x09\xc3\xa9 b _ o r - ftp 0 * c\n");
	ck_assert_ptr_eq(strchr(line, '\n'), line + strlen(line) - 1);
	for (p = strtok_r(line, " \n", &save); p != NULL;
	    p = strtok_r(NULL, " \n", &save))
		fields[n++] = p;
	ck_assert_int_eq(n, 18);
	ck_assert_str_eq(fields[17], "c");
}
END_TEST

START_TEST(xferlog_too_long)
{
	struct xlog_rec	 r = sample_rec();
	char		 line[XLOG_LINE_MAX], small[40];
	char		*path;

	ck_assert_int_eq(xlog_format(&r, small, sizeof(small)), FTPS_ETOOBIG);
	/* Every byte escaped four times over still fits... */
	ck_assert_ptr_nonnull(path = malloc(FTPS_PATH_MAX));
	memset(path, '\n', FTPS_PATH_MAX - 1);
	path[FTPS_PATH_MAX - 1] = '\0';
	r.path = path;
	ck_assert_int_gt(xlog_format(&r, line, sizeof(line)), 0);
	free(path);
	/* ...a longer one is refused, never cut. */
	ck_assert_ptr_nonnull(path = malloc(FTPS_PATH_MAX * 5));
	memset(path, '\n', FTPS_PATH_MAX * 5 - 1);
	path[FTPS_PATH_MAX * 5 - 1] = '\0';
	r.path = path;
	ck_assert_int_eq(xlog_format(&r, line, sizeof(line)), FTPS_ETOOBIG);
	free(path);
}
END_TEST

START_TEST(xferlog_file)
{
	struct xlog_rec	 r = sample_rec();
	char		 path[PATH_MAX], link[PATH_MAX], buf[1024];
	struct stat	 st;
	ssize_t		 n;
	int		 fd, fd2;

	snprintf(path, sizeof(path), "%s/xferlog", tmpdir);
	umask(022);
	ck_assert_int_eq(xlog_open(path, &fd), 0);
	ck_assert_int_eq(xlog_open(path, &fd2), 0);
	ck_assert_int_eq(xlog_write(fd, &r), 0);
	r.complete = 0;
	ck_assert_int_eq(xlog_write(fd2, &r), 0);
	ck_assert_int_eq(xlog_write(-1, &r), 0);
	close(fd);
	close(fd2);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	/* Two writers, two whole lines (O_APPEND). */
	ck_assert_str_eq(buf,
	    "Mon Mar  4 13:01:02 2024 3 192.0.2.7 10485760 /pub/a_b.iso b _ o "
	    "r alice ftp 0 * c\n"
	    "Mon Mar  4 13:01:02 2024 3 192.0.2.7 10485760 /pub/a_b.iso b _ o "
	    "r alice ftp 0 * i\n");

	/* A symlink planted at the path is not followed. */
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(xlog_open(link, &fd), FTPS_ESYS);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(fd, -1);
}
END_TEST

/* A fake service manager socket at path (or "@name"); returns its fd. */
static int
notify_listener(const char *name)
{
	struct sockaddr_un	 sun;
	socklen_t		 sl;
	size_t			 len = strlen(name);
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_DGRAM, 0), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sl), 0);
	return fd;
}

static void
notify_round_trip(const char *name)
{
	char	 buf[256];
	ssize_t	 n;
	int	 lfd, fd;

	lfd = notify_listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(sdn_open(&fd, stderr), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
	ck_assert_int_eq(sdn_send(fd, "READY=1\nSTATUS=%s", "Ready"), 0);
	ck_assert_int_eq(sdn_send(fd, "STOPPING=1"), 0);
	n = recv(lfd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "READY=1\nSTATUS=Ready");
	n = recv(lfd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "STOPPING=1");
	close(fd);
	close(lfd);
}

START_TEST(notify_path_and_abstract)
{
	char	 path[PATH_MAX], abs[64];

	snprintf(path, sizeof(path), "%s/notify", tmpdir);
	notify_round_trip(path);
	snprintf(abs, sizeof(abs), "@check_ops.%ld", (long)getpid());
	notify_round_trip(abs);
}
END_TEST

START_TEST(notify_absent_or_bad)
{
	char	 path[PATH_MAX];
	int	 fd = 7;

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(sdn_open(&fd, stderr), 0);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(sdn_send(-1, "READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ck_assert_int_eq(sdn_open(&fd, stderr), FTPS_EPARSE);
	snprintf(path, sizeof(path), "%s/nobody-listens", tmpdir);
	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_int_eq(sdn_open(&fd, stderr), FTPS_ESYS);
	ck_assert_int_eq(fd, -1);
}
END_TEST

/*
 * LISTEN_FDS sockets start at fd 3, which Check itself may use: each
 * scenario runs in a child of its own that reports through its exit
 * status (0 = as expected, else the number of the failed step).
 */
static int
listen_child(const char *pid, const char *nfds, const char *names,
    int kind, int want_r, int want_n, const char *want_name)
{
	struct sockaddr_in	 sin;
	struct sdn_socket	 socks[4];
	char			 pidbuf[32];
	pid_t			 child;
	int			 st, fd, n = -1, r;
	FILE			*devnull;

	if ((child = fork()) == -1)
		return -1;
	if (child > 0) {
		if (waitpid(child, &st, 0) == -1 || !WIFEXITED(st))
			return -1;
		return WEXITSTATUS(st);
	}
	/* kind: 0 listening TCP, 1 unconnected TCP, 2 a pipe. */
	if (kind == 2) {
		int	 p[2];

		if (pipe(p) == -1)
			_exit(10);
		fd = p[0];
	} else {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			_exit(10);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (kind == 0 && (bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == -1 || listen(fd, 1) == -1))
			_exit(11);
	}
	if (fd != SDN_LISTEN_FDS_START &&
	    (dup2(fd, SDN_LISTEN_FDS_START) == -1 || close(fd) == -1))
		_exit(12);
	if (pid == NULL) {
		snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)getpid());
		pid = pidbuf;
	}
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", nfds, 1);
	if (names != NULL)
		setenv("LISTEN_FDNAMES", names, 1);
	else
		unsetenv("LISTEN_FDNAMES");
	devnull = fopen("/dev/null", "w");
	r = sdn_listen_fds(socks, 4, &n, devnull != NULL ? devnull : stderr);
	if (r != want_r)
		_exit(20);
	if (n != want_n)
		_exit(21);
	if (getenv("LISTEN_PID") != NULL || getenv("LISTEN_FDS") != NULL ||
	    getenv("LISTEN_FDNAMES") != NULL)
		_exit(22);
	if (want_n > 0) {
		if (socks[0].fd != SDN_LISTEN_FDS_START)
			_exit(23);
		if (strcmp(socks[0].name, want_name) != 0)
			_exit(24);
		if (fcntl(SDN_LISTEN_FDS_START, F_GETFD) != FD_CLOEXEC)
			_exit(25);
	}
	_exit(0);
}

START_TEST(listen_fds)
{
	/* Named, unnamed, meant for another process, none. */
	ck_assert_int_eq(listen_child(NULL, "1", "explicit", 0, 0, 1,
	    "explicit"), 0);
	ck_assert_int_eq(listen_child(NULL, "1", NULL, 0, 0, 1, ""), 0);
	ck_assert_int_eq(listen_child("1", "1", "explicit", 0, 0, 0, ""), 0);
	ck_assert_int_eq(listen_child(NULL, "0", NULL, 0, 0, 0, ""), 0);
	/* Not listening, not a socket, malformed. */
	ck_assert_int_eq(listen_child(NULL, "1", NULL, 1, FTPS_EDENIED, 0,
	    ""), 0);
	ck_assert_int_eq(listen_child(NULL, "1", NULL, 2, FTPS_EDENIED, 0,
	    ""), 0);
	ck_assert_int_eq(listen_child(NULL, "x", NULL, 0, FTPS_EPARSE, 0,
	    ""), 0);
	ck_assert_int_eq(listen_child("12ab", "1", NULL, 0, FTPS_EPARSE, 0,
	    ""), 0);
	ck_assert_int_eq(listen_child(NULL, "5", NULL, 0, FTPS_EPARSE, 0,
	    ""), 0);
}
END_TEST

START_TEST(users)
{
	struct conf	 cf;
	uid_t		 uid = 5;
	gid_t		 gid = 5;
	FILE		*devnull;

	ck_assert_int_eq(priv_lookup("root", &uid, &gid), 0);
	ck_assert_uint_eq(uid, 0);
	ck_assert_uint_eq(gid, 0);
	ck_assert_int_eq(priv_lookup("no-such-user-zq9", &uid, &gid),
	    FTPS_ENOENT);
	ck_assert_ptr_nonnull(devnull = fopen("/dev/null", "w"));
	ck_assert_int_eq(conf_init(&cf), 0);
	ck_assert_int_eq(conf_set(&cf, "run_as_user", "root", "-o", 0, NULL),
	    0);
	/* As root, serving as root needs allow_root; as anyone else, -t
	 * has nothing to switch and nothing to refuse. */
	ck_assert_int_eq(priv_check(&cf, devnull),
	    geteuid() == 0 ? FTPS_EDENIED : 0);
	cf.allow_root = 1;
	ck_assert_int_eq(priv_check(&cf, devnull), 0);
	ck_assert_int_eq(conf_set(&cf, "run_as_user", "no-such-user-zq9",
	    "-o", 0, NULL), 0);
	ck_assert_int_eq(priv_check(&cf, devnull),
	    geteuid() == 0 ? FTPS_EDENIED : 0);
	ck_assert_int_eq(conf_set(&cf, "run_as_user", "-x", "-o", 0, devnull),
	    FTPS_EPARSE);
	conf_free(&cf);
	fclose(devnull);
}
END_TEST

/* A reload rebuilds -o as it was meant at start, whatever the cwd then. */
START_TEST(remember_overrides)
{
	struct ftpsd	 ctx;
	const char	*ov[] = { " users_file = rel/users ", "idle_timeout=7",
			    "log_debug=yes" };
	char		 cwd[PATH_MAX], want[PATH_MAX + 64];
	size_t		 i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.notify_fd = ctx.xferlog_fd = -1;
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(conf_init(&ctx.conf), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(conf_set_arg(&ctx.conf, ov[i], stderr), 0);
	ck_assert_int_eq(ops_remember(&ctx, "sub/ftpsd.conf", NULL, 0), 0);
	ck_assert_int_eq(ops_remember(&ctx, NULL, ov, 3), 0);
	snprintf(want, sizeof(want), "%s/sub/ftpsd.conf", cwd);
	ck_assert_str_eq(ctx.conffile, want);
	ck_assert_str_eq(ops_conffile(&ctx), want);
	ck_assert_int_eq(ctx.noverrides, 3);
	snprintf(want, sizeof(want), "users_file=%s/rel/users", cwd);
	ck_assert_str_eq(ctx.overrides[0], want);
	ck_assert_str_eq(ctx.overrides[1], "idle_timeout=7");
	ck_assert_str_eq(ctx.overrides[2], "log_debug=on");
	ck_assert_int_eq(chdir("/"), 0);
	ops_free(&ctx);
	conf_free(&ctx.conf);
	ck_assert_ptr_null(ctx.conffile);
	ck_assert_ptr_null(ctx.overrides);
}
END_TEST

/* Writes text to tmpdir/name; the path in path. */
static void
put_file(const char *name, const char *text, char *path, size_t len)
{
	FILE	*f;

	snprintf(path, len, "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * The one loader as a reload runs it (load.c): a complete new state
 * swapped in, the restart-only keys kept, and a bad file refused with
 * its FILE:LINE message and nothing swapped.
 */
START_TEST(loader_reload)
{
	static const char	 base[] = "tls = off\ndata_tls = optional\n"
	    "anonymous = on\nusers_file = missing\n";
	struct ftpsd		 ctx;
	struct load_state	 ls;
	char			 path[PATH_MAX], text[PATH_MAX + 256];
	char			*err = NULL;
	size_t			 errlen = 0;
	FILE			*ef, *uf;

	memset(&ctx, 0, sizeof(ctx));
	ctx.xferlog_fd = -1;
	ck_assert_int_eq(conf_init(&ctx.conf), 0);
	ck_assert_int_eq(conf_set(&ctx.conf, "tls", "off", "-o", 0, NULL), 0);
	ck_assert_int_eq(conf_set(&ctx.conf, "anonymous_root", tmpdir, "-o",
	    0, NULL), 0);
	ck_assert_ptr_nonnull(ef = open_memstream(&err, &errlen));
	ck_assert_ptr_nonnull(uf = fopen("/dev/null", "w"));

	/* A good file: applied, except the port only a restart applies. */
	snprintf(text, sizeof(text), "%sanonymous_root = %s\n"
	    "idle_timeout = 77\nexplicit_port = 2121\n", base, tmpdir);
	put_file("good.conf", text, path, sizeof(path));
	ck_assert_int_eq(load_state(&ctx, path, NULL, 0, LOAD_RELOAD, &ls,
	    ef, uf), 0);
	ck_assert_uint_eq(ls.conf.idle_timeout, 77);
	ck_assert_uint_eq(ls.conf.explicit_port, 21);
	ck_assert_ptr_null(ls.ssl_ctx);
	ck_assert_ptr_null(ls.users);		/* anonymous only */
	load_swap(&ctx, &ls);
	ck_assert_uint_eq(ctx.conf.idle_timeout, 77);
	ck_assert_uint_eq(ls.conf.idle_timeout, 300);	/* the old state */
	load_free(&ls);
	ck_assert_int_eq(ls.xferlog_fd, -1);

	/* A bad line: every problem named, FILE:LINE. */
	snprintf(text, sizeof(text), "%sanonymous_root = %s\n"
	    "idle_timeout = soon\n", base, tmpdir);
	put_file("bad.conf", text, path, sizeof(path));
	ck_assert_int_gt(load_state(&ctx, path, NULL, 0, LOAD_RELOAD, &ls,
	    ef, uf), 0);
	load_free(&ls);
	/* Switching TLS on needs a restart. */
	put_file("tls.conf", "tls = required\n", text, sizeof(text));
	ck_assert_int_gt(load_state(&ctx, text, NULL, 0, LOAD_RELOAD, &ls,
	    ef, uf), 0);
	load_free(&ls);
	ck_assert_int_eq(fflush(ef), 0);
	snprintf(text, sizeof(text), "%s:6: idle_timeout: \"soon\" is not a "
	    "number from 1 to 86400\ntls: switching to or from off needs a "
	    "restart\n", path);
	ck_assert_str_eq(err, text);
	ck_assert_uint_eq(ctx.conf.idle_timeout, 77);	/* untouched */
	fclose(ef);
	fclose(uf);
	free(err);
	conf_free(&ctx.conf);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("ops");
	TCase	*tc;

	tc = tcase_create("xferlog");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, xferlog_line);
	tcase_add_test(tc, xferlog_escapes);
	tcase_add_test(tc, xferlog_too_long);
	tcase_add_test(tc, xferlog_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("sdnotify");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, notify_path_and_abstract);
	tcase_add_test(tc, notify_absent_or_bad);
	tcase_add_test(tc, listen_fds);
	suite_add_tcase(s, tc);

	tc = tcase_create("privdrop");
	tcase_add_test(tc, users);
	suite_add_tcase(s, tc);

	tc = tcase_create("reload");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, remember_overrides);
	tcase_add_test(tc, loader_reload);
	suite_add_tcase(s, tc);
	return s;
}
