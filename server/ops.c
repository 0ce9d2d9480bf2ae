/*
 * Operations: reload without dropping sessions, graceful shutdown and
 * certificate expiry warnings (the contract is in ops.h).
 *
 * A reload reads files as run_as_user (root is gone by then), so the
 * configuration, the users file and certs_dir must be readable by that
 * user; a failure says so and changes nothing.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "auth.h"
#include "authpool.h"
#include "conf.h"
#include "ctl.h"
#include "err.h"
#include "ftpsd.h"
#include "listener.h"
#include "load.h"
#include "log.h"
#include "ops.h"
#include "sdnotify.h"
#include "session.h"
#include "shm.h"
#include "transfer.h"
#include "vhost.h"

#define OPS_VALUE_MAX	(PATH_MAX + 64)
#define OPS_DRAIN_MS	(FTPS_LINGER_MS + 500)

/* a + b + c in a new string, or NULL. */
static char *
ops_join(const char *a, const char *b, const char *c)
{
	size_t	 len = strlen(a) + strlen(b) + strlen(c) + 1;
	char	*p;

	if ((p = malloc(len)) == NULL)
		return NULL;
	snprintf(p, len, "%s%s%s", a, b, c);
	return p;
}

int
ops_remember(struct ftpsd *ctx, const char *conffile,
    const char *const *ov, int n)
{
	char		 cwd[PATH_MAX], value[OPS_VALUE_MAX];
	const char	*eq, *k;
	size_t		 klen;
	int		 i, idx;

	if (conffile != NULL) {
		if (conffile[0] == '/')
			ctx->conffile = strdup(conffile);
		else {
			if (getcwd(cwd, sizeof(cwd)) == NULL)
				return FTPS_ESYS;
			ctx->conffile = ops_join(cwd, "/", conffile);
		}
		if (ctx->conffile == NULL)
			return FTPS_ENOMEM;
	}
	if (n == 0)
		return 0;
	if ((ctx->overrides = calloc((size_t)n, sizeof(char *))) == NULL)
		return FTPS_ENOMEM;
	for (i = 0; i < n; i++) {
		/* The key as conf_set_arg reads it: trimmed, before '='. */
		eq = strchr(ov[i], '=');
		k = ov[i];
		while (*k == ' ' || *k == '\t')
			k++;
		klen = eq != NULL && eq > k ? (size_t)(eq - k) : 0;
		while (klen > 0 && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
			klen--;
		idx = eq != NULL ? conf_key_find(k, klen) : -1;
		if (idx >= 0 && conf_value(&ctx->conf, (size_t)idx, value,
		    sizeof(value)) == 0)
			ctx->overrides[i] = ops_join(conf_key_name((size_t)idx),
			    "=", value);
		else
			ctx->overrides[i] = strdup(ov[i]);
		if (ctx->overrides[i] == NULL)
			return FTPS_ENOMEM;
		ctx->noverrides = i + 1;
	}
	return 0;
}

const char *
ops_conffile(const struct ftpsd *ctx)
{
	if (ctx->conffile != NULL)
		return ctx->conffile;
	if (access(FTPS_DEFAULT_CONF, F_OK) == 0)
		return FTPS_DEFAULT_CONF;
	return NULL;
}

/* "YYYY-MM-DD HH:MM:SS UTC" of an ASN1_TIME. */
static const char *
ops_asn1_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (!ASN1_TIME_to_tm(t, &tm) ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "(unknown date)");
	return buf;
}

const char *
ops_cert_text(SSL_CTX *sctx, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	char			 subj[256], safe[512], when[64];
	char			 fp[EVP_MAX_MD_SIZE * 3];
	X509			*x;

	if (sctx == NULL || (x = SSL_CTX_get0_certificate(sctx)) == NULL) {
		snprintf(buf, len, "none (tls = off)");
		return buf;
	}
	if (X509_NAME_oneline(X509_get_subject_name(x), subj,
	    sizeof(subj)) == NULL)
		snprintf(subj, sizeof(subj), "?");
	fp[0] = '\0';
	if (X509_digest(x, EVP_sha256(), md, &mdlen)) {
		for (i = 0; i < mdlen; i++) {
			fp[i * 3] = hex[md[i] >> 4];
			fp[i * 3 + 1] = hex[md[i] & 15];
			fp[i * 3 + 2] = i + 1 < mdlen ? ':' : '\0';
		}
	}
	snprintf(buf, len, "subject=%s sha256=%s notAfter=\"%s\"",
	    log_safe(safe, sizeof(safe), subj), fp,
	    ops_asn1_time(X509_get0_notAfter(x), when, sizeof(when)));
	return buf;
}

