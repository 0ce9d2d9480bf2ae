/*
 * LIST, NLST, MLSD and MLST output, produced a slice at a time
 * (ls_next()) so that a transfer or STAT holds a bounded part of it.  A
 * directory's names are sorted bytewise when they fit in LS_SORT_MAX, then
 * each entry is formatted from its lstat (vfs_entry_lstat) on the
 * directory fd.
 * Choices clients can see are documented in docs/vfs.md.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "ftps_limits.h"
#include "listing.h"
#include "vfs.h"

/* What `ls -l` calls recent: the last half of a Gregorian year. */
#define LS_RECENT	(31556952 / 2)
/*
 * The names of a directory read and sorted before any is listed; beyond
 * this (about 10,000 names) a listing goes in directory order instead.
 */
#define LS_SORT_MAX	(256u * 1024)
/* One formatted line: an MLST path, or a LIST name and link target. */
#define LS_LINE_MAX	(2 * FTPS_PATH_MAX + 256)
/* Every MLSD/MLST fact of one entry, with room to spare. */
#define LS_FACTS_MAX	192

/*
 * The names of one directory, read before anything is formatted: one
 * buffer of NUL-terminated names, then an array of pointers into it for
 * sorting.  Its cost (names, NULs and pointers) is bounded by
 * LS_SORT_MAX: a directory of millions of names is listed as readdir()
 * returns them, at no more memory than that.
 */
struct ls_names {
	struct buf	  n_buf;
	const char	**n_v;
	size_t		  n_len;
	size_t		  n_cost;
};

