/*
 * Failed logins per client address and temporary bans (ban.h).
 *
 * SECURITY: password guessing spread over many connections: the
 * per-connection limit (max_login_failures) alone lets a guesser
 * reconnect forever.  Each address keeps the times of its recent
 * failures in a ring; ban_failures of them within ban_window seconds ban
 * it.  An attacker with many addresses cannot grow the table past
 * BAN_TRACK_MAX entries: the least recently failed entry that is not
 * banned makes room.  Banned entries sit on a list of their own, so no
 * flood of new addresses can push one out (and lift its ban): when
 * every entry is a running ban, new addresses go untracked instead.
 *
 * The entries come from a fixed pool inside the table, so one table of
 * a known size can live in memory shared by worker processes
 * (ban_share): there, every call holds the table's robust mutex.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <sys/mman.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "addrkey.h"
#include "ban.h"
#include "conf.h"
#include "err.h"
#include "ftpsd.h"
#include "log.h"
#include "shm.h"

/* Log the untracked count at the first one, then every so many. */
#define BAN_UNTRACKED_LOG	1024

struct ban_entry {
	struct ban_entry	*next;		/* hash chain */
	TAILQ_ENTRY(ban_entry)	 lru;		/* on lru or banned, oldest
						 * first */
	unsigned char		 key[ADDR_KEY_LEN];
	int			 onban;		/* on the banned list */
	time_t			 until;		/* banned until; 0: not banned */
	unsigned		 cap;		/* ring size (ban_failures) */
	unsigned		 n;		/* failures in the ring */
	unsigned		 head;		/* the oldest one */
	time_t			 fails[CONF_BAN_FAILURES_MAX];	/* the ring */
};

TAILQ_HEAD(ban_lru, ban_entry);

struct ban_table {
	pthread_mutex_t		 mu;		/* when shared */
	int			 shared;	/* mmap'd by ban_share */
	struct ban_entry	*bucket[BAN_BUCKETS];
	struct ban_lru		 lru;		/* not banned */
	struct ban_lru		 banned;	/* banned (maybe just ended) */
	unsigned		 n;
	unsigned long		 untracked;	/* failures not recorded */
	unsigned char		 seed[ADDR_SEED_LEN];
	struct ban_entry	*free;		/* entries given back */
	unsigned		 used;		/* pool entries ever handed out */
	struct ban_entry	 pool[BAN_TRACK_MAX];
};

/* Forgets everything (a worker died holding the lock). */
static void
ban_reset(struct ban_table *t)
{
	memset(t->bucket, 0, sizeof(t->bucket));
	TAILQ_INIT(&t->lru);
	TAILQ_INIT(&t->banned);
	t->n = t->used = 0;
	t->free = NULL;
}

static void
ban_lock(struct ban_table *t)
{
	if (t->shared && shm_lock(&t->mu) == 1) {
		log_warnx("shared state: a worker died holding the "
		    "failed-login table; starting it afresh");
		ban_reset(t);
	}
}

static void
ban_unlock(struct ban_table *t)
{
	if (t->shared)
		shm_unlock(&t->mu);
}

/* A zeroed entry from the pool, or NULL when all are in use. */
static struct ban_entry *
ban_entry_new(struct ban_table *t)
{
	struct ban_entry	*e;

	if ((e = t->free) != NULL)
		t->free = e->next;
	else if (t->used < BAN_TRACK_MAX)
		e = &t->pool[t->used++];
	else
		return NULL;
	memset(e, 0, offsetof(struct ban_entry, fails));
	return e;
}

static time_t
ban_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static unsigned
ban_hash(const struct ban_table *t, const unsigned char *key)
{
	return (unsigned)(addr_key_hash(t->seed, key) % BAN_BUCKETS);
}

static struct ban_entry *
ban_find(struct ban_table *t, const unsigned char *key)
{
	struct ban_entry	*e;

	for (e = t->bucket[ban_hash(t, key)]; e != NULL; e = e->next)
		if (memcmp(e->key, key, ADDR_KEY_LEN) == 0)
			return e;
	return NULL;
}

