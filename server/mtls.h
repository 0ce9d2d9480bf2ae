/*
 * Mutual TLS (server/mtls.c): client certificates verified against the
 * CAs of tls_client_ca only (never the system's roots), revocation
 * checked for the whole chain against tls_crl, and the account a
 * verified certificate names: its subject CN.  docs/mtls.md describes the
 * behaviour; auth_cert_decide() (auth.h) the login rules.
 */
#ifndef FTPS_MTLS_H
#define FTPS_MTLS_H

#include <stddef.h>
#include <stdio.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

struct conf;
struct session;

/*
 * Sets ctx's client-certificate policy from cf: with tls_client_cert
 * off, nothing (no certificate is requested).  Otherwise SSL_VERIFY_PEER
 * (plus SSL_VERIFY_FAIL_IF_NO_PEER_CERT for required), a verify store
 * holding only the certificates of tls_client_ca, purpose sslclient, the
 * CA names sent in the CertificateRequest and, with tls_crl, its CRLs
 * checked for every certificate of the chain.  Refused, with "FILE:
 * message" on errf: an unreadable file, no certificate in tls_client_ca,
 * a CRL no certificate of tls_client_ca signed, a certificate of
 * tls_client_ca without its CRL.  A CRL past its next update is a
 * warning.  0, FTPS_ESYS, FTPS_EPARSE or FTPS_ETLS.
 */
int		 mtls_ctx_setup(SSL_CTX *, const struct conf *, FILE *errf);
/*
 * The control handshake of s finished: records whether a verified client
 * certificate came (SF_CERT) and the identity it names (s->cert_name),
 * and logs its subject, issuer and serial.
 */
void		 mtls_ctrl_ready(struct session *, SSL *);
/*
 * The identity a certificate names: its subject CN, which must occur
 * exactly once, be valid text without NUL bytes and hold 1 to
 * FTPS_USER_MAX bytes of UTF-8.  0 with out filled in, else FTPS_EPARSE
 * with *why saying what is wrong (static text) and out empty.
 */
int		 mtls_cert_name(X509 *, char *out, size_t len,
		    const char **why);
/* name in RFC 2253 form, log_safe()d into out; returns out. */
char		*mtls_name_text(const X509_NAME *, char *out, size_t len);

#endif
