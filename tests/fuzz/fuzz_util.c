/* Helpers shared by the fuzz targets: see fuzz.h. */
#include "config.h"

#include <sys/mman.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

void	(*fuzz_fail_hook)(void);

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
	if (fuzz_fail_hook != NULL)
		fuzz_fail_hook();
	abort();
}

char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	const uint8_t	*nul;
	char		*s;
	size_t		 n;

	n = (nul = memchr(data, '\0', size)) != NULL ?
	    (size_t)(nul - data) : size;
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

const char *
fuzz_file(const uint8_t *data, size_t size)
{
	static int	 fd = -1;
	static char	 path[64];
	size_t		 off = 0;
	ssize_t		 n;

	if (fd == -1) {
		/* Kept open for the whole run: not a per-input leak. */
		if ((fd = memfd_create("fuzz-input", MFD_CLOEXEC)) == -1) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1) {
		perror("ftruncate");
		abort();
	}
	while (off < size) {
		n = pwrite(fd, data + off, size - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("pwrite");
			abort();
		}
		off += (size_t)n;
	}
	return path;
}

void
fuzz_fds_snapshot(struct fuzz_fds *f)
{
	DIR		*d;
	struct dirent	*de;
	char		*end;
	long		 fd;

	memset(f, 0, sizeof(*f));
	if ((d = opendir("/proc/self/fd")) == NULL) {
		perror("/proc/self/fd");
		abort();
	}
	while ((de = readdir(d)) != NULL) {
		fd = strtol(de->d_name, &end, 10);
		if (*end != '\0' || end == de->d_name || fd == dirfd(d))
			continue;
		if (fd < 0 || fd >= FUZZ_FD_MAX) {
			fprintf(stderr, "descriptor %ld above %d\n", fd,
			    FUZZ_FD_MAX);
			abort();
		}
		f->open[fd / 8] |= (unsigned char)(1u << (fd % 8));
	}
	closedir(d);
}

void
fuzz_fds_check(const struct fuzz_fds *before)
{
	struct fuzz_fds	 now;
	char		 link[64], what[256];
	ssize_t		 n;
	int		 fd, leaked = 0;

	fuzz_fds_snapshot(&now);
	for (fd = 0; fd < FUZZ_FD_MAX; fd++) {
		if (!(now.open[fd / 8] & (1u << (fd % 8))) ||
		    (before->open[fd / 8] & (1u << (fd % 8))))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if ((n = readlink(link, what, sizeof(what) - 1)) < 0)
			n = 0;
		what[n] = '\0';
		fprintf(stderr, "descriptor %d (%s) left open\n", fd, what);
		leaked = 1;
	}
	FUZZ_CHECK(!leaked);
}

void *
fuzz_errf_open(struct fuzz_errf *e)
{
	e->buf = NULL;
	e->len = 0;
	if ((e->fp = open_memstream(&e->buf, &e->len)) == NULL) {
		perror("open_memstream");
		abort();
	}
	return e->fp;
}

char *
fuzz_errf_close(struct fuzz_errf *e, size_t *len)
{
	if (fclose(e->fp) != 0) {
		perror("open_memstream");
		abort();
	}
	e->fp = NULL;
	*len = e->len;
	return e->buf;
}

int
fuzz_lines_clean(const char *text, size_t len, const char *prefix)
{
	size_t	 i, plen = prefix != NULL ? strlen(prefix) : 0;
	int	 bol = 1;

	for (i = 0; i < len; i++) {
		if (bol && plen > 0 && (len - i < plen ||
		    memcmp(text + i, prefix, plen) != 0))
			return 0;
		bol = text[i] == '\n';
		if (!bol && (text[i] < 0x20 || text[i] > 0x7e))
			return 0;
	}
	/* A report is whole lines. */
	return len == 0 || text[len - 1] == '\n';
}

size_t
fuzz_count_lines(const char *text, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}
