/*
 * fuzz_path: client path arguments through vfs_normalize(), vfs_chdir()
 * and vfs_resolve() in a temporary root whose fixtures include symlinks
 * to /etc, to "../.." and to a directory beside the root.  Input: a path,
 * or "CWD\nPATH" to change directory first.  Invariants:
 * - vfs_normalize agrees with a plain reference (a stack of components,
 *   refusal for empty, CR/LF, a component over FTPS_NAME_MAX or a result
 *   that does not fit) and its output is canonical and idempotent;
 * - SECURITY: every descriptor vfs_resolve/vfs_open hands out (a parent
 *   directory or the object itself) lies inside the root, whatever '..',
 *   absolute path or symlink the input uses: abort otherwise;
 * - the fields of struct vpath agree with the normalised path;
 * - both back ends (openat2 and the component walk) give the same answer:
 *   the same code, and the same object when it opens;
 * - no descriptor is left open on any path.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "ftps_limits.h"
#include "fuzz.h"
#include "vfs.h"

static char	 fp_base[PATH_MAX];	/* the temporary tree */
static char	 fp_root[PATH_MAX];	/* its root/, as realpath() gives it */
static struct vfs fp_vfs;
static int	 fp_ready;

static int
fp_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
fp_cleanup(void)
{
	vfs_close(&fp_vfs);
	if (fp_base[0] != '\0')
		nftw(fp_base, fp_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	fp_base[0] = '\0';
}

/* BASE/rel into p (PATH_MAX bytes); the fixture names are short. */
static void
fp_path(char *p, const char *rel)
{
	int	 n;

	n = snprintf(p, PATH_MAX, "%s/%s", fp_base, rel);
	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "%s/%s: path too long\n", fp_base, rel);
		abort();
	}
}

static void
fp_mkfile(const char *rel, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*fp;

	fp_path(path, rel);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) != 0) {
		perror(path);
		abort();
	}
}

/*
 * BASE/outside/secret	what no path may reach
 * BASE/root/		the user's root:
 *   a/b/  a/file  file  etc/passwd (a decoy: "/etc" inside the root)
 *   say "hi"		a name the 257 reply must quote
 *   to_etc -> /etc	to_up -> ../..	to_out -> ../outside
 *   to_abs -> BASE/outside		to_a -> a	a/up -> ..
 *   loop -> loop	dangling -> nowhere	a/b/upfile -> ../file
 *   slash -> file/	a/mixed -> /a/b/../up/./	chain -> to_a/up/to_a
 */
static void
fp_setup(void)
{
	static const char	*dirs[] = { "outside", "root", "root/a",
				    "root/a/b", "root/etc" };
	char			 p[PATH_MAX], q[PATH_MAX];
	const char		*tmp;
	size_t			 i;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (snprintf(fp_base, sizeof(fp_base), "%s/fuzz_path.XXXXXX", tmp) >=
	    (int)sizeof(fp_base) || mkdtemp(fp_base) == NULL) {
		perror(fp_base);
		abort();
	}
	fp_vfs.rootfd = -1;
	atexit(fp_cleanup);
	fuzz_fail_hook = fp_cleanup;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		fp_path(p, dirs[i]);
		if (mkdir(p, 0755) == -1) {
			perror(p);
			abort();
		}
	}
	fp_mkfile("outside/secret", "outside the root\n");
	fp_mkfile("root/file", "file\n");
	fp_mkfile("root/a/file", "a/file\n");
	fp_mkfile("root/etc/passwd", "decoy:x:0:0::/:/bin/false\n");
	fp_mkfile("root/say \"hi\"", "quoted\n");
	fp_path(q, "outside");
	{
		const char	*links[][2] = {
			{ "/etc", "root/to_etc" },
			{ "../..", "root/to_up" },
			{ "../outside", "root/to_out" },
			{ q, "root/to_abs" },
			{ "a", "root/to_a" },
			{ "..", "root/a/up" },
			{ "loop", "root/loop" },
			{ "nowhere", "root/dangling" },
			{ "../file", "root/a/b/upfile" },
			{ "file/", "root/slash" },
			{ "/a/b/../up/./", "root/a/mixed" },
			{ "to_a/up/to_a", "root/chain" },
		};

		for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
			fp_path(p, links[i][1]);
			if (symlink(links[i][0], p) == -1) {
				perror(p);
				abort();
			}
		}
	}
	fp_path(p, "root");
	if (realpath(p, fp_root) == NULL) {
		perror(p);
		abort();
	}
	if (vfs_open_root(&fp_vfs, fp_root) != 0) {
		perror(fp_root);
		abort();
	}
}

