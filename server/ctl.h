/*
 * The control plane (server/ctl.c): the control socket ftpsdctl talks to
 * and the Prometheus endpoint (metrics_listen), across workers.
 *
 * Both sockets are bound as root before privileges drop (ctl_bind): the
 * control socket is a unix socket owned by root and run_as_user's group,
 * mode 0660; metrics_listen a TCP socket.  Every process that serves
 * (the single process, or each worker, which inherit the sockets) accepts
 * on them from its own loop; the master serves nobody.
 *
 * What only a worker knows (its sessions, its password queue; kicking
 * one of its sessions) is asked through shared memory: each serving
 * process has a mailbox (a request, its answer) and an eventfd that wakes
 * its loop, both made before the workers fork.  A request goes to one
 * mailbox at a time, so two ftpsdctl never wait for each other's boxes;
 * a worker that does not answer within CTL_ASK_MS is reported, not
 * waited for.  Counters need no asking (metrics.h); reload signals the
 * master (or the single process) and waits for every process's result.
 *
 * The protocol: one request line (at most CTL_LINE_MAX bytes), then the
 * server answers and closes.  "OK" then records, or "ERR message".  A
 * record is one line of KEY=VALUE fields separated by tabs; a value has
 * backslash, tab and newline escaped as \\, \t and \n.  metrics answers
 * "OK" then the Prometheus text.  ftpsdctl(8) shows the commands.
 */
#ifndef FTPS_CTL_H
#define FTPS_CTL_H

#include <stdio.h>

struct conf;
struct ftpsd;
struct session;

#define CTL_LINE_MAX	512	/* one request line */
#define CTL_READ_MS	5000	/* to send it (HTTP: the whole request) */
#define CTL_ASK_MS	3000	/* a worker's answer */
#define CTL_RELOAD_MS	30000	/* every process's reload result */
#define CTL_PAGE_MAX	(512u * 1024)	/* one worker's answer */
#define CTL_HTTP_MAX	4096	/* one HTTP request, headers included */
#define CTL_CONNS_MAX	16	/* control connections at once, and as
				 * many HTTP ones (separately counted) */
#define CTL_PAUSE_MS	1000	/* accept paused after EMFILE/ENFILE */

/*
 * As root, before privileges drop: binds control_socket (root and
 * run_as_user's group, 0660) and metrics_listen.  A control socket at
 * its built-in default that cannot be made is a warning (ftpsd runs
 * without it); anything else is an error printed to errf.  0 or < 0.
 */
int	 ctl_bind(struct ftpsd *, FILE *errf);
/*
 * ftpsd -t: what ctl_bind() would meet, without binding anything or
 * leaving a file: control_socket's folder exists (or can be made in its
 * parent) and is writable, nothing but a socket is at its path;
 * metrics_listen can be bound (in use by the running ftpsd that answers
 * on control_socket is fine).  Prints each problem to errf naming the
 * key; returns their count (the built-in default control_socket only
 * warns, as at start).
 */
int	 ctl_check(const struct conf *, FILE *errf);
/*
 * Maps what the serving processes share (nworkers of them, or the
 * single process) and the counters; before the workers fork.  0 or < 0.
 */
int	 ctl_prepare(struct ftpsd *, unsigned nworkers);
/* In each serving process, on its loop: watches the sockets and its box. */
int	 ctl_start(struct ftpsd *);
/* Closes this process's part; the process that bound removes the socket. */
void	 ctl_free(struct ftpsd *);

/* A new session's id: unique over all workers. */
unsigned long long ctl_next_id(struct ftpsd *);
/*
 * ops.c, after each reload: its result; why is the first problem (NULL
 * when ok).  The master's (or single process's) result counts.
 */
void	 ctl_reloaded(struct ftpsd *, int ok, const char *why);
/* worker.c: worker w (1-based) died: no box to ask, its gauges 0. */
void	 ctl_worker_gone(struct ftpsd *, unsigned w);

#endif
