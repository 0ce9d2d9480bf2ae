/*
 * One control connection (RFC 959 3): reading command lines, replying,
 * timeouts, the AUTH TLS upgrade and an orderly end.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "auth.h"
#include "authpool.h"
#include "cmd.h"
#include "ctl.h"
#include "datachan.h"
#include "err.h"
#include "ftpsd.h"
#include "listener.h"
#include "listing.h"
#include "metrics.h"
#include "proxyconn.h"
#include "session.h"
#include "tls.h"
#include "transfer.h"
#include "vhost.h"

/* CLOCK_MONOTONIC seconds (idle times for ftpsdctl who). */
static time_t
sess_mono_secs(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Input kept while a command is paused; beyond it the socket waits. */
#define SESS_READ_HIWAT		(2 * FTPS_LINE_MAX)
/*
 * The most one SSL_read() of the control connection takes.  Before every
 * SSL_read() libevent reserves this much in the input buffer (by default
 * up to the high watermark: a 16 KiB chain), and the last read of a
 * burst, which finds no record, leaves that chain allocated and empty:
 * 16 KiB held by every idle session.  512 bytes make it a 1 KiB chain;
 * command lines are short, a long one takes a few reads.
 */
#define SESS_READ_CHUNK		512
/*
 * Backpressure: with more replies than this waiting to be read by the
 * client, no further command is read (pipelined commands wait in the
 * socket); reading resumes once the output has drained.  Under a TLS
 * filter (AUTH TLS) the socket below holds at most SESS_OUT_UNDER of
 * records; the rest waits in the filter's own output.
 */
#define SESS_OUT_HIWAT		(64 * 1024)
#define SESS_OUT_UNDER		(16 * 1024)
/*
 * Under a TLS filter, the most the socket below may hold of records not
 * yet decrypted (two full TLS records).  While the filter's SSL_read
 * must write first (a session ticket queued before a PASV reply, the
 * socket's output full because the client reads nothing), libevent's
 * filter does not stop the socket below from reading: without this bound
 * it read every pipelined byte into memory.
 */
#define SESS_IN_UNDER		(2 * 16384 + 512)
#define SESS_CLOSE_POLL_MS	20
/*
 * Warnings a client can cause at will (a refused PORT, an overlong line)
 * would otherwise let one session write 100,000 log lines a second: a
 * session logs at most SESS_WARN_BURST of them at once, then one per
 * SESS_WARN_COST_MS.  What is held back is counted, and the count is
 * logged with the next warning that passes and at close.  A ban's line
 * is never held back (sess_log_alert): it comes once per ban, and a
 * client that spent the budget just before (overlong lines, then an
 * overlong PASS answered at once) must not hide it.
 */
#define SESS_WARN_BURST		32
#define SESS_WARN_COST_MS	250

static const char *const state_names[] = {
	"greeting", "ready", "tls-pending", "closing"
};

static void	sess_read_cb(struct bufferevent *, void *);
static void	sess_write_cb(struct bufferevent *, void *);
static void	sess_event_cb(struct bufferevent *, short, void *);

/*
 * A warning may be logged now: a budget of SESS_WARN_BURST, one more
 * each SESS_WARN_COST_MS (the generic cell rate algorithm).
 */
static int
sess_warn_ok(struct session *s)
{
	struct timespec	 ts;
	uint64_t	 now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (s->warn_tat_ms < now)
		s->warn_tat_ms = now;
	if (s->warn_tat_ms - now >= (uint64_t)SESS_WARN_BURST *
	    SESS_WARN_COST_MS)
		return 0;
	s->warn_tat_ms += SESS_WARN_COST_MS;
	return 1;
}

/*
 * The one writer of session lines: err is an errno value, or -1; limit:
 * a warning goes through the session's rate limit.
 */
static void
sess_vlog(struct session *s, enum log_level lvl, int err, int limit,
    const char *fmt, va_list ap)
{
	char	 msg[1536], tag[FTPS_HOSTNAME_MAX + 8], more[96] = "";

	if (lvl == LOG_LVL_WARN) {
		if (limit && !sess_warn_ok(s)) {
			s->warn_dropped++;
			return;
		}
		if (s->warn_dropped > 0)
			snprintf(more, sizeof(more), " (and %lu more "
			    "warnings of this session not logged: rate "
			    "limit)", s->warn_dropped);
		s->warn_dropped = 0;
	}
	log_vformat(msg, sizeof(msg), err, fmt, ap);
	log_msg(lvl, "sess=%llu ip=%s %s%s%s", s->id, s->ip,
	    vh_log_tag(s, tag, sizeof(tag)), msg, more);
}

void
sess_log(struct session *s, enum log_level lvl, const char *fmt, ...)
{
	va_list	 ap;

	if ((s->flags & SF_QUIET) && lvl == LOG_LVL_INFO)
		lvl = LOG_LVL_DEBUG;
	/* Debug lines are two per command: not formatted when not logged. */
	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	sess_vlog(s, lvl, -1, 1, fmt, ap);
	va_end(ap);
}

void
sess_log_errno(struct session *s, enum log_level lvl, const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	if ((s->flags & SF_QUIET) && lvl == LOG_LVL_INFO)
		lvl = LOG_LVL_DEBUG;
	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	sess_vlog(s, lvl, err, 1, fmt, ap);
	va_end(ap);
	errno = err;
}

/* A warning no rate limit holds back: once per event (a ban). */
void
sess_log_alert(struct session *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	sess_vlog(s, LOG_LVL_WARN, -1, 0, fmt, ap);
	va_end(ap);
}

void
sess_enter(struct session *s, enum sess_state st)
{
	if (s->state == st)
		return;
	sess_log(s, LOG_LVL_DEBUG, "state %s -> %s", state_names[s->state],
	    state_names[st]);
	s->state = st;
}

SSL *
sess_ssl(struct session *s)
{
	if (s->bev == NULL || !(s->flags & SF_TLS))
		return NULL;
	return bufferevent_openssl_get_ssl(s->bev);
}

static void
sess_ms(struct timeval *tv, unsigned ms)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

static void
sess_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	if (s->flags & SF_LOGGED_IN) {
		sess_reply(s, 421, "Idle timeout (%u seconds): closing "
		    "control connection.", s->ctx->conf.idle_timeout);
		sess_close(s, "idle timeout");
	} else {
		sess_reply(s, 421, "Login timeout (%u seconds): closing "
		    "control connection.", s->ctx->conf.login_timeout);
		sess_close(s, "login timeout");
	}
}

