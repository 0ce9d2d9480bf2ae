/*
 * Mutual TLS: the client-certificate half of the SSL_CTX policy and the
 * identity a verified certificate names.
 *
 * Everything is built inside the SSL_CTX (tls_ctx_new() calls
 * mtls_ctx_setup()), so whatever rebuilds the context from the
 * configuration also re-reads the CA bundle and the CRLs: a revocation
 * takes effect for new connections without a restart.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "err.h"
#include "ftps_limits.h"
#include "log.h"
#include "mtls.h"
#include "session.h"
#include "tls.h"

#define MTLS_NAME_TEXT	256	/* a subject or issuer in a message */

char *
mtls_name_text(const X509_NAME *name, char *out, size_t len)
{
	BIO	*bio;
	char	 raw[MTLS_NAME_TEXT];
	int	 n;

	snprintf(out, len, "(none)");
	if (name == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
		return out;
	/*
	 * RFC 2253 order and names, no escaping of its own: log_safe()
	 * escapes every byte that is not printable ASCII, once.
	 */
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 &
	    ~(ASN1_STRFLGS_ESC_2253 | ASN1_STRFLGS_ESC_CTRL |
	    ASN1_STRFLGS_ESC_MSB)) >= 0 &&
	    (n = BIO_read(bio, raw, sizeof(raw) - 1)) > 0) {
		raw[n] = '\0';
		log_safe(out, len, raw);
	}
	BIO_free(bio);
	return out;
}

int
mtls_cert_name(X509 *x, char *out, size_t len, const char **why)
{
	const X509_NAME	*name;
	X509_NAME_ENTRY	*e;
	unsigned char	*utf8 = NULL;
	int		 i, n, r = FTPS_EPARSE;

	if (len > 0)
		out[0] = '\0';
	*why = NULL;
	if (x == NULL || (name = X509_get_subject_name(x)) == NULL ||
	    (i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0) {
		*why = "no CN in the subject";
		return r;
	}
	/* SECURITY: two CNs would let a CA-approved name hide another. */
	if (X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0) {
		*why = "more than one CN in the subject";
		return r;
	}
	e = X509_NAME_get_entry(name, i);
	if ((n = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(e))) < 0) {
		ERR_clear_error();
		*why = "the CN is not valid text";
		return r;
	}
	if (n == 0 || n > FTPS_USER_MAX || (size_t)n >= len)
		*why = "the CN is empty or longer than a user name";
	/* SECURITY: "alice\0.evil" must not compare equal to "alice". */
	else if (memchr(utf8, '\0', (size_t)n) != NULL)
		*why = "the CN contains a NUL byte";
	else {
		memcpy(out, utf8, (size_t)n);
		out[n] = '\0';
		r = 0;
	}
	OPENSSL_free(utf8);
	return r;
}

/* 1 when the certificate at fault is a non-CA trust anchor of the chain. */
static int
mtls_pinned(X509_STORE_CTX *xs)
{
	STACK_OF(X509)	*chain = X509_STORE_CTX_get0_chain(xs);
	X509		*x = X509_STORE_CTX_get_current_cert(xs);
	int		 depth = X509_STORE_CTX_get_error_depth(xs);

	return x != NULL && chain != NULL &&
	    depth == sk_X509_num(chain) - 1 &&
	    X509_STORE_CTX_get_num_untrusted(xs) <= depth &&
	    X509_check_ca(x) == 0;
}

/*
 * Keeps the first reason a client certificate failed verification in
 * its session, for the log line that ends the connection.
 */
static int
mtls_verify_cb(int ok, X509_STORE_CTX *xs)
{
	const struct tls_ref	*ref;
	struct session		*s;
	X509			*x;
	SSL			*ssl;
	char			 subj[MTLS_NAME_TEXT];
	int			 err;

	if (ok)
		return 1;
	/*
	 * A certificate listed in tls_client_ca that is no CA (a partner's
	 * self-signed client certificate, pinned) is its own trust anchor:
	 * no CA publishes a CRL for it.  Removing it from the list revokes
	 * it.  Every CA below or beside it still needs its CRL.
	 */
	if (X509_STORE_CTX_get_error(xs) == X509_V_ERR_UNABLE_TO_GET_CRL &&
	    mtls_pinned(xs)) {
		X509_STORE_CTX_set_error(xs, X509_V_OK);
		return 1;
	}
	/* From here on ok is 0: the verdict stays, only its reason is kept. */
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (ref = SSL_get_app_data(ssl)) == NULL ||
	    (s = ref->s) == NULL || s->cert_err[0] != '\0')
		return 0;
	err = X509_STORE_CTX_get_error(xs);
	x = X509_STORE_CTX_get_current_cert(xs);
	snprintf(s->cert_err, sizeof(s->cert_err),
	    "client certificate refused: %s (depth %d: %s)",
	    X509_verify_cert_error_string(err),
	    X509_STORE_CTX_get_error_depth(xs),
	    mtls_name_text(x != NULL ? X509_get_subject_name(x) : NULL,
	    subj, sizeof(subj)));
	return 0;
}

