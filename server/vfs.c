/*
 * Confinement without chroot: lexical normalisation of the client's path,
 * then the kernel resolves it beneath the session's root fd with
 * openat2(RESOLVE_IN_ROOT), so neither '..', an absolute path nor a
 * symlink (absolute or relative) can reach outside the home.  See
 * docs/vfs.md.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
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

/*
 * SECURITY: every open goes through here.  RESOLVE_IN_ROOT scopes '..' and
 * absolute symlink targets to rootfd (a symlink to /etc means root/etc).
 * /proc-style magic links, which jump to any open file of the process,
 * are refused: scoped lookups already fail them with EXDEV, and
 * RESOLVE_NO_MAGICLINKS states it outright (ELOOP) should that change.
 */
static int
vfs_openat2(int rootfd, const char *rel, int flags, mode_t mode)
{
	struct open_how	 how;
	int		 fd, tries = 0;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	/* openat2 refuses a mode without O_CREAT or O_TMPFILE (EINVAL). */
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	do {
		fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	} while (fd == -1 && errno == EAGAIN && ++tries < VFS_EAGAIN_TRIES);
	return fd;
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
 * One table per process; only the event loop thread uses it.
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
vfs_chdir(struct vfs *v, const char *arg)
{
	struct vpath	 vp;
	struct stat	 st;
	char		*cwd;
	int		 r;

	if ((r = vfs_resolve(v, arg, &vp)) != 0)
		goto out;
	if ((r = vfs_stat(v, &vp, &st)) != 0)
		goto out;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		r = FTPS_ESYS;
		goto out;
	}
	if ((cwd = strdup(vp.path)) == NULL) {
		r = FTPS_ENOMEM;
		goto out;
	}
	free(v->cwd);
	v->cwd = cwd;
 out:
	vpath_free(&vp);
	return r;
}

int
vfs_mktemp(const struct vpath *vp, char *tmpname, size_t len, int *fd)
{
	static const char	 set[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	const size_t		 pre = sizeof(VFS_TMP_PREFIX) - 1;
	unsigned char		 rnd[6];
	size_t			 i;
	int			 tries;

	*fd = -1;
	if (len > 0)
		tmpname[0] = '\0';
	if (len < VFS_TMPNAME_SIZE)
		return FTPS_ETOOBIG;
	if (vp->dirfd == -1)
		return FTPS_EPARSE;
	memcpy(tmpname, VFS_TMP_PREFIX, pre);
	for (tries = 0; tries < VFS_MKTEMP_TRIES; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return FTPS_ESYS;
		for (i = 0; i < sizeof(rnd); i++)
			tmpname[pre + i] = set[rnd[i] % (sizeof(set) - 1)];
		tmpname[pre + sizeof(rnd)] = '\0';
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
