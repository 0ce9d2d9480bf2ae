/*
 * fuzz_cmd: a client's byte stream through a real session: the bounded
 * line reader, Telnet stripping, the command table's gate and every
 * handler, over a loopback TCP connection whose far end is this harness.
 * The first input byte picks the starting state:
 *   bits 0-1  0 not logged in, 1 user "ann" rw, 2 "ann" read-only,
 *             3 anonymous (read-only)
 *   bit 2     tls = required (else optional)
 *   bit 3     data_tls = required (else optional)
 *   bit 4     as after AUTH TLS + PBSZ 0 + PROT P (flags only)
 *   bit 5     strict: one line at a time, each answered exactly once
 * The rest is what the client sends.  Invariants:
 * - the reply stream is well formed (RFC 959 4.2): "ddd text" lines or
 *   "ddd-" ... "ddd text" blocks whose inner lines start with a blank, so
 *   no name echoed in a listing can pose as a reply; it starts with 220;
 * - strict mode: a command line gets exactly one final reply unless the
 *   session is busy (a password check, the failed-login delay, a file
 *   command on the I/O pool for too long, a waiting transfer, closing),
 *   and then at most one (two during a transfer:
 *   ABOR's 426 and 226); at most one 1xx;
 * - SECURITY: nothing answers in plaintext after "234" (AUTH TLS): the
 *   rest of the input is discarded, never run (STARTTLS injection);
 * - SECURITY: nothing outside the user's root is created, changed or
 *   removed (the root holds a relative and an absolute symlink to a
 *   folder beside it), and no ".ftpsd-upload." temporary file outlives
 *   its session;
 * - no descriptor outlives the session.
 * The fixtures hold no link to /etc: this harness can write, and a
 * confinement bug must hit the sacrificial BASE/outside, not the system
 * (fuzz_path covers links to /etc, read-only).
 * The control peer's address is not an IP address, so every PORT/EPRT is
 * refused as a bounce: the harness never connects anywhere (PORT/EPRT
 * parsing has fuzz_ftpaddr).  PASV listens on 127.0.0.1 only.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "auth.h"
#include "authpool.h"
#include "cmd.h"
#include "conf.h"
#include "ftpsd.h"
#include "fuzz.h"
#include "iopool.h"
#include "log.h"
#include "parse.h"
#include "session.h"
#include "vfs.h"

#define FC_MODE_LOGIN	0x03
#define FC_MODE_TLSREQ	0x04
#define FC_MODE_DATAREQ	0x08
#define FC_MODE_PROT	0x10
#define FC_MODE_STRICT	0x20

#define FC_PUMPS	4		/* loop turns to flush one exchange */
#define FC_AUTH_WAIT_MS	500		/* for ann's (cheap) password check
					 * and a file command on the pool */
#define FC_OUT_MAX	(1024 * 1024)	/* replies kept per input */
#define FC_TREE_MAX	8192		/* a tree's fingerprint */
#define FC_SPIN_MS	500		/* one nonblocking turn, at most */

/* sha512crypt, rounds=1000, of "secret": a check takes about 1 ms. */
#define FC_ANN_HASH	"$6$rounds=1000$saltsaltsalt$eX3bxJXT3.ujpABOqZ7ph4r9" \
			"D9Fn0.qoDqJgZU6cTq8xPfk2.Fmq2bf1GgjAlb6X1QXE7sMOtwZRTx" \
			"jI1OZvT1"

static struct ftpsd	 fc_ctx;
static char		 fc_base[PATH_MAX];	/* BASE/root, BASE/outside */
static char		 fc_root[PATH_MAX];
static char		 fc_outside[PATH_MAX];
static char		 fc_root_print[FC_TREE_MAX];
static char		 fc_outside_print[FC_TREE_MAX];
static struct sockaddr_in fc_laddr;
static int		 fc_lfd = -1;
static struct event	*fc_watchdog;
static int		 fc_spun;

/* What the client read back for one input. */
struct fc_out {
	char	*buf;
	size_t	 len;
};

static void
fc_path(char *p, const char *rel)
{
	int	 n;

	n = snprintf(p, PATH_MAX, "%s/%s", fc_base, rel);
	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "%s/%s: path too long\n", fc_base, rel);
		abort();
	}
}

