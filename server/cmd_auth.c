/*
 * Login and security commands: USER PASS ACCT REIN QUIT (RFC 959 4.1.1),
 * AUTH PBSZ PROT CCC (RFC 2228, RFC 4217).
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "addrkey.h"
#include "auth.h"
#include "authpool.h"
#include "ban.h"
#include "cmd.h"
#include "conf.h"
#include "err.h"
#include "ftpsd.h"
#include "hash.h"
#include "metrics.h"
#include "parse.h"
#include "session.h"
#include "transfer.h"
#include "vfs.h"
#include "vhost.h"

_Static_assert(AUTH_FLOW_LEN == ADDR_KEY_LEN, "a flow is an address key");

static void
cmd_login_reset(struct session *s)
{
	if (s->user != NULL) {
		auth_user_free(s->user);
		s->user = NULL;
	}
	s->flags &= ~(SF_USER_SENT | SF_ANON);
	s->username[0] = '\0';
	s->login_why = NULL;
}

static int
cmd_is_anon_name(const char *name)
{
	return str_ieq(name, "anonymous") || str_ieq(name, "ftp");
}

static void	cmd_pass_done(int, void *);
static void	cmd_login_ok(struct session *, const char *, unsigned);

/*
 * A PASS (or a USER that fails at once) came: a failure is answered
 * FTPS_LOGIN_DELAY_MS from now, on the loop's clock.
 */
static void
cmd_fail_deadline(struct session *s)
{
	struct timeval	 delay = { FTPS_LOGIN_DELAY_MS / 1000,
			    (FTPS_LOGIN_DELAY_MS % 1000) * 1000 };

	if (event_gettime_monotonic(s->ctx->base, &s->fail_at) != 0)
		timerclear(&s->fail_at);
	evutil_timeradd(&s->fail_at, &delay, &s->fail_at);
}

/*
 * USER (RFC 959 4.1.1): the same 331 whether or not the name exists.
 * With a client certificate (docs/mtls.md) the name must be the one the
 * certificate names, and a "cert" account logs in here: 232 (RFC 2228).
 */
void
cmd_user(struct session *s, const char *arg)
{
	const struct user	*u = NULL;
	enum auth_cert_action	 act;
	char			 safe[FTPS_USER_MAX * 4 + 8];

	if (s->flags & SF_LOGGED_IN) {
		sess_reply(s, 503, "Already logged in.");
		return;
	}
	cmd_login_reset(s);
	if (str_copy(s->username, sizeof(s->username), arg) != 0) {
		sess_reply(s, 501, "User name too long.");
		return;
	}
	s->flags |= SF_USER_SENT;
	if (vh_users(s) != NULL)
		u = auth_user_find(vh_users(s), arg);
	act = auth_cert_decide(u, arg, (s->flags & SF_CERT) != 0,
	    s->cert_name[0] != '\0' ? s->cert_name : NULL);
	if (act == AUTH_CERT_MISMATCH) {
		/* The same delayed 530 as a wrong password. */
		s->login_why = "the client certificate names another user";
		cmd_fail_deadline(s);
		cmd_pass_done(0, s);
		return;
	}
	if (vh_conf(s)->anonymous && cmd_is_anon_name(arg)) {
		s->flags |= SF_ANON;
		sess_reply(s, 331, "Anonymous login ok, send your e-mail "
		    "address as password.");
		return;
	}
	if (act == AUTH_CERT_REFUSE) {
		/* SECURITY: 331 as for any name, PASS fails (enumeration). */
		s->login_why = (s->flags & SF_CERT) ? "account disabled" :
		    "no client certificate";
		u = NULL;
	}
	if (u != NULL && (s->user = auth_user_dup(u)) == NULL) {
		sess_reply(s, 421, "Out of memory.");
		sess_close(s, "out of memory");
		return;
	}
	log_quote(safe, sizeof(safe), arg);
	sess_log(s, LOG_LVL_DEBUG, "user name=%s", safe);
	if (act == AUTH_CERT_LOGIN) {
		cmd_login_ok(s, s->user->home, s->user->perms);
		return;
	}
	sess_reply(s, 331, "Password required.");
}

