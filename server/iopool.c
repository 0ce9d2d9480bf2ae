/*
 * The file I/O pool (iopool.h).  Jobs move queue -> a worker -> done
 * under pool->mtx; the loop takes the done list whole when the eventfd
 * says so and calls each done() in order.  Workers wait on a semaphore,
 * not a condition variable: glibc's pthread_cond_signal() may wait for
 * descheduled waiters, and the loop must never wait for a worker.
 *
 * Fairness (iopool.h): running[] holds the owner key of each busy
 * thread.  Every event that can make a queued job runnable posts the
 * semaphore (a submit; a finished job while others are queued), and a
 * worker woken with nothing it may take goes back to waiting, so no job
 * is forgotten and none spins.
 */
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "err.h"
#include "ftpsd.h"
#include "iopool.h"
#include "log.h"
#include "pool.h"

TAILQ_HEAD(io_list, io_job);

struct iopool {
	struct event	*ev;
	int		 efd;
	pthread_mutex_t	 mtx;
	sem_t		 sem;		/* one post per job, or to stop */
	struct io_list	 queue;		/* mtx */
	struct io_list	 done;		/* mtx */
	int		 stopping;	/* mtx */
	uint64_t	*running;	/* mtx: owner per busy thread */
	unsigned	 nrunning;	/* mtx */
	unsigned	 cap;		/* jobs of one owner at once */
	pthread_t	*tids;
	unsigned	 nthreads;	/* started */
};

/* Jobs of owner running now (mtx held). */
static unsigned
io_running(const struct iopool *pool, uint64_t owner)
{
	unsigned	 i, n = 0;

	for (i = 0; i < pool->nrunning; i++)
		n += pool->running[i] == owner;
	return n;
}

/*
 * The queued job a free thread takes (mtx held): the oldest of the owner
 * with the fewest running, never one whose owner has cap running; NULL
 * when nothing may run now.  The shared owner 0 is not capped.
 */
static struct io_job *
io_pick(struct iopool *pool)
{
	struct io_job	*job, *best = NULL;
	unsigned	 n, best_n = UINT32_MAX;

	for (job = TAILQ_FIRST(&pool->queue); job != NULL;
	    job = TAILQ_NEXT(job, entry)) {
		n = job->owner == 0 ? 0 : io_running(pool, job->owner);
		if (n >= pool->cap && job->owner != 0)
			continue;
		if (n < best_n) {
			best = job;
			if ((best_n = n) == 0)
				break;
		}
	}
	if (best != NULL) {
		TAILQ_REMOVE(&pool->queue, best, entry);
		pool->running[pool->nrunning++] = best->owner;
	}
	return best;
}

/* A job of owner is done: its thread is free again (mtx held). */
static void
io_unrun(struct iopool *pool, uint64_t owner)
{
	unsigned	 i;

	for (i = 0; i < pool->nrunning; i++)
		if (pool->running[i] == owner) {
			pool->running[i] = pool->running[--pool->nrunning];
			return;
		}
}

static void *
io_worker_main(void *arg)
{
	struct iopool	*pool = arg;
	struct io_job	*job;
	uint64_t	 owner;
	int		 more;

	for (;;) {
		while (sem_wait(&pool->sem) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&pool->mtx);
		if (pool->stopping) {
			pthread_mutex_unlock(&pool->mtx);
			break;
		}
		job = io_pick(pool);
		pthread_mutex_unlock(&pool->mtx);
		if (job == NULL)
			continue;
		owner = job->owner;
		job->run(job);
		pthread_mutex_lock(&pool->mtx);
		io_unrun(pool, owner);
		TAILQ_INSERT_TAIL(&pool->done, job, entry);
		/* A job of this owner may have waited for this thread. */
		more = !TAILQ_EMPTY(&pool->queue);
		pthread_mutex_unlock(&pool->mtx);
		if (more)
			sem_post(&pool->sem);
		pool_wake_post(pool->efd);
	}
	return NULL;
}