static void
fc_mkfile(const char *rel, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*fp;

	fc_path(path, rel);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) != 0) {
		perror(path);
		abort();
	}
}

static int
fc_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

/*
 * BASE/outside/secret		what no command may touch
 * BASE/root/			the user's home:
 *   file  a/file  a/b/  empty/  etc/passwd (a decoy)  say "hi"
 *   to_out -> ../outside   to_abs -> BASE/outside   to_a -> a
 *   loop -> loop
 */
static void
fc_make_root(void)
{
	const char		*links[][2] = {
		{ "../outside", "root/to_out" }, { fc_outside, "root/to_abs" },
		{ "a", "root/to_a" }, { "loop", "root/loop" },
	};
	static const char	*dirs[] = { "root", "root/a", "root/a/b",
				    "root/empty", "root/etc" };
	char			 p[PATH_MAX];
	size_t			 i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		fc_path(p, dirs[i]);
		if (mkdir(p, 0755) == -1) {
			perror(p);
			abort();
		}
	}
	fc_mkfile("root/file", "0123456789\n");
	fc_mkfile("root/a/file", "a/file\n");
	fc_mkfile("root/etc/passwd", "decoy:x:0:0::/:/bin/false\n");
	fc_mkfile("root/say \"hi\"", "quoted\n");
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		fc_path(p, links[i][1]);
		if (symlink(links[i][0], p) == -1) {
			perror(p);
			abort();
		}
	}
}

/* One line per entry of a tree: path, type, size or link target. */
static char	*fc_print_buf;
static size_t	 fc_print_len;
static size_t	 fc_print_skip;

static int
fc_print_cb(const char *path, const struct stat *st, int flag,
    struct FTW *f)
{
	char	 target[PATH_MAX];
	ssize_t	 n;
	int	 w;

	target[0] = '\0';
	if (S_ISLNK(st->st_mode) &&
	    (n = readlink(path, target, sizeof(target) - 1)) >= 0)
		target[n] = '\0';
	w = snprintf(fc_print_buf + fc_print_len, FC_TREE_MAX - fc_print_len,
	    "%s %o %lld %s\n", path + fc_print_skip,
	    (unsigned)(st->st_mode & S_IFMT), S_ISREG(st->st_mode) ?
	    (long long)st->st_size : 0LL, target);
	if (w < 0 || (size_t)w >= FC_TREE_MAX - fc_print_len)
		return 1;	/* too much: differs from any fixture */
	fc_print_len += (size_t)w;
	return 0;
}

/* The fingerprint of dir into out; 0, or 1 when it does not fit. */
static int
fc_print(const char *dir, char *out)
{
	fc_print_buf = out;
	fc_print_len = 0;
	fc_print_skip = strlen(dir);
	out[0] = '\0';
	return nftw(dir, fc_print_cb, 16, FTW_PHYS) != 0;
}

static void
fc_cleanup(void)
{
	if (fc_base[0] != '\0')
		nftw(fc_base, fc_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	fc_base[0] = '\0';
}

static void
fc_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	fc_spun = 1;
	event_base_loopbreak(fc_ctx.base);
}

