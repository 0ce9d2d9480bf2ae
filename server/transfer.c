/*
 * Streaming between a file (or a listing) and the data connection.
 * Once the data connection is ready, the transfer drives its socket (and
 * with PROT P its SSL) itself: a download reads the file into one buffer
 * kept for the whole transfer and hands that buffer to SSL_write (or
 * send); an upload SSL_reads (or recvs) straight into the buffer that is
 * written to the file.  No evbuffer copy, no per-chunk allocation, and
 * memory stays bounded (2 x FTPS_XFER_CHUNK) whatever the file size.
 */
#define _GNU_SOURCE	/* renameat2 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "conf.h"
#include "datachan.h"
#include "err.h"
#include "ftps_limits.h"
#include "ftpsd.h"
#include "ops.h"
#include "parse.h"
#include "session.h"
#include "transfer.h"
#include "vfs.h"
#include "xferlog.h"

struct xfer {
	enum xfer_kind		 kind;
	char			 verb[8];
	struct vpath		 vp;		/* dirfd owned */
	int			 fd;		/* the file, or -1 */
	off_t			 size;
	off_t			 offset;
	struct buf		 text;		/* XFER_LIST */
	size_t			 text_off;
	struct vfs_upload	 up;		/* STOR, STOU */
	char			 final[FTPS_NAME_MAX + 1];	/* STOU */
	char			*chunk;		/* 2 x FTPS_XFER_CHUNK */
	struct bufferevent	*bev;		/* the datachan's, disabled */
	SSL			*ssl;		/* PROT P, or NULL */
	int			 sock;		/* the data socket */
	struct event		*rev;		/* sock readable */
	struct event		*wev;		/* sock writable */
	const char		*out;		/* download: bytes not yet sent */
	size_t			 outn;
	unsigned long long	 bytes;
	struct timespec		 t0;
	int			 ascii;
	int			 cr;		/* CR pending at a chunk edge */
	int			 tls;
	int			 wblocked;	/* a write waits for a read */
	int			 srcdone;	/* download: source read out */
	BIO_METHOD		*gmeth;		/* gather: see xfer_gather() */
	BIO			*gbio;		/* SSL's write BIO meanwhile */
	BIO			*sockbio;	/* the socket BIO, put back */
	char			*gbuf;		/* records not yet sent */
	size_t			 glen, goff;
	struct timeval		 tv;		/* data_timeout */
	struct timeval		*tvp;		/* &tv, or NULL: none */
	char			 why[160];	/* last TLS error */
};

/* What one non-blocking read or write on the data connection did. */
enum xio {
	XIO_OK,		/* moved > 0 bytes */
	XIO_WANT_READ,	/* retry when the socket is readable */
	XIO_WANT_WRITE,	/* retry when the socket is writable */
	XIO_EOF,	/* clean end: FIN (PROT C) or close_notify (PROT P) */
	XIO_ERR,	/* reset, TLS error, or TLS EOF without close_notify */
};

static int
xfer_is_upload(const struct xfer *x)
{
	return x->kind != XFER_RETR && x->kind != XFER_LIST;
}

