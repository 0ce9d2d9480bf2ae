/* tests/unit/testutil.c: helpers shared by the unit test programs. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <check.h>

#include "testutil.h"

static int
tu_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == -1 ? -1 : 0;
}

void
tu_rmtree(const char *dir)
{
	struct stat	 st;

	if (nftw(dir, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
	    errno != ENOENT)
		ck_abort_msg("removing %s failed", dir);
	ck_assert_msg(lstat(dir, &st) == -1 && errno == ENOENT,
	    "%s still exists", dir);
}

int
tu_count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}
