/*
 * Worker processes (workers = auto | N, N > 1).  The master binds the
 * ports as root, one socket per worker and port with SO_REUSEPORT (the
 * kernel spreads new connections over them), or shares the sockets
 * systemd passed; drops root like a single process; maps the shared
 * session counts (shm.h) and failed-login table (ban_share); and forks
 * the workers.  Each worker keeps its own socket set, closes the others
 * and runs its own event loop: a session, its passive ports and its
 * data connections never leave the worker that accepted it.
 *
 * The master serves nobody.  It forwards SIGHUP (as SIGUSR1, after
 * reloading its own copy of the state, so a respawned worker starts from
 * the new one) and SIGTERM/SIGINT (as SIGUSR2: the graceful stop), reaps
 * workers, logs how each died, releases the session counts a dead worker
 * held and starts it again with a back-off; a worker that dies within
 * WK_FAST_SECS of starting WK_FAILS_MAX times in a row is given up.  It
 * tells the service manager READY=1 once every worker is up, STOPPING=1
 * and STATUS= with the worker count.
 */
#ifndef FTPS_WORKER_H
#define FTPS_WORKER_H

#include <stdio.h>

struct conf;
struct ftpsd;

#define WK_FAST_SECS	10	/* dying sooner counts as a failed start */
#define WK_FAILS_MAX	5	/* failed starts in a row before giving up */
#define WK_RESPAWN_MS	100	/* first back-off, doubled per failed start */
#define WK_RESPAWN_MAX_MS 10000
#define WK_KILL_GRACE	5	/* s past shutdown_timeout before SIGKILL */

/*
 * Workers to run: workers, or for auto the online CPUs (no more than
 * sched_getaffinity allows), between 1 and CONF_WORKERS_MAX.
 */
unsigned wk_count(const struct conf *);
/*
 * Before dropping root: binds one socket set per worker (after checking
 * that nobody else listens on the ports), or keeps the passed sockets
 * for all.  0, or an error printed to errf.
 */
int	 wk_prepare(struct ftpsd *, unsigned n, FILE *errf);
/*
 * Maps the shared state and forks the workers.  Returns 0 in a worker,
 * which then serves as a single process would; returns 1 in the master
 * once it is done, with the exit code in *rc.
 */
int	 wk_run(struct ftpsd *, int *rc);
/* Frees the master's state (closes the socket sets it kept). */
void	 wk_free(struct ftpsd *);

#endif
