/*
 * Shared by the libFuzzer targets of tests/fuzz/ (docs/fuzzing.md).  Each
 * target is one fuzz_<name>.c defining LLVMFuzzerTestOneInput(); it links
 * either with libFuzzer (./configure --enable-fuzzing, run by scripts/fuzz)
 * or with replay.c, whose main() feeds it the committed corpus in
 * `make check`.  Targets check invariants with FUZZ_CHECK, which aborts,
 * so both drivers report a broken invariant as a crash with its input.
 */
#ifndef FTPS_FUZZ_H
#define FTPS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Never compiled out (unlike assert(3) under NDEBUG). */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond);			\
} while (0)

void	 fuzz_fail(const char *file, int line, const char *what)
	    __attribute__((noreturn));
/* Run by fuzz_fail() before it aborts: a target removes its fixtures. */
extern void	(*fuzz_fail_hook)(void);

/*
 * The input as a NUL-terminated string (stopping at its first NUL byte),
 * in a buffer owned by the caller; NULL only when out of memory.
 */
char	*fuzz_strdup(const uint8_t *, size_t);

/*
 * The input as a file the parsers can open by path: one memfd per
 * process, rewritten on every call.  Returns "/proc/self/fd/N".  The
 * memfd is opened by the first call: make it before fuzz_lowest_fd().
 */
const char	*fuzz_file(const uint8_t *, size_t);

/*
 * The open descriptors, from /proc/self/fd.  A target takes a snapshot
 * when an input starts and checks it when the input ends: a descriptor or
 * FILE leaked on any path aborts, naming what it refers to.  Not across
 * inputs: libFuzzer opens descriptors of its own between them (pipes to
 * llvm-symbolizer).
 */
#define FUZZ_FD_MAX	4096
struct fuzz_fds {
	unsigned char	 open[FUZZ_FD_MAX / 8];
};
void	 fuzz_fds_snapshot(struct fuzz_fds *);
void	 fuzz_fds_check(const struct fuzz_fds *);

/*
 * Catches error text in memory: fuzz_errf_open() gives a FILE for the
 * parsers' errf, fuzz_errf_close() returns what was written (caller
 * frees) and its length.
 */
struct fuzz_errf {
	char	*buf;
	size_t	 len;
	void	*fp;		/* FILE * */
};
void	*fuzz_errf_open(struct fuzz_errf *);
char	*fuzz_errf_close(struct fuzz_errf *, size_t *len);

/*
 * 1 when text holds only printable ASCII and '\n' and every line starts
 * with prefix (NULL: any): the form of a "FILE:LINE: message" report
 * whose client- or file-supplied parts went through log_safe().
 */
int	 fuzz_lines_clean(const char *text, size_t len, const char *prefix);
/* Lines in text (count of '\n'). */
size_t	 fuzz_count_lines(const char *text, size_t len);

#endif
