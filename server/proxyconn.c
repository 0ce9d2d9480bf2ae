/*
 * PROXY headers on live connections.  A header is read with MSG_PEEK
 * first and then consumed exactly to its end, so what follows it (a
 * ClientHello, the client's first command) stays in the socket for the
 * session.  Every refusal is one log line and a close; nothing is sent.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf.h"
#include "err.h"
#include "ftpaddr.h"
#include "ftpsd.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "proxy.h"
#include "proxyconn.h"
#include "session.h"

enum pc_mode { PC_READ, PC_SNIFF };
enum pc_result {
	PC_OK,		/* a header with the client's address */
	PC_NOADDR,	/* no client address (v2 LOCAL, v1 UNKNOWN...):
			 * the connection's real peer is the client */
	PC_BAD,		/* malformed, truncated, missing: why says */
	PC_PLAIN,	/* sniff: not a header, serve it as it is */
	PC_HEADER	/* sniff: a header from an untrusted address */
};

struct proxy_conn;
typedef void	(*pc_done_fn)(struct proxy_conn *, enum pc_result,
		    const struct proxy_hdr *, const char *why);

struct proxy_conn {
	struct ftpsd		*ctx;
	int			 fd;
	enum pc_mode		 mode;
	unsigned		 mask;		/* PROXY_V1 | PROXY_V2 */
	unsigned char		 buf[PROXY_HDR_MAX];
	size_t			 len;		/* consumed from fd */
	struct event		*rd, *tmo;
	struct sockaddr_storage	 peer;		/* the balancer, or a client */
	char			 ip[64];
	pc_done_fn		 done;
	int			 listed;	/* in ctx->proxies */
	struct listener		*l;		/* control connections */
	struct session		*s;		/* data connections */
	proxy_dc_cb		 dc_done;
	LIST_ENTRY(proxy_conn)	 entry;
};

int
proxy_is_trusted(const struct conf *c, const struct sockaddr_storage *ss)
{
	int	 i;

	for (i = 0; i < c->nproxy_trusted; i++)
		if (cidr_match(&c->proxy_trusted[i],
		    (const struct sockaddr *)ss))
			return 1;
	return 0;
}

static unsigned
pc_mask(const struct conf *c)
{
	switch (c->proxy_protocol) {
	case CONF_PROXY_V1:
		return PROXY_V1;
	case CONF_PROXY_V2:
		return PROXY_V2;
	default:
		return PROXY_V1 | PROXY_V2;
	}
}

/* Frees the reader; the connection (fd) stays open and is the caller's. */
static void
pc_free(struct proxy_conn *pc)
{
	if (pc->listed) {
		LIST_REMOVE(pc, entry);
		/* Only trusted readers count; sniffed clients are admitted. */
		if (pc->mode == PC_READ)
			pc->ctx->nproxies--;
	}
	if (pc->rd != NULL)
		event_free(pc->rd);
	if (pc->tmo != NULL)
		event_free(pc->tmo);
	free(pc);
}

static void
pc_finish(struct proxy_conn *pc, enum pc_result r, const struct proxy_hdr *h,
    const char *why)
{
	event_del(pc->rd);
	event_del(pc->tmo);
	pc->done(pc, r, h, why);	/* frees pc */
}

