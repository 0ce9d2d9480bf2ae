/*
 * TLS policy and the RFC 4217 data-channel binding.
 *
 * Binding: every control connection has a random token.  When OpenSSL
 * makes a session ticket for a control connection, the generate callback
 * stores that token in the ticket (SSL_SESSION_set1_ticket_appdata); for
 * TLS 1.2 session-id resumption the same appdata sits on the cached
 * session.  A data connection must resume a session carrying the token of
 * ITS control connection: a session stolen from another control
 * connection (or none at all) is refused with 522.
 *
 * Data connections never issue tickets (tickets sent after a TLS 1.3 data
 * handshake truncate uploads with curl and lftp), and control connections
 * never resume (each gets a full handshake and therefore its own token):
 * tickets are ignored on them, and the per-connection session id context
 * (the token) makes every other control connection's cached session a
 * miss.
 *
 * A refused data connection says which of the causes it was (enum
 * tls_offer): the ClientHello callback notes whether a ticket or session
 * id was offered at all, the ticket callback whose ticket it was and
 * whether it expired.
 */
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "certstore.h"
#include "conf.h"
#include "err.h"
#include "ftpsd.h"
#include "mtls.h"
#include "session.h"
#include "tls.h"
#include "tlskeys.h"
#include "vhost.h"

/* TLS 1.2: ECDHE key exchange with AEAD ciphers only. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/*
 * TLS 1.3: all three of OpenSSL's suites, AES-128-GCM first: with AES-NI
 * it is the cheapest per byte and its SHA-256 key schedule the cheapest
 * per handshake (3% fewer instructions per login than AES-256-GCM with
 * SHA-384, docs/bench.md); 128-bit keys match the 128-bit security of the
 * X25519 and P-256 key exchange.
 */
#define TLS13_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"
/* X25519 first: what curl, OpenSSL and browsers send a key share for. */
#define TLS_GROUPS	"X25519:P-256:P-384"
#define TLS_SID_CTX	"ftpsd"

const char *
tls_errstr(char *out, size_t len)
{
	unsigned long	 e;
	size_t		 o = 0;

	out[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		if (o + 3 < len) {
			if (o > 0) {
				out[o++] = ';';
				out[o++] = ' ';
			}
			ERR_error_string_n(e, out + o, len - o);
			o += strlen(out + o);
		}
	}
	if (o == 0)
		snprintf(out, len, "unknown TLS error");
	return out;
}

static const struct tls_ref *
tls_ref_of(SSL *ssl)
{
	return SSL_get_app_data(ssl);
}

/* Session ticket made: stamp the control connection's token into it. */
static int
tls_ticket_gen_cb(SSL *ssl, void *arg)
{
	const struct tls_ref	*ref = tls_ref_of(ssl);
	SSL_SESSION		*sess;

	if (ref == NULL || ref->role != TLS_ROLE_CTRL)
		return 1;
	if ((sess = SSL_get0_session(ssl)) == NULL ||
	    !SSL_SESSION_set1_ticket_appdata(sess, ref->s->token,
	    sizeof(ref->s->token)))
		return 0;
	ref->s->ctl_tickets++;
	return 1;
}

/* A data connection was offered ticket sess: whose is it, is it fresh? */
static void
tls_note_offer(struct session *s, SSL_SESSION *sess, SSL_TICKET_STATUS st)
{
	void		*data = NULL;
	size_t		 len = 0;
	int		 offer;

	if (st != SSL_TICKET_SUCCESS && st != SSL_TICKET_SUCCESS_RENEW)
		offer = TLS_OFFER_UNKNOWN;
	else {
		SSL_SESSION_get0_ticket_appdata(sess, &data, &len);
		if (len != sizeof(s->token) ||
		    CRYPTO_memcmp(data, s->token, len) != 0)
			offer = TLS_OFFER_FOREIGN;
		else if (SSL_SESSION_get_time(sess) +
		    SSL_SESSION_get_timeout(sess) < (long)time(NULL))
			offer = TLS_OFFER_EXPIRED;
		else
			offer = TLS_OFFER_OWN;
	}
	/* Of several tickets offered, the client's own counts. */
	if (s->data_offer != TLS_OFFER_OWN)
		s->data_offer = offer;
}