/* Reads every PEM certificate (crls NULL) or CRL (certs NULL) of path. */
static int
mtls_read_pem(const char *path, const char *key, STACK_OF(X509) *certs,
    STACK_OF(X509_CRL) *crls, FILE *errf)
{
	struct stat	 st;
	BIO		*bio;
	FILE		*fp;
	X509		*x;
	X509_CRL	*crl;
	char		 err[512];
	unsigned long	 e;
	int		 n = 0, r = FTPS_ETLS;

	if ((fp = fopen(path, "re")) == NULL) {
		fprintf(errf, "%s: %s: cannot read: %s\n", key, path,
		    strerror(errno));
		return FTPS_ESYS;
	}
	/* A FIFO or a device would never end. */
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
		fprintf(errf, "%s: %s: cannot read: not a regular file\n",
		    key, path);
		(void)fclose(fp);	/* read only */
		return FTPS_ESYS;
	}
	ERR_clear_error();
	if ((bio = BIO_new_fp(fp, BIO_CLOSE)) == NULL) {
		(void)fclose(fp);	/* read only */
		fprintf(errf, "%s: out of memory\n", key);
		return FTPS_ENOMEM;
	}
	for (;;) {
		if (certs != NULL) {
			if ((x = PEM_read_bio_X509(bio, NULL, NULL,
			    NULL)) == NULL)
				break;
			if (!sk_X509_push(certs, x)) {
				X509_free(x);
				goto tlserr;
			}
		} else {
			if ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL,
			    NULL)) == NULL)
				break;
			if (!sk_X509_CRL_push(crls, crl)) {
				X509_CRL_free(crl);
				goto tlserr;
			}
		}
		n++;
	}
	/* The loop ends at the end of the file, or at a damaged block. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
		goto tlserr;
	ERR_clear_error();
	if (n == 0) {
		fprintf(errf, "%s: %s: no PEM %s in the file (expected "
		    "\"-----BEGIN %s-----\" blocks)\n", key, path,
		    certs != NULL ? "certificate" : "CRL",
		    certs != NULL ? "CERTIFICATE" : "X509 CRL");
		r = FTPS_EPARSE;
		goto out;
	}
	r = 0;
	goto out;
 tlserr:
	fprintf(errf, "%s: %s: %s (entry %d)\n", key, path,
	    tls_errstr(err, sizeof(err)), n + 1);
 out:
	BIO_free(bio);
	return r;
}

/* 1 when crl was issued and signed by ca. */
static int
mtls_crl_of(X509_CRL *crl, X509 *ca)
{
	EVP_PKEY	*pk;
	int		 ok;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca)) != 0 ||
	    (pk = X509_get0_pubkey(ca)) == NULL)
		return 0;
	ok = X509_CRL_verify(crl, pk) == 1;
	ERR_clear_error();
	return ok;
}

/*
 * With X509_V_FLAG_CRL_CHECK_ALL every certificate of a chain needs the
 * CRL of its issuer, so every CA of the bundle needs its CRL: a missing
 * one would refuse every client it signed ("unable to get certificate
 * CRL").  Said at start, not at the first connection.
 */
