/*
 * Accepting control connections on the explicit and implicit ports, and
 * the one admission path (listener.h): bans, max_clients and
 * max_clients_per_ip, with or without workers.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "addrkey.h"
#include "ban.h"
#include "err.h"
#include "ftpsd.h"
#include "listener.h"
#include "log.h"
#include "proxyconn.h"
#include "session.h"
#include "shm.h"

/* A burst of connections waits in the kernel, not in SYN retransmits. */
#define LST_BACKLOG	1024
#define LST_FDS_PER_SESSION	5
#define LST_FDS_SPARE		64
#define LST_MSG_FULL	"421 Too many connections.\r\n"

/* This process's index in the session table: worker N is N - 1. */
static unsigned
lst_slot(const struct ftpsd *ctx)
{
	return ctx->worker > 0 ? ctx->worker - 1 : 0;
}

enum lst_admit
lst_admit(struct ftpsd *ctx, const struct sockaddr_storage *ss,
    unsigned *left)
{
	/* SECURITY: password guessing: a banned address is not served. */
	if ((*left = ban_left(ctx, ss)) > 0)
		return LST_BANNED;
	if (ctx->counts == NULL)
		return LST_ADMIT;
	switch (shm_admit(ctx->counts, lst_slot(ctx), ss,
	    ctx->conf.max_clients, ctx->conf.max_clients_per_ip)) {
	case SHM_ADMIT_OK:
		return LST_ADMIT;
	case SHM_ADMIT_FULL:
		return LST_FULL;
	case SHM_ADMIT_PERIP:
		return LST_PERIP;
	default:
		return LST_TABLE;
	}
}

void
lst_release(struct ftpsd *ctx, const struct sockaddr_storage *ss)
{
	if (ctx->counts != NULL)
		shm_release(ctx->counts, lst_slot(ctx), ss);
}

void
lst_admit_free(struct ftpsd *ctx)
{
	ban_free(ctx);
	shm_counts_free(ctx->counts);
	ctx->counts = NULL;
}

void
lst_refuse(struct listener *l, int fd, const char *why, const char *msg)
{
	log_warnx("refused connection on %s: %s", l->label, why);
	/* Implicit FTPS cannot say anything before a handshake. */
	if (!l->implicit)
		(void)send(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/*
 * Admits client (lst_admit) or refuses the connection (logged, closed):
 * 0 admitted (the caller then serves it or lst_release()s), -1 refused.
 */
int
lst_admit_or_refuse(struct listener *l, int fd,
    const struct sockaddr_storage *client)
{
	struct ftpsd	*ctx = l->ctx;
	char		 ip[64], why[128];
	unsigned	 left;

	switch (lst_admit(ctx, client, &left)) {
	case LST_ADMIT:
		return 0;
	case LST_BANNED:
		if (getnameinfo((const struct sockaddr *)client,
		    sizeof(*client), ip, sizeof(ip), NULL, 0,
		    NI_NUMERICHOST) != 0)
			snprintf(ip, sizeof(ip), "?");
		snprintf(why, sizeof(why), "%s banned for %u more seconds",
		    ip, left);
		lst_refuse(l, fd, why, "421 Too many failed logins from your "
		    "address; try again later.\r\n");
		break;
	case LST_FULL:
		lst_refuse(l, fd, "max_clients", LST_MSG_FULL);
		break;
	case LST_PERIP:
		lst_refuse(l, fd, "max_clients_per_ip", LST_MSG_FULL);
		break;
	case LST_TABLE:
		lst_refuse(l, fd, ctx->worker > 0 ? "the shared session "
		    "table is full" : "the session table is full",
		    LST_MSG_FULL);
		break;
	}
	return -1;
}

/* A session for an admitted client; it releases what lst_admit counted. */
void
lst_serve_admitted(struct listener *l, int fd,
    const struct sockaddr_storage *client, const struct sockaddr_storage *via)
{
	struct ftpsd	*ctx = l->ctx;
	struct session	*s;

	if ((s = sess_new(ctx, fd, client, (l->implicit ? SF_IMPLICIT : 0) |
	    proxy_sess_flags(client, via))) == NULL) {
		log_msg_errno(LOG_LVL_ERR, "cannot set up a session");
		lst_release(ctx, client);
		close(fd);
		return;
	}
	proxy_sess_init(s, via);
}

void
lst_serve(struct listener *l, int fd, const struct sockaddr_storage *client,
    const struct sockaddr_storage *via)
{
	if (lst_admit_or_refuse(l, fd, client) == 0)
		lst_serve_admitted(l, fd, client, via);
}

static void
lst_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener		*l = arg;
	struct sockaddr_storage	 peer;

	memset(&peer, 0, sizeof(peer));
	memcpy(&peer, sa, (size_t)salen < sizeof(peer) ? (size_t)salen :
	    sizeof(peer));
	if (l->ctx->stopping) {
		close(fd);
		return;
	}
	/* proxy_protocol: the header comes first; it is served after. */
	if (l->ctx->conf.proxy_protocol != CONF_PROXY_OFF)
		proxy_accept(l, fd, &peer);
	else
		lst_serve(l, fd, &peer, NULL);
}

static void
lst_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;

	evconnlistener_enable(l->evl);
}

