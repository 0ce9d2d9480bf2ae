/*
 * Streaming between a file (or a listing) and the data connection.
 * Once the data connection is ready, the transfer drives its socket (and
 * with PROT P its SSL) itself: a download reads the file into buffers
 * kept for the whole transfer and hands each to SSL_write (or send); an
 * upload SSL_reads (or recvs) straight into the buffer that is written to
 * the file.  No evbuffer copy, no per-chunk allocation, and memory stays
 * bounded (two buffers of 2 x FTPS_XFER_CHUNK: one is sent or filled
 * while the other is read from or written to the file) whatever the file
 * size.  Every file read and write runs on the I/O pool, never on the
 * loop: a hole to fill with zeroes, an unwritten extent, page allocation,
 * writeback throttling or a slow disk holds only its own transfer.
 */
#define _GNU_SOURCE	/* renameat2 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <netinet/in.h>

#include <errno.h>
#include <linux/magic.h>
#include <stdatomic.h>
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
#include <openssl/ssl.h>

#include "buf.h"
#include "conf.h"
#include "datachan.h"
#include "err.h"
#include "ftps_limits.h"
#include "ftpsd.h"
#include "iopool.h"
#include "listing.h"
#include "metrics.h"
#include "parse.h"
#include "session.h"
#include "transfer.h"
#include "vfs.h"
#include "xferio.h"
#include "xferlog.h"

/* What an upload does once a write job is done. */
enum xfer_next {
	XN_READ,	/* read on (the socket, or what SSL holds) */
	XN_FINISH,	/* the client's end came: fsync, rename */
};

enum { XOP_READ, XOP_WRITE, XOP_FINISH, XOP_LIST, XOP_OPEN, XOP_CLOSE };
#define XFER_THEN_MAX	3	/* see struct xfer's then[] */

enum { FIN_OK, FIN_WRITE, FIN_SYNC, FIN_CLOSE, FIN_COMMIT, FIN_ABANDONED };

struct xfer {
	enum xfer_kind		 kind;
	char			 verb[8];
	struct vpath		 vp;		/* dirfd owned */
	struct vfs		 root;		/* APPE, STOR at REST: the
						 * home held (xfer_set_root) */
	mode_t			 mode;		/* a new file's */
	int			 fd;		/* the file, or -1 */
	off_t			 size;
	off_t			 offset;
	struct ls_iter		*ls;		/* XFER_LIST: what is left */
	struct buf		 text;		/* XFER_LIST: one slice */
	struct vfs_upload	 up;		/* STOR, STOU */
	char			 final[FTPS_NAME_MAX + 1];	/* STOU */
	char			*chunk;		/* 2 buffers of 2 x FTPS_XFER_CHUNK */
	struct bufferevent	*bev;		/* the datachan's, disabled */
	struct xio		 io;		/* its socket, SSL (PROT P) */
	struct event		*rev;		/* sock readable */
	struct event		*wev;		/* sock writable */
	struct session		*s;
	/*
	 * File I/O runs on the pool (iopool.h), one job at a time: while
	 * io_busy, the job owns fd, cr, rpos, rdata, the buffer it reads
	 * into or writes from and (FINISH) the names; the loop does not
	 * touch them (it sends or fills the other buffer), and xfer_free()
	 * leaves the rest to the job's end (io_orphan).
	 */
	struct io_job		 job;		/* one at a time */
	struct iopool		*pool;		/* the session's, or NULL */
	int			 io_busy;
	int			 io_orphan;
	int			 io_closed;	/* XOP_CLOSE went: close here */
	atomic_int		 io_abandon;	/* no rename any more */
	int			 io_op;		/* XOP_* */
	char			*io_ptr;	/* READ into, WRITE from */
	size_t			 io_len;
	ssize_t			 io_res;	/* -1: io_err */
	int			 io_err;
	/*
	 * A final reply that came while a job ran (ABOR, the data connection
	 * lost): given once the job is back and what it held is gone, so a
	 * client that reads 426 finds no leftover.  A commit the job made
	 * meanwhile stands: its reply is 226 instead.  then[] follow the
	 * final reply (ABOR's own 226, QUIT's 221, a kick's 421), each
	 * caller's once: ABOR or QUIT (no command is read while a reply is
	 * held), a kick, and a spare.
	 */
	int			 held_code;
	char			 held_text[256];	/* a copy: callers'
						 * texts may be on their stack */
	const char		*held_result;	/* a literal */
	void			(*then[XFER_THEN_MAX])(struct session *);
	char			*rbuf;		/* upload: the buffer filling;
						   download: the one read next */
	size_t			 rfill;
	enum xfer_next		 in_next;	/* WRITE: then what */
	int			 fin_stage;	/* FINISH: FIN_* */
	const char		*out;		/* download: bytes not yet sent */
	size_t			 outn;
	const char		*next;		/* download: read, not yet sent */
	size_t			 nextn;
	int			 rdeof;		/* download: the file read out */
	off_t			 rpos;		/* download: the next read's */
	off_t			 rdata;		/* download: data (no hole) up
						   to here from rpos */
	int			 holes;		/* download: 1 holes made as
						   zeroes, 0 read, -1 not
						   asked yet (the jobs') */
	unsigned long long	 bytes;
	struct timespec		 t0;
	int			 ascii;
	int			 cr;		/* CR pending at a chunk edge */
	int			 tls;
	int			 wblocked;	/* a write waits for a read */
	struct timeval		 tv;		/* data_timeout */
	struct timeval		*tvp;		/* &tv, or NULL: none */
};

