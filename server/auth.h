/*
 * Accounts: the users file (parsing, lookup, reload copies).
 *
 * users_file lines are "name:hash:home:perms[:method[:options]]" with
 * crypt(3) hashes (yescrypt, gost-yescrypt, bcrypt, sha512crypt); perms
 * is "r" or "rw"; method, when present, is "password" (the default),
 * "cert" (hash field empty, or '!'/'*' to disable) or "cert+password"
 * (empty before options: password); options are "key=value,..." of the
 * ftpsd.conf keys an account may override (data_tls,
 * data_session_reuse).  '#' comments and blank lines are skipped.  A
 * malformed line is reported as "FILE:LINE: message" and that user is
 * not loaded; the rest load.  A hash starting with '!' or '*' marks a
 * disabled account: it is loaded but never authenticates.
 * docs/users.md describes the format.
 *
 * Checking a password takes tens of milliseconds: authpool.h runs the
 * checks on a small thread pool.
 */
#ifndef FTPS_AUTH_H
#define FTPS_AUTH_H

#include <stdio.h>

#include "conf.h"
#include "ftps_limits.h"

#define PERM_READ	0x01
#define PERM_WRITE	0x02

/* How an account logs in: the 5th users_file field. */
enum auth_method {
	AUTH_METHOD_PASSWORD = 0,	/* "password", the default */
	AUTH_METHOD_CERT,		/* "cert": a client certificate alone */
	AUTH_METHOD_CERT_PASSWORD	/* "cert+password": both */
};

/*
 * Longest users_file line accepted, newline excluded: a name, the longest
 * crypt(3) output (CRYPT_OUTPUT_SIZE), a home path, perms, method,
 * options and the separators.
 */
#define AUTH_LINE_MAX	(FTPS_USER_MAX + 384 + FTPS_PATH_MAX + 128)

struct user {
	char		*name;		/* owned */
	char		*hash;		/* owned; crypt(3) form */
	char		*home;		/* owned; absolute */
	unsigned	 perms;		/* PERM_* */
	int		 disabled;	/* hash starts with '!' or '*' */
	enum auth_method method;
	struct conf_policy policy;	/* 6th field; unset: ftpsd.conf's */
};

struct userdb;

/*
 * 0, FTPS_ESYS (file unreadable, reason printed) or FTPS_ENOMEM; the db is
 * NULL on error.  Bad lines do not fail the load: each is printed to errf
 * (may be NULL) and counted, see auth_users_errors().  At most
 * FTPS_USERS_MAX users load.  Messages never contain a hash.
 */
int		 auth_users_load(const char *path, struct userdb **,
		    FILE *errf);
/* NULL when absent.  Valid until auth_users_free().  O(1) expected. */
const struct user *auth_user_find(const struct userdb *, const char *name);
size_t		 auth_users_count(const struct userdb *);
/*
 * Calls fn for every loaded user, with the users_file line it came from,
 * in no particular order.  Stops at the first non-zero return of fn and
 * returns it; 0 when fn accepted them all.
 */
int		 auth_users_each(const struct userdb *,
		    int (*fn)(const struct user *, unsigned long line,
		    void *arg), void *arg);
/* Lines reported as bad by auth_users_load() (ftpsd -t exits 2 on any). */
size_t		 auth_users_errors(const struct userdb *);
void		 auth_users_free(struct userdb *);
/* A deep copy a session can keep across a reload; NULL on ENOMEM. */
struct user	*auth_user_dup(const struct user *);
void		 auth_user_free(struct user *);

/* "password", "cert", "cert+password" -> *m; 0 or FTPS_EPARSE. */
int		 auth_method_parse(const char *, enum auth_method *);
/* The users_file spelling of m. */
const char	*auth_method_name(enum auth_method);

/* What USER does once the client certificate is taken into account. */
enum auth_cert_action {
	AUTH_CERT_PASSWORD,	/* 331; the password decides */
	AUTH_CERT_LOGIN,	/* 232: the certificate alone logs in */
	AUTH_CERT_MISMATCH,	/* 530 now: the certificate names another */
	AUTH_CERT_REFUSE	/* 331, then any PASS fails (no certificate) */
};

/*
 * Decides a USER for account u (NULL: unknown name) given the control
 * connection's client certificate: has_cert is 1 when one was presented
 * and verified, cert_name its identity (the subject CN; NULL when it has
 * none usable).  Pure; docs/mtls.md states the rules.
 */
enum auth_cert_action auth_cert_decide(const struct user *u,
		    const char *name, int has_cert, const char *cert_name);

/*
 * A yescrypt hash (default cost, random salt) of password into out, which
 * needs about 128 bytes.  0, FTPS_EPARSE (empty password), FTPS_ETOOBIG
 * (password longer than FTPS_PASS_MAX, or out too small) or FTPS_ESYS.
 */
int		 auth_hash_password(const char *password, char *out,
		    size_t outlen);

#endif