static void
fc_setup(void)
{
	static char	 users[PATH_MAX];
	const char	*tmp;
	socklen_t	 sl = sizeof(fc_laddr);
	FILE		*fp;

	log_init("fuzz_cmd", LOG_DEST_STDERR, LOG_LVL_ERR);
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (snprintf(fc_base, sizeof(fc_base), "%s/fuzz_cmd.XXXXXX", tmp) >=
	    (int)sizeof(fc_base) || mkdtemp(fc_base) == NULL) {
		perror(fc_base);
		abort();
	}
	atexit(fc_cleanup);
	fuzz_fail_hook = fc_cleanup;
	fc_path(fc_outside, "outside");
	if (mkdir(fc_outside, 0755) == -1) {
		perror(fc_outside);
		abort();
	}
	fc_mkfile("outside/secret", "outside the root\n");
	fc_make_root();
	fc_path(fc_root, "root");
	if (fc_print(fc_root, fc_root_print) != 0 ||
	    fc_print(fc_outside, fc_outside_print) != 0)
		abort();

	/* The daemon's context, as main.c builds it, minus the listeners. */
	memset(&fc_ctx, 0, sizeof(fc_ctx));
	TAILQ_INIT(&fc_ctx.listeners);
	TAILQ_INIT(&fc_ctx.sessions);
	TAILQ_INIT(&fc_ctx.reaps);
	fc_ctx.xferlog_fd = -1;
	FUZZ_CHECK(conf_init(&fc_ctx.conf) == 0);
	fc_ctx.conf.anonymous = 1;
	FUZZ_CHECK((fc_ctx.conf.anonymous_root = strdup(fc_root)) != NULL);
	fc_ctx.conf.pasv_min_port = 50000;
	fc_ctx.conf.pasv_max_port = 59999;
	FUZZ_CHECK((fc_ctx.base = event_base_new()) != NULL);
	FUZZ_CHECK((fc_ctx.ssl_ctx = SSL_CTX_new(TLS_server_method())) !=
	    NULL);
	fc_path(users, "users");
	FUZZ_CHECK((fp = fopen(users, "w")) != NULL);
	fprintf(fp, "ann:%s:%s:rw\n", FC_ANN_HASH, fc_root);
	FUZZ_CHECK(fclose(fp) == 0);
	FUZZ_CHECK(auth_users_load(users, &fc_ctx.users, stderr) == 0);
	FUZZ_CHECK(auth_users_count(fc_ctx.users) == 1);
	FUZZ_CHECK(auth_pool_new(fc_ctx.base, 1, &fc_ctx.auth) == 0);
	FUZZ_CHECK(iopool_new(fc_ctx.base, 1, &fc_ctx.io) == 0);
	FUZZ_CHECK((fc_watchdog = evtimer_new(fc_ctx.base, fc_watchdog_cb,
	    NULL)) != NULL);

	/* The loopback listener the fake client connects through. */
	memset(&fc_laddr, 0, sizeof(fc_laddr));
	fc_laddr.sin_family = AF_INET;
	fc_laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	FUZZ_CHECK((fc_lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) != -1);
	FUZZ_CHECK(bind(fc_lfd, (struct sockaddr *)&fc_laddr,
	    sizeof(fc_laddr)) == 0);
	FUZZ_CHECK(listen(fc_lfd, 4) == 0);
	FUZZ_CHECK(getsockname(fc_lfd, (struct sockaddr *)&fc_laddr,
	    &sl) == 0);
}

/*
 * A connected pair: *srv for the session, *cli for the harness.  The
 * client closes first with an RST (SO_LINGER 0), so no connection waits
 * in TIME_WAIT: thousands per second would exhaust the ephemeral ports.
 */
static void
fc_connect(int *srv, int *cli)
{
	struct linger	 lg = { 1, 0 };

	FUZZ_CHECK((*cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) != -1);
	FUZZ_CHECK(setsockopt(*cli, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)) == 0);
	FUZZ_CHECK(connect(*cli, (struct sockaddr *)&fc_laddr,
	    sizeof(fc_laddr)) == 0);
	FUZZ_CHECK((*srv = accept4(fc_lfd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) != -1);
	FUZZ_CHECK(fcntl(*cli, F_SETFL, O_NONBLOCK) == 0);
}

/*
 * One nonblocking turn of the loop, which must end: while callbacks keep
 * re-arming themselves, EVLOOP_NONBLOCK never returns, and the daemon's
 * loop would spin at 100% CPU.  SECURITY: a client must not be able to
 * make the server busy-loop (slow-client and flood resistance).
 */
static void
fc_turn(void)
{
	struct timeval	 tv = { FC_SPIN_MS / 1000, (FC_SPIN_MS % 1000) * 1000 };

	fc_spun = 0;
	evtimer_add(fc_watchdog, &tv);
	event_base_loop(fc_ctx.base, EVLOOP_NONBLOCK);
	evtimer_del(fc_watchdog);
	if (fc_spun) {
		fprintf(stderr, "the event loop did not go idle within %d ms: "
		    "a callback keeps re-arming itself\n", FC_SPIN_MS);
		FUZZ_CHECK(!"the event loop goes idle");
	}
}

