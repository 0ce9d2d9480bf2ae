/* tests/unit/check_vfs.c: path normalisation and confinement beneath a root. */
#include "config.h"

#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include "err.h"
#include "ftps_limits.h"
#include "vfs.h"
#include "../integration/denysys.h"
#include "testutil.h"

static const struct {
	const char	*cwd, *in, *want;	/* want NULL: refused */
} norm[] = {
	{ "/",		"a/../b",		"/b" },
	{ "/a",		"../../..",		"/" },
	{ "/",		"a//b/./c",		"/a/b/c" },
	{ "/",		"bad\r\nname",		NULL },
	{ "/",		"",			NULL },
	{ "/x",		"",			NULL },
	{ "/",		"/",			"/" },
	{ "/",		"..",			"/" },
	{ "/",		"../..",		"/" },
	{ "/x/y",	"..",			"/x" },
	{ "/x/y",	"../..",		"/" },
	{ "/",		"a/b/../../../c",	"/c" },
	{ "/",		"a\r\nb",		NULL },
	{ "/",		"a\rb",			NULL },
	{ "/",		"a\nb",			NULL },
	{ "/",		"\r",			NULL },
	{ "/d",		"ok/../x\n",		NULL },
	{ "/d",		"a/b/",			"/d/a/b" },
	{ "/",		"a///",			"/a" },
	{ "/",		"////",			"/" },
	{ "/x",		"/abs",			"/abs" },
	{ "/x",		"//abs//y//",		"/abs/y" },
	{ "/x",		"/../../etc/passwd",	"/etc/passwd" },
	{ "/",		"../../../../../../etc/passwd", "/etc/passwd" },
	{ "/",		".",			"/" },
	{ "/d",		".",			"/d" },
	{ "/d",		"./",			"/d" },
	{ "/d",		"./.",			"/d" },
	{ "/",		"...",			"/..." },
	{ "/",		"..a",			"/..a" },
	{ "/",		"a..",			"/a.." },
	{ "/",		".hidden",		"/.hidden" },
	{ "/",		"a/./b/.",		"/a/b" },
	{ "/",		"say \"hi\"",		"/say \"hi\"" },
	{ "/",		"with space ",		"/with space " },
	{ "/",		" lead",		"/ lead" },
	{ "/a/b",	"c",			"/a/b/c" },
	{ "/a/b",	"../c/../../d",		"/d" },
	{ "/",		"\\..\\x",		"/\\..\\x" },
	{ "/",		"\xc3\xbc" "n\xc3\xaf",	"/\xc3\xbc" "n\xc3\xaf" },
	{ "/",		"~",			"/~" },
	{ "/q\"uote",	"x",			"/q\"uote/x" },
};

START_TEST(normalize)
{
	char		 out[FTPS_PATH_MAX];
	const char	*got;

	got = vfs_normalize(norm[_i].cwd, norm[_i].in, out, sizeof(out));
	if (norm[_i].want == NULL)
		ck_assert_ptr_null(got);
	else {
		ck_assert_ptr_eq(got, out);
		ck_assert_str_eq(got, norm[_i].want);
	}
}
END_TEST

START_TEST(normalize_bounds)
{
	char	 out[FTPS_PATH_MAX], in[2 * FTPS_PATH_MAX];
	size_t	 i;

	/* The output size is exact: "/abc" needs 5 bytes. */
	ck_assert_ptr_null(vfs_normalize("/", "abc", out, 4));
	ck_assert_str_eq(vfs_normalize("/", "abc", out, 5), "/abc");
	ck_assert_ptr_null(vfs_normalize("/ab", "c", out, 5));
	ck_assert_str_eq(vfs_normalize("/ab", "c", out, 6), "/ab/c");
	ck_assert_ptr_null(vfs_normalize("/", "a", out, 1));
	/* Judged by the result: ".." cancels what did not fit. */
	ck_assert_str_eq(vfs_normalize("/", "abcdef/../x", out, 3), "/x");
	ck_assert_str_eq(vfs_normalize("/", "a/bcdef/g/../../x", out, 5),
	    "/a/x");
	ck_assert_ptr_null(vfs_normalize("/", "a/bcdef/g/../x", out, 5));
	ck_assert_ptr_null(vfs_normalize("/", "abcdef/x/..", out, 5));

	/* One component of FTPS_NAME_MAX fits, one more byte does not. */
	memset(in, 'n', FTPS_NAME_MAX);
	in[FTPS_NAME_MAX] = '\0';
	ck_assert_ptr_nonnull(vfs_normalize("/", in, out, sizeof(out)));
	ck_assert_uint_eq(strlen(out), FTPS_NAME_MAX + 1);
	in[FTPS_NAME_MAX] = 'n';
	in[FTPS_NAME_MAX + 1] = '\0';
	ck_assert_ptr_null(vfs_normalize("/", in, out, sizeof(out)));

	/* "a/a/a/..." longer than FTPS_PATH_MAX is refused, not truncated. */
	for (i = 0; i + 2 < sizeof(in); i += 2) {
		in[i] = 'a';
		in[i + 1] = '/';
	}
	in[i] = '\0';
	memset(out, 'Z', sizeof(out));
	ck_assert_ptr_null(vfs_normalize("/", in, out, sizeof(out)));
	ck_assert_int_eq(out[0], '\0');
	/* Just below the bound it fits; one more component does not. */
	in[FTPS_PATH_MAX - 2] = '\0';
	ck_assert_ptr_nonnull(vfs_normalize("/", in, out, sizeof(out)));
	ck_assert_ptr_null(vfs_normalize("/abc", in, out, sizeof(out)));
}
END_TEST

