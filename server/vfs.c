/*
 * Confinement without chroot: lexical normalisation of the client's path,
 * then resolution beneath the session's root fd, by the kernel with
 * openat2(RESOLVE_IN_ROOT) or, where that is refused (kernels before 5.6,
 * seccomp filters), by a component walk with the same meaning, so neither
 * '..', an absolute path nor a symlink (absolute or relative) can reach
 * outside the home.  Every *at() call on a client path lives in this file
 * (scripts/lint enforces it).  See docs/vfs.md.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "err.h"
#include "log.h"
#include "parse.h"
#include "vfs.h"

/* RESOLVE_IN_ROOT may fail with EAGAIN when a rename races a ".." walk. */
#define VFS_EAGAIN_TRIES	8
/* Attempts at a fresh temporary name before giving up. */
#define VFS_MKTEMP_TRIES	32
/* Symlinks followed in one resolution, as the kernel allows (ELOOP). */
#define VFS_MAXSYMLINKS		40
/* openat() calls one walk may make: bounds the cost of ".." in links. */
#define VFS_WALK_STEPS		(4 * FTPS_PATH_MAX)
/* procfs's f_type (linux/magic.h PROC_SUPER_MAGIC). */
#define VFS_PROC_MAGIC		0x9fa0

/*
 * The back end that confines paths, one per process: openat2 until the
 * probe or a run-time ENOSYS/EPERM says the kernel or a seccomp filter
 * refuses it, then the walk for good.  Atomic: the switch may happen on
 * any thread that resolves a path.
 */
static _Atomic int	vfs_be = VFS_OPENAT2;
/* 1 once an O_TMPFILE can be given a name through /proc/self/fd. */
static _Atomic int	vfs_tmpfile_ok;

static int
vfs_sys_openat2(int rootfd, const char *rel, int flags, mode_t mode)
{
	struct open_how	 how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	/* openat2 refuses a mode without O_CREAT or O_TMPFILE (EINVAL). */
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
}

/* Does openat2(RESOLVE_IN_ROOT) work here?  0, or -1 with errno. */
static int
vfs_openat2_works(void)
{
	int	 fd;

	if ((fd = vfs_sys_openat2(AT_FDCWD, "/", O_PATH | O_DIRECTORY,
	    0)) == -1)
		return -1;
	close(fd);
	return 0;
}

/* errno of a failed resolution -> FTPS_E code; errno is kept for ESYS. */
static int
vfs_errno(void)
{
	switch (errno) {
	case ENOENT:
	case ENOTDIR:
		return FTPS_ENOENT;
	case EXDEV:
	case ELOOP:
		return FTPS_EDENIED;
	case EEXIST:
		return FTPS_EEXIST;
	case ENAMETOOLONG:
		return FTPS_ETOOBIG;
	default:
		return FTPS_ESYS;
	}
}

/*
 * One walk beneath rootfd, with the meaning of RESOLVE_IN_ROOT: the
 * kernel is only ever asked for one component below a directory already
 * reached (openat(dir, name, O_NOFOLLOW)), never for "..".  The walk keeps
 * the path of the directory it reached (canon, symlink-free, below the
 * root); ".." shortens canon and the directory is opened again from the
 * root, downwards, when the next component needs it.  So neither "..",
 * an absolute or relative symlink nor a directory renamed meanwhile can
 * lead above the root.  Symlinks are read with readlinkat() and their
 * text resolved here, at most VFS_MAXSYMLINKS of them (ELOOP); on procfs
 * a link whose text is not a plain relative path is a magic link (an open
 * file, another root) and refused with ELOOP, as RESOLVE_NO_MAGICLINKS.
 */
struct vfs_walk {
	int	 rootfd;
	int	 cur;			/* canon's descriptor, -1: rootfd */
	int	 stale;			/* canon changed: reopen cur */
	int	 hops;			/* symlinks followed */
	int	 steps;			/* openat() calls */
	size_t	 clen;
	char	 canon[FTPS_PATH_MAX];	/* "a/b", "" for the root */
	char	 todo[2 * FTPS_PATH_MAX];	/* what is left to resolve */
};

static int
vw_dir(const struct vfs_walk *w)
{
	return w->cur != -1 ? w->cur : w->rootfd;
}

static void
vw_set_cur(struct vfs_walk *w, int fd)
{
	if (w->cur != -1)
		close(w->cur);
	w->cur = fd;
}

