/*
 * The password pool: crypt(3) checks on a few threads, queued fairly per
 * client address, completed back on the event loop (authpool.h).  The
 * thread and wake-up plumbing is shared with the file pool (pool.c).
 */
#include "config.h"

#include <sys/queue.h>

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "addrkey.h"
#include "authcache.h"
#include "authpool.h"
#include "err.h"
#include "ftps_limits.h"
#include "log.h"
#include "parse.h"
#include "pool.h"

/*
 * Password checks
 *
 * Jobs move queue -> a worker -> done, all under pool->mtx.  The loop
 * thread alone frees jobs and counts them (npending), so a cancelled job
 * that a worker is running is simply skipped when it reaches done.
 *
 * SECURITY: login floods: the queue is one queue per client address
 * (flow), not one first-come first-served line.  A free worker takes
 * the oldest job of the flow that used the fewest checks lately (a count
 * halved every AUTH_FLOW_HALFLIFE_MS), so an address that sends wrong
 * passwords without pause only delays itself and others like it: a
 * login from a quiet address waits for at most the checks already
 * running.  Flows are remembered while idle (that is what "lately"
 * needs), at most AUTH_FLOWS_MAX of them; the least recently used idle
 * one makes room.
 */

#define AUTH_FLOWS_MAX		4096	/* addresses remembered */
#define AUTH_FLOW_BUCKETS	1024	/* hash buckets, power of 2 */
#define AUTH_FLOW_HALFLIFE_MS	10000	/* usage halves in this time */

/* Every flow with a queued job must fit, plus idle ones to evict. */
_Static_assert(AUTH_FLOWS_MAX > FTPS_AUTH_QUEUE_MAX, "AUTH_FLOWS_MAX");
_Static_assert((AUTH_FLOW_BUCKETS & (AUTH_FLOW_BUCKETS - 1)) == 0,
    "AUTH_FLOW_BUCKETS: a power of 2");

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct auth_flow;

struct auth_job {
	TAILQ_ENTRY(auth_job)	 entry;
	struct auth_pool	*pool;
	struct auth_flow	*flow;		/* while queued */
	unsigned long long	 seq;		/* arrival order */
	enum job_state		 state;
	int			 cancelled;
	int			 dummy;		/* check the dummy, fail */
	int			 ok;
	int			 tagged;	/* tag is for cache_gen */
	unsigned long		 cache_gen;
	struct auth_cache_tag	 tag;
	auth_done_cb		 cb;
	void			*arg;
	char			 hash[CRYPT_OUTPUT_SIZE];
	char			 pass[FTPS_PASS_MAX + 1];
};
TAILQ_HEAD(job_list, auth_job);

/* One client address's checks (all fields under pool->mtx). */
struct auth_flow {
	struct auth_flow	*next;		/* hash chain */
	TAILQ_ENTRY(auth_flow)	 entry;		/* active, or idle LRU */
	struct job_list		 jobs;		/* queued, oldest first */
	unsigned char		 key[AUTH_FLOW_LEN];
	uint64_t		 used;		/* checks << 10, decayed */
	int64_t			 used_ms;	/* when used was computed */
};
TAILQ_HEAD(flow_list, auth_flow);

struct auth_worker {
	struct auth_pool	*pool;
	pthread_t		 tid;
	struct crypt_data	 cd;
};

struct auth_pool {
	struct event_base	*base;
	struct event		*ev;
	int			 efd;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv;
	struct flow_list	 active;	/* mtx: flows with jobs */
	struct flow_list	 idle;		/* mtx: LRU first */
	struct auth_flow	*flowtab[AUTH_FLOW_BUCKETS];	/* mtx */
	size_t			 nflows;	/* mtx */
	size_t			 nqueued;	/* mtx */
	unsigned long long	 seq;		/* mtx */
	unsigned char		 seed[ADDR_SEED_LEN];	/* flow hash */
	struct job_list		 done;		/* mtx */
	int			 stopping;	/* mtx */
	size_t			 npending;	/* loop thread only */
	struct auth_worker	*workers;
	unsigned		 nworkers;	/* started */
	char			 dummy[CRYPT_OUTPUT_SIZE];
	/* The login cache: loop thread only. */
	struct auth_cache	*cache;		/* NULL: off */
	unsigned long		 cache_gen;	/* bumped by set_cache */
	int64_t			 cache_ms;	/* entry lifetime */
	int64_t			(*cache_clock)(void);	/* ms, monotonic */
	unsigned long		 cache_hits;
};