/* Turns the loop and keeps what the client can read. */
static void
fc_pump(int cli, struct fc_out *o, int turns)
{
	char	 tmp[65536];
	ssize_t	 n;
	int	 i;

	for (i = 0; i < turns; i++) {
		fc_turn();
		while ((n = read(cli, tmp, sizeof(tmp))) > 0) {
			/* A reply flood is a finding of its own. */
			FUZZ_CHECK(o->len + (size_t)n <= FC_OUT_MAX);
			memcpy(o->buf + o->len, tmp, (size_t)n);
			o->len += (size_t)n;
		}
	}
}

/* Writes all of data, turning the loop while the socket is full. */
static void
fc_send(int cli, struct fc_out *o, const uint8_t *data, size_t size)
{
	ssize_t	 n;
	int	 stuck = 0;

	while (size > 0) {
		if ((n = write(cli, data, size)) > 0) {
			data += n;
			size -= (size_t)n;
			stuck = 0;
			continue;
		}
		FUZZ_CHECK(n == -1 && (errno == EAGAIN || errno == EINTR));
		/* A session that stopped reading (paused, TLS) stays so. */
		if (++stuck > 64)
			return;
		fc_pump(cli, o, 1);
	}
}

/*
 * Parses replies in text[0..len): counts final (2xx-5xx) and preliminary
 * (1xx) replies, checks RFC 959 4.2 form.  Returns where parsing stopped:
 * len, the end of a "234" reply (TLS follows), or the start of an
 * incomplete last reply.  *tls is set after a 234.
 */
static size_t
fc_parse(const char *text, size_t len, size_t *finals, size_t *prelims,
    int *tls)
{
	const char	*p = text, *end = text + len, *eol, *start;
	char		 code[4];
	int		 multi;

	while (p < end && !*tls) {
		start = p;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		/* One reply: its first line. */
		FUZZ_CHECK(eol - p >= 5 && eol[-1] == '\r');
		FUZZ_CHECK(p[0] >= '1' && p[0] <= '5');
		FUZZ_CHECK(p[1] >= '0' && p[1] <= '9');
		FUZZ_CHECK(p[2] >= '0' && p[2] <= '9');
		FUZZ_CHECK(p[3] == ' ' || p[3] == '-');
		FUZZ_CHECK(memchr(p, '\r', (size_t)(eol - p - 1)) == NULL);
		FUZZ_CHECK(memchr(p, '\0', (size_t)(eol - p)) == NULL);
		memcpy(code, p, 3);
		code[3] = '\0';
		multi = p[3] == '-';
		p = eol + 1;
		while (multi) {
			if ((eol = memchr(p, '\n', (size_t)(end - p))) ==
			    NULL)
				return (size_t)(start - text);
			FUZZ_CHECK(eol > p && eol[-1] == '\r');
			FUZZ_CHECK(memchr(p, '\0', (size_t)(eol - p)) == NULL);
			if (eol - p >= 5 && memcmp(p, code, 3) == 0 &&
			    p[3] == ' ')
				multi = 0;
			else
				/* SECURITY: no inner line poses as a reply. */
				FUZZ_CHECK(p[0] == ' ');
			p = eol + 1;
		}
		if (code[0] == '1')
			(*prelims)++;
		else
			(*finals)++;
		if (strcmp(code, "234") == 0)
			*tls = 1;
	}
	return (size_t)(p - text);
}

static int
fc_busy(const struct session *s)
{
	return s->state != SESS_READY || s->auth_job != NULL ||
	    s->job != NULL ||
	    (s->delay_ev != NULL && evtimer_pending(s->delay_ev, NULL)) ||
	    s->xfer != NULL || s->deferred != NULL;
}

/* The session still in the context, or NULL once it was freed. */
static struct session *
fc_alive(struct session *s)
{
	struct session	*t;

	TAILQ_FOREACH(t, &fc_ctx.sessions, entry)
		if (t == s)
			return s;
	return NULL;
}

/*
 * ann's password check is cheap, and so is a file command on the I/O
 * pool: let them complete (pipelined commands run one after the other).
 */