/*
 * The data policy of the account: ftpsd.conf's, under the users file's
 * overrides (a [host] level goes between the two).  Logged, so an admin
 * sees what each login runs under.
 */
static void
cmd_login_policy(struct session *s, const char *safe)
{
	struct conf_policy	 none;
	char			 eff[CONF_POLICY_STR_MAX];
	char			 over[CONF_POLICY_STR_MAX];

	conf_policy_unset(&none);
	conf_policy_of(vh_conf(s), &s->policy);
	if (s->user != NULL)
		conf_policy_merge(&s->policy, &s->user->policy);
	conf_policy_str(&s->policy, eff, sizeof(eff));
	conf_policy_str(s->user != NULL ? &s->user->policy : &none, over,
	    sizeof(over));
	sess_log(s, LOG_LVL_INFO, "login policy user=%s %s (users file: %s)",
	    safe, eff, over[0] != '\0' ? over : "none");
}

static void
cmd_login_ok(struct session *s, const char *home, unsigned perms)
{
	char	 safe[FTPS_USER_MAX * 4 + 8], hsafe[256];
	int	 err;

	log_quote(safe, sizeof(safe), s->username);
	if (vfs_open_root(&s->vfs, home) != 0) {
		err = errno;
		log_safe(hsafe, sizeof(hsafe), home);
		cmd_login_reset(s);
		/*
		 * Out of descriptors or memory is the server's state, not the
		 * user's: RFC 959 4.2 421, service not available, and the
		 * connection closes (it frees its own descriptor).
		 */
		if (err == EMFILE || err == ENFILE || err == ENOMEM) {
			sess_log(s, LOG_LVL_ERR, "login user=%s result=fail "
			    "reason=\"%s opening home %s: %s\"", safe,
			    err == EMFILE ? "process out of file descriptors "
			    "(EMFILE)" : err == ENFILE ? "system out of file "
			    "descriptors (ENFILE)" : "out of memory (ENOMEM)",
			    hsafe, strerror(err));
			sess_reply(s, 421, "Service not available: server out "
			    "of resources; try again later.");
			sess_close(s, err == ENOMEM ? "out of memory" :
			    "out of file descriptors");
			return;
		}
		sess_log(s, LOG_LVL_ERR, "login user=%s result=fail "
		    "reason=\"cannot open home %s: %s\"", safe, hsafe,
		    strerror(err));
		sess_reply(s, 530, "Login incorrect: home directory "
		    "unavailable.");
		return;
	}
	s->vfs_open = 1;
	/* Sessions of one home share the I/O pool as one (iopool.h). */
	s->io_owner = hash_fnv1a(HASH_FNV1A_INIT, home, strlen(home)) | 1;
	s->perms = perms;
	s->flags |= SF_LOGGED_IN;
	s->flags &= ~SF_USER_SENT;
	mt_login(s, 1);
	if (s->user != NULL && s->user->method != AUTH_METHOD_PASSWORD)
		sess_log(s, LOG_LVL_INFO, "login user=%s result=ok method=%s",
		    safe, auth_method_name(s->user->method));
	else
		sess_log(s, LOG_LVL_INFO, "login user=%s result=ok%s", safe,
		    (s->flags & SF_ANON) ? " anonymous" : "");
	cmd_login_policy(s, safe);
	if (s->user != NULL && s->user->method == AUTH_METHOD_CERT)
		sess_reply(s, 232, "User logged in, authorized by security "
		    "data exchange.");
	else
		sess_reply(s, 230, "Login successful.");
	sess_arm_timer(s);
}

static void
cmd_banned(struct session *s)
{
	sess_reply(s, 421, "Too many failed logins from your address; try "
	    "again later.");
	sess_close(s, "address banned");
}

static void
cmd_login_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	sess_reply(s, 530, "Login incorrect.");
	/* SECURITY: password guessing: a few tries per connection... */
	if (s->failed_logins >= s->ctx->conf.max_login_failures) {
		sess_reply(s, 421, "Too many failed logins.");
		sess_close(s, "too many failed logins");
		return;
	}
	/* ...and per address, whatever the connections (ban.c). */
	if (ban_left(s->ctx, &s->peer) > 0) {
		cmd_banned(s);
		return;
	}
	sess_resume(s);
}

