/*
 * Worker processes: the master's side (worker.h).  The master runs no
 * event loop: it blocks its signals, reads them from a signalfd and
 * polls that and the pipe on which workers say they are up.
 */
#define _GNU_SOURCE	/* sched_getaffinity, CPU_COUNT */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ban.h"
#include "conf.h"
#include "ctl.h"
#include "err.h"
#include "ftpsd.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "ops.h"
#include "sdnotify.h"
#include "shm.h"
#include "worker.h"

_Static_assert(CONF_WORKERS_MAX <= SHM_WORKERS_MAX, "shared counts fit");

struct wk_slot {
	pid_t			 pid;		/* 0: not running */
	int			 ready;
	int			 gone;		/* given up */
	unsigned		 fails;		/* failed starts in a row */
	long long		 started_ms;
	long long		 respawn_ms;	/* 0: none pending */
	struct listenerq	 set;		/* its sockets (not shared) */
};

struct wk_master {
	unsigned		 n;
	pid_t			 self;
	int			 shared_set;	/* socket activation */
	int			 sfd;		/* signalfd */
	int			 rpipe[2];	/* workers say "up" */
	int			 stopping;
	int			 announced;	/* READY=1 sent */
	long long		 kill_ms;	/* SIGKILL what is left then */
	sigset_t		 oldmask;
	struct wk_slot		 slot[CONF_WORKERS_MAX];
};

static long long
wk_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned
wk_count(const struct conf *cf)
{
	cpu_set_t	 set;
	long		 n;
	int		 aff;

	if (cf->workers != CONF_WORKERS_AUTO)
		return cf->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    (aff = CPU_COUNT(&set)) > 0 && (n < 1 || aff < n))
		n = aff;
	if (n < 1)
		n = 1;
	if (n > CONF_WORKERS_MAX)
		n = CONF_WORKERS_MAX;
	return (unsigned)n;
}

static void
wk_close_set(struct listenerq *q)
{
	struct listener	*l;

	while ((l = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, l, entry);
		if (l->fd != -1)
			close(l->fd);
		free(l);
	}
}

int
wk_prepare(struct ftpsd *ctx, unsigned n, FILE *errf)
{
	struct wk_master	*m;
	unsigned		 i;
	int			 r;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return FTPS_ENOMEM;
	m->n = n;
	m->sfd = m->rpipe[0] = m->rpipe[1] = -1;
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		TAILQ_INIT(&m->slot[i].set);
	ctx->master = m;
	if (ctx->activated) {
		/* The passed sockets serve every worker (no SO_REUSEPORT). */
		m->shared_set = 1;
		return 0;
	}
	/*
	 * SECURITY: port hijacking: SO_REUSEPORT would let our sockets
	 * join a group another program of the same user already listens
	 * in.  A plain bind first proves the ports are free.
	 */
	if ((r = lst_bind_all(ctx, errf)) != 0)
		return r;
	lst_free_all(ctx);
	ctx->reuseport = 1;
	for (i = 0; i < n; i++) {
		if ((r = lst_bind_all(ctx, errf)) != 0)
			return r;
		TAILQ_CONCAT(&m->slot[i].set, &ctx->listeners, entry);
	}
	return 0;
}

void
wk_free(struct ftpsd *ctx)
{
	struct wk_master	*m = ctx->master;
	unsigned		 i;

	if (m == NULL)
		return;
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		wk_close_set(&m->slot[i].set);
	if (m->sfd != -1)
		close(m->sfd);
	if (m->rpipe[0] != -1)
		close(m->rpipe[0]);
	if (m->rpipe[1] != -1)
		close(m->rpipe[1]);
	free(m);
	ctx->master = NULL;
}