static void
job_free(struct auth_job *job)
{
	job->pool->npending--;
	OPENSSL_cleanse(job, sizeof(*job));
	free(job);
}

/* 1 when the password matches job->hash; cleanses the password. */
static int
job_verify(struct auth_job *job, struct crypt_data *cd)
{
	const char	*setting, *out;
	size_t		 n;
	int		 ok = 0;

	setting = job->dummy ? job->pool->dummy : job->hash;
	out = crypt_rn(job->pass, setting, cd, sizeof(*cd));
	if (out != NULL && !job->dummy && out[0] != '*') {
		n = strlen(job->hash);
		/* SECURITY: constant time, no early exit on a prefix. */
		if (strlen(out) == n && CRYPTO_memcmp(out, job->hash, n) == 0)
			ok = 1;
	}
	OPENSSL_cleanse(job->pass, sizeof(job->pass));
	OPENSSL_cleanse(cd, sizeof(*cd));
	return ok;
}

static int64_t
pool_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
flow_bucket(const struct auth_pool *pool, const unsigned char *key)
{
	return (size_t)addr_key_hash(pool->seed, key) &
	    (AUTH_FLOW_BUCKETS - 1);
}

/*
 * The flow's usage now, decayed since it was last computed: halved per
 * whole half-life, linear within one (no libm needed).
 */
static uint64_t
flow_usage(const struct auth_flow *f, int64_t now)
{
	int64_t		 dt = now - f->used_ms, k;
	uint64_t	 u = f->used;

	if (u == 0 || dt <= 0)
		return u;
	if ((k = dt / AUTH_FLOW_HALFLIFE_MS) >= 64)
		return 0;
	u >>= k;
	dt %= AUTH_FLOW_HALFLIFE_MS;
	return u - u * (uint64_t)dt / (2 * AUTH_FLOW_HALFLIFE_MS);
}

