/*
 * The transfer log in the wu-ftpd xferlog(5) format, one line per
 * completed or aborted file transfer, which xferlog analyzers read:
 *
 *   current-time transfer-time remote-host file-size filename
 *   transfer-type special-action-flag direction access-mode username
 *   service-name authentication-method authenticated-user-id
 *   completion-status
 *
 *   Mon Mar  4 13:01:02 2024 3 192.0.2.7 10485760 /pub/a_b.iso b _ o r
 *   alice ftp 0 * c
 *
 * (one line).  Time is local, as ctime(3) prints it; transfer-time is
 * whole seconds, at least 1; filename is the path the client saw
 * (beneath its home) with blanks written as '_' (as ProFTPD does) and
 * control bytes and '\' as \xHH, so a line always has 18 blank-separated
 * fields.  The username is the login name (never an anonymous password).
 */
#ifndef FTPS_XFERLOG_H
#define FTPS_XFERLOG_H

#include <stddef.h>
#include <time.h>

#include "ftps_limits.h"

#define XLOG_LINE_MAX	(FTPS_PATH_MAX * 4 + 512)

struct xlog_rec {
	time_t			 when;	/* end of the transfer */
	double			 secs;	/* how long it took */
	const char		*host;	/* numeric client address */
	unsigned long long	 bytes;	/* bytes moved */
	const char		*path;	/* as the client saw it */
	int			 ascii;	/* TYPE A, else binary */
	int			 incoming; /* upload */
	int			 anonymous;
	const char		*user;	/* login name */
	int			 complete;
};

/*
 * Opens path for appending (created 0640 when missing); a symlink is
 * not followed.  0 with *fd set, or FTPS_ESYS (errno).
 */
int	 xlog_open(const char *path, int *fd);
/* One line with its '\n' into buf; its length, or FTPS_ETOOBIG. */
int	 xlog_format(const struct xlog_rec *, char *buf, size_t len);
/*
 * Appends one line with a single write(2): with O_APPEND a line is never
 * interleaved with another writer's.  Synchronous, and that is fine: a
 * line is ~150 bytes and a local append does not wait on the disk.  A
 * no-op for fd -1.  0 or FTPS_ESYS/FTPS_ETOOBIG.
 */
int	 xlog_write(int fd, const struct xlog_rec *);

#endif
