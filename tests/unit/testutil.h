/*
 * tests/unit/testutil.h: helpers every unit test program may link
 * (tests/unit/testutil.c), so no test carries its own copy.
 */
#ifndef FTPS_TESTUTIL_H
#define FTPS_TESTUTIL_H

/*
 * Removes dir and everything beneath it, never following a symlink;
 * a missing dir is not an error.  Fails the test when something stays.
 */
void	 tu_rmtree(const char *dir);
/* Open descriptors of this process, to prove none is leaked. */
int	 tu_count_fds(void);

#endif
