/*
 * Accepting control connections on the explicit and implicit ports, with
 * the max_clients and max_clients_per_ip limits.
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

#include "ban.h"
#include "err.h"
#include "ftpsd.h"
#include "hash.h"
#include "log.h"
#include "proxyconn.h"
#include "session.h"
#include "shm.h"

/* A burst of connections waits in the kernel, not in SYN retransmits. */
#define LST_BACKLOG	1024
#define LST_FDS_PER_SESSION	5
#define LST_FDS_SPARE		64
#define LST_MSG_FULL	"421 Too many connections.\r\n"

/*
 * Per-address session counts of one process (workers: shm.c).  Clients
 * are grouped as bans group them: IPv6 by ipv6_prefix.  That key never
 * changes while the process runs (ipv6_prefix is applied at restart
 * only), so a session's release finds what its admission counted.
 */
static unsigned
ipc_hash(const unsigned char *key)
{
	return (unsigned)(hash_fnv1a(HASH_FNV1A_INIT, key, BAN_KEY_LEN) %
	    FTPS_IPTAB_SIZE);
}

unsigned
ipc_get(struct ftpsd *ctx, const struct sockaddr_storage *ss)
{
	struct ipcount	*c;
	unsigned char	 key[BAN_KEY_LEN];

	if (ctx->counts != NULL)
		return shm_ip_count(ctx->counts, ss);
	if (ban_addr_key(ss, ctx->conf.ipv6_prefix, key) != 0)
		return 0;
	for (c = ctx->iptab[ipc_hash(key)]; c != NULL; c = c->next)
		if (memcmp(c->key, key, BAN_KEY_LEN) == 0)
			return c->n;
	return 0;
}

int
ipc_add(struct ftpsd *ctx, const struct sockaddr_storage *ss)
{
	struct ipcount	*c;
	unsigned char	 key[BAN_KEY_LEN];
	unsigned	 h;

	/* Workers: lst_accept_cb's shm_admit() counted it already. */
	if (ctx->counts != NULL ||
	    ban_addr_key(ss, ctx->conf.ipv6_prefix, key) != 0)
		return 0;
	h = ipc_hash(key);
	for (c = ctx->iptab[h]; c != NULL; c = c->next)
		if (memcmp(c->key, key, BAN_KEY_LEN) == 0) {
			c->n++;
			return 0;
		}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return FTPS_ENOMEM;
	memcpy(c->key, key, BAN_KEY_LEN);
	c->n = 1;
	c->next = ctx->iptab[h];
	ctx->iptab[h] = c;
	return 0;
}

void
ipc_del(struct ftpsd *ctx, const struct sockaddr_storage *ss)
{
	struct ipcount	**pp, *c;
	unsigned char	  key[BAN_KEY_LEN];

	if (ctx->counts != NULL) {
		shm_release(ctx->counts, ctx->worker - 1, ss);
		return;
	}
	if (ban_addr_key(ss, ctx->conf.ipv6_prefix, key) != 0)
		return;
	for (pp = &ctx->iptab[ipc_hash(key)]; (c = *pp) != NULL;
	    pp = &c->next)
		if (memcmp(c->key, key, BAN_KEY_LEN) == 0) {
			if (--c->n == 0) {
				*pp = c->next;
				free(c);
			}
			return;
		}
}

void
ipc_free(struct ftpsd *ctx)
{
	struct ipcount	*c, *n;
	size_t		 i;

	for (i = 0; i < FTPS_IPTAB_SIZE; i++) {
		for (c = ctx->iptab[i]; c != NULL; c = n) {
			n = c->next;
			free(c);
		}
		ctx->iptab[i] = NULL;
	}
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

/* A session for an admitted connection; its count is taken already. */
static void
lst_open(struct ftpsd *ctx, int fd, const struct sockaddr_storage *client,
    int implicit, const struct sockaddr_storage *via)
{
	struct session	*s;

	if ((s = sess_new(ctx, fd, client, implicit)) == NULL) {
		log_err("cannot set up a session: %s", strerror(errno));
		if (ctx->counts != NULL)
			shm_release(ctx->counts, ctx->worker - 1, client);
		close(fd);
		return;
	}
	proxy_sess_init(s, via);
}

void
lst_admit(struct listener *l, int fd, const struct sockaddr_storage *client,
    const struct sockaddr_storage *via)
{
	struct ftpsd	*ctx = l->ctx;
	char		 ip[64], why[128];
	unsigned	 left;

	/* SECURITY: password guessing: a banned address is not served. */
	if ((left = ban_left(ctx, client)) > 0) {
		if (getnameinfo((const struct sockaddr *)client,
		    sizeof(*client), ip, sizeof(ip), NULL, 0,
		    NI_NUMERICHOST) != 0)
			snprintf(ip, sizeof(ip), "?");
		snprintf(why, sizeof(why), "%s banned for %u more seconds",
		    ip, left);
		lst_refuse(l, fd, why, "421 Too many failed logins from your "
		    "address; try again later.\r\n");
		return;
	}
	if (ctx->counts != NULL) {
		/* Workers: the limits count every worker's sessions. */
		switch (shm_admit(ctx->counts, ctx->worker - 1, client,
		    ctx->conf.max_clients, ctx->conf.max_clients_per_ip)) {
		case SHM_ADMIT_OK:
			break;
		case SHM_ADMIT_FULL:
			lst_refuse(l, fd, "max_clients", LST_MSG_FULL);
			return;
		case SHM_ADMIT_PERIP:
			lst_refuse(l, fd, "max_clients_per_ip", LST_MSG_FULL);
			return;
		default:
			lst_refuse(l, fd, "the shared session table is full",
			    LST_MSG_FULL);
			return;
		}
		lst_open(ctx, fd, client, l->implicit, via);
		return;
	}
	if (ctx->conf.max_clients > 0 &&
	    ctx->nsessions >= ctx->conf.max_clients) {
		lst_refuse(l, fd, "max_clients", LST_MSG_FULL);
		return;
	}
	if (ctx->conf.max_clients_per_ip > 0 &&
	    ipc_get(ctx, client) >= ctx->conf.max_clients_per_ip) {
		lst_refuse(l, fd, "max_clients_per_ip", LST_MSG_FULL);
		return;
	}
	lst_open(ctx, fd, client, l->implicit, via);
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
	/* proxy_protocol: the header comes first; it admits afterwards. */
	if (l->ctx->conf.proxy_protocol != CONF_PROXY_OFF)
		proxy_accept(l, fd, &peer);
	else
		lst_admit(l, fd, &peer, NULL);
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

	log_warnx("accept on %s: %s; pausing", l->label, strerror(errno));
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
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct listener		*l;
	socklen_t		 sl;
	int			 fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sl = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*sin6);
	} else {
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

	lst_fd_budget(ctx);
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
		log_infox("listening on %s", l->label);
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
