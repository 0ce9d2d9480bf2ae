/*
 * Streaming between a file (or a listing) and the data connection.
 * Downloads refill the output only below FTPS_XFER_HIWAT; uploads stop
 * reading above it.  Memory stays bounded whatever the size of the file.
 */
#define _GNU_SOURCE	/* renameat2 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
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
	char			 tmpname[FTPS_NAME_MAX + 1];
	int			 have_tmp;	/* tmpname exists on disk */
	char			 final[FTPS_NAME_MAX + 1];	/* STOU */
	char			*chunk;
	struct bufferevent	*bev;		/* the datachan's */
	unsigned long long	 bytes;
	struct timespec		 t0;
	int			 ascii;
	int			 cr;		/* CR pending at a chunk edge */
	int			 eof;
	int			 tls;
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

void
xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	if (x->fd != -1)
		close(x->fd);
	/* An unfinished upload never replaces the old file. */
	if (x->have_tmp && x->vp.dirfd != -1)
		unlinkat(x->vp.dirfd, x->tmpname, 0);
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

static int
xfer_add_crlf(struct evbuffer *out, const char *p, size_t n, int *lastcr)
{
	const char	*nl;
	size_t		 seg;

	/* RFC 959 3.1.1.1: NVT-ASCII lines end in CRLF on the wire. */
	while (n > 0) {
		if ((nl = memchr(p, '\n', n)) == NULL) {
			if (evbuffer_add(out, p, n) != 0)
				return FTPS_ENOMEM;
			*lastcr = p[n - 1] == '\r';
			return 0;
		}
		seg = (size_t)(nl - p);
		if (seg > 0 && evbuffer_add(out, p, seg) != 0)
			return FTPS_ENOMEM;
		if (!((seg > 0 && p[seg - 1] == '\r') || (seg == 0 && *lastcr))
		    && evbuffer_add(out, "\r", 1) != 0)
			return FTPS_ENOMEM;
		if (evbuffer_add(out, "\n", 1) != 0)
			return FTPS_ENOMEM;
		*lastcr = 0;
		p += seg + 1;
		n -= seg + 1;
	}
	return 0;
}

/* Tops the output up to FTPS_XFER_HIWAT.  0 or an FTPS_E code. */
static int
xfer_fill(struct xfer *x)
{
	struct evbuffer	*out = bufferevent_get_output(x->bev);
	size_t		 before, n;
	ssize_t		 r;

	while (!x->eof && evbuffer_get_length(out) < FTPS_XFER_HIWAT) {
		before = evbuffer_get_length(out);
		if (x->kind == XFER_LIST) {
			n = buf_len(&x->text) - x->text_off;
			if (n > FTPS_XFER_CHUNK)
				n = FTPS_XFER_CHUNK;
			if (n > 0 && evbuffer_add(out, buf_str(&x->text) +
			    x->text_off, n) != 0)
				return FTPS_ENOMEM;
			x->text_off += n;
			x->eof = x->text_off == buf_len(&x->text);
		} else {
			r = read(x->fd, x->chunk, FTPS_XFER_CHUNK);
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1)
				return FTPS_ESYS;
			if (r == 0) {
				x->eof = 1;
				break;
			}
			if (x->ascii) {
				if (xfer_add_crlf(out, x->chunk, (size_t)r,
				    &x->cr) != 0)
					return FTPS_ENOMEM;
			} else if (evbuffer_add(out, x->chunk, (size_t)r) != 0)
				return FTPS_ENOMEM;
		}
		x->bytes += evbuffer_get_length(out) - before;
	}
	return 0;
}

static void
xfer_send_more(struct session *s)
{
	struct xfer	*x = s->xfer;
	int		 r;

	if ((r = xfer_fill(x)) != 0) {
		sess_log(s, LOG_LVL_ERR, "%s read error: %s", x->verb,
		    ftps_strerror(r));
		xfer_done(s, 451, "Local read error; transfer aborted.",
		    "fail");
		return;
	}
	if (x->eof &&
	    evbuffer_get_length(bufferevent_get_output(x->bev)) == 0)
		xfer_done(s, 226, "Transfer complete.", "ok");
}

static void
xfer_write_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	if (s->xfer != NULL)
		xfer_send_more(s);
}

/* Whatever a client sends on a download connection is dropped. */
static void
xfer_discard_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);

	evbuffer_drain(in, evbuffer_get_length(in));
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
xfer_read_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;
	struct xfer	*x = s->xfer;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*out;
	int		 n, err;
	size_t		 on;

	if (x == NULL) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	while (evbuffer_get_length(in) > 0) {
		n = evbuffer_remove(in, x->chunk, FTPS_XFER_CHUNK - 1);
		if (n <= 0)
			break;
		out = x->chunk;
		on = (size_t)n;
		if (x->ascii) {
			/* Output fits: at most n + 1 (a held CR) bytes. */
			xfer_strip_cr(x, x->chunk, (size_t)n, x->chunk +
			    FTPS_XFER_CHUNK, &on);
			out = x->chunk + FTPS_XFER_CHUNK;
		}
		if (xfer_write_all(x->fd, out, on) != 0) {
			err = errno;	/* logging may change errno */
			sess_log(s, LOG_LVL_ERR, "%s write error: %s", x->verb,
			    strerror(err));
			xfer_fail_write(s, err);
			return;
		}
		x->bytes += (unsigned long long)n;
	}
}

