/*
 * Data connections: PASV/EPSV listeners and PORT/EPRT connects, the peer
 * check against port theft, the TLS handshake with its RFC 4217 session
 * check, and a careful teardown.
 */
#define _GNU_SOURCE	/* accept4 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "datachan.h"
#include "err.h"
#include "ftpaddr.h"
#include "ftpsd.h"
#include "metrics.h"
#include "proxyconn.h"
#include "session.h"
#include "tls.h"

enum dc_mode { DC_NONE, DC_PASSIVE, DC_ACTIVE };
enum dc_tls { DC_TLS_NONE, DC_TLS_RUNNING, DC_TLS_DONE, DC_TLS_FAILED };

struct datachan {
	struct ftpsd		*ctx;		/* counts the passive port */
	enum dc_mode		 mode;
	int			 lfd;		/* passive listener */
	struct event		*accept_ev;
	struct sockaddr_storage	 target;	/* active */
	int			 fd;		/* the data connection */
	int			 foreign;	/* port theft seen */
	int			 accept_err;	/* accept() failed: errno */
	struct event		*wait_ev;	/* accept/connect timeout */
	struct bufferevent	*bev;
	SSL			*ssl;
	dc_cb			 cb;		/* a transfer waits */
	int			 refused;	/* 522 sent: close_notify */
	enum dc_tls		 tls;
	struct proxy_conn	*pc;		/* reading its PROXY header */
};

static struct datachan *
dc_get(struct session *s)
{
	struct datachan	*dc;

	if (s->dc != NULL)
		return s->dc;
	if ((dc = calloc(1, sizeof(*dc))) == NULL)
		return NULL;
	dc->lfd = -1;
	dc->fd = -1;
	s->dc = dc;
	return dc;
}

int
dc_configured(const struct session *s)
{
	return s->dc != NULL && s->dc->mode != DC_NONE;
}

static void
dc_stop_listening(struct datachan *dc)
{
	if (dc->accept_ev != NULL) {
		event_free(dc->accept_ev);
		dc->accept_ev = NULL;
	}
	if (dc->lfd != -1) {
		close(dc->lfd);
		dc->lfd = -1;
		mt_dec(dc->ctx, MT_PASV_OPEN);
	}
}

static void
dc_fail(struct session *s, int code, const char *text)
{
	struct datachan	*dc = s->dc;
	dc_cb		 cb = dc->cb;

	dc->cb = NULL;
	if (cb != NULL)
		cb(s, DC_EV_FAIL, NULL, code, text);	/* may free dc */
}

static void
dc_fail_accept(struct session *s)
{
	char	 text[160];

	snprintf(text, sizeof(text), "Cannot accept the data connection: "
	    "%s.", strerror(s->dc->accept_err));
	dc_fail(s, 425, text);
}

/* The handshake is done and a transfer waits: check, then hand over. */
static void
dc_tls_ready(struct session *s)
{
	struct datachan	*dc = s->dc;
	const char	*reply;

	/* tls_data_check() logs the cause. */
	if (tls_data_check(s, dc->ssl, &reply) != 0) {
		/*
		 * Even a refused connection ends with close_notify, so the
		 * client reads a clean EOF and then the 522 on the control
		 * connection (Python's ftplib otherwise loses sync).
		 */
		dc->refused = 1;
		dc_fail(s, 522, reply);
		return;
	}
	dc->cb(s, DC_EV_READY, dc->bev, 0, NULL);
}

