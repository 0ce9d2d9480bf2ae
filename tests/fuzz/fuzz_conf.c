/*
 * fuzz_conf: arbitrary bytes as an ftpsd.conf through conf_load(), and
 * the first line through conf_set_arg() (ftpsd -o).  Invariants:
 * - conf_load returns 0 or minus the number of errors, and prints exactly
 *   one "FILE:LINE: message" line per error, all printable ASCII
 *   (SECURITY: a hostile config value cannot forge log lines);
 * - whatever it accepted, conf_value prints and conf_set reads back to the
 *   same value, directly and through a regenerated file (the contract in
 *   config/conf.h); conf_check reports one line per problem;
 * - no descriptor is left open on any path.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "fuzz.h"

/* Larger than any value: a PATH_MAX path, 16 listen addresses. */
#define FC_VALUE_MAX	8192

/* conf_value of every key of a and b agree. */
static void
fc_same(const struct conf *a, const struct conf *b)
{
	static char	 va[FC_VALUE_MAX], vb[FC_VALUE_MAX];
	size_t		 i;

	for (i = 0; i < CONF_NKEYS; i++) {
		FUZZ_CHECK(conf_value(a, i, va, sizeof(va)) == 0);
		FUZZ_CHECK(conf_value(b, i, vb, sizeof(vb)) == 0);
		if (strcmp(va, vb) != 0) {
			fprintf(stderr, "%s: \"%s\" read back as \"%s\"\n",
			    conf_key_name(i), va, vb);
			FUZZ_CHECK(strcmp(va, vb) == 0);
		}
	}
}

/*
 * Every key of c through conf_set into a fresh conf, then (via_file) all
 * of them as one file through conf_load: both must reproduce c.  Only
 * values that came from a file are held to the second: "-o" may set a
 * value holding " #", which a file reads as a comment.
 */
static void
fc_roundtrip(const struct conf *c, int via_file)
{
	static char	 v[FC_VALUE_MAX];
	struct conf	 d, e;
	char		*text = NULL;
	size_t		 len = 0, i;
	FILE		*fp;

	FUZZ_CHECK(conf_init(&d) == 0);
	for (i = 0; i < CONF_NKEYS; i++) {
		FUZZ_CHECK(conf_value(c, i, v, sizeof(v)) == 0);
		/* Keys whose default is "unset" read "" as unset. */
		if (v[0] == '\0') {
			FUZZ_CHECK(conf_set(&d, conf_key_name(i), "",
			    "/etc/ftpsd.conf", 1, NULL) == 0);
			continue;
		}
		FUZZ_CHECK(conf_set(&d, conf_key_name(i), v,
		    "/etc/ftpsd.conf", 1, NULL) == 0);
	}
	fc_same(c, &d);
	conf_free(&d);
	if (!via_file)
		return;

	FUZZ_CHECK((fp = open_memstream(&text, &len)) != NULL);
	for (i = 0; i < CONF_NKEYS; i++) {
		FUZZ_CHECK(conf_value(c, i, v, sizeof(v)) == 0);
		fprintf(fp, "%s = %s\n", conf_key_name(i), v);
	}
	FUZZ_CHECK(fclose(fp) == 0);
	FUZZ_CHECK(conf_init(&e) == 0);
	if (conf_load(&e, fuzz_file((const uint8_t *)text, len),
	    stderr) != 0) {
		fprintf(stderr, "regenerated file refused:\n%s", text);
		FUZZ_CHECK(!"conf_load reads what conf_value printed");
	}
	fc_same(c, &e);
	conf_free(&e);
	free(text);
}

/* The report of a call that returned r (0 or -count) is well formed. */
static void
fc_report(int r, const char *out, size_t len, const char *prefix)
{
	FUZZ_CHECK(r <= 0);
	FUZZ_CHECK(fuzz_lines_clean(out, len, prefix));
	FUZZ_CHECK(fuzz_count_lines(out, len) == (size_t)-r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_errf	 ef;
	struct fuzz_fds		 fds;
	struct conf		 c;
	char			 prefix[80], *out, *line, *nl;
	const char		*path;
	size_t			 len, i;
	int			 r;

	/* The memfd stays open: open it before the baseline. */
	fuzz_file(data, 0);
	fuzz_fds_snapshot(&fds);

	/* 1. The whole input as a file. */
	path = fuzz_file(data, size);
	snprintf(prefix, sizeof(prefix), "%s:", path);
	FUZZ_CHECK(conf_init(&c) == 0);
	r = conf_load(&c, path, fuzz_errf_open(&ef));
	out = fuzz_errf_close(&ef, &len);
	fc_report(r, out, len, prefix);
	free(out);
	if (r == 0) {
		for (i = 0; i < CONF_NKEYS; i++)
			FUZZ_CHECK(c.c_line[i] <= size);
		r = conf_check(&c, path, fuzz_errf_open(&ef));
		out = fuzz_errf_close(&ef, &len);
		fc_report(r, out, len, prefix);
		free(out);
		fc_roundtrip(&c, 1);
	}
	conf_free(&c);

	/* 2. The first line as "ftpsd -o key=value". */
	FUZZ_CHECK((line = fuzz_strdup(data, size)) != NULL);
	if ((nl = strchr(line, '\n')) != NULL)
		*nl = '\0';
	FUZZ_CHECK(conf_init(&c) == 0);
	r = conf_set_arg(&c, line, fuzz_errf_open(&ef));
	out = fuzz_errf_close(&ef, &len);
	FUZZ_CHECK(r == 0 || r == FTPS_EPARSE);
	FUZZ_CHECK(fuzz_lines_clean(out, len, "-o: "));
	FUZZ_CHECK(fuzz_count_lines(out, len) == (r == 0 ? 0u : 1u));
	free(out);
	if (r == 0)
		fc_roundtrip(&c, 0);
	conf_free(&c);
	free(line);

	fuzz_fds_check(&fds);
	return 0;
}