static void
xfer_finish_upload(struct session *s)
{
	struct xfer	*x = s->xfer;
	int		 r, fd, err;

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
	if (close(fd) == -1) {
		err = errno;
		sess_log(s, LOG_LVL_ERR, "%s close error: %s", x->verb,
		    strerror(err));
		xfer_fail_write(s, err);
		return;
	}
	if (x->kind == XFER_STOR || x->kind == XFER_STOU) {
		/* Atomic: readers see the old file or the complete new one. */
		if (x->kind == XFER_STOU)
			r = renameat2(x->vp.dirfd, x->tmpname, x->vp.dirfd,
			    x->final, RENAME_NOREPLACE);
		else
			r = renameat(x->vp.dirfd, x->tmpname, x->vp.dirfd,
			    x->vp.name);
		if (r == -1) {
			sess_log(s, LOG_LVL_ERR, "%s rename error: %s",
			    x->verb, strerror(errno));
			xfer_done(s, 553, "Cannot store the file; transfer "
			    "aborted.", "fail");
			return;
		}
		x->have_tmp = 0;
		/*
		 * The rename itself reaches the disk: after a power loss
		 * the name holds the old or the new file, never an empty
		 * one.  Failing here changes nothing already visible.
		 */
		if ((fd = openat(x->vp.dirfd, ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1 || fsync(fd) == -1)
			sess_log(s, LOG_LVL_WARN, "%s directory sync: %s",
			    x->verb, strerror(errno));
		if (fd != -1)
			close(fd);
	}
	xfer_done(s, 226, "Transfer complete.", "ok");
}

static void
xfer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;
	struct xfer	*x = s->xfer;

	if (x == NULL)
		return;
	if (what & BEV_EVENT_TIMEOUT) {
		xfer_done(s, 426, "Data connection timed out; transfer "
		    "aborted.", "timeout");
		return;
	}
	if (!xfer_is_upload(x)) {
		xfer_done(s, 426, "Data connection closed by the client; "
		    "transfer aborted.", "aborted");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* Whatever is still buffered belongs to the file. */
		xfer_read_cb(bev, s);
		if (s->xfer == x)
			xfer_finish_upload(s);
		return;
	}
	/*
	 * SECURITY: truncation attack: a TLS upload that ends without
	 * close_notify may have been cut by a third party; it is not kept.
	 */
	if (x->tls)
		xfer_done(s, 426, "TLS data connection ended without "
		    "close_notify; upload aborted, old file kept.",
		    "aborted-no-close-notify");
	else
		xfer_done(s, 426, "Data connection lost; upload aborted.",
		    "aborted");
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
		if ((r = vfs_mktemp(&x->vp, x->tmpname, sizeof(x->tmpname),
		    &x->fd)) != 0)
			return r;
		x->have_tmp = 1;
		return 0;
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

static void
xfer_begin(struct session *s, struct xfer *x, struct bufferevent *bev)
{
	struct timeval	 tv;
	struct timeval	*tvp = NULL;
	int		 r, err;

	x->bev = bev;
	x->tls = bufferevent_openssl_get_ssl(bev) != NULL;
	if ((x->chunk = malloc(2 * FTPS_XFER_CHUNK)) == NULL) {
		xfer_done(s, 451, "Out of memory.", "fail");
		return;
	}
	if (s->ctx->conf.data_timeout > 0) {
		tv.tv_sec = s->ctx->conf.data_timeout;
		tv.tv_usec = 0;
		tvp = &tv;
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
		bufferevent_setcb(bev, xfer_read_cb, NULL, xfer_event_cb, s);
		bufferevent_setwatermark(bev, EV_READ, 0, FTPS_XFER_HIWAT);
		bufferevent_set_timeouts(bev, tvp, tvp);
		bufferevent_enable(bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
			xfer_read_cb(bev, s);
		return;
	}
	if (x->kind == XFER_RETR && x->offset > 0 &&
	    lseek(x->fd, x->offset, SEEK_SET) == -1) {
		xfer_done(s, 451, "Cannot seek to the REST offset.", "fail");
		return;
	}
	bufferevent_setcb(bev, xfer_discard_cb, xfer_write_cb, xfer_event_cb,
	    s);
	bufferevent_setwatermark(bev, EV_WRITE, FTPS_XFER_HIWAT / 2, 0);
	/* A download waits on writes only: no read timeout. */
	bufferevent_set_timeouts(bev, NULL, tvp);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	xfer_send_more(s);
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
