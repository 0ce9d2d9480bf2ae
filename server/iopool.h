/*
 * File I/O off the loop: a small pool of threads runs jobs that may block
 * on a slow file system (a command's lookups, mkdir, rename...: cmd.h's
 * struct cmd_job; a transfer's open, read, write, fsync, rename) and
 * hands each one back to the loop through an eventfd, as the password
 * pool does (auth.c).  A job is embedded in its owner: no allocation per
 * job, and iopool_submit() cannot fail.
 *
 * Shared fairly: jobs carry the key of the files they touch (a user's
 * home: the session's io_owner).  One key never runs on every thread (at
 * most nthreads - 1 at once), and a free thread takes the oldest queued
 * job of the key with the fewest running, so one user's slow disk or
 * burst of sessions cannot hold another user's transfers and listings.
 */
#ifndef FTPS_IOPOOL_H
#define FTPS_IOPOOL_H

#include <sys/queue.h>

#include <stdint.h>

struct event_base;
struct iopool;

struct io_job {
	TAILQ_ENTRY(io_job)	 entry;
	/* On a worker thread: touches only what the owner set aside. */
	void			(*run)(struct io_job *);
	/*
	 * On the loop, once run() returned, or at iopool_free() for a job
	 * that never ran (cancelled = 1).  May free the owner and the job.
	 */
	void			(*done)(struct io_job *);
	void			*arg;
	uint64_t		 owner;		/* whose files; 0: shared */
	int			 cancelled;
};

/* nthreads threads (0: FTPS_IO_THREADS).  0 or an FTPS_E code. */
int		 iopool_new(struct event_base *, unsigned nthreads,
		    struct iopool **);
/* Queues job; its done() runs on the loop later, never from here. */
void		 iopool_submit(struct iopool *, struct io_job *);
/* 1 when no job is queued, running or waiting for its done(). */
int		 iopool_idle(struct iopool *);
/*
 * Stops the threads (a running job finishes first), then calls done() of
 * every job not yet delivered, queued ones with cancelled = 1.
 */
void		 iopool_free(struct iopool *);

#endif
