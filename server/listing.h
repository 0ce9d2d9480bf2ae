/*
 * Directory listings in the forms clients parse: LIST as `ls -l` (what
 * FileZilla, WinSCP and curl expect), NLST as bare names, MLSD/MLST facts
 * per RFC 3659 7.  Output is CRLF-terminated lines in a bounded buffer,
 * whole (ls_format) or a slice at a time (ls_open, ls_next).
 */
#ifndef FTPS_LISTING_H
#define FTPS_LISTING_H

#include "buf.h"
#include "vfs.h"

enum ls_style {
	LS_LIST,	/* "-rw-r--r-- 1 ftp ftp 123 Jan 01 12:00 name" */
	LS_NLST,	/* "name" */
	LS_MLSD,	/* "type=file;size=123;modify=...;perm=r; name" */
	LS_MLST,	/* one entry, " facts name", for the 250 reply */
};

/* MLSD and MLST facts (RFC 3659 7.5), selectable with OPTS MLST. */
#define MF_TYPE		0x01
#define MF_SIZE		0x02
#define MF_MODIFY	0x04
#define MF_PERM		0x08
#define MF_UNIQUE	0x10
#define MF_UNIX_MODE	0x20
#define MF_DEFAULT	(MF_TYPE | MF_SIZE | MF_MODIFY | MF_PERM | MF_UNIQUE)
#define MF_ALL		(MF_DEFAULT | MF_UNIX_MODE)

/*
 * Skips leading ls options such as "-la" that clients send with LIST and
 * NLST; returns the path part ("" when there is none).
 */
const char	*ls_skip_options(const char *arg);

/*
 * Lists what vp names: a directory's entries (LIST, NLST, MLSD), or the
 * single entry for a file (LIST, NLST, MLST).  MLSD of a non-directory is
 * FTPS_EPARSE (RFC 3659 7.2: 501).  writable selects the "perm" fact;
 * facts (MF_*) are the facts MLSD and MLST lines carry, in the order of
 * RFC 3659 7.5's list above (LIST and NLST ignore it).
 * Lines are appended to out, each ending in CRLF; the MLST line starts
 * with the space of RFC 3659 7.2, the caller adds "250-" and "250 End".
 * Entries are sorted bytewise (up to LS_SORT_MAX of names, then in
 * directory order); dot-files are listed (not "." and "..");
 * names holding CR or LF are left out.  0 or an FTPS_E code: FTPS_ETOOBIG
 * when out's bound is hit; on any error out is emptied.
 */
int		 ls_format(struct vfs *, const struct vpath *, enum ls_style,
		    int writable, unsigned facts, struct buf *out);

/*
 * The same listing a slice at a time, for output of any size in bounded
 * memory.  ls_open() checks vp (the errors of ls_format()) and opens the
 * directory without reading it.  ls_next()'s first call reads up to
 * LS_SORT_MAX of a directory's names: a directory whose names fit is
 * listed sorted, a bigger one in directory order.  ls_next() appends whole
 * lines to out until it holds want bytes or max_entries more entries were
 * listed: 1 when the listing is complete, 0 when more follows, or an
 * FTPS_E code (FTPS_ETOOBIG: out's bound).  The iterator keeps its own
 * descriptors (the root's too): vp and the vfs may be freed after
 * ls_open(), and ls_next() may run on another thread (one at a time).
 */
struct ls_iter;
int		 ls_open(struct vfs *, const struct vpath *, enum ls_style,
		    int writable, unsigned facts, struct ls_iter **);
int		 ls_next(struct ls_iter *, struct buf *out, size_t want,
		    size_t max_entries);
void		 ls_close(struct ls_iter *);

#endif