/*
 * A listing is produced this much at a time, and sent before the next
 * slice is made: at most 2 x XFER_LS_SLICE of text per listing, and one
 * slice of work per wake-up.
 */
#define XFER_LS_SLICE	(16u * 1024)

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
	x->root.rootfd = -1;
	if (vp->dirfd != -1 &&
	    (x->vp.dirfd = fcntl(vp->dirfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(x);
		return NULL;
	}
	x->fd = -1;
	x->holes = -1;
	buf_init(&x->text, 2 * XFER_LS_SLICE);
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
xfer_set_listing(struct xfer *x, struct ls_iter *it)
{
	ls_close(x->ls);
	x->ls = it;
}

void
xfer_set_offset(struct xfer *x, off_t off)
{
	x->offset = off;
}

void
xfer_set_root(struct xfer *x, struct vfs *v)
{
	vfs_close(&x->root);
	x->root = *v;
	v->rootfd = -1;
	v->home = NULL;
	v->cwd = NULL;
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
	xio_stop(&x->io);
	if (x->rev != NULL) {
		event_free(x->rev);
		x->rev = NULL;
	}
	if (x->wev != NULL) {
		event_free(x->wev);
		x->wev = NULL;
	}
}

/* Hands x's next file operation (XOP_*) to the I/O pool. */
static void
xfer_submit(struct xfer *x, int op)
{
	x->io_op = op;
	x->io_busy = 1;
	x->io_closed |= op == XOP_CLOSE;
	iopool_submit(x->pool, &x->job);
}

/*
 * Whether x still has a file to close, which is done on the pool: the
 * last close of a file that has no name left (an upload never committed,
 * an O_TMPFILE or a hidden name to unlink; a download of a file deleted
 * meanwhile) frees its pages and blocks (80 ms on the loop for an aborted
 * 1 GiB upload on ext4, 300 ms once written out), and on NFS or FUSE any
 * close can wait for the server (close-to-open flush).
 */
static int
xfer_close_frees(const struct xfer *x)
{
	if (x->io_closed || x->pool == NULL)
		return 0;
	return x->up.tmpname[0] != '\0' || x->fd != -1;
}

/* The end of x's file, on the pool: see xfer_close_frees(). */
static void
xfer_close_run(struct xfer *x)
{
	if (x->fd != -1) {
		(void)close(x->fd);
		x->fd = -1;
	}
	/* An unfinished upload never replaces the old file. */
	vfs_upload_discard(&x->vp, &x->up);
}

void
xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	xfer_io_stop(x);
	if (x->io_busy) {
		/* The job holds fd and chunk: the rest goes when it ends. */
		atomic_store(&x->io_abandon, 1);
		x->io_orphan = 1;
		return;
	}
	if (xfer_close_frees(x)) {
		x->io_orphan = 1;
		xfer_submit(x, XOP_CLOSE);
		return;
	}
	if (x->fd != -1)
		close(x->fd);
	/* An unfinished upload never replaces the old file. */
	vfs_upload_discard(&x->vp, &x->up);
	vpath_free(&x->vp);
	vfs_close(&x->root);
	ls_close(x->ls);
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

void
xfer_info(const struct xfer *x, struct xfer_info *xi)
{
	xi->verb = x->verb;
	xi->path = x->vp.path;
	xi->bytes = x->bytes;
	xi->secs = xfer_secs(x);
	xi->upload = xfer_is_upload(x);
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
		sess_log_errno(s, LOG_LVL_ERR, "xferlog_file");
}

/* The final reply of a transfer; the session reads commands again. */
static void
xfer_done(struct session *s, int code, const char *text, const char *result)
{
	struct xfer	*x = s->xfer;
	const struct sess_hooks	*hooks = s->ctx->hooks;
	struct xfer_report	 rep;
	char			 q[LOG_VALUE_MAX], reply[256];
	int			 ok = strcmp(result, "ok") == 0;
	size_t			 i;

	void			(*then[XFER_THEN_MAX])(struct session *);

	if (x == NULL)
		return;
	if (x->io_busy || xfer_close_frees(x)) {
		/* Replied when the job is back (xfer_job_done). */
		if (x->held_code == 0) {
			x->held_code = code;
			snprintf(x->held_text, sizeof(x->held_text), "%s",
			    text);
			x->held_result = result;
		}
		atomic_store(&x->io_abandon, 1);
		xfer_io_stop(x);
		if (!x->io_busy)
			xfer_submit(x, XOP_CLOSE);
		return;
	}
	memcpy(then, x->then, sizeof(then));
	/* text may be x->held_text, freed below. */
	snprintf(reply, sizeof(reply), "%s", text);
	s->xfer = NULL;
	xfer_io_stop(x);
	sess_log(s, ok ? LOG_LVL_INFO : LOG_LVL_WARN,
	    "%s path=%s bytes=%llu secs=%.3f result=%s", x->verb,
	    log_quote(q, sizeof(q), x->vp.path), x->bytes, xfer_secs(x),
	    result);
	xfer_xferlog(s, x, ok);
	if (x->kind != XFER_LIST)
		mt_xfer(s, xfer_is_upload(x), result, x->bytes);
	memcpy(rep.verb, x->verb, sizeof(rep.verb));
	rep.bytes = x->bytes;
	rep.code = code;
	rep.result = result;
	/* Python's unwrap() waits for our close_notify after uploads too. */
	dc_close(s, ok);
	xfer_free(x);
	sess_reply(s, code, "%s", reply);
	for (i = 0; i < XFER_THEN_MAX && then[i] != NULL; i++) {
		then[i](s);
		if (s->state == SESS_CLOSING)
			return;
	}
	/* Shutting down: the hook may end the session now. */
	if (hooks != NULL && hooks->xfer_ended != NULL &&
	    hooks->xfer_ended(s, &rep))
		return;
	sess_arm_timer(s);
	sess_resume(s);
}

void
xfer_cancel(struct session *s, const char *why)
{
	struct xfer	*x = s->xfer;
	char		 q[LOG_VALUE_MAX];

	if (x == NULL)
		return;
	s->xfer = NULL;
	xfer_io_stop(x);
	sess_log(s, LOG_LVL_WARN, "%s path=%s bytes=%llu secs=%.3f "
	    "result=aborted reason=\"%s\"", x->verb,
	    log_quote(q, sizeof(q), x->vp.path), x->bytes, xfer_secs(x), why);
	xfer_xferlog(s, x, 0);
	if (x->kind != XFER_LIST)
		mt_xfer(s, xfer_is_upload(x), "aborted", x->bytes);
	dc_close(s, 0);
	xfer_free(x);
}

void
xfer_abort(struct session *s, const char *why,
    void (*then)(struct session *))
{
	struct xfer	*x = s->xfer;
	size_t		 i;

	if (x == NULL) {
		if (then != NULL)
			then(s);
		return;
	}
	sess_log(s, LOG_LVL_INFO, "transfer aborted by %s", why);
	/* Aborted again while the first one waits: after it, in order. */
	for (i = 0; then != NULL && i < XFER_THEN_MAX; i++) {
		if (x->then[i] == then)
			break;
		if (x->then[i] == NULL) {
			x->then[i] = then;
			break;
		}
	}
	xfer_done(s, 426, "Connection closed; transfer aborted.", "aborted");
}

int
xfer_ending(const struct xfer *x)
{
	return x->held_code != 0;
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

/*
 * The next slice of a listing (XFER_LS_SLICE of lines), on the pool: the
 * directory's reads and each entry's stat may wait for the disk.  io_res
 * 0, or -1 with io_err.
 */
static void
xfer_list_run(struct xfer *x)
{
	int	 r = 1;

	x->io_res = 0;
	buf_reset(&x->text);
	if (x->ls != NULL &&
	    (r = ls_next(x->ls, &x->text, XFER_LS_SLICE, SIZE_MAX)) < 0) {
		x->io_res = -1;
		x->io_err = r == FTPS_ESYS ? errno : r == FTPS_ENOMEM ?
		    ENOMEM : EIO;
		return;
	}
	if (r == 1) {
		ls_close(x->ls);
		x->ls = NULL;
	}
}

/*
 * Waits for ev (the data socket) with data_timeout: 0, or -1 when it
 * cannot and the transfer ended (451).
 */
static int
xfer_wait(struct session *s, struct event *ev)
{
	if (event_add(ev, s->xfer->tvp) == 0)
		return 0;
	xfer_done(s, 451, "Cannot wait for the data connection; transfer "
	    "aborted.", "fail");
	return -1;
}

/* The other buffer of the two in x->chunk. */
static char *
xfer_other(const struct xfer *x, const char *b)
{
	return b == x->chunk ? x->chunk + 2 * FTPS_XFER_CHUNK : x->chunk;
}

/*
 * A hole (or unwritten extent) at x->rpos is zeroes that need no read:
 * a read would fill the page cache with new zeroed pages (60 ms for
 * 256 KiB seen on ext4 under load), so they are made here.  Returns the
 * bytes of zeroes put at io_ptr (0: the end of the file), or -1: read
 * (data, or a file system without SEEK_DATA), io_len bounded to the data
 * found.  x->rdata keeps where the data ends, so a file without holes
 * costs one SEEK_DATA and one SEEK_HOLE, and two SEEK_DATA and an fstat
 * at its end.
 */
static ssize_t
xfer_read_hole(struct xfer *x)
{
	struct stat	 st;
	struct statfs	 sf;
	off_t		 d, h, n;

	/*
	 * Only where SEEK_DATA/SEEK_HOLE are known to tell the truth about
	 * data not yet written out (ext4, XFS, btrfs, tmpfs): elsewhere a
	 * wrong hole would send zeroes for data (OpenZFS 2.2.0 did that).
	 */
	if (x->holes == -1)
		x->holes = fstatfs(x->fd, &sf) == 0 &&
		    (sf.f_type == EXT4_SUPER_MAGIC ||
		    sf.f_type == XFS_SUPER_MAGIC ||
		    sf.f_type == BTRFS_SUPER_MAGIC || sf.f_type == TMPFS_MAGIC);
	if (!x->holes)
		return -1;
	if (x->rpos < x->rdata) {
		if ((off_t)x->io_len > x->rdata - x->rpos)
			x->io_len = (size_t)(x->rdata - x->rpos);
		return -1;
	}
	if ((d = lseek(x->fd, x->rpos, SEEK_DATA)) == x->rpos) {
		if ((h = lseek(x->fd, x->rpos, SEEK_HOLE)) <= x->rpos)
			return -1;
		x->rdata = h;
		return xfer_read_hole(x);
	}
	if (d == -1 && errno != ENXIO)
		return -1;
	/*
	 * ENXIO: a hole up to the end, or the end itself.  The size first,
	 * then the data again: bytes appended meanwhile are read, not
	 * taken for a hole.
	 */
	if (d == -1) {
		if (fstat(x->fd, &st) == -1)
			return -1;
		if ((d = lseek(x->fd, x->rpos, SEEK_DATA)) == -1 &&
		    errno != ENXIO)
			return -1;
		if (d == -1 || d > st.st_size)
			d = st.st_size;
	}
	if ((n = d - x->rpos) <= 0)
		return -1;
	if (n > (off_t)x->io_len)
		n = (off_t)x->io_len;
	memset(x->io_ptr, 0, (size_t)n);
	return (ssize_t)n;
}

/*
 * A download's file read, on the pool, into x->rbuf, the buffer that is
 * neither being sent nor waiting to be: 2 x FTPS_XFER_CHUNK in TYPE I;
 * in TYPE A half a chunk into its second half, converted into its first
 * (at most a full chunk).  io_res: the bytes to send, 0 at the end of
 * the file, -1 with io_err.  In a download x->cr is the jobs' alone.
 */
static void
xfer_read_run(struct xfer *x)
{
	ssize_t	 r;

	if ((r = xfer_read_hole(x)) == -1)
		do
			r = pread(x->fd, x->io_ptr, x->io_len, x->rpos);
		while (r == -1 && errno == EINTR);
	if (r > 0)
		x->rpos += r;
	x->io_res = r;
	if (r == -1)
		x->io_err = errno;
	else if (x->ascii)
		x->io_res = (ssize_t)xfer_add_crlf(x, x->io_ptr, (size_t)r,
		    x->rbuf);
}

/*
 * Starts the next read on the pool as soon as a buffer is free, so the
 * file is read while the previous buffer is encrypted and sent.  A
 * listing makes its next slice once the last one is sent (one buffer).
 */
static void
xfer_read_next(struct xfer *x)
{
	if (x->io_busy || x->rdeof || x->next != NULL)
		return;
	if (x->kind == XFER_LIST) {
		if (x->outn == 0)
			xfer_submit(x, XOP_LIST);
		return;
	}
	x->io_ptr = x->ascii ? x->rbuf + FTPS_XFER_CHUNK : x->rbuf;
	x->io_len = x->ascii ? FTPS_XFER_CHUNK / 2 : 2 * FTPS_XFER_CHUNK;
	xfer_submit(x, XOP_READ);
}

/*
 * Sends until the socket is full, the budget (FTPS_XFER_HIWAT per
 * wake-up, one slice of a listing, so one fast client does not hold the
 * loop) is spent or the source ends.  The persistent write event brings
 * us back; while the pool reads with nothing left to send, the write
 * event waits (xfer_read_done() turns it on again).
 */
static void
xfer_pump_out(struct session *s)
{
	struct xfer	*x = s->xfer;
	size_t		 n, sent = 0, budget;
	enum xio_res	 r;

	budget = x->kind == XFER_LIST ? XFER_LS_SLICE : FTPS_XFER_HIWAT;
	while (sent < budget) {
		if (x->outn == 0 && x->next != NULL) {
			x->out = x->next;
			x->outn = x->nextn;
			x->next = NULL;
		}
		xfer_read_next(x);
		r = XIO_OK;
		if (x->outn > 0) {
			r = xio_write(&x->io, x->out, x->outn, &n);
			if (r == XIO_OK) {
				x->out += n;
				x->outn -= n;
				x->bytes += n;
				sent += n;
				continue;
			}
			/* Gathering, WANT_WRITE means: the gather buffer is full. */
			if (r == XIO_WANT_WRITE && !xio_gathering(&x->io))
				return;
		}
		if (r == XIO_OK || r == XIO_WANT_WRITE)
			r = xio_flush(&x->io);
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
				    x->verb, xio_tls_why(&x->io));
			xfer_done(s, 426, "Data connection closed by the "
			    "client; transfer aborted.", "aborted");
			return;
		}
		if (x->outn == 0 && x->rdeof) {
			xio_cork(&x->io, 0);
			xfer_done(s, 226, "Transfer complete.", "ok");
			return;
		}
		if (x->outn == 0 && x->next == NULL) {
			/* All sent: the file's next bytes are on their way. */
			event_del(x->wev);
			return;
		}
	}
}

static void
xfer_read_done(struct session *s, struct xfer *x)
{
	if (x->io_res < 0) {
		sess_log(s, LOG_LVL_ERR, "%s read error: %s", x->verb,
		    strerror(x->io_err));
		xfer_done(s, 451, "Local read error; transfer aborted.",
		    "fail");
		return;
	}
	if (x->io_op == XOP_LIST) {
		x->out = buf_str(&x->text);
		x->outn = buf_len(&x->text);
		x->rdeof = x->outn == 0;
	} else if (x->io_res == 0)
		x->rdeof = 1;
	else {
		x->next = x->rbuf;
		x->nextn = (size_t)x->io_res;
		x->rbuf = xfer_other(x, x->rbuf);
	}
	if (!x->wblocked && xfer_wait(s, x->wev) != 0)
		return;
	xfer_pump_out(s);
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
	enum xio_res	 r;
	int		 i = 0;

	if (x == NULL)
		return;
	while ((r = xio_read(&x->io, junk, sizeof(junk), &n)) == XIO_OK &&
	    ++i < 16)
		;
	if (r == XIO_EOF || r == XIO_ERR) {
		xfer_done(s, 426, "Data connection closed by the client; "
		    "transfer aborted.", "aborted");
		return;
	}
	if (x->wblocked) {
		x->wblocked = 0;
		if (xfer_wait(s, x->wev) != 0)
			return;
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

/*
 * The end of an upload, on the pool: a CR held back (TYPE A), fsync
 * (delayed allocation: a full disk may only show here), close, and for
 * STOR/STOU the atomic rename and the directory's fsync.
 */
static void
xfer_finish_run(struct xfer *x)
{
	int	 fd = x->fd;

	x->fin_stage = FIN_OK;
	x->io_err = 0;
	if (x->cr && xfer_write_all(fd, "\r", 1) != 0) {
		x->fin_stage = FIN_WRITE;
		x->io_err = errno;
		return;
	}
	x->cr = 0;
	if (fsync(fd) == -1) {
		x->fin_stage = FIN_SYNC;
		x->io_err = errno;
		return;
	}
	if (x->kind == XFER_STOR || x->kind == XFER_STOU) {
		/* Aborted meanwhile (ABOR, the session closed): nothing
		 * replaced; xfer_free() discards the upload. */
		if (atomic_load(&x->io_abandon)) {
			x->fin_stage = FIN_ABANDONED;
			return;
		}
		/* Atomic: readers see the old file or the complete new one. */
		if (vfs_upload_commit(&x->vp, &x->up, &x->fd, x->kind ==
		    XFER_STOU ? x->final : x->vp.name,
		    x->kind == XFER_STOU) != 0) {
			x->fin_stage = FIN_COMMIT;
			x->io_err = errno;
		}
		return;
	}
	x->fd = -1;
	if (close(fd) == -1) {
		x->fin_stage = FIN_CLOSE;
		x->io_err = errno;
	}
}

static void
xfer_finish_done(struct session *s, struct xfer *x)
{
	static const char *const what[] = { "", "write", "sync", "close",
	    "commit", "abandon" };
	int		 err = x->io_err;

	if (x->fin_stage != FIN_OK)
		sess_log(s, LOG_LVL_ERR, "%s %s error: %s", x->verb,
		    what[x->fin_stage], strerror(err));
	switch (x->fin_stage) {
	case FIN_OK:
		if (x->up.sync_err != 0)
			sess_log(s, LOG_LVL_WARN, "%s directory sync: %s",
			    x->verb, strerror(x->up.sync_err));
		xfer_done(s, 226, "Transfer complete.", "ok");
		break;
	case FIN_COMMIT:
		if (err == ENOSPC || err == EDQUOT || err == EIO)
			xfer_fail_write(s, err);
		else
			xfer_done(s, 553, "Cannot store the file; transfer "
			    "aborted.", "fail");
		break;
	default:
		xfer_fail_write(s, err);
		break;
	}
}

/*
 * An upload's buffer (io_ptr, io_len bytes received) written to the
 * file, on the pool.  TYPE A converts it first, CRLF -> LF into the
 * buffer's second half; a CR at its end waits in x->cr for the next
 * buffer (in an upload x->cr is the jobs' alone).  io_res: 0, or -1 with
 * io_err.
 */
static void
xfer_write_run(struct xfer *x)
{
	const char	*p = x->io_ptr;
	size_t		 n = x->io_len;

	if (x->ascii) {
		/* Output fits: at most io_len + 1 (a held CR) bytes. */
		xfer_strip_cr(x, x->io_ptr, x->io_len,
		    x->io_ptr + FTPS_XFER_CHUNK, &n);
		p = x->io_ptr + FTPS_XFER_CHUNK;
	}
	x->io_res = 0;
	if (xfer_write_all(x->fd, p, n) != 0) {
		x->io_res = -1;
		x->io_err = errno;
	}
}

static void	xfer_open_run(struct xfer *);
static void	xfer_opened(struct session *, struct xfer *);

static void
xfer_job_run(struct io_job *job)
{
	struct xfer	*x = job->arg;

	x->io_err = 0;
	switch (x->io_op) {
	case XOP_READ:
		xfer_read_run(x);
		break;
	case XOP_LIST:
		xfer_list_run(x);
		break;
	case XOP_OPEN:
		xfer_open_run(x);
		break;
	case XOP_WRITE:
		xfer_write_run(x);
		break;
	case XOP_CLOSE:
		xfer_close_run(x);
		break;
	default:
		xfer_finish_run(x);
		break;
	}
}

static void	xfer_pump_in(struct session *);

static void
xfer_write_done(struct session *s, struct xfer *x)
{
	if (x->io_res < 0) {
		sess_log(s, LOG_LVL_ERR, "%s write error: %s", x->verb,
		    strerror(x->io_err));
		xfer_fail_write(s, x->io_err);
		return;
	}
	x->bytes += (unsigned long long)x->io_len;
	if (x->in_next == XN_FINISH) {
		xfer_submit(x, XOP_FINISH);
		return;
	}
	if (xfer_wait(s, x->rev) != 0)
		return;
	/* SSL may hold records that the socket no longer signals. */
	xfer_pump_in(s);
}

/* A job is back on the loop; an orphan (transfer gone) is freed now. */
static void
xfer_job_done(struct io_job *job)
{
	struct xfer	*x = job->arg;
	struct session	*s = x->s;

	x->io_busy = 0;
	if (x->io_orphan) {
		xfer_free(x);
		return;
	}
	if (job->cancelled) {
		xfer_done(s, 451, "Server stopping; transfer aborted.", "fail");
		return;
	}
	if (x->held_code != 0) {
		/* Ended meanwhile; a commit the job made is the answer. */
		if (x->io_op == XOP_FINISH && x->fin_stage != FIN_ABANDONED)
			xfer_finish_done(s, x);
		else
			xfer_done(s, x->held_code, x->held_text,
			    x->held_result);
		return;
	}
	switch (x->io_op) {
	case XOP_READ:
	case XOP_LIST:
		xfer_read_done(s, x);
		break;
	case XOP_WRITE:
		xfer_write_done(s, x);
		break;
	case XOP_OPEN:
		xfer_opened(s, x);
		break;
	default:
		xfer_finish_done(s, x);
		break;
	}
}

/* The upload buffer just filled goes to the pool; the other one fills. */
static void
xfer_write_start(struct xfer *x)
{
	x->io_ptr = x->rbuf;
	x->io_len = x->rfill;
	x->in_next = XN_READ;
	x->rbuf = xfer_other(x, x->rbuf);
	x->rfill = 0;
	xfer_submit(x, XOP_WRITE);
}

/*
 * Receives straight into a buffer that is written to the file: first
 * what came with the handshake, then several TLS records (or recv()s)
 * fill it, and one write on the pool takes it while the next buffer
 * fills.  With both buffers taken, reading stops until the write is back
 * (xfer_write_done() reads on): each turn of the loop moves at most two
 * buffers per upload, and a slow disk holds only its own upload.
 */
static void
xfer_pump_in(struct session *s)
{
	struct xfer	*x = s->xfer;
	struct evbuffer	*hs = bufferevent_get_input(x->bev);
	size_t		 n, room;
	enum xio_res	 r;
	int		 got;

	/*
	 * TYPE I: the whole buffer, so whole 16 KiB records make page-aligned
	 * 256 KiB writes.  TYPE A: the second half takes the CRLF -> LF copy.
	 */
	room = x->ascii ? FTPS_XFER_CHUNK - 1 : 2 * FTPS_XFER_CHUNK;
	for (;;) {
		r = XIO_OK;
		if (x->rfill < room && (got = evbuffer_remove(hs,
		    x->rbuf + x->rfill, room - x->rfill)) > 0)
			x->rfill += (size_t)got;
		while (r == XIO_OK && x->rfill < room) {
			r = xio_read(&x->io, x->rbuf + x->rfill,
			    room - x->rfill, &n);
			x->rfill += n;
		}
		if (r == XIO_ERR)
			break;
		if (r == XIO_WANT_WRITE) {
			/* Readable but waiting for a write: do not spin. */
			event_del(x->rev);
			if (xfer_wait(s, x->wev) != 0)
				return;
		}
		if (x->io_busy) {
			/* This buffer is full, or the end came: wait. */
			if (r == XIO_OK || r == XIO_EOF)
				event_del(x->rev);
			return;
		}
		if (x->rfill == 0) {
			if (r == XIO_EOF) {
				event_del(x->rev);
				xfer_submit(x, XOP_FINISH);
			}
			return;
		}
		xfer_write_start(x);
		if (r == XIO_EOF) {
			event_del(x->rev);
			x->in_next = XN_FINISH;
			return;
		}
		if (r != XIO_OK)
			return;
	}
	/*
	 * SECURITY: truncation attack: a TLS upload that ends without
	 * close_notify may have been cut by a third party; it is not kept.
	 */
	if (x->tls) {
		sess_log(s, LOG_LVL_WARN, "%s data tls: %s", x->verb,
		    xio_tls_why(&x->io));
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
	if ((what & EV_WRITE) && xfer_wait(s, x->rev) != 0)
		return;
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

/*
 * SECURITY: O_NONBLOCK, then fstat(): what replaced the checked target
 * since the command (a FIFO, a device) can neither block nor be written
 * (XFER_NOTREG).  On the pool, like everything that opens the file.
 */
#define XFER_NOTREG	1

static int
xfer_open_existing(struct xfer *x, int flags)
{
	struct stat	 st;
	int		 r;

	/* ENXIO: a FIFO without a reader (or a device without a driver). */
	if ((r = vfs_open(&x->root, &x->vp, flags | O_NONBLOCK | O_CLOEXEC,
	    x->mode, &x->fd)) != 0)
		return r == FTPS_ESYS && errno == ENXIO ? XFER_NOTREG : r;
	if (fstat(x->fd, &st) == -1)
		return FTPS_ESYS;
	return S_ISREG(st.st_mode) ? 0 : XFER_NOTREG;
}

static int
xfer_open_target(struct xfer *x)
{
	int	 r;

	switch (x->kind) {
	case XFER_STOR:
	case XFER_STOU:
		return vfs_upload_open(&x->vp, &x->up, &x->fd);
	case XFER_STOR_AT:
		if ((r = xfer_open_existing(x, O_WRONLY | O_CREAT)) != 0)
			return r;
		if (lseek(x->fd, x->offset, SEEK_SET) == -1)
			return FTPS_ESYS;
		return 0;
	case XFER_APPE:
		return xfer_open_existing(x, O_WRONLY | O_CREAT | O_APPEND);
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
	xio_init(&x->io, bufferevent_getfd(bev),
	    bufferevent_openssl_get_ssl(bev));
	x->tls = x->io.ssl != NULL;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_set_timeouts(bev, NULL, NULL);
	if (x->io.sock == -1)
		return FTPS_ESYS;
	if (x->io.ssl != NULL) {
		/*
		 * Whole-buffer SSL_writes, and the record buffers kept for
		 * the whole transfer rather than freed when empty.
		 */
		SSL_clear_mode(x->io.ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_RELEASE_BUFFERS);
		SSL_set_mode(x->io.ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	/*
	 * A listing is sent from its slices: no buffer.  A file: two, one
	 * on the pool while the other is sent or filled.
	 */
	if (x->kind != XFER_LIST &&
	    (x->chunk = malloc(4 * FTPS_XFER_CHUNK)) == NULL)
		return FTPS_ENOMEM;
	x->rbuf = x->chunk;
	return 0;
}

static int
xfer_events(struct session *s, struct xfer *x)
{
	struct event_base	*base = s->ctx->base;

	if (xfer_is_upload(x)) {
		x->rev = event_new(base, x->io.sock, EV_READ | EV_PERSIST,
		    xfer_in_cb, s);
		x->wev = event_new(base, x->io.sock, EV_WRITE, xfer_in_cb, s);
		if (x->rev == NULL || x->wev == NULL ||
		    event_add(x->rev, x->tvp) != 0)
			return FTPS_ENOMEM;
		return 0;
	}
	/* A download waits on writes only: no read timeout. */
	x->rev = event_new(base, x->io.sock, EV_READ | EV_PERSIST,
	    xfer_discard_cb, s);
	x->wev = event_new(base, x->io.sock, EV_WRITE | EV_PERSIST,
	    xfer_out_cb, s);
	if (x->rev == NULL || x->wev == NULL ||
	    event_add(x->rev, NULL) != 0 || event_add(x->wev, x->tvp) != 0)
		return FTPS_ENOMEM;
	return 0;
}

/*
 * The file's side of the start, on the pool (a slow disk waits there):
 * an upload opens its target; a download (read with pread from its REST
 * offset) tells the kernel it streams.  io_res 0, or an FTPS_E code or
 * XFER_NOTREG with io_err.
 */
static void
xfer_open_run(struct xfer *x)
{
	x->io_res = 0;
	if (xfer_is_upload(x))
		x->io_res = xfer_open_target(x);
	else
		(void)posix_fadvise(x->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	x->io_err = errno;
}

static void
xfer_begin(struct session *s, struct xfer *x, struct bufferevent *bev)
{
	struct evbuffer	*in = bufferevent_get_input(bev);

	if (s->ctx->io == NULL || xfer_take_over(x, bev) != 0) {
		xfer_done(s, 451, "Cannot set up the transfer.", "fail");
		return;
	}
	if (s->ctx->conf.data_timeout > 0) {
		x->tv.tv_sec = s->ctx->conf.data_timeout;
		x->tv.tv_usec = 0;
		x->tvp = &x->tv;
	}
	/* An upload's bytes that came with the handshake stay for later. */
	if (!xfer_is_upload(x))
		evbuffer_drain(in, evbuffer_get_length(in));
	/* Uploads open only now, after the TLS handshake (peer check). */
	if (x->kind != XFER_LIST)
		xfer_submit(x, XOP_OPEN);
	else
		xfer_opened(s, x);
}

/* The file is open (xfer_open_run): the data starts to flow. */
static void
xfer_opened(struct session *s, struct xfer *x)
{
	char		 q[LOG_VALUE_MAX];
	int		 r = (int)x->io_res, err = x->io_err;

	if (xfer_is_upload(x)) {
		if (r != 0) {
			sess_log(s, LOG_LVL_WARN, "%s cannot open path=%s: %s",
			    x->verb, log_quote(q, sizeof(q), x->vp.path),
			    r == XFER_NOTREG ? "not a regular file" :
			    r == FTPS_ESYS ?
			    strerror(err) : ftps_strerror(r));
			if (r == FTPS_ESYS && (err == ENOSPC || err == EDQUOT))
				xfer_fail_write(s, err);
			else if (r == XFER_NOTREG)
				xfer_done(s, 550, "Not a regular file.", "fail");
			else
				xfer_done(s, 553, "Cannot create the file.",
				    "fail");
			return;
		}
		if (xfer_events(s, x) != 0) {
			xfer_done(s, 451, "Out of memory.", "fail");
			return;
		}
		/* Bytes that came with the handshake go first. */
		xfer_pump_in(s);
		return;
	}
	x->rpos = x->offset;
	/* Worth it from a few records on; a small file goes straight. */
	if (x->io.ssl != NULL && x->kind == XFER_RETR &&
	    x->size - x->offset >= (off_t)FTPS_XFER_CHUNK &&
	    xio_gather(&x->io) != 0) {
		xfer_done(s, 451, "Out of memory.", "fail");
		return;
	}
	xio_cork(&x->io, 1);
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
	x->s = s;
	x->job.run = xfer_job_run;
	x->job.done = xfer_job_done;
	x->job.arg = x;
	/* Kept here: an orphan's close job outlives the session. */
	x->job.owner = s->io_owner;
	x->pool = s->ctx->io;
	x->mode = 0666 & ~(mode_t)s->ctx->conf.file_umask;
	x->ascii = x->kind != XFER_LIST && (s->flags & SF_TYPE_A);
	clock_gettime(CLOCK_MONOTONIC, &x->t0);
	sess_arm_timer(s);
	dc_open(s, xfer_dc_cb);
}
