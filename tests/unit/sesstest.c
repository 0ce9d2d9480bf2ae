/* tests/unit/sesstest.c: a session on a socketpair (sesstest.h). */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cmd.h"
#include "conf.h"
#include "datachan.h"
#include "ftpsd.h"
#include "iopool.h"
#include "listener.h"
#include "session.h"
#include "sesstest.h"
#include "testutil.h"
#include "tls.h"
#include "vfs.h"

#define ST_WAIT_MS	10000	/* any one wait of a test */
#define ST_POLL_MS	5

struct ftpsd	 st_ctx;
struct session	*st_s;
int		 st_peer = -1;
char		 st_root[64];

static char	 st_certs[64];
static char	 st_got[1 << 16];

/* A self-signed P-256 certificate for localhost, as NAME.crt + NAME.key. */
static void
st_write_cert(const char *dir, const char *name)
{
	EVP_PKEY	*key;
	X509		*x;
	FILE		*fp;
	char		 p[128];
	int		 fd;

	tu_selfsigned(&key, &x);
	snprintf(p, sizeof(p), "%s/%s.crt", dir, name);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	ck_assert_int_eq(PEM_write_X509(fp, x), 1);
	ck_assert_int_eq(fclose(fp), 0);
	snprintf(p, sizeof(p), "%s/%s.key", dir, name);
	ck_assert_int_ge(fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600), 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	ck_assert_int_eq(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL,
	    NULL), 1);
	ck_assert_int_eq(fclose(fp), 0);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
st_set(char **field, const char *value)
{
	free(*field);
	ck_assert_ptr_nonnull(*field = strdup(value));
}