static int
mtls_check_crls(const struct conf *cf, STACK_OF(X509) *cas,
    STACK_OF(X509_CRL) *crls, FILE *errf)
{
	X509		*ca;
	X509_CRL	*crl;
	const ASN1_TIME	*next;
	char		 name[MTLS_NAME_TEXT];
	int		 i, j, found, errors = 0;

	for (j = 0; j < sk_X509_CRL_num(crls); j++) {
		crl = sk_X509_CRL_value(crls, j);
		for (found = 0, i = 0; !found && i < sk_X509_num(cas); i++)
			found = mtls_crl_of(crl, sk_X509_value(cas, i));
		if (!found) {
			fprintf(errf, "tls_crl: %s: CRL %d (issuer %s) is not "
			    "signed by any certificate of tls_client_ca %s\n",
			    cf->tls_crl, j + 1, mtls_name_text(
			    X509_CRL_get_issuer(crl), name, sizeof(name)),
			    cf->tls_client_ca);
			errors++;
			continue;
		}
		next = X509_CRL_get0_nextUpdate(crl);
		if (next != NULL && X509_cmp_current_time(next) < 0)
			fprintf(errf, "tls_crl: %s: warning: CRL %d (issuer "
			    "%s) is past its next update: every client "
			    "certificate it covers is refused until it is "
			    "renewed (certmgr ca crl)\n", cf->tls_crl, j + 1,
			    mtls_name_text(X509_CRL_get_issuer(crl), name,
			    sizeof(name)));
	}
	for (i = 0; i < sk_X509_num(cas); i++) {
		ca = sk_X509_value(cas, i);
		/* A pinned client certificate signs nothing: no CRL. */
		if (X509_check_ca(ca) == 0)
			continue;
		for (found = 0, j = 0; !found && j < sk_X509_CRL_num(crls); j++)
			found = mtls_crl_of(sk_X509_CRL_value(crls, j), ca);
		if (!found) {
			fprintf(errf, "tls_crl: %s: no CRL of %s (certificate "
			    "%d of tls_client_ca %s): with tls_crl set every "
			    "CA needs its CRL, or each client it signed is "
			    "refused\n", cf->tls_crl, mtls_name_text(
			    X509_get_subject_name(ca), name, sizeof(name)),
			    i + 1, cf->tls_client_ca);
			errors++;
		}
	}
	return errors > 0 ? FTPS_EPARSE : 0;
}

/*
 * Every certificate of tls_client_ca must be able to verify a client:
 * OpenSSL checks the trusted CA's own purpose too, so a certificate that
 * is no CA, or whose extendedKeyUsage leaves out clientAuth, refuses
 * every client it signed ("unsupported certificate purpose").  The one
 * non-CA that works is a client's own self-signed certificate made for
 * clients: it is the end of its own chain (pinned).
 */
static int
mtls_check_cas(const struct conf *cf, STACK_OF(X509) *cas, FILE *errf)
{
	X509		*ca;
	char		 name[MTLS_NAME_TEXT];
	int		 i, errors = 0;

	for (i = 0; i < sk_X509_num(cas); i++) {
		ca = sk_X509_value(cas, i);
		mtls_name_text(X509_get_subject_name(ca), name, sizeof(name));
		if (X509_check_ca(ca) == 0 && X509_self_signed(ca, 1) == 1) {
			if (X509_check_purpose(ca, X509_PURPOSE_SSL_CLIENT,
			    0) == 1)
				continue;
			fprintf(errf, "tls_client_ca: %s: certificate %d (%s) "
			    "is a self-signed certificate not made for clients "
			    "(its extendedKeyUsage or keyUsage leaves out "
			    "client authentication): a client presenting it is "
			    "refused; make the client's certificate with "
			    "certmgr create NAME --client and list that\n",
			    cf->tls_client_ca, i + 1, name);
			errors++;
		} else if (X509_check_ca(ca) == 0) {
			fprintf(errf, "tls_client_ca: %s: certificate %d (%s) "
			    "is not a CA certificate (no basicConstraints "
			    "CA:TRUE) nor a client's own self-signed one, so it "
			    "cannot verify client certificates: list the CA "
			    "that signed them instead (certmgr ca init makes "
			    "one; its ca.crt goes here)\n",
			    cf->tls_client_ca, i + 1, name);
			errors++;
		} else if (X509_check_purpose(ca, X509_PURPOSE_SSL_CLIENT,
		    1) != 1) {
			fprintf(errf, "tls_client_ca: %s: certificate %d (%s) "
			    "is a CA whose extendedKeyUsage does not allow "
			    "clientAuth (a serverAuth-only CA): every client "
			    "certificate it signed would be refused; reissue "
			    "the CA with clientAuth in its extendedKeyUsage, "
			    "or without that extension\n", cf->tls_client_ca,
			    i + 1, name);
			errors++;
		}
	}
	ERR_clear_error();
	return errors > 0 ? FTPS_EPARSE : 0;
}