/*
 * The fixture: top/ (base/t.XXXXXX) holds root/, the user's home, and
 * secret.txt beside it, which no path given to the vfs may ever reach.
 *
 *   root/file.txt		"hello"
 *   root/sub/inner.txt		"inner"
 *   root/escape -> /etc
 *   root/rel_escape -> ../../../../../../../../etc
 *   root/up -> ../secret.txt
 *   root/sublink -> sub
 *   root/abslink -> /sub
 *   root/loop -> loop
 *   root/plant -> /check_vfs.XXXXXX-planted (absent on the real /)
 *   root/sub/uplink -> ../file.txt
 *   root/sub/deep -> ../../../../file.txt
 *   root/sub/abs -> /sub/inner.txt
 *   root/subdotdot -> sub/..
 *   root/fslash -> file.txt/
 */
static char	 base[64], top[128], root[PATH_MAX];	/* mkdtemp() names */
static char	 plant_target[PATH_MAX];
static struct vfs v;

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void
at_root(char *dst, size_t len, const char *rel)
{
	ck_assert_int_lt(snprintf(dst, len, "%s/%s", root, rel), (int)len);
}

/*
 * The unchecked fixture, run in the parent: a base folder for every test's
 * top/, removed even when a forked test failed (a failed assertion ends
 * the child with _exit(), skipping its checked teardown).
 */