const char *
ls_skip_options(const char *arg)
{
	const char	*p = arg;

	/* "-la", "-a -l": words that begin with '-' and hold more. */
	while (p[0] == '-' && p[1] != '\0' && p[1] != ' ') {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	return p;
}

/* SECURITY: a CR or LF in a name would forge lines a client parses. */
static int
ls_unsafe(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/*
 * Not listed: ".", "..", names with CR or LF and uploads in progress
 * (vfs_hidden).
 */
static int
ls_skip(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    ls_unsafe(name) || vfs_hidden(name);
}

static void
ls_names_free(struct ls_names *ln)
{
	free(ln->n_v);
	ln->n_v = NULL;
	ln->n_len = ln->n_cost = 0;
	buf_free(&ln->n_buf);
}

static int
ls_names_add(struct ls_names *ln, const char *name)
{
	size_t	 n = strlen(name) + 1;
	int	 r;

	if (n + sizeof(char *) > LS_SORT_MAX - ln->n_cost)
		return FTPS_ETOOBIG;
	if ((r = buf_add(&ln->n_buf, name, n)) != 0)
		return r;
	ln->n_cost += n + sizeof(char *);
	ln->n_len++;
	return 0;
}

static int
ls_namecmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "drwxr-xr-x" from st_mode, with setuid, setgid and sticky as ls shows. */
static void
ls_modestr(mode_t m, char s[11])
{
	static const char	 rwx[] = "rwxrwxrwx";
	int			 i;

	if (S_ISDIR(m))
		s[0] = 'd';
	else if (S_ISLNK(m))
		s[0] = 'l';
	else if (S_ISFIFO(m))
		s[0] = 'p';
	else if (S_ISSOCK(m))
		s[0] = 's';
	else if (S_ISCHR(m))
		s[0] = 'c';
	else if (S_ISBLK(m))
		s[0] = 'b';
	else
		s[0] = '-';
	for (i = 0; i < 9; i++) {
		s[i + 1] = '-';
		if (m & (0400 >> i))
			s[i + 1] = rwx[i];
	}
	if (m & S_ISUID)
		s[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		s[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		s[9] = (m & S_IXOTH) ? 't' : 'T';
	s[10] = '\0';
}

/* Adds one formatted line, whole or not at all. */
static int
ls_addline(struct buf *out, const char *line, int n, size_t size)
{
	if (n < 0 || (size_t)n >= size)
		return FTPS_ETOOBIG;
	return buf_add(out, line, (size_t)n);
}

/*
 * One `ls -l` line, as vsftpd writes it, which every client parses:
 * "drwxr-xr-x    2 ftp      ftp          4096 Nov 23 21:05 name".
 * Owner and group are always "ftp": virtual users share one uid, and the
 * real ids say nothing a client needs.  Dates are UTC with English month
 * names; "Mon DD  YYYY" beyond six months or in the future.  Returns 1
 * when the entry is skipped (a link target with CR or LF).
 */
static int
ls_line_list(struct buf *out, int dfd, const char *name,
    const struct stat *st, time_t now)
{
	static const char	*mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
				    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
				    "Dec" };
	char			 line[LS_LINE_MAX], target[PATH_MAX];
	char			 mode[11], date[32];
	struct tm		 tm;
	ssize_t			 tn = -1;
	int			 n;

	ls_modestr(st->st_mode, mode);
	if (gmtime_r(&st->st_mtime, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	if (st->st_mtime <= now && st->st_mtime > now - LS_RECENT)
		snprintf(date, sizeof(date), "%s %02d %02d:%02d",
		    mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min);
	else
		snprintf(date, sizeof(date), "%s %02d  %d",
		    mon[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
	if (S_ISLNK(st->st_mode)) {
		tn = vfs_entry_readlink(dfd, name, target, sizeof(target));
		if (tn < 0 || (size_t)tn >= sizeof(target))
			tn = -1;
		else {
			target[tn] = '\0';
			if (ls_unsafe(target))
				return 1;
		}
	}
	n = snprintf(line, sizeof(line),
	    "%s %4lu %-8s %-8s %8lld %s %s%s%s\r\n", mode,
	    (unsigned long)st->st_nlink, "ftp", "ftp",
	    (long long)st->st_size, date, name, tn >= 0 ? " -> " : "",
	    tn >= 0 ? target : "");
	return ls_addline(out, line, n, sizeof(line));
}

static int
ls_line_nlst(struct buf *out, const char *name)
{
	char	 line[LS_LINE_MAX];

	return ls_addline(out, line, snprintf(line, sizeof(line), "%s\r\n",
	    name), sizeof(line));
}

/*
 * One listing being produced.  A directory's names are read first, up to
 * LS_SORT_MAX of them, and sorted; a bigger directory is listed in the
 * order readdir() gives (what was read, then the rest of the stream), so
 * that no listing holds more than LS_SORT_MAX of names whatever the
 * directory's size.  Not a directory: the one entry.
 */
struct ls_iter {
	struct vfs	*v;		/* &own for the iterator's own calls */
	struct vfs	 own;		/* rootfd duplicated, nothing else */
	struct vpath	 vp;		/* dirfd not owned (-1) */
	enum ls_style	 style;
	int		 writable;	/* selects the perm fact */
	unsigned	 facts;		/* MF_*: MLSD and MLST facts */
	time_t		 now;
	struct stat	 st;		/* what vp names */
	DIR		*dir;		/* a directory, or NULL */
	struct ls_names	 ln;
	size_t		 next;		/* sorted: next index into ln.n_v */
	const char	*pos;		/* streaming: next name in ln.n_buf */
	int		 streaming;	/* more names than LS_SORT_MAX */
	char		 held[FTPS_NAME_MAX + 1];	/* streaming: the name */
	int		 have_held;	/* that did not fit in ln */
	int		 started;	/* MLSD cdir line, single entry */
	int		 collected;	/* ls_iter_collect() ran */
	int		 done;
};

/* Appends one fact ("name=value;") to f (size LS_FACTS_MAX) at *len. */
static void	ls_fact(char *, size_t *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
ls_fact(char *f, size_t *len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(f + *len, LS_FACTS_MAX - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n < LS_FACTS_MAX - *len ? (size_t)n :
		    LS_FACTS_MAX - 1 - *len;
}

/*
 * One RFC 3659 7 facts line: "type=file;size=5;modify=YYYYMMDDHHMMSS;
 * perm=radfw;unique=803U1f;UNIX.mode=0644; name", with only the facts in
 * it->facts (OPTS MLST), in that order.  type is the caller's
 * (cdir, dir, file, OS.unix=...); size only for regular files (7.5.7
 * leaves it optional elsewhere).  lead adds the space of an MLST reply
 * line (7.2).
 */
static int
ls_line_mlsx(struct buf *out, const struct ls_iter *it, const struct stat *st,
    const char *type, const char *name, int lead)
{
	char		 line[LS_LINE_MAX], f[LS_FACTS_MAX], modify[16];
	const char	*perm;
	struct tm	 tm;
	size_t		 len = 0;

	/*
	 * RFC 3659 7.5.5: files r(etrieve) a(ppend) d(elete) f(rename)
	 * w(store); directories e(nter) l(ist) c(reate) d f m(kdir) p(urge).
	 */
	if (S_ISREG(st->st_mode))
		perm = it->writable ? "radfw" : "r";
	else if (S_ISDIR(st->st_mode))
		perm = it->writable ? "elcdfmp" : "el";
	else
		perm = it->writable ? "df" : "";
	if (gmtime_r(&st->st_mtime, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	/* 7.5.3 and 2.3: a UTC time-val, 14 digits for years 1000..9999. */
	if (strftime(modify, sizeof(modify), "%Y%m%d%H%M%S", &tm) != 14)
		snprintf(modify, sizeof(modify), "19700101000000");
	f[0] = '\0';
	if (it->facts & MF_TYPE)
		ls_fact(f, &len, "type=%s;", type);
	if ((it->facts & MF_SIZE) && S_ISREG(st->st_mode))
		ls_fact(f, &len, "size=%lld;", (long long)st->st_size);
	if (it->facts & MF_MODIFY)
		ls_fact(f, &len, "modify=%s;", modify);
	if (it->facts & MF_PERM)
		ls_fact(f, &len, "perm=%s;", perm);
	if (it->facts & MF_UNIQUE)
		ls_fact(f, &len, "unique=%llxU%llx;",
		    (unsigned long long)st->st_dev,
		    (unsigned long long)st->st_ino);
	if (it->facts & MF_UNIX_MODE)
		ls_fact(f, &len, "UNIX.mode=0%03o;",
		    (unsigned int)(st->st_mode & 07777));
	return ls_addline(out, line, snprintf(line, sizeof(line),
	    "%s%s %s\r\n", lead ? " " : "", f, name), sizeof(line));
}

/* The type fact of what st describes, after symlinks were followed. */
static const char *
ls_type(const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		return "file";
	if (S_ISDIR(st->st_mode))
		return "dir";
	if (S_ISLNK(st->st_mode))
		return "OS.unix=symlink";
	if (S_ISFIFO(st->st_mode))
		return "OS.unix=fifo";
	if (S_ISSOCK(st->st_mode))
		return "OS.unix=socket";
	if (S_ISCHR(st->st_mode))
		return "OS.unix=chr";
	if (S_ISBLK(st->st_mode))
		return "OS.unix=blk";
	return "OS.unix=other";
}

/*
 * An MLSD entry: a symlink is followed beneath the root, as RETR and CWD
 * would follow it, and reported as its target; one that leads nowhere
 * inside the root (dangling, a loop, or aimed outside) is reported as
 * type=OS.unix=symlink so that it can still be seen and deleted.
 */
static int
ls_entry_mlsd(const struct ls_iter *it, const char *name,
    const struct stat *lst, struct buf *out)
{
	char		 path[FTPS_PATH_MAX];
	struct stat	 st;
	int		 n;

	if (!S_ISLNK(lst->st_mode))
		return ls_line_mlsx(out, it, lst, ls_type(lst), name, 0);
	n = snprintf(path, sizeof(path), "%s%s%s", it->vp.path,
	    strcmp(it->vp.path, "/") == 0 ? "" : "/", name);
	if (n >= 0 && (size_t)n < sizeof(path) &&
	    vfs_stat_path(it->v, path, &st) == 0)
		return ls_line_mlsx(out, it, &st, ls_type(&st), name, 0);
	return ls_line_mlsx(out, it, lst, ls_type(lst), name, 0);
}

/* Reads names until LS_SORT_MAX: sorted when all fit, else streaming. */
static int
ls_iter_collect(struct ls_iter *it)
{
	struct dirent	*de;
	const char	*p;
	size_t		 i;
	int		 r;

	for (;;) {
		errno = 0;
		if ((de = readdir(it->dir)) == NULL)
			break;
		if (ls_skip(de->d_name))
			continue;
		r = ls_names_add(&it->ln, de->d_name);
		if (r == FTPS_ETOOBIG &&
		    strlen(de->d_name) < sizeof(it->held)) {
			/* The names read go out first, this one, the rest. */
			memcpy(it->held, de->d_name, strlen(de->d_name) + 1);
			it->have_held = 1;
			it->streaming = 1;
			it->pos = buf_str(&it->ln.n_buf);
			return 0;
		}
		if (r != 0)
			return r;
	}
	if (errno != 0)
		return FTPS_ESYS;
	if (it->ln.n_len == 0)
		return 0;
	if ((it->ln.n_v = calloc(it->ln.n_len, sizeof(*it->ln.n_v))) == NULL)
		return FTPS_ENOMEM;
	/* The buffer holds "name\0name\0...": its data stays put now. */
	p = buf_str(&it->ln.n_buf);
	for (i = 0; i < it->ln.n_len; i++) {
		it->ln.n_v[i] = p;
		p += strlen(p) + 1;
	}
	qsort(it->ln.n_v, it->ln.n_len, sizeof(*it->ln.n_v), ls_namecmp);
	return 0;
}

/*
 * The next name to list, or NULL at the end (errno != 0: readdir failed).
 * Streaming, the name readdir just returned is kept in ln.n_buf, which is
 * emptied once everything collected has gone out.
 */
static const char *
ls_iter_name(struct ls_iter *it)
{
	struct dirent	*de;
	const char	*name;

	errno = 0;
	if (!it->streaming)
		return it->next < it->ln.n_len ? it->ln.n_v[it->next++] : NULL;
	if (it->pos != NULL &&
	    it->pos < buf_str(&it->ln.n_buf) + buf_len(&it->ln.n_buf)) {
		name = it->pos;
		it->pos += strlen(name) + 1;
		return name;
	}
	if (it->pos != NULL) {
		ls_names_free(&it->ln);
		it->pos = NULL;
	}
	if (it->have_held) {
		it->have_held = 0;
		return it->held;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(it->dir)) == NULL)
			return NULL;
		if (!ls_skip(de->d_name))
			return de->d_name;
	}
}

/* One directory entry: > 0 when it was skipped. */
static int
ls_iter_entry(struct ls_iter *it, const char *name, struct buf *out)
{
	struct stat	 st;
	int		 dfd = dirfd(it->dir);

	/* Gone since readdir, or not ours to see: not listed. */
	if (vfs_entry_lstat(dfd, name, &st) != 0)
		return 1;
	switch (it->style) {
	case LS_LIST:
		return ls_line_list(out, dfd, name, &st, it->now);
	case LS_NLST:
		return ls_line_nlst(out, name);
	default:
		return ls_entry_mlsd(it, name, &st, out);
	}
}

/* Not a directory: the one line (MLSD: 501). */
static int
ls_iter_single(struct ls_iter *it, struct buf *out)
{
	struct stat	 lst;
	int		 r;

	switch (it->style) {
	case LS_LIST:
		/* Like `ls -l file`: a symlink shows as itself. */
		if ((r = vfs_lstat(&it->vp, &lst)) == 0)
			r = ls_line_list(out, it->vp.dirfd, it->vp.name, &lst,
			    it->now);
		return r == 1 ? FTPS_EPARSE : r;
	case LS_NLST:
		return ls_line_nlst(out, it->vp.name);
	case LS_MLST:
		return ls_line_mlsx(out, it, &it->st, ls_type(&it->st),
		    it->vp.path, 1);
	default:
		/* RFC 3659 7.2: MLSD names a directory, else 501. */
		return FTPS_EPARSE;
	}
}

void
ls_close(struct ls_iter *it)
{
	if (it == NULL)
		return;
	if (it->dir != NULL)
		closedir(it->dir);
	ls_names_free(&it->ln);
	vpath_free(&it->vp);
	if (it->own.rootfd != -1)
		close(it->own.rootfd);
	free(it);
}

int
ls_open(struct vfs *v, const struct vpath *vp, enum ls_style style,
    int writable, unsigned facts, struct ls_iter **itp)
{
	struct ls_iter	*it;
	struct stat	 lst;
	int		 fd = -1, r;

	*itp = NULL;
	if (vp->dirfd == -1 || ls_unsafe(vp->name))
		return FTPS_EPARSE;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return FTPS_ENOMEM;
	/*
	 * ls_next() may run on the I/O pool after the session is gone
	 * (transfer.c): the iterator keeps its own root.
	 */
	it->own.rootfd = -1;
	it->v = &it->own;
	it->vp = *vp;
	it->style = style;
	it->writable = writable;
	it->facts = facts;
	it->now = time(NULL);
	buf_init(&it->ln.n_buf, LS_SORT_MAX);
	/* The single-entry forms read the parent: keep it open. */
	if ((it->vp.dirfd = fcntl(vp->dirfd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (it->own.rootfd = fcntl(v->rootfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		r = FTPS_ESYS;
		goto fail;
	}
	if ((r = vfs_stat(v, vp, &it->st)) != 0) {
		/* LIST and NLST still show a link that leads nowhere. */
		if ((r != FTPS_ENOENT && r != FTPS_EDENIED) ||
		    (style != LS_LIST && style != LS_NLST) ||
		    vfs_lstat(vp, &lst) != 0 || !S_ISLNK(lst.st_mode))
			goto fail;
		memcpy(&it->st, &lst, sizeof(it->st));
	}
	if (!S_ISDIR(it->st.st_mode) || style == LS_MLST) {
		if (style == LS_MLSD) {
			r = FTPS_EPARSE;
			goto fail;
		}
		*itp = it;
		return 0;
	}
	/* SECURITY: O_NONBLOCK: nothing that is not a directory blocks. */
	if ((r = vfs_open(v, vp, O_RDONLY | O_DIRECTORY | O_NONBLOCK |
	    O_CLOEXEC, 0, &fd)) != 0)
		goto fail;
	if ((it->dir = fdopendir(fd)) == NULL) {
		r = FTPS_ESYS;
		close(fd);
		goto fail;
	}
	*itp = it;
	return 0;
 fail:
	ls_close(it);
	return r;
}

int
ls_next(struct ls_iter *it, struct buf *out, size_t want,
    size_t max_entries)
{
	const char	*name;
	size_t		 n = 0;
	int		 r;

	if (it->done)
		return 1;
	if (it->dir == NULL) {
		if ((r = ls_iter_single(it, out)) != 0)
			return r;
		it->done = 1;
		return 1;
	}
	/* The directory is read here, not in ls_open(): see listing.h. */
	if (!it->collected) {
		if ((r = ls_iter_collect(it)) != 0)
			return r;
		it->collected = 1;
	}
	/* RFC 3659 7.5.1: the listed directory itself, as "cdir". */
	if (!it->started && it->style == LS_MLSD &&
	    (r = ls_line_mlsx(out, it, &it->st, "cdir", ".", 0)) != 0)
		return r;
	it->started = 1;
	while (buf_len(out) < want && n < max_entries) {
		if ((name = ls_iter_name(it)) == NULL) {
			if (errno != 0)
				return FTPS_ESYS;
			it->done = 1;
			return 1;
		}
		if ((r = ls_iter_entry(it, name, out)) < 0)
			return r;
		n += r == 0;
	}
	return 0;
}

int
ls_format(struct vfs *v, const struct vpath *vp, enum ls_style style,
    int writable, unsigned facts, struct buf *out)
{
	struct ls_iter	*it;
	int		 r;

	if ((r = ls_open(v, vp, style, writable, facts, &it)) != 0)
		return r;
	while ((r = ls_next(it, out, SIZE_MAX, SIZE_MAX)) == 0)
		;
	ls_close(it);
	if (r < 0) {
		buf_reset(out);
		return r;
	}
	return 0;
}