/* One step down to a real directory.  0, or -1 with errno. */
static int
vw_down(struct vfs_walk *w, const char *name)
{
	int	 fd;

	if (++w->steps > VFS_WALK_STEPS) {
		errno = ELOOP;
		return -1;
	}
	fd = openat(vw_dir(w), name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;
	vw_set_cur(w, fd);
	return 0;
}

/*
 * canon was shortened by "..": its directory again, from the root down.
 * Every component was a real directory a moment ago; one that no longer
 * is means a rename raced the walk: EAGAIN, and the caller starts over.
 */
static int
vw_reopen(struct vfs_walk *w)
{
	char	 path[FTPS_PATH_MAX], *p, *slash;

	w->stale = 0;
	vw_set_cur(w, -1);
	memcpy(path, w->canon, w->clen + 1);
	for (p = path; *p != '\0'; p = slash + 1) {
		slash = strchr(p, '/');
		if (slash != NULL)
			*slash = '\0';
		if (vw_down(w, p) == -1) {
			if (errno == ENOENT || errno == ENOTDIR)
				errno = EAGAIN;
			return -1;
		}
		if (slash == NULL)
			break;
	}
	return 0;
}

static void
vw_dotdot(struct vfs_walk *w)
{
	if (w->clen == 0)
		return;		/* ".." at the root stays at the root */
	while (w->clen > 0 && w->canon[w->clen - 1] != '/')
		w->clen--;
	if (w->clen > 0)
		w->clen--;
	w->canon[w->clen] = '\0';
	w->stale = 1;
}

static int
vw_push(struct vfs_walk *w, const char *name)
{
	size_t	 n = strlen(name), sep = w->clen > 0;

	if (w->clen + sep + n >= sizeof(w->canon)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (sep)
		w->canon[w->clen++] = '/';
	memcpy(w->canon + w->clen, name, n + 1);
	w->clen += n;
	return 0;
}

/*
 * name (in the current directory) is a symlink: its text replaces it at
 * the head of todo, rest being what followed name.  0, or -1 with errno
 * (EINVAL: not a symlink after all).
 */
static int
vw_follow(struct vfs_walk *w, const char *name, const char *rest)
{
	char		 target[PATH_MAX + 1];
	char		 next[sizeof(w->todo)];
	struct statfs	 sf;
	ssize_t		 n;
	int		 len;

	if ((n = readlinkat(vw_dir(w), name, target, sizeof(target))) == -1)
		return -1;
	if ((size_t)n >= sizeof(target)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	target[n] = '\0';
	if (n == 0) {
		errno = ENOENT;
		return -1;
	}
	if (++w->hops > VFS_MAXSYMLINKS) {
		errno = ELOOP;
		return -1;
	}
	/* SECURITY: a magic link's text is not where it leads. */
	if ((target[0] == '/' || strchr(target, ':') != NULL) &&
	    fstatfs(vw_dir(w), &sf) == 0 && sf.f_type == VFS_PROC_MAGIC) {
		errno = ELOOP;
		return -1;
	}
	len = snprintf(next, sizeof(next), "%s%s%s", target,
	    *rest != '\0' ? "/" : "", rest);
	if (len < 0 || (size_t)len >= sizeof(next)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(w->todo, next, (size_t)len + 1);
	if (target[0] == '/') {
		/* Absolute: from the root of the home. */
		vw_set_cur(w, -1);
		w->clen = 0;
		w->canon[0] = '\0';
		w->stale = 0;
	}
	return 0;
}

/*
 * The last component: opened O_NOFOLLOW (unless flags has it, then as
 * asked), and a symlink found there is followed by the walk.  1 when a
 * link was found (todo now holds its text), 0 with *fd, or -1 and errno.
 */
static int
vw_last(struct vfs_walk *w, const char *name, int flags, mode_t mode,
    int *fd)
{
	struct stat	 st;
	int		 err;

	if (++w->steps > VFS_WALK_STEPS) {
		errno = ELOOP;
		return -1;
	}
	*fd = openat(vw_dir(w), name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (*fd != -1) {
		/* O_PATH|O_NOFOLLOW opens a symlink itself. */
		if (!(flags & O_PATH) || (flags & O_NOFOLLOW) ||
		    fstat(*fd, &st) == -1 || !S_ISLNK(st.st_mode))
			return 0;
		close(*fd);
		*fd = -1;
	} else if ((flags & O_NOFOLLOW) ||
	    (errno != ELOOP && errno != ENOTDIR))
		return -1;
	err = errno;
	if (vw_follow(w, name, "") == 0)
		return 1;
	if (errno == EINVAL)
		errno = err;	/* not a symlink: the open's own answer */
	return -1;
}

/*
 * Resolves rel (no leading '/') beneath rootfd like openat2 with
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS.  The descriptor, or -1 with
 * errno.
 */
static int
vfs_walk_open(int rootfd, const char *rel, int flags, mode_t mode)
{
	struct vfs_walk	*w;
	char		*p, *end, name[FTPS_NAME_MAX + 1];
	size_t		 n;
	int		 fd = -1, r, err;

	if ((w = malloc(sizeof(*w))) == NULL)
		return -1;
	w->rootfd = rootfd;
	w->cur = -1;
	w->stale = w->hops = w->steps = 0;
	w->clen = 0;
	w->canon[0] = '\0';
	if (str_copy(w->todo, sizeof(w->todo), rel) != 0) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	for (;;) {
		/* 1. The next component, and whether it is the last. */
		p = w->todo;
		while (*p == '/')
			p++;
		end = p + strcspn(p, "/");
		n = (size_t)(end - p);
		if (n > FTPS_NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		while (*end == '/')
			end++;
		/* "a/" must be a directory: it ends as "a/." would. */
		if (*end == '\0' && n > 0 && end != p + n)
			memmove(w->todo, ".", 2);
		else
			memmove(w->todo, end, strlen(end) + 1);
		/* 2. "." and ".." move within canon; the root stays put. */
		if (n == 0 || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0) {
			if (strcmp(name, "..") == 0)
				vw_dotdot(w);
			if (w->todo[0] != '\0')
				continue;
			/* The path ends on the directory reached. */
			memcpy(name, ".", 2);
		}
		if (w->stale && vw_reopen(w) == -1)
			goto fail;
		/* 3. The last component: opened as asked. */
		if (w->todo[0] == '\0') {
			if ((r = vw_last(w, name, flags, mode, &fd)) == 0)
				break;
			if (r == -1)
				goto fail;
			continue;
		}
		/* 4. A directory on the way, or a symlink to follow. */
		if (vw_down(w, name) == 0) {
			if (vw_push(w, name) == -1)
				goto fail;
			continue;
		}
		if (errno != ENOTDIR)
			goto fail;
		if (vw_follow(w, name, w->todo) == -1) {
			if (errno == EINVAL)
				errno = ENOTDIR;
			goto fail;
		}
	}
	vw_set_cur(w, -1);
	free(w);
	return fd;
 fail:
	err = errno;
	vw_set_cur(w, -1);
	free(w);
	errno = err;
	return -1;
}

/* openat2 answered ENOSYS or EPERM: is it gone for good?  Logged once. */
static void
vfs_openat2_lost(int err)
{
	int	 expect = VFS_OPENAT2;

	if (vfs_openat2_works() == 0 || (errno != ENOSYS && errno != EPERM))
		return;
	if (atomic_compare_exchange_strong(&vfs_be, &expect, VFS_WALK))
		log_warnx("vfs: openat2 now fails (%s): confining paths with "
		    "the component walk from here on", strerror(err));
}

/*
 * SECURITY: every open of a client path goes through here.  With openat2,
 * RESOLVE_IN_ROOT scopes '..' and absolute symlink targets to rootfd (a
 * symlink to /etc means root/etc), and /proc-style magic links, which jump
 * to any open file of the process, are refused: scoped lookups already
 * fail them with EXDEV, and RESOLVE_NO_MAGICLINKS states it outright
 * (ELOOP) should that change.  The walk (vfs_walk_open) gives the same
 * answers where openat2 is refused.
 */
static int
vfs_openat2(int rootfd, const char *rel, int flags, mode_t mode)
{
	int	 fd, err, tries = 0;

	while (atomic_load(&vfs_be) == VFS_OPENAT2) {
		fd = vfs_sys_openat2(rootfd, rel, flags, mode);
		if (fd != -1)
			return fd;
		if (errno == EAGAIN && ++tries < VFS_EAGAIN_TRIES)
			continue;
		if (errno != ENOSYS && errno != EPERM)
			return -1;
		err = errno;
		vfs_openat2_lost(err);
		if (atomic_load(&vfs_be) == VFS_OPENAT2) {
			errno = err;	/* a real EPERM: the file's answer */
			return -1;
		}
	}
	tries = 0;
	do {
		fd = vfs_walk_open(rootfd, rel, flags | O_CLOEXEC, mode);
	} while (fd == -1 && errno == EAGAIN && ++tries < VFS_EAGAIN_TRIES);
	return fd;
}
/*
 * Home descriptors are shared: every session whose home is the same
 * directory resolves beneath one O_PATH|O_DIRECTORY descriptor, counted
 * by reference, so a logged-in session costs one descriptor (its control
 * socket), not two.  The key is the directory's identity, (st_dev,
 * st_ino): stat(2) of the home path at login names the directory the path
 * leads to now, and a table entry matches only if its descriptor is that
 * very directory.  An open descriptor pins its inode, so the number
 * cannot be reused while the entry lives.  A home replaced on disk
 * (renamed away, or removed and made again) has a new identity: the next
 * login opens it afresh, and only sessions already logged in keep the old
 * one, exactly as when each had its own descriptor.  Aliases of a home
 * (a symlink, "a//b") share too.  O_PATH descriptors carry no offset and
 * no directory stream: nothing reads or seeks through the shared one
 * (listings, uploads and vfs_resolve() of "/" open or dup their own).
 * One table per process; only the event loop thread uses it (a job on
 * the I/O pool holds its own reference, taken and dropped on the loop:
 * vfs_hold).  Everything else here may run on any thread: nothing is
 * static but the back-end choice (atomic), and every failure leaves its
 * cause in the calling thread's errno.
 */
struct vfs_home {
	struct vfs_home	*next;			/* hash chain */
	dev_t		 dev;
	ino_t		 ino;
	int		 fd;
	unsigned	 refs;
};

#define VFS_HOME_BUCKETS0	64

static struct vfs_home	**vh_tab;
static size_t		  vh_nbuckets;		/* a power of two, or 0 */
static size_t		  vh_count;

static size_t
vh_bucket(dev_t dev, ino_t ino, size_t nbuckets)
{
	unsigned long long	 h;

	h = ((unsigned long long)dev * 0x9e3779b97f4a7c15ULL) ^
	    ((unsigned long long)ino * 0xc2b2ae3d27d4eb4fULL);
	h ^= h >> 29;
	return (size_t)h & (nbuckets - 1);
}

static struct vfs_home *
vh_find(dev_t dev, ino_t ino)
{
	struct vfs_home	*h;

	if (vh_nbuckets == 0)
		return NULL;
	for (h = vh_tab[vh_bucket(dev, ino, vh_nbuckets)]; h != NULL;
	    h = h->next)
		if (h->dev == dev && h->ino == ino)
			return h;
	return NULL;
}

/* Doubles the table once it holds as many homes as buckets.  0 or -1. */
static int
vh_grow(void)
{
	struct vfs_home	**tab, *h, *next;
	size_t		  n, i, b;

	if (vh_nbuckets != 0 && vh_count < vh_nbuckets)
		return 0;
	n = vh_nbuckets == 0 ? VFS_HOME_BUCKETS0 : vh_nbuckets * 2;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	if ((tab = calloc(n, sizeof(*tab))) == NULL)
		return -1;
	for (i = 0; i < vh_nbuckets; i++)
		for (h = vh_tab[i]; h != NULL; h = next) {
			next = h->next;
			b = vh_bucket(h->dev, h->ino, n);
			h->next = tab[b];
			tab[b] = h;
		}
	free(vh_tab);
	vh_tab = tab;
	vh_nbuckets = n;
	return 0;
}

static void
vh_release(struct vfs_home *h)
{
	struct vfs_home	**pp;

	if (--h->refs > 0)
		return;
	for (pp = &vh_tab[vh_bucket(h->dev, h->ino, vh_nbuckets)];
	    *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	vh_count--;
	close(h->fd);
	free(h);
	if (vh_count == 0) {
		free(vh_tab);
		vh_tab = NULL;
		vh_nbuckets = 0;
	}
}

int
vfs_open_root(struct vfs *v, const char *home)
{
	struct vfs_home	*h;
	struct stat	 st;
	int		 fd = -1, r = FTPS_ESYS;

	v->rootfd = -1;
	v->home = NULL;
	if ((v->cwd = strdup("/")) == NULL)
		return FTPS_ESYS;
	/* The directory home names now; a stale descriptor never matches. */
	if (stat(home, &st) == -1)
		goto out;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto out;
	}
	if ((h = vh_find(st.st_dev, st.st_ino)) != NULL)
		goto share;
	if ((fd = open(home, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		goto out;
	/* Replaced between stat and open: key by what was opened. */
	if ((h = vh_find(st.st_dev, st.st_ino)) != NULL)
		goto share;
	if (vh_grow() == -1 || (h = calloc(1, sizeof(*h))) == NULL) {
		errno = ENOMEM;
		goto out;
	}
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	h->fd = fd;
	fd = -1;
	h->next = vh_tab[vh_bucket(h->dev, h->ino, vh_nbuckets)];
	vh_tab[vh_bucket(h->dev, h->ino, vh_nbuckets)] = h;
	vh_count++;
 share:
	h->refs++;
	v->home = h;
	v->rootfd = h->fd;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	if (r != 0) {
		free(v->cwd);
		v->cwd = NULL;
	}
	return r;
}

void
vfs_close(struct vfs *v)
{
	if (v->home != NULL)
		vh_release(v->home);
	v->home = NULL;
	v->rootfd = -1;
	free(v->cwd);
	v->cwd = NULL;
}

int
vfs_hold(struct vfs *dst, const struct vfs *src)
{
	dst->rootfd = -1;
	dst->home = NULL;
	dst->cwd = NULL;
	if (src->cwd != NULL && (dst->cwd = strdup(src->cwd)) == NULL)
		return FTPS_ENOMEM;
	dst->rootfd = src->rootfd;
	if ((dst->home = src->home) != NULL)
		dst->home->refs++;
	return 0;
}

size_t
vfs_homes_open(void)
{
	return vh_count;
}

/*
 * Appends the components of src to the normalised path out[0..*len).
 * *over counts components that did not fit: a later ".." cancels them
 * first, so "long/../x" is judged by its result, never truncated.
 * 0, FTPS_EPARSE or FTPS_ETOOBIG (a component longer than FTPS_NAME_MAX).
 */
static int
vfs_norm_add(char *out, size_t outlen, size_t *len, size_t *over,
    const char *src)
{
	const char	*p = src, *end;
	size_t		 n, sep;

	while (*p != '\0') {
		/* 1. Repeated and leading slashes separate nothing. */
		if (*p == '/') {
			p++;
			continue;
		}
		end = p + strcspn(p, "/");
		n = (size_t)(end - p);
		/* 2. SECURITY: CR or LF would end the reply that quotes it. */
		if (memchr(p, '\r', n) != NULL || memchr(p, '\n', n) != NULL)
			return FTPS_EPARSE;
		/* 3. "." stays where it is. */
		if (n == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		/* 4. ".." drops the last component, never going above "/". */
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			p = end;
			if (*over > 0) {
				(*over)--;
				continue;
			}
			while (*len > 1 && out[*len - 1] != '/')
				(*len)--;
			if (*len > 1)
				(*len)--;
			out[*len] = '\0';
			continue;
		}
		/* 5. Any other name is appended whole or counted in *over. */
		if (n > FTPS_NAME_MAX)
			return FTPS_ETOOBIG;
		sep = *len > 1;
		if (*over > 0 || *len + sep + n >= outlen) {
			(*over)++;
			p = end;
			continue;
		}
		if (sep)
			out[(*len)++] = '/';
		memcpy(out + *len, p, n);
		*len += n;
		out[*len] = '\0';
		p = end;
	}
	return 0;
}

/*
 * The normaliser with a reason: 0, FTPS_EPARSE (empty, CR/LF) or
 * FTPS_ETOOBIG (does not fit in outlen, or a component is too long).
 */
static int
vfs_norm(const char *cwd, const char *in, char *out, size_t outlen)
{
	size_t	 len = 1, over = 0;
	int	 r;

	if (outlen < 2) {
		if (outlen == 1)
			out[0] = '\0';
		return FTPS_ETOOBIG;
	}
	out[0] = '/';
	out[1] = '\0';
	if (in == NULL || *in == '\0') {
		r = FTPS_EPARSE;
		goto fail;
	}
	/* Absolute paths start from the virtual root, relative ones at cwd. */
	if (in[0] != '/' &&
	    (r = vfs_norm_add(out, outlen, &len, &over, cwd)) != 0)
		goto fail;
	if ((r = vfs_norm_add(out, outlen, &len, &over, in)) != 0)
		goto fail;
	/* 6. Refuse rather than truncate what did not fit. */
	if (over > 0) {
		r = FTPS_ETOOBIG;
		goto fail;
	}
	return 0;
 fail:
	out[0] = '\0';
	return r;
}

const char *
vfs_normalize(const char *cwd, const char *in, char *out, size_t outlen)
{
	return vfs_norm(cwd, in, out, outlen) == 0 ? out : NULL;
}

/* The path beneath rootfd: "/a/b" -> "a/b", "/" -> ".". */
static const char *
vfs_rel(const char *path)
{
	return path[1] == '\0' ? "." : path + 1;
}

/* RFC 959 appendix II: a '"' inside a 257 reply's path is doubled. */
static void
vfs_quote(char *dst, size_t dstsize, const char *src)
{
	size_t	 o = 0;

	for (; *src != '\0' && o + 2 < dstsize; src++) {
		if (*src == '"')
			dst[o++] = '"';
		dst[o++] = *src;
	}
	dst[o] = '\0';
}

int
vfs_resolve(struct vfs *v, const char *arg, struct vpath *vp)
{
	char	 parent[FTPS_PATH_MAX];
	char	*slash;
	int	 r;

	vp->dirfd = -1;
	vp->name[0] = vp->path[0] = vp->quoted[0] = vp->display[0] = '\0';
	/* Never opened (or failed to): nothing to resolve beneath. */
	if (v->cwd == NULL || v->rootfd == -1) {
		errno = EBADF;
		return FTPS_ESYS;
	}
	if ((r = vfs_norm(v->cwd, arg, vp->path, sizeof(vp->path))) != 0)
		return r;
	/* quoted holds 2 * FTPS_PATH_MAX: a doubled path always fits. */
	vfs_quote(vp->quoted, sizeof(vp->quoted), vp->path);
	log_safe(vp->display, sizeof(vp->display), vp->path);
	/* SECURITY: an upload in progress is nobody's to touch (item 9). */
	if (strstr(vp->path, "/" VFS_TMP_PREFIX) != NULL)
		return FTPS_ENOENT;

	if (strcmp(vp->path, "/") == 0) {
		vp->name[0] = '.';
		vp->name[1] = '\0';
		if ((vp->dirfd = fcntl(v->rootfd, F_DUPFD_CLOEXEC, 0)) == -1)
			return FTPS_ESYS;
		return 0;
	}
	memcpy(parent, vp->path, strlen(vp->path) + 1);
	slash = strrchr(parent, '/');
	/* The normaliser bounds every component by FTPS_NAME_MAX. */
	if ((r = str_copy(vp->name, sizeof(vp->name), slash + 1)) != 0)
		return r;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((vp->dirfd = vfs_openat2(v->rootfd, vfs_rel(parent),
	    O_PATH | O_DIRECTORY, 0)) == -1)
		return vfs_errno();
	return 0;
}

void
vpath_free(struct vpath *vp)
{
	if (vp->dirfd != -1)
		close(vp->dirfd);
	vp->dirfd = -1;
}

int
vfs_open(struct vfs *v, const struct vpath *vp, int flags, mode_t mode,
    int *fd)
{
	/*
	 * The full path again, not vp->dirfd + name: RESOLVE_IN_ROOT then
	 * also confines a final symlink, which openat(dirfd, name) would
	 * follow anywhere.
	 */
	if ((*fd = vfs_openat2(v->rootfd, vfs_rel(vp->path), flags,
	    mode)) == -1)
		return vfs_errno();
	return 0;
}

int
vfs_stat_path(struct vfs *v, const char *path, struct stat *st)
{
	int	 fd, r = 0;

	memset(st, 0, sizeof(*st));
	if (path[0] != '/')
		return FTPS_EPARSE;
	if ((fd = vfs_openat2(v->rootfd, vfs_rel(path), O_PATH, 0)) == -1)
		return vfs_errno();
	if (fstat(fd, st) == -1)
		r = FTPS_ESYS;
	close(fd);
	return r;
}

int
vfs_stat(struct vfs *v, const struct vpath *vp, struct stat *st)
{
	return vfs_stat_path(v, vp->path, st);
}

int
vfs_lstat(const struct vpath *vp, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	if (vp->dirfd == -1)
		return FTPS_EPARSE;
	if (fstatat(vp->dirfd, vp->name, st, AT_SYMLINK_NOFOLLOW) == -1)
		return vfs_errno();
	return 0;
}

int
vfs_find_dir(struct vfs *v, const char *arg, struct vpath *vp)
{
	struct stat	 st;
	int		 r;

	if ((r = vfs_resolve(v, arg, vp)) != 0 ||
	    (r = vfs_stat(v, vp, &st)) != 0)
		return r;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return FTPS_ESYS;
	}
	return 0;
}

int
vfs_set_cwd(struct vfs *v, const char *path)
{
	char	*cwd;

	if ((cwd = strdup(path)) == NULL)
		return FTPS_ENOMEM;
	free(v->cwd);
	v->cwd = cwd;
	return 0;
}

int
vfs_chdir(struct vfs *v, const char *arg)
{
	struct vpath	 vp;
	int		 r;

	if ((r = vfs_find_dir(v, arg, &vp)) == 0)
		r = vfs_set_cwd(v, vp.path);
	vpath_free(&vp);
	return r;
}

/*
 * The name of a temporary upload: VFS_TMP_PREFIX and six random letters
 * or digits into tmpname (VFS_TMPNAME_SIZE bytes).  0 or FTPS_ESYS.
 */
static int
vfs_tmpname(char *tmpname)
{
	static const char	 set[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	const size_t		 pre = sizeof(VFS_TMP_PREFIX) - 1;
	unsigned char		 rnd[6];
	size_t			 i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return FTPS_ESYS;
	memcpy(tmpname, VFS_TMP_PREFIX, pre);
	for (i = 0; i < sizeof(rnd); i++)
		tmpname[pre + i] = set[rnd[i] % (sizeof(set) - 1)];
	tmpname[pre + sizeof(rnd)] = '\0';
	return 0;
}

int
vfs_mktemp(const struct vpath *vp, char *tmpname, size_t len, int *fd)
{
	int	 tries, r;

	*fd = -1;
	if (len > 0)
		tmpname[0] = '\0';
	if (len < VFS_TMPNAME_SIZE)
		return FTPS_ETOOBIG;
	if (vp->dirfd == -1)
		return FTPS_EPARSE;
	for (tries = 0; tries < VFS_MKTEMP_TRIES; tries++) {
		if ((r = vfs_tmpname(tmpname)) != 0)
			return r;
		/*
		 * SECURITY: O_EXCL|O_NOFOLLOW: a symlink or file planted
		 * under the guessed name is never opened or truncated.
		 */
		*fd = openat(vp->dirfd, tmpname, O_CREAT | O_EXCL | O_WRONLY |
		    O_CLOEXEC | O_NOFOLLOW, 0666);
		if (*fd != -1)
			return 0;
		if (errno != EEXIST)
			break;
	}
	tmpname[0] = '\0';
	return vfs_errno();
}

/* -- back ends --------------------------------------------------------- */

/*
 * Can an O_TMPFILE be linked through /proc/self/fd/N (the one way that
 * needs no CAP_DAC_READ_SEARCH)?  The magic link must lead to the very
 * file: /proc mounted, and the process allowed to follow its own links.
 */
static int
vfs_probe_tmpfile(void)
{
	struct stat	 a, b;
	char		 proc[32];
	int		 fd, ok;

	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ok = fstat(fd, &a) == 0 && stat(proc, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(fd);
	return ok;
}

enum vfs_backend
vfs_probe(void)
{
	int	 err;

	atomic_store(&vfs_tmpfile_ok, vfs_probe_tmpfile());
	if (vfs_openat2_works() == 0) {
		atomic_store(&vfs_be, VFS_OPENAT2);
		log_info("vfs: confining paths with openat2(RESOLVE_IN_ROOT)");
	} else {
		err = errno;
		atomic_store(&vfs_be, VFS_WALK);
		log_info("vfs: openat2 unavailable (%s): confining paths "
		    "with the component walk", strerror(err));
	}
	if (!atomic_load(&vfs_tmpfile_ok))
		log_info("vfs: /proc/self/fd unusable: uploads are "
		    "written under hidden temporary names, not O_TMPFILE");
	return atomic_load(&vfs_be);
}

enum vfs_backend
vfs_backend(void)
{
	return atomic_load(&vfs_be);
}

int
vfs_set_backend(enum vfs_backend be)
{
	if (be == VFS_OPENAT2 && vfs_openat2_works() == -1)
		return FTPS_ESYS;
	atomic_store(&vfs_be, be);
	atomic_store(&vfs_tmpfile_ok, vfs_probe_tmpfile());
	return 0;
}

void
vfs_set_tmpfile(int on)
{
	atomic_store(&vfs_tmpfile_ok, on && vfs_probe_tmpfile());
}

/* -- names ------------------------------------------------------------- */

int
vfs_hidden(const char *name)
{
	return strncmp(name, VFS_TMP_PREFIX, sizeof(VFS_TMP_PREFIX) - 1) == 0;
}

int
vfs_name_allowed(const char *name)
{
	const unsigned char	*p;

	/* SECURITY: control bytes forge lines in logs and client parsers. */
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return FTPS_EPARSE;
	return 0;
}

/* -- operations on the last component ---------------------------------- */

/*
 * These act on vp->name inside vp->dirfd, the parent that vfs_resolve()
 * reached beneath the root: one component, never followed.
 */
static int
vfs_check_vp(const struct vpath *vp)
{
	if (vp->dirfd == -1)
		return FTPS_EPARSE;
	return 0;
}

int
vfs_mkdir(const struct vpath *vp, mode_t mode)
{
	int	 r;

	if ((r = vfs_check_vp(vp)) != 0)
		return r;
	if (strcmp(vp->name, ".") == 0) {
		errno = EEXIST;
		return FTPS_ESYS;
	}
	return mkdirat(vp->dirfd, vp->name, mode) == -1 ? FTPS_ESYS : 0;
}

/* 0, or FTPS_ESYS with errno: unlink(2)'s causes are the client's to read. */
static int
vfs_unlinkat(const struct vpath *vp, int flags)
{
	int	 r;

	if ((r = vfs_check_vp(vp)) != 0)
		return r;
	/* The root itself: "." fails with EINVAL, never removed. */
	return unlinkat(vp->dirfd, vp->name, flags) == -1 ? FTPS_ESYS : 0;
}

int
vfs_rmdir(const struct vpath *vp)
{
	return vfs_unlinkat(vp, AT_REMOVEDIR);
}

int
vfs_unlink(const struct vpath *vp)
{
	return vfs_unlinkat(vp, 0);
}

int
vfs_rename(const struct vpath *from, const struct vpath *to)
{
	int	 r;

	if ((r = vfs_check_vp(from)) != 0 || (r = vfs_check_vp(to)) != 0)
		return r;
	return renameat(from->dirfd, from->name, to->dirfd, to->name) == -1 ?
	    FTPS_ESYS : 0;
}

int
vfs_entry_lstat(int dirfd, const char *name, struct stat *st)
{
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == -1)
		return FTPS_ESYS;
	return 0;
}

ssize_t
vfs_entry_readlink(int dirfd, const char *name, char *buf, size_t len)
{
	return readlinkat(dirfd, name, buf, len);
}

/* -- uploads ------------------------------------------------------------ */

int
vfs_upload_open(const struct vpath *vp, struct vfs_upload *up, int *fd)
{
	int	 r;

	memset(up, 0, sizeof(*up));
	*fd = -1;
	if ((r = vfs_check_vp(vp)) != 0)
		return r;
	/* No name at all until the commit: nothing a client can reach. */
	if (atomic_load(&vfs_tmpfile_ok)) {
		*fd = openat(vp->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC,
		    0666);
		if (*fd != -1)
			up->tmpfile = 1;
		/* A file system without O_TMPFILE: a hidden name instead. */
		else if (errno != EOPNOTSUPP && errno != EISDIR &&
		    errno != EINVAL)
			return vfs_errno();
	}
	if (*fd == -1 && (r = vfs_mktemp(vp, up->tmpname,
	    sizeof(up->tmpname), fd)) != 0)
		return r;
	/* Held while the upload lives: the start-up sweep skips it. */
	(void)flock(*fd, LOCK_EX | LOCK_NB);
	return 0;
}

/*
 * The O_TMPFILE gets a hidden name beside the target (linkat through
 * /proc/self/fd, which needs no capability), or the final name itself
 * when noreplace.  0 or FTPS_ESYS.
 */
static int
vfs_upload_link(const struct vpath *vp, struct vfs_upload *up, int fd,
    const char *final, int noreplace)
{
	char	 proc[32];
	int	 tries;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (noreplace)
		return linkat(AT_FDCWD, proc, vp->dirfd, final,
		    AT_SYMLINK_FOLLOW) == -1 ? FTPS_ESYS : 0;
	for (tries = 0; tries < VFS_MKTEMP_TRIES; tries++) {
		if (vfs_tmpname(up->tmpname) != 0)
			break;
		if (linkat(AT_FDCWD, proc, vp->dirfd, up->tmpname,
		    AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	up->tmpname[0] = '\0';
	return FTPS_ESYS;
}

int
vfs_upload_commit(const struct vpath *vp, struct vfs_upload *up, int *fd,
    const char *final, int noreplace)
{
	int	 r = 0, dfd;

	up->sync_err = 0;
	if ((r = vfs_check_vp(vp)) != 0)
		return r;
	if (up->tmpfile) {
		if ((r = vfs_upload_link(vp, up, *fd, final, noreplace)) != 0)
			return r;
	} else {
		/* NFS reports a failed write-back at close: before the name. */
		r = close(*fd);
		*fd = -1;
		if (r == -1)
			return FTPS_ESYS;
	}
	if (up->tmpname[0] != '\0') {
		/* Atomic: readers see the old file or the complete new one. */
		if (noreplace)
			r = renameat2(vp->dirfd, up->tmpname, vp->dirfd, final,
			    RENAME_NOREPLACE);
		else
			r = renameat(vp->dirfd, up->tmpname, vp->dirfd, final);
		if (r == -1)
			return FTPS_ESYS;
		up->tmpname[0] = '\0';
	}
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
	/*
	 * The name itself reaches the disk: after a power loss it holds the
	 * old or the new file, never an empty one.  Failing here changes
	 * nothing already visible: sync_err tells the caller to warn.
	 */
	if ((dfd = openat(vp->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || fsync(dfd) == -1)
		up->sync_err = errno;
	if (dfd != -1)
		close(dfd);
	return 0;
}

void
vfs_upload_discard(const struct vpath *vp, struct vfs_upload *up)
{
	if (up->tmpname[0] != '\0' && vp->dirfd != -1)
		(void)unlinkat(vp->dirfd, up->tmpname, 0);
	up->tmpname[0] = '\0';
}

/* -- the start-up sweep --------------------------------------------------- */

/*
 * A hidden temporary upload in dfd that no live upload holds: removed.
 * The lock test keeps an upload of another process (a second ftpsd on
 * the same homes) alive.
 */
static void
vfs_sweep_one(int dfd, const char *name, struct vfs_sweep *sw)
{
	struct stat	 st;
	int		 fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode))
		return;
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dfd, name, 0) == 0)
		sw->removed++;
	close(fd);
}

static void
vfs_sweep_dir(int fd, unsigned depth, struct vfs_sweep *sw)
{
	struct dirent	*de;
	DIR		*dir;
	int		 sub;

	if (sw->dirs >= VFS_SWEEP_DIRS) {
		sw->truncated = 1;
		close(fd);
		return;
	}
	sw->dirs++;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (vfs_hidden(de->d_name)) {
			vfs_sweep_one(dirfd(dir), de->d_name, sw);
			continue;
		}
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (depth + 1 >= VFS_SWEEP_DEPTH) {
			sw->truncated = 1;
			continue;
		}
		/* O_NOFOLLOW: a symlink to a folder is swept where it is. */
		if ((sub = openat(dirfd(dir), de->d_name, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1)
			vfs_sweep_dir(sub, depth + 1, sw);
	}
	closedir(dir);
}

int
vfs_sweep_home(struct vfs_sweep *sw, const char *home)
{
	struct stat	 st;
	size_t		 i;
	int		 fd;

	if ((fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return FTPS_ESYS;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return FTPS_ESYS;
	}
	/* Homes shared by several users are swept once. */
	for (i = 0; i < sw->nseen; i++)
		if (sw->seen[i].dev == st.st_dev &&
		    sw->seen[i].ino == st.st_ino) {
			close(fd);
			return 0;
		}
	if (sw->nseen < VFS_SWEEP_HOMES) {
		sw->seen[sw->nseen].dev = st.st_dev;
		sw->seen[sw->nseen].ino = st.st_ino;
		sw->nseen++;
	}
	sw->homes++;
	vfs_sweep_dir(fd, 0, sw);
	return 0;
}
