/*
 * tests/unit/check_cmd.c: the command table's gate and the handlers'
 * replies, on a real session over a socketpair (no network), the way
 * libevent's test/regress_ssl.c drives bufferevents.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <check.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "auth.h"
#include "authpool.h"
#include "cmd.h"
#include "conf.h"
#include "datachan.h"
#include "ftpsd.h"
#include "iopool.h"
#include "listener.h"
#include "session.h"
#include "vfs.h"
#include "testutil.h"

Suite	*unit_suite(void);

static struct ftpsd	 ctx;
static struct session	*s;
static int		 peer = -1;
static char		 root[64];
static char		 got[65536];

static void
fixture_up(void)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	int			 sv[2];

	memset(&ctx, 0, sizeof(ctx));
	TAILQ_INIT(&ctx.listeners);
	TAILQ_INIT(&ctx.sessions);
	TAILQ_INIT(&ctx.reaps);
	ck_assert_int_eq(conf_init(&ctx.conf), 0);
	ck_assert_ptr_nonnull(ctx.base = sess_base_new());
	ck_assert_int_eq(iopool_new(ctx.base, 0, &ctx.io), 0);
	ck_assert_ptr_nonnull(ctx.ssl_ctx = SSL_CTX_new(TLS_server_method()));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	peer = sv[1];
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000001);
	sin->sin_port = htons(40000);
	ck_assert_ptr_nonnull(s = sess_new(&ctx, sv[0], &ss, 0));
	strcpy(root, "/tmp/check_cmd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void
fixture_down(void)
{
	while (!TAILQ_EMPTY(&ctx.sessions))
		sess_free(TAILQ_FIRST(&ctx.sessions));
	dc_linger_free_all(&ctx);
	iopool_free(ctx.io);
	SSL_CTX_free(ctx.ssl_ctx);
	event_base_free(ctx.base);
	conf_free(&ctx.conf);
	lst_admit_free(&ctx);
	close(peer);
	tu_rmtree(root);
}

/*
 * Everything the session said since the last call: a few turns of the
 * loop flush the bufferevent into the socketpair, then the other end is
 * read.  (The loop may also free a closing session.)
 */
static const char *
replies(void)
{
	size_t	 n = 0;
	ssize_t	 r;
	int	 i;

	for (i = 0; i < 4; i++)
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	while (n < sizeof(got) - 1 &&
	    (r = read(peer, got + n, sizeof(got) - 1 - n)) > 0)
		n += (size_t)r;
	got[n] = '\0';
	return got;
}

/*
 * Runs one command line and returns the reply text, once a file system
 * command is back from the I/O pool (10 s at most).
 */
static const char *
run(const char *line)
{
	char	tmp[8192];
	int	i;

	replies();
	snprintf(tmp, sizeof(tmp), "%s", line);
	cmd_dispatch(s, tmp);
	for (i = 0; i < 10000 && !TAILQ_EMPTY(&ctx.sessions) &&
	    s->job != NULL; i++) {
		usleep(1000);
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	}
	return replies();
}

static void
login(unsigned perms)
{
	ck_assert_int_eq(vfs_open_root(&s->vfs, root), 0);
	s->vfs_open = 1;
	s->perms = perms;
	s->flags |= SF_LOGGED_IN;
	/* As cmd_login_ok(): the data policy is ftpsd.conf's at login. */
	conf_policy_of(&ctx.conf, &s->policy);
}

#define ck_reply(line, want) do {					\
	const char *r_ = run(line);					\
	ck_assert_msg(strncmp(r_, want, strlen(want)) == 0,		\
	    "%s: got \"%s\", want \"%s...\"", line, r_, want);		\
} while (0)

START_TEST(greeting)
{
	ck_assert_str_eq(replies(), "220 ftpsd ready.\r\n");
}
END_TEST

START_TEST(unknown_is_500)
{
	ck_reply("FOO", "500 ");
	ck_reply("SITE CHMOD 777 x", "500 ");
	ck_reply("12 3", "500 ");
}
END_TEST

START_TEST(login_needed_is_530)
{
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	ck_reply("PWD", "530 ");
	ck_reply("RETR x", "530 ");
	ck_reply("PASV", "530 ");
	ck_reply("CWD /", "530 ");
	ck_reply("STAT /", "530 ");
	/* Not behind the login gate. */
	ck_reply("SYST", "215 UNIX Type: L8\r\n");
	ck_reply("NOOP", "200 ");
	ck_reply("FEAT", "211-");
}
END_TEST

START_TEST(tls_required_is_534)
{
	ctx.conf.tls = CONF_TLS_REQUIRED;
	ck_reply("USER ann", "534 ");
	ck_reply("PASS x", "534 ");
	ck_reply("AUTH KERBEROS_V4", "504 ");
	ck_reply("CCC", "534 ");
}
END_TEST

