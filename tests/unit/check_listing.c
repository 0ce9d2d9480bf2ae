/* tests/unit/check_listing.c: LIST, NLST, MLSD and MLST output. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <check.h>

#include "buf.h"
#include "err.h"
#include "ftps_limits.h"
#include "listing.h"
#include "vfs.h"
#include "testutil.h"

static const struct {
	const char	*in, *want;
} opts[] = {
	{ "-la",		"" },
	{ "-a -l",		"" },
	{ "-a -l dir",		"dir" },
	{ "-la  two words",	"two words" },
	{ "dir",		"dir" },
	{ "",			"" },
	{ "-",			"-" },
	{ "- x",		"- x" },
	{ "--",			"" },
	{ "a -l",		"a -l" },
};

START_TEST(skip_options)
{
	ck_assert_str_eq(ls_skip_options(opts[_i].in), opts[_i].want);
}
END_TEST

/*
 * The fixture root:
 *   .hidden		file
 *   Zed		file
 *   b\nad		file (never listed)
 *   dangling -> /nowhere
 *   dir/		0755, mtime 2020-01-02 03:04:05 UTC, holds inner
 *   escape -> /etc	(no root/etc: leads nowhere inside)
 *   fifo		named pipe
 *   file.txt		"hello", 0644, mtime an hour ago
 *   link -> file.txt
 *   sublink -> dir
 *   suid		04755
 */
static char	 base[64], root[128];	/* mkdtemp() names */
static struct vfs v;
static time_t	 recent, old;