/* EMFILE and friends: pause instead of spinning on the listener. */
static void
lst_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener	*l = arg;
	struct timeval	 tv;

	log_warn("accept on %s, pausing", l->label);
	if (l->pause_ev == NULL)
		return;
	evconnlistener_disable(evl);
	tv.tv_sec = FTPS_ACCEPT_PAUSE_MS / 1000;
	tv.tv_usec = (FTPS_ACCEPT_PAUSE_MS % 1000) * 1000;
	evtimer_add(l->pause_ev, &tv);
}

static int
lst_bind_one(struct ftpsd *ctx, const char *addr, unsigned port,
    int implicit, FILE *errf)
{
	struct sockaddr_storage	 ss;
	struct listener		*l;
	socklen_t		 sl;
	int			 fd, one = 1;

	if (addr_parse(addr, port, &ss, &sl) != 0) {
		fprintf(errf, "listen_addresses: %s is not a numeric IPv4 or "
		    "IPv6 address\n", addr);
		return FTPS_EPARSE;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return FTPS_ENOMEM;
	l->ctx = ctx;
	l->implicit = implicit;
	snprintf(l->label, sizeof(l->label), "%s%s%s:%u (%s)",
	    ss.ss_family == AF_INET6 ? "[" : "", addr,
	    ss.ss_family == AF_INET6 ? "]" : "", port,
	    implicit ? "implicit" : "explicit");
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto err;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto err;
	/* Workers: one socket each, the kernel spreads connections. */
	if (ctx->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1)
		goto err;
	/* "::" serves IPv6 only; "0.0.0.0" is listed on its own. */
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto err;
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, LST_BACKLOG) == -1)
		goto err;
	l->fd = fd;
	TAILQ_INSERT_TAIL(&ctx->listeners, l, entry);
	return 0;
 err:
	fprintf(errf, "cannot listen on %s: %s\n", l->label, strerror(errno));
	if (fd != -1)
		close(fd);
	free(l);
	return FTPS_ESYS;
}

int
lst_adopt(struct ftpsd *ctx, int fd, int implicit, FILE *errf)
{
	struct sockaddr_storage	 ss;
	struct listener		*l;
	socklen_t		 sl = sizeof(ss);
	char			 host[INET6_ADDRSTRLEN], serv[8];
	int			 v6only = 1, flags;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		fprintf(errf, "passed fd %d is not an IPv4 or IPv6 socket\n",
		    fd);
		return FTPS_EDENIED;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		fprintf(errf, "passed fd %d: %s\n", fd, strerror(errno));
		return FTPS_ESYS;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return FTPS_ENOMEM;
	l->ctx = ctx;
	l->implicit = implicit;
	l->fd = fd;
	snprintf(l->label, sizeof(l->label), "%s%s%s:%s (%s)",
	    ss.ss_family == AF_INET6 ? "[" : "", host,
	    ss.ss_family == AF_INET6 ? "]" : "", serv,
	    implicit ? "implicit" : "explicit");
	sl = sizeof(v6only);
	/* IPv4 clients on a dual-stack socket look like ::ffff:a.b.c.d. */
	if (ss.ss_family == AF_INET6 && getsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, &sl) == 0 && !v6only)
		fprintf(errf, "warning: passed socket %s also accepts IPv4 "
		    "(BindIPv6Only=both): those clients appear as ::ffff: "
		    "addresses and cannot use PASV; use BindIPv6Only="
		    "ipv6-only plus an IPv4 ListenStream\n", l->label);
	TAILQ_INSERT_TAIL(&ctx->listeners, l, entry);
	return 0;
}