static void
ban_remove(struct ban_table *t, struct ban_entry *e)
{
	struct ban_entry	**pp;

	for (pp = &t->bucket[ban_hash(t, e->key)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	TAILQ_REMOVE(e->onban ? &t->banned : &t->lru, e, lru);
	t->n--;
	e->next = t->free;
	t->free = e;
}

/* Puts e last on the list it belongs to now: banned or not. */
static void
ban_touch(struct ban_table *t, struct ban_entry *e, int listed)
{
	if (listed)
		TAILQ_REMOVE(e->onban ? &t->banned : &t->lru, e, lru);
	e->onban = e->until != 0;
	TAILQ_INSERT_TAIL(e->onban ? &t->banned : &t->lru, e, lru);
}

/* Forgets the failures that left the window. */
static void
ban_expire(struct ban_entry *e, time_t now, unsigned window)
{
	while (e->n > 0 && e->fails[e->head] <= now - (time_t)window) {
		e->head = (e->head + 1) % e->cap;
		e->n--;
	}
}

/* Nothing left to remember: no ban running, no failure in the window. */
static int
ban_stale(struct ban_entry *e, time_t now, unsigned window)
{
	if (e->until > now)
		return 0;
	e->until = 0;
	ban_expire(e, now, window);
	return e->n == 0;
}

/*
 * Room for one more entry: bans that ended go first, then the least
 * recently failed entry that is not banned.  -1 when every entry is a
 * running ban: those are never given up.
 */
static int
ban_make_room(struct ban_table *t, time_t now, unsigned window)
{
	struct ban_entry	*e;

	/* Bans end in the order they started (ban_seconds being equal). */
	while ((e = TAILQ_FIRST(&t->banned)) != NULL && e->until <= now) {
		if (ban_stale(e, now, window)) {
			ban_remove(t, e);
			return 0;
		}
		ban_touch(t, e, 1);
	}
	if ((e = TAILQ_FIRST(&t->lru)) == NULL)
		return -1;
	ban_remove(t, e);
	return 0;
}

static struct ban_table *
ban_table(struct ftpsd *ctx)
{
	struct ban_table	*t;

	if (ctx->bans != NULL)
		return ctx->bans;
	/* Large, but untouched pool pages stay unallocated. */
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	TAILQ_INIT(&t->lru);
	TAILQ_INIT(&t->banned);
	if (RAND_bytes(t->seed, sizeof(t->seed)) != 1) {
		free(t);
		return NULL;
	}
	ctx->bans = t;
	return t;
}

int
ban_share(struct ftpsd *ctx)
{
	struct ban_table	*t;

	if (ctx->bans != NULL)
		return FTPS_EPARSE;
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return FTPS_ESYS;
	TAILQ_INIT(&t->lru);
	TAILQ_INIT(&t->banned);
	t->shared = 1;
	if (RAND_bytes(t->seed, sizeof(t->seed)) != 1 ||
	    shm_mutex_init(&t->mu) != 0) {
		munmap(t, sizeof(*t));
		return FTPS_ESYS;
	}
	ctx->bans = t;
	return 0;
}

unsigned
ban_left_at(struct ftpsd *ctx, const struct sockaddr_storage *ss, time_t now)
{
	unsigned char		 key[ADDR_KEY_LEN];
	struct ban_entry	*e;
	unsigned		 left = 0;

	if (ctx->bans == NULL || ctx->conf.ban_seconds == 0 ||
	    addr_key(ss, ctx->conf.ipv6_prefix, key) != 0)
		return 0;
	ban_lock(ctx->bans);
	if ((e = ban_find(ctx->bans, key)) == NULL)
		;
	else if (e->until > now)
		left = (unsigned)(e->until - now);
	else if (ban_stale(e, now, ctx->conf.ban_window))
		ban_remove(ctx->bans, e);
	ban_unlock(ctx->bans);
	return left;
}

int
ban_each(struct ftpsd *ctx, int (*cb)(const unsigned char *, unsigned,
    void *), void *arg)
{
	struct ban_entry	*e;
	time_t			 now = ban_now();
	int			 r = 0;

	if (ctx->bans == NULL || ctx->conf.ban_seconds == 0)
		return 0;
	ban_lock(ctx->bans);
	for (e = TAILQ_FIRST(&ctx->bans->banned); e != NULL && r == 0;
	    e = TAILQ_NEXT(e, lru))
		if (e->until > now)
			r = cb(e->key, (unsigned)(e->until - now), arg);
	ban_unlock(ctx->bans);
	return r;
}

int
ban_lift(struct ftpsd *ctx, const struct sockaddr_storage *ss)
{
	unsigned char		 key[ADDR_KEY_LEN];
	struct ban_entry	*e;
	int			 r = FTPS_EPARSE;

	if (ctx->bans == NULL ||
	    addr_key(ss, ctx->conf.ipv6_prefix, key) != 0)
		return FTPS_EPARSE;
	ban_lock(ctx->bans);
	if ((e = ban_find(ctx->bans, key)) != NULL) {
		if (e->until > ban_now())
			r = 0;
		ban_remove(ctx->bans, e);
	}
	ban_unlock(ctx->bans);
	return r;
}

unsigned
ban_left(struct ftpsd *ctx, const struct sockaddr_storage *ss)
{
	return ban_left_at(ctx, ss, ban_now());
}

/* ban_fail_at with the table locked. */
static int
ban_fail_locked(struct ban_table *t, const struct conf *cf,
    const unsigned char *key, time_t now)
{
	struct ban_entry	*e, *old, *next;
	int			 i;

	/* The least recently failed entries may have nothing left to say. */
	for (old = TAILQ_FIRST(&t->lru), i = 0; old != NULL && i < 2;
	    old = next, i++) {
		next = TAILQ_NEXT(old, lru);
		if (!ban_stale(old, now, cf->ban_window))
			break;
		ban_remove(t, old);
	}
	if ((e = ban_find(t, key)) == NULL) {
		if (t->n >= BAN_TRACK_MAX &&
		    ban_make_room(t, now, cf->ban_window) != 0) {
			if (t->untracked++ % BAN_UNTRACKED_LOG == 0)
				log_warnx("failed-login table full of bans "
				    "(%u addresses): new addresses are not "
				    "tracked (%lu failures so far)",
				    BAN_TRACK_MAX, t->untracked);
			return FTPS_ETOOBIG;
		}
		if ((e = ban_entry_new(t)) == NULL)
			return FTPS_ENOMEM;
		memcpy(e->key, key, ADDR_KEY_LEN);
		e->next = t->bucket[ban_hash(t, key)];
		t->bucket[ban_hash(t, key)] = e;
		ban_touch(t, e, 0);
		t->n++;
	} else if (e->until > now)
		return 0;
	else {
		e->until = 0;
		ban_touch(t, e, 1);
	}
	if (e->cap != cf->ban_failures) {
		/* A reload changed ban_failures: start counting afresh. */
		e->cap = cf->ban_failures;
		e->n = e->head = 0;
	}
	ban_expire(e, now, cf->ban_window);
	e->fails[(e->head + e->n) % e->cap] = now;
	if (++e->n < e->cap)
		return 0;
	e->until = now + (time_t)cf->ban_seconds;
	e->n = e->head = 0;
	ban_touch(t, e, 1);
	return 1;
}

int
ban_fail_at(struct ftpsd *ctx, const struct sockaddr_storage *ss, time_t now)
{
	const struct conf	*cf = &ctx->conf;
	unsigned char		 key[ADDR_KEY_LEN];
	struct ban_table	*t;
	int			 r;

	if (cf->ban_seconds == 0 || cf->ban_failures == 0 ||
	    cf->ban_failures > CONF_BAN_FAILURES_MAX ||
	    addr_key(ss, cf->ipv6_prefix, key) != 0)
		return 0;
	if ((t = ban_table(ctx)) == NULL)
		return FTPS_ENOMEM;
	ban_lock(t);
	r = ban_fail_locked(t, cf, key, now);
	ban_unlock(t);
	return r;
}

int
ban_fail(struct ftpsd *ctx, const struct sockaddr_storage *ss)
{
	return ban_fail_at(ctx, ss, ban_now());
}

unsigned
ban_count(const struct ftpsd *ctx)
{
	unsigned	 n;

	if (ctx->bans == NULL)
		return 0;
	ban_lock(ctx->bans);
	n = ctx->bans->n;
	ban_unlock(ctx->bans);
	return n;
}

unsigned long
ban_untracked(const struct ftpsd *ctx)
{
	unsigned long	 n;

	if (ctx->bans == NULL)
		return 0;
	ban_lock(ctx->bans);
	n = ctx->bans->untracked;
	ban_unlock(ctx->bans);
	return n;
}

void
ban_free(struct ftpsd *ctx)
{
	struct ban_table	*t = ctx->bans;

	if (t == NULL)
		return;
	if (t->shared)
		munmap(t, sizeof(*t));
	else
		free(t);
	ctx->bans = NULL;
}