struct xfer *
xfer_new(enum xfer_kind kind, const char *verb, const struct vpath *vp)
{
	struct xfer	*x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->kind = kind;
	snprintf(x->verb, sizeof(x->verb), "%s", verb);
	x->vp = *vp;
	x->vp.dirfd = -1;
	if (vp->dirfd != -1 &&
	    (x->vp.dirfd = fcntl(vp->dirfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(x);
		return NULL;
	}
	x->fd = -1;
	buf_init(&x->text, FTPS_LISTING_MAX);
	snprintf(x->final, sizeof(x->final), "%s", vp->name);
	return x;
}

void
xfer_set_file(struct xfer *x, int fd, off_t size, off_t off)
{
	x->fd = fd;
	x->size = size;
	x->offset = off;
}

void
xfer_set_text(struct xfer *x, struct buf *b)
{
	buf_free(&x->text);
	x->text = *b;
	buf_init(b, b->b_max);
}

void
xfer_set_offset(struct xfer *x, off_t off)
{
	x->offset = off;
}

int
xfer_set_final(struct xfer *x, const char *name)
{
	return str_copy(x->final, sizeof(x->final), name);
}

/* The transfer lets go of the data socket (dc_close() takes it over). */
static void
xfer_io_stop(struct xfer *x)
{
	if (x->gbio != NULL) {
		/* Frees gbio; close_notify goes to the socket again. */
		SSL_set0_wbio(x->ssl, x->sockbio);
		x->gbio = NULL;
		x->sockbio = NULL;
	}
	if (x->gmeth != NULL) {
		BIO_meth_free(x->gmeth);
		x->gmeth = NULL;
	}
	free(x->gbuf);
	x->gbuf = NULL;
	if (x->rev != NULL) {
		event_free(x->rev);
		x->rev = NULL;
	}
	if (x->wev != NULL) {
		event_free(x->wev);
		x->wev = NULL;
	}
}

void
xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	xfer_io_stop(x);
	if (x->fd != -1)
		close(x->fd);
	/* An unfinished upload never replaces the old file. */
	vfs_upload_discard(&x->vp, &x->up);
	vpath_free(&x->vp);
	buf_free(&x->text);
	free(x->chunk);
	free(x);
}

static double
xfer_secs(const struct xfer *x)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - x->t0.tv_sec) +
	    (double)(now.tv_nsec - x->t0.tv_nsec) / 1e9;
}

/* One xferlog line per file transfer, complete or not (not listings). */
static void
xfer_xferlog(struct session *s, const struct xfer *x, int complete)
{
	struct xlog_rec	 r;

	if (s->ctx->xferlog_fd == -1 || x->kind == XFER_LIST)
		return;
	memset(&r, 0, sizeof(r));
	r.when = time(NULL);
	r.secs = xfer_secs(x);
	r.host = s->ip;
	r.bytes = x->bytes;
	r.path = x->vp.path;
	r.ascii = x->ascii;
	r.incoming = xfer_is_upload(x);
	r.anonymous = (s->flags & SF_ANON) != 0;
	r.user = s->username;
	r.complete = complete;
	if (xlog_write(s->ctx->xferlog_fd, &r) != 0)
		sess_log(s, LOG_LVL_ERR, "xferlog_file: %s", strerror(errno));
}

/* The final reply of a transfer; the session reads commands again. */
static void
xfer_done(struct session *s, int code, const char *text, const char *result)
{
	struct xfer	*x = s->xfer;
	int		 ok = strcmp(result, "ok") == 0;

	if (x == NULL)
		return;
	s->xfer = NULL;
	xfer_io_stop(x);
	sess_log(s, ok ? LOG_LVL_INFO : LOG_LVL_WARN,
	    "%s path=%s bytes=%llu secs=%.3f result=%s", x->verb,
	    x->vp.display, x->bytes, xfer_secs(x), result);
	xfer_xferlog(s, x, ok);
	/* Python's unwrap() waits for our close_notify after uploads too. */
	dc_close(s, ok);
	xfer_free(x);
	sess_reply(s, code, "%s", text);
	/* Shutting down: the transfer was allowed to end; now the session. */
	if (ops_xfer_ended(s))
		return;
	sess_arm_timer(s);
	sess_resume(s);
}

void
xfer_cancel(struct session *s, const char *why)
{
	struct xfer	*x = s->xfer;

	if (x == NULL)
		return;
	s->xfer = NULL;
	xfer_io_stop(x);
	sess_log(s, LOG_LVL_WARN, "%s path=%s bytes=%llu secs=%.3f "
	    "result=aborted reason=\"%s\"", x->verb, x->vp.display, x->bytes,
	    xfer_secs(x), why);
	xfer_xferlog(s, x, 0);
	dc_close(s, 0);
	xfer_free(x);
}

void
xfer_abort(struct session *s, const char *why)
{
	if (s->xfer == NULL)
		return;
	sess_log(s, LOG_LVL_INFO, "transfer aborted by %s", why);
	xfer_done(s, 426, "Connection closed; transfer aborted.", "aborted");
}