void
st_up(int tls)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	int			 sv[2];

	memset(&st_ctx, 0, sizeof(st_ctx));
	TAILQ_INIT(&st_ctx.listeners);
	TAILQ_INIT(&st_ctx.sessions);
	TAILQ_INIT(&st_ctx.reaps);
	st_ctx.xferlog_fd = -1;
	st_ctx.notify_fd = -1;
	st_ctx.ready_fd = -1;
	ck_assert_int_eq(conf_init(&st_ctx.conf), 0);
	st_ctx.conf.tls = CONF_TLS_OPTIONAL;
	st_ctx.conf.data_tls = CONF_TLS_OPTIONAL;
	st_ctx.conf.data_timeout = 10;
	ck_assert_ptr_nonnull(st_ctx.base = sess_base_new());
	ck_assert_int_eq(iopool_new(st_ctx.base, 0, &st_ctx.io), 0);
	strcpy(st_certs, "/tmp/sesstest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(st_certs));
	if (tls) {
		st_write_cert(st_certs, "unit");
		st_set(&st_ctx.conf.certs_dir, st_certs);
		st_set(&st_ctx.conf.certificate, "unit");
		ck_assert_int_eq(tls_ctx_new(&st_ctx.conf, &st_ctx.ssl_ctx,
		    stderr), 0);
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	st_peer = sv[1];
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(40000);
	ck_assert_ptr_nonnull(st_s = sess_new(&st_ctx, sv[0], &ss,
	    tls ? SF_IMPLICIT : 0));
	/* The data listener's address: a TCP control connection's. */
	sin->sin_port = 0;
	st_s->local = ss;
	strcpy(st_root, "/tmp/sesstest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(st_root));
}

void
st_down(void)
{
	while (!TAILQ_EMPTY(&st_ctx.sessions))
		sess_free(TAILQ_FIRST(&st_ctx.sessions));
	dc_linger_free_all(&st_ctx);
	iopool_free(st_ctx.io);
	SSL_CTX_free(st_ctx.ssl_ctx);
	event_base_free(st_ctx.base);
	conf_free(&st_ctx.conf);
	lst_admit_free(&st_ctx);
	close(st_peer);
	tu_rmtree(st_root);
	tu_rmtree(st_certs);
}

void
st_turn(void)
{
	int	 i;

	for (i = 0; i < 4; i++)
		event_base_loop(st_ctx.base, EVLOOP_NONBLOCK);
}

/* Waits a little for fd (or the loop's own work), then turns the loop. */
static void
st_step(int fd, short events)
{
	struct pollfd	 p = { .fd = fd, .events = events };

	/* fd -1: poll() just waits. */
	(void)poll(&p, 1, ST_POLL_MS);
	st_turn();
}

void
st_wait(int fd, int (*done)(void), const char *what)
{
	int	 i;

	for (i = 0; i < ST_WAIT_MS / ST_POLL_MS && !done(); i++)
		st_step(fd, POLLIN);
	ck_assert_msg(done(), "no %s within %d ms", what, ST_WAIT_MS);
}

const char *
st_replies(void)
{
	size_t	 n = 0;
	ssize_t	 r;

	st_turn();
	while (n < sizeof(st_got) - 1 &&
	    (r = read(st_peer, st_got + n, sizeof(st_got) - 1 - n)) > 0)
		n += (size_t)r;
	st_got[n] = '\0';
	return st_got;
}

static int
st_no_job(void)
{
	return TAILQ_EMPTY(&st_ctx.sessions) || st_s->job == NULL;
}

void
st_dispatch(const char *line)
{
	char	 tmp[1024];
	int	 i;

	snprintf(tmp, sizeof(tmp), "%s", line);
	cmd_dispatch(st_s, tmp);
	/* One turn at a time: the job's answer, and not much more. */
	for (i = 0; i < ST_WAIT_MS && !st_no_job(); i++) {
		(void)poll(NULL, 0, 1);
		event_base_loop(st_ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	ck_assert_msg(st_no_job(), "no file system command answer within "
	    "%d ms", ST_WAIT_MS);
}

const char *
st_run(const char *line)
{
	st_replies();
	st_dispatch(line);
	return st_replies();
}

void
st_login(unsigned perms)
{
	ck_assert_int_eq(vfs_open_root(&st_s->vfs, st_root), 0);
	st_s->vfs_open = 1;
	st_s->perms = perms;
	st_s->flags |= SF_LOGGED_IN;
	conf_policy_of(&st_ctx.conf, &st_s->policy);
}

int
st_connect(unsigned port)
{
	struct sockaddr_in	 sin;
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
	    0), 0);
	ck_assert(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS);
	return fd;
}

SSL *
st_tls_client(int fd, SSL_SESSION *sess)
{
	SSL_CTX	*cctx;
	SSL	*c;
	int	 i, r = 0;

	ck_assert_ptr_nonnull(cctx = SSL_CTX_new(TLS_client_method()));
	ck_assert_ptr_nonnull(c = SSL_new(cctx));
	SSL_CTX_free(cctx);		/* c keeps a reference */
	ck_assert_int_eq(SSL_set_fd(c, fd), 1);
	SSL_set_connect_state(c);
	if (sess != NULL)
		ck_assert_int_eq(SSL_set_session(c, sess), 1);
	for (i = 0; i < ST_WAIT_MS / ST_POLL_MS; i++) {
		if ((r = SSL_do_handshake(c)) == 1)
			break;
		r = SSL_get_error(c, r);
		ck_assert_msg(r == SSL_ERROR_WANT_READ ||
		    r == SSL_ERROR_WANT_WRITE, "client handshake: error %d",
		    r);
		st_step(fd, r == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
	}
	ck_assert_msg(r == 1, "no TLS handshake within %d ms", ST_WAIT_MS);
	return c;
}

const char *
st_read_until(SSL *ssl, int fd, const char *want)
{
	size_t	 n = 0;
	ssize_t	 r;
	int	 i, e;

	st_got[0] = '\0';
	for (i = 0; i < ST_WAIT_MS / ST_POLL_MS && strstr(st_got, want) ==
	    NULL; i++) {
		st_step(fd, POLLIN);
		if (ssl != NULL) {
			r = SSL_read(ssl, st_got + n, (int)(sizeof(st_got) -
			    1 - n));
			e = r > 0 ? 0 : SSL_get_error(ssl, (int)r);
			if (e == SSL_ERROR_ZERO_RETURN ||
			    e == SSL_ERROR_SYSCALL || e == SSL_ERROR_SSL)
				break;
		} else {
			r = read(fd, st_got + n, sizeof(st_got) - 1 - n);
			if (r == 0 || (r == -1 && errno != EAGAIN))
				break;
		}
		if (r > 0)
			n += (size_t)r;
		st_got[n] = '\0';
	}
	return st_got;
}

SSL_SESSION *
st_control_tls(SSL **ctrl)
{
	SSL_SESSION	*sess;

	*ctrl = st_tls_client(st_peer, NULL);
	ck_assert_ptr_nonnull(strstr(st_read_until(*ctrl, st_peer,
	    "220 "), "220 "));
	ck_assert(st_s->flags & SF_TLS);
	ck_assert(st_s->flags & SF_PROT_P);
	ck_assert_ptr_nonnull(sess = SSL_get1_session(*ctrl));
	ck_assert_int_eq(SSL_SESSION_is_resumable(sess), 1);
	return sess;
}

/* One read of at most n bytes: > 0, 0 at the end, -1 to wait. */
static ssize_t
st_read1(SSL *ssl, int fd, char *b, size_t n)
{
	ssize_t	 r;
	int	 e;

	if (ssl == NULL) {
		if ((r = read(fd, b, n)) == -1)
			ck_assert_msg(errno == EAGAIN, "data read: %s",
			    strerror(errno));
		return r;
	}
	if ((r = SSL_read(ssl, b, (int)n)) > 0)
		return r;
	e = SSL_get_error(ssl, (int)r);
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	ck_assert_msg(e == SSL_ERROR_WANT_READ, "data SSL_read: error %d", e);
	return -1;
}

size_t
st_drain(SSL *ssl, int fd)
{
	char	 b[65536];
	size_t	 total = 0;
	ssize_t	 r;
	int	 i;

	for (i = 0; i < ST_WAIT_MS / ST_POLL_MS; i++) {
		st_step(fd, POLLIN);
		while ((r = st_read1(ssl, fd, b, sizeof(b))) > 0)
			total += (size_t)r;
		if (r == 0)
			return total;
	}
	ck_abort_msg("no end of the data within %d ms", ST_WAIT_MS);
	return total;
}