/* In the child after fork(): becomes worker i (0-based). */
static void
wk_become(struct ftpsd *ctx, unsigned i)
{
	struct wk_master	*m = ctx->master;
	unsigned		 j;

	/* SECURITY: no orphans: the master's death stops the worker. */
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) == -1 || getppid() != m->self)
		_exit(1);
	close(m->sfd);
	close(m->rpipe[0]);
	m->sfd = m->rpipe[0] = -1;
	ctx->ready_fd = m->rpipe[1];
	m->rpipe[1] = -1;
	if (!m->shared_set)
		TAILQ_CONCAT(&ctx->listeners, &m->slot[i].set, entry);
	for (j = 0; j < CONF_WORKERS_MAX; j++)
		wk_close_set(&m->slot[j].set);
	/* Only the master speaks to the service manager. */
	if (ctx->notify_fd != -1)
		close(ctx->notify_fd);
	ctx->notify_fd = -1;
	ctx->worker = i + 1;
	snprintf(ctx->log_ident, sizeof(ctx->log_ident), "ftpsd/w%u", i + 1);
	log_init(ctx->log_ident, ops_log_dest(ctx), ctx->conf.log_debug ?
	    LOG_LVL_DEBUG : LOG_LVL_INFO);
	sigprocmask(SIG_SETMASK, &m->oldmask, NULL);
	free(m);
	ctx->master = NULL;
}

/* Forks worker i: 1 in the child (now that worker), else 0. */
static int
wk_spawn(struct ftpsd *ctx, unsigned i)
{
	struct wk_master	*m = ctx->master;
	struct wk_slot		*w = &m->slot[i];
	pid_t			 pid;

	w->respawn_ms = 0;
	w->ready = 0;
	if ((pid = fork()) == -1) {
		log_msg_errno(LOG_LVL_ERR, "worker %u: fork, trying again "
		    "in %d ms", i + 1, WK_RESPAWN_MAX_MS);
		w->respawn_ms = wk_now_ms() + WK_RESPAWN_MAX_MS;
		return 0;
	}
	if (pid == 0) {
		wk_become(ctx, i);
		return 1;
	}
	w->pid = pid;
	w->started_ms = wk_now_ms();
	log_info("worker %u started (pid %ld)", i + 1, (long)pid);
	return 0;
}

static unsigned
wk_running(const struct wk_master *m)
{
	unsigned	 i, n = 0;

	for (i = 0; i < m->n; i++)
		if (m->slot[i].pid > 0)
			n++;
	return n;
}

static void
wk_status(struct ftpsd *ctx)
{
	struct wk_master	*m = ctx->master;
	unsigned		 i, up = 0, want = 0;

	for (i = 0; i < m->n; i++) {
		if (!m->slot[i].gone)
			want++;
		if (m->slot[i].pid > 0 && m->slot[i].ready)
			up++;
	}
	if (m->stopping)
		return;
	if (!m->announced && up == want && want > 0) {
		m->announced = 1;
		log_info("ready: %u workers", up);
		sdn_send(ctx->notify_fd, "READY=1\nSTATUS=Ready: %u workers",
		    up);
	} else if (m->announced && up == m->n)
		sdn_send(ctx->notify_fd, "STATUS=Ready: %u workers", up);
	else if (m->announced)
		sdn_send(ctx->notify_fd, "STATUS=Ready: %u of %u workers "
		    "running", up, m->n);
}

static void
wk_signal_all(struct wk_master *m, int sig)
{
	unsigned	 i;

	for (i = 0; i < m->n; i++)
		if (m->slot[i].pid > 0)
			kill(m->slot[i].pid, sig);
}