/*
 * TYPE A download: LF -> CRLF (RFC 959 3.1.1.1: NVT-ASCII lines end in
 * CRLF on the wire) from p into out, which has room for 2 x n bytes.
 * x->cr carries a CR at the end of one chunk over to the next.
 */
static size_t
xfer_add_crlf(struct xfer *x, const char *p, size_t n, char *out)
{
	size_t	 i, o = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && !x->cr)
			out[o++] = '\r';
		out[o++] = p[i];
		x->cr = p[i] == '\r';
	}
	return o;
}

/* Why the last TLS call on the data connection failed, for the log. */
static const char *
xfer_tls_why(struct xfer *x)
{
	return x->why[0] != '\0' ? x->why : "connection reset or closed";
}

static enum xio
xfer_ssl_result(struct xfer *x, int r)
{
	unsigned long	 e;

	switch (SSL_get_error(x->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return XIO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return XIO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return XIO_EOF;
	default:
		if ((e = ERR_peek_last_error()) != 0)
			ERR_error_string_n(e, x->why, sizeof(x->why));
		ERR_clear_error();
		return XIO_ERR;
	}
}

/* One non-blocking read of at most n bytes into p; *got what came. */
static enum xio
xfer_io_read(struct xfer *x, char *p, size_t n, size_t *got)
{
	ssize_t	 r;
	int	 e;

	*got = 0;
	if (n > INT_MAX)
		n = INT_MAX;
	if (x->ssl == NULL) {
		do
			r = recv(x->sock, p, n, 0);
		while (r == -1 && errno == EINTR);
		if (r > 0) {
			*got = (size_t)r;
			return XIO_OK;
		}
		if (r == 0)
			return XIO_EOF;
		return errno == EAGAIN || errno == EWOULDBLOCK ?
		    XIO_WANT_READ : XIO_ERR;
	}
	ERR_clear_error();
	if ((e = SSL_read(x->ssl, p, (int)n)) > 0) {
		*got = (size_t)e;
		return XIO_OK;
	}
	return xfer_ssl_result(x, e);
}

/*
 * One non-blocking write of p (n > 0); *put what went.  With PROT P the
 * SSL is not in partial-write mode: one SSL_write sends the whole buffer
 * as consecutive records, and a retry after WANT_WRITE passes the same
 * buffer again (x->out and x->outn only move on success).
 */
static enum xio
xfer_io_write(struct xfer *x, const char *p, size_t n, size_t *put)
{
	ssize_t	 r;
	int	 e;

	*put = 0;
	if (n > INT_MAX)
		n = INT_MAX;
	if (x->ssl == NULL) {
		do
			r = send(x->sock, p, n, MSG_NOSIGNAL);
		while (r == -1 && errno == EINTR);
		if (r > 0) {
			*put = (size_t)r;
			return XIO_OK;
		}
		return r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) ?
		    XIO_WANT_WRITE : XIO_ERR;
	}
	ERR_clear_error();
	if ((e = SSL_write(x->ssl, p, (int)n)) > 0) {
		*put = (size_t)e;
		return XIO_OK;
	}
	return xfer_ssl_result(x, e);
}

/*
 * A PROT P download: SSL writes its records into x->gbuf through this
 * BIO, and one send() (xfer_flush) carries up to 2 x FTPS_XFER_CHUNK of
 * them, instead of one send() per 16 KiB record.  Full: retry, which
 * SSL_write reports as WANT_WRITE.
 */
static int
xfer_gather_write(BIO *b, const char *p, size_t n, size_t *put)
{
	struct xfer	*x = BIO_get_data(b);

	*put = 0;
	BIO_clear_retry_flags(b);
	if (n > 2 * FTPS_XFER_CHUNK)
		return 0;
	if (n > 2 * FTPS_XFER_CHUNK - x->glen) {
		BIO_set_retry_write(b);
		return 0;
	}
	memcpy(x->gbuf + x->glen, p, n);
	x->glen += n;
	*put = n;
	return 1;
}

static long
xfer_gather_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct xfer	*x = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;	/* xfer_flush() sends, in its own time */
	case BIO_CTRL_WPENDING:
		return (long)(x->glen - x->goff);
	default:
		return 0;
	}
}