START_TEST(sequence_is_503)
{
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	ck_reply("PASS x", "503 ");
	ck_reply("PBSZ 0", "503 ");
	ck_reply("PROT P", "503 ");
	login(PERM_READ | PERM_WRITE);
	ck_reply("RNTO b", "503 ");
	ck_reply("USER ann", "503 ");
	ck_reply("EPSV ALL", "200 ");
	ck_reply("PASV", "503 ");
	ck_reply("PORT 127,0,0,1,4,1", "503 ");
	ck_reply("EPRT |1|127.0.0.1|1025|", "503 ");
}
END_TEST

START_TEST(arguments_are_501)
{
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	ck_reply("USER", "501 ");
	ck_reply("QUIT now", "501 ");
	login(PERM_READ);
	ck_reply("PWD x", "501 ");
	ck_reply("TYPE", "501 ");
	ck_reply("TYPE X", "501 ");
	ck_reply("CWD", "501 ");
	ck_reply("REST abc", "501 ");
	ck_reply("REST -1", "501 ");
	ck_reply("PORT 1,2,3", "501 ");
	ck_reply("EPRT nonsense", "501 ");
	ck_reply("MODE B", "504 ");
	ck_reply("TYPE E", "504 ");
	ck_reply("STRU R", "504 ");
}
END_TEST

START_TEST(data_needs_prot_p_521)
{
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	ctx.conf.data_tls = CONF_TLS_REQUIRED;
	login(PERM_READ | PERM_WRITE);
	ck_reply("LIST", "521 Data connections must be encrypted (PROT P)");
	ck_reply("RETR x", "521 ");
	ck_reply("STOR x", "521 ");
	ck_reply("NLST", "521 ");
	ck_reply("MLSD", "521 ");
	ck_reply("APPE x", "521 ");
	ck_reply("STOU", "521 ");
	/* Not data commands. */
	ck_reply("PWD", "257 \"/\"");
}
END_TEST

START_TEST(prot_policy)
{
	s->flags |= SF_TLS;	/* as after AUTH TLS */
	ck_reply("PBSZ 0", "200 PBSZ=0");
	ck_reply("PBSZ x", "501 ");
	ck_reply("PROT C", "534 ");
	ck_reply("PROT S", "536 ");
	ck_reply("PROT E", "536 ");
	ck_reply("PROT Q", "504 ");
	ck_reply("PROT P", "200 ");
	ck_assert(s->flags & SF_PROT_P);
	/*
	 * Before login the session runs under ftpsd.conf's policy at
	 * connect; an account's override replaces it at login.
	 */
	ctx.conf.data_tls = CONF_TLS_OPTIONAL;
	ck_reply("PROT C", "534 ");
	s->policy.data_tls = CONF_TLS_OPTIONAL;
	ck_reply("PROT C", "200 ");
	ck_assert(!(s->flags & SF_PROT_P));
	ck_reply("AUTH TLS", "503 ");
}
END_TEST

/*
 * The table walk: for each row, every precondition its columns name is
 * broken alone (all others met) and must give the reply clients know.
 * The gate refuses before the handler runs, so no probe has side effects.
 */
#define ALL_MET	(SF_LOGGED_IN | SF_TLS | SF_PBSZ | SF_PROT_P | SF_RNFR)

static unsigned	 start_flags;

/* "NAME[ arg]" with the session's flags and perms as given: the reply. */
static const char *
probe(const struct ftp_cmd *c, unsigned flags, unsigned perms,
    const char *arg)
{
	char	 line[64];

	s->flags = start_flags | flags;
	s->perms = perms;
	ctx.conf.tls = CONF_TLS_REQUIRED;
	s->policy.data_tls = CONF_TLS_REQUIRED;
	snprintf(line, sizeof(line), "%s%s%s", c->name, arg ? " " : "",
	    arg ? arg : "");
	return run(line);
}

#define ck_probe(c, flags, perms, arg, want) do {			\
	const char *r_ = probe(c, flags, perms, arg);			\
	ck_assert_msg(strcmp(r_, want) == 0,				\
	    "%s: got \"%s\", want \"%s\"", (c)->name, r_, want);	\
} while (0)