int
lst_bind_all(struct ftpsd *ctx, FILE *errf)
{
	int	 i, r;

	/* Implicit FTPS is TLS or nothing. */
	if (ctx->conf.implicit_port != 0 && ctx->ssl_ctx == NULL)
		fprintf(errf, "implicit_port %u not opened: tls = off\n",
		    ctx->conf.implicit_port);
	for (i = 0; i < ctx->conf.nlisten; i++) {
		if (ctx->conf.explicit_port != 0 && (r = lst_bind_one(ctx,
		    ctx->conf.listen[i], ctx->conf.explicit_port, 0,
		    errf)) != 0)
			return r;
		if (ctx->conf.implicit_port != 0 && ctx->ssl_ctx != NULL &&
		    (r = lst_bind_one(ctx,
		    ctx->conf.listen[i], ctx->conf.implicit_port, 1,
		    errf)) != 0)
			return r;
	}
	if (TAILQ_EMPTY(&ctx->listeners)) {
		fprintf(errf, "nothing to listen on: explicit_port and "
		    "implicit_port are both 0\n");
		return FTPS_EPARSE;
	}
	return 0;
}

/*
 * A session may hold its control connection, a passive listener, a data
 * connection, a directory and a file; home descriptors are shared by all
 * sessions with the same home (vfs.c), so an idle one holds just one.  The soft limit on file
 * descriptors is raised towards what max_clients may need (never past
 * the hard limit); when that is not enough, the log says so: beyond it
 * accepting pauses (lst_error_cb) and transfers fail with 425/451.
 */
static void
lst_fd_budget(struct ftpsd *ctx)
{
	struct rlimit	 rl;
	rlim_t		 need;

	need = (rlim_t)ctx->conf.max_clients * LST_FDS_PER_SESSION +
	    LST_FDS_SPARE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY &&
		    rl.rlim_max < need ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
		    getrlimit(RLIMIT_NOFILE, &rl) == -1)
			return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		log_warnx("open files limit %llu is below the %llu that "
		    "max_clients = %u may need (raise the hard limit, e.g. "
		    "LimitNOFILE=)", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)need, ctx->conf.max_clients);
}

int
lst_start_all(struct ftpsd *ctx)
{
	struct listener	*l;
	int		 r;

	lst_fd_budget(ctx);
	/* Workers share the master's table; one process makes its own. */
	if (ctx->counts == NULL && (r = shm_counts_new(1,
	    ctx->conf.ipv6_prefix, &ctx->counts)) != 0) {
		log_err("cannot make the session counts: %s",
		    ftps_strerror(r));
		return r;
	}
	TAILQ_FOREACH(l, &ctx->listeners, entry) {
		l->evl = evconnlistener_new(ctx->base, lst_accept_cb, l,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
		    LEV_OPT_REUSEABLE, -1, l->fd);
		if (l->evl == NULL) {
			log_err("cannot watch %s", l->label);
			return FTPS_ENOMEM;
		}
		l->fd = -1;	/* owned by evl now */
		evconnlistener_set_error_cb(l->evl, lst_error_cb);
		l->pause_ev = evtimer_new(ctx->base, lst_resume_cb, l);
		log_info("listening on %s", l->label);
	}
	return 0;
}

void
lst_free_all(struct ftpsd *ctx)
{
	struct listener	*l;

	/* Connections still sending their PROXY header go with them. */
	proxy_conn_free_all(ctx);
	while ((l = TAILQ_FIRST(&ctx->listeners)) != NULL) {
		TAILQ_REMOVE(&ctx->listeners, l, entry);
		if (l->evl != NULL)
			evconnlistener_free(l->evl);
		if (l->fd != -1)
			close(l->fd);
		if (l->pause_ev != NULL)
			event_free(l->pause_ev);
		free(l);
	}
}
