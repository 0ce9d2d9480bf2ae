/*
 * The password pool: crypt(3) checks of a password against a users-file
 * hash take tens of milliseconds, so they run on a small thread pool and
 * complete back on the event loop.  Unknown and disabled accounts cost
 * the same time as real ones.  Queued fairly per client address.
 */
#ifndef FTPS_AUTHPOOL_H
#define FTPS_AUTHPOOL_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

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
 * auth_check_user() queued in the client's flow: flow is AUTH_FLOW_LEN
 * bytes naming the client's address (or address block); NULL is one
 * shared flow.  A free worker serves the flow with the fewest checks
 * lately first (server/authpool.c), so one address's flood delays only
 * itself.  FTPS_ENOMEM also when the flow cannot be made.
 */
#define AUTH_FLOW_LEN	17
int		 auth_check_from(struct auth_pool *, const unsigned char *flow,
		    const char *name, const char *hash, const char *password,
		    auth_done_cb, void *arg, struct auth_job **);
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
 * 1 once a worker has checked job (or the cache verified it) and its
 * callback only waits for the loop; 0 while queued or running.  For
 * callers that must act on that moment, as the unit tests do.
 */
int		 auth_job_checked(struct auth_job *);
/*
 * The clock the login cache's expiries are read from (milliseconds, any
 * monotonic origin); NULL: CLOCK_MONOTONIC, the default.  Lets a test
 * step over an expiry instead of sleeping through it.
 */
void		 auth_pool_set_clock(struct auth_pool *, int64_t (*)(void));

#endif