/* A worker is gone: say how, release its counts, plan its return. */
static void
wk_reaped(struct ftpsd *ctx, unsigned i, int st)
{
	struct wk_master	*m = ctx->master;
	struct wk_slot		*w = &m->slot[i];
	long long		 now = wk_now_ms(), delay;
	char			 how[96];
	unsigned		 held;
	long			 pid = (long)w->pid;

	w->pid = 0;
	w->ready = 0;
	if (WIFSIGNALED(st))
		snprintf(how, sizeof(how), "was killed by signal %d (%s)%s",
		    WTERMSIG(st), strsignal(WTERMSIG(st)),
		    WCOREDUMP(st) ? ", core dumped" : "");
	else
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(st));
	held = shm_release_worker(ctx->counts, i);
	ctl_worker_gone(ctx, i + 1);
	if (m->stopping) {
		log_info("worker %u (pid %ld) %s", i + 1, pid, how);
		return;
	}
	if (now - w->started_ms < WK_FAST_SECS * 1000)
		w->fails++;
	else
		w->fails = 0;
	if (w->fails >= WK_FAILS_MAX) {
		w->gone = 1;
		/* Its sockets would queue connections nobody accepts. */
		wk_close_set(&w->set);
		log_err("worker %u (pid %ld) %s, %u times in a row within %d s "
		    "of starting: not started again; %u of %u workers running",
		    i + 1, pid, how, w->fails, WK_FAST_SECS,
		    wk_running(m), m->n);
	} else {
		delay = (long long)WK_RESPAWN_MS << w->fails;
		if (delay > WK_RESPAWN_MAX_MS)
			delay = WK_RESPAWN_MAX_MS;
		w->respawn_ms = now + delay;
		mt_inc(ctx, MT_RESTARTS);
		log_err("worker %u (pid %ld) %s unexpectedly (%u session%s "
		    "released); starting it again in %lld ms", i + 1, pid,
		    how, held, held == 1 ? "" : "s", delay);
	}
	wk_status(ctx);
}

static void
wk_reap(struct ftpsd *ctx)
{
	struct wk_master	*m = ctx->master;
	unsigned		 i;
	pid_t			 pid;
	int			 st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (i = 0; i < m->n; i++)
			if (m->slot[i].pid == pid) {
				wk_reaped(ctx, i, st);
				break;
			}
}

static void
wk_stop(struct ftpsd *ctx, int sig)
{
	struct wk_master	*m = ctx->master;
	unsigned		 i;

	if (m->stopping) {
		log_info("signal %d again: workers end their transfers now",
		    sig);
		wk_signal_all(m, SIGUSR2);
		return;
	}
	m->stopping = 1;
	ctx->stopping = 1;
	sdn_send(ctx->notify_fd, "STOPPING=1\nSTATUS=Shutting down");
	log_info("signal %d: stopping %u workers", sig, wk_running(m));
	/* Nobody would accept what the kernel queues on them now. */
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		wk_close_set(&m->slot[i].set);
	lst_free_all(ctx);
	wk_signal_all(m, SIGUSR2);
	m->kill_ms = wk_now_ms() + ((long long)ctx->conf.shutdown_timeout +
	    WK_KILL_GRACE) * 1000 + FTPS_STOP_GRACE_MS;
}

static void
wk_reload(struct ftpsd *ctx)
{
	struct wk_master	*m = ctx->master;

	if (m->stopping)
		return;
	/* The master's copy first: a worker started later gets it. */
	if (ops_reload(ctx) == 0)
		wk_status(ctx);
	log_info("reload: asking %u workers to reload", wk_running(m));
	wk_signal_all(m, SIGUSR1);
}

/* Reads what the signalfd holds; -1 on an unexpected error. */
static int
wk_signals(struct ftpsd *ctx)
{
	struct signalfd_siginfo	 si;
	ssize_t			 r;

	while ((r = read(ctx->master->sfd, &si, sizeof(si))) ==
	    (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			wk_reap(ctx);
			break;
		case SIGHUP:
			wk_reload(ctx);
			break;
		default:
			wk_stop(ctx, (int)si.ssi_signo);
			break;
		}
	}
	if (r == -1 && errno != EAGAIN && errno != EINTR) {
		log_msg_errno(LOG_LVL_ERR, "signalfd");
		return -1;
	}
	return 0;
}