START_TEST(row_preconditions)
{
	const struct ftp_cmd	*c;
	const char		*ok;
	char			 want[128];
	size_t			 n;
	unsigned		 rw = PERM_READ | PERM_WRITE;

	c = &cmd_rows(&n)[_i];
	ck_assert_ptr_eq(cmd_find(c->name), c);
	start_flags = s->flags;
	ok = c->args == ARG_NONE || c->args == ARG_OPT ? NULL : "x";
	if (c->login)
		ck_probe(c, ALL_MET & ~SF_LOGGED_IN, rw, ok,
		    "530 Please login with USER and PASS.\r\n");
	if (c->tls != TLS_NONE)
		ck_probe(c, ALL_MET & ~SF_TLS, rw, ok, "534 TLS required on "
		    "the control connection: send AUTH TLS first.\r\n");
	if (c->tls == TLS_DATA)
		ck_probe(c, ALL_MET & ~SF_PROT_P, rw, ok,
		    "521 Data connections must be encrypted (PROT P)\r\n");
	snprintf(want, sizeof(want), "501 %s %s.\r\n", c->name,
	    c->args == ARG_NONE ? "takes no argument" :
	    c->args == ARG_WORD ? "needs one argument" : "needs an argument");
	if (c->args == ARG_NONE)
		ck_probe(c, ALL_MET, rw, "x", want);
	else if (c->args != ARG_OPT)
		ck_probe(c, ALL_MET, rw, NULL, want);
	if (c->args == ARG_WORD)
		ck_probe(c, ALL_MET, rw, "x y", want);
	if (c->flags & CMD_RNFR)
		ck_probe(c, ALL_MET & ~SF_RNFR, rw, ok,
		    "503 RNFR required first.\r\n");
	if (c->flags & CMD_NO_EPSV_ALL)
		ck_probe(c, ALL_MET | SF_EPSV_ALL, rw, ok,
		    "503 EPSV ALL in effect: use EPSV.\r\n");
	if (c->flags & CMD_AUTH) {
		ck_assert_int_eq(c->tls, TLS_NONE);
		snprintf(want, sizeof(want), "503 %s needs AUTH TLS first.\r\n",
		    c->name);
		ck_probe(c, ALL_MET & ~SF_TLS, rw, ok, want);
	}
	if (c->flags & CMD_PBSZ) {
		snprintf(want, sizeof(want), "503 %s needs PBSZ first.\r\n",
		    c->name);
		ck_probe(c, ALL_MET & ~SF_PBSZ, rw, ok, want);
	}
	if (c->perm & PERM_WRITE)
		ck_probe(c, ALL_MET, PERM_READ, ok,
		    "550 Permission denied.\r\n");
	if (c->flags & CMD_DC)
		ck_probe(c, ALL_MET, rw, ok, "425 " DC_NOT_SET_UP "\r\n");
	/* The table alone decides what runs during a transfer. */
	ck_assert_int_eq(cmd_during_xfer(c->name),
	    (c->flags & CMD_XFER_OK) != 0);
	snprintf(want, sizeof(want), "%s x", c->name);
	ck_assert_int_eq(cmd_during_xfer(want), (c->flags & CMD_XFER_OK) != 0);
}
END_TEST

/* RFC 2228, RFC 4217 9: PROT needs a successful PBSZ first. */
START_TEST(prot_needs_pbsz)
{
	s->flags |= SF_TLS;	/* as after AUTH TLS */
	ck_reply("PROT P", "503 PROT needs PBSZ first.");
	ck_assert(!(s->flags & SF_PROT_P));
	ck_reply("PBSZ x", "501 ");
	ck_reply("PROT P", "503 ");
	ck_reply("PBSZ 0", "200 PBSZ=0");
	ck_reply("PROT P", "200 ");
	ck_assert(s->flags & SF_PROT_P);
}
END_TEST

/*
 * Log lines written while fn(arg) runs: stderr goes to a temporary file
 * meanwhile (log_init at debug level, as ftpsd -f with log_debug).
 */
static const char *
logged(void (*fn)(void *), void *arg)
{
	static char	 text[8192];
	FILE		*tmp;
	size_t		 n;
	int		 saved;

	ck_assert_ptr_nonnull(tmp = tmpfile());
	fflush(stderr);
	ck_assert_int_ne(saved = dup(STDERR_FILENO), -1);
	ck_assert_int_ne(dup2(fileno(tmp), STDERR_FILENO), -1);
	log_init("check_cmd", LOG_DEST_STDERR, LOG_LVL_DEBUG);
	fn(arg);
	fflush(stderr);
	log_init("check_cmd", LOG_DEST_STDERR, LOG_LVL_INFO);
	ck_assert_int_ne(dup2(saved, STDERR_FILENO), -1);
	close(saved);
	rewind(tmp);
	n = fread(text, 1, sizeof(text) - 1, tmp);
	text[n] = '\0';
	fclose(tmp);
	return text;
}

static void
run_noop(void *arg)
{
	run(arg);
}

static void
log_errno_line(void *arg)
{
	errno = ENOSPC;
	sess_log_errno(s, LOG_LVL_WARN, "MKD failed path=%s", (char *)arg);
	ck_assert_int_eq(errno, ENOSPC);
}

