/*
 * One control connection: its state, its bounded line reader and the way
 * replies leave.  Only sess_enter() writes s->state; only sess_close()
 * ends a session (it logs why and frees later, from the loop).
 */
#ifndef FTPS_SESSION_H
#define FTPS_SESSION_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "conf.h"
#include "ftps_limits.h"
#include "log.h"
#include "vfs.h"

struct bufferevent;
struct evbuffer;
struct event_base;
struct event;
struct ftpsd;
struct auth_job;
struct cmd_job;
struct user;
struct datachan;
struct xfer;
struct xfer_report;
struct vhost;
struct vhost_set;

enum sess_state { SESS_GREETING, SESS_READY, SESS_TLS_PENDING, SESS_CLOSING };

/* Facts, not states. */
#define SF_TLS		0x0001	/* control channel is TLS */
#define SF_LOGGED_IN	0x0002
#define SF_PROT_P	0x0004	/* data connections are TLS */
#define SF_PBSZ		0x0008
#define SF_EPSV_ALL	0x0010	/* RFC 2428 3: only EPSV from now on */
#define SF_ANON		0x0020
#define SF_IMPLICIT	0x0040	/* arrived on the implicit port */
#define SF_USER_SENT	0x0080	/* USER given, PASS expected */
#define SF_TYPE_A	0x0100	/* TYPE A (else I) */
#define SF_RNFR		0x0200	/* s->rnfr is the RNFR path */
#define SF_QUIT		0x0400	/* QUIT came during a transfer */
#define SF_DEAD		0x0800	/* peer gone: do not wait to flush */
#define SF_CERT		0x1000	/* control TLS has a verified client cert */
#define SF_OUT_FULL	0x2000	/* reading paused: replies wait to be read */
#define SF_PROXIED	0x4000	/* came through a trusted balancer; peer is
				 * the client its PROXY header named */
#define SF_PROXY_SNIFF	0x8000	/* untrusted, proxy_protocol on: a PROXY
				 * header as first input closes it */
#define SF_BALANCER	0x10000	/* the balancer's own connection (a PROXY
				 * header without a client address, or
				 * naming the balancer): peer == via */
#define SF_QUIET	0x20000	/* SF_BALANCER before its first command
				 * line: info lines go out as debug (a
				 * health check connects and leaves) */

#define SESS_TOKEN_LEN	16

/* What an SSL's app data points to, so TLS callbacks find their session. */
enum tls_role { TLS_ROLE_CTRL, TLS_ROLE_DATA };
struct tls_ref {
	enum tls_role		 role;
	struct session		*s;
};

/*
 * What the sessions' owner (ops.c) hears about, without the modules that
 * report it (transfer.c) calling into ops: one table, set on the context
 * (ctx->hooks) before the first session starts.  NULL entries: nobody
 * listens.
 */
struct sess_hooks {
	/*
	 * A transfer ended and its final reply is queued.  1: the hook
	 * closed the session (shutdown); 0: it reads commands again.
	 */
	int	(*xfer_ended)(struct session *, const struct xfer_report *);
};

/* The bounded line reader (RFC 959 4.1: Telnet lines ending in CRLF). */
struct linereader {
	int			 discarding;	/* inside an overlong line */
};

enum lr_status { LR_MORE, LR_LINE, LR_TOOLONG, LR_NUL };

struct session {
	struct ftpsd		*ctx;
	TAILQ_ENTRY(session)	 entry;
	unsigned long long	 id;
	enum sess_state		 state;
	unsigned		 flags;

	int			 fd;
	struct bufferevent	*bev;		/* socket bev or TLS on top */
	struct sockaddr_storage	 peer, local;
	char			 ip[64];	/* numeric peer address */
	struct sockaddr_storage	 via;		/* SF_PROXIED, SF_BALANCER: the
						 * balancer (the connection's
						 * real peer) */

	struct linereader	 lr;
	struct event		*timer;		/* login/idle timeout */
	struct event		*delay_ev;	/* failed-login delay */
	struct event		*close_ev;	/* flush, then free */
	struct event		*resume_ev;	/* read on after a pause */
	struct timespec		 close_by;
	struct timespec		 login_by;	/* accept + login_timeout */
	time_t			 active_at;	/* last command, monotonic s */
	char			*deferred;	/* line that came mid-transfer */

	/* Login. */
	char			 username[FTPS_USER_MAX + 1];
	struct user		*user;		/* NULL: unknown or anonymous */
	unsigned		 perms;		/* PERM_* */
	struct auth_job		*auth_job;
	struct vfs		 vfs;
	int			 vfs_open;
	uint64_t		 io_owner;	/* the home's key in the I/O pool */
	unsigned		 failed_logins;
	struct timeval		 fail_at;	/* PASS + FTPS_LOGIN_DELAY_MS on
						 * the loop's clock: when a
						 * failure is answered */

	/* Commands. */
	struct cmd_job		*job;		/* a file system command on
						 * the I/O pool (cmd.h): no
						 * command is read meanwhile */
	char			*rnfr;		/* owned, or NULL */
	unsigned long long	 rest;
	unsigned		 mlst_facts;	/* MF_* (listing.h) */