/* The warning for one host's certificate (host NULL: the default). */
static void
ops_certwarn_one(SSL_CTX *sctx, unsigned warn_days, const char *host)
{
	char	 when[64], safe[512], subj[256], who[FTPS_HOSTNAME_MAX + 16];
	X509	*x;
	int	 days = 0, secs = 0;

	if (sctx == NULL || warn_days == 0 ||
	    (x = SSL_CTX_get0_certificate(sctx)) == NULL)
		return;
	who[0] = '\0';
	if (host != NULL)
		snprintf(who, sizeof(who), " of host %s", host);
	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
		return;
	if (X509_NAME_oneline(X509_get_subject_name(x), subj,
	    sizeof(subj)) == NULL)
		snprintf(subj, sizeof(subj), "?");
	log_safe(safe, sizeof(safe), subj);
	ops_asn1_time(X509_get0_notAfter(x), when, sizeof(when));
	if (days < 0 || secs < 0 || (days == 0 && secs == 0))
		log_err("certificate %s%s EXPIRED on %s: clients refuse it; "
		    "renew it (certmgr renew) and reload ftpsd", safe, who,
		    when);
	else if ((unsigned)days < warn_days)
		log_warnx("certificate %s%s expires in %d day%s, on %s "
		    "(cert_warn_days = %u): renew it (certmgr renew) and "
		    "reload ftpsd", safe, who, days, days == 1 ? "" : "s",
		    when, warn_days);
}

void
ops_certwarn(struct ftpsd *ctx)
{
	int	 i;

	ops_certwarn_one(ctx->ssl_ctx, ctx->conf.cert_warn_days, NULL);
	for (i = 0; ctx->vhosts != NULL && i < ctx->vhosts->n; i++)
		ops_certwarn_one(ctx->vhosts->hosts[i]->ssl_ctx,
		    ctx->conf.cert_warn_days, ctx->vhosts->hosts[i]->names[0]);
}

static void
ops_certwarn_cb(evutil_socket_t fd, short what, void *arg)
{
	ops_certwarn(arg);
}