/* SECURITY: the object fd refers to is the root or beneath it. */
static void
fp_inside(int fd, const char *what, const char *arg)
{
	char	 link[64], where[PATH_MAX + 1];
	size_t	 rl = strlen(fp_root);
	ssize_t	 n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	FUZZ_CHECK((n = readlink(link, where, sizeof(where) - 1)) > 0);
	where[n] = '\0';
	if (strncmp(where, fp_root, rl) == 0 &&
	    (where[rl] == '\0' || where[rl] == '/'))
		return;
	fprintf(stderr, "%s of \"%s\" is %s, outside the root %s\n", what,
	    arg, where, fp_root);
	FUZZ_CHECK(!"a resolved path stays inside the root");
}

/*
 * Reference normaliser: components of cwd (for a relative in) then of
 * in, on a stack; "." skipped, ".." pops (never above the root).  Returns
 * 0 and the result, or FTPS_EPARSE / FTPS_ETOOBIG as vfs_normalize must
 * refuse it.
 */
static int
ref_norm(const char *cwd, const char *in, char *out, size_t outlen)
{
	const char	*src[2], *p, *e;
	size_t		*start = NULL, depth = 0, len = 0, n, cap;
	char		*buf = NULL;
	int		 s, r = 0;

	if (*in == '\0' || strpbrk(in, "\r\n") != NULL)
		return FTPS_EPARSE;
	src[0] = in[0] == '/' ? "" : cwd;
	src[1] = in;
	/* Each component adds its own length and one '/' at most. */
	cap = strlen(src[0]) + strlen(in) + 3;
	FUZZ_CHECK((buf = malloc(cap)) != NULL);
	FUZZ_CHECK((start = calloc(cap, sizeof(*start))) != NULL);
	for (s = 0; s < 2; s++)
		for (p = src[s]; *p != '\0'; p = e) {
			e = p + strcspn(p, "/");
			n = (size_t)(e - p);
			if (*e == '/')
				e++;
			if (n == 0 || (n == 1 && p[0] == '.'))
				continue;
			if (n == 2 && p[0] == '.' && p[1] == '.') {
				if (depth > 0)
					len = start[--depth];
				continue;
			}
			if (n > FTPS_NAME_MAX) {
				r = FTPS_ETOOBIG;
				goto out;
			}
			start[depth++] = len;
			buf[len++] = '/';
			memcpy(buf + len, p, n);
			len += n;
		}
	if (len == 0)
		buf[len++] = '/';
	buf[len] = '\0';
	if (len >= outlen)
		r = FTPS_ETOOBIG;
	else
		memcpy(out, buf, len + 1);
 out:
	free(buf);
	free(start);
	return r;
}

static void
fp_canonical(const char *p)
{
	char		 again[FTPS_PATH_MAX];
	const char	*c, *e;
	size_t		 n;

	FUZZ_CHECK(p[0] == '/');
	FUZZ_CHECK(strpbrk(p, "\r\n") == NULL);
	FUZZ_CHECK(strcmp(p, "/") == 0 || p[strlen(p) - 1] != '/');
	for (c = p + 1; *c != '\0'; c = *e != '\0' ? e + 1 : e) {
		e = c + strcspn(c, "/");
		n = (size_t)(e - c);
		FUZZ_CHECK(n >= 1 && n <= FTPS_NAME_MAX);
		FUZZ_CHECK(!(n == 1 && c[0] == '.'));
		FUZZ_CHECK(!(n == 2 && c[0] == '.' && c[1] == '.'));
	}
	FUZZ_CHECK(vfs_normalize("/", p, again, sizeof(again)) == again);
	FUZZ_CHECK(strcmp(again, p) == 0);
	FUZZ_CHECK(vfs_normalize("/elsewhere", p, again, sizeof(again)) ==
	    again);
	FUZZ_CHECK(strcmp(again, p) == 0);
}

static void
fp_check_vpath(const struct vpath *vp, const char *arg)
{
	const char	*slash, *q;
	char		 unq[FTPS_PATH_MAX];
	size_t		 o = 0;

	fp_canonical(vp->path);
	if (strcmp(vp->path, "/") == 0)
		FUZZ_CHECK(strcmp(vp->name, ".") == 0);
	else {
		slash = strrchr(vp->path, '/');
		FUZZ_CHECK(strcmp(vp->name, slash + 1) == 0);
	}
	/* RFC 959 appendix II: undoubling quoted gives path back. */
	for (q = vp->quoted; *q != '\0'; q++) {
		if (*q == '"') {
			FUZZ_CHECK(q[1] == '"');
			q++;
		}
		FUZZ_CHECK(o + 1 < sizeof(unq));
		unq[o++] = *q;
	}
	unq[o] = '\0';
	FUZZ_CHECK(strcmp(unq, vp->path) == 0);
	for (q = vp->display; *q != '\0'; q++)
		FUZZ_CHECK(*q >= 0x20 && *q < 0x7f);
	FUZZ_CHECK(vp->dirfd >= 0);
	fp_inside(vp->dirfd, "parent", arg);
}