	/* TLS and the RFC 4217 data-channel binding. */
	SSL_CTX			*ssl_ctx;	/* a reference to the context at
						 * accept: a reload keeps this
						 * session's certificate and
						 * ticket keys */
	unsigned char		 token[SESS_TOKEN_LEN];
	struct tls_ref		 ctl_ref, data_ref;
	struct conf_policy	 policy;	/* data_tls, data_session_reuse:
						 * ftpsd.conf's, the account's
						 * from login on */
	unsigned		 ctl_tickets;	/* sent on the control conn */
	int			 data_offer;	/* enum tls_offer, this data
						 * handshake's */
	int			 resume_noted;	/* "not resumed" logged once */

	/* Warnings a client can cause at will, rate limited (session.c). */
	uint64_t		 warn_tat_ms;	/* the budget's horizon */
	unsigned long		 warn_dropped;	/* not logged since */

	/* Virtual hosts (vhost.c); both NULL without [host] sections. */
	struct vhost_set	*vhosts;	/* the set at accept */
	struct vhost		*host;		/* NULL: the default host */
	struct vhost		*tls_host;	/* whose context served the
						 * control handshake, and so
						 * serves the data ones */
	unsigned		 vh_flags;	/* VH_SNI, VH_HOST */

	/* Mutual TLS (mtls.c). */
	char			 cert_name[FTPS_USER_MAX + 1]; /* "": none */
	char			 cert_err[256];	/* why a cert was refused */
	const char		*login_why;	/* static; logged on failure */

	struct datachan		*dc;
	struct xfer		*xfer;
};

/*
 * The event loop sessions run on: precise timers (timerfd and
 * CLOCK_MONOTONIC, not the coarse clock's ticks of a few ms), which the
 * failed-login deadline needs.  NULL on failure.
 */
struct event_base *sess_base_new(void);
/* flags: SF_IMPLICIT (the implicit port), SF_BALANCER | SF_QUIET. */
struct session	*sess_new(struct ftpsd *, int fd,
		    const struct sockaddr_storage *peer, unsigned flags);
/* Logs reason, stops reading, and frees once the output is flushed. */
void		 sess_close(struct session *, const char *reason);
/* Frees now; only from the loop (close_ev) or at process exit. */
void		 sess_free(struct session *);
void		 sess_enter(struct session *, enum sess_state);

/* "CODE text\r\n".  CR and LF in the text are replaced. */
void		 sess_reply(struct session *, int code, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/* A reply built in a buf (multi-line replies, RFC 959 4.2). */
void		 sess_reply_raw(struct session *, const char *, size_t);
/* "CODE reason" for an FTPS_E code (550 No such file...). */
void		 sess_reply_err(struct session *, int code, int err);

/*
 * Every line about one session: "sess=N ip=A " then the message.  The
 * _errno form appends ": strerror(errno)", as log_warn() does.
 */
void		 sess_log(struct session *, enum log_level, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 sess_log_errno(struct session *, enum log_level, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
/* A warning the session's rate limit never holds back (a ban's line). */
void		 sess_log_alert(struct session *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Reads and runs queued command lines unless the session is paused. */
void		 sess_input(struct session *);
/* Resumes sess_input() from the loop once a pause is over. */
void		 sess_resume(struct session *);
/*
 * (Re)arms the idle timeout, none while a transfer runs; before login,
 * the one login deadline set at accept (commands never push it back).
 */
void		 sess_arm_timer(struct session *);
/* *ts = CLOCK_MONOTONIC now + ms. */
void		 sess_deadline(struct timespec *ts, unsigned long ms);
/* *tv = from now until the CLOCK_MONOTONIC time ts; 0 once it passed. */
void		 sess_until(const struct timespec *ts, struct timeval *tv);
/*
 * Why a bufferevent reported BEV_EVENT_ERROR, from errno: strerror, or
 * "connection lost" when errno says nothing (0, or a stale EAGAIN/EINTR).
 */
const char	*sess_errno_reason(void);
/* AUTH TLS replied 234: discard input, upgrade once the reply is out. */
void		 sess_start_tls(struct session *);
/* The control connection's SSL, or NULL. */
SSL		*sess_ssl(struct session *);

/*
 * Takes one line from in (through LF; CR before it and Telnet IAC
 * sequences are removed) into line, of size len >= FTPS_LINE_MAX.
 * LR_MORE: no complete line yet.  LR_TOOLONG: a line exceeded
 * FTPS_LINE_MAX bytes; it is discarded through its LF and reported once.
 * LR_NUL: the line held a NUL byte and was discarded.
 */
enum lr_status	 sess_readline(struct evbuffer *in, struct linereader *,
		    char *line, size_t len);
/* Removes Telnet IAC sequences (RFC 854) in place; IAC IAC is 0xff. */
void		 sess_strip_telnet(char *);
/* '"' doubled (RFC 959 appendix II) into out; 0 or FTPS_ETOOBIG. */
int		 sess_quote(const char *in, char *out, size_t outlen);

#endif