static void
cmd_pass_done(int ok, void *arg)
{
	struct session	*s = arg;
	struct timeval	 tv, now;
	char		 safe[FTPS_USER_MAX * 4 + 8];

	s->auth_job = NULL;
	if (ok && s->user != NULL) {
		cmd_login_ok(s, s->user->home, s->user->perms);
		sess_resume(s);
		return;
	}
	log_quote(safe, sizeof(safe), s->username);
	if (s->login_why != NULL)
		sess_log(s, LOG_LVL_INFO, "login user=%s result=fail "
		    "reason=\"%s\"", safe, s->login_why);
	else
		sess_log(s, LOG_LVL_INFO, "login user=%s result=fail", safe);
	s->failed_logins++;
	mt_login(s, 0);
	if (ban_fail(s->ctx, &s->peer) == 1)
		sess_log_alert(s, "address banned for %u seconds: %u "
		    "failed logins within %u seconds", s->ctx->conf.ban_seconds,
		    s->ctx->conf.ban_failures, s->ctx->conf.ban_window);
	cmd_login_reset(s);
	/*
	 * SECURITY: password guessing and user enumeration: every failure
	 * is answered at one fixed deadline after PASS arrived (a timer,
	 * the loop keeps running), never a fixed delay after the hash: the
	 * hash's own cost (sha512crypt, yescrypt, the dummy of an unknown
	 * name) would show through.
	 */
	if (s->delay_ev == NULL && (s->delay_ev = evtimer_new(s->ctx->base,
	    cmd_login_delay_cb, s)) == NULL) {
		sess_reply(s, 530, "Login incorrect.");
		sess_resume(s);
		return;
	}
	/*
	 * On the loop's own clock (libevent's may be the coarse one), from
	 * a fresh reading: the 530 leaves at the first loop turn past
	 * fail_at, a time that depends on when PASS came and on nothing
	 * else.
	 */
	event_base_update_cache_time(s->ctx->base);
	if (event_gettime_monotonic(s->ctx->base, &now) != 0) {
		tv.tv_sec = FTPS_LOGIN_DELAY_MS / 1000;
		tv.tv_usec = (FTPS_LOGIN_DELAY_MS % 1000) * 1000;
	} else {
		evutil_timersub(&s->fail_at, &now, &tv);
		if (tv.tv_sec < 0)	/* past it already */
			timerclear(&tv);
	}
	evtimer_add(s->delay_ev, &tv);
}

/* PASS (RFC 959 4.1.1): checked on the pool; reading pauses meanwhile. */
void
cmd_pass(struct session *s, const char *arg)
{
	unsigned char	 flow[AUTH_FLOW_LEN];
	int		 r;

	if (s->flags & SF_LOGGED_IN) {
		sess_reply(s, 503, "Already logged in.");
		return;
	}
	if (!(s->flags & SF_USER_SENT)) {
		sess_reply(s, 503, "Login with USER first.");
		return;
	}
	cmd_fail_deadline(s);
	/* A session opened before its address was banned ends here. */
	if (ban_left(s->ctx, &s->peer) > 0) {
		cmd_banned(s);
		return;
	}
	if (s->flags & SF_ANON) {
		cmd_login_ok(s, vh_conf(s)->anonymous_root, PERM_READ);
		return;
	}
	if (strlen(arg) > FTPS_PASS_MAX) {
		/* Still the same reply and delay as any wrong password. */
		cmd_pass_done(0, s);
		return;
	}
	/*
	 * An unknown user is checked against a dummy hash; the check waits
	 * in its address's flow (one address's flood delays only itself).
	 */
	if (addr_key(&s->peer, s->ctx->conf.ipv6_prefix, flow) != 0)
		memset(flow, 0, sizeof(flow));
	r = auth_check_from(s->ctx->auth, flow, s->user ? s->user->name :
	    NULL, s->user ? s->user->hash : NULL, arg, cmd_pass_done, s,
	    &s->auth_job);
	if (r != 0) {
		s->auth_job = NULL;
		sess_log(s, LOG_LVL_WARN, "password check not queued: %s",
		    ftps_strerror(r));
		sess_reply(s, 421, "Too many logins in progress, try again "
		    "later.");
		sess_close(s, "auth queue full");
	}
}