/* Every session line, commands and replies too, says sess= and ip=. */
START_TEST(session_lines)
{
	const char	*t;
	char		 want[128];

	t = logged(run_noop, "NOOP");
	ck_assert_msg(strstr(t, "debug: sess=1 ip=127.0.0.1 cmd NOOP\n") != NULL,
	    "%s", t);
	ck_assert_msg(strstr(t, "debug: sess=1 ip=127.0.0.1 reply 200 NOOP "
	    "ok.\n") != NULL, "%s", t);
	t = logged(log_errno_line, "/x");
	snprintf(want, sizeof(want), "warning: sess=1 ip=127.0.0.1 MKD failed "
	    "path=/x: %s\n", strerror(ENOSPC));
	ck_assert_msg(strstr(t, want) != NULL, "%s", t);
}
END_TEST

/*
 * libevent reports some control connection errors without errno: a stale
 * EAGAIN must not be logged as the reason ("Resource temporarily
 * unavailable"); a real errno still is.
 */
static const struct {
	int		 err;
	const char	*reason;
} lost[] = {
	{ EAGAIN,	"close reason=\"connection lost\"" },
	{ EINTR,	"close reason=\"connection lost\"" },
	{ 0,		"close reason=\"connection lost\"" },
	{ ECONNRESET,	"close reason=\"Connection reset by peer\"" },
};

static void
bev_error(void *arg)
{
	errno = *(int *)arg;
	bufferevent_trigger_event(s->bev, BEV_EVENT_READING |
	    BEV_EVENT_ERROR, 0);
}

START_TEST(close_reason_without_errno)
{
	int		 err = lost[_i].err;
	const char	*t;

	s->state = SESS_READY;
	t = logged(bev_error, &err);
	ck_assert_msg(strstr(t, lost[_i].reason) != NULL, "%s", t);
	ck_assert_ptr_null(strstr(t, "temporarily"));
}
END_TEST

START_TEST(no_transfer_without_pasv)
{
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	ctx.conf.data_tls = CONF_TLS_OPTIONAL;
	login(PERM_READ | PERM_WRITE);
	ck_reply("RETR nothing", "425 ");
	ck_reply("LIST", "425 ");
	ck_reply("ABOR", "226 ");
}
END_TEST

START_TEST(file_commands)
{
	struct stat	st;
	char		path[128];

	ctx.conf.tls = CONF_TLS_OPTIONAL;
	login(PERM_READ | PERM_WRITE);
	ck_reply("MKD a\"b", "257 \"/a\"\"b\" created.");
	ck_reply("CWD a\"b", "250 ");
	ck_reply("PWD", "257 \"/a\"\"b\" is the current directory.");
	ck_reply("CDUP", "250 ");
	ck_reply("XPWD", "257 \"/\"");
	ck_reply("CWD ../../..", "250 ");
	ck_reply("PWD", "257 \"/\"");
	ck_reply("CWD nowhere", "550 ");
	ck_reply("RNFR a\"b", "350 ");
	ck_reply("RNTO c", "250 ");
	snprintf(path, sizeof(path), "%s/c", root);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_reply("RNFR missing", "550 ");
	ck_reply("RNFR c", "350 ");
	ck_reply("NOOP", "200 ");
	ck_reply("RNTO d", "503 ");	/* RNTO must follow RNFR */
	ck_reply("MKD c/in", "257 ");
	ck_reply("RNFR c", "350 ");
	ck_reply("RNTO c/in/deeper", "553 Cannot move a folder into itself.");
	ck_reply("RMD c/in", "250 ");
	ck_reply("XRMD c", "250 ");
	ck_reply("DELE c", "550 ");
	ck_reply("RMD /", "550 ");
	ck_reply("ALLO 1024", "202 ");
	ck_reply("ALLO 1024 R 128", "202 ");
	ck_reply("ALLO lots", "501 ");
	ck_reply("ALLO", "501 ");
}
END_TEST

