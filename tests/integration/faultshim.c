/*
 * faultshim.so: an LD_PRELOAD fault injector for the hardening tests
 * (tests/integration/test_hardening.py).  Files whose path contains
 * FAULTSHIM_MATCH fail like a full, over-quota or broken disk, as the
 * file FAULTSHIM_CONF says when such a file is opened:
 *
 *   FAULTSHIM_MATCH=.ftpsd-upload.      which files (a substring of the
 *                                       path given to open/openat; an
 *                                       O_TMPFILE open, an upload that
 *                                       has no name yet, counts as
 *                                       ".ftpsd-upload.O_TMPFILE")
 *   FAULTSHIM_CONF=/tmp/x/fault         "ERRNO AFTER WHERE", e.g.
 *                                       "28 65536 write": write() fails
 *                                       with ENOSPC (28) once 65536 bytes
 *                                       went to that file; "5 0 fsync":
 *                                       fsync() fails with EIO (5).
 *                                       Missing or empty: no fault.
 *   FAULTSHIM_NOTMPFILE=1               O_TMPFILE opens fail with
 *                                       EOPNOTSUPP, as on a file system
 *                                       without it.
 *
 * A slow disk instead (tests/integration/test_loop.py):
 *
 *   FAULTSHIM_SLOW_MATCH=/home/carol/   files whose path (as
 *                                       /proc/self/fd shows it) holds
 *                                       this: every read(), pread(),
 *   FAULTSHIM_SLOW_MS=200               write() and fsync() first sleeps
 *                                       that long, and so does the
 *                                       close() that frees a file (no
 *                                       name left: an O_TMPFILE never
 *                                       linked, a deleted file);
 *                                       readdir() of such a folder
 *                                       sleeps at its first entry and
 *                                       every 64th after (a getdents
 *                                       batch)
 *
 * and every call that looks a path up sleeps that long too when the
 * path it names holds FAULTSHIM_SLOW_MATCH: open(), openat(), openat2
 * (ftpsd calls it through syscall(SYS_openat2, ...)), mkdirat(),
 * unlinkat(), renameat(), renameat2() (either name), fstatat() (glibc's
 * stat family, the newfstatat system call) and statx().  A relative path
 * is joined to its directory descriptor's path as /proc/self/fd shows it
 * ("/srv/home/carol" + "/" + "sub/x"), so a lookup beneath a matching
 * folder matches too.  FAULTSHIM_SLOW_LOOKUP_MS, when set, is the
 * lookups' delay instead (0: none; a listing stats every entry).
 *
 * Nothing else changes.  Only for tests: never install it.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FS_MAXFD	65536

struct fs_fault {
	int			 err;		/* 0: this fd never fails */
	int			 at_fsync;
	unsigned long long	 after;
	unsigned long long	 written;
};

static struct fs_fault	 fs_fd[FS_MAXFD];
/* readdir() calls per descriptor since it was opened. */
static unsigned		 fs_dirents[FS_MAXFD];
/* FAULTSHIM_SLOW_MATCH per descriptor: 0 not known yet, 1 slow, 2 not. */
static volatile unsigned char	 fs_slow[FS_MAXFD];

#define FS_REAL(type, name, args)					\
	static type (*real) args;					\
	if (real == NULL)						\
		*(void **)&real = dlsym(RTLD_NEXT, name)

static int	 fs_real_close(int);
static void	 fs_maybe_slow(int);
static void	 fs_slow_at(int, const char *);