/* ACCT (RFC 959 4.1.1): no accounts beyond the user. */
void
cmd_acct(struct session *s, const char *arg)
{
	sess_reply(s, 502, "ACCT not implemented.");
}

/* REIN (RFC 959 4.1.1): not offered; reconnect instead. */
void
cmd_rein(struct session *s, const char *arg)
{
	sess_reply(s, 502, "REIN not implemented.");
}

static void
cmd_quit_now(struct session *s)
{
	sess_reply(s, 221, "Goodbye.");
	sess_close(s, "quit");
}

/* QUIT (RFC 959 4.1.1): a running transfer is aborted first. */
void
cmd_quit(struct session *s, const char *arg)
{
	xfer_abort(s, "QUIT during transfer", cmd_quit_now);
}

/* AUTH (RFC 2228 3, RFC 4217 4): TLS, TLS-C and the older SSL. */
void
cmd_auth(struct session *s, const char *arg)
{
	char	 mech[16], safe[64];
	size_t	 i;

	if (s->ctx->ssl_ctx == NULL) {
		sess_reply(s, 502, "AUTH not available: TLS is off.");
		return;
	}
	if (s->flags & SF_TLS) {
		sess_reply(s, 503, "Already using TLS.");
		return;
	}
	for (i = 0; i < sizeof(mech) - 1 && arg[i] != '\0'; i++)
		mech[i] = (char)toupper((unsigned char)arg[i]);
	mech[i] = '\0';
	if (arg[i] != '\0' || (strcmp(mech, "TLS") != 0 &&
	    strcmp(mech, "TLS-C") != 0 && strcmp(mech, "SSL") != 0)) {
		log_safe(safe, sizeof(safe), arg);
		sess_reply(s, 504, "AUTH %s not supported; use AUTH TLS.",
		    safe);
		return;
	}
	sess_reply(s, 234, "AUTH %s successful.", mech);
	sess_start_tls(s);
}

/* PBSZ (RFC 4217 8): always 0 for TLS; the gate wants AUTH TLS first. */
void
cmd_pbsz(struct session *s, const char *arg)
{
	unsigned long	 v;

	if (parse_uint(arg, 0, 0xffffffffUL, &v) != 0) {
		sess_reply(s, 501, "Bad PBSZ argument.");
		return;
	}
	s->flags |= SF_PBSZ;
	sess_reply(s, 200, "PBSZ=0");
}

/*
 * PROT (RFC 4217 9, RFC 2228): C and P; S and E have no TLS meaning.  The
 * gate wants AUTH TLS and PBSZ first (RFC 2228: 503 without PBSZ).
 */
void
cmd_prot(struct session *s, const char *arg)
{
	int	 c;

	if (arg[0] == '\0' || arg[1] != '\0') {
		sess_reply(s, 501, "Bad PROT argument.");
		return;
	}
	c = toupper((unsigned char)arg[0]);
	switch (c) {
	case 'P':
		s->flags |= SF_PROT_P;
		sess_reply(s, 200, "Protection level set to P.");
		break;
	case 'C':
		if (s->policy.data_tls == CONF_TLS_REQUIRED) {
			sess_reply(s, 534, "PROT C refused: data connections "
			    "must be encrypted.");
			break;
		}
		s->flags &= ~SF_PROT_P;
		sess_reply(s, 200, "Protection level set to C.");
		break;
	case 'S':
	case 'E':
		sess_reply(s, 536, "Protection level %c not supported; use P.",
		    c);
		break;
	default:
		sess_reply(s, 504, "Unknown protection level.");
		break;
	}
}

/* CCC (RFC 4217 6): the control connection stays encrypted. */
void
cmd_ccc(struct session *s, const char *arg)
{
	sess_reply(s, 534, "CCC refused: the control connection stays "
	    "encrypted.");
}