static void
wk_readies(struct ftpsd *ctx)
{
	struct wk_master	*m = ctx->master;
	unsigned char		 b[64];
	ssize_t			 r, k;

	while ((r = read(m->rpipe[0], b, sizeof(b))) > 0)
		for (k = 0; k < r; k++)
			if (b[k] < m->n && m->slot[b[k]].pid > 0) {
				m->slot[b[k]].ready = 1;
				log_info("worker %u (pid %ld) ready",
				    b[k] + 1u, (long)m->slot[b[k]].pid);
			}
	wk_status(ctx);
}

/* Milliseconds poll may sleep: until the next respawn or the kill. */
static int
wk_timeout(const struct wk_master *m, long long now)
{
	long long	 t = -1, d;
	unsigned	 i;

	if (m->stopping) {
		d = m->kill_ms - now;
		/* Past the kill: SIGKILLed workers are reaped soon. */
		return d <= 0 ? 100 : d > 60000 ? 60000 : (int)d;
	}
	for (i = 0; i < m->n; i++)
		if (m->slot[i].respawn_ms > 0) {
			d = m->slot[i].respawn_ms - now;
			if (d < 0)
				d = 0;
			if (t < 0 || d < t)
				t = d;
		}
	if (t < 0)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

int
wk_run(struct ftpsd *ctx, int *rc)
{
	struct wk_master	*m = ctx->master;
	struct pollfd		 pfd[2];
	sigset_t		 set;
	unsigned		 i, alive;
	long long		 now;
	pid_t			 pid;
	int			 r, killed = 0;

	*rc = 1;
	m->self = getpid();
	if ((r = shm_counts_new(m->n, ctx->conf.ipv6_prefix,
	    &ctx->counts)) != 0 ||
	    (r = ban_share(ctx)) != 0) {
		log_err("cannot map the state workers share: %s",
		    ftps_strerror(r));
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, &m->oldmask) == -1 ||
	    (m->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    pipe2(m->rpipe, O_CLOEXEC) == -1 ||
	    fcntl(m->rpipe[0], F_SETFL, O_NONBLOCK) == -1) {
		log_msg_errno(LOG_LVL_ERR, "cannot set up the master");
		return 1;
	}
	log_info("master (pid %ld): starting %u workers%s", (long)m->self,
	    m->n, m->shared_set ? " on the passed sockets" :
	    " (SO_REUSEPORT)");
	for (i = 0; i < m->n; i++)
		if (wk_spawn(ctx, i))
			return 0;
	for (;;) {
		alive = wk_running(m);
		if (m->stopping && alive == 0)
			break;
		if (!m->stopping) {
			for (i = 0; i < m->n; i++)
				if (!m->slot[i].gone && (m->slot[i].pid > 0 ||
				    m->slot[i].respawn_ms > 0))
					break;
			if (i == m->n) {
				log_err("no worker left: stopping");
				sdn_send(ctx->notify_fd, "STOPPING=1\n"
				    "STATUS=No worker left");
				return 1;
			}
		}
		pfd[0].fd = m->sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = m->rpipe[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, wk_timeout(m, wk_now_ms())) == -1 &&
		    errno != EINTR) {
			log_msg_errno(LOG_LVL_ERR, "poll");
			break;
		}
		if (wk_signals(ctx) != 0)
			break;
		wk_readies(ctx);
		now = wk_now_ms();
		for (i = 0; i < m->n && !m->stopping; i++)
			if (m->slot[i].respawn_ms > 0 &&
			    m->slot[i].respawn_ms <= now &&
			    wk_spawn(ctx, i))
				return 0;
		if (m->stopping && !killed && now >= m->kill_ms &&
		    wk_running(m) > 0) {
			log_err("workers still running %u s after "
			    "shutdown_timeout: killing them", WK_KILL_GRACE);
			wk_signal_all(m, SIGKILL);
			killed = 1;
		}
	}
	if (wk_running(m) > 0) {
		wk_signal_all(m, SIGKILL);
		do
			pid = waitpid(-1, NULL, 0);
		while (pid > 0);
	}
	log_info("stopped");
	*rc = 0;
	return 1;
}