static SSL_TICKET_RETURN
tls_ticket_dec_cb(SSL *ssl, SSL_SESSION *sess, const unsigned char *kn,
    size_t knlen, SSL_TICKET_STATUS status, void *arg)
{
	const struct tls_ref	*ref = tls_ref_of(ssl);
	int			 ctrl = ref == NULL || ref->role == TLS_ROLE_CTRL;

	if (!ctrl && status != SSL_TICKET_EMPTY)
		tls_note_offer(ref->s, sess, status);
	switch (status) {
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return ctrl ? SSL_TICKET_RETURN_IGNORE_RENEW :
		    SSL_TICKET_RETURN_IGNORE;
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		/*
		 * A control connection always does a full handshake, so its
		 * tickets carry its own token; a data connection resumes
		 * but never gets a new ticket.
		 */
		return ctrl ? SSL_TICKET_RETURN_IGNORE_RENEW :
		    SSL_TICKET_RETURN_USE;
	default:
		return SSL_TICKET_RETURN_ABORT;
	}
}

/*
 * Every handshake: its virtual host's context.
 * Data connections: what the ClientHello offers to resume.  A TLS 1.3
 * offer is a pre_shared_key extension, a TLS 1.2 one a non-empty
 * session_ticket extension or a session id (TLS 1.3 clients send a
 * random legacy session id, so an id counts only if TLS 1.2 is agreed:
 * TLS_OFFER_SID).  The ticket callback refines a ticket offer.
 */
static int
tls_hello_cb(SSL *ssl, int *alert, void *arg)
{
	const struct tls_ref	*ref = tls_ref_of(ssl);
	const unsigned char	*ext;
	size_t			 len;

	if (ref == NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	/* The host's certificate and client CAs (vhost.c). */
	if (!vh_tls_hello(ssl, ref->s, ref->role == TLS_ROLE_DATA, alert))
		return SSL_CLIENT_HELLO_ERROR;
	if (ref->role != TLS_ROLE_DATA)
		return SSL_CLIENT_HELLO_SUCCESS;
	ref->s->data_offer = TLS_OFFER_NONE;
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &ext, &len) ||
	    (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_session_ticket, &ext,
	    &len) && len > 0))
		/* Until the ticket callback says whose: none it can open. */
		ref->s->data_offer = TLS_OFFER_UNKNOWN;
	else if (SSL_client_hello_get0_session_id(ssl, &ext) > 0)
		ref->s->data_offer = TLS_OFFER_SID;
	return SSL_CLIENT_HELLO_SUCCESS;
}

/*
 * ALPN: "ftp" or nothing.  SECURITY: cross-protocol attacks (ALPACA): a
 * client that wants another protocol gets a fatal no_application_protocol
 * alert instead of an FTP server.
 */