/* 0, or FTPS_ENOMEM: the download then writes to the socket as before. */
static int
xfer_gather(struct xfer *x)
{
	BIO	*b;

	if ((x->gbuf = malloc(2 * FTPS_XFER_CHUNK)) == NULL ||
	    (x->gmeth = BIO_meth_new(BIO_get_new_index() |
	    BIO_TYPE_SOURCE_SINK, "ftpsd gather")) == NULL ||
	    BIO_meth_set_write_ex(x->gmeth, xfer_gather_write) != 1 ||
	    BIO_meth_set_ctrl(x->gmeth, xfer_gather_ctrl) != 1 ||
	    (b = BIO_new(x->gmeth)) == NULL)
		return FTPS_ENOMEM;
	BIO_set_data(b, x);
	BIO_set_init(b, 1);
	x->sockbio = SSL_get_wbio(x->ssl);
	if (x->sockbio == NULL || BIO_up_ref(x->sockbio) != 1) {
		x->sockbio = NULL;
		BIO_free(b);
		return FTPS_ETLS;
	}
	SSL_set0_wbio(x->ssl, b);
	x->gbio = b;
	return 0;
}

/* Sends what SSL gathered: XIO_OK (all gone), XIO_WANT_WRITE or XIO_ERR. */
static enum xio
xfer_flush(struct xfer *x)
{
	ssize_t	 r;

	while (x->goff < x->glen) {
		r = send(x->sock, x->gbuf + x->goff, x->glen - x->goff,
		    MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    XIO_WANT_WRITE : XIO_ERR;
		x->goff += (size_t)r;
	}
	x->glen = x->goff = 0;
	return XIO_OK;
}

/*
 * Downloads: full segments only (several TLS records in one) while the
 * file streams; uncorked at the end so the last bytes leave at once.
 */
static void
xfer_cork(struct xfer *x, int on)
{
	(void)setsockopt(x->sock, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

/*
 * The next piece of a download into x->out: the rest of a listing, or
 * one read of the file straight into the buffer that is sent.  x->outn
 * stays 0 at the end.  0 or FTPS_ESYS.
 */
static int
xfer_refill(struct xfer *x)
{
	char	*in = x->chunk + FTPS_XFER_CHUNK;
	ssize_t	 r;

	if (x->kind == XFER_LIST) {
		x->out = buf_str(&x->text) + x->text_off;
		x->outn = buf_len(&x->text) - x->text_off;
		x->text_off = buf_len(&x->text);
		return 0;
	}
	/* TYPE A: half a chunk in, at most a full chunk out. */
	do
		r = x->ascii ? read(x->fd, in, FTPS_XFER_CHUNK / 2) :
		    read(x->fd, x->chunk, FTPS_XFER_CHUNK);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return FTPS_ESYS;
	x->out = x->chunk;
	x->outn = x->ascii ? xfer_add_crlf(x, in, (size_t)r, x->chunk) :
	    (size_t)r;
	return 0;
}

/*
 * Sends until the socket is full, the budget (FTPS_XFER_HIWAT per
 * wake-up, so one fast client does not hold the loop) is spent or the
 * source ends.  The persistent write event brings us back.
 */
static void
xfer_pump_out(struct session *s)
{
	struct xfer	*x = s->xfer;
	size_t		 n, sent = 0;
	enum xio	 r;

	while (sent < FTPS_XFER_HIWAT) {
		if (x->outn == 0 && !x->srcdone) {
			if (xfer_refill(x) != 0) {
				sess_log(s, LOG_LVL_ERR, "%s read error: %s",
				    x->verb, strerror(errno));
				xfer_done(s, 451, "Local read error; transfer "
				    "aborted.", "fail");
				return;
			}
			x->srcdone = x->outn == 0;
		}
		r = XIO_OK;
		if (x->outn > 0) {
			r = xfer_io_write(x, x->out, x->outn, &n);
			if (r == XIO_OK) {
				x->out += n;
				x->outn -= n;
				x->bytes += n;
				sent += n;
				continue;
			}
			/* Gathering, WANT_WRITE means: x->gbuf is full. */
			if (r == XIO_WANT_WRITE && x->gbio == NULL)
				return;
		}
		if (r == XIO_OK || r == XIO_WANT_WRITE)
			r = xfer_flush(x);
		switch (r) {
		case XIO_OK:
			break;
		case XIO_WANT_WRITE:
			return;
		case XIO_WANT_READ:
			/* Writable but waiting for a read: do not spin. */
			x->wblocked = 1;
			event_del(x->wev);
			return;
		default:
			if (x->tls)
				sess_log(s, LOG_LVL_WARN, "%s data tls: %s",
				    x->verb, xfer_tls_why(x));
			xfer_done(s, 426, "Data connection closed by the "
			    "client; transfer aborted.", "aborted");
			return;
		}
		if (x->outn == 0 && x->srcdone) {
			xfer_cork(x, 0);
			xfer_done(s, 226, "Transfer complete.", "ok");
			return;
		}
	}
}

static void
xfer_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	if (s->xfer == NULL)
		return;
	if (what & EV_TIMEOUT) {
		xfer_done(s, 426, "Data connection timed out; transfer "
		    "aborted.", "timeout");
		return;
	}
	xfer_pump_out(s);
}

/*
 * Whatever a client sends on a download connection is dropped; its end
 * (FIN, close_notify or a reset) ends the transfer with 426.
 */
static void
xfer_discard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	struct xfer	*x = s->xfer;
	char		 junk[4096];
	size_t		 n;
	enum xio	 r;
	int		 i = 0;

	if (x == NULL)
		return;
	while ((r = xfer_io_read(x, junk, sizeof(junk), &n)) == XIO_OK &&
	    ++i < 16)
		;
	if (r == XIO_EOF || r == XIO_ERR) {
		xfer_done(s, 426, "Data connection closed by the client; "
		    "transfer aborted.", "aborted");
		return;
	}
	if (x->wblocked) {
		x->wblocked = 0;
		if (event_add(x->wev, x->tvp) != 0) {
			xfer_done(s, 451, "Cannot wait for the data "
			    "connection; transfer aborted.", "fail");
			return;
		}
		xfer_pump_out(s);
	}
}

static int
xfer_write_all(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return FTPS_ESYS;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* TYPE A upload: CRLF -> LF from p into out (n + 1 bytes of room). */
static void
xfer_strip_cr(struct xfer *x, const char *p, size_t n, char *out,
    size_t *outn)
{
	size_t	 i, o = 0;

	if (x->cr) {
		if (n == 0 || p[0] != '\n')
			out[o++] = '\r';
		x->cr = 0;
	}
	for (i = 0; i < n; i++) {
		if (p[i] == '\r') {
			if (i + 1 == n) {
				x->cr = 1;
				break;
			}
			if (p[i + 1] == '\n')
				continue;
		}
		out[o++] = p[i];
	}
	*outn = o;
}

/*
 * An upload that cannot be written: RFC 959 4.2 452 for a full file
 * system, 552 for an exceeded allocation (quota), 451 for anything else
 * (EIO...).  xfer_done() removes the temporary file: the old one stays.
 */
static void
xfer_fail_write(struct session *s, int err)
{
	if (err == ENOSPC)
		xfer_done(s, 452, "Insufficient storage space; transfer "
		    "aborted, nothing was replaced.", "fail-disk-full");
	else if (err == EDQUOT)
		xfer_done(s, 552, "Exceeded storage allocation (disk quota); "
		    "transfer aborted, nothing was replaced.", "fail-quota");
	else
		xfer_done(s, 451, "Local write error; transfer aborted.",
		    "fail");
}

static void
xfer_finish_upload(struct session *s)
{
	struct xfer	*x = s->xfer;
	int		 fd, err;

	if (x->cr && xfer_write_all(x->fd, "\r", 1) != 0) {
		xfer_fail_write(s, errno);
		return;
	}
	x->cr = 0;
	/* Delayed allocation: a full disk may only show here. */
	fd = x->fd;
	x->fd = -1;
	if (fsync(fd) == -1) {
		err = errno;
		close(fd);
		sess_log(s, LOG_LVL_ERR, "%s sync error: %s", x->verb,
		    strerror(err));
		xfer_fail_write(s, err);
		return;
	}
	if (x->kind == XFER_STOR || x->kind == XFER_STOU) {
		/* Atomic: readers see the old file or the complete new one. */
		if (vfs_upload_commit(&x->vp, &x->up, &fd, x->kind ==
		    XFER_STOU ? x->final : x->vp.name,
		    x->kind == XFER_STOU) != 0) {
			err = errno;
			if (fd != -1)
				close(fd);
			sess_log(s, LOG_LVL_ERR, "%s commit error: %s",
			    x->verb, strerror(err));
			if (err == ENOSPC || err == EDQUOT || err == EIO)
				xfer_fail_write(s, err);
			else
				xfer_done(s, 553, "Cannot store the file; "
				    "transfer aborted.", "fail");
			return;
		}
		if (x->up.sync_err != 0)
			sess_log(s, LOG_LVL_WARN, "%s directory sync: %s",
			    x->verb, strerror(x->up.sync_err));
		xfer_done(s, 226, "Transfer complete.", "ok");
		return;
	}
	if (close(fd) == -1) {
		err = errno;
		sess_log(s, LOG_LVL_ERR, "%s close error: %s", x->verb,
		    strerror(err));
		xfer_fail_write(s, err);
		return;
	}
	xfer_done(s, 226, "Transfer complete.", "ok");
}

/* n received bytes (TYPE A: CRLF -> LF first) to the file.  0 or -1. */
static int
xfer_store(struct xfer *x, const char *p, size_t n)
{
	size_t	 on = n;

	if (x->ascii) {
		/* Output fits: at most n + 1 (a held CR) bytes. */
		xfer_strip_cr(x, p, n, x->chunk + FTPS_XFER_CHUNK, &on);
		p = x->chunk + FTPS_XFER_CHUNK;
	}
	if (xfer_write_all(x->fd, p, on) != 0)
		return -1;
	x->bytes += (unsigned long long)n;
	return 0;
}

static void
xfer_store_failed(struct session *s)
{
	int	 err = errno;	/* logging may change errno */

	sess_log(s, LOG_LVL_ERR, "%s write error: %s", s->xfer->verb,
	    strerror(err));
	xfer_fail_write(s, err);
}

/*
 * Receives straight into the buffer that is written to the file: several
 * TLS records (or recv()s) fill it before one write().  Stops when the
 * socket is empty, at the end, or after FTPS_XFER_HIWAT in one wake-up;
 * then it schedules itself again, since SSL may hold records that the
 * socket no longer signals.
 */
static void
xfer_pump_in(struct session *s)
{
	struct xfer	*x = s->xfer;
	size_t		 fill, n, total = 0, room;
	enum xio	 r;

	/*
	 * TYPE I: the whole buffer, so whole 16 KiB records make page-aligned
	 * 256 KiB writes.  TYPE A: the second half takes the CRLF -> LF copy.
	 */
	room = x->ascii ? FTPS_XFER_CHUNK - 1 : 2 * FTPS_XFER_CHUNK;
	for (;;) {
		fill = 0;
		do {
			r = xfer_io_read(x, x->chunk + fill, room - fill, &n);
			fill += n;
		} while (r == XIO_OK && fill < room);
		if (fill > 0 && xfer_store(x, x->chunk, fill) != 0) {
			xfer_store_failed(s);
			return;
		}
		total += fill;
		switch (r) {
		case XIO_OK:
			if (total < FTPS_XFER_HIWAT)
				continue;
			event_active(x->rev, EV_READ, 0);
			return;
		case XIO_WANT_READ:
			return;
		case XIO_WANT_WRITE:
			/* Readable but waiting for a write: do not spin. */
			event_del(x->rev);
			if (event_add(x->wev, x->tvp) != 0)
				xfer_done(s, 451, "Cannot wait for the data "
				    "connection; transfer aborted.", "fail");
			return;
		case XIO_EOF:
			xfer_finish_upload(s);
			return;
		case XIO_ERR:
			break;
		}
		break;
	}
	/*
	 * SECURITY: truncation attack: a TLS upload that ends without
	 * close_notify may have been cut by a third party; it is not kept.
	 */
	if (x->tls) {
		sess_log(s, LOG_LVL_WARN, "%s data tls: %s", x->verb,
		    xfer_tls_why(x));
		xfer_done(s, 426, "TLS data connection ended without "
		    "close_notify; upload aborted, old file kept.",
		    "aborted-no-close-notify");
	} else
		xfer_done(s, 426, "Data connection lost; upload aborted.",
		    "aborted");
}

static void
xfer_in_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	struct xfer	*x = s->xfer;

	if (x == NULL)
		return;
	if (what & EV_TIMEOUT) {
		xfer_done(s, 426, "Data connection timed out; transfer "
		    "aborted.", "timeout");
		return;
	}
	/* The write a read waited for can go: reading resumes. */
	if ((what & EV_WRITE) && event_add(x->rev, x->tvp) != 0) {
		xfer_done(s, 451, "Cannot wait for the data connection; "
		    "transfer aborted.", "fail");
		return;
	}
	xfer_pump_in(s);
}

static const char *
xfer_mode(const struct xfer *x)
{
	return x->ascii ? "ASCII" : "BINARY";
}

static void
xfer_reply_150(struct session *s, struct xfer *x)
{
	switch (x->kind) {
	case XFER_RETR:
		sess_reply(s, 150, "Opening %s mode data connection for %s "
		    "(%lld bytes).", xfer_mode(x), x->vp.display,
		    (long long)x->size);
		break;
	case XFER_LIST:
		sess_reply(s, 150, "Here comes the directory listing.");
		break;
	case XFER_STOU:
		/* RFC 1123 4.1.2.9. */
		sess_reply(s, 150, "FILE: %s", x->final);
		break;
	default:
		sess_reply(s, 150, "Opening %s mode data connection for %s.",
		    xfer_mode(x), x->vp.display);
		break;
	}
}

static int
xfer_open_target(struct session *s, struct xfer *x)
{
	mode_t	 mode = 0666 & ~(mode_t)s->ctx->conf.file_umask;
	int	 r;

	switch (x->kind) {
	case XFER_STOR:
	case XFER_STOU:
		return vfs_upload_open(&x->vp, &x->up, &x->fd);
	case XFER_STOR_AT:
		if ((r = vfs_open(&s->vfs, &x->vp, O_WRONLY | O_CREAT |
		    O_CLOEXEC, mode, &x->fd)) != 0)
			return r;
		if (lseek(x->fd, x->offset, SEEK_SET) == -1)
			return FTPS_ESYS;
		return 0;
	case XFER_APPE:
		return vfs_open(&s->vfs, &x->vp, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, mode, &x->fd);
	default:
		return 0;
	}
}

/*
 * The data connection is ready: from here on the transfer drives its
 * socket (and SSL) itself.  The bufferevent that carried the handshake
 * is switched off; what it had already read is taken over first.
 */
static int
xfer_take_over(struct xfer *x, struct bufferevent *bev)
{
	x->bev = bev;
	x->ssl = bufferevent_openssl_get_ssl(bev);
	x->tls = x->ssl != NULL;
	x->sock = bufferevent_getfd(bev);
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_set_timeouts(bev, NULL, NULL);
	if (x->sock == -1)
		return FTPS_ESYS;
	if (x->ssl != NULL) {
		/*
		 * Whole-buffer SSL_writes, and the record buffers kept for
		 * the whole transfer rather than freed when empty.
		 */
		SSL_clear_mode(x->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_RELEASE_BUFFERS);
		SSL_set_mode(x->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	/* A listing is sent from its text: no buffer. */
	if (x->kind != XFER_LIST &&
	    (x->chunk = malloc(2 * FTPS_XFER_CHUNK)) == NULL)
		return FTPS_ENOMEM;
	return 0;
}

static int
xfer_events(struct session *s, struct xfer *x)
{
	struct event_base	*base = s->ctx->base;

	if (xfer_is_upload(x)) {
		x->rev = event_new(base, x->sock, EV_READ | EV_PERSIST,
		    xfer_in_cb, s);
		x->wev = event_new(base, x->sock, EV_WRITE, xfer_in_cb, s);
		if (x->rev == NULL || x->wev == NULL ||
		    event_add(x->rev, x->tvp) != 0)
			return FTPS_ENOMEM;
		return 0;
	}
	/* A download waits on writes only: no read timeout. */
	x->rev = event_new(base, x->sock, EV_READ | EV_PERSIST,
	    xfer_discard_cb, s);
	x->wev = event_new(base, x->sock, EV_WRITE | EV_PERSIST,
	    xfer_out_cb, s);
	if (x->rev == NULL || x->wev == NULL ||
	    event_add(x->rev, NULL) != 0 || event_add(x->wev, x->tvp) != 0)
		return FTPS_ENOMEM;
	return 0;
}

static void
xfer_begin(struct session *s, struct xfer *x, struct bufferevent *bev)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	int		 r, err, n;

	if (xfer_take_over(x, bev) != 0) {
		xfer_done(s, 451, "Cannot set up the transfer.", "fail");
		return;
	}
	if (s->ctx->conf.data_timeout > 0) {
		x->tv.tv_sec = s->ctx->conf.data_timeout;
		x->tv.tv_usec = 0;
		x->tvp = &x->tv;
	}
	if (xfer_is_upload(x)) {
		/* Only now, after the TLS handshake (RFC 4217 peer check). */
		if ((r = xfer_open_target(s, x)) != 0) {
			err = errno;
			sess_log(s, LOG_LVL_WARN, "%s cannot open path=%s: %s",
			    x->verb, x->vp.display, r == FTPS_ESYS ?
			    strerror(err) : ftps_strerror(r));
			if (r == FTPS_ESYS && (err == ENOSPC || err == EDQUOT))
				xfer_fail_write(s, err);
			else
				xfer_done(s, 553, "Cannot create the file.",
				    "fail");
			return;
		}
		if (xfer_events(s, x) != 0) {
			xfer_done(s, 451, "Out of memory.", "fail");
			return;
		}
		/* Bytes that came with the handshake belong to the file. */
		while ((n = evbuffer_remove(in, x->chunk,
		    FTPS_XFER_CHUNK - 1)) > 0) {
			if (xfer_store(x, x->chunk, (size_t)n) != 0) {
				xfer_store_failed(s);
				return;
			}
		}
		xfer_pump_in(s);
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	if (x->kind == XFER_RETR && x->offset > 0 &&
	    lseek(x->fd, x->offset, SEEK_SET) == -1) {
		xfer_done(s, 451, "Cannot seek to the REST offset.", "fail");
		return;
	}
	if (x->kind == XFER_RETR)
		(void)posix_fadvise(x->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* Worth it from a few records on; a small file goes straight. */
	if (x->ssl != NULL && x->kind == XFER_RETR &&
	    x->size - x->offset >= (off_t)FTPS_XFER_CHUNK &&
	    xfer_gather(x) != 0) {
		xfer_done(s, 451, "Out of memory.", "fail");
		return;
	}
	xfer_cork(x, 1);
	if (xfer_events(s, x) != 0) {
		xfer_done(s, 451, "Out of memory.", "fail");
		return;
	}
	xfer_pump_out(s);
}

static void
xfer_dc_cb(struct session *s, enum dc_event ev, struct bufferevent *bev,
    int code, const char *text)
{
	struct xfer	*x = s->xfer;

	if (x == NULL)
		return;
	switch (ev) {
	case DC_EV_CONNECTED:
		xfer_reply_150(s, x);
		break;
	case DC_EV_READY:
		xfer_begin(s, x, bev);
		break;
	case DC_EV_FAIL:
		xfer_done(s, code, text, "fail");
		break;
	}
}

void
xfer_start(struct session *s, struct xfer *x)
{
	s->xfer = x;
	x->ascii = x->kind != XFER_LIST && (s->flags & SF_TYPE_A);
	clock_gettime(CLOCK_MONOTONIC, &x->t0);
	sess_arm_timer(s);
	dc_open(s, xfer_dc_cb);
}