static void
fs_mark(int fd, const char *path)
{
	const char		*m = getenv("FAULTSHIM_MATCH");
	const char		*conf = getenv("FAULTSHIM_CONF");
	struct fs_fault		*f;
	char			 where[16];
	int			 cfd, err;
	unsigned long long	 after;
	char			 line[128];
	ssize_t			 n;

	if (fd < 0 || fd >= FS_MAXFD)
		return;
	f = &fs_fd[fd];
	memset(f, 0, sizeof(*f));
	if (m == NULL || *m == '\0' || conf == NULL || path == NULL ||
	    strstr(path, m) == NULL)
		return;
	if ((cfd = openat(AT_FDCWD, conf, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(cfd, line, sizeof(line) - 1);
	fs_real_close(cfd);
	if (n <= 0)
		return;
	line[n] = '\0';
	if (sscanf(line, "%d %llu %15s", &err, &after, where) != 3)
		return;
	f->err = err;
	f->after = after;
	f->at_fsync = strcmp(where, "fsync") == 0;
}

static int
fs_real_close(int fd)
{
	FS_REAL(int, "close", (int));

	return real(fd);
}

int
open(const char *path, int flags, ...)
{
	FS_REAL(int, "open", (const char *, int, ...));
	va_list	 ap;
	mode_t	 mode = 0;
	int	 fd;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	fs_slow_at(AT_FDCWD, path);
	fd = real(path, flags, mode);
	fs_mark(fd, path);
	return fd;
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	FS_REAL(int, "openat", (int, const char *, int, ...));
	const char	*no = getenv("FAULTSHIM_NOTMPFILE");
	int		 tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
	va_list		 ap;
	mode_t		 mode = 0;
	int		 fd;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	if (tmpfile && no != NULL && strcmp(no, "1") == 0) {
		errno = EOPNOTSUPP;
		return -1;
	}
	fs_slow_at(dirfd, path);
	fd = real(dirfd, path, flags, mode);
	fs_mark(fd, tmpfile ? ".ftpsd-upload.O_TMPFILE" : path);
	return fd;
}

int
close(int fd)
{
	struct stat	 st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0)
		fs_maybe_slow(fd);
	if (fd >= 0 && fd < FS_MAXFD) {
		memset(&fs_fd[fd], 0, sizeof(fs_fd[fd]));
		fs_slow[fd] = 0;
		fs_dirents[fd] = 0;
	}
	return fs_real_close(fd);
}

/* Whether fd's path holds FAULTSHIM_SLOW_MATCH, into fs_slow[fd]. */
static void
fs_slow_check(int fd)
{
	const char	*m = getenv("FAULTSHIM_SLOW_MATCH");
	char		 link[64], path[4096];
	ssize_t		 n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n > 0)
		path[n] = '\0';
	fs_slow[fd] = m != NULL && *m != '\0' && n > 0 &&
	    strstr(path, m) != NULL ? 1 : 2;
}

/* Sleeps as many ms as the variable env says (errno kept). */
static void
fs_sleep_env(const char *env)
{
	const char	*ms = getenv(env);
	struct timespec	 ts;
	long		 v;
	int		 e = errno;

	if (ms == NULL || (v = strtol(ms, NULL, 10)) <= 0)
		return;
	ts.tv_sec = v / 1000;
	ts.tv_nsec = (v % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	errno = e;
}

static void
fs_sleep(void)
{
	fs_sleep_env("FAULTSHIM_SLOW_MS");
}

/* Sleeps FAULTSHIM_SLOW_MS when fd is a file FAULTSHIM_SLOW_MATCH names. */
static void
fs_maybe_slow(int fd)
{
	const char	*m = getenv("FAULTSHIM_SLOW_MATCH");

	if (fd < 0 || fd >= FS_MAXFD || m == NULL || *m == '\0')
		return;
	if (fs_slow[fd] == 0)
		fs_slow_check(fd);
	if (fs_slow[fd] == 1)
		fs_sleep();
}

static void
fs_sleep_lookup(void)
{
	fs_sleep_env(getenv("FAULTSHIM_SLOW_LOOKUP_MS") != NULL ?
	    "FAULTSHIM_SLOW_LOOKUP_MS" : "FAULTSHIM_SLOW_MS");
}

/*
 * 1 when the path a lookup names (path, beneath dirfd when relative)
 * holds FAULTSHIM_SLOW_MATCH.
 */
static int
fs_at_matches(int dirfd, const char *path)
{
	const char	*m = getenv("FAULTSHIM_SLOW_MATCH");
	char		 link[64], full[8192];
	ssize_t		 n = 0;

	if (m == NULL || *m == '\0' || path == NULL)
		return 0;
	if (path[0] != '/' && dirfd != AT_FDCWD) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		if ((n = readlink(link, full, sizeof(full) / 2)) < 0)
			n = 0;
		full[n++] = '/';
	}
	snprintf(full + n, sizeof(full) - (size_t)n, "%s", path);
	return strstr(full, m) != NULL;
}

/* A lookup of a matching path sleeps FAULTSHIM_SLOW_MS first. */
static void
fs_slow_at(int dirfd, const char *path)
{
	if (fs_at_matches(dirfd, path))
		fs_sleep_lookup();
}

ssize_t
pread(int fd, void *p, size_t n, off_t off)
{
	FS_REAL(ssize_t, "pread", (int, void *, size_t, off_t));

	fs_maybe_slow(fd);
	return real(fd, p, n, off);
}

ssize_t
pread64(int fd, void *p, size_t n, off_t off)
{
	FS_REAL(ssize_t, "pread64", (int, void *, size_t, off_t));

	fs_maybe_slow(fd);
	return real(fd, p, n, off);
}

ssize_t
read(int fd, void *p, size_t n)
{
	FS_REAL(ssize_t, "read", (int, void *, size_t));

	fs_maybe_slow(fd);
	return real(fd, p, n);
}

ssize_t
write(int fd, const void *p, size_t n)
{
	FS_REAL(ssize_t, "write", (int, const void *, size_t));
	struct fs_fault	*f;
	ssize_t		 w;

	fs_maybe_slow(fd);
	if (fd < 0 || fd >= FS_MAXFD || fs_fd[fd].err == 0 ||
	    fs_fd[fd].at_fsync)
		return real(fd, p, n);
	f = &fs_fd[fd];
	if (f->written >= f->after) {
		errno = f->err;
		return -1;
	}
	/* A short write up to the limit, as a filling disk does. */
	if (f->written + n > f->after)
		n = (size_t)(f->after - f->written);
	if ((w = real(fd, p, n)) > 0)
		f->written += (unsigned long long)w;
	return w;
}

static int
fs_sync_fails(int fd)
{
	if (fd >= 0 && fd < FS_MAXFD && fs_fd[fd].err != 0 &&
	    fs_fd[fd].at_fsync) {
		errno = fs_fd[fd].err;
		return 1;
	}
	return 0;
}

int
fsync(int fd)
{
	FS_REAL(int, "fsync", (int));

	fs_maybe_slow(fd);
	return fs_sync_fails(fd) ? -1 : real(fd);
}

int
fdatasync(int fd)
{
	FS_REAL(int, "fdatasync", (int));

	return fs_sync_fails(fd) ? -1 : real(fd);
}

/* A slow folder's reads: the first entry, then every 64th. */
static void
fs_dir_slow(DIR *d)
{
	int	 fd = dirfd(d);

	if (fd >= 0 && fd < FS_MAXFD && fs_dirents[fd]++ % 64 == 0)
		fs_maybe_slow(fd);
}

struct dirent *
readdir(DIR *d)
{
	FS_REAL(struct dirent *, "readdir", (DIR *));

	fs_dir_slow(d);
	return real(d);
}

struct dirent64 *
readdir64(DIR *d)
{
	FS_REAL(struct dirent64 *, "readdir64", (DIR *));

	fs_dir_slow(d);
	return real(d);
}

/* closedir() closes inside libc: forget the descriptor here. */
int
closedir(DIR *d)
{
	FS_REAL(int, "closedir", (DIR *));
	int	 fd = dirfd(d);

	if (fd >= 0 && fd < FS_MAXFD) {
		memset(&fs_fd[fd], 0, sizeof(fs_fd[fd]));
		fs_slow[fd] = 0;
		fs_dirents[fd] = 0;
	}
	return real(d);
}

/* ftpsd's openat2: syscall(SYS_openat2, dirfd, path, how, size). */
long
syscall(long nr, ...)
{
	FS_REAL(long, "syscall", (long, ...));
	va_list	 ap;
	long	 a[6];
	int	 i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_openat2)
		fs_slow_at((int)a[0], (const char *)a[1]);
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	FS_REAL(int, "mkdirat", (int, const char *, mode_t));

	fs_slow_at(dirfd, path);
	return real(dirfd, path, mode);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	FS_REAL(int, "unlinkat", (int, const char *, int));

	fs_slow_at(dirfd, path);
	return real(dirfd, path, flags);
}

