/*
 * What conf.c shares with host.c (the [host NAME] sections) and nothing
 * else: the key table's entry points and the FILE:LINE message format.
 */
#ifndef FTPS_CONF_INT_H
#define FTPS_CONF_INT_H

#include <stdio.h>

#include "conf.h"

#define CONF_SHOW_MAX	80	/* bytes of a bad value quoted in a message */

/* Where a value came from: labels messages and anchors relative paths. */
struct conf_src {
	const char	*file;		/* a path, or "-o" */
	unsigned	 line;		/* 0 none, CONF_LINE_ARG from -o */
	int		 in_file;	/* relative paths beside file, not cwd */
};

/* Which part of a file conf_load is in. */
#define CONF_SECTION_NONE	(-1)	/* before the first [host] */
#define CONF_SECTION_BAD	(-2)	/* after a refused [host] line */

/* "FILE:LINE: message\n" to errf (NULL: nothing). */
void	 conf_err(FILE *, const char *file, unsigned line, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
/* s as it may appear in a message: bounded, control bytes escaped. */
const char *conf_show(char *dst, size_t len, const char *s);
/* Index of a key of the table, or -1. */
int	 conf_find(const char *key);
/* Sets one key through its table row; every error printed. */
int	 conf_apply(struct conf *, const char *key, const char *value,
	    const struct conf_src *, FILE *errf);
/* conf_check() without the hosts; 0 or the negative count. */
int	 conf_check_one(const struct conf *, const char *file, FILE *errf);

/* host.c */
/*
 * A line starting with '[': "[host NAME]" opens a section (index into
 * *section), anything else is an error (*section = CONF_SECTION_BAD, so
 * the keys that follow are not taken for the default host's).
 */
int	 conf_section(struct conf *, char *line, const struct conf_src *,
	    int *section, FILE *errf);
/* "key = value" inside section i. */
int	 conf_section_set(struct conf *, int i, const char *key,
	    const char *value, const struct conf_src *, FILE *errf);
/* Each host's resolved configuration through conf_check_one. */
int	 conf_hosts_check(const struct conf *, const char *file, FILE *errf);
void	 conf_hosts_free(struct conf *);

#endif