static void
dc_tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;
	struct datachan	*dc = s->dc;
	char		 err[256], why[768], q[LOG_VALUE_MAX];
	unsigned long	 e;
	int		 clear = 0;

	if (what & BEV_EVENT_CONNECTED) {
		dc->tls = DC_TLS_DONE;
		mt_tls_ok(s, 1, dc->ssl);
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		bufferevent_set_timeouts(bev, NULL, NULL);
		if (dc->cb != NULL)
			dc_tls_ready(s);
		return;
	}
	if ((e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, err, sizeof(err));
		/* Not a TLS record: the client speaks clear data (PROT C). */
		clear = ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    (ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER ||
		    ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST);
		while (bufferevent_get_openssl_error(bev) != 0)
			;
	} else
		snprintf(err, sizeof(err), "%s",
		    (what & BEV_EVENT_TIMEOUT) ? "timeout" :
		    (what & BEV_EVENT_EOF) ? "connection closed" :
		    sess_errno_reason());
	/* cert_err names a client certificate's subject: one value. */
	snprintf(why, sizeof(why), "%s%s%s%s", err,
	    s->cert_err[0] != '\0' ? "; " : "", s->cert_err, clear ?
	    " (the client sent clear data: it takes the data channel to be "
	    "PROT C, e.g. Commons Net without execPROT(\"P\"))" : "");
	sess_log(s, LOG_LVL_WARN, "data tls handshake failed reason=%s",
	    log_quote(q, sizeof(q), why));
	mt_tls_fail(s, 1, e, (what & BEV_EVENT_TIMEOUT) != 0,
	    s->cert_err[0] != '\0');
	if (clear)
		mt_inc(s->ctx, MT_REFUSED_NO_PROT_P);
	dc->tls = DC_TLS_FAILED;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	if (dc->cb != NULL)
		dc_fail(s, 425, (what & BEV_EVENT_TIMEOUT) ?
		    "TLS handshake on the data connection timed out." :
		    clear ? "TLS handshake on the data connection failed: "
		    "it carried clear data; this session is in PROT P, so "
		    "send PBSZ 0 and PROT P and use TLS on data connections." :
		    "TLS handshake on the data connection failed.");
}

static void
dc_timeout(struct session *s, struct timeval *tv)
{
	tv->tv_sec = s->ctx->conf.data_timeout;
	tv->tv_usec = 0;
}

/*
 * PROT P: the TLS server handshake starts as soon as the connection
 * exists (curl sends its ClientHello before RETR and otherwise stalls);
 * the file is still opened only once it has succeeded.  0 or FTPS_ETLS.
 */
static int
dc_tls_start(struct session *s)
{
	struct datachan	*dc = s->dc;
	struct ftpsd	*ctx = s->ctx;
	struct timeval	 tv;

	if ((dc->ssl = tls_ssl_new(s->ssl_ctx, s, 1)) == NULL)
		return FTPS_ETLS;
	/*
	 * Uploads: one recv() fills a large record buffer with several
	 * records, instead of two recv()s (header, body) per 16 KiB record.
	 * Set before the handshake allocates the buffer.
	 */
	SSL_set_default_read_buffer_len(dc->ssl, DC_RBUF_LEN);
	SSL_set_read_ahead(dc->ssl, 1);
	/* The fd and SSL stay ours (no CLOSE_ON_FREE): dc_close(). */
	dc->bev = bufferevent_openssl_socket_new(ctx->base, dc->fd, dc->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, 0);
	if (dc->bev == NULL)
		return FTPS_ETLS;
	dc->tls = DC_TLS_RUNNING;
	bufferevent_setcb(dc->bev, NULL, NULL, dc_tls_event_cb, s);
	if (ctx->conf.data_timeout > 0) {
		dc_timeout(s, &tv);
		bufferevent_set_timeouts(dc->bev, &tv, &tv);
	}
	bufferevent_enable(dc->bev, EV_READ | EV_WRITE);
	return 0;
}

/* TCP is up and a transfer waits: 150, then TLS (PROT P) or the data. */
static void
dc_connected(struct session *s)
{
	struct datachan	*dc = s->dc;
	struct ftpsd	*ctx = s->ctx;

	if (dc->wait_ev != NULL) {
		event_free(dc->wait_ev);
		dc->wait_ev = NULL;
	}
	dc->cb(s, DC_EV_CONNECTED, NULL, 0, NULL);
	if (s->dc != dc || dc->cb == NULL)
		return;
	if (!(s->flags & SF_PROT_P) && dc->tls != DC_TLS_NONE) {
		dc_fail(s, 425, "PROT changed after the data connection was "
		    "opened; open a new one.");
		return;
	}
	if (s->flags & SF_PROT_P) {
		switch (dc->tls) {
		case DC_TLS_NONE:
			if (dc_tls_start(s) != 0)
				dc_fail(s, 425, "Cannot set up TLS for the "
				    "data connection.");
			break;
		case DC_TLS_RUNNING:
			break;		/* dc_tls_event_cb goes on */
		case DC_TLS_DONE:
			dc_tls_ready(s);
			break;
		case DC_TLS_FAILED:
			dc_fail(s, 425, "TLS handshake on the data connection "
			    "failed.");
			break;
		}
		return;
	}
	if ((dc->bev = bufferevent_socket_new(ctx->base, dc->fd, 0)) == NULL) {
		dc_fail(s, 425, "Cannot open the data connection.");
		return;
	}
	dc->cb(s, DC_EV_READY, dc->bev, 0, NULL);
}