static void
flow_unlink(struct auth_pool *pool, struct auth_flow *f)
{
	struct auth_flow	**pp;

	for (pp = &pool->flowtab[flow_bucket(pool, f->key)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	pool->nflows--;
}

/*
 * The flow of key, made active (with mtx held); NULL when out of
 * memory.  A new flow may evict the least recently used idle one.
 */
static struct auth_flow *
flow_get(struct auth_pool *pool, const unsigned char *key)
{
	struct auth_flow	*f;
	size_t			 b = flow_bucket(pool, key);

	for (f = pool->flowtab[b]; f != NULL; f = f->next)
		if (memcmp(f->key, key, AUTH_FLOW_LEN) == 0)
			break;
	if (f != NULL) {
		if (TAILQ_EMPTY(&f->jobs)) {
			TAILQ_REMOVE(&pool->idle, f, entry);
			TAILQ_INSERT_TAIL(&pool->active, f, entry);
		}
		return f;
	}
	if (pool->nflows >= AUTH_FLOWS_MAX &&
	    (f = TAILQ_FIRST(&pool->idle)) != NULL) {
		TAILQ_REMOVE(&pool->idle, f, entry);
		flow_unlink(pool, f);
	} else if ((f = malloc(sizeof(*f))) == NULL)
		return NULL;
	memset(f, 0, sizeof(*f));
	memcpy(f->key, key, AUTH_FLOW_LEN);
	TAILQ_INIT(&f->jobs);
	f->next = pool->flowtab[b];
	pool->flowtab[b] = f;
	pool->nflows++;
	TAILQ_INSERT_TAIL(&pool->active, f, entry);
	return f;
}

/* Takes job off its flow's queue (mtx held). */
static void
flow_take(struct auth_pool *pool, struct auth_job *job)
{
	struct auth_flow	*f = job->flow;

	TAILQ_REMOVE(&f->jobs, job, entry);
	job->flow = NULL;
	pool->nqueued--;
	if (TAILQ_EMPTY(&f->jobs)) {
		TAILQ_REMOVE(&pool->active, f, entry);
		TAILQ_INSERT_TAIL(&pool->idle, f, entry);
	}
}

/*
 * The next job to run (mtx held): the oldest job of the flow with the
 * least usage, which is charged one check; NULL when none is queued.
 */
static struct auth_job *
flow_next(struct auth_pool *pool)
{
	struct auth_flow	*f, *best;
	struct auth_job		*job;
	uint64_t		 u, bestu;
	int64_t			 now = pool_now_ms();

	if ((best = TAILQ_FIRST(&pool->active)) == NULL)
		return NULL;
	bestu = flow_usage(best, now);
	for (f = TAILQ_NEXT(best, entry); f != NULL; f = TAILQ_NEXT(f, entry)) {
		u = flow_usage(f, now);
		if (u < bestu || (u == bestu && TAILQ_FIRST(&f->jobs)->seq <
		    TAILQ_FIRST(&best->jobs)->seq)) {
			best = f;
			bestu = u;
		}
	}
	best->used = bestu + 1024;
	best->used_ms = now;
	job = TAILQ_FIRST(&best->jobs);
	flow_take(pool, job);
	return job;
}

static void
flow_free_all(struct auth_pool *pool)
{
	struct auth_flow	*f;

	while ((f = TAILQ_FIRST(&pool->idle)) != NULL) {
		TAILQ_REMOVE(&pool->idle, f, entry);
		free(f);
	}
	while ((f = TAILQ_FIRST(&pool->active)) != NULL) {
		TAILQ_REMOVE(&pool->active, f, entry);
		free(f);
	}
	memset(pool->flowtab, 0, sizeof(pool->flowtab));
	pool->nflows = 0;
}

/* A full check of a tagged job succeeded: remember it. */
static void
pool_cache_put(struct auth_pool *pool, struct auth_job *job)
{
	if (pool->cache == NULL || !job->tagged ||
	    job->cache_gen != pool->cache_gen)
		return;
	if (auth_cache_insert(pool->cache, &job->tag,
	    (time_t)(pool->cache_clock() + pool->cache_ms)) != 0)
		log_warnx("auth: login cache: out of memory");
}


static void *
auth_worker_main(void *arg)
{
	struct auth_worker	*w = arg;
	struct auth_pool	*pool = w->pool;
	struct auth_job		*job;
	int			 ok;

	pthread_mutex_lock(&pool->mtx);
	for (;;) {
		while (!pool->stopping && pool->nqueued == 0)
			pthread_cond_wait(&pool->cv, &pool->mtx);
		if (pool->stopping)
			break;
		if ((job = flow_next(pool)) == NULL) {
			/* nqueued and the flows disagree: trust the flows. */
			pool->nqueued = 0;
			continue;
		}
		job->state = JOB_RUNNING;
		pthread_mutex_unlock(&pool->mtx);

		/* The job stays allocated: only the loop frees DONE jobs. */
		ok = job_verify(job, &w->cd);

		pthread_mutex_lock(&pool->mtx);
		job->ok = ok;
		job->state = JOB_DONE;
		TAILQ_INSERT_TAIL(&pool->done, job, entry);
		pthread_mutex_unlock(&pool->mtx);
		pool_wake_post(pool->efd);
		pthread_mutex_lock(&pool->mtx);
	}
	pthread_mutex_unlock(&pool->mtx);
	return NULL;
}

/*
 * Delivers at most one callback per call and re-activates itself while
 * more are done: the pool is not touched after a callback, which may
 * cancel other jobs or free the session that owned it.
 */
static void
auth_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct auth_pool	*pool = arg;
	struct auth_job		*job;
	auth_done_cb		 cb;
	void			*cbarg;
	uint64_t		 v;
	int			 ok, more;

	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		log_warn("auth: eventfd read");
	for (;;) {
		pthread_mutex_lock(&pool->mtx);
		if ((job = TAILQ_FIRST(&pool->done)) != NULL)
			TAILQ_REMOVE(&pool->done, job, entry);
		more = !TAILQ_EMPTY(&pool->done);
		pthread_mutex_unlock(&pool->mtx);
		if (job == NULL)
			return;
		if (job->cancelled) {
			job_free(job);
			continue;
		}
		cb = job->cb;
		cbarg = job->arg;
		ok = job->ok;
		if (ok)
			pool_cache_put(pool, job);
		job_free(job);
		if (more)
			event_active(pool->ev, EV_READ, 0);
		cb(ok, cbarg);
		return;
	}
}

/* Stops and joins the started workers; jobs still queued are freed. */
static void
pool_stop(struct auth_pool *pool)
{
	struct auth_flow	*f;
	struct auth_job		*job;
	unsigned		 i;

	pthread_mutex_lock(&pool->mtx);
	pool->stopping = 1;
	while ((f = TAILQ_FIRST(&pool->active)) != NULL) {
		TAILQ_REMOVE(&pool->active, f, entry);
		while ((job = TAILQ_FIRST(&f->jobs)) != NULL) {
			TAILQ_REMOVE(&f->jobs, job, entry);
			job_free(job);
		}
		TAILQ_INSERT_TAIL(&pool->idle, f, entry);
	}
	pool->nqueued = 0;
	flow_free_all(pool);
	pthread_cond_broadcast(&pool->cv);
	pthread_mutex_unlock(&pool->mtx);
	for (i = 0; i < pool->nworkers; i++)
		pthread_join(pool->workers[i].tid, NULL);
	pool->nworkers = 0;
	while ((job = TAILQ_FIRST(&pool->done)) != NULL) {
		TAILQ_REMOVE(&pool->done, job, entry);
		job_free(job);
	}
}

/* The dummy hash for unknown users: default yescrypt cost. */
static int
pool_dummy(struct auth_pool *pool, struct crypt_data *cd)
{
	char		 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	unsigned char	 rnd[16];
	char		 pw[sizeof(rnd) * 2 + 1];
	const char	*out;
	size_t		 i;
	int		 r = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return FTPS_ETLS;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(pw + i * 2, 3, "%02x", rnd[i]);
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL ||
	    (out = crypt_rn(pw, salt, cd, sizeof(*cd))) == NULL ||
	    out[0] == '*')
		r = FTPS_ESYS;
	else
		r = str_copy(pool->dummy, sizeof(pool->dummy), out);
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(rnd, sizeof(rnd));
	OPENSSL_cleanse(cd, sizeof(*cd));
	return r;
}

