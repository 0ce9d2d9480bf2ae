/*
 * Transfers: a file (or a listing in memory) streamed to or from the data
 * connection in FTPS_XFER_CHUNK pieces, never more than FTPS_XFER_HIWAT
 * queued, so memory stays flat whatever the file size.  TYPE A converts
 * LF <-> CRLF (RFC 959 3.1.1.1).  A plain STOR writes a temporary file
 * beside the target and renames it over the target only once complete.
 */
#ifndef FTPS_TRANSFER_H
#define FTPS_TRANSFER_H

#include <sys/types.h>

#include "buf.h"
#include "vfs.h"

struct session;

enum xfer_kind {
	XFER_RETR,	/* file -> client */
	XFER_LIST,	/* listing text -> client */
	XFER_STOR,	/* client -> temp file, renamed over the target */
	XFER_STOR_AT,	/* client -> target written in place from REST */
	XFER_APPE,	/* client -> appended to the target */
	XFER_STOU,	/* client -> temp file, renamed to a new name */
};

struct xfer;

/*
 * What a transfer tells the session's hooks (session.h, sess_hooks) once
 * its final reply is queued.
 */
struct xfer_report {
	char			 verb[8];	/* "retr", "stor", "list"... */
	unsigned long long	 bytes;		/* over the data connection */
	int			 code;		/* final reply: 226, 426, 451 */
	const char		*result;	/* "ok", "fail", "aborted" */
};

/*
 * A new transfer.  verb labels the log line ("retr", "list"...); vp is
 * copied (the target for uploads, the source's path for RETR).
 */
struct xfer	*xfer_new(enum xfer_kind, const char *verb,
		    const struct vpath *vp);
/* RETR: the opened file, its size and the start offset (REST). */
void		 xfer_set_file(struct xfer *, int fd, off_t size, off_t off);
/*
 * LIST/NLST/MLSD: the listing (owned from here), produced a slice at a
 * time as the data connection drains (MLSD: with the facts ls_open() was
 * given).
 */
struct ls_iter;
void		 xfer_set_listing(struct xfer *, struct ls_iter *);
/* STOR_AT/APPE: start offset; STOU: the final name. */
void		 xfer_set_offset(struct xfer *, off_t off);
/*
 * Uploads: the home to open the target beneath (on the I/O pool, once the
 * data connection is up); takes v's reference (v holds nothing after).
 */
void		 xfer_set_root(struct xfer *, struct vfs *);
int		 xfer_set_final(struct xfer *, const char *name);
/* Takes ownership; 150, transfer and the final reply follow. */
void		 xfer_start(struct session *, struct xfer *);
/*
 * 426 for the running transfer (ABOR, QUIT, shutdown), then then() (may
 * be NULL; with no transfer it runs at once).  A file job in flight is
 * waited for first: its temporary upload is gone when 426 goes out, and
 * a commit it completed is answered 226 instead.  Aborted again
 * meanwhile (ftpsdctl kick during an ABOR): each distinct then() runs
 * once, in order, after the transfer's reply.
 */
void		 xfer_abort(struct session *, const char *why,
		    void (*then)(struct session *));
/*
 * Whether the transfer has ended and waits for its file job to give its
 * final reply: the session reads no command meanwhile, so a second ABOR
 * is answered after the transfer's 426 or 226, not before.
 */
int		 xfer_ending(const struct xfer *);
/* Logs and ends the running transfer without a reply (session closing). */
void		 xfer_cancel(struct session *, const char *why);
/* What a running transfer is doing (ftpsdctl who); pointers into x. */
struct xfer_info {
	const char		*verb;		/* "retr", "stor", "list"... */
	const char		*path;
	unsigned long long	 bytes;
	double			 secs;
	int			 upload;
};
void		 xfer_info(const struct xfer *, struct xfer_info *);
/* Frees without replying or logging. */
void		 xfer_free(struct xfer *);

#endif
