/*
 * tests/unit/check_iopool.c: the file I/O pool (iopool.c) shares its
 * threads fairly between owners: one owner's slow jobs never hold every
 * thread, a free thread serves the owner with the fewest running, jobs
 * of one owner start in the order given, and jobs still queued at
 * iopool_free() are delivered cancelled.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <check.h>

#include <event2/event.h>

#include "iopool.h"

Suite		*unit_suite(void);

#define NJOBS	16

struct tjob {
	struct io_job	 job;
	unsigned	 ms;		/* run() sleeps this long */
	double		 started;	/* seconds from the test's start */
	int		 seq;		/* order in which run() began */
	int		 done;
	int		 cancelled;
};

static struct event_base	*base;
static struct iopool		*pool;
static struct tjob		 jobs[NJOBS];
static atomic_int		 running[3];	/* per owner 1..2, and all */
static atomic_int		 peak[3];
static atomic_int		 seq;
static int			 ndone, nwant;
static struct timespec		 t0;

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - t0.tv_sec) +
	    (double)(ts.tv_nsec - t0.tv_nsec) / 1e9;
}

static void
tj_run(struct io_job *job)
{
	struct tjob	*t = job->arg;
	struct timespec	 d;
	int		 o = (int)job->owner, r;

	t->started = now();
	t->seq = atomic_fetch_add(&seq, 1);
	r = atomic_fetch_add(&running[o], 1) + 1;
	/* Peak of this owner's jobs running at once. */
	for (int p = atomic_load(&peak[o]); r > p &&
	    !atomic_compare_exchange_weak(&peak[o], &p, r);)
		;
	d.tv_sec = t->ms / 1000;
	d.tv_nsec = (long)(t->ms % 1000) * 1000000L;
	nanosleep(&d, NULL);
	atomic_fetch_sub(&running[o], 1);
}

static void
tj_done(struct io_job *job)
{
	struct tjob	*t = job->arg;

	t->done = 1;
	t->cancelled = job->cancelled;
	if (++ndone == nwant)
		event_base_loopbreak(base);
}

/* The most jobs of owner that ran at once. */
static int
peak_of(int owner)
{
	return atomic_load(&peak[owner]);
}

static void
submit(int i, uint64_t owner, unsigned ms)
{
	jobs[i].ms = ms;
	jobs[i].job.run = tj_run;
	jobs[i].job.done = tj_done;
	jobs[i].job.arg = &jobs[i];
	jobs[i].job.owner = owner;
	iopool_submit(pool, &jobs[i].job);
}

/* Runs the loop until nwant jobs were delivered (10 s at most). */
static void
run_loop(void)
{
	struct timeval	 tv = { 10, 0 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	ck_assert_int_eq(ndone, nwant);
}

static void
setup(unsigned nthreads)
{
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < 3; i++) {
		atomic_store(&running[i], 0);
		atomic_store(&peak[i], 0);
	}
	atomic_store(&seq, 0);
	ndone = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_int_eq(iopool_new(base, nthreads, &pool), 0);
}

static void
teardown(void)
{
	iopool_free(pool);
	event_base_free(base);
}

START_TEST(slow_owner_leaves_a_thread)
{
	int	 i;

	/* Owner 1: eight jobs of 150 ms on a pool of four threads. */
	setup(4);
	for (i = 0; i < 8; i++)
		submit(i, 1, 150);
	submit(8, 2, 0);
	nwant = 9;
	run_loop();
	/* At most three at once; owner 2 started at once, not after 300 ms. */
	ck_assert_int_eq(peak_of(1), 3);
	ck_assert_msg(jobs[8].started < 0.1, "owner 2 waited %.3f s",
	    jobs[8].started);
	/* Owner 1's jobs began in the order given. */
	for (i = 1; i < 8; i++)
		ck_assert_int_lt(jobs[i - 1].seq, jobs[i].seq);
	for (i = 0; i < 9; i++)
		ck_assert_int_eq(jobs[i].cancelled, 0);
	teardown();
}
END_TEST

START_TEST(fewest_running_first)
{
	int	 i;

	/*
	 * Two threads, so one job of an owner at a time.  Owner 1 queued four
	 * jobs before owner 2's two: they alternate instead of owner 2
	 * waiting for all of owner 1's.
	 */
	setup(2);
	for (i = 0; i < 4; i++)
		submit(i, 1, 60);
	submit(4, 2, 60);
	submit(5, 2, 60);
	nwant = 6;
	run_loop();
	ck_assert_int_eq(peak_of(1), 1);
	ck_assert_int_eq(peak_of(2), 1);
	ck_assert_msg(jobs[5].started < jobs[2].started,
	    "owner 2's second job began at %.3f s, owner 1's third at %.3f s",
	    jobs[5].started, jobs[2].started);
	teardown();
}
END_TEST

START_TEST(one_thread_runs_everything)
{
	int	 i;

	setup(1);
	ck_assert(iopool_idle(pool));
	for (i = 0; i < 4; i++)
		submit(i, 1 + (uint64_t)(i % 2), 5);
	ck_assert(!iopool_idle(pool));
	nwant = 4;
	run_loop();
	for (i = 0; i < 4; i++)
		ck_assert(jobs[i].done && !jobs[i].cancelled);
	/* Every done() delivered: nothing queued, running or undelivered. */
	ck_assert(iopool_idle(pool));
	teardown();
}
END_TEST

START_TEST(free_delivers_queued_cancelled)
{
	int	 i;

	/* One thread busy for 200 ms; the other three jobs wait. */
	setup(1);
	submit(0, 1, 200);
	for (i = 1; i < 4; i++)
		submit(i, 2, 0);
	nwant = 4;
	while (atomic_load(&seq) == 0) {
		struct timespec	 d = { 0, 1000000 };

		nanosleep(&d, NULL);
	}
	iopool_free(pool);
	ck_assert_int_eq(ndone, 4);
	ck_assert(jobs[0].done && !jobs[0].cancelled);
	for (i = 1; i < 4; i++)
		ck_assert(jobs[i].done && jobs[i].cancelled);
	event_base_free(base);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("iopool");
	TCase	*tc = tcase_create("fair");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, slow_owner_leaves_a_thread);
	tcase_add_test(tc, fewest_running_first);
	tcase_add_test(tc, one_thread_runs_everything);
	tcase_add_test(tc, free_delivers_queued_cancelled);
	suite_add_tcase(s, tc);
	return s;
}