/* The passive connection passed its checks: TLS (PROT P), then data. */
static void
dc_take(struct session *s, int fd)
{
	struct datachan	*dc = s->dc;

	dc->fd = fd;
	if ((s->flags & SF_PROT_P) && dc_tls_start(s) != 0)
		dc->tls = DC_TLS_FAILED;
	if (dc->cb != NULL)
		dc_connected(s);
}

/* The first connection was refused: so is this passive port. */
static void
dc_refuse(struct session *s, const char *reply)
{
	struct datachan	*dc = s->dc;

	dc->foreign = 1;
	if (dc->cb != NULL)
		dc_fail(s, 425, reply);
}

static void
dc_proxy_done(struct session *s, int fd, const char *why)
{
	s->dc->pc = NULL;
	if (fd == -1)
		dc_refuse(s, why);
	else
		dc_take(s, fd);
}

static void
dc_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct session		*s = arg;
	struct datachan		*dc = s->dc;
	struct proxy_conn	*pc;
	struct sockaddr_storage	 peer;
	socklen_t		 len = sizeof(peer);
	char			 ip[64];
	int			 fd;

	if ((fd = accept4(lfd, (struct sockaddr *)&peer, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno == EAGAIN || errno == EINTR ||
		    errno == ECONNABORTED)
			return;
		/*
		 * EMFILE, ENFILE, ENOBUFS: the connection stays queued and
		 * the listener readable, so retrying would spin the loop.
		 * This data connection fails instead.
		 */
		dc->accept_err = errno;
		sess_log(s, LOG_LVL_WARN, "data accept: %s",
		    strerror(dc->accept_err));
		dc_stop_listening(dc);
		if (dc->cb != NULL)
			dc_fail_accept(s);
		return;
	}
	dc_stop_listening(dc);
	/* Through the balancer: its header names the client (proxyconn.c). */
	if ((s->flags & (SF_PROXIED | SF_BALANCER)) &&
	    proxy_is_trusted(&s->ctx->conf, &peer)) {
		/*
		 * NULL: done already ran (proxy_data = trust, or no memory)
		 * and may have freed dc with the transfer it ended.
		 */
		if ((pc = proxy_dc_accept(s, fd, &peer, dc_proxy_done)) != NULL)
			dc->pc = pc;
		return;
	}
	/*
	 * SECURITY: port theft (RFC 2577 5): the first connection decides.
	 * One from another host is dropped, and so is the passive port.
	 */
	if (!fa_same_host(&peer, &s->peer)) {
		close(fd);
		if (fa_ntop(&peer, ip, sizeof(ip)) != 0)
			snprintf(ip, sizeof(ip), "?");
		sess_log(s, LOG_LVL_WARN, "data connection from foreign "
		    "address %s refused (port theft)", ip);
		mt_inc(s->ctx, MT_REFUSED_WRONG_PEER);
		dc_refuse(s, "Data connection from a foreign address "
		    "refused.");
		return;
	}
	dc_take(s, fd);
}