int
mtls_ctx_setup(SSL_CTX *ctx, const struct conf *cf, FILE *errf)
{
	STACK_OF(X509)		*cas = NULL;
	STACK_OF(X509_CRL)	*crls = NULL;
	X509_STORE		*store = NULL;
	X509_VERIFY_PARAM	*param;
	unsigned long		 flags = 0;
	char			 err[512];
	int			 i, mode, r = FTPS_ENOMEM;

	if (cf->tls_client_cert == CONF_TLS_OFF) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	if (cf->tls_client_ca == NULL) {
		fprintf(errf, "tls_client_cert needs tls_client_ca\n");
		return FTPS_EPARSE;
	}
	if ((cas = sk_X509_new_null()) == NULL ||
	    (crls = sk_X509_CRL_new_null()) == NULL ||
	    (store = X509_STORE_new()) == NULL)
		goto out;
	if ((r = mtls_read_pem(cf->tls_client_ca, "tls_client_ca", cas, NULL,
	    errf)) != 0 || (r = mtls_check_cas(cf, cas, errf)) != 0)
		goto out;
	/*
	 * SECURITY: no X509_V_FLAG_PARTIAL_CHAIN.  Chains go up to a
	 * self-signed certificate of the list, so that a root's CRL
	 * revoking an intermediate is heard; a client's self-signed
	 * certificate is such an end of its own chain.
	 */
	if (cf->tls_crl != NULL) {
		if ((r = mtls_read_pem(cf->tls_crl, "tls_crl", NULL, crls,
		    errf)) != 0 ||
		    (r = mtls_check_crls(cf, cas, crls, errf)) != 0)
			goto out;
		flags = X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	}

	/*
	 * SECURITY: trust exactly the admin's list.  The store starts empty
	 * and X509_STORE_set_default_paths() is never called, so a client
	 * certificate from any public CA the system trusts is refused.
	 */
	r = FTPS_ETLS;
	for (i = 0; i < sk_X509_num(cas); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(cas, i)) ||
		    !SSL_CTX_add_client_CA(ctx, sk_X509_value(cas, i)))
			goto tlserr;
	for (i = 0; i < sk_X509_CRL_num(crls); i++)
		if (!X509_STORE_add_crl(store, sk_X509_CRL_value(crls, i)))
			goto tlserr;
	/* SECURITY: a server-only (serverAuth) certificate cannot log in. */
	if (!X509_STORE_set_purpose(store, X509_PURPOSE_SSL_CLIENT) ||
	    (flags != 0 && !X509_STORE_set_flags(store, flags)) ||
	    !SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) ||
	    (param = SSL_CTX_get0_param(ctx)) == NULL ||
	    (flags != 0 && !X509_VERIFY_PARAM_set_flags(param, flags)) ||
	    !SSL_CTX_set1_verify_cert_store(ctx, store))
		goto tlserr;
	mode = SSL_VERIFY_PEER;
	if (cf->tls_client_cert == CONF_TLS_REQUIRED)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, mtls_verify_cb);
	r = 0;
	goto out;
 tlserr:
	fprintf(errf, "tls_client_ca: %s: %s\n", cf->tls_client_ca,
	    tls_errstr(err, sizeof(err)));
 out:
	if (r == FTPS_ENOMEM)
		fprintf(errf, "tls_client_ca: out of memory\n");
	X509_STORE_free(store);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return r;
}

void
mtls_ctrl_ready(struct session *s, SSL *ssl)
{
	X509		*x;
	ASN1_INTEGER	*sn;
	BIGNUM		*bn = NULL;
	char		*hex = NULL, subj[MTLS_NAME_TEXT], iss[MTLS_NAME_TEXT];
	const char	*why;
	long		 vr;

	s->flags &= ~SF_CERT;
	s->cert_name[0] = '\0';
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL)
		return;
	/* With SSL_VERIFY_PEER a certificate that failed never gets here. */
	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		sess_log(s, LOG_LVL_WARN, "client certificate ignored: %s",
		    X509_verify_cert_error_string(vr));
		return;
	}
	s->flags |= SF_CERT;
	if ((sn = X509_get_serialNumber(x)) != NULL &&
	    (bn = ASN1_INTEGER_to_BN(sn, NULL)) != NULL)
		hex = BN_bn2hex(bn);
	mtls_name_text(X509_get_subject_name(x), subj, sizeof(subj));
	mtls_name_text(X509_get_issuer_name(x), iss, sizeof(iss));
	if (mtls_cert_name(x, s->cert_name, sizeof(s->cert_name), &why) != 0)
		sess_log(s, LOG_LVL_WARN, "client certificate subject=\"%s\" "
		    "issuer=\"%s\" serial=%s names no account: %s", subj, iss,
		    hex != NULL ? hex : "?", why);
	else
		sess_log(s, LOG_LVL_INFO, "client certificate subject=\"%s\" "
		    "issuer=\"%s\" serial=%s", subj, iss,
		    hex != NULL ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}
