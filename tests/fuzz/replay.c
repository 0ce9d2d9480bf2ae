/*
 * A stand-in for libFuzzer's main() in builds without it: feeds every file
 * named on the command line (a directory: each regular file in it, in
 * name order) to LLVMFuzzerTestOneInput() once.  With no argument it
 * replays the committed corpus of its target, FUZZ_CORPUS_ROOT/<name>/
 * for a program called fuzz_<name>, which is how `make check` runs it.
 * An input that breaks an invariant aborts, naming the file first.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FUZZ_CORPUS_ROOT
#error "FUZZ_CORPUS_ROOT must come from tests/fuzz/local.mk"
#endif

/* As libFuzzer's default -max_len for a seed corpus: ample for seeds. */
#define REPLAY_MAX	(1024 * 1024)

static int
replay_file(const char *path)
{
	struct stat	 st;
	uint8_t		*data = NULL;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX) {
		fprintf(stderr, "%s: not a regular file of at most %d bytes\n",
		    path, REPLAY_MAX);
		goto out;
	}
	/* An exact-size copy, so ASan sees any read past the input. */
	if ((data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	while (off < (size_t)st.st_size) {
		if ((n = read(fd, data + off, (size_t)st.st_size - off)) <= 0) {
			fprintf(stderr, "%s: short read\n", path);
			goto out;
		}
		off += (size_t)n;
	}
	fprintf(stderr, "replay %s\n", path);
	LLVMFuzzerTestOneInput(data, off);
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	free(data);
	return r;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/* Every regular file of dir, in name order; -1 on error, else the count. */
static int
replay_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, **tmp, path[4096];
	size_t		 n = 0, cap = 0, i;
	int		 count = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((tmp = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				goto nomem;
			names = tmp;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	closedir(d);
	d = NULL;
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && count >= 0; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
		    (int)sizeof(path) || replay_file(path) != 0)
			count = -1;
		else
			count++;
	}
	goto out;
 nomem:
	fprintf(stderr, "%s: out of memory\n", dir);
	count = -1;
 out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return count;
}

int
main(int argc, char *argv[])
{
	struct stat	 st;
	char		 corpus[4096];
	const char	*prog, *name;
	int		 i, n, total = 0;

	if (argc < 2) {
		prog = (prog = strrchr(argv[0], '/')) != NULL ? prog + 1 :
		    argv[0];
		if (strncmp(prog, "fuzz_", 5) != 0 || prog[5] == '\0') {
			fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
			return 2;
		}
		name = prog + 5;
		if (snprintf(corpus, sizeof(corpus), "%s/%s", FUZZ_CORPUS_ROOT,
		    name) >= (int)sizeof(corpus))
			return 2;
		if ((n = replay_dir(corpus)) < 0)
			return 1;
		/* An empty corpus would test nothing. */
		if (n == 0) {
			fprintf(stderr, "%s: no input in %s\n", prog, corpus);
			return 1;
		}
		printf("%s: %d inputs from %s replayed\n", prog, n, corpus);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			n = replay_dir(argv[i]);
		else
			n = replay_file(argv[i]) == 0 ? 1 : -1;
		if (n < 0)
			return 1;
		total += n;
	}
	printf("%d inputs replayed\n", total);
	return 0;
}
