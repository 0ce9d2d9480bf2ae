/*
 * Accounts: the users file and password checks.
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
 * Hashing takes tens of milliseconds, so checks run on a small thread pool
 * and complete back on the event loop.
 */
#ifndef FTPS_AUTH_H
#define FTPS_AUTH_H

#include <stdio.h>

#include "conf.h"
#include "ftps_limits.h"

struct event_base;

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

struct auth_pool;
struct auth_job;

/* ok is 1 when the password matched, else 0.  Runs on the loop thread. */
typedef void	(*auth_done_cb)(int ok, void *arg);

/*
 * Starts nthreads workers (0: FTPS_AUTH_THREADS) and makes the dummy hash
 * for unknown users (yescrypt, default cost).  Completions are delivered
 * through an eventfd read by an event on base; evthread_use_pthreads() is
 * not needed.  0, FTPS_ENOMEM, FTPS_ESYS or FTPS_ETLS (no randomness).
 */
int		 auth_pool_new(struct event_base *, unsigned nthreads,
		    struct auth_pool **);
/*
 * Cancels pending jobs (their callbacks never run) and joins threads; a
 * running check is finished first.  Job handles are invalid afterwards.
 * Call from the loop thread, not from inside an auth_done_cb.
 */
void		 auth_pool_free(struct auth_pool *);
/*
 * Queues a check of password against hash.  hash NULL (unknown user) is
 * checked against a dummy hash of the same cost and always fails, so the
 * reply timing does not tell which names exist; so is an empty (cert
 * account) or a disabled ('!' or '*') hash and a password longer than
 * FTPS_PASS_MAX.  The password is copied and cleansed after use.  cb
 * runs once, on the loop thread, unless the job is cancelled first; the
 * job handle is invalid once cb started.
 * 0, FTPS_ETOOBIG (FTPS_AUTH_QUEUE_MAX checks in flight) or FTPS_ENOMEM.
 */
int		 auth_check(struct auth_pool *, const char *hash,
		    const char *password, auth_done_cb, void *arg,
		    struct auth_job **);
/*
 * auth_check() for the account name: with the login cache on
 * (auth_pool_set_cache), a password that passed a full check of this
 * same hash within the cache's lifetime is verified from the cache (cb
 * still runs later, from the loop, never inside this call); anything
 * else takes the full check, and a full check that succeeds is cached.
 * name NULL: no cache, as auth_check().
 */
int		 auth_check_user(struct auth_pool *, const char *name,
		    const char *hash, const char *password, auth_done_cb,
		    void *arg, struct auth_job **);
/*
 * The verified-login cache (server/authcache.h, docs/users.md).  seconds
 * 0 turns it off; otherwise a fresh cache (new random key, no entries) of
 * at most max users (0: AUTH_CACHE_MAX) whose entries live that many
 * seconds after their full check.  Any previous cache is wiped first:
 * call it at start and on every reload (users file re-read).  Checks in
 * flight are not cached.  0, FTPS_ENOMEM or FTPS_ETLS (the cache is then
 * off).
 */
int		 auth_pool_set_cache(struct auth_pool *, unsigned seconds,
		    size_t max);
/* Users in the cache now, and logins it verified since it was set. */
void		 auth_pool_cache_stats(const struct auth_pool *,
		    size_t *entries, unsigned long *hits);
/*
 * From the loop thread, before its callback ran: the callback of job will
 * never run; the job is freed by the pool.  NULL is ignored.
 */
void		 auth_cancel(struct auth_job *);
/* Checks queued, running or awaiting delivery (0: idle). */
size_t		 auth_pool_pending(const struct auth_pool *);

/*
 * A yescrypt hash (default cost, random salt) of password into out, which
 * needs about 128 bytes.  0, FTPS_EPARSE (empty password), FTPS_ETOOBIG
 * (password longer than FTPS_PASS_MAX, or out too small) or FTPS_ESYS.
 */
int		 auth_hash_password(const char *password, char *out,
		    size_t outlen);

#endif
