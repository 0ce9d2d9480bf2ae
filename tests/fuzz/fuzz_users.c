/*
 * fuzz_users: arbitrary bytes as a users file through auth_users_load().
 * Invariants:
 * - the load succeeds (bad lines are reported, never fatal) and each
 *   report is one printable "FILE:LINE: message" line; their number is
 *   auth_users_errors(); no line yields both a user and an error;
 * - SECURITY: no report echoes a password hash (offline cracking);
 * - every loaded user has a valid name, an absolute home without control
 *   bytes, "r" or "rw" perms, a data policy of known values, is found by
 *   its name and survives auth_user_dup();
 * - no descriptor is left open on any path.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "err.h"
#include "ftps_limits.h"
#include "fuzz.h"

/*
 * What looks like a hash: starts with '$', '!' or '*', no blank, at least
 * this long.  No substring of the fixed report texts has that form, so a
 * match in the report can only be an echo.
 */
#define FU_HASH_MIN	16

/* Occurrences of needle in d, counting at most max. */
static size_t
fu_count(const uint8_t *d, size_t n, const uint8_t *needle, size_t nlen,
    size_t max)
{
	const uint8_t	*p = d, *end = d + n;
	size_t		 c = 0;

	while (c < max && nlen > 0 && (size_t)(end - p) >= nlen &&
	    (p = memmem(p, (size_t)(end - p), needle, nlen)) != NULL) {
		c++;
		p++;
	}
	return c;
}

/* The fields of one line, ':'-separated, in place; returns their count. */
static size_t
fu_fields(char *line, char **f, size_t max)
{
	size_t	 n = 0;
	char	*p = line;

	while (n < max) {
		f[n++] = p;
		if ((p = strchr(p, ':')) == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

static void
fu_check_user(const struct user *u, const char *name)
{
	struct user	*d;
	const char	*p;

	FUZZ_CHECK(strcmp(u->name, name) == 0);
	FUZZ_CHECK(strlen(u->name) >= 1 && strlen(u->name) <= FTPS_USER_MAX);
	FUZZ_CHECK(strspn(u->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._@-") == strlen(u->name));
	FUZZ_CHECK(u->name[0] != '-' && u->name[0] != '.');
	FUZZ_CHECK(u->home[0] == '/' && strlen(u->home) < FTPS_PATH_MAX);
	for (p = u->home; *p != '\0'; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	FUZZ_CHECK(u->perms == PERM_READ ||
	    u->perms == (PERM_READ | PERM_WRITE));
	/* Only a cert account has no hash. */
	FUZZ_CHECK(u->hash[0] != '\0' || u->method == AUTH_METHOD_CERT);
	FUZZ_CHECK(u->policy.data_tls == CONF_POLICY_UNSET ||
	    u->policy.data_tls == CONF_TLS_OPTIONAL ||
	    u->policy.data_tls == CONF_TLS_REQUIRED);
	FUZZ_CHECK(u->policy.data_session_reuse == CONF_POLICY_UNSET ||
	    u->policy.data_session_reuse == CONF_REUSE_OFF ||
	    u->policy.data_session_reuse == CONF_REUSE_OPTIONAL ||
	    u->policy.data_session_reuse == CONF_REUSE_REQUIRED);
	FUZZ_CHECK(u->disabled == (u->hash[0] == '!' || u->hash[0] == '*'));
	FUZZ_CHECK((d = auth_user_dup(u)) != NULL);
	FUZZ_CHECK(strcmp(d->name, u->name) == 0 &&
	    strcmp(d->hash, u->hash) == 0 && strcmp(d->home, u->home) == 0 &&
	    d->perms == u->perms && d->disabled == u->disabled &&
	    d->method == u->method &&
	    memcmp(&d->policy, &u->policy, sizeof(d->policy)) == 0);
	auth_user_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_errf	 ef;
	struct fuzz_fds		 fds;
	struct userdb		*db;
	const struct user	*u;
	char			 prefix[80], *out, *copy, *line, *next, *f[7];
	const char		*path, *p;
	size_t			 len, nlines, found = 0, nf, hl;
	int			 r;

	/* The memfd stays open: open it before the baseline. */
	fuzz_file(data, 0);
	fuzz_fds_snapshot(&fds);

	path = fuzz_file(data, size);
	snprintf(prefix, sizeof(prefix), "%s:", path);
	r = auth_users_load(path, &db, fuzz_errf_open(&ef));
	out = fuzz_errf_close(&ef, &len);
	FUZZ_CHECK(r == 0 || r == FTPS_ENOMEM);
	if (r != 0) {
		FUZZ_CHECK(db == NULL);
		free(out);
		return 0;
	}
	FUZZ_CHECK(db != NULL);
	FUZZ_CHECK(fuzz_lines_clean(out, len, prefix));
	FUZZ_CHECK(fuzz_count_lines(out, len) == auth_users_errors(db));
	/* Lines as the loader counts them: a last line may lack '\n'. */
	nlines = fu_count(data, size, (const uint8_t *)"\n", 1, SIZE_MAX) +
	    (size > 0 && data[size - 1] != '\n');
	FUZZ_CHECK(auth_users_count(db) + auth_users_errors(db) <= nlines);
	FUZZ_CHECK(auth_user_find(db, "") == NULL);

	/*
	 * Walk the lines again (up to a NUL, which makes a line bad anyway).
	 * A user is found under each name that loaded; the hash of any line
	 * never shows in the report.
	 */
	FUZZ_CHECK((copy = fuzz_strdup(data, size)) != NULL);
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		nf = fu_fields(line, f, 7);
		if (nf < 2)
			continue;
		hl = strcspn(f[1], "\r");
		if (hl >= FU_HASH_MIN && strchr("$!*", f[1][0]) != NULL &&
		    strcspn(f[1], " \t") >= hl && fu_count(data, size,
		    (const uint8_t *)f[1], hl, 2) == 1)
			FUZZ_CHECK(fu_count((const uint8_t *)out, len,
			    (const uint8_t *)f[1], hl, 1) == 0);
		if (nf < 4 || nf > 6)
			continue;
		if ((u = auth_user_find(db, f[0])) != NULL) {
			fu_check_user(u, f[0]);
			found++;
		}
	}
	free(copy);
	/* Names repeat (duplicates are reported), so found may exceed. */
	FUZZ_CHECK(found >= auth_users_count(db) ||
	    memchr(data, '\0', size) != NULL);
	for (p = out; p < out + len; p++)
		FUZZ_CHECK(*p != '\0');
	free(out);
	auth_users_free(db);

	fuzz_fds_check(&fds);
	return 0;
}