static void
pc_read(struct proxy_conn *pc)
{
	struct proxy_hdr	 h;
	const char		*why;
	ssize_t			 n, got;
	size_t			 take;
	int			 r;

	if (pc->mode == PC_SNIFF) {
		n = recv(pc->fd, pc->buf, PROXY_SNIFF_LEN, MSG_PEEK);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		/* Gone or failing: the session finds out on its own. */
		if (n <= 0 || proxy_sniff(pc->buf, (size_t)n) == 0)
			pc_finish(pc, PC_PLAIN, NULL, NULL);
		else
			pc_finish(pc, PC_HEADER, NULL, NULL);
		return;
	}
	n = recv(pc->fd, pc->buf + pc->len, sizeof(pc->buf) - pc->len,
	    MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		pc_finish(pc, PC_BAD, NULL, strerror(errno));
		return;
	}
	if (n == 0) {
		pc_finish(pc, PC_BAD, NULL, pc->len == 0 ?
		    "closed without sending a PROXY header" :
		    "closed inside the PROXY header (truncated)");
		return;
	}
	r = proxy_parse(pc->buf, pc->len + (size_t)n, pc->mask, &h, &why);
	if (r < 0) {
		pc_finish(pc, PC_BAD, NULL, why);
		return;
	}
	/* 1. Consume the header's bytes only: the rest is the client's. */
	take = r > 0 ? (size_t)r - pc->len : (size_t)n;
	got = recv(pc->fd, pc->buf + pc->len, take, 0);
	if (got != (ssize_t)take) {
		pc_finish(pc, PC_BAD, NULL, "short read of peeked bytes");
		return;
	}
	pc->len += take;
	if (r > 0)
		pc_finish(pc, h.noaddr ? PC_NOADDR : PC_OK, &h, NULL);
}

static void
pc_read_cb(evutil_socket_t fd, short what, void *arg)
{
	pc_read(arg);
}

static void
pc_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_conn	*pc = arg;

	if (pc->mode == PC_SNIFF)
		pc_finish(pc, PC_BAD, NULL, "nothing received within "
		    "login_timeout");
	else
		pc_finish(pc, PC_BAD, NULL, pc->len == 0 ?
		    "no PROXY header within login_timeout" :
		    "PROXY header incomplete at login_timeout (truncated)");
}