int
dc_passive(struct session *s, unsigned *port)
{
	struct datachan		*dc;
	struct sockaddr_storage	 ss = s->local;
	unsigned		 lo = s->ctx->conf.pasv_min_port;
	unsigned		 hi = s->ctx->conf.pasv_max_port;
	unsigned		 p = 0, i, n;
	uint32_t		 rnd;
	int			 one = 1;
	socklen_t		 sl;
	int			 fd;

	*port = 0;
	dc_close(s, 0);
	if ((dc = dc_get(s)) == NULL)
		return FTPS_ENOMEM;
	if (lo == 0 || hi < lo) {
		lo = 1024;
		hi = 65535;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return FTPS_ESYS;
	sl = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	/* Finished data connections linger in TIME_WAIT on these ports. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (uint32_t)s->id;
	/*
	 * Random ports first (FTPS_PASV_TRIES), then one sweep of the whole
	 * range from a random start: bounded, and finds any free port.
	 */
	n = hi - lo + 1;
	for (i = 0; i < FTPS_PASV_TRIES + n; i++) {
		if (i < FTPS_PASV_TRIES) {
			if (RAND_bytes((unsigned char *)&rnd,
			    sizeof(rnd)) != 1)
				continue;
			p = lo + rnd % n;
		} else
			p = lo + (rnd + i) % n;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(p);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(p);
		if (bind(fd, (struct sockaddr *)&ss, sl) == 0)
			break;
		if (errno != EADDRINUSE && errno != EACCES)
			i = FTPS_PASV_TRIES + n;
	}
	if (i >= FTPS_PASV_TRIES + n || listen(fd, 1) == -1) {
		sess_log_errno(s, LOG_LVL_WARN, "no passive port free in %u-%u",
		    lo, hi);
		mt_inc(s->ctx, MT_PASV_EXHAUSTED);
		close(fd);
		return FTPS_ESYS;
	}
	dc->accept_ev = event_new(s->ctx->base, fd, EV_READ | EV_PERSIST,
	    dc_accept_cb, s);
	if (dc->accept_ev == NULL || event_add(dc->accept_ev, NULL) != 0) {
		close(fd);
		dc_close(s, 0);
		return FTPS_ENOMEM;
	}
	dc->lfd = fd;
	dc->ctx = s->ctx;
	mt_inc(s->ctx, MT_PASV_OPEN);
	dc->mode = DC_PASSIVE;
	*port = p;
	return 0;
}

void
dc_active(struct session *s, const struct sockaddr_storage *target)
{
	struct datachan	*dc;

	dc_close(s, 0);
	if ((dc = dc_get(s)) == NULL)
		return;
	dc->target = *target;
	dc->mode = DC_ACTIVE;
}

static void
dc_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	struct datachan	*dc = s->dc;
	socklen_t	 len = sizeof(int);
	int		 err = 0;
	char		 text[160];

	if (what & EV_TIMEOUT) {
		dc_fail(s, 425, "Data connection timed out.");
		return;
	}
	/* Active connect finished. */
	if (getsockopt(dc->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		snprintf(text, sizeof(text), "Cannot open data connection: "
		    "%s.", strerror(err));
		sess_log(s, LOG_LVL_WARN, "data connect: %s", strerror(err));
		dc_fail(s, 425, text);
		return;
	}
	dc_connected(s);
}

void
dc_open(struct session *s, dc_cb cb)
{
	struct datachan	*dc = s->dc;
	struct timeval	 tv, *tvp = NULL;
	socklen_t	 sl;
	char		 text[160];

	if (dc == NULL || dc->mode == DC_NONE) {
		cb(s, DC_EV_FAIL, NULL, 425, DC_NOT_SET_UP);
		return;
	}
	dc->cb = cb;
	if (dc->foreign) {
		dc_fail(s, 425, "Data connection from a foreign address "
		    "refused.");
		return;
	}
	if (s->ctx->conf.data_timeout > 0) {
		dc_timeout(s, &tv);
		tvp = &tv;
	}
	if (dc->mode == DC_PASSIVE) {
		if (dc->fd != -1) {
			dc_connected(s);
			return;
		}
		if (dc->accept_err != 0) {
			dc_fail_accept(s);
			return;
		}
		if ((dc->wait_ev = evtimer_new(s->ctx->base, dc_wait_cb,
		    s)) == NULL) {
			dc_fail(s, 425, "Out of memory.");
			return;
		}
		if (tvp != NULL)
			evtimer_add(dc->wait_ev, tvp);
		return;
	}
	if ((dc->fd = socket(dc->target.ss_family, SOCK_STREAM |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		dc_fail(s, 425, "Cannot open data connection.");
		return;
	}
	sl = dc->target.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	if (connect(dc->fd, (struct sockaddr *)&dc->target, sl) == 0) {
		dc_connected(s);
		return;
	}
	if (errno != EINPROGRESS) {
		snprintf(text, sizeof(text), "Cannot open data connection: "
		    "%s.", strerror(errno));
		dc_fail(s, 425, text);
		return;
	}
	if ((dc->wait_ev = event_new(s->ctx->base, dc->fd, EV_WRITE,
	    dc_wait_cb, s)) == NULL || event_add(dc->wait_ev, tvp) != 0) {
		dc_fail(s, 425, "Out of memory.");
		return;
	}
}

/*
 * A data connection being taken down: freed from the loop, never inside
 * one of its own callbacks, and after a download drained until the
 * peer's FIN so the last bytes are not lost to an RST.  Queued on
 * ctx->reaps until then.
 */
struct dc_reap {
	struct ftpsd		*ctx;
	struct bufferevent	*bev;
	SSL			*ssl;
	int			 fd;
	int			 graceful;
	struct event		*ev;
	TAILQ_ENTRY(dc_reap)	 entry;
};

static void
dc_linger_free(struct dc_reap *l)
{
	TAILQ_REMOVE(&l->ctx->reaps, l, entry);
	if (l->ev != NULL)
		event_free(l->ev);
	if (l->bev != NULL)
		bufferevent_free(l->bev);
	if (l->ssl != NULL)
		SSL_free(l->ssl);
	if (l->fd != -1)
		close(l->fd);
	free(l);
}

void
dc_linger_free_all(struct ftpsd *ctx)
{
	struct dc_reap	*l, *next;

	/* Each one is unlinked and freed; next was read before. */
	for (l = TAILQ_FIRST(&ctx->reaps); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		dc_linger_free(l);
	}
}

static void
dc_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dc_reap	*l = arg;
	char		 tmp[4096];
	ssize_t		 n;

	if (what & EV_READ) {
		while ((n = read(fd, tmp, sizeof(tmp))) > 0)
			;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
	}
	dc_linger_free(l);
}

/* Runs from the loop, outside every callback of the connection. */
static void
dc_linger_cb(evutil_socket_t unused, short what, void *arg)
{
	struct dc_reap	*l = arg;
	struct timeval	 tv;

	event_free(l->ev);
	l->ev = NULL;
	if (l->graceful && l->ssl != NULL) {
		/* lftp/gnutls treats a missing close_notify as an error. */
		ERR_clear_error();
		if (SSL_shutdown(l->ssl) < 0)
			ERR_clear_error();
	}
	if (l->bev != NULL) {
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	if (l->ssl != NULL) {
		SSL_free(l->ssl);
		l->ssl = NULL;
	}
	if (!l->graceful || l->fd == -1 || shutdown(l->fd, SHUT_WR) == -1) {
		dc_linger_free(l);
		return;
	}
	/* Read until the peer's FIN so our close sends no RST. */
	tv.tv_sec = FTPS_LINGER_MS / 1000;
	tv.tv_usec = (FTPS_LINGER_MS % 1000) * 1000;
	if ((l->ev = event_new(l->ctx->base, l->fd, EV_READ | EV_PERSIST,
	    dc_drain_cb, l)) == NULL || event_add(l->ev, &tv) != 0)
		dc_linger_free(l);
}

void
dc_close(struct session *s, int graceful)
{
	struct datachan	*dc = s->dc;
	struct dc_reap	*l;
	struct timeval	 tv = { 0, 0 };

	if (dc == NULL)
		return;
	s->dc = NULL;
	if (dc->refused)
		graceful = 1;
	dc_stop_listening(dc);
	proxy_dc_cancel(dc->pc);
	if (dc->wait_ev != NULL)
		event_free(dc->wait_ev);
	if (dc->bev != NULL) {
		bufferevent_setcb(dc->bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(dc->bev, EV_READ | EV_WRITE);
	}
	if (dc->bev == NULL && dc->ssl == NULL && !graceful) {
		if (dc->fd != -1)
			close(dc->fd);
		free(dc);
		return;
	}
	/*
	 * We may be inside a callback of dc->bev: libevent still uses it
	 * and its SSL until the callback returns, so the free is deferred.
	 */
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto now;
	l->ctx = s->ctx;
	l->bev = dc->bev;
	l->ssl = dc->ssl;
	l->fd = dc->fd;
	l->graceful = graceful;
	TAILQ_INSERT_TAIL(&s->ctx->reaps, l, entry);
	if ((l->ev = evtimer_new(s->ctx->base, dc_linger_cb, l)) == NULL ||
	    evtimer_add(l->ev, &tv) != 0) {
		/* Leave it to dc_linger_free_all() at exit. */
		sess_log(s, LOG_LVL_WARN, "cannot schedule data teardown");
	}
	free(dc);
	return;
 now:
	if (dc->bev != NULL)
		bufferevent_free(dc->bev);
	if (dc->ssl != NULL)
		SSL_free(dc->ssl);
	if (dc->fd != -1)
		close(dc->fd);
	free(dc);
}
