/*
 * The listeners (server/listener.c): the explicit and implicit ports,
 * bound by ftpsd or passed by the service manager, and admission: the
 * one place that decides whether a connection is served.
 *
 * Admission is the same with or without workers: the session counts
 * behind max_clients and max_clients_per_ip live in shm.c's table,
 * shared by the workers (worker.c makes it before forking) or this
 * process's own (lst_start_all makes it); addresses are grouped by
 * addr_key() (lib/addrkey.h), as bans group them.
 */
#ifndef FTPS_LISTENER_H
#define FTPS_LISTENER_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdio.h>

struct event;
struct evconnlistener;
struct ftpsd;

#define FTPS_ACCEPT_PAUSE_MS	1000	/* after EMFILE/ENFILE on accept */

struct listener {
	struct ftpsd		*ctx;
	int			 fd;
	int			 implicit;
	char			 label[80];	/* "127.0.0.1:2121 (explicit)" */
	struct evconnlistener	*evl;
	struct event		*pause_ev;
	TAILQ_ENTRY(listener)	 entry;
};

/* Creates and binds every listening socket (before daemonizing). */
int	 lst_bind_all(struct ftpsd *, FILE *errf);
/*
 * Takes a listening socket passed by the service manager (socket
 * activation) instead of binding one; 0, or an error printed to errf.
 */
int	 lst_adopt(struct ftpsd *, int fd, int implicit, FILE *errf);
/*
 * Wraps the bound sockets in evconnlisteners and logs one line each;
 * without workers, makes this process's session-count table first.
 */
int	 lst_start_all(struct ftpsd *);
void	 lst_free_all(struct ftpsd *);

/* lst_admit()'s verdicts. */
enum lst_admit {
	LST_ADMIT,		/* served, and counted */
	LST_BANNED,		/* too many failed logins (ban.c) */
	LST_FULL,		/* max_clients sessions already */
	LST_PERIP,		/* max_clients_per_ip from its address */
	LST_TABLE		/* no room left to count it (shm.h) */
};
/*
 * Whether a connection from ss is served: not while its address is
 * banned (*left set to the seconds the ban has to run), nor beyond
 * max_clients or max_clients_per_ip, counted over every process.
 * Checking and counting are one step (under the table's lock).
 * LST_ADMIT counts the session: lst_release() ends it.  Without a
 * table (unit tests that make sessions by hand) only bans apply.
 */
enum lst_admit lst_admit(struct ftpsd *, const struct sockaddr_storage *,
	    unsigned *left);
/*
 * A new control connection from client: lst_admit(), then a session, or
 * a refusal (lst_refuse).  via: the load balancer it came through
 * (proxy_protocol, server/proxyconn.c), or NULL.
 */
void	 lst_serve(struct listener *, int fd,
	    const struct sockaddr_storage *client,
	    const struct sockaddr_storage *via);
/* lst_serve in two steps: admission (0, or -1 refused and closed)... */
int	 lst_admit_or_refuse(struct listener *, int fd,
	    const struct sockaddr_storage *client);
/* ...then the session of an admitted client (released if it fails). */
void	 lst_serve_admitted(struct listener *, int fd,
	    const struct sockaddr_storage *client,
	    const struct sockaddr_storage *via);
/* Logs why, says msg on the explicit port (not before TLS), closes fd. */
void	 lst_refuse(struct listener *, int fd, const char *why,
	    const char *msg);
/* Ends one session that lst_admit() counted. */
void	 lst_release(struct ftpsd *, const struct sockaddr_storage *);
/* Frees the session counts and the failed-login table (ban.c). */
void	 lst_admit_free(struct ftpsd *);

#endif