/* A rename is slow once when either name matches. */
static void
fs_slow_rename(int olddirfd, const char *old, int newdirfd,
    const char *new)
{
	if (fs_at_matches(olddirfd, old) || fs_at_matches(newdirfd, new))
		fs_sleep_lookup();
}

int
renameat(int olddirfd, const char *old, int newdirfd, const char *new)
{
	FS_REAL(int, "renameat", (int, const char *, int, const char *));

	fs_slow_rename(olddirfd, old, newdirfd, new);
	return real(olddirfd, old, newdirfd, new);
}

int
renameat2(int olddirfd, const char *old, int newdirfd, const char *new,
    unsigned flags)
{
	FS_REAL(int, "renameat2", (int, const char *, int, const char *,
	    unsigned));

	fs_slow_rename(olddirfd, old, newdirfd, new);
	return real(olddirfd, old, newdirfd, new, flags);
}

int
fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	FS_REAL(int, "fstatat", (int, const char *, struct stat *, int));

	fs_slow_at(dirfd, path);
	return real(dirfd, path, st, flags);
}

int
fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	FS_REAL(int, "fstatat64", (int, const char *, struct stat64 *,
	    int));

	fs_slow_at(dirfd, path);
	return real(dirfd, path, st, flags);
}

int
statx(int dirfd, const char *path, int flags, unsigned mask,
    struct statx *stx)
{
	FS_REAL(int, "statx", (int, const char *, int, unsigned,
	    struct statx *));

	fs_slow_at(dirfd, path);
	return real(dirfd, path, flags, mask, stx);
}