static void
fc_wait_jobs(struct session *s, int cli, struct fc_out *o)
{
	struct timeval	 tv = { 0, 5000 };
	int		 i;

	for (i = 0; i < FC_AUTH_WAIT_MS / 5; i++) {
		if ((s = fc_alive(s)) == NULL || (s->job == NULL &&
		    (s->auth_job == NULL || s->user == NULL)))
			return;
		event_base_loopexit(fc_ctx.base, &tv);
		event_base_dispatch(fc_ctx.base);
		fc_pump(cli, o, 1);
	}
}

/* Strict mode: one line at a time, each answered exactly once. */
static void
fc_strict(struct session *s, int cli, struct fc_out *o, const uint8_t *data,
    size_t size)
{
	const uint8_t	*nl;
	size_t		 n, done, finals, prelims, f, pr;
	int		 tls = 0, xfer;

	fc_pump(cli, o, FC_PUMPS);
	finals = prelims = 0;
	done = fc_parse(o->buf, o->len, &finals, &prelims, &tls);
	FUZZ_CHECK(finals == 1 && prelims == 0);	/* the greeting */
	while (size > 0 && (s = fc_alive(s)) != NULL && !fc_busy(s)) {
		n = (nl = memchr(data, '\n', size)) != NULL ?
		    (size_t)(nl - data) + 1 : size;
		xfer = s->xfer != NULL;
		fc_send(cli, o, data, n);
		data += n;
		size -= n;
		fc_pump(cli, o, FC_PUMPS);
		fc_wait_jobs(s, cli, o);
		f = pr = 0;
		done += fc_parse(o->buf + done, o->len - done, &f, &pr, &tls);
		if (tls)
			break;
		FUZZ_CHECK(pr <= 1);
		if (nl == NULL) {
			/* No LF: at most "500 Command line too long." */
			FUZZ_CHECK(f <= 1);
			break;
		}
		if ((s = fc_alive(s)) == NULL || fc_busy(s) || xfer)
			FUZZ_CHECK(f <= (xfer ? 2u : 1u));
		else if (f != 1) {
			fprintf(stderr, "line %.*s answered %zu times\n",
			    (int)(n > 80 ? 80 : n - 1), (const char *)data - n,
			    f);
			FUZZ_CHECK(!"each command gets exactly one reply");
		}
	}
}

/*
 * Every session and lingering data connection goes, as at shutdown.  The
 * loop turns once more: libevent 2.1 finalizes a freed bufferevent, and
 * closes its socket, from the loop.
 */
static void
fc_free_all(void)
{
	struct timeval	 tv = { 0, 1000 };
	int		 i;

	while (!TAILQ_EMPTY(&fc_ctx.sessions))
		sess_free(TAILQ_FIRST(&fc_ctx.sessions));
	dc_linger_free_all(&fc_ctx);
	fc_turn();
	/* What sessions left to the pool (a transfer's file closes there). */
	for (i = 0; i < FC_AUTH_WAIT_MS && !iopool_idle(fc_ctx.io); i++) {
		event_base_loopexit(fc_ctx.base, &tv);
		event_base_dispatch(fc_ctx.base);
	}
}

/*
 * 1 when a command line of the input, as the session reads it (Telnet
 * codes removed), names something like a temporary upload: a client may
 * MKD or RNTO such a name itself.
 */
static int
fc_names_tmp(const uint8_t *data, size_t size)
{
	const uint8_t	*nl;
	char		*line;
	size_t		 n;
	int		 found = 0;

	while (size > 0 && !found) {
		n = (nl = memchr(data, '\n', size)) != NULL ?
		    (size_t)(nl - data) : size;
		/* A line holding a NUL is refused whole: it names nothing. */
		if (memchr(data, '\0', n) == NULL) {
			FUZZ_CHECK((line = malloc(n + 1)) != NULL);
			memcpy(line, data, n);
			line[n] = '\0';
			sess_strip_telnet(line);
			found = strstr(line, "ftpsd-upload") != NULL;
			free(line);
		}
		n += nl != NULL;
		data += n;
		size -= n;
	}
	return found;
}

