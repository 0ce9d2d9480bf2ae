/*
 * What the thread pools share (pool.h).
 */
#include "config.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include <event2/event.h>

#include "err.h"
#include "pool.h"

int
pool_wake_new(struct event_base *base, event_callback_fn cb, void *arg,
    int *efdp, struct event **evp)
{
	*evp = NULL;
	if ((*efdp = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return FTPS_ESYS;
	if ((*evp = event_new(base, *efdp, EV_READ | EV_PERSIST, cb,
	    arg)) == NULL || event_add(*evp, NULL) != 0) {
		if (*evp != NULL)
			event_free(*evp);
		*evp = NULL;
		close(*efdp);
		*efdp = -1;
		return FTPS_ENOMEM;
	}
	return 0;
}

void
pool_wake_post(int efd)
{
	uint64_t	 one = 1;

	/* Only fails when the counter is saturated: a wake is pending. */
	while (write(efd, &one, sizeof(one)) == -1 && errno == EINTR)
		;
}

int
pool_thread_start(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	sigset_t	 all, old;
	int		 e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(tid, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}