START_TEST(size_mdtm_mlst)
{
	char	path[128];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/f.txt", root);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("hello\n", f);
	fclose(f);
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	login(PERM_READ);
	ck_reply("SIZE f.txt", "213 6\r\n");	/* binary by default */
	ck_reply("TYPE A", "200 ");
	ck_reply("SIZE f.txt", "550 SIZE not allowed in ASCII mode");
	ck_reply("TYPE I", "200 ");
	ck_reply("SIZE f.txt", "213 6\r\n");
	ck_reply("TYPE A N", "200 ");
	ck_reply("TYPE L 8", "200 ");
	ck_reply("SIZE nope", "550 ");
	ck_reply("MDTM f.txt", "213 2");
	ck_assert_uint_eq(strlen(got), strlen("213 YYYYMMDDHHMMSS\r\n"));
	ck_reply("MLST f.txt", "250-");
	ck_assert_ptr_nonnull(strstr(got, "type=file;size=6;"));
	ck_assert_ptr_nonnull(strstr(got, "\r\n250 End\r\n"));
	ck_reply("OPTS MLST size;bogus;", "200 MLST OPTS size;");
	ck_reply("MLST f.txt", "250-");
	ck_assert_ptr_null(strstr(got, "type="));
	ck_assert_ptr_nonnull(strstr(got, " size=6; "));
	ck_reply("STAT f.txt", "213-");
	/* Listing lines are indented: none can pass for a reply. */
	ck_assert_ptr_nonnull(strstr(got, "\r\n -rw"));
	ck_assert_ptr_nonnull(strstr(got, "\r\n213 End of status\r\n"));
}
END_TEST

/* MFMT (draft-somers-ftp-mfxx): the file's mtime, checked by stat(2). */
START_TEST(mfmt_sets_mtime)
{
	struct stat	 st;
	char		 path[128], fifo[128], sub[128];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/my file.txt", root);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	snprintf(fifo, sizeof(fifo), "%s/pipe", root);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	snprintf(sub, sizeof(sub), "%s/sub", root);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	login(PERM_READ | PERM_WRITE);
	ck_reply("MFMT 20201206123456 my file.txt",
	    "213 Modify=20201206123456; /my file.txt\r\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1607258096);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 0);
	ck_reply("MDTM my file.txt", "213 20201206123456\r\n");
	ck_reply("MFMT 19991231235959.25 my file.txt",
	    "213 Modify=19991231235959; ");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, 946684799);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 250000000);
	/* Not a time, not a real date, no path, finer than ms: 501. */
	ck_reply("MFMT 2020120612345 my file.txt", "501 MFMT needs a time");
	ck_reply("MFMT 20200230120000 my file.txt", "501 ");
	ck_reply("MFMT 20201206250000 my file.txt", "501 ");
	ck_reply("MFMT 20201206123456", "501 ");
	ck_reply("MFMT 20201206123456 ", "501 ");
	/* Digits past milliseconds are dropped; 1969 is a time too. */
	ck_reply("MFMT 20201206123456.123456 my file.txt", "213 ");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 123000000);
	ck_reply("MFMT 19691231235959 my file.txt",
	    "213 Modify=19691231235959; ");
	ck_reply("MFMT 19991231235959.25 my file.txt", "213 ");
	ck_reply("MFMT my file.txt", "501 ");
	ck_reply("MFMT", "501 ");
	/* Missing, a folder, a FIFO (never blocks), outside the root. */
	ck_reply("MFMT 20201206123456 nope", "550 ");
	ck_reply("MFMT 20201206123456 sub", "550 Not a regular file.");
	ck_reply("MFMT 20201206123456 pipe", "550 Not a regular file.");
	ck_reply("MFMT 20201206123456 ../../etc/passwd", "550 ");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, 946684799);
	s->perms = PERM_READ;
	ck_reply("MFMT 20201206123456 my file.txt", "550 Permission denied.");
	ck_reply("FEAT", "211-");
	ck_assert_ptr_nonnull(strstr(got, " MFMT\r\n"));
}
END_TEST

START_TEST(read_only_user)
{
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	ctx.conf.data_tls = CONF_TLS_OPTIONAL;
	login(PERM_READ);
	ck_reply("MKD x", "550 Permission denied.");
	ck_reply("DELE x", "550 Permission denied.");
	ck_reply("RNFR x", "550 Permission denied.");
	ck_reply("RMD x", "550 Permission denied.");
	ck_reply("STOR x", "550 Permission denied.");
	ck_reply("APPE x", "550 Permission denied.");
	ck_reply("STOU", "550 Permission denied.");
	/* A transfer command the gate refuses still uses up REST... */
	ck_reply("REST 10", "350 ");
	ck_reply("STOR x", "550 Permission denied.");
	ck_assert_uint_eq(s->rest, 0);
	ck_reply("REST 10", "350 ");
	ck_reply("RETR x", "425 ");
	ck_assert_uint_eq(s->rest, 0);
	/* ...another command leaves it for the next transfer. */
	ck_reply("REST 10", "350 ");
	ck_reply("MKD x", "550 Permission denied.");
	ck_assert_uint_eq(s->rest, 10);
}
END_TEST