/* Each line a reload collected, as one log line. */
static void
ops_log_lines(enum log_level lvl, const char *text)
{
	const char	*p = text, *nl;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		log_msg(lvl, "reload: %.*s", nl != NULL ? (int)(nl - p) :
		    (int)strlen(p), p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

enum log_dest
ops_log_dest(const struct ftpsd *ctx)
{
	if (ctx->conf.log == CONF_LOG_SYSLOG ||
	    (ctx->conf.log == CONF_LOG_AUTO && !ctx->foreground))
		return LOG_DEST_SYSLOG;
	return LOG_DEST_STDERR;
}

/* ftpsdctl reload waits for this: ok, or the first problem reported. */
static void
ops_tell_ctl(struct ftpsd *ctx, int ok, const char *problems)
{
	char	 why[256], cert[200];
	size_t	 n;

	if (ok)
		snprintf(why, sizeof(why), "certificate %s, %zu users",
		    ops_cert_text(ctx->ssl_ctx, cert, sizeof(cert)),
		    ctx->users ? auth_users_count(ctx->users) : 0);
	else if (problems != NULL && problems[0] != '\0') {
		n = strcspn(problems, "\n");
		snprintf(why, sizeof(why), "%.*s", (int)(n < 250 ? n : 250),
		    problems);
	} else
		snprintf(why, sizeof(why), "see the log");
	ctl_reloaded(ctx, ok, why);
}

int
ops_reload(struct ftpsd *ctx)
{
	struct load_state	 ls;
	FILE			*ef = NULL, *uf = NULL;
	char			*etext = NULL, *utext = NULL, cert[512];
	size_t			 elen = 0, ulen = 0;
	const char		*file;
	int			 ok = 0;

	if (ctx->stopping)
		return FTPS_EPARSE;
	sdn_send(ctx->notify_fd, "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=Reloading", sdn_monotonic_usec());
	memset(&ls, 0, sizeof(ls));
	ls.xferlog_fd = -1;
	file = ops_conffile(ctx);
	log_info("reload: SIGHUP: reading %s", file != NULL ? file :
	    "no configuration file (built-in defaults and -o)");
	if ((ef = open_memstream(&etext, &elen)) == NULL ||
	    (uf = open_memstream(&utext, &ulen)) == NULL) {
		log_err("reload: out of memory");
		goto out;
	}
	/* Everything as at start (load.c), then swapped in whole. */
	if (load_state(ctx, file, (const char *const *)ctx->overrides,
	    ctx->noverrides, LOAD_RELOAD, &ls, ef, uf) != 0)
		goto out;
	/* Sessions hold their own references to what is swapped out. */
	load_swap(ctx, &ls);
	/* SECURITY: users re-read: no login verified before survives. */
	if (ctx->auth != NULL && auth_pool_set_cache(ctx->auth,
	    ctx->conf.login_cache_seconds, 0) != 0)
		log_err("reload: login cache off: out of memory");
	log_init(ctx->log_ident[0] != '\0' ? ctx->log_ident : "ftpsd",
	    ops_log_dest(ctx), ctx->conf.log_debug ?
	    LOG_LVL_DEBUG : LOG_LVL_INFO);
	umask((mode_t)ctx->conf.file_umask);
	ok = 1;
 out:
	if (ef != NULL)
		(void)fclose(ef);	/* memory streams: nothing to lose */
	if (uf != NULL)
		(void)fclose(uf);
	if (utext != NULL && ulen > 0)
		ops_log_lines(LOG_LVL_WARN, utext);
	if (ok) {
		log_info("reload: done: certificate %s, %zu users, "
		    "sessions continuing: %u", ops_cert_text(ctx->ssl_ctx, cert,
		    sizeof(cert)), ctx->users ? auth_users_count(ctx->users) :
		    0, ctx->master != NULL && ctx->counts != NULL ?
		    shm_total(ctx->counts) : ctx->nsessions);
		vh_log_hosts(ctx->vhosts);
		ops_certwarn(ctx);
		sdn_send(ctx->notify_fd, "READY=1\nSTATUS=Ready");
	} else {
		if (etext != NULL && elen > 0)
			ops_log_lines(LOG_LVL_ERR, etext);
		if (geteuid() != 0 && ((etext != NULL &&
		    strstr(etext, "ermission denied") != NULL) ||
		    (utext != NULL && strstr(utext, "ermission denied") !=
		    NULL)))
			log_err("reload: ftpsd runs as uid %u now: the "
			    "configuration, users file and certs_dir must be "
			    "readable by run_as_user", (unsigned)geteuid());
		log_err("reload: failed; the running configuration and "
		    "certificate stay in force");
		sdn_send(ctx->notify_fd, "READY=1\nSTATUS=Ready; the last "
		    "reload failed (see the log)");
	}
	ops_tell_ctl(ctx, ok, etext != NULL && elen > 0 ? etext : utext);
	load_free(&ls);
	free(etext);
	free(utext);
	return ok ? 0 : FTPS_EPARSE;
}

static void
ops_loopbreak_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ftpsd	*ctx = arg;

	event_base_loopbreak(ctx->base);
}

/* Last phase: replies flush for FTPS_STOP_GRACE_MS at most. */
static void
ops_flush_phase(struct ftpsd *ctx)
{
	struct timeval	 tv;

	ctx->stop_phase = 2;
	if (TAILQ_EMPTY(&ctx->sessions)) {
		event_base_loopbreak(ctx->base);
		return;
	}
	tv.tv_sec = FTPS_STOP_GRACE_MS / 1000;
	tv.tv_usec = (FTPS_STOP_GRACE_MS % 1000) * 1000;
	if (ctx->stop_ev == NULL &&
	    (ctx->stop_ev = evtimer_new(ctx->base, ops_loopbreak_cb,
	    ctx)) == NULL) {
		event_base_loopbreak(ctx->base);
		return;
	}
	if (evtimer_add(ctx->stop_ev, &tv) != 0)
		event_base_loopbreak(ctx->base);
}

/* shutdown_timeout is over (or a second signal came): end it all. */
static void
ops_stop_now(struct ftpsd *ctx)
{
	struct session	*s, *next;

	ctx->stop_phase = 2;
	if (ctx->shutdown_ev != NULL)
		evtimer_del(ctx->shutdown_ev);
	for (s = TAILQ_FIRST(&ctx->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->state == SESS_CLOSING)
			continue;
		if (s->xfer != NULL)
			/*
			 * 426, then ops_xfer_ended(): 421 and close; with a
			 * file job in flight, 421 and close below.
			 */
			xfer_abort(s, "shutdown", NULL);
		if (s->state != SESS_CLOSING) {
			sess_reply(s, 421, "Server shutting down.");
			sess_close(s, "shutdown");
		}
	}
	ops_flush_phase(ctx);
}

static void
ops_shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ftpsd	*ctx = arg;

	log_info("shutdown_timeout (%u s) over: ending the transfers "
	    "still running", ctx->conf.shutdown_timeout);
	ops_stop_now(ctx);
}

