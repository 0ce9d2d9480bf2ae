/*
 * TLS policy (server/tls.c): one SSL_CTX per worker, TLS 1.2 minimum with
 * ECDHE+AEAD suites, no compression or renegotiation, ALPN "ftp" or none,
 * and the RFC 4217 data-channel binding: the session ticket of a control
 * connection carries that connection's random token, and a data
 * connection must resume a session carrying its own control's token.
 */
#ifndef FTPS_TLS_H
#define FTPS_TLS_H

#include <stdio.h>

#include <openssl/ssl.h>

struct conf;
struct session;

/*
 * Builds the SSL_CTX and loads the certificate from conf's certs_dir and
 * certificate (cs_load_pair).  On error prints "FILE: message" to errf and
 * returns FTPS_ETLS or the certstore code.
 */
int		 tls_ctx_new(const struct conf *, SSL_CTX **, FILE *errf);
/*
 * The certificate NAME tls_ctx_new() loads: conf's certificate, except
 * that a name ending in ".crt" or ".key" ("certificate = ftp.crt") means
 * the pair without it when the folder holds that pair and no file of
 * the name as given.  NULL: the folder's default.  buf holds the
 * shortened name (len >= FTPS_CERTNAME_MAX + 1).
 */
const char	*tls_cert_name(const struct conf *, char *buf, size_t len);
/* A server SSL for the control or the data connection of s. */
SSL		*tls_ssl_new(SSL_CTX *, struct session *, int data);
/*
 * The control handshake finished: bind the session, log what was agreed;
 * data connections start in PROT P on the implicit port and with
 * prot_default = P.
 */
void		 tls_ctrl_ready(struct session *, SSL *);
/*
 * What a data connection's ClientHello offered to resume, as the
 * handshake saw it (s->data_offer); each has its own 522 text and log.
 */
enum tls_offer {
	TLS_OFFER_NONE,		/* no ticket, no session id */
	TLS_OFFER_OWN,		/* a ticket of this control connection */
	TLS_OFFER_FOREIGN,	/* a ticket of another control connection */
	TLS_OFFER_EXPIRED,	/* a ticket past its lifetime */
	TLS_OFFER_UNKNOWN,	/* a ticket the server cannot open any more,
				 * or a TLS 1.2 session id not of this
				 * control connection */
	TLS_OFFER_SID		/* a session id only: an offer if TLS 1.2 is
				 * agreed (TLS 1.3 clients send a random
				 * one), else none */
};

/*
 * The data handshake finished: 0 when it satisfies the session's
 * data_session_reuse, else FTPS_EDENIED with *reply set to the 522 text.
 * Logs why for the admin: each refusal at warning; under optional, the
 * first data connection that did not resume at info, once per session.
 */
int		 tls_data_check(struct session *, SSL *, const char **reply);
/*
 * TLS 1.3: queues a fresh ticket on the control connection, sent ahead of
 * the next reply, so the next data connection can resume even with
 * clients that use each ticket once (curl) and in hours-long sessions.
 * Call before the PASV/EPSV/PORT/EPRT reply.
 */
void		 tls_refresh_ticket(struct session *);
/* The OpenSSL error queue as one line (for logs), emptied. */
const char	*tls_errstr(char *, size_t);

#endif