START_TEST(session_replies)
{
	const char	*r;
	char		 line[16];

	ck_reply("HELP", "214-");
	ck_assert_ptr_nonnull(strstr(got, "\r\n214 "));
	ck_reply("HELP RETR", "214 ");
	ck_reply("STAT", "211-");
	ck_assert_ptr_nonnull(strstr(got, "\r\n211 End"));
	/*
	 * The session's status touches no file: no I/O pool job, so it is
	 * answered at once (during a transfer too, before its 226).
	 */
	snprintf(line, sizeof(line), "STAT");
	cmd_dispatch(s, line);
	ck_assert_ptr_null(s->job);
	ck_assert_int_eq(strncmp(replies(), "211-", 4), 0);
	ck_reply("OPTS UTF8 ON", "200 ");
	ck_reply("OPTS FOO", "501 ");
	ck_reply("ACCT x", "502 ");
	ck_reply("REIN", "502 ");
	r = run("FEAT");
	ck_assert_ptr_nonnull(strstr(r, " AUTH TLS\r\n"));
	ck_assert_ptr_nonnull(strstr(r, " PROT\r\n"));
	ck_assert_ptr_nonnull(strstr(r, " MLST type*;size*;modify*;perm*;"
	    "unique*;UNIX.mode;\r\n"));
	ck_assert_ptr_nonnull(strstr(r, " REST STREAM\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "\r\n211 End\r\n"));
	ck_reply("QUIT", "221 ");
	ck_assert(TAILQ_EMPTY(&ctx.sessions));
}
END_TEST

/* SECURITY: STARTTLS injection: nothing after AUTH TLS runs in clear. */
START_TEST(auth_tls_discards_pipelined_plaintext)
{
	static const char	 attack[] = "AUTH TLS\r\nUSER evil\r\nPASS x\r\n";

	ctx.conf.tls = CONF_TLS_REQUIRED;
	replies();
	/* One segment, as a man in the middle would inject it. */
	ck_assert_int_eq(write(peer, attack, sizeof(attack) - 1),
	    sizeof(attack) - 1);
	ck_assert_str_eq(replies(), "234 AUTH TLS successful.\r\n");
	ck_assert_int_eq(s->state, SESS_TLS_PENDING);
	ck_assert_str_eq(s->username, "");
	ck_assert(!(s->flags & SF_USER_SENT));
}
END_TEST

/* Turns the loop until got holds n reply lines, or 10 s; returns got. */
static const char *
replies_until(int n)
{
	static char	 all[4096];
	const char	*p;
	int		 i, lines = 0;

	all[0] = '\0';
	for (i = 0; i < 2000 && lines < n; i++) {
		usleep(5000);
		strncat(all, replies(), sizeof(all) - strlen(all) - 1);
		for (lines = 0, p = all; (p = strchr(p, '\n')) != NULL; p++)
			lines++;
	}
	return all;
}

/*
 * A file system command runs on the I/O pool; the session reads nothing
 * more until it is answered, so pipelined commands see its effect.
 */
START_TEST(fs_commands_pipelined_in_order)
{
	static const char	 in[] = "MKD p\r\nCWD p\r\nPWD\r\nCDUP\r\n"
				    "RMD p\r\nPWD\r\n";

	ctx.conf.tls = CONF_TLS_OPTIONAL;
	login(PERM_READ | PERM_WRITE);
	replies();
	ck_assert_int_eq(write(peer, in, sizeof(in) - 1), sizeof(in) - 1);
	ck_assert_str_eq(replies_until(6), "257 \"/p\" created.\r\n"
	    "250 Directory changed to \"/p\".\r\n"
	    "257 \"/p\" is the current directory.\r\n"
	    "250 Directory changed to \"/\".\r\n"
	    "250 Directory removed.\r\n"
	    "257 \"/\" is the current directory.\r\n");
	ck_assert_ptr_null(s->job);
}
END_TEST

/*
 * The session ends while its command is on the pool: the job finishes
 * on its own and lets go of what it held (ASan: no use after free, no
 * leak; the home's descriptor closes with the last reference).
 */
START_TEST(fs_job_outlives_session)
{
	struct stat	 st;
	char		 line[] = "MKD late", path[128];
	int		 i;

	ctx.conf.tls = CONF_TLS_OPTIONAL;
	login(PERM_READ | PERM_WRITE);
	cmd_dispatch(s, line);
	ck_assert_ptr_nonnull(s->job);
	sess_free(s);
	ck_assert_uint_eq(vfs_homes_open(), 1);
	snprintf(path, sizeof(path), "%s/late", root);
	for (i = 0; i < 2000 && vfs_homes_open() > 0; i++) {
		usleep(5000);
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
	}
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(vfs_homes_open(), 0);
}
END_TEST

START_TEST(overlong_line_keeps_session)
{
	char		 big[FTPS_LINE_MAX + 10];

	replies();
	memset(big, 'A', sizeof(big));
	ck_assert_int_eq(write(peer, big, sizeof(big)), sizeof(big));
	ck_assert_int_eq(write(peer, "\r\nNOOP\r\n", 8), 8);
	ck_assert_str_eq(replies(), "500 Command line too long.\r\n"
	    "200 NOOP ok.\r\n");
	ck_assert_int_eq(s->state, SESS_READY);
}
END_TEST

START_TEST(epsv_and_port_policy)
{
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	ctx.conf.pasv_min_port = 50000;
	ctx.conf.pasv_max_port = 50999;
	login(PERM_READ);
	/* The control "peer" is 127.0.0.1: bounce targets are refused. */
	ck_reply("PORT 10,0,0,1,4,1", "504 ");
	ck_reply("PORT 127,0,0,1,0,21", "504 ");
	ck_reply("EPRT |1|10.0.0.1|2000|", "504 ");
	ck_reply("EPRT |3|x|2000|", "522 ");
	ck_reply("PORT 127,0,0,1,4,1", "200 ");
	ck_reply("EPRT |1|127.0.0.1|2000|", "200 ");
	ck_reply("EPSV 3", "501 ");
}
END_TEST

/* Runs the loop until the session says something (5 s at most). */
static const char *
wait_reply(void)
{
	struct timeval	 tv = { 0, 50000 };
	int		 i;

	for (i = 0; i < 100; i++) {
		replies();
		if (got[0] != '\0')
			return got;
		event_base_loopexit(ctx.base, &tv);
		event_base_dispatch(ctx.base);
	}
	return got;
}

static void
users_up(void)
{
	char	 hash[256], path[128];
	FILE	*f;

	fixture_up();
	ctx.conf.tls = CONF_TLS_OPTIONAL;
	ck_assert_int_eq(auth_hash_password("s3cret", hash, sizeof(hash)), 0);
	snprintf(path, sizeof(path), "%s/users", root);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "ann:%s:%s:rw\n", hash, root);
	fprintf(f, "crt::%s:rw:cert\n", root);
	fprintf(f, "both:%s:%s:r:cert+password\n", hash, root);
	fclose(f);
	ck_assert_int_eq(auth_users_load(path, &ctx.users, stderr), 0);
	ck_assert_int_eq(auth_pool_new(ctx.base, 1, &ctx.auth), 0);
	replies();
}

static void
users_down(void)
{
	while (!TAILQ_EMPTY(&ctx.sessions))
		sess_free(TAILQ_FIRST(&ctx.sessions));
	auth_pool_free(ctx.auth);
	auth_users_free(ctx.users);
	fixture_down();
}

static void
say(const char *line)
{
	ck_assert_int_eq(write(peer, line, strlen(line)), (ssize_t)strlen(line));
}

START_TEST(login_ok)
{
	say("USER ann\r\n");
	ck_assert_str_eq(wait_reply(), "331 Password required.\r\n");
	say("PASS s3cret\r\n");
	ck_assert_str_eq(wait_reply(), "230 Login successful.\r\n");
	say("PWD\r\n");
	ck_assert_str_eq(wait_reply(), "257 \"/\" is the current directory.\r\n");
}
END_TEST

/* SECURITY: the same reply, after the same delay, known user or not. */
START_TEST(login_fail_is_uniform_and_delayed)
{
	struct timespec	 t0, t1;
	const char	*names[] = { "ann", "nobody" };
	char		 line[64];
	double		 secs;
	int		 i;

	for (i = 0; i < 2; i++) {
		snprintf(line, sizeof(line), "USER %s\r\n", names[i]);
		say(line);
		ck_assert_str_eq(wait_reply(), "331 Password required.\r\n");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		say("PASS wrong\r\nPWD\r\n");
		/* The pipelined PWD waited for the 530 and ran after it. */
		ck_assert_str_eq(wait_reply(), "530 Login incorrect.\r\n"
		    "530 Please login with USER and PASS.\r\n");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		ck_assert_msg(secs >= FTPS_LOGIN_DELAY_MS / 1000.0,
		    "530 after %.3f s", secs);
	}
}
END_TEST

START_TEST(many_failures_end_the_connection)
{
	int	 i;

	for (i = 0; i < 5; i++) {
		say("USER ann\r\n");
		wait_reply();
		say("PASS wrong\r\n");
		wait_reply();
	}
	ck_assert_ptr_nonnull(strstr(got, "421 Too many failed logins."));
}
END_TEST

/* What tls_ctrl_ready() records for a verified client certificate. */
static void
client_cert(const char *cn)
{
	s->flags |= SF_CERT;
	snprintf(s->cert_name, sizeof(s->cert_name), "%s", cn);
}

START_TEST(cert_login_232)
{
	client_cert("crt");
	say("USER crt\r\n");
	ck_assert_str_eq(wait_reply(), "232 User logged in, authorized by "
	    "security data exchange.\r\n");
	/* A client that sends PASS anyway gets a harmless 503. */
	say("PASS whatever\r\n");
	ck_assert_str_eq(wait_reply(), "503 Already logged in.\r\n");
	say("PWD\r\n");
	ck_assert_str_eq(wait_reply(), "257 \"/\" is the current directory.\r\n");
}
END_TEST

START_TEST(cert_for_another_user_530)
{
	struct timespec	 t0, t1;

	client_cert("crt");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	say("USER ann\r\nPWD\r\n");
	ck_assert_str_eq(wait_reply(), "530 Login incorrect.\r\n"
	    "530 Please login with USER and PASS.\r\n");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* libevent may time with CLOCK_MONOTONIC_COARSE: a few ms early. */
	ck_assert_int_ge((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000, FTPS_LOGIN_DELAY_MS - 50);
	ck_assert_uint_eq(s->failed_logins, 1);
	/* Its own name still works afterwards. */
	say("USER crt\r\n");
	ck_assert_str_eq(wait_reply(), "232 User logged in, authorized by "
	    "security data exchange.\r\n");
}
END_TEST

START_TEST(cert_user_without_cert_fails_at_pass)
{
	say("USER crt\r\n");
	ck_assert_str_eq(wait_reply(), "331 Password required.\r\n");
	say("PASS \r\n");
	ck_assert_str_eq(wait_reply(), "530 Login incorrect.\r\n");
	say("USER both\r\n");
	ck_assert_str_eq(wait_reply(), "331 Password required.\r\n");
	say("PASS s3cret\r\n");
	ck_assert_str_eq(wait_reply(), "530 Login incorrect.\r\n");
}
END_TEST

START_TEST(cert_password_needs_both)
{
	client_cert("both");
	say("USER both\r\n");
	ck_assert_str_eq(wait_reply(), "331 Password required.\r\n");
	say("PASS wrong\r\n");
	ck_assert_str_eq(wait_reply(), "530 Login incorrect.\r\n");
	say("USER both\r\n");
	ck_assert_str_eq(wait_reply(), "331 Password required.\r\n");
	say("PASS s3cret\r\n");
	ck_assert_str_eq(wait_reply(), "230 Login successful.\r\n");
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*su = suite_create("cmd");
	TCase	*tc;
	size_t	 nrows;

	signal(SIGPIPE, SIG_IGN);
	tc = tcase_create("gate");
	tcase_add_checked_fixture(tc, fixture_up, fixture_down);
	tcase_add_test(tc, greeting);
	tcase_add_test(tc, unknown_is_500);
	tcase_add_test(tc, login_needed_is_530);
	tcase_add_test(tc, tls_required_is_534);
	tcase_add_test(tc, sequence_is_503);
	tcase_add_test(tc, arguments_are_501);
	tcase_add_test(tc, data_needs_prot_p_521);
	tcase_add_test(tc, prot_policy);
	tcase_add_test(tc, prot_needs_pbsz);
	tcase_add_test(tc, session_lines);
	tcase_add_loop_test(tc, close_reason_without_errno, 0,
	    sizeof(lost) / sizeof(lost[0]));
	cmd_rows(&nrows);
	tcase_add_loop_test(tc, row_preconditions, 0, (int)nrows);
	suite_add_tcase(su, tc);

	tc = tcase_create("handlers");
	tcase_add_checked_fixture(tc, fixture_up, fixture_down);
	tcase_add_test(tc, no_transfer_without_pasv);
	tcase_add_test(tc, file_commands);
	tcase_add_test(tc, size_mdtm_mlst);
	tcase_add_test(tc, mfmt_sets_mtime);
	tcase_add_test(tc, read_only_user);
	tcase_add_test(tc, session_replies);
	tcase_add_test(tc, epsv_and_port_policy);
	suite_add_tcase(su, tc);

	tc = tcase_create("login");
	tcase_add_checked_fixture(tc, users_up, users_down);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, login_ok);
	tcase_add_test(tc, login_fail_is_uniform_and_delayed);
	tcase_add_test(tc, many_failures_end_the_connection);
	tcase_add_test(tc, cert_login_232);
	tcase_add_test(tc, cert_for_another_user_530);
	tcase_add_test(tc, cert_user_without_cert_fails_at_pass);
	tcase_add_test(tc, cert_password_needs_both);
	suite_add_tcase(su, tc);

	tc = tcase_create("input");
	tcase_add_checked_fixture(tc, fixture_up, fixture_down);
	tcase_add_test(tc, auth_tls_discards_pipelined_plaintext);
	tcase_add_test(tc, overlong_line_keeps_session);
	tcase_add_test(tc, fs_commands_pipelined_in_order);
	tcase_add_test(tc, fs_job_outlives_session);
	suite_add_tcase(su, tc);
	return su;
}