void
ops_shutdown(struct ftpsd *ctx, int sig)
{
	struct session	*s, *next;
	struct timeval	 tv;
	unsigned	 busy = 0;

	if (ctx->stopping) {
		if (ctx->stop_phase == 1) {
			if (ctx->worker > 0)
				log_info("stop from the master again: "
				    "ending transfers now");
			else
				log_info("signal %d again: ending transfers "
				    "now", sig);
			ops_stop_now(ctx);
		}
		return;
	}
	ctx->stopping = 1;
	ctx->stop_phase = 1;
	sdn_send(ctx->notify_fd, "STOPPING=1\nSTATUS=Shutting down");
	lst_free_all(ctx);
	TAILQ_FOREACH(s, &ctx->sessions, entry)
		if (s->state != SESS_CLOSING && s->xfer != NULL)
			busy++;
	if (ctx->worker > 0)
		log_info("stop from the master: shutting down; %u transfer%s "
		    "may finish within %u s", busy, busy == 1 ? "" : "s",
		    ctx->conf.shutdown_timeout);
	else
		log_info("signal %d: shutting down; %u transfer%s may finish "
		    "within %u s", sig, busy, busy == 1 ? "" : "s",
		    ctx->conf.shutdown_timeout);
	for (s = TAILQ_FIRST(&ctx->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->state == SESS_CLOSING)
			continue;
		if (s->xfer != NULL) {
			sess_log(s, LOG_LVL_INFO, "shutdown: the transfer may "
			    "finish");
			continue;
		}
		sess_reply(s, 421, "Server shutting down.");
		sess_close(s, "shutdown");
	}
	if (busy == 0 || ctx->conf.shutdown_timeout == 0) {
		ops_stop_now(ctx);
		return;
	}
	tv.tv_sec = ctx->conf.shutdown_timeout;
	tv.tv_usec = 0;
	if ((ctx->shutdown_ev = evtimer_new(ctx->base,
	    ops_shutdown_timeout_cb, ctx)) == NULL ||
	    evtimer_add(ctx->shutdown_ev, &tv) != 0)
		ops_stop_now(ctx);
}

/*
 * A transfer's final reply is out (sess_hooks): while shutting down the
 * session gets 421 and is closed (returns 1); else returns 0.
 */
static int
ops_xfer_ended(struct session *s, const struct xfer_report *rep)
{
	struct ftpsd	*ctx = s->ctx;
	struct session	*t;

	if (!ctx->stopping || s->state == SESS_CLOSING)
		return 0;
	sess_reply(s, 421, "Server shutting down.");
	sess_close(s, "shutdown");
	/* The last transfer is done: no need to wait any longer. */
	TAILQ_FOREACH(t, &ctx->sessions, entry)
		if (t->xfer != NULL && t->state != SESS_CLOSING)
			return 1;
	if (ctx->stop_phase == 1) {
		if (ctx->shutdown_ev != NULL)
			evtimer_del(ctx->shutdown_ev);
		ops_flush_phase(ctx);
	}
	return 1;
}

