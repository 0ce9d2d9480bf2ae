/*
 * The one context object of an ftpsd worker.  Every piece of per-process
 * state hangs off a struct ftpsd: the configuration, the TLS context, the
 * users, the password pool, the listeners and the sessions.  Nothing
 * mutable is global, so one worker per core sharing the ports with
 * SO_REUSEPORT needs no redesign: each worker builds its own struct ftpsd
 * around its own event_base.
 */
#ifndef FTPS_FTPSD_H
#define FTPS_FTPSD_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "conf.h"

struct bufferevent;
struct event;
struct event_base;
struct userdb;
struct auth_pool;
struct iopool;
struct listener;
struct ban_table;
struct session;
struct shm_counts;
struct wk_master;
struct dc_reap;		/* datachan.c: a data connection being closed */
struct sess_hooks;	/* session.h: what ops.c hears about */
struct vhost_set;	/* vhost.h: the [host] sections */

/*
 * Server-only bounds, kept beside the context they size (lib/ftps_limits.h
 * holds the bounds both programs share).
 */
#define FTPS_TICKET_LIFETIME	86400	/* TLS session/ticket lifetime, s */
#define FTPS_LOGIN_DELAY_MS	1000	/* before every "530 Login incorrect" */
#define FTPS_PASV_TRIES		64	/* random ports tried per PASV */
#define FTPS_CLOSE_GRACE_MS	2000	/* to flush a last reply */
#define FTPS_STOP_GRACE_MS	3000	/* to flush 421s at shutdown */
#define FTPS_LINGER_MS		2000	/* draining a finished data conn */
#define FTPS_CERTWARN_SECS	86400	/* cert_warn_days is checked daily */
#define FTPS_IO_THREADS		4	/* file I/O workers (iopool.c) */

TAILQ_HEAD(listenerq, listener);
TAILQ_HEAD(sessionq, session);
TAILQ_HEAD(dc_reapq, dc_reap);

struct ftpsd {
	struct event_base	*base;
	struct conf		 conf;
	SSL_CTX			*ssl_ctx;	/* NULL when tls = off */
	struct userdb		*users;		/* NULL: anonymous only */
	struct vhost_set	*vhosts;	/* [host] sections (vhost.h);
						 * NULL: none */
	struct auth_pool	*auth;
	struct iopool		*io;		/* transfers' file I/O */
	struct listenerq	 listeners;
	struct sessionq		 sessions;
	struct dc_reapq		 reaps;
	unsigned		 nsessions;
	struct shm_counts	*counts;	/* sessions (listener.h) */
	struct ban_table	*bans;		/* failed logins per address */
	unsigned long long	 next_id;
	struct event		*sigint_ev;
	struct event		*sigterm_ev;
	struct event		*stop_ev;	/* grace timer at shutdown */
	int			 stopping;
	const struct sess_hooks	*hooks;		/* ops.c's (session.h); or NULL */

	/* Operations (server/ops.c). */
	char			*conffile;	/* absolute; NULL: none given */
	char			**overrides;	/* -o as resolved at start */
	int			 noverrides;
	int			 foreground;
	int			 activated;	/* listeners from systemd */
	int			 notify_fd;	/* $NOTIFY_SOCKET, or -1 */
	int			 xferlog_fd;	/* xferlog_file, or -1 */
	struct event		*sighup_ev;
	struct event		*certwarn_ev;	/* daily expiry check */
	struct event		*shutdown_ev;	/* shutdown_timeout */
	int			 stop_phase;	/* 1 waiting, 2 flushing */

	/* Worker processes (server/worker.c); all 0/NULL with workers = 1. */
	unsigned		 worker;	/* 1..N in a worker, else 0 */
	int			 reuseport;	/* lst_bind_all: SO_REUSEPORT */
	int			 ready_fd;	/* worker -> master, or -1 */
	struct wk_master	*master;	/* in the master only */
	char			 log_ident[24];	/* "ftpsd", "ftpsd/w2" */
};

/* datachan.c: frees every data connection still being taken down. */
void	 dc_linger_free_all(struct ftpsd *);

#endif