static int
tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int	 i = 0, n;

	while (i < inlen) {
		n = in[i];
		if (n == 0 || i + 1 + n > inlen)
			break;
		if (n == 3 && memcmp(in + i + 1, "ftp", 3) == 0) {
			*out = in + i + 1;
			*outlen = 3;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

const char *
tls_cert_name(const struct conf *cf, char *buf, size_t len)
{
	static const char *const exts[] = { ".crt", ".key" };
	const char	*name = cf->certificate;
	size_t		 n, i, e;
	int		 has;

	if (name == NULL)
		return NULL;
	n = strlen(name);
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		e = strlen(exts[i]);
		if (n <= e || n - e >= len ||
		    strcmp(name + n - e, exts[i]) != 0)
			continue;
		/* An admin who named ftp.crt.crt meant that NAME. */
		if (cs_files(cf->certs_dir, name, NULL, 0) != 0)
			break;
		memcpy(buf, name, n - e);
		buf[n - e] = '\0';
		has = cs_files(cf->certs_dir, buf, NULL, 0);
		if (has > 0 && (has & (CS_HAS_CRT | CS_HAS_KEY)) ==
		    (CS_HAS_CRT | CS_HAS_KEY))
			return buf;
		break;
	}
	return name;
}

int
tls_ctx_new(const struct conf *cf, SSL_CTX **out, FILE *errf)
{
	SSL_CTX			*ctx = NULL;
	X509			*cert = NULL;
	EVP_PKEY		*key = NULL;
	STACK_OF(X509)		*chain = NULL;
	char			 err[512], nm[FTPS_CERTNAME_MAX + 1];
	const char		*name;
	int			 r;

	*out = NULL;
	err[0] = '\0';
	name = tls_cert_name(cf, nm, sizeof(nm));
	if ((r = cs_load_pair(cf->certs_dir, name, &cert, &key,
	    &chain, err, sizeof(err))) != 0) {
		fprintf(errf, "%s\n", err[0] ? err : ftps_strerror(r));
		goto out;
	}
	r = FTPS_ETLS;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) ||
	    !SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) ||
	    !SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) ||
	    !SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)TLS_SID_CTX, strlen(TLS_SID_CTX)) ||
	    !SSL_CTX_set_session_ticket_cb(ctx, tls_ticket_gen_cb,
	    tls_ticket_dec_cb, NULL))
		goto tlserr;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_timeout(ctx, FTPS_TICKET_LIFETIME);
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, NULL);
	SSL_CTX_set_client_hello_cb(ctx, tls_hello_cb, NULL);
	/* Ticket keys rotate: forward secrecy for resumed sessions. */
	if (tk_install(ctx) != 0)
		goto tlserr;
	if (!SSL_CTX_use_certificate(ctx, cert) ||
	    !SSL_CTX_use_PrivateKey(ctx, key) ||
	    (chain != NULL && !SSL_CTX_set1_chain(ctx, chain)) ||
	    !SSL_CTX_check_private_key(ctx))
		goto tlserr;
	/* Client certificates: CA bundle and CRLs re-read with the ctx. */
	if ((r = mtls_ctx_setup(ctx, cf, errf)) != 0)
		goto out;
	*out = ctx;
	ctx = NULL;
	r = 0;
	goto out;
 tlserr:
	fprintf(errf, "%s/%s.crt: %s\n", cf->certs_dir,
	    name != NULL ? name : "(default)",
	    tls_errstr(err, sizeof(err)));
 out:
	SSL_CTX_free(ctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

SSL *
tls_ssl_new(SSL_CTX *ctx, struct session *s, int data)
{
	SSL	*ssl;

	if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL)
		return NULL;
	/*
	 * SECURITY: the session id context is the control connection's
	 * token, so OpenSSL itself resumes a session only on the control
	 * connection that made it and on that connection's data channels.
	 * Without it a second control connection could resume the first
	 * one's TLS 1.2 session by id (clients that keep a session cache do)
	 * and share, or overwrite, its binding.
	 */
	if (!SSL_set_session_id_context(ssl, s->token, sizeof(s->token))) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_app_data(ssl, data ? &s->data_ref : &s->ctl_ref);
	/* The verify reason logged is this handshake's (mtls.c). */
	s->cert_err[0] = '\0';
	/*
	 * A data connection never issues a ticket.  A TLS 1.3 control
	 * connection sends one right after its handshake (OpenSSL's default
	 * is two): clients that save their session once, then (wget, with
	 * GnuTLS) resume it on every data connection; those that use a
	 * ticket once (curl) take the fresh one tls_refresh_ticket() sends
	 * before each PASV/EPSV/PORT/EPRT reply.
	 */
	SSL_set_num_tickets(ssl, data ? 0 : 1);
	if (!data)
		/* An idle control connection keeps no TLS record buffers. */
		SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	return ssl;
}