int
auth_pool_new(struct event_base *base, unsigned nthreads,
    struct auth_pool **poolp)
{
	struct auth_pool	*pool;
	unsigned		 i;
	int			 r = 0, e;

	*poolp = NULL;
	if (nthreads == 0)
		nthreads = FTPS_AUTH_THREADS;
	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return FTPS_ENOMEM;
	pool->base = base;
	pool->cache_clock = pool_now_ms;
	pool->efd = -1;
	TAILQ_INIT(&pool->active);
	TAILQ_INIT(&pool->idle);
	TAILQ_INIT(&pool->done);
	if (RAND_bytes(pool->seed, sizeof(pool->seed)) != 1) {
		free(pool);
		return FTPS_ETLS;
	}
	if ((e = pthread_mutex_init(&pool->mtx, NULL)) != 0) {
		free(pool);
		errno = e;
		return FTPS_ESYS;
	}
	if ((e = pthread_cond_init(&pool->cv, NULL)) != 0) {
		pthread_mutex_destroy(&pool->mtx);
		free(pool);
		errno = e;
		return FTPS_ESYS;
	}
	if ((pool->workers = calloc(nthreads,
	    sizeof(*pool->workers))) == NULL) {
		r = FTPS_ENOMEM;
		goto out;
	}
	if ((r = pool_dummy(pool, &pool->workers[0].cd)) != 0)
		goto out;
	if ((r = pool_wake_new(base, auth_wake_cb, pool, &pool->efd,
	    &pool->ev)) != 0)
		goto out;
	for (i = 0; i < nthreads; i++) {
		pool->workers[i].pool = pool;
		if ((e = pool_thread_start(&pool->workers[i].tid,
		    auth_worker_main, &pool->workers[i])) != 0) {
			errno = e;
			r = FTPS_ESYS;
			break;
		}
		pool->nworkers++;
	}
 out:
	if (r != 0) {
		e = errno;
		auth_pool_free(pool);
		errno = e;
		return r;
	}
	*poolp = pool;
	return 0;
}

void
auth_pool_free(struct auth_pool *pool)
{
	if (pool == NULL)
		return;
	pool_stop(pool);
	auth_cache_free(pool->cache);
	if (pool->ev != NULL)
		event_free(pool->ev);
	if (pool->efd != -1)
		close(pool->efd);
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mtx);
	if (pool->workers != NULL) {
		OPENSSL_cleanse(pool->workers, sizeof(*pool->workers));
		free(pool->workers);
	}
	OPENSSL_cleanse(pool->dummy, sizeof(pool->dummy));
	free(pool);
}

int
auth_check(struct auth_pool *pool, const char *hash, const char *password,
    auth_done_cb cb, void *arg, struct auth_job **jobp)
{
	return auth_check_user(pool, NULL, hash, password, cb, arg, jobp);
}

/*
 * The job passed a lookup in the login cache: it is done already, and is
 * delivered by auth_wake_cb like any other (never from inside the
 * caller's auth_check_user).
 */
static void
pool_cache_hit(struct auth_pool *pool, struct auth_job *job)
{
	OPENSSL_cleanse(job->pass, sizeof(job->pass));
	job->tagged = 0;
	job->ok = 1;
	job->state = JOB_DONE;
	pool->cache_hits++;
	log_debug("auth: password verified by the login cache");
	pool->npending++;
	pthread_mutex_lock(&pool->mtx);
	TAILQ_INSERT_TAIL(&pool->done, job, entry);
	pthread_mutex_unlock(&pool->mtx);
	event_active(pool->ev, EV_READ, 0);
}