static void
ops_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct ftpsd	*ctx = arg;

	if (sig == SIGHUP || sig == SIGUSR1)
		ops_reload(ctx);
	else
		ops_shutdown(ctx, (int)sig);
}

static const struct sess_hooks ops_hooks = {
	.xfer_ended = ops_xfer_ended,
};

int
ops_start(struct ftpsd *ctx)
{
	struct timeval	 tv = { FTPS_CERTWARN_SECS, 0 };

	ctx->hooks = &ops_hooks;
	if (ctx->worker > 0) {
		/*
		 * A worker takes its orders from the master only: SIGUSR1
		 * reloads, SIGUSR2 stops.  The signals a terminal or the
		 * service manager send the whole group (SIGINT, SIGTERM,
		 * SIGHUP) reach the master, which forwards them once.
		 */
		if (signal(SIGINT, SIG_IGN) == SIG_ERR ||
		    signal(SIGTERM, SIG_IGN) == SIG_ERR ||
		    signal(SIGHUP, SIG_IGN) == SIG_ERR ||
		    (ctx->sigint_ev = evsignal_new(ctx->base, SIGUSR2,
		    ops_signal_cb, ctx)) == NULL ||
		    event_add(ctx->sigint_ev, NULL) != 0 ||
		    (ctx->sighup_ev = evsignal_new(ctx->base, SIGUSR1,
		    ops_signal_cb, ctx)) == NULL ||
		    event_add(ctx->sighup_ev, NULL) != 0)
			return FTPS_ENOMEM;
	} else if ((ctx->sigint_ev = evsignal_new(ctx->base, SIGINT, ops_signal_cb,
	    ctx)) == NULL || event_add(ctx->sigint_ev, NULL) != 0 ||
	    (ctx->sigterm_ev = evsignal_new(ctx->base, SIGTERM, ops_signal_cb,
	    ctx)) == NULL || event_add(ctx->sigterm_ev, NULL) != 0 ||
	    (ctx->sighup_ev = evsignal_new(ctx->base, SIGHUP, ops_signal_cb,
	    ctx)) == NULL || event_add(ctx->sighup_ev, NULL) != 0)
		return FTPS_ENOMEM;
	if ((ctx->certwarn_ev = event_new(ctx->base, -1, EV_PERSIST,
	    ops_certwarn_cb, ctx)) == NULL ||
	    event_add(ctx->certwarn_ev, &tv) != 0)
		return FTPS_ENOMEM;
	ops_certwarn(ctx);
	return 0;
}

void
ops_drain(struct ftpsd *ctx)
{
	struct timespec	 t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!TAILQ_EMPTY(&ctx->reaps)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 +
		    (now.tv_nsec - t0.tv_nsec) / 1000000 >= OPS_DRAIN_MS)
			break;
		/* Each reap has its own timer: this returns in time. */
		if (event_base_loop(ctx->base, EVLOOP_ONCE) != 0)
			break;
	}
}

void
ops_free(struct ftpsd *ctx)
{
	int	 i;

	if (ctx->sighup_ev != NULL)
		event_free(ctx->sighup_ev);
	if (ctx->certwarn_ev != NULL)
		event_free(ctx->certwarn_ev);
	if (ctx->shutdown_ev != NULL)
		event_free(ctx->shutdown_ev);
	ctx->sighup_ev = ctx->certwarn_ev = ctx->shutdown_ev = NULL;
	if (ctx->xferlog_fd != -1)
		close(ctx->xferlog_fd);
	if (ctx->notify_fd != -1)
		close(ctx->notify_fd);
	ctx->xferlog_fd = ctx->notify_fd = -1;
	for (i = 0; i < ctx->noverrides; i++)
		free(ctx->overrides[i]);
	free(ctx->overrides);
	ctx->overrides = NULL;
	ctx->noverrides = 0;
	free(ctx->conffile);
	ctx->conffile = NULL;
}