static void
mk_file(const char *rel, const char *text, mode_t mode)
{
	char	 p[PATH_MAX];
	int	 fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	ck_assert_int_ne(fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600), -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void
mk_link(const char *target, const char *rel)
{
	char	 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	ck_assert_int_eq(symlink(target, p), 0);
}

static void
set_mtime(const char *rel, time_t t)
{
	struct timespec	 ts[2];
	char		 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void
fixture_setup(void)
{
	struct tm	 tm;
	char		 p[PATH_MAX];

	umask(022);
	snprintf(root, sizeof(root), "%s/r.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(root));
	mk_file(".hidden", "", 0600);
	mk_file("Zed", "zz", 0644);
	mk_file("b\nad", "", 0644);
	mk_file("file.txt", "hello", 0644);
	mk_file("suid", "", 04755);
	snprintf(p, sizeof(p), "%s/dir", root);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(chmod(p, 0755), 0);
	mk_file("dir/inner", "i", 0644);
	snprintf(p, sizeof(p), "%s/fifo", root);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	mk_link("/nowhere", "dangling");
	mk_link("/etc", "escape");
	mk_link("file.txt", "link");
	mk_link("dir", "sublink");

	recent = time(NULL) - 3600;
	set_mtime("file.txt", recent);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 2020 - 1900;
	tm.tm_mon = 0;
	tm.tm_mday = 2;
	tm.tm_hour = 3;
	tm.tm_min = 4;
	tm.tm_sec = 5;
	old = timegm(&tm);
	set_mtime("dir", old);
	ck_assert_int_eq(vfs_open_root(&v, root), 0);
}


static void
fixture_teardown(void)
{
	vfs_close(&v);
	tu_rmtree(root);
}

/*
 * The unchecked fixture, run in the parent: a base folder for every test's
 * root, removed even when a forked test failed (a failed assertion ends
 * the child with _exit(), skipping its checked teardown).
 */
static void
base_setup(void)
{
	strcpy(base, "/tmp/check_listing.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
}

static void
base_teardown(void)
{
	tu_rmtree(base);
}

/* Lists arg; returns the FTPS code, out holds the text. */
static int
list(const char *arg, enum ls_style style, int writable, struct buf *out)
{
	struct vpath	 vp;
	int		 r;

	buf_init(out, FTPS_LISTING_MAX);
	if ((r = vfs_resolve(&v, arg, &vp)) == 0)
		r = ls_format(&v, &vp, style, writable, MF_ALL, out);
	vpath_free(&vp);
	return r;
}

/*
 * Splits text into its CRLF-terminated lines in place; every line must
 * end in CRLF and none may hold a lone CR or LF.
 */
static size_t
split_lines(char *text, char **lines, size_t max)
{
	size_t	 n = 0;
	char	*p = text, *e;

	while (*p != '\0') {
		ck_assert_ptr_nonnull(e = strstr(p, "\r\n"));
		*e = '\0';
		ck_assert_ptr_null(strpbrk(p, "\r\n"));
		ck_assert_uint_lt(n, max);
		lines[n++] = p;
		p = e + 2;
	}
	return n;
}

/* The fields of one `ls -l` line, as a client's parser sees them. */
struct lsl {
	char	 f[8][32];	/* mode nlink owner group size mon day time */
	char	 name[PATH_MAX];
};

static void
parse_list(const char *line, struct lsl *l)
{
	const char	*p = line;
	size_t		 i, n;

	for (i = 0; i < 8; i++) {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		ck_assert_uint_gt(n, 0);
		ck_assert_uint_lt(n, sizeof(l->f[i]));
		memcpy(l->f[i], p, n);
		l->f[i][n] = '\0';
		p += n;
	}
	ck_assert_int_eq(*p, ' ');
	ck_assert_uint_lt(strlen(p + 1), sizeof(l->name));
	strcpy(l->name, p + 1);
}

/* The value of fact key in an MLSx facts line, or NULL. */
static const char *
fact(const char *line, const char *key, char *val, size_t len)
{
	const char	*p = line, *eq, *semi;
	size_t		 klen = strlen(key);

	while ((semi = strchr(p, ';')) != NULL) {
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq != NULL && (size_t)(eq - p) == klen &&
		    strncasecmp(p, key, klen) == 0) {
			ck_assert_uint_lt((size_t)(semi - eq - 1), len);
			memcpy(val, eq + 1, (size_t)(semi - eq - 1));
			val[semi - eq - 1] = '\0';
			return val;
		}
		p = semi + 1;
		if (*p == ' ')
			break;
	}
	return NULL;
}

/* The name after the facts: everything after the first "; ". */
static const char *
mlsx_name(const char *line)
{
	const char	*p = strstr(line, "; ");

	ck_assert_ptr_nonnull(p);
	return p + 2;
}

static const char *const sorted[] = { ".hidden", "Zed", "dangling", "dir",
    "escape", "fifo", "file.txt", "link", "sublink", "suid" };
#define NSORTED	(sizeof(sorted) / sizeof(sorted[0]))

static void
rootstat(const char *rel, struct stat *st, int follow)
{
	char	 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	ck_assert_int_eq(follow ? stat(p, st) : lstat(p, st), 0);
}

START_TEST(nlst_dir_sorted)
{
	struct buf	 out;
	char		*lines[32];
	size_t		 n, i;

	ck_assert_int_eq(list("/", LS_NLST, 0, &out), 0);
	n = split_lines(out.b_ptr, lines, 32);
	ck_assert_uint_eq(n, NSORTED);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(lines[i], sorted[i]);
	buf_free(&out);

	ck_assert_int_eq(list("file.txt", LS_NLST, 0, &out), 0);
	ck_assert_str_eq(buf_str(&out), "file.txt\r\n");
	buf_free(&out);
	/* A directory reached through a symlink lists its entries. */
	ck_assert_int_eq(list("sublink", LS_NLST, 0, &out), 0);
	ck_assert_str_eq(buf_str(&out), "inner\r\n");
	buf_free(&out);
	ck_assert_int_eq(list("missing", LS_NLST, 0, &out), FTPS_ENOENT);
	ck_assert_uint_eq(buf_len(&out), 0);
	buf_free(&out);
}
END_TEST

START_TEST(list_dir_fields)
{
	struct buf	 out;
	struct lsl	 l;
	struct tm	 tm;
	struct stat	 st;
	char		*lines[32], want[512], date[32];
	size_t		 n, i;

	ck_assert_int_eq(list("/", LS_LIST, 1, &out), 0);
	n = split_lines(out.b_ptr, lines, 32);
	ck_assert_uint_eq(n, NSORTED);
	for (i = 0; i < n; i++) {
		parse_list(lines[i], &l);
		ck_assert_str_eq(l.f[2], "ftp");
		ck_assert_str_eq(l.f[3], "ftp");
		ck_assert_uint_eq(strlen(l.f[0]), 10);
		/* Sorted by name; a link shows "name -> target". */
		ck_assert_int_eq(strncmp(l.name, sorted[i],
		    strlen(sorted[i])), 0);
		if (strcmp(sorted[i], "file.txt") == 0) {
			/* The whole line, byte for byte. */
			gmtime_r(&recent, &tm);
			strftime(date, sizeof(date), "%b %d %H:%M", &tm);
			snprintf(want, sizeof(want), "-rw-r--r--    1 ftp      "
			    "ftp             5 %s file.txt", date);
			ck_assert_str_eq(lines[i], want);
		} else if (strcmp(sorted[i], "dir") == 0) {
			rootstat("dir", &st, 0);
			ck_assert_str_eq(l.f[0], "drwxr-xr-x");
			ck_assert_uint_eq(strtoul(l.f[1], NULL, 10),
			    st.st_nlink);
			ck_assert_uint_eq(strtoull(l.f[4], NULL, 10),
			    (unsigned long long)st.st_size);
			ck_assert_str_eq(l.f[5], "Jan");
			ck_assert_str_eq(l.f[6], "02");
			ck_assert_str_eq(l.f[7], "2020");
			ck_assert_str_eq(l.name, "dir");
		} else if (strcmp(sorted[i], "link") == 0) {
			ck_assert_str_eq(l.f[0], "lrwxrwxrwx");
			ck_assert_str_eq(l.f[4], "8");
			ck_assert_str_eq(l.name, "link -> file.txt");
		} else if (strcmp(sorted[i], "escape") == 0)
			ck_assert_str_eq(l.name, "escape -> /etc");
		else if (strcmp(sorted[i], "fifo") == 0)
			ck_assert_str_eq(l.f[0], "prw-r--r--");
		else if (strcmp(sorted[i], "suid") == 0)
			ck_assert_str_eq(l.f[0], "-rwsr-xr-x");
		else if (strcmp(sorted[i], ".hidden") == 0)
			ck_assert_str_eq(l.f[0], "-rw-------");
	}
	buf_free(&out);
}
END_TEST

START_TEST(list_single_entries)
{
	struct buf	 out;
	struct lsl	 l;
	char		*lines[4];

	ck_assert_int_eq(list("file.txt", LS_LIST, 0, &out), 0);
	ck_assert_uint_eq(split_lines(out.b_ptr, lines, 4), 1);
	parse_list(lines[0], &l);
	ck_assert_str_eq(l.name, "file.txt");
	ck_assert_str_eq(l.f[4], "5");
	buf_free(&out);

	/* A symlink to a file shows as the link, like `ls -l link`. */
	ck_assert_int_eq(list("/link", LS_LIST, 0, &out), 0);
	ck_assert_uint_eq(split_lines(out.b_ptr, lines, 4), 1);
	parse_list(lines[0], &l);
	ck_assert_str_eq(l.f[0], "lrwxrwxrwx");
	ck_assert_str_eq(l.name, "link -> file.txt");
	buf_free(&out);

	/* One that leads nowhere is still shown, never followed out. */
	ck_assert_int_eq(list("escape", LS_LIST, 0, &out), 0);
	ck_assert_uint_eq(split_lines(out.b_ptr, lines, 4), 1);
	parse_list(lines[0], &l);
	ck_assert_str_eq(l.name, "escape -> /etc");
	buf_free(&out);
	ck_assert_int_eq(list("dangling", LS_NLST, 0, &out), 0);
	ck_assert_str_eq(buf_str(&out), "dangling\r\n");
	buf_free(&out);
	ck_assert_int_eq(list("escape/passwd", LS_LIST, 0, &out),
	    FTPS_ENOENT);
	buf_free(&out);
}
END_TEST

START_TEST(list_dates)
{
	struct buf	 out;
	struct lsl	 l;
	struct tm	 tm;
	char		*lines[4], want[16];
	time_t		 future = time(NULL) + 400 * 86400;
	time_t		 edge = time(NULL) - 200 * 86400;

	/* Within six months: "Mon DD HH:MM". */
	ck_assert_int_eq(list("file.txt", LS_LIST, 0, &out), 0);
	split_lines(out.b_ptr, lines, 4);
	parse_list(lines[0], &l);
	gmtime_r(&recent, &tm);
	strftime(want, sizeof(want), "%H:%M", &tm);
	ck_assert_str_eq(l.f[7], want);
	buf_free(&out);

	/* Older than six months, or in the future: "Mon DD  YYYY". */
	set_mtime("file.txt", edge);
	ck_assert_int_eq(list("file.txt", LS_LIST, 0, &out), 0);
	split_lines(out.b_ptr, lines, 4);
	parse_list(lines[0], &l);
	gmtime_r(&edge, &tm);
	strftime(want, sizeof(want), "%Y", &tm);
	ck_assert_str_eq(l.f[7], want);
	strftime(want, sizeof(want), "%b %d  %Y", &tm);
	ck_assert_ptr_nonnull(strstr(lines[0], want));
	buf_free(&out);

	set_mtime("file.txt", future);
	ck_assert_int_eq(list("file.txt", LS_LIST, 0, &out), 0);
	split_lines(out.b_ptr, lines, 4);
	parse_list(lines[0], &l);
	gmtime_r(&future, &tm);
	strftime(want, sizeof(want), "%Y", &tm);
	ck_assert_str_eq(l.f[7], want);
	buf_free(&out);
}
END_TEST

START_TEST(mlsd_facts)
{
	struct buf	 out;
	struct stat	 st;
	struct tm	 tm;
	char		*lines[32], val[64], want[64];
	size_t		 n, i;

	ck_assert_int_eq(list("/", LS_MLSD, _i, &out), 0);
	n = split_lines(out.b_ptr, lines, 32);
	/* "." as cdir first, then the sorted entries, never "..". */
	ck_assert_uint_eq(n, NSORTED + 1);
	ck_assert_str_eq(fact(lines[0], "type", val, sizeof(val)), "cdir");
	ck_assert_str_eq(mlsx_name(lines[0]), ".");
	ck_assert_str_eq(fact(lines[0], "perm", val, sizeof(val)),
	    _i ? "elcdfmp" : "el");
	for (i = 1; i < n; i++) {
		const char	*name = mlsx_name(lines[i]);

		ck_assert_str_eq(name, sorted[i - 1]);
		ck_assert_ptr_nonnull(fact(lines[i], "modify", val,
		    sizeof(val)));
		ck_assert_uint_eq(strlen(val), 14);
		ck_assert_uint_eq(strspn(val, "0123456789"), 14);
		ck_assert_ptr_nonnull(fact(lines[i], "unique", val,
		    sizeof(val)));
		ck_assert_ptr_nonnull(fact(lines[i], "UNIX.mode", val,
		    sizeof(val)));
		if (strcmp(name, "file.txt") == 0 ||
		    strcmp(name, "link") == 0) {
			/* link -> file.txt is reported as its target. */
			rootstat("file.txt", &st, 1);
			ck_assert_str_eq(fact(lines[i], "type", val,
			    sizeof(val)), "file");
			ck_assert_str_eq(fact(lines[i], "size", val,
			    sizeof(val)), "5");
			ck_assert_str_eq(fact(lines[i], "perm", val,
			    sizeof(val)), _i ? "radfw" : "r");
			snprintf(want, sizeof(want), "%llxU%llx",
			    (unsigned long long)st.st_dev,
			    (unsigned long long)st.st_ino);
			ck_assert_str_eq(fact(lines[i], "unique", val,
			    sizeof(val)), want);
			ck_assert_str_eq(fact(lines[i], "UNIX.mode", val,
			    sizeof(val)), "0644");
			gmtime_r(&recent, &tm);
			strftime(want, sizeof(want), "%Y%m%d%H%M%S", &tm);
			ck_assert_str_eq(fact(lines[i], "modify", val,
			    sizeof(val)), want);
		} else if (strcmp(name, "dir") == 0 ||
		    strcmp(name, "sublink") == 0) {
			ck_assert_str_eq(fact(lines[i], "type", val,
			    sizeof(val)), "dir");
			ck_assert_ptr_null(fact(lines[i], "size", val,
			    sizeof(val)));
			ck_assert_str_eq(fact(lines[i], "modify", val,
			    sizeof(val)), "20200102030405");
			ck_assert_str_eq(fact(lines[i], "UNIX.mode", val,
			    sizeof(val)), "0755");
		} else if (strcmp(name, "dangling") == 0 ||
		    strcmp(name, "escape") == 0) {
			/* Leads nowhere inside the root: the link itself. */
			ck_assert_str_eq(fact(lines[i], "type", val,
			    sizeof(val)), "OS.unix=symlink");
			ck_assert_str_eq(fact(lines[i], "UNIX.mode", val,
			    sizeof(val)), "0777");
		} else if (strcmp(name, "fifo") == 0)
			ck_assert_str_eq(fact(lines[i], "type", val,
			    sizeof(val)), "OS.unix=fifo");
		else if (strcmp(name, "suid") == 0)
			ck_assert_str_eq(fact(lines[i], "UNIX.mode", val,
			    sizeof(val)), "04755");
	}
	buf_free(&out);
}
END_TEST

/* OPTS MLST: only the facts asked for, in RFC 3659 7.5's order. */
START_TEST(mlsx_fact_selection)
{
	struct vpath	 vp;
	struct buf	 out;
	char		*lines[32];
	size_t		 n;

	ck_assert_int_eq(vfs_resolve(&v, "/dir", &vp), 0);
	buf_init(&out, FTPS_LISTING_MAX);
	ck_assert_int_eq(ls_format(&v, &vp, LS_MLSD, 1, MF_SIZE | MF_TYPE,
	    &out), 0);
	n = split_lines(out.b_ptr, lines, 32);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(lines[0], "type=cdir; .");
	ck_assert_str_eq(lines[1], "type=file;size=1; inner");
	buf_free(&out);
	vpath_free(&vp);

	ck_assert_int_eq(vfs_resolve(&v, "file.txt", &vp), 0);
	buf_init(&out, FTPS_LISTING_MAX);
	ck_assert_int_eq(ls_format(&v, &vp, LS_MLST, 0, MF_PERM | MF_SIZE,
	    &out), 0);
	ck_assert_str_eq(out.b_ptr, " size=5;perm=r; /file.txt\r\n");
	buf_reset(&out);
	/* No fact at all: the name alone after its space. */
	ck_assert_int_eq(ls_format(&v, &vp, LS_MLST, 0, 0, &out), 0);
	ck_assert_str_eq(out.b_ptr, "  /file.txt\r\n");
	buf_free(&out);
	vpath_free(&vp);
}
END_TEST

START_TEST(mlst_single)
{
	struct buf	 out;
	char		 val[64];

	ck_assert_int_eq(list("file.txt", LS_MLST, 1, &out), 0);
	/* One line with the leading space of RFC 3659 7.2. */
	ck_assert_int_eq(out.b_ptr[0], ' ');
	ck_assert_ptr_eq(strstr(out.b_ptr, "\r\n"),
	    out.b_ptr + buf_len(&out) - 2);
	ck_assert_str_eq(fact(out.b_ptr + 1, "type", val, sizeof(val)),
	    "file");
	ck_assert_str_eq(fact(out.b_ptr + 1, "size", val, sizeof(val)), "5");
	ck_assert_int_eq(strcmp(mlsx_name(out.b_ptr), "/file.txt\r\n"), 0);
	buf_free(&out);

	/* MLST of a directory describes it, not its entries. */
	ck_assert_int_eq(list("sub/../dir/", LS_MLST, 0, &out), 0);
	ck_assert_str_eq(fact(out.b_ptr + 1, "type", val, sizeof(val)),
	    "dir");
	ck_assert_int_eq(strcmp(mlsx_name(out.b_ptr), "/dir\r\n"), 0);
	buf_free(&out);
	ck_assert_int_eq(list("/", LS_MLST, 0, &out), 0);
	ck_assert_int_eq(strcmp(mlsx_name(out.b_ptr), "/\r\n"), 0);
	buf_free(&out);
	ck_assert_int_eq(list("dangling", LS_MLST, 0, &out), FTPS_ENOENT);
	ck_assert_uint_eq(buf_len(&out), 0);
	buf_free(&out);
}
END_TEST

START_TEST(mlsd_of_file_refused)
{
	struct buf	 out;

	ck_assert_int_eq(list("file.txt", LS_MLSD, 0, &out), FTPS_EPARSE);
	ck_assert_uint_eq(buf_len(&out), 0);
	buf_free(&out);
	ck_assert_int_eq(list("link", LS_MLSD, 0, &out), FTPS_EPARSE);
	buf_free(&out);
	ck_assert_int_eq(list("sublink", LS_MLSD, 0, &out), 0);
	ck_assert_ptr_nonnull(strstr(buf_str(&out), "; inner\r\n"));
	buf_free(&out);
}
END_TEST

START_TEST(bounded_output)
{
	struct vpath	 vp;
	struct buf	 out;

	ck_assert_int_eq(vfs_resolve(&v, "/", &vp), 0);
	/* Room for a few names, not for all of them. */
	buf_init(&out, 40);
	ck_assert_int_eq(ls_format(&v, &vp, LS_NLST, 0, MF_ALL, &out), FTPS_ETOOBIG);
	ck_assert_uint_eq(buf_len(&out), 0);
	ck_assert_int_eq(ls_format(&v, &vp, LS_LIST, 0, MF_ALL, &out), FTPS_ETOOBIG);
	ck_assert_int_eq(ls_format(&v, &vp, LS_MLSD, 0, MF_ALL, &out), FTPS_ETOOBIG);
	ck_assert_uint_eq(buf_len(&out), 0);
	buf_free(&out);
	/* Exactly enough for NLST is enough. */
	buf_init(&out, 74);
	ck_assert_int_eq(ls_format(&v, &vp, LS_NLST, 0, MF_ALL, &out), 0);
	ck_assert_uint_eq(buf_len(&out), 74);
	buf_free(&out);
	vpath_free(&vp);
}
END_TEST


START_TEST(no_fd_leak)
{
	static const char *const args[] = { "/", "file.txt", "link",
	    "dangling", "escape", "sublink", "missing", "escape/x", "fifo" };
	struct vpath	 vp;
	struct buf	 out;
	size_t		 i;
	int		 before, style;

	before = tu_count_fds();
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		for (style = LS_LIST; style <= LS_MLST; style++) {
			list(args[i], style, 1, &out);
			buf_free(&out);
		}
	ck_assert_int_eq(vfs_resolve(&v, "/", &vp), 0);
	buf_init(&out, 40);
	ck_assert_int_eq(ls_format(&v, &vp, LS_LIST, 0, MF_ALL, &out), FTPS_ETOOBIG);
	buf_free(&out);
	vpath_free(&vp);
	ck_assert_int_eq(tu_count_fds(), before);
}
END_TEST

Suite	*unit_suite(void);

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("listing");
	TCase	*tc;

	tc = tcase_create("options");
	tcase_add_loop_test(tc, skip_options, 0,
	    sizeof(opts) / sizeof(opts[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("formats");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_test(tc, nlst_dir_sorted);
	tcase_add_test(tc, list_dir_fields);
	tcase_add_test(tc, list_single_entries);
	tcase_add_test(tc, list_dates);
	tcase_add_loop_test(tc, mlsd_facts, 0, 2);
	tcase_add_test(tc, mlst_single);
	tcase_add_test(tc, mlsx_fact_selection);
	tcase_add_test(tc, mlsd_of_file_refused);
	tcase_add_test(tc, bounded_output);
	tcase_add_test(tc, no_fd_leak);
	suite_add_tcase(s, tc);
	return s;
}
