/*
 * The virtual file system of one session: every path a client names is
 * normalised lexically against the virtual cwd, then resolved beneath the
 * user's root fd, by openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) or,
 * where the kernel or a seccomp filter refuses it, by a component walk
 * with the same meaning.  '..', absolute paths and symlinks can never
 * leave the home.  Operations on the last component act on the parent fd
 * and never follow a final symlink.  Every *at() call on a client path is
 * in vfs.c (scripts/lint fails on one elsewhere in server/).
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
/*
 * dst: the same root (one more reference) and a copy of src's cwd, for a
 * job on the I/O pool that must not touch the session's vfs: released
 * with vfs_close(), on the loop like this call (the table of homes is
 * the loop's).  0 or FTPS_ENOMEM (dst then holds nothing).
 */
int		 vfs_hold(struct vfs *dst, const struct vfs *src);
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
 * A non-directory is FTPS_ESYS with errno ENOTDIR; FTPS_ENOMEM.  The two
 * steps apart: vfs_find_dir() resolves and checks (vp filled, release it
 * with vpath_free() whatever the result), vfs_set_cwd() takes a path it
 * found (vp->path) as the cwd.
 */
int		 vfs_chdir(struct vfs *, const char *arg);
int		 vfs_find_dir(struct vfs *, const char *arg, struct vpath *);
int		 vfs_set_cwd(struct vfs *, const char *path);

/*
 * The back end that resolves paths.  vfs_probe() (once, at start) tries
 * openat2 and logs which one is used; a later ENOSYS or EPERM from openat2
 * that a new probe confirms switches to the walk for good (logged once).
 * vfs_set_backend() is for tests: FTPS_ESYS when openat2 is refused.
 */
enum vfs_backend { VFS_OPENAT2, VFS_WALK };
enum vfs_backend vfs_probe(void);
enum vfs_backend vfs_backend(void);
int		 vfs_set_backend(enum vfs_backend);
/* Tests: uploads use O_TMPFILE (on, where it works) or hidden names. */
void		 vfs_set_tmpfile(int on);

/*
 * mkdir, rmdir, unlink and rename of vp->name in vp->dirfd (never
 * following a final symlink).  0, or FTPS_ESYS with errno; the root
 * (name ".") is never created, removed or replaced.
 */
int		 vfs_mkdir(const struct vpath *, mode_t);
int		 vfs_rmdir(const struct vpath *);
int		 vfs_unlink(const struct vpath *);
int		 vfs_rename(const struct vpath *from, const struct vpath *to);

/*
 * A listing's entries: lstat and readlink of a name read from a directory
 * that vfs_open() opened (dirfd).  One component, never followed.
 */
int		 vfs_entry_lstat(int dirfd, const char *name, struct stat *);
ssize_t		 vfs_entry_readlink(int dirfd, const char *name, char *,
		    size_t);

/*
 * 1 for a name no client may see (a temporary upload): listings leave it
 * out and vfs_resolve() answers FTPS_ENOENT for a path through it.
 */
int		 vfs_hidden(const char *name);
/*
 * Whether a client may create an object of this name: FTPS_EPARSE when it
 * holds a control byte (< 0x20 or 0x7f), else 0.
 */
int		 vfs_name_allowed(const char *name);

/*
 * Creates a unique temporary file beside vp (same directory, so that
 * renameat() over the target is atomic) with mode 0666 & ~umask, opened
 * O_WRONLY.  tmpname (at least VFS_TMPNAME_SIZE bytes) receives its name
 * within vp->dirfd: VFS_TMP_PREFIX and six random letters or digits.
 * Clients never see these names (vfs_hidden).
 */
#define VFS_TMP_PREFIX		".ftpsd-upload."
#define VFS_TMPNAME_SIZE	(sizeof(VFS_TMP_PREFIX) + 6)
int		 vfs_mktemp(const struct vpath *, char *tmpname, size_t len,
		    int *fd);

/*
 * An upload that no client sees until it is complete: an O_TMPFILE in
 * vp's folder (no name at all) where the file system and /proc allow,
 * else a file under a hidden VFS_TMP_PREFIX name there.  Its descriptor
 * holds an flock(2) while it lives.
 */
struct vfs_upload {
	int	 tmpfile;			/* O_TMPFILE: no name yet */
	int	 sync_err;			/* commit: errno of the folder's
						 * fsync, or 0 */
	char	 tmpname[VFS_TMPNAME_SIZE];	/* hidden name on disk, or "" */
};
/* Opens the upload's file for writing (*fd).  0 or an FTPS_E code. */
int		 vfs_upload_open(const struct vpath *, struct vfs_upload *,
		    int *fd);
/*
 * Makes the written (and fsync'ed) upload the file final in vp's folder,
 * atomically: readers see the old file or the complete new one; with
 * noreplace an existing final fails (EEXIST).  Closes *fd (-1 after).
 * 0, or FTPS_ESYS with errno (a close error reports a failed write).
 */
int		 vfs_upload_commit(const struct vpath *, struct vfs_upload *,
		    int *fd, const char *final, int noreplace);
/* An unfinished upload: its hidden name, if any, is removed. */
void		 vfs_upload_discard(const struct vpath *, struct vfs_upload *);

/*
 * At start, before any upload: hidden temporary uploads that a killed
 * server left are removed from the homes (a locked one, still written by
 * another process, stays).  Bounded: VFS_SWEEP_DIRS folders in all,
 * VFS_SWEEP_DEPTH levels deep; truncated says a bound was hit.
 */
#define VFS_SWEEP_DIRS		10000
#define VFS_SWEEP_DEPTH		32
#define VFS_SWEEP_HOMES		256
struct vfs_sweep {
	size_t	 homes, dirs, removed;
	int	 truncated;
	size_t	 nseen;
	struct {
		dev_t	 dev;
		ino_t	 ino;
	}	 seen[VFS_SWEEP_HOMES];
};
/* Sweeps one home (once per directory).  0 or FTPS_ESYS. */
int		 vfs_sweep_home(struct vfs_sweep *, const char *home);

#endif