static struct proxy_conn *
pc_new(struct ftpsd *ctx, int fd, const struct sockaddr_storage *peer,
    enum pc_mode mode, pc_done_fn done)
{
	struct proxy_conn	*pc;
	struct timeval		 tv;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return NULL;
	pc->ctx = ctx;
	pc->fd = fd;
	pc->mode = mode;
	pc->mask = pc_mask(&ctx->conf);
	pc->peer = *peer;
	pc->done = done;
	if (getnameinfo((const struct sockaddr *)peer, sizeof(*peer), pc->ip,
	    sizeof(pc->ip), NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(pc->ip, sizeof(pc->ip), "?");
	tv.tv_sec = ctx->conf.login_timeout;
	tv.tv_usec = 0;
	if ((pc->rd = event_new(ctx->base, fd, EV_READ | EV_PERSIST,
	    pc_read_cb, pc)) == NULL ||
	    (pc->tmo = evtimer_new(ctx->base, pc_timeout_cb, pc)) == NULL ||
	    event_add(pc->rd, NULL) != 0 || evtimer_add(pc->tmo, &tv) != 0) {
		pc_free(pc);
		return NULL;
	}
	return pc;
}

/* Control connections: admit the client, or one log line and a close. */
static void
pc_ctl_done(struct proxy_conn *pc, enum pc_result r, const struct proxy_hdr *h,
    const char *why)
{
	struct listener		*l = pc->l;
	struct sockaddr_storage	 via = pc->peer, client;
	char			 ip[64];
	int			 fd = pc->fd, sniffed = pc->mode == PC_SNIFF;

	snprintf(ip, sizeof(ip), "%s", pc->ip);
	if (h != NULL)
		client = h->src;
	pc_free(pc);
	switch (r) {
	case PC_OK:
		lst_serve(l, fd, &client, &via);
		return;
	case PC_PLAIN:
		/* A sniffed client was admitted in proxy_accept(). */
		lst_serve_admitted(l, fd, &via, NULL);
		return;
	case PC_NOADDR:
		/*
		 * proxy-protocol.txt 2.1, 2.2: the real endpoints count.  The
		 * balancer is the client (bans, max_clients_per_ip) of its
		 * own connections, and only of those; its health checks stay
		 * out of the log (SF_QUIET).
		 */
		lst_serve(l, fd, &via, &via);
		return;
	case PC_HEADER:
		lst_release(l->ctx, &via);
		log_warnx("proxy: refused connection from %s on %s: PROXY "
		    "header from an address not in proxy_trusted", ip,
		    l->label);
		break;
	case PC_BAD:
		if (sniffed)
			lst_release(l->ctx, &via);
		log_warnx("proxy: refused connection from %s on %s: %s", ip,
		    l->label, why);
		break;
	}
	close(fd);
}

void
proxy_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct ftpsd		*ctx = l->ctx;
	struct proxy_conn	*pc;
	unsigned		 cap;
	int			 trusted;

	trusted = proxy_is_trusted(&ctx->conf, peer);
	/* Explicit FTPS: the client waits for 220; proxy_sess_input(). */
	if (!trusted && !l->implicit) {
		lst_serve(l, fd, peer, NULL);
		return;
	}
	/*
	 * SECURITY: a client sniffed for a misplaced header (implicit port,
	 * untrusted) is admitted first, so bans and max_clients_per_ip hold
	 * it; the balancer's connections that send nothing cannot pile up.
	 */
	if (!trusted) {
		if (lst_admit_or_refuse(l, fd, peer) != 0)
			return;
	} else {
		cap = ctx->conf.max_clients > 0 ? ctx->conf.max_clients : 1;
		if (ctx->nproxies >= cap) {
			lst_refuse(l, fd, "max_clients (connections waiting "
			    "for their PROXY header)",
			    "421 Too many connections.\r\n");
			return;
		}
	}
	if ((pc = pc_new(ctx, fd, peer, trusted ? PC_READ : PC_SNIFF,
	    pc_ctl_done)) == NULL) {
		log_msg_errno(LOG_LVL_ERR, "cannot wait for a PROXY header");
		if (!trusted)
			lst_release(ctx, peer);
		close(fd);
		return;
	}
	pc->l = l;
	pc->listed = 1;
	LIST_INSERT_HEAD(&ctx->proxies, pc, entry);
	if (trusted)
		ctx->nproxies++;
}

void
proxy_conn_free_all(struct ftpsd *ctx)
{
	struct proxy_conn	*pc;

	while ((pc = LIST_FIRST(&ctx->proxies)) != NULL) {
		LIST_REMOVE(pc, entry);
		if (pc->mode == PC_READ)
			ctx->nproxies--;
		else
			lst_release(ctx, &pc->peer);
		pc->listed = 0;
		close(pc->fd);
		pc_free(pc);
	}
}

unsigned
proxy_sess_flags(const struct sockaddr_storage *client,
    const struct sockaddr_storage *via)
{
	if (via != NULL && fa_same_host(client, via))
		return SF_BALANCER | SF_QUIET;
	return 0;
}

void
proxy_sess_init(struct session *s, const struct sockaddr_storage *via)
{
	char	 ip[64];

	if (via != NULL && (s->flags & SF_BALANCER))
		s->via = *via;
	else if (via != NULL) {
		s->flags |= SF_PROXIED;
		s->via = *via;
		if (fa_ntop(via, ip, sizeof(ip)) != 0)
			snprintf(ip, sizeof(ip), "?");
		sess_log(s, LOG_LVL_INFO, "proxied via=%s", ip);
	} else if (s->ctx->conf.proxy_protocol != CONF_PROXY_OFF &&
	    !(s->flags & SF_IMPLICIT))
		s->flags |= SF_PROXY_SNIFF;
}

int
proxy_sess_input(struct session *s)
{
	unsigned char	 buf[PROXY_SNIFF_LEN];
	ev_ssize_t	 n;
	int		 r;

	if (!(s->flags & SF_PROXY_SNIFF))
		return 0;
	n = evbuffer_copyout(bufferevent_get_input(s->bev), buf, sizeof(buf));
	if (n <= 0)
		return 1;
	if ((r = proxy_sniff(buf, (size_t)n)) == 0) {
		s->flags &= ~SF_PROXY_SNIFF;
		return 0;
	}
	/* -1: "\r" or "PRO" so far; the next bytes decide. */
	if (r == 1)
		sess_close(s, "PROXY header from an address not in "
		    "proxy_trusted");
	return 1;
}

/* SECURITY: port theft (RFC 2577 5) through a balancer: src is not ours. */
static void
pc_dc_theft(struct session *s, const struct sockaddr_storage *src,
    const char *via, proxy_dc_cb done)
{
	char	 ip[64];

	if (fa_ntop(src, ip, sizeof(ip)) != 0)
		snprintf(ip, sizeof(ip), "?");
	sess_log(s, LOG_LVL_WARN, "data connection for foreign address %s "
	    "via %s refused (port theft)", ip, via);
	mt_inc(s->ctx, MT_REFUSED_WRONG_PEER);
	done(s, -1, "Data connection from a foreign address refused.");
}

/* Data connections: the header must name the control connection's client. */
static void
pc_dc_done(struct proxy_conn *pc, enum pc_result r, const struct proxy_hdr *h,
    const char *why)
{
	struct session		*s = pc->s;
	proxy_dc_cb		 done = pc->dc_done;
	struct sockaddr_storage	 src;
	char			 from[64];
	int			 fd = pc->fd;

	snprintf(from, sizeof(from), "%s", pc->ip);
	/* Without an address in the header the balancer is the source. */
	if (r == PC_OK || r == PC_NOADDR)
		src = r == PC_OK ? h->src : pc->peer;
	pc_free(pc);
	if ((r == PC_OK || r == PC_NOADDR) && fa_same_host(&src, &s->peer)) {
		done(s, fd, NULL);
		return;
	}
	close(fd);
	if (r == PC_OK || r == PC_NOADDR)
		pc_dc_theft(s, &src, from, done);
	else {
		sess_log(s, LOG_LVL_WARN, "data connection via %s refused: "
		    "%s", from, why);
		done(s, -1, "Data connection without a valid PROXY header "
		    "refused.");
	}
}

struct proxy_conn *
proxy_dc_accept(struct session *s, int fd, const struct sockaddr_storage *peer,
    proxy_dc_cb done)
{
	struct proxy_conn	*pc;
	char			 ip[64], via[64];

	/*
	 * Weaker (docs/scale-out.md): taken without a header, but only from
	 * the balancer that carried the control connection; another
	 * trusted balancer's clients are foreign.
	 */
	if (s->ctx->conf.proxy_data == CONF_PDATA_TRUST) {
		if (fa_same_host(peer, &s->via)) {
			done(s, fd, NULL);
			return NULL;
		}
		close(fd);
		if (fa_ntop(peer, ip, sizeof(ip)) != 0)
			snprintf(ip, sizeof(ip), "?");
		if (fa_ntop(&s->via, via, sizeof(via)) != 0)
			snprintf(via, sizeof(via), "?");
		sess_log(s, LOG_LVL_WARN, "data connection via %s refused: the "
		    "control connection came via %s (port theft)", ip, via);
		mt_inc(s->ctx, MT_REFUSED_WRONG_PEER);
		done(s, -1, "Data connection from a foreign address "
		    "refused.");
		return NULL;
	}
	if ((pc = pc_new(s->ctx, fd, peer, PC_READ, pc_dc_done)) == NULL) {
		close(fd);
		done(s, -1, "Cannot read the data connection's PROXY "
		    "header.");
		return NULL;
	}
	pc->s = s;
	pc->dc_done = done;
	return pc;
}

void
proxy_dc_cancel(struct proxy_conn *pc)
{
	if (pc == NULL)
		return;
	close(pc->fd);
	pc_free(pc);
}

/*
 * SECURITY: no active mode through a balancer, for the clients it carries
 * and for a connection served as the balancer itself (a header without a
 * client address: behind a frontend on a UNIX socket every end user may
 * arrive that way): PORT would make the node dial the balancer's host at
 * a client's choice.
 */
int
proxy_no_active(const struct session *s)
{
	return (s->flags & (SF_PROXIED | SF_BALANCER)) != 0;
}
