/*
 * LIST, NLST, MLSD and MLST output.  A directory is read whole, its names
 * bounded by FTPS_LISTING_MAX and sorted bytewise so that the output is
 * stable, then each entry is formatted from its lstat (vfs_entry_lstat) on
 * the directory fd.
 * Choices clients can see are documented in docs/vfs.md.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
/* One formatted line: an MLST path, or a LIST name and link target. */
#define LS_LINE_MAX	(2 * FTPS_PATH_MAX + 256)

/*
 * The names of one directory, read before anything is formatted: one
 * buffer of NUL-terminated names, then an array of pointers into it for
 * sorting.  Its cost (names, NULs and pointers) is bounded by
 * FTPS_LISTING_MAX, so a directory of millions of tiny names costs no more
 * memory than the largest listing could.
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

	if (n + sizeof(char *) > FTPS_LISTING_MAX - ln->n_cost)
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

/*
 * Reads the names of dir except ".", "..", those with CR or LF and
 * uploads in progress (vfs_hidden) into ln (its buffer initialised by
 * the caller), sorted bytewise.
 */
static int
ls_names_read(DIR *dir, struct ls_names *ln)
{
	struct dirent	*de;
	const char	*p;
	size_t		 i;
	int		 r;

	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || ls_unsafe(de->d_name) ||
		    vfs_hidden(de->d_name))
			continue;
		if ((r = ls_names_add(ln, de->d_name)) != 0)
			return r;
	}
	if (errno != 0)
		return FTPS_ESYS;
	if (ln->n_len == 0)
		return 0;
	if ((ln->n_v = calloc(ln->n_len, sizeof(*ln->n_v))) == NULL)
		return FTPS_ENOMEM;
	/* The buffer holds "name\0name\0...": its data stays put now. */
	p = buf_str(&ln->n_buf);
	for (i = 0; i < ln->n_len; i++) {
		ln->n_v[i] = p;
		p += strlen(p) + 1;
	}
	qsort(ln->n_v, ln->n_len, sizeof(*ln->n_v), ls_namecmp);
	return 0;
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
 * One RFC 3659 7 facts line: "type=file;size=5;modify=YYYYMMDDHHMMSS;
 * perm=radfw;unique=803U1f;UNIX.mode=0644; name".  type is the caller's
 * (cdir, dir, file, OS.unix=...); size only for regular files (7.5.7
 * leaves it optional elsewhere).  lead adds the space of an MLST reply
 * line (7.2).
 */