/* Calls done() of every job on list, in order; each may free itself. */
static void
io_deliver(struct io_list *list)
{
	struct io_job	*job;

	while ((job = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, job, entry);
		job->done(job);
	}
}

static void
io_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct iopool	*pool = arg;
	struct io_list	 list;
	uint64_t	 v;

	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		log_warn("iopool: eventfd read");
	TAILQ_INIT(&list);
	pthread_mutex_lock(&pool->mtx);
	TAILQ_CONCAT(&list, &pool->done, entry);
	pthread_mutex_unlock(&pool->mtx);
	io_deliver(&list);
}

void
iopool_submit(struct iopool *pool, struct io_job *job)
{
	pthread_mutex_lock(&pool->mtx);
	/* Stopping: it will never run; iopool_free() delivers it. */
	job->cancelled = pool->stopping;
	TAILQ_INSERT_TAIL(&pool->queue, job, entry);
	pthread_mutex_unlock(&pool->mtx);
	sem_post(&pool->sem);
}

int
iopool_idle(struct iopool *pool)
{
	int	 idle;

	pthread_mutex_lock(&pool->mtx);
	idle = TAILQ_EMPTY(&pool->queue) && pool->nrunning == 0 &&
	    TAILQ_EMPTY(&pool->done);
	pthread_mutex_unlock(&pool->mtx);
	return idle;
}

int
iopool_new(struct event_base *base, unsigned nthreads, struct iopool **poolp)
{
	struct iopool	*pool;
	unsigned	 i;
	int		 e, r = 0;

	*poolp = NULL;
	if (nthreads == 0)
		nthreads = FTPS_IO_THREADS;
	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return FTPS_ENOMEM;
	pool->efd = -1;
	TAILQ_INIT(&pool->queue);
	TAILQ_INIT(&pool->done);
	if ((e = pthread_mutex_init(&pool->mtx, NULL)) != 0) {
		free(pool);
		errno = e;
		return FTPS_ESYS;
	}
	if (sem_init(&pool->sem, 0, 0) == -1) {
		e = errno;
		pthread_mutex_destroy(&pool->mtx);
		free(pool);
		errno = e;
		return FTPS_ESYS;
	}
	pool->cap = nthreads > 1 ? nthreads - 1 : 1;
	if ((pool->tids = calloc(nthreads, sizeof(*pool->tids))) == NULL ||
	    (pool->running = calloc(nthreads, sizeof(*pool->running))) ==
	    NULL) {
		r = FTPS_ENOMEM;
		goto out;
	}
	if ((r = pool_wake_new(base, io_wake_cb, pool, &pool->efd,
	    &pool->ev)) != 0)
		goto out;
	for (i = 0; i < nthreads; i++) {
		if ((e = pool_thread_start(&pool->tids[i], io_worker_main,
		    pool)) != 0) {
			errno = e;
			r = FTPS_ESYS;
			break;
		}
		pool->nthreads++;
	}
 out:
	if (r != 0) {
		e = errno;
		iopool_free(pool);
		errno = e;
		return r;
	}
	*poolp = pool;
	return 0;
}

void
iopool_free(struct iopool *pool)
{
	struct io_job	*job;
	unsigned	 i;

	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->mtx);
	pool->stopping = 1;
	pthread_mutex_unlock(&pool->mtx);
	for (i = 0; i < pool->nthreads; i++)
		sem_post(&pool->sem);
	for (i = 0; i < pool->nthreads; i++)
		pthread_join(pool->tids[i], NULL);
	/* No thread left: the lists are the loop's alone now. */
	for (job = TAILQ_FIRST(&pool->queue); job != NULL;
	    job = TAILQ_NEXT(job, entry))
		job->cancelled = 1;
	io_deliver(&pool->done);
	io_deliver(&pool->queue);
	if (pool->ev != NULL)
		event_free(pool->ev);
	if (pool->efd != -1)
		close(pool->efd);
	sem_destroy(&pool->sem);
	pthread_mutex_destroy(&pool->mtx);
	free(pool->running);
	free(pool->tids);
	free(pool);
}