void
tls_ctrl_ready(struct session *s, SSL *ssl)
{
	SSL_SESSION	*sess;

	/*
	 * TLS 1.2 without tickets: the cached session is the one a data
	 * connection will resume by id; it carries this token too.
	 */
	if ((sess = SSL_get0_session(ssl)) != NULL)
		SSL_SESSION_set1_ticket_appdata(sess, s->token,
		    sizeof(s->token));
	sess_log(s, LOG_LVL_INFO, "tls %s %s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl));
	/*
	 * Encrypted by default: on the implicit port TLS was never
	 * negotiated by command, so data connections start in PROT P as
	 * the control one is (clients in implicit mode often send no
	 * PBSZ/PROT at all); after AUTH TLS only with prot_default = P,
	 * since RFC 4217 9 makes PROT C the default there.
	 */
	if ((s->flags & SF_IMPLICIT) ||
	    vh_conf(s)->prot_default == CONF_PROT_P)
		s->flags |= SF_PROT_P;
	mtls_ctrl_ready(s, ssl);
}

/*
 * Each cause: the 522 text (for the user), what happened and what to do
 * (for the admin's log; the advice is left out where it was followed).
 */
static const struct {
	const char	*reply, *cause, *advice;
} tls_causes[] = {
	[TLS_OFFER_NONE] = {
	    "Data connection offered no TLS session to resume; enable TLS "
	    "session reuse in your client, or ask the server's admin to "
	    "allow this client",
	    "no TLS session offered to resume: this client does not reuse "
	    "the control session",
	    " (allow it per user with data_session_reuse = optional)" },
	[TLS_OFFER_FOREIGN] = {
	    "Data connection resumed the TLS session of another control "
	    "connection; resume the session of this connection",
	    "data connection resumed another control connection's session "
	    "(a client that shares one session cache across connections, or "
	    "a stolen session)",
	    " (allow such a client per user with data_session_reuse = "
	    "optional)" },
	[TLS_OFFER_EXPIRED] = {
	    "The TLS session offered for the data connection has expired; "
	    "reconnect to get a fresh one",
	    "the ticket offered has expired: the client resumes the session "
	    "of its login, not the fresh ticket sent before each "
	    "PASV/EPSV/PORT/EPRT reply",
	    " (it must reconnect at least daily)" },
	[TLS_OFFER_UNKNOWN] = {
	    "The TLS session offered for the data connection is not one "
	    "this server holds; reconnect to get a fresh one",
	    "the session offered cannot be resumed: a ticket whose key is "
	    "gone (expired, or issued before a restart) or a TLS 1.2 "
	    "session id this control connection did not make",
	    " (the client must reconnect)" },
};
/* No offer because this control connection was sent no ticket. */
static const char	tls_noticket_cause[] =
	"no TLS session offered to resume, and the control connection was "
	"sent no session ticket (the client asked for none, or issuing it "
	"failed)";

int
tls_data_check(struct session *s, SSL *ssl, const char **reply)
{
	SSL_SESSION	*sess;
	void		*data = NULL;
	size_t		 len = 0;
	int		 offer = s->data_offer;
	const char	*why;

	*reply = NULL;
	s->data_offer = TLS_OFFER_NONE;
	if (s->policy.data_session_reuse == CONF_REUSE_OFF)
		return 0;
	if ((sess = SSL_get0_session(ssl)) != NULL)
		SSL_SESSION_get0_ticket_appdata(sess, &data, &len);
	sess_log(s, LOG_LVL_DEBUG, "data tls %s reused=%d appdata=%zu "
	    "offer=%d", SSL_get_version(ssl), SSL_session_reused(ssl), len,
	    offer);
	if (SSL_session_reused(ssl) && len == sizeof(s->token) &&
	    CRYPTO_memcmp(data, s->token, len) == 0)
		return 0;
	/*
	 * 1. What was offered: a session id only under TLS 1.2; this
	 *    connection's own ticket that still did not resume (another
	 *    version or suite) is one the server cannot use.
	 */
	if (offer == TLS_OFFER_SID)
		offer = SSL_version(ssl) == TLS1_2_VERSION ?
		    TLS_OFFER_UNKNOWN : TLS_OFFER_NONE;
	else if (offer == TLS_OFFER_OWN)
		offer = TLS_OFFER_UNKNOWN;
	/* 2. The server's own part: no ticket to resume was ever sent. */
	why = tls_causes[offer].cause;
	if (offer == TLS_OFFER_NONE && s->ctl_tickets == 0 &&
	    sess_ssl(s) != NULL && SSL_version(sess_ssl(s)) >= TLS1_3_VERSION)
		why = tls_noticket_cause;
	if (s->policy.data_session_reuse == CONF_REUSE_OPTIONAL) {
		if (!s->resume_noted)
			sess_log(s, LOG_LVL_INFO, "data tls not resumed, "
			    "allowed by data_session_reuse = optional (logged "
			    "once per session): %s", why);
		s->resume_noted = 1;
		return 0;
	}
	sess_log(s, LOG_LVL_WARN, "data tls refused: %s%s", why,
	    tls_causes[offer].advice);
	*reply = tls_causes[offer].reply;
	return FTPS_EDENIED;
}

void
tls_refresh_ticket(struct session *s)
{
	SSL	*ssl = sess_ssl(s);

	/*
	 * TLS 1.3 clients that keep a session cache (curl, OpenSSL's
	 * SSL_SESS_CACHE_CLIENT) use a ticket once and drop it, and data
	 * connections issue none: a fresh ticket on the control connection,
	 * read by the client with this reply, lets the next data connection
	 * resume, however many transfers and hours the session lasts.
	 */
	if (ssl == NULL || SSL_version(ssl) < TLS1_3_VERSION)
		return;
	if (SSL_new_session_ticket(ssl) == 1)
		sess_log(s, LOG_LVL_DEBUG, "fresh session ticket queued");
}
