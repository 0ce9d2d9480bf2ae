/*
 * The virtual file system of one session: every path a client names is
 * normalised lexically against the virtual cwd, then resolved by the kernel
 * beneath the user's root fd with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS).  '..', absolute paths and symlinks can never
 * leave the home.  Operations on the last component use the *at() calls on
 * the parent fd, which never follow a final symlink.
 */
#ifndef FTPS_VFS_H
#define FTPS_VFS_H

#include <sys/types.h>
#include <sys/stat.h>

#include "ftps_limits.h"

struct vfs_home;

struct vfs {
	int		 rootfd;		/* O_PATH|O_DIRECTORY, shared */
	struct vfs_home	*home;			/* rootfd's reference, or NULL */
	char		*cwd;			/* virtual, begins with '/';
						 * owned, sized to fit (a
						 * session holds only what
						 * its path needs) */
};

/* A resolved path; always release with vpath_free(). */
struct vpath {
	int	 dirfd;				/* parent dir, owned, or -1 */
	char	 name[FTPS_NAME_MAX + 1];	/* last component; "." = root */
	char	 path[FTPS_PATH_MAX];		/* normalised virtual path */
	char	 quoted[2 * FTPS_PATH_MAX];	/* path, '"' doubled (RFC 959) */
	char	 display[FTPS_PATH_MAX];	/* path passed through log_safe */
};

/*
 * Opens home as the root, cwd "/".  0 or FTPS_ESYS with errno (ENOTDIR,
 * EMFILE, ENOMEM...); after a failure only vfs_close() may follow.  Sessions whose home is the same directory (same st_dev
 * and st_ino now) share one descriptor, counted by reference: the fd is
 * only ever a dirfd for openat2() and *at() calls, never read or seeked.
 */
int		 vfs_open_root(struct vfs *, const char *home);
/* Drops the reference; the last one closes the descriptor. */
void		 vfs_close(struct vfs *);
/* Distinct home descriptors open in this process (tests, logs). */
size_t		 vfs_homes_open(void);

/*
 * Lexical normalisation of in (relative to cwd, or absolute from the
 * virtual root) into out.  Returns out, or NULL when the input is refused:
 * empty, holds a CR, LF or NUL, or does not fit (never truncated).
 */
const char	*vfs_normalize(const char *cwd, const char *in, char *out,
		    size_t outlen);

/*
 * Resolves arg beneath the root: opens the parent directory, fills vp.
 * 0, FTPS_EPARSE (bad name), FTPS_ETOOBIG (path or a component too
 * long), FTPS_ENOENT (parent missing), FTPS_EDENIED (escape attempt or
 * symlink loop) or FTPS_ESYS.  The root itself resolves to name "." with
 * dirfd a new descriptor of the root: mkdirat/unlinkat/renameat of "."
 * fail, so the root can never be removed or replaced.
 */
int		 vfs_resolve(struct vfs *, const char *arg, struct vpath *);
void		 vpath_free(struct vpath *);

/*
 * Opens the object vp names (following a final symlink, but only beneath
 * the root) with open(2) flags; *fd = -1 on failure.  0 or an FTPS_E code.
 */
int		 vfs_open(struct vfs *, const struct vpath *, int flags,
		    mode_t mode, int *fd);
/* stat(2) of what vp names, resolved beneath the root. */
int		 vfs_stat(struct vfs *, const struct vpath *, struct stat *);
/* lstat(2) of vp itself: a final symlink is not followed. */
int		 vfs_lstat(const struct vpath *, struct stat *);
/*
 * stat(2) of a virtual path that vfs_normalize() already produced
 * (absolute, from the virtual root), resolved beneath the root.
 */
int		 vfs_stat_path(struct vfs *, const char *path, struct stat *);
/*
 * CWD: checks arg is a directory beneath the root and makes it the cwd.
 * A non-directory is FTPS_ESYS with errno ENOTDIR; FTPS_ENOMEM.
 */
int		 vfs_chdir(struct vfs *, const char *arg);

/*
 * Creates a unique temporary file beside vp (same directory, so that
 * renameat() over the target is atomic) with mode 0666 & ~umask, opened
 * O_WRONLY.  tmpname (at least VFS_TMPNAME_SIZE bytes) receives its name
 * within vp->dirfd: VFS_TMP_PREFIX and six random letters or digits.
 * Listings show these files like any other (docs/vfs.md).
 */
#define VFS_TMP_PREFIX		".ftpsd-upload."
#define VFS_TMPNAME_SIZE	(sizeof(VFS_TMP_PREFIX) + 6)
int		 vfs_mktemp(const struct vpath *, char *tmpname, size_t len,
		    int *fd);

#endif