static int
ls_line_mlsx(struct buf *out, const struct stat *st, const char *type,
    int writable, const char *name, int lead)
{
	char		 line[LS_LINE_MAX], size[32], modify[16];
	const char	*perm;
	struct tm	 tm;
	int		 n;

	/*
	 * RFC 3659 7.5.5: files r(etrieve) a(ppend) d(elete) f(rename)
	 * w(store); directories e(nter) l(ist) c(reate) d f m(kdir) p(urge).
	 */
	if (S_ISREG(st->st_mode))
		perm = writable ? "radfw" : "r";
	else if (S_ISDIR(st->st_mode))
		perm = writable ? "elcdfmp" : "el";
	else
		perm = writable ? "df" : "";
	size[0] = '\0';
	if (S_ISREG(st->st_mode))
		snprintf(size, sizeof(size), "size=%lld;",
		    (long long)st->st_size);
	if (gmtime_r(&st->st_mtime, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	/* 7.5.3 and 2.3: a UTC time-val, 14 digits for years 1000..9999. */
	if (strftime(modify, sizeof(modify), "%Y%m%d%H%M%S", &tm) != 14)
		snprintf(modify, sizeof(modify), "19700101000000");
	n = snprintf(line, sizeof(line), "%stype=%s;%smodify=%s;perm=%s;"
	    "unique=%llxU%llx;UNIX.mode=0%03o; %s\r\n", lead ? " " : "", type,
	    size, modify, perm, (unsigned long long)st->st_dev,
	    (unsigned long long)st->st_ino, (unsigned int)(st->st_mode & 07777),
	    name);
	return ls_addline(out, line, n, sizeof(line));
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
ls_entry_mlsd(struct vfs *v, const struct vpath *dir, const char *name,
    const struct stat *lst, int writable, struct buf *out)
{
	char		 path[FTPS_PATH_MAX];
	struct stat	 st;
	int		 n;

	if (!S_ISLNK(lst->st_mode))
		return ls_line_mlsx(out, lst, ls_type(lst), writable, name, 0);
	n = snprintf(path, sizeof(path), "%s%s%s", dir->path,
	    strcmp(dir->path, "/") == 0 ? "" : "/", name);
	if (n >= 0 && (size_t)n < sizeof(path) &&
	    vfs_stat_path(v, path, &st) == 0)
		return ls_line_mlsx(out, &st, ls_type(&st), writable, name, 0);
	return ls_line_mlsx(out, lst, ls_type(lst), writable, name, 0);
}

static int
ls_dir(struct vfs *v, const struct vpath *vp, const struct stat *dst,
    enum ls_style style, int writable, struct buf *out)
{
	struct ls_names	 ln;
	struct stat	 st;
	DIR		*dir = NULL;
	time_t		 now = time(NULL);
	size_t		 i;
	int		 fd = -1, dfd, r;

	memset(&ln, 0, sizeof(ln));
	buf_init(&ln.n_buf, FTPS_LISTING_MAX);
	if ((r = vfs_open(v, vp, O_RDONLY | O_DIRECTORY, 0, &fd)) != 0)
		goto out;
	if ((dir = fdopendir(fd)) == NULL) {
		r = FTPS_ESYS;
		goto out;
	}
	fd = -1;	/* owned by dir now */
	dfd = dirfd(dir);
	if ((r = ls_names_read(dir, &ln)) != 0)
		goto out;
	/* RFC 3659 7.5.1: the listed directory itself, as "cdir". */
	if (style == LS_MLSD &&
	    (r = ls_line_mlsx(out, dst, "cdir", writable, ".", 0)) != 0)
		goto out;
	for (i = 0; i < ln.n_len; i++) {
		/* Gone since readdir, or not ours to see: not listed. */
		if (vfs_entry_lstat(dfd, ln.n_v[i], &st) != 0)
			continue;
		switch (style) {
		case LS_LIST:
			r = ls_line_list(out, dfd, ln.n_v[i], &st, now);
			break;
		case LS_NLST:
			r = ls_line_nlst(out, ln.n_v[i]);
			break;
		default:
			r = ls_entry_mlsd(v, vp, ln.n_v[i], &st, writable,
			    out);
			break;
		}
		if (r < 0)
			goto out;
	}
	r = 0;
 out:
	if (dir != NULL)
		closedir(dir);
	if (fd != -1)
		close(fd);
	ls_names_free(&ln);
	return r;
}

int
ls_format(struct vfs *v, const struct vpath *vp, enum ls_style style,
    int writable, struct buf *out)
{
	struct stat	 st, lst;
	int		 r;

	if (vp->dirfd == -1 || ls_unsafe(vp->name))
		return FTPS_EPARSE;
	if ((r = vfs_stat(v, vp, &st)) != 0) {
		/* LIST and NLST still show a link that leads nowhere. */
		if ((r != FTPS_ENOENT && r != FTPS_EDENIED) ||
		    (style != LS_LIST && style != LS_NLST) ||
		    vfs_lstat(vp, &lst) != 0 || !S_ISLNK(lst.st_mode))
			return r;
		memcpy(&st, &lst, sizeof(st));
	}
	if (S_ISDIR(st.st_mode) && style != LS_MLST)
		r = ls_dir(v, vp, &st, style, writable, out);
	else {
		switch (style) {
		case LS_LIST:
			/* Like `ls -l file`: a symlink shows as itself. */
			if ((r = vfs_lstat(vp, &lst)) == 0)
				r = ls_line_list(out, vp->dirfd, vp->name,
				    &lst, time(NULL));
			if (r == 1)
				r = FTPS_EPARSE;
			break;
		case LS_NLST:
			r = ls_line_nlst(out, vp->name);
			break;
		case LS_MLST:
			r = ls_line_mlsx(out, &st, ls_type(&st), writable,
			    vp->path, 1);
			break;
		default:
			/* RFC 3659 7.2: MLSD names a directory, else 501. */
			r = FTPS_EPARSE;
			break;
		}
	}
	if (r != 0)
		buf_reset(out);
	return r;
}