static void
base_setup(void)
{
	strcpy(base, "/tmp/check_vfs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	/* Absolute, at the top of the real file system: never created. */
	snprintf(plant_target, sizeof(plant_target), "%s-planted",
	    strrchr(base, '/'));
}


static void
base_teardown(void)
{
	tu_rmtree(base);
	unlink(plant_target);
}

static void
tmproot_setup(void)
{
	char	 p[PATH_MAX];

	snprintf(top, sizeof(top), "%s/t.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(root, sizeof(root), "%s/root", top);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	snprintf(p, sizeof(p), "%s/secret.txt", top);
	write_file(p, "secret");
	at_root(p, sizeof(p), "file.txt");
	write_file(p, "hello");
	at_root(p, sizeof(p), "sub");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	at_root(p, sizeof(p), "sub/inner.txt");
	write_file(p, "inner");
	at_root(p, sizeof(p), "escape");
	ck_assert_int_eq(symlink("/etc", p), 0);
	at_root(p, sizeof(p), "rel_escape");
	ck_assert_int_eq(symlink("../../../../../../../../etc", p), 0);
	at_root(p, sizeof(p), "up");
	ck_assert_int_eq(symlink("../secret.txt", p), 0);
	at_root(p, sizeof(p), "sublink");
	ck_assert_int_eq(symlink("sub", p), 0);
	at_root(p, sizeof(p), "abslink");
	ck_assert_int_eq(symlink("/sub", p), 0);
	at_root(p, sizeof(p), "loop");
	ck_assert_int_eq(symlink("loop", p), 0);
	at_root(p, sizeof(p), "plant");
	ck_assert_int_eq(symlink(plant_target, p), 0);
	at_root(p, sizeof(p), "sub/uplink");
	ck_assert_int_eq(symlink("../file.txt", p), 0);
	at_root(p, sizeof(p), "sub/deep");
	ck_assert_int_eq(symlink("../../../../file.txt", p), 0);
	at_root(p, sizeof(p), "sub/abs");
	ck_assert_int_eq(symlink("/sub/inner.txt", p), 0);
	at_root(p, sizeof(p), "subdotdot");
	ck_assert_int_eq(symlink("sub/..", p), 0);
	at_root(p, sizeof(p), "fslash");
	ck_assert_int_eq(symlink("file.txt/", p), 0);
	ck_assert_int_eq(vfs_open_root(&v, root), 0);
}

static void
tmproot_teardown(void)
{
	vfs_close(&v);
	tu_rmtree(top);
	unlink(plant_target);
}

/* Reads what fd holds (at most 63 bytes) into a static string. */
static const char *
slurp(int fd)
{
	static char	 text[64];
	ssize_t		 n;

	n = read(fd, text, sizeof(text) - 1);
	ck_assert_int_ge(n, 0);
	text[n] = '\0';
	return text;
}

/* Opens arg for reading through the vfs and returns its contents. */
static const char *
read_via_vfs(const char *arg, int *r)
{
	struct vpath	 vp;
	const char	*text = NULL;
	int		 fd = -1;

	if ((*r = vfs_resolve(&v, arg, &vp)) == 0 &&
	    (*r = vfs_open(&v, &vp, O_RDONLY, 0, &fd)) == 0)
		text = slurp(fd);
	if (fd != -1)
		close(fd);
	vpath_free(&vp);
	return text;
}

START_TEST(root_resolves_to_dot)
{
	struct vpath	 vp;
	struct stat	 a, b;

	ck_assert_int_eq(vfs_resolve(&v, "/", &vp), 0);
	ck_assert_str_eq(vp.name, ".");
	ck_assert_str_eq(vp.path, "/");
	ck_assert_str_eq(vp.quoted, "/");
	ck_assert_int_ne(vp.dirfd, -1);
	ck_assert_int_ne(vp.dirfd, v.rootfd);
	ck_assert_int_eq(fstat(vp.dirfd, &a), 0);
	ck_assert_int_eq(stat(root, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	/* The root cannot be removed through its vpath. */
	ck_assert_int_eq(unlinkat(vp.dirfd, vp.name, AT_REMOVEDIR), -1);
	vpath_free(&vp);
	ck_assert_int_eq(vp.dirfd, -1);
	vpath_free(&vp);
}
END_TEST

START_TEST(dotdot_cannot_leave)
{
	struct vpath	 vp;
	struct stat	 a, b;
	int		 fd, r;

	ck_assert_int_eq(vfs_resolve(&v, "../../..", &vp), 0);
	ck_assert_str_eq(vp.path, "/");
	ck_assert_int_eq(vfs_open(&v, &vp, O_RDONLY | O_DIRECTORY, 0, &fd), 0);
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(stat(root, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	close(fd);
	vpath_free(&vp);

	ck_assert_ptr_null(read_via_vfs("../secret.txt", &r));
	ck_assert_int_eq(r, FTPS_ENOENT);
	ck_assert_ptr_null(read_via_vfs("sub/../../secret.txt", &r));
	ck_assert_int_eq(r, FTPS_ENOENT);
	ck_assert_str_eq(read_via_vfs("sub/../../file.txt", &r), "hello");
}
END_TEST

START_TEST(absolute_maps_into_root)
{
	int	 r;

	ck_assert_int_eq(vfs_chdir(&v, "/sub"), 0);
	ck_assert_str_eq(v.cwd, "/sub");
	ck_assert_str_eq(read_via_vfs("/file.txt", &r), "hello");
	ck_assert_str_eq(read_via_vfs("inner.txt", &r), "inner");
	ck_assert_ptr_null(read_via_vfs("/etc/passwd", &r));
	ck_assert_int_eq(r, FTPS_ENOENT);
}
END_TEST

START_TEST(symlink_to_etc_stays_inside)
{
	struct vpath	 vp;
	char		 p[PATH_MAX];
	int		 r;

	/* The parent "escape" leads to root/etc, which does not exist. */
	ck_assert_int_eq(vfs_resolve(&v, "escape/passwd", &vp), FTPS_ENOENT);
	ck_assert_int_eq(vp.dirfd, -1);
	vpath_free(&vp);
	ck_assert_ptr_null(read_via_vfs("escape/passwd", &r));
	ck_assert_int_eq(r, FTPS_ENOENT);
	ck_assert_ptr_null(read_via_vfs("rel_escape/passwd", &r));
	ck_assert_int_eq(r, FTPS_ENOENT);
	ck_assert_int_eq(vfs_chdir(&v, "escape"), FTPS_ENOENT);
	ck_assert_str_eq(v.cwd, "/");

	/* With a root/etc, both links land there and never on the real one. */
	at_root(p, sizeof(p), "etc");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	at_root(p, sizeof(p), "etc/passwd");
	write_file(p, "fake passwd");
	ck_assert_str_eq(read_via_vfs("escape/passwd", &r), "fake passwd");
	ck_assert_str_eq(read_via_vfs("rel_escape/passwd", &r),
	    "fake passwd");
	ck_assert_int_eq(vfs_chdir(&v, "rel_escape"), 0);
	ck_assert_str_eq(v.cwd, "/rel_escape");
	ck_assert_str_eq(read_via_vfs("passwd", &r), "fake passwd");
}
END_TEST

START_TEST(relative_symlink_escape_stays_inside)
{
	int	 r;

	/* up -> ../secret.txt: ".." at the root stays at the root. */
	ck_assert_ptr_null(read_via_vfs("up", &r));
	ck_assert_int_eq(r, FTPS_ENOENT);
	ck_assert_ptr_null(read_via_vfs("sub/../up", &r));
	ck_assert_int_eq(r, FTPS_ENOENT);
}
END_TEST

START_TEST(create_through_symlink_stays_inside)
{
	struct vpath	 vp;
	struct stat	 st;
	char		 p[PATH_MAX];
	int		 fd;

	/* plant -> /<outside>: O_CREAT follows it to root/<outside>. */
	ck_assert_int_eq(vfs_resolve(&v, "plant", &vp), 0);
	ck_assert_int_eq(vfs_open(&v, &vp, O_WRONLY | O_CREAT, 0600, &fd), 0);
	close(fd);
	vpath_free(&vp);
	ck_assert_int_eq(lstat(plant_target, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	at_root(p, sizeof(p), plant_target + 1);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(symlinked_dir_inside_works)
{
	struct vpath	 vp;
	struct stat	 st;
	int		 r;

	ck_assert_str_eq(read_via_vfs("sublink/inner.txt", &r), "inner");
	ck_assert_str_eq(read_via_vfs("abslink/inner.txt", &r), "inner");
	ck_assert_int_eq(vfs_chdir(&v, "sublink"), 0);
	ck_assert_str_eq(v.cwd, "/sublink");
	ck_assert_str_eq(read_via_vfs("inner.txt", &r), "inner");
	/* ".." is lexical: back to "/", not to the link target's parent. */
	ck_assert_int_eq(vfs_chdir(&v, ".."), 0);
	ck_assert_str_eq(v.cwd, "/");

	ck_assert_int_eq(vfs_resolve(&v, "abslink", &vp), 0);
	ck_assert_int_eq(vfs_stat(&v, &vp, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(vfs_lstat(&vp, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	vpath_free(&vp);
}
END_TEST

START_TEST(symlink_loop_denied)
{
	struct vpath	 vp;
	struct stat	 st;
	int		 r;

	ck_assert_ptr_null(read_via_vfs("loop", &r));
	ck_assert_int_eq(r, FTPS_EDENIED);
	ck_assert_int_eq(vfs_resolve(&v, "loop/x", &vp), FTPS_EDENIED);
	vpath_free(&vp);
	ck_assert_int_eq(vfs_resolve(&v, "loop", &vp), 0);
	ck_assert_int_eq(vfs_stat(&v, &vp, &st), FTPS_EDENIED);
	vpath_free(&vp);
}
END_TEST

START_TEST(resolve_errors)
{
	struct vpath	 vp;
	char		 big[FTPS_PATH_MAX + 16];

	ck_assert_int_eq(vfs_resolve(&v, "missing/x", &vp), FTPS_ENOENT);
	vpath_free(&vp);
	ck_assert_int_eq(vfs_resolve(&v, "file.txt/x", &vp), FTPS_ENOENT);
	vpath_free(&vp);
	ck_assert_int_eq(vfs_resolve(&v, "a\r\nDELE x", &vp), FTPS_EPARSE);
	ck_assert_int_eq(vp.dirfd, -1);
	vpath_free(&vp);
	ck_assert_int_eq(vfs_resolve(&v, "", &vp), FTPS_EPARSE);
	vpath_free(&vp);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(vfs_resolve(&v, big, &vp), FTPS_ETOOBIG);
	vpath_free(&vp);
	/* A missing last component is fine: MKD and STOR create it. */
	ck_assert_int_eq(vfs_resolve(&v, "sub/new", &vp), 0);
	ck_assert_str_eq(vp.name, "new");
	ck_assert_str_eq(vp.path, "/sub/new");
	ck_assert_int_eq(mkdirat(vp.dirfd, vp.name, 0755), 0);
	vpath_free(&vp);
	ck_assert_int_eq(vfs_chdir(&v, "sub/new"), 0);
	ck_assert_str_eq(v.cwd, "/sub/new");
}
END_TEST

START_TEST(chdir_rules)
{
	ck_assert_int_eq(vfs_chdir(&v, "file.txt"), FTPS_ESYS);
	ck_assert_int_eq(errno, ENOTDIR);
	ck_assert_str_eq(v.cwd, "/");
	ck_assert_int_eq(vfs_chdir(&v, "nothere"), FTPS_ENOENT);
	ck_assert_str_eq(v.cwd, "/");
	ck_assert_int_eq(vfs_chdir(&v, "up"), FTPS_ENOENT);
	ck_assert_int_eq(vfs_chdir(&v, ".."), 0);
	ck_assert_str_eq(v.cwd, "/");
	ck_assert_int_eq(vfs_chdir(&v, "sub/"), 0);
	ck_assert_str_eq(v.cwd, "/sub");
	ck_assert_int_eq(vfs_chdir(&v, "../../../sub/.."), 0);
	ck_assert_str_eq(v.cwd, "/");
}
END_TEST

START_TEST(quoted_and_display)
{
	struct vpath	 vp;

	ck_assert_int_eq(vfs_resolve(&v, "say \"hi\"", &vp), 0);
	ck_assert_str_eq(vp.path, "/say \"hi\"");
	ck_assert_str_eq(vp.quoted, "/say \"\"hi\"\"");
	ck_assert_str_eq(vp.name, "say \"hi\"");
	vpath_free(&vp);
	ck_assert_int_eq(vfs_resolve(&v, "\"\"", &vp), 0);
	ck_assert_str_eq(vp.quoted, "/\"\"\"\"");
	vpath_free(&vp);
	ck_assert_int_eq(vfs_resolve(&v, "sub/a\x01\xff", &vp), 0);
	ck_assert_str_eq(vp.display, "/sub/a\\x01\\xff");
	ck_assert_str_eq(vp.path, "/sub/a\x01\xff");
	vpath_free(&vp);
}
END_TEST

static void
check_mktemp_mode(mode_t mask, mode_t want)
{
	struct vpath	 vp;
	struct stat	 st;
	char		 a[VFS_TMPNAME_SIZE], b[VFS_TMPNAME_SIZE];
	mode_t		 old;
	int		 fa, fb;

	ck_assert_int_eq(vfs_resolve(&v, "sub/target", &vp), 0);
	old = umask(mask);
	ck_assert_int_eq(vfs_mktemp(&vp, a, sizeof(a), &fa), 0);
	ck_assert_int_eq(vfs_mktemp(&vp, b, sizeof(b), &fb), 0);
	umask(old);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(strncmp(a, VFS_TMP_PREFIX,
	    strlen(VFS_TMP_PREFIX)), 0);
	ck_assert_uint_eq(strlen(a), VFS_TMPNAME_SIZE - 1);
	ck_assert_ptr_null(strchr(a, '/'));
	/* Beside the target, and open for writing. */
	ck_assert_int_eq(fstatat(vp.dirfd, a, &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, want);
	ck_assert_int_eq(write(fa, "x", 1), 1);
	ck_assert_int_eq(fcntl(fa, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(renameat(vp.dirfd, a, vp.dirfd, vp.name), 0);
	close(fa);
	close(fb);
	vpath_free(&vp);
}

START_TEST(mktemp_unique_and_umask)
{
	struct vpath	 vp;
	char		 small[VFS_TMPNAME_SIZE - 1];
	int		 fd, r;

	check_mktemp_mode(022, 0644);
	check_mktemp_mode(077, 0600);
	ck_assert_str_eq(read_via_vfs("sub/target", &r), "x");

	ck_assert_int_eq(vfs_resolve(&v, "file.txt", &vp), 0);
	ck_assert_int_eq(vfs_mktemp(&vp, small, sizeof(small), &fd),
	    FTPS_ETOOBIG);
	ck_assert_int_eq(fd, -1);
	vpath_free(&vp);
}
END_TEST

START_TEST(magic_links_denied)
{
	struct vfs	 w;
	struct vpath	 vp;
	char		 arg[64];
	int		 fd, probe;

	/*
	 * With "/" as the root, /proc is reachable: its magic links (an
	 * open fd of the process, another root) must still be refused.
	 */
	ck_assert_int_eq(vfs_open_root(&w, "/"), 0);
	ck_assert_int_ne(probe = open("/", O_RDONLY | O_DIRECTORY), -1);
	snprintf(arg, sizeof(arg), "/proc/self/fd/%d", probe);
	ck_assert_int_eq(vfs_resolve(&w, arg, &vp), 0);
	ck_assert_int_eq(vfs_open(&w, &vp, O_RDONLY, 0, &fd),
	    FTPS_EDENIED);
	vpath_free(&vp);
	ck_assert_int_eq(vfs_resolve(&w, "/proc/self/root/etc/passwd", &vp),
	    FTPS_EDENIED);
	vpath_free(&vp);
	close(probe);
	vfs_close(&w);
}
END_TEST

START_TEST(open_root_missing)
{
	struct vfs	 w;

	ck_assert_int_eq(vfs_open_root(&w, "/nonexistent/ftpsd/home"),
	    FTPS_ESYS);
	ck_assert_int_eq(errno, ENOENT);
	vfs_close(&w);
	ck_assert_int_eq(vfs_open_root(&w, "/etc/passwd"), FTPS_ESYS);
	ck_assert_int_eq(errno, ENOTDIR);
	vfs_close(&w);
}
END_TEST


START_TEST(no_fd_leak)
{
	static const char *const args[] = { "/", "file.txt", "sub/inner.txt",
	    "escape/passwd", "loop/x", "loop", "up", "missing/x", "",
	    "a\r\nb", "sublink", "file.txt/x" };
	struct vpath	 vp;
	struct stat	 st;
	size_t		 i;
	int		 before, fd;

	before = tu_count_fds();
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		if (vfs_resolve(&v, args[i], &vp) == 0) {
			vfs_stat(&v, &vp, &st);
			if (vfs_open(&v, &vp, O_RDONLY, 0, &fd) == 0)
				close(fd);
		}
		vpath_free(&vp);
		vfs_chdir(&v, args[i]);
		vfs_chdir(&v, "/");
	}
	ck_assert_int_eq(tu_count_fds(), before);
}
END_TEST

/* A folder beside root, in top/. */
static void
at_top(char *dst, size_t len, const char *rel)
{
	ck_assert_int_lt(snprintf(dst, len, "%s/%s", top, rel), (int)len);
}

/* One descriptor per home directory, however many sessions use it. */
START_TEST(home_fd_shared)
{
	struct vfs	 w, x, y;
	struct vpath	 vp;
	char		 other[PATH_MAX], alias[PATH_MAX];
	int		 before, fd;

	at_top(other, sizeof(other), "other");
	ck_assert_int_eq(mkdir(other, 0755), 0);
	at_top(alias, sizeof(alias), "alias");
	ck_assert_int_eq(symlink("root", alias), 0);
	ck_assert_uint_eq(vfs_homes_open(), 1);
	before = tu_count_fds();

	/* Same home, and the same one through a symlink: no new fd. */
	ck_assert_int_eq(vfs_open_root(&w, root), 0);
	ck_assert_int_eq(vfs_open_root(&y, alias), 0);
	ck_assert_int_eq(w.rootfd, v.rootfd);
	ck_assert_int_eq(y.rootfd, v.rootfd);
	ck_assert_int_eq(tu_count_fds(), before);
	/* Another home: its own. */
	ck_assert_int_eq(vfs_open_root(&x, other), 0);
	ck_assert_int_ne(x.rootfd, v.rootfd);
	ck_assert_uint_eq(vfs_homes_open(), 2);
	ck_assert_int_eq(tu_count_fds(), before + 1);
	ck_assert_int_eq(vfs_resolve(&x, "file.txt", &vp), 0);
	ck_assert_int_eq(vfs_open(&x, &vp, O_RDONLY, 0, &fd), FTPS_ENOENT);
	vpath_free(&vp);

	/* One sharer quits: the others keep working on the same fd. */
	vfs_close(&w);
	vfs_close(&y);
	ck_assert_int_eq(fcntl(v.rootfd, F_GETFD), FD_CLOEXEC);
	ck_assert_int_eq(vfs_resolve(&v, "sub/inner.txt", &vp), 0);
	ck_assert_int_eq(vfs_open(&v, &vp, O_RDONLY, 0, &fd), 0);
	close(fd);
	vpath_free(&vp);
	/* The last user of a home closes its descriptor. */
	vfs_close(&x);
	ck_assert_uint_eq(vfs_homes_open(), 1);
	ck_assert_int_eq(tu_count_fds(), before);
	/* Closing twice drops nothing more. */
	vfs_close(&x);
	ck_assert_uint_eq(vfs_homes_open(), 1);
}
END_TEST

/*
 * A home replaced on disk: a new login gets the new directory, never the
 * descriptor of the old one; a session already in keeps its own.
 */
START_TEST(home_fd_replaced)
{
	struct vfs	 w;
	struct vpath	 vp;
	char		 old[PATH_MAX];
	int		 fd;

	at_top(old, sizeof(old), "root.old");
	ck_assert_int_eq(rename(root, old), 0);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	ck_assert_int_eq(vfs_open_root(&w, root), 0);
	ck_assert_int_ne(w.rootfd, v.rootfd);
	ck_assert_uint_eq(vfs_homes_open(), 2);
	ck_assert_int_eq(vfs_resolve(&w, "file.txt", &vp), 0);
	ck_assert_int_eq(vfs_open(&w, &vp, O_RDONLY, 0, &fd), FTPS_ENOENT);
	vpath_free(&vp);
	ck_assert_int_eq(vfs_resolve(&v, "file.txt", &vp), 0);
	ck_assert_int_eq(vfs_open(&v, &vp, O_RDONLY, 0, &fd), 0);
	close(fd);
	vpath_free(&vp);
	vfs_close(&w);
	ck_assert_uint_eq(vfs_homes_open(), 1);
	/* The new directory's descriptor is gone, the old one still open. */
	ck_assert_int_eq(rmdir(root), 0);
	ck_assert_int_eq(rename(old, root), 0);
	ck_assert_int_eq(vfs_open_root(&w, root), 0);
	ck_assert_int_eq(w.rootfd, v.rootfd);
	vfs_close(&w);
}
END_TEST

/* Out of descriptors: a new home fails with EMFILE, a shared one works. */
START_TEST(home_fd_emfile)
{
	struct vfs	 w;
	struct rlimit	 rl, low;
	char		 other[PATH_MAX];
	int		 fd;

	at_top(other, sizeof(other), "other");
	ck_assert_int_eq(mkdir(other, 0755), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	/* The lowest free descriptor becomes the limit: none is left. */
	ck_assert_int_ne(fd = open("/", O_PATH), -1);
	close(fd);
	low = rl;
	low.rlim_cur = (rlim_t)fd;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_int_eq(vfs_open_root(&w, other), FTPS_ESYS);
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_eq(w.rootfd, -1);
	vfs_close(&w);
	ck_assert_int_eq(vfs_open_root(&w, root), 0);
	ck_assert_int_eq(w.rootfd, v.rootfd);
	vfs_close(&w);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_eq(vfs_homes_open(), 1);
}
END_TEST

/* The back end every confinement test runs under (both, one case each). */
static void
be_openat2(void)
{
	ck_assert_int_eq(vfs_set_backend(VFS_OPENAT2), 0);
	ck_assert_int_eq(vfs_backend(), VFS_OPENAT2);
}

static void
be_walk(void)
{
	ck_assert_int_eq(vfs_set_backend(VFS_WALK), 0);
	ck_assert_int_eq(vfs_backend(), VFS_WALK);
}

/* ".." and absolute targets inside links stay beneath the root. */
START_TEST(link_targets_with_dotdot)
{
	struct vpath	 vp;
	struct stat	 st, rst;
	int		 fd, r;

	ck_assert_str_eq(read_via_vfs("sub/uplink", &r), "hello");
	ck_assert_str_eq(read_via_vfs("sub/deep", &r), "hello");
	ck_assert_str_eq(read_via_vfs("sub/abs", &r), "inner");
	ck_assert_int_eq(vfs_resolve(&v, "subdotdot", &vp), 0);
	ck_assert_int_eq(vfs_open(&v, &vp, O_RDONLY | O_DIRECTORY, 0, &fd),
	    0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(stat(root, &rst), 0);
	ck_assert_uint_eq(st.st_ino, rst.st_ino);
	close(fd);
	vpath_free(&vp);
	ck_assert_str_eq(read_via_vfs("subdotdot/sub/inner.txt", &r),
	    "inner");
	/* A target ending in '/' must be a directory. */
	ck_assert_ptr_null(read_via_vfs("fslash", &r));
	ck_assert_int_eq(r, FTPS_ENOENT);
}
END_TEST

/* 40 symlinks are followed in one resolution, the 41st is a loop. */
START_TEST(symlink_hops_bounded)
{
	char	 p[PATH_MAX], name[16], target[16];
	int	 i, r;

	for (i = 0; i <= 40; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		if (i == 40)
			snprintf(target, sizeof(target), "file.txt");
		else
			snprintf(target, sizeof(target), "l%d", i + 1);
		at_root(p, sizeof(p), name);
		ck_assert_int_eq(symlink(target, p), 0);
	}
	ck_assert_str_eq(read_via_vfs("l1", &r), "hello");
	ck_assert_ptr_null(read_via_vfs("l0", &r));
	ck_assert_int_eq(r, FTPS_EDENIED);
}
END_TEST

/* Temporary uploads are nobody's to name: not found, whatever exists. */
START_TEST(hidden_names_not_found)
{
	struct vpath	 vp;
	char		 p[PATH_MAX];

	at_root(p, sizeof(p), VFS_TMP_PREFIX "abc123");
	write_file(p, "partial");
	at_root(p, sizeof(p), "sub/" VFS_TMP_PREFIX "dir");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	ck_assert_int_eq(vfs_resolve(&v, VFS_TMP_PREFIX "abc123", &vp),
	    FTPS_ENOENT);
	vpath_free(&vp);
	ck_assert_int_eq(vfs_resolve(&v, "/sub/" VFS_TMP_PREFIX "dir/x", &vp),
	    FTPS_ENOENT);
	vpath_free(&vp);
	ck_assert_int_eq(vfs_chdir(&v, "sub/" VFS_TMP_PREFIX "dir"),
	    FTPS_ENOENT);
	ck_assert_int_eq(vfs_hidden(VFS_TMP_PREFIX "x"), 1);
	ck_assert_int_eq(vfs_hidden(".ftpsd-uploadx"), 0);
	ck_assert_int_eq(vfs_hidden("file.txt"), 0);
	/* A name merely holding the prefix is an ordinary one. */
	ck_assert_int_eq(vfs_resolve(&v, "a" VFS_TMP_PREFIX "x", &vp), 0);
	vpath_free(&vp);
}
END_TEST

static const struct {
	const char	*name;
	int		 ok;
} names[] = {
	{ "plain.txt", 1 }, { "with space", 1 }, { "\xc3\xbcml", 1 },
	{ "tab\there", 0 }, { "bell\a", 0 }, { "\x1b[31mred", 0 },
	{ "del\x7f", 0 }, { "\x01", 0 }, { "~!@#$%^&*()", 1 },
	{ "\x1f", 0 }, { " ", 1 },
};

START_TEST(name_allowed)
{
	ck_assert_int_eq(vfs_name_allowed(names[_i].name) == 0,
	    names[_i].ok);
}
END_TEST

/* Entries of a folder, "." and ".." left out. */
static int
count_entries(const char *rel)
{
	char		 p[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	at_root(p, sizeof(p), rel);
	ck_assert_ptr_nonnull(d = opendir(p));
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void
check_upload(int tmpfile)
{
	struct vfs_upload	 up;
	struct vpath		 vp;
	int			 fd, before, r;

	vfs_set_tmpfile(tmpfile);
	before = count_entries("sub");
	/* Replaces an existing file, atomically. */
	ck_assert_int_eq(vfs_resolve(&v, "sub/inner.txt", &vp), 0);
	ck_assert_int_eq(vfs_upload_open(&vp, &up, &fd), 0);
	ck_assert_int_eq(up.tmpfile, tmpfile);
	ck_assert_int_eq(write(fd, "new", 3), 3);
	/* In progress: unnamed, or under a hidden name only. */
	ck_assert_int_eq(count_entries("sub"), before + !tmpfile);
	ck_assert_str_eq(read_via_vfs("sub/inner.txt", &r), "inner");
	ck_assert_int_eq(vfs_upload_commit(&vp, &up, &fd, vp.name, 0), 0);
	ck_assert_int_eq(fd, -1);
	ck_assert_str_eq(up.tmpname, "");
	ck_assert_str_eq(read_via_vfs("sub/inner.txt", &r), "new");
	ck_assert_int_eq(count_entries("sub"), before);
	vfs_upload_discard(&vp, &up);
	ck_assert_str_eq(read_via_vfs("sub/inner.txt", &r), "new");

	/* noreplace (STOU) never overwrites; the discard leaves nothing. */
	ck_assert_int_eq(vfs_upload_open(&vp, &up, &fd), 0);
	ck_assert_int_eq(write(fd, "other", 5), 5);
	ck_assert_int_eq(vfs_upload_commit(&vp, &up, &fd, vp.name, 1),
	    FTPS_ESYS);
	ck_assert_int_eq(errno, EEXIST);
	if (fd != -1)
		close(fd);
	vfs_upload_discard(&vp, &up);
	ck_assert_str_eq(read_via_vfs("sub/inner.txt", &r), "new");
	ck_assert_int_eq(count_entries("sub"), before);
	ck_assert_int_eq(vfs_upload_open(&vp, &up, &fd), 0);
	ck_assert_int_eq(vfs_upload_commit(&vp, &up, &fd, "fresh", 1), 0);
	ck_assert_str_eq(read_via_vfs("sub/fresh", &r), "");

	/* Abandoned: the old file stays, no name is left behind. */
	ck_assert_int_eq(vfs_upload_open(&vp, &up, &fd), 0);
	ck_assert_int_eq(write(fd, "partial", 7), 7);
	close(fd);
	vfs_upload_discard(&vp, &up);
	ck_assert_int_eq(count_entries("sub"), before + 1);
	ck_assert_str_eq(read_via_vfs("sub/inner.txt", &r), "new");
	vpath_free(&vp);
}

START_TEST(upload_tmpfile)
{
	check_upload(1);
}
END_TEST

START_TEST(upload_hidden_name)
{
	check_upload(0);
}
END_TEST

/* A killed server's hidden uploads go at start; a live one stays. */
START_TEST(sweep_stale_uploads)
{
	struct vfs_sweep	*sw;
	char			 p[PATH_MAX];
	int			 locked;

	at_root(p, sizeof(p), VFS_TMP_PREFIX "aaaaaa");
	write_file(p, "stale");
	at_root(p, sizeof(p), "sub/" VFS_TMP_PREFIX "bbbbbb");
	write_file(p, "stale");
	at_root(p, sizeof(p), "sub/" VFS_TMP_PREFIX "cccccc");
	write_file(p, "live");
	ck_assert_int_ne(locked = open(p, O_RDONLY), -1);
	ck_assert_int_eq(flock(locked, LOCK_EX), 0);
	/* Never opened for reading: a FIFO would block. */
	at_root(p, sizeof(p), "sub/" VFS_TMP_PREFIX "fifo");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	ck_assert_ptr_nonnull(sw = calloc(1, sizeof(*sw)));
	ck_assert_int_eq(vfs_sweep_home(sw, root), 0);
	/* The same home again (another user's): swept once. */
	ck_assert_int_eq(vfs_sweep_home(sw, root), 0);
	ck_assert_uint_eq(sw->homes, 1);
	ck_assert_uint_eq(sw->removed, 2);
	ck_assert_uint_ge(sw->dirs, 2);
	ck_assert_int_eq(sw->truncated, 0);
	at_root(p, sizeof(p), VFS_TMP_PREFIX "aaaaaa");
	ck_assert_int_eq(access(p, F_OK), -1);
	at_root(p, sizeof(p), "sub/" VFS_TMP_PREFIX "cccccc");
	ck_assert_int_eq(access(p, F_OK), 0);
	at_root(p, sizeof(p), "sub/" VFS_TMP_PREFIX "fifo");
	ck_assert_int_eq(access(p, F_OK), 0);
	/* Nothing outside the home is touched (up -> ../secret.txt). */
	ck_assert_int_eq(vfs_sweep_home(sw, "/nonexistent/home"), FTPS_ESYS);
	close(locked);
	free(sw);
}
END_TEST

/*
 * openat2 starts failing with ENOSYS (a seccomp filter arrives, as under
 * systemd's RestrictSUIDSGID=): the vfs switches to the walk and every
 * answer stays the same.  In a child: the filter cannot be undone.
 */
START_TEST(openat2_enosys_falls_back)
{
	static const struct ds_rule	 deny[] = {
		{ SYS_openat2, ENOSYS },
	};
	pid_t				 pid;
	int				 status, r;

	ck_assert_int_eq(vfs_set_backend(VFS_OPENAT2), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if (ds_install(deny, 1) != 0)
			_exit(2);
		if (read_via_vfs("sub/inner.txt", &r) == NULL ||
		    vfs_backend() != VFS_WALK ||
		    read_via_vfs("escape/passwd", &r) != NULL ||
		    r != FTPS_ENOENT ||
		    read_via_vfs("loop", &r) != NULL || r != FTPS_EDENIED ||
		    vfs_set_backend(VFS_OPENAT2) != FTPS_ESYS)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(vfs_backend(), VFS_OPENAT2);
}
END_TEST

/* Every confinement test, under one back end. */
static TCase *
confinement_case(const char *name, void (*be)(void))
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, be, NULL);
	tcase_add_checked_fixture(tc, tmproot_setup, tmproot_teardown);
	tcase_add_test(tc, magic_links_denied);
	tcase_add_test(tc, root_resolves_to_dot);
	tcase_add_test(tc, dotdot_cannot_leave);
	tcase_add_test(tc, absolute_maps_into_root);
	tcase_add_test(tc, symlink_to_etc_stays_inside);
	tcase_add_test(tc, relative_symlink_escape_stays_inside);
	tcase_add_test(tc, create_through_symlink_stays_inside);
	tcase_add_test(tc, home_fd_shared);
	tcase_add_test(tc, home_fd_replaced);
	tcase_add_test(tc, home_fd_emfile);
	tcase_add_test(tc, symlinked_dir_inside_works);
	tcase_add_test(tc, symlink_loop_denied);
	tcase_add_test(tc, resolve_errors);
	tcase_add_test(tc, chdir_rules);
	tcase_add_test(tc, quoted_and_display);
	tcase_add_test(tc, mktemp_unique_and_umask);
	tcase_add_test(tc, no_fd_leak);
	tcase_add_test(tc, link_targets_with_dotdot);
	tcase_add_test(tc, symlink_hops_bounded);
	tcase_add_test(tc, hidden_names_not_found);
	tcase_add_test(tc, upload_tmpfile);
	tcase_add_test(tc, upload_hidden_name);
	tcase_add_test(tc, sweep_stale_uploads);
	return tc;
}


Suite	*unit_suite(void);

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("vfs");
	TCase	*tc;

	tc = tcase_create("normalize");
	tcase_add_loop_test(tc, normalize, 0, sizeof(norm) / sizeof(norm[0]));
	tcase_add_test(tc, normalize_bounds);
	tcase_add_test(tc, open_root_missing);
	tcase_add_loop_test(tc, name_allowed, 0,
	    sizeof(names) / sizeof(names[0]));
	suite_add_tcase(s, tc);

	suite_add_tcase(s, confinement_case("confinement-openat2",
	    be_openat2));
	suite_add_tcase(s, confinement_case("confinement-walk", be_walk));

	tc = tcase_create("fallback");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, tmproot_setup, tmproot_teardown);
	tcase_add_test(tc, openat2_enosys_falls_back);
	suite_add_tcase(s, tc);
	return s;
}