/* No temporary upload is left, nothing outside changed; reset the root. */
static void
fc_check_tree(int tmp_ok)
{
	static char	 now[FC_TREE_MAX];
	char		*p;

	FUZZ_CHECK(fc_print(fc_outside, now) == 0);
	FUZZ_CHECK(strcmp(now, fc_outside_print) == 0);
	if (fc_print(fc_root, now) == 0) {
		for (p = now; !tmp_ok &&
		    (p = strstr(p, VFS_TMP_PREFIX)) != NULL; p++) {
			fprintf(stderr, "left behind: %.*s\n",
			    (int)strcspn(p, " "), p);
			FUZZ_CHECK(!"no temporary upload outlives its session");
		}
		if (strcmp(now, fc_root_print) == 0)
			return;
	}
	FUZZ_CHECK(nftw(fc_root, fc_rm_cb, 16, FTW_DEPTH | FTW_PHYS) == 0);
	fc_make_root();
	FUZZ_CHECK(fc_print(fc_root, now) == 0 &&
	    strcmp(now, fc_root_print) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 outbuf[FC_OUT_MAX];
	struct sockaddr_storage	 peer;
	struct fuzz_fds		 fds;
	struct session		*s;
	struct fc_out		 o = { outbuf, 0 };
	size_t			 finals = 0, prelims = 0, done;
	unsigned		 mode;
	int			 srv, cli, tls = 0;

	if (fc_lfd == -1)
		fc_setup();
	fuzz_fds_snapshot(&fds);
	if (size == 0)
		return 0;
	mode = data[0];
	data++;
	size--;

	fc_ctx.conf.tls = (mode & FC_MODE_TLSREQ) ? CONF_TLS_REQUIRED :
	    CONF_TLS_OPTIONAL;
	fc_ctx.conf.data_tls = (mode & FC_MODE_DATAREQ) ? CONF_TLS_REQUIRED :
	    CONF_TLS_OPTIONAL;
	fc_connect(&srv, &cli);
	/* Not an IP address: every PORT/EPRT is refused as a bounce. */
	memset(&peer, 0, sizeof(peer));
	peer.ss_family = AF_UNIX;
	FUZZ_CHECK((s = sess_new(&fc_ctx, srv, &peer, 0)) != NULL);
	switch (mode & FC_MODE_LOGIN) {
	case 1:
	case 2:
		FUZZ_CHECK(str_copy(s->username, sizeof(s->username),
		    "ann") == 0);
		FUZZ_CHECK((s->user = auth_user_dup(auth_user_find(
		    fc_ctx.users, "ann"))) != NULL);
		s->perms = PERM_READ | ((mode & FC_MODE_LOGIN) == 1 ?
		    PERM_WRITE : 0);
		break;
	case 3:
		FUZZ_CHECK(str_copy(s->username, sizeof(s->username),
		    "anonymous") == 0);
		s->flags |= SF_ANON;
		s->perms = PERM_READ;
		break;
	}
	if ((mode & FC_MODE_LOGIN) != 0) {
		FUZZ_CHECK(vfs_open_root(&s->vfs, fc_root) == 0);
		s->vfs_open = 1;
		s->flags |= SF_LOGGED_IN;
	}
	if (mode & FC_MODE_PROT)
		s->flags |= SF_TLS | SF_PBSZ | SF_PROT_P;

	if (mode & FC_MODE_STRICT)
		fc_strict(s, cli, &o, data, size);
	else {
		fc_send(cli, &o, data, size);
		fc_pump(cli, &o, FC_PUMPS);
		fc_wait_jobs(s, cli, &o);
		fc_pump(cli, &o, FC_PUMPS);
	}
	done = fc_parse(o.buf, o.len, &finals, &prelims, &tls);
	FUZZ_CHECK(o.len >= 4 && memcmp(o.buf, "220 ", 4) == 0);
	/* SECURITY: after 234 only TLS records, never a plaintext reply. */
	if (tls)
		FUZZ_CHECK(done == o.len || o.buf[done] < '0' ||
		    o.buf[done] > '9');

	close(cli);
	fc_free_all();
	fc_check_tree(fc_names_tmp(data, size));
	fuzz_fds_check(&fds);
	return 0;
}