void
sess_deadline(struct timespec *ts, unsigned long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void
sess_until(const struct timespec *ts, struct timeval *tv)
{
	struct timespec	 now;
	long long	 us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (long long)(ts->tv_sec - now.tv_sec) * 1000000LL +
	    (ts->tv_nsec - now.tv_nsec) / 1000;
	if (us < 0)
		us = 0;
	tv->tv_sec = (time_t)(us / 1000000);
	tv->tv_usec = (suseconds_t)(us % 1000000);
}

void
sess_arm_timer(struct session *s)
{
	struct timeval	 tv;
	unsigned	 secs;

	if (s->timer == NULL || s->state == SESS_CLOSING)
		return;
	evtimer_del(s->timer);
	if (s->xfer != NULL)
		return;
	if (!(s->flags & SF_LOGGED_IN)) {
		/*
		 * SECURITY: slot exhaustion: one deadline from accept to
		 * login.  Re-arming it per command let a client sending NOOP
		 * every few seconds hold a slot unauthenticated for ever.
		 */
		sess_until(&s->login_by, &tv);
		evtimer_add(s->timer, &tv);
		return;
	}
	if ((secs = s->ctx->conf.idle_timeout) == 0)
		return;
	tv.tv_sec = secs;
	tv.tv_usec = 0;
	evtimer_add(s->timer, &tv);
}

static void
sess_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	char		*line;

	if (s->state == SESS_CLOSING)
		return;
	if (s->deferred != NULL && s->xfer == NULL && s->job == NULL) {
		line = s->deferred;
		s->deferred = NULL;
		sess_arm_timer(s);
		s->active_at = sess_mono_secs();
		cmd_dispatch(s, line);
		OPENSSL_clear_free(line, strlen(line));
	}
	if (s->state == SESS_READY)
		bufferevent_enable(s->bev, EV_READ);
	sess_input(s);
}