/* The code of resolving and opening arg (O_PATH), and what it opened. */
static int
fp_ident(const char *arg, struct stat *st)
{
	struct vpath	 vp;
	int		 r, fd = -1;

	memset(st, 0, sizeof(*st));
	if ((r = vfs_resolve(&fp_vfs, arg, &vp)) == 0 &&
	    (r = vfs_open(&fp_vfs, &vp, O_PATH, 0, &fd)) == 0) {
		FUZZ_CHECK(fstat(fd, st) == 0);
		close(fd);
	}
	vpath_free(&vp);
	return r;
}

/* Where openat2 works, the walk must agree with it. */
static void
fp_same_both(const char *arg)
{
	struct stat	 a, b;
	int		 ra, rb;

	if (vfs_set_backend(VFS_OPENAT2) != 0)
		return;
	ra = fp_ident(arg, &a);
	FUZZ_CHECK(vfs_set_backend(VFS_WALK) == 0);
	rb = fp_ident(arg, &b);
	FUZZ_CHECK(vfs_set_backend(VFS_OPENAT2) == 0);
	if (ra != rb || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		fprintf(stderr, "cwd \"%s\" in \"%s\": openat2 %d (ino %llu), "
		    "walk %d (ino %llu)\n", fp_vfs.cwd, arg, ra,
		    (unsigned long long)a.st_ino, rb,
		    (unsigned long long)b.st_ino);
		FUZZ_CHECK(!"openat2 and the walk agree");
	}
}

static void
fp_one(const char *arg)
{
	char		 norm[FTPS_PATH_MAX], want[FTPS_PATH_MAX];
	struct vpath	 vp;
	struct stat	 st;
	const char	*got;
	int		 r, rr, fd;

	got = vfs_normalize(fp_vfs.cwd, arg, norm, sizeof(norm));
	rr = ref_norm(fp_vfs.cwd, arg, want, sizeof(want));
	if ((got == NULL) != (rr != 0) ||
	    (got != NULL && strcmp(got, want) != 0)) {
		fprintf(stderr, "cwd \"%s\" in \"%s\": \"%s\", reference "
		    "\"%s\"\n", fp_vfs.cwd, arg, got ? got : "(refused)",
		    rr == 0 ? want : "(refused)");
		FUZZ_CHECK(!"vfs_normalize agrees with the reference");
	}
	if (got != NULL)
		fp_canonical(got);

	r = vfs_resolve(&fp_vfs, arg, &vp);
	FUZZ_CHECK(r == 0 || r == FTPS_EPARSE || r == FTPS_ETOOBIG ||
	    r == FTPS_ENOENT || r == FTPS_EDENIED || r == FTPS_ESYS);
	FUZZ_CHECK((r == FTPS_EPARSE || r == FTPS_ETOOBIG) == (got == NULL));
	if (r == 0) {
		FUZZ_CHECK(strcmp(vp.path, norm) == 0);
		fp_check_vpath(&vp, arg);
		r = vfs_open(&fp_vfs, &vp, O_PATH, 0, &fd);
		FUZZ_CHECK((r == 0) == (fd >= 0));
		if (fd >= 0) {
			fp_inside(fd, "object", arg);
			close(fd);
		}
		if (vfs_stat(&fp_vfs, &vp, &st) == 0)
			FUZZ_CHECK(r == 0);
		vfs_lstat(&vp, &st);
	} else
		FUZZ_CHECK(vp.dirfd == -1);
	vpath_free(&vp);
	FUZZ_CHECK(vp.dirfd == -1);
	fp_same_both(arg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, *arg, *nl, want[FTPS_PATH_MAX];
	struct fuzz_fds	 fds;
	struct stat	 st;
	int		 r;

	if (!fp_ready) {
		fp_setup();
		fp_ready = 1;
	}
	fuzz_fds_snapshot(&fds);
	FUZZ_CHECK(strcmp(fp_vfs.cwd, "/") == 0);
	FUZZ_CHECK((s = fuzz_strdup(data, size)) != NULL);
	arg = s;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		arg = nl + 1;
		r = vfs_chdir(&fp_vfs, s);
		if (r == 0) {
			FUZZ_CHECK(vfs_normalize("/", s, want, sizeof(want)) ==
			    want);
			FUZZ_CHECK(strcmp(fp_vfs.cwd, want) == 0);
			FUZZ_CHECK(vfs_stat_path(&fp_vfs, fp_vfs.cwd,
			    &st) == 0 && S_ISDIR(st.st_mode));
		} else
			FUZZ_CHECK(strcmp(fp_vfs.cwd, "/") == 0);
	}
	fp_one(arg);
	free(s);
	/* The next input starts from the root again. */
	fp_vfs.cwd[0] = '/';
	fp_vfs.cwd[1] = '\0';
	fuzz_fds_check(&fds);
	return 0;
}