int
auth_check_user(struct auth_pool *pool, const char *name, const char *hash,
    const char *password, auth_done_cb cb, void *arg, struct auth_job **jobp)
{
	return auth_check_from(pool, NULL, name, hash, password, cb, arg,
	    jobp);
}

int
auth_check_from(struct auth_pool *pool, const unsigned char *flow,
    const char *name, const char *hash, const char *password,
    auth_done_cb cb, void *arg, struct auth_job **jobp)
{
	static const unsigned char	 noflow[AUTH_FLOW_LEN];
	struct auth_job			*job;
	int				 r;

	*jobp = NULL;
	if (pool->npending >= FTPS_AUTH_QUEUE_MAX)
		return FTPS_ETOOBIG;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return FTPS_ENOMEM;
	job->pool = pool;
	job->cb = cb;
	job->arg = arg;
	job->state = JOB_QUEUED;
	/*
	 * SECURITY: every failure path still costs one hash of the dummy's
	 * cost, so the reply time does not reveal unknown or disabled
	 * accounts (user enumeration).
	 */
	if (str_copy(job->pass, sizeof(job->pass), password) != 0)
		job->dummy = 1;
	if (hash == NULL || hash[0] == '\0' || hash[0] == '!' ||
	    hash[0] == '*' ||
	    str_copy(job->hash, sizeof(job->hash), hash) != 0)
		job->dummy = 1;
	/*
	 * SECURITY: the cache only ever says yes: a miss, whatever its
	 * cause (a wrong password included), takes the full check below,
	 * so failures cost what they cost without the cache.
	 */
	if (pool->cache != NULL && name != NULL && !job->dummy) {
		r = auth_cache_lookup(pool->cache, name, job->hash, job->pass,
		    (time_t)pool->cache_clock(), &job->tag);
		if (r == 1) {
			pool_cache_hit(pool, job);
			*jobp = job;
			return 0;
		}
		job->tagged = r == 0;
		job->cache_gen = pool->cache_gen;
	}
	pthread_mutex_lock(&pool->mtx);
	if ((job->flow = flow_get(pool, flow != NULL ? flow : noflow)) ==
	    NULL) {
		pthread_mutex_unlock(&pool->mtx);
		OPENSSL_cleanse(job, sizeof(*job));
		free(job);
		return FTPS_ENOMEM;
	}
	job->seq = pool->seq++;
	TAILQ_INSERT_TAIL(&job->flow->jobs, job, entry);
	pool->nqueued++;
	pool->npending++;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mtx);
	*jobp = job;
	return 0;
}

int
auth_pool_set_cache(struct auth_pool *pool, unsigned seconds, size_t max)
{
	int	 r = 0;

	/* SECURITY: the old key and entries are wiped, not kept around. */
	auth_cache_free(pool->cache);
	pool->cache = NULL;
	pool->cache_gen++;
	pool->cache_hits = 0;
	pool->cache_ms = (int64_t)seconds * 1000;
	if (seconds > 0 && (r = auth_cache_new(max, &pool->cache)) != 0)
		pool->cache = NULL;
	return r;
}

void
auth_pool_cache_stats(const struct auth_pool *pool, size_t *entries,
    unsigned long *hits)
{
	*entries = auth_cache_count(pool->cache);
	*hits = pool->cache_hits;
}

void
auth_cancel(struct auth_job *job)
{
	struct auth_pool	*pool;
	int			 queued;

	if (job == NULL)
		return;
	pool = job->pool;
	pthread_mutex_lock(&pool->mtx);
	queued = job->state == JOB_QUEUED;
	if (queued)
		flow_take(pool, job);
	job->cancelled = 1;
	job->cb = NULL;
	job->arg = NULL;
	pthread_mutex_unlock(&pool->mtx);
	if (queued)
		job_free(job);
}

size_t
auth_pool_pending(const struct auth_pool *pool)
{
	return pool->npending;
}

int
auth_job_checked(struct auth_job *job)
{
	int	 done;

	pthread_mutex_lock(&job->pool->mtx);
	done = job->state == JOB_DONE;
	pthread_mutex_unlock(&job->pool->mtx);
	return done;
}

void
auth_pool_set_clock(struct auth_pool *pool, int64_t (*now_ms)(void))
{
	pool->cache_clock = now_ms != NULL ? now_ms : pool_now_ms;
}
