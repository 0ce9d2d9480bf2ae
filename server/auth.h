/*
 * Accounts: the users file and password checks.
 *
 * users_file lines are "name:hash:home:perms[:more fields]" with crypt(3)
 * hashes (yescrypt, bcrypt, sha512crypt); perms is "r" or "rw".  '#'
 * comments and blank lines are skipped.  A malformed line is reported as
 * "FILE:LINE: message" and that user is not loaded; the rest load.
 *
 * Hashing takes tens of milliseconds, so checks run on a small thread pool
 * and complete back on the event loop.
 */
#ifndef FTPS_AUTH_H
#define FTPS_AUTH_H

#include <stdio.h>

struct event_base;

#define PERM_READ	0x01
#define PERM_WRITE	0x02

struct user {
	char		*name;		/* owned */
	char		*hash;		/* owned; crypt(3) form */
	char		*home;		/* owned; absolute */
	unsigned	 perms;		/* PERM_* */
};

struct userdb;

/* 0, FTPS_ESYS (file unreadable, reason printed) or FTPS_ENOMEM. */
int		 auth_users_load(const char *path, struct userdb **,
		    FILE *errf);
/* NULL when absent.  Valid until auth_users_free(). */
const struct user *auth_user_find(const struct userdb *, const char *name);
size_t		 auth_users_count(const struct userdb *);
void		 auth_users_free(struct userdb *);
/* A deep copy a session can keep across a reload; NULL on ENOMEM. */
struct user	*auth_user_dup(const struct user *);
void		 auth_user_free(struct user *);

struct auth_pool;
struct auth_job;

/* ok is 1 when the password matched, else 0.  Runs on the loop thread. */
typedef void	(*auth_done_cb)(int ok, void *arg);

int		 auth_pool_new(struct event_base *, unsigned nthreads,
		    struct auth_pool **);
/* Cancels pending jobs (their callbacks never run) and joins threads. */
void		 auth_pool_free(struct auth_pool *);
/*
 * Queues a check of password against hash.  hash NULL (unknown user) is
 * checked against a dummy hash of the same cost and always fails, so the
 * reply timing does not tell which names exist.  The password is copied
 * and cleansed after use.  0, FTPS_ETOOBIG (queue full) or FTPS_ENOMEM.
 */
int		 auth_check(struct auth_pool *, const char *hash,
		    const char *password, auth_done_cb, void *arg,
		    struct auth_job **);
/* The callback of job will never run; the job is freed by the pool. */
void		 auth_cancel(struct auth_job *);

/* A yescrypt hash of password into out.  0 or FTPS_ESYS. */
int		 auth_hash_password(const char *password, char *out,
		    size_t outlen);

#endif
