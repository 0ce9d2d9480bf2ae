/*
 * What the thread pools share: the file pool (iopool.c) and the password
 * pool (auth.c).  An eventfd the loop watches (cb runs on the loop after
 * pool_wake_post() from any thread), and threads that never take a signal
 * (signals stay with the loop thread).
 */
#ifndef FTPS_POOL_H
#define FTPS_POOL_H

#include <pthread.h>

#include <event2/event.h>

/* 0, FTPS_ESYS or FTPS_ENOMEM; *efdp = -1 and *evp = NULL on failure. */
int		 pool_wake_new(struct event_base *, event_callback_fn cb,
		    void *arg, int *efdp, struct event **evp);
/* Any thread: cb runs on the loop soon (wakes coalesce). */
void		 pool_wake_post(int efd);
/* fn(arg) on a new thread with every signal blocked; 0 or an errno. */
int		 pool_thread_start(pthread_t *, void *(*fn)(void *), void *);

#endif