void
sess_resume(struct session *s)
{
	if (s->resume_ev != NULL && s->state != SESS_CLOSING)
		event_active(s->resume_ev, EV_TIMEOUT, 0);
}

static void
sess_setup_bev(struct session *s)
{
	struct bufferevent	*under;

	bufferevent_setcb(s->bev, sess_read_cb, sess_write_cb, sess_event_cb,
	    s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SESS_READ_HIWAT);
	/* The filter moves records down only while this is not exceeded. */
	if ((under = bufferevent_get_underlying(s->bev)) != NULL) {
		bufferevent_setwatermark(under, EV_WRITE, 0, SESS_OUT_UNDER);
		bufferevent_setwatermark(under, EV_READ, 0, SESS_IN_UNDER);
	}
	if (bufferevent_openssl_get_ssl(s->bev) != NULL)
		bufferevent_set_max_single_read(s->bev, SESS_READ_CHUNK);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

struct event_base *
sess_base_new(void)
{
	struct event_config	*cfg;
	struct event_base	*base = NULL;

	/*
	 * SECURITY: user enumeration by timing: a failed login is answered
	 * at its deadline (cmd_auth.c) to the microsecond, not wherever a
	 * coarse clock tick falls.
	 */
	if ((cfg = event_config_new()) == NULL)
		return NULL;
	if (event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER) == 0)
		base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

static void
sess_greet(struct session *s)
{
	sess_reply(s, 220, "ftpsd ready.");
	sess_enter(s, SESS_READY);
}

struct session *
sess_new(struct ftpsd *ctx, int fd, const struct sockaddr_storage *peer,
    unsigned flags)
{
	struct session	*s;
	socklen_t	 sl;
	SSL		*ssl = NULL;
	int		 one = 1, implicit = (flags & SF_IMPLICIT) != 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->ctx = ctx;
	s->flags = flags & (SF_IMPLICIT | SF_BALANCER | SF_QUIET);
	s->id = ctl_next_id(ctx);
	s->fd = fd;
	s->peer = *peer;
	s->vfs.rootfd = -1;
	s->mlst_facts = MF_DEFAULT;
	sess_deadline(&s->login_by, (unsigned long)ctx->conf.login_timeout *
	    1000);
	/* ftpsd.conf's data policy until a login adds the account's. */
	conf_policy_of(&ctx->conf, &s->policy);
	/*
	 * Binary by default, though RFC 959 5.1 says ASCII: clients that
	 * never send TYPE (scripts, many libraries) expect bytes unchanged,
	 * and most servers (vsftpd does no conversion) behave that way.
	 */
	s->ctl_ref.role = TLS_ROLE_CTRL;
	s->ctl_ref.s = s;
	s->data_ref.role = TLS_ROLE_DATA;
	s->data_ref.s = s;
	sl = sizeof(s->local);
	if (getsockname(fd, (struct sockaddr *)&s->local, &sl) == -1)
		goto fail;
	if (getnameinfo((const struct sockaddr *)peer, sizeof(*peer), s->ip,
	    sizeof(s->ip), NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(s->ip, sizeof(s->ip), "?");
	/* Urgent data (Telnet Synch before ABOR) stays in the stream. */
	setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (RAND_bytes(s->token, sizeof(s->token)) != 1)
		goto fail;
	if (ctx->ssl_ctx != NULL && SSL_CTX_up_ref(ctx->ssl_ctx))
		s->ssl_ctx = ctx->ssl_ctx;
	s->vhosts = vh_set_ref(ctx->vhosts);

	if ((s->timer = evtimer_new(ctx->base, sess_timer_cb, s)) == NULL ||
	    (s->resume_ev = event_new(ctx->base, -1, 0, sess_resume_cb,
	    s)) == NULL)
		goto fail;

	if (implicit) {
		if ((ssl = tls_ssl_new(s->ssl_ctx, s, 0)) == NULL)
			goto fail;
		s->bev = bufferevent_openssl_socket_new(ctx->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		s->bev = bufferevent_socket_new(ctx->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		goto fail;
	}
	sess_setup_bev(s);
	TAILQ_INSERT_TAIL(&ctx->sessions, s, entry);
	ctx->nsessions++;
	s->active_at = sess_mono_secs();
	mt_inc(ctx, implicit ? MT_ACCEPT_IMPLICIT : MT_ACCEPT_EXPLICIT);
	mt_inc(ctx, implicit ? MT_SESS_IMPLICIT : MT_SESS_EXPLICIT);
	sess_log(s, LOG_LVL_INFO, "connect port=%s",
	    implicit ? "implicit" : "explicit");
	/* Implicit FTPS greets once the handshake is done (event cb). */
	if (!implicit)
		sess_greet(s);
	sess_arm_timer(s);
	return s;
 fail:
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->resume_ev != NULL)
		event_free(s->resume_ev);
	SSL_CTX_free(s->ssl_ctx);
	vh_set_free(s->vhosts);
	OPENSSL_cleanse(s->token, sizeof(s->token));
	free(s);
	return NULL;
}

void
sess_free(struct session *s)
{
	struct ftpsd	*ctx = s->ctx;

	if (s->auth_job != NULL) {
		auth_cancel(s->auth_job);
		s->auth_job = NULL;
	}
	if (s->xfer != NULL) {
		xfer_free(s->xfer);
		s->xfer = NULL;
	}
	/* A file system command still on the pool finishes on its own. */
	if (s->job != NULL) {
		s->job->s = NULL;
		s->job = NULL;
	}
	dc_close(s, 0);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->delay_ev != NULL)
		event_free(s->delay_ev);
	if (s->close_ev != NULL)
		event_free(s->close_ev);
	if (s->resume_ev != NULL)
		event_free(s->resume_ev);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	if (s->vfs_open)
		vfs_close(&s->vfs);
	if (s->user != NULL)
		auth_user_free(s->user);
	if (s->deferred != NULL)
		OPENSSL_clear_free(s->deferred, strlen(s->deferred));
	free(s->rnfr);
	SSL_CTX_free(s->ssl_ctx);
	vh_free(s->host);
	vh_free(s->tls_host);
	vh_set_free(s->vhosts);
	TAILQ_REMOVE(&ctx->sessions, s, entry);
	ctx->nsessions--;
	lst_release(ctx, &s->peer);
	mt_dec(ctx, (s->flags & SF_IMPLICIT) ? MT_SESS_IMPLICIT :
	    MT_SESS_EXPLICIT);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	/* Shutting down: the loop ends with the last session. */
	if (ctx->stopping && TAILQ_EMPTY(&ctx->sessions) && ctx->base != NULL)
		event_base_loopbreak(ctx->base);
}

static size_t
sess_pending_output(struct session *s)
{
	struct bufferevent	*under;
	size_t			 n;

	n = evbuffer_get_length(bufferevent_get_output(s->bev));
	if ((under = bufferevent_get_underlying(s->bev)) != NULL)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

static void
sess_close_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	struct timespec	 now;
	struct timeval	 tv;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((s->flags & SF_DEAD) || sess_pending_output(s) == 0 ||
	    now.tv_sec > s->close_by.tv_sec ||
	    (now.tv_sec == s->close_by.tv_sec &&
	    now.tv_nsec >= s->close_by.tv_nsec)) {
		sess_free(s);
		return;
	}
	sess_ms(&tv, SESS_CLOSE_POLL_MS);
	evtimer_add(s->close_ev, &tv);
}

void
sess_close(struct session *s, const char *reason)
{
	struct timeval	 tv = { 0, 0 };
	char		 q[LOG_VALUE_MAX];

	if (s->state == SESS_CLOSING)
		return;
	/* The reason may hold a client certificate's subject. */
	if (s->warn_dropped > 0)
		sess_log(s, LOG_LVL_INFO, "close reason=%s "
		    "warnings_not_logged=%lu", log_quote(q, sizeof(q), reason),
		    s->warn_dropped);
	else
		sess_log(s, LOG_LVL_INFO, "close reason=%s",
		    log_quote(q, sizeof(q), reason));
	sess_enter(s, SESS_CLOSING);
	if (s->auth_job != NULL) {
		auth_cancel(s->auth_job);
		s->auth_job = NULL;
	}
	xfer_cancel(s, reason);
	dc_close(s, 0);
	evtimer_del(s->timer);
	if (s->delay_ev != NULL)
		evtimer_del(s->delay_ev);
	bufferevent_disable(s->bev, EV_READ);
	sess_deadline(&s->close_by, FTPS_CLOSE_GRACE_MS);
	/* SECURITY: never free from inside a callback of this session. */
	if (s->close_ev == NULL &&
	    (s->close_ev = evtimer_new(s->ctx->base, sess_close_cb,
	    s)) == NULL) {
		/* No way to defer: a broken invariant of the process. */
		sess_log(s, LOG_LVL_ERR, "cannot allocate close event");
		abort();
	}
	evtimer_add(s->close_ev, &tv);
}

void
sess_reply(struct session *s, int code, const char *fmt, ...)
{
	char	 line[FTPS_REPLY_MAX];
	va_list	 ap;
	int	 n, m;
	char	*p;

	if (s->state == SESS_CLOSING || s->bev == NULL)
		return;
	n = snprintf(line, sizeof(line), "%03d ", code);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 2, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof(line) - (size_t)n - 2)
		m = (int)(sizeof(line) - (size_t)n - 3);
	n += m;
	/* SECURITY: a name echoed back cannot inject a second reply. */
	for (p = line; p < line + n; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	line[n++] = '\r';
	line[n++] = '\n';
	sess_log(s, LOG_LVL_DEBUG, "reply %.*s", n - 2, line);
	bufferevent_write(s->bev, line, (size_t)n);
}

void
sess_reply_raw(struct session *s, const char *text, size_t len)
{
	if (s->state == SESS_CLOSING || s->bev == NULL)
		return;
	bufferevent_write(s->bev, text, len);
}

void
sess_reply_err(struct session *s, int code, int err)
{
	switch (err) {
	case FTPS_ENOENT:
		sess_reply(s, code, "No such file or directory.");
		break;
	case FTPS_EDENIED:
		sess_reply(s, code, "Permission denied.");
		break;
	case FTPS_EPARSE:
		sess_reply(s, code, "Invalid file name.");
		break;
	case FTPS_ETOOBIG:
		sess_reply(s, code, "File name too long.");
		break;
	case FTPS_EEXIST:
		sess_reply(s, code, "File exists.");
		break;
	case FTPS_ESYS:
		/* Out of descriptors or memory: transient (RFC 959 4.2). */
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
		    errno == ENOBUFS)
			sess_reply(s, 451, "%s; try again later.",
			    strerror(errno));
		else if (errno == ENOENT)
			sess_reply(s, code, "No such file or directory.");
		else if (errno == EACCES || errno == EPERM)
			sess_reply(s, code, "Permission denied.");
		else
			sess_reply(s, code, "%s.", strerror(errno));
		break;
	default:
		sess_reply(s, code, "%s.", ftps_strerror(err));
		break;
	}
}

int
sess_quote(const char *in, char *out, size_t outlen)
{
	size_t	 o = 0;

	for (; *in != '\0'; in++) {
		if (o + (*in == '"' ? 2 : 1) >= outlen) {
			if (outlen > 0)
				out[0] = '\0';
			return FTPS_ETOOBIG;
		}
		if (*in == '"')
			out[o++] = '"';
		out[o++] = *in;
	}
	if (outlen == 0)
		return FTPS_ETOOBIG;
	out[o] = '\0';
	return 0;
}

void
sess_strip_telnet(char *line)
{
	unsigned char	*r = (unsigned char *)line, *w = r;

	/* RFC 854: IAC IAC is a data byte; IAC WILL/WONT/DO/DONT x and
	 * IAC <command> are control sequences, not command text. */
	while (*r != '\0') {
		if (*r != 0xff) {
			*w++ = *r++;
			continue;
		}
		if (r[1] == 0xff) {
			*w++ = 0xff;
			r += 2;
		} else if (r[1] >= 251 && r[1] <= 254)
			r += r[2] != '\0' ? 3 : 2;
		else
			r += r[1] != '\0' ? 2 : 1;
	}
	*w = '\0';
}

enum lr_status
sess_readline(struct evbuffer *in, struct linereader *lr, char *line,
    size_t len)
{
	struct evbuffer_ptr	 p;
	size_t			 n, eol;

	for (;;) {
		p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
		if (p.pos == -1) {
			n = evbuffer_get_length(in);
			/* Even with its LF to come it would not fit. */
			if (n < FTPS_LINE_MAX && n < len)
				return LR_MORE;
			evbuffer_drain(in, n);
			if (lr->discarding)
				return LR_MORE;
			lr->discarding = 1;
			return LR_TOOLONG;
		}
		n = (size_t)p.pos + 1;
		if (lr->discarding) {
			evbuffer_drain(in, n);
			lr->discarding = 0;
			continue;
		}
		if (n > FTPS_LINE_MAX || n > len) {
			evbuffer_drain(in, n);
			return LR_TOOLONG;
		}
		evbuffer_remove(in, line, n);
		line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (memchr(line, '\0', n) != NULL) {
			OPENSSL_cleanse(line, n);
			return LR_NUL;
		}
		sess_strip_telnet(line);
		return LR_LINE;
	}
}

/* Replies beyond SESS_OUT_HIWAT wait to be read: stop reading commands. */
static int
sess_out_full(struct session *s)
{
	if (sess_pending_output(s) <= SESS_OUT_HIWAT)
		return 0;
	s->flags |= SF_OUT_FULL;
	return 1;
}

static int
sess_paused(struct session *s)
{
	return s->state != SESS_READY || s->auth_job != NULL ||
	    s->job != NULL ||
	    (s->delay_ev != NULL && evtimer_pending(s->delay_ev, NULL)) ||
	    s->deferred != NULL || sess_out_full(s) ||
	    (s->xfer != NULL && xfer_ending(s->xfer));
}

void
sess_input(struct session *s)
{
	char		 line[FTPS_LINE_MAX + 1];
	enum lr_status	 r;

	if (proxy_sess_input(s))
		return;
	while (!sess_paused(s)) {
		r = sess_readline(bufferevent_get_input(s->bev), &s->lr, line,
		    sizeof(line));
		if (r == LR_MORE)
			break;
		if (s->flags & SF_QUIET) {
			/* A client after all: its connect line, late. */
			s->flags &= ~SF_QUIET;
			sess_log(s, LOG_LVL_INFO, "connect port=%s; the "
			    "balancer's own connection",
			    (s->flags & SF_IMPLICIT) ? "implicit" : "explicit");
		}
		if (r == LR_TOOLONG) {
			sess_log(s, LOG_LVL_WARN, "command line too long");
			sess_reply(s, 500, "Command line too long.");
			continue;
		}
		if (r == LR_NUL) {
			sess_reply(s, 500, "NUL byte in command line.");
			continue;
		}
		if (s->xfer != NULL && !cmd_during_xfer(line)) {
			/* Runs once the transfer's final reply is out. */
			if ((s->deferred = strdup(line)) == NULL) {
				sess_reply(s, 421, "Out of memory.");
				sess_close(s, "out of memory");
			}
			break;
		}
		sess_arm_timer(s);
		s->active_at = sess_mono_secs();
		cmd_dispatch(s, line);
	}
	OPENSSL_cleanse(line, sizeof(line));
	/*
	 * SECURITY: a paused session (password check, failed-login delay, a
	 * file system command on the I/O pool, a command waiting for a
	 * transfer, a transfer's final reply waiting for its file job,
	 * replies the client does not read) stops reading.  With its input at
	 * the high watermark libevent would otherwise run this callback again
	 * and again: one client could keep the loop at 100% CPU.
	 * sess_resume_cb() turns reading back on.
	 */
	if (s->state == SESS_READY && sess_paused(s))
		bufferevent_disable(s->bev, EV_READ);
}

void
sess_start_tls(struct session *s)
{
	sess_enter(s, SESS_TLS_PENDING);
	/*
	 * SECURITY: STARTTLS command injection: plaintext pipelined after
	 * AUTH TLS is discarded, never executed.  Stop reading now; the rest
	 * of the input is dropped again right before the TLS filter goes on
	 * (sess_write_cb), and later bytes can only be TLS records.
	 */
	evbuffer_drain(bufferevent_get_input(s->bev),
	    evbuffer_get_length(bufferevent_get_input(s->bev)));
	bufferevent_disable(s->bev, EV_READ);
}

static void
sess_upgrade(struct session *s)
{
	struct bufferevent	*tb;
	SSL			*ssl;
	size_t			 n;

	if ((n = evbuffer_get_length(bufferevent_get_input(s->bev))) > 0) {
		sess_log(s, LOG_LVL_WARN, "discarded %zu plaintext bytes after "
		    "AUTH TLS", n);
		evbuffer_drain(bufferevent_get_input(s->bev), n);
	}
	if ((ssl = tls_ssl_new(s->ssl_ctx, s, 0)) == NULL) {
		sess_close(s, "tls setup failed");
		return;
	}
	tb = bufferevent_openssl_filter_new(s->ctx->base, s->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tb == NULL) {
		SSL_free(ssl);
		sess_close(s, "tls setup failed");
		return;
	}
	s->bev = tb;
	sess_setup_bev(s);
	bufferevent_enable(bufferevent_get_underlying(tb), EV_READ | EV_WRITE);
}

static void
sess_read_cb(struct bufferevent *bev, void *arg)
{
	sess_input(arg);
}

static void
sess_write_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	/* The 234 is on the wire: only now may TLS start (RFC 4217 4). */
	if (s->state == SESS_TLS_PENDING && !(s->flags & SF_TLS) &&
	    bufferevent_get_underlying(s->bev) == NULL)
		sess_upgrade(s);
	/* The replies drained (output empty): commands are read again. */
	if ((s->flags & SF_OUT_FULL) && !sess_out_full(s)) {
		s->flags &= ~SF_OUT_FULL;
		sess_resume(s);
	}
}

const char *
sess_errno_reason(void)
{
	/*
	 * libevent reports some errors (an SSL_ERROR_SYSCALL at EOF, a
	 * reset seen by the filter) without setting errno: what is left is
	 * a stale EAGAIN or EINTR from an earlier call, or nothing.
	 */
	if (errno == 0 || errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR)
		return "connection lost";
	return strerror(errno);
}

static void
sess_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;
	char		 err[256], reason[600];
	unsigned long	 e;
	SSL		*ssl;

	if (what & BEV_EVENT_CONNECTED) {
		ssl = bufferevent_openssl_get_ssl(bev);
		s->flags |= SF_TLS;
		if (ssl != NULL) {
			tls_ctrl_ready(s, ssl);
			mt_tls_ok(s, 0, ssl);
		}
		if (s->state == SESS_GREETING)
			sess_greet(s);
		else
			sess_enter(s, SESS_READY);
		sess_arm_timer(s);
		sess_input(s);
		return;
	}
	s->flags |= SF_DEAD;
	e = bufferevent_get_openssl_error(bev);
	/* A health check that leaves at once is no failed handshake. */
	if (!(s->flags & (SF_TLS | SF_QUIET)) &&
	    (s->state == SESS_TLS_PENDING ||
	    (s->state == SESS_GREETING && (s->flags & SF_IMPLICIT))))
		mt_tls_fail(s, 0, e, (what & BEV_EVENT_TIMEOUT) != 0,
		    s->cert_err[0] != '\0');
	if (what & BEV_EVENT_EOF) {
		sess_close(s, "client closed");
		return;
	}
	if (e != 0) {
		ERR_error_string_n(e, err, sizeof(err));
		while (bufferevent_get_openssl_error(bev) != 0)
			;
	} else
		snprintf(err, sizeof(err), "%s", sess_errno_reason());
	if (s->state == SESS_TLS_PENDING || s->state == SESS_GREETING)
		/* The verify reason, when a client certificate was refused. */
		snprintf(reason, sizeof(reason), "tls handshake failed: "
		    "%s%s%s", err, s->cert_err[0] != '\0' ? "; " : "",
		    s->cert_err);
	else
		snprintf(reason, sizeof(reason), "%s", err);
	sess_close(s, reason);
}
