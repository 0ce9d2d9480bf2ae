/*
 * libcertstore: building and checking keys, names, requests and
 * certificates with certmgr's policy.  The policy, in one place:
 *  - keys: RSA of at least 2048 bits, EC P-256/P-384/P-521, Ed25519,
 *    Ed448; DSA and anything weaker refused (OpenSSL's default security
 *    level would refuse to serve them anyway);
 *  - signatures: SHA-256 (none for EdDSA); MD5 and SHA-1 refused;
 *  - leaf certificates: critical basicConstraints CA:FALSE, critical
 *    keyUsage, exactly one extendedKeyUsage (serverAuth or clientAuth),
 *    a subjectAltName (a client's whose CN is a user name may have
 *    none), SKI/AKI, 1 to CS_DAYS_MAX days (default
 *    CS_DAYS_DEFAULT), random 128-bit serial;
 *  - requests: only their validated subjectAltName is ever used.
 */
#ifndef FTPS_CSX509_H
#define FTPS_CSX509_H

#include <stddef.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certstore.h"

#define CS_DAYS_DEFAULT		365
#define CS_DAYS_MAX		825	/* CA/Browser Forum's old ceiling */
#define CS_CA_DAYS_DEFAULT	3650
#define CS_CA_DAYS_MAX		10950
#define CS_KEY_DEFAULT		"ec:P-256"
#define CS_SERIAL_BITS		128
#define CS_BACKDATE		300	/* seconds notBefore lies in the past */
#define CS_URL_MAX		512

enum cs_purpose { CS_SERVER, CS_CLIENT };

/*
 * A two-letter ISO 3166-1 code (assigned, or exceptionally reserved);
 * lower case is accepted.  0 with the upper-cased code in out, or
 * FTPS_EPARSE with err saying so and suggesting the closest valid code
 * when there is one.
 */
int	 cs_country_check(const char *in, char out[3], char *err,
	    size_t errlen);
/* How many codes the table accepts (assigned + reserved). */
size_t	 cs_country_count(void);

/*
 * Generates a key from "rsa:2048", "rsa:3072", "rsa:4096", "ec:P-256",
 * "ec:P-384" or "ed25519" (NULL: CS_KEY_DEFAULT).  Weak or unknown
 * specifications are refused with err.
 */
int	 cs_keygen(const char *spec, EVP_PKEY **out, char *err, size_t errlen);
/* Applies the key policy above to key; label names it in err. */
int	 cs_key_check(EVP_PKEY *key, const char *label, char *err,
	    size_t errlen);
/* "RSA 2048", "EC P-256", "Ed25519"... */
void	 cs_key_describe(EVP_PKEY *key, char *out, size_t size);
/* Refuses MD5/SHA-1 (and older) signatures. */
int	 cs_sig_check_cert(X509 *x, const char *label, char *err,
	    size_t errlen);
int	 cs_sig_check_csr(X509_REQ *q, const char *label, char *err,
	    size_t errlen);

/* Subject attributes; NULL or "" leaves one out.  cn is required. */
struct cs_subject {
	const char	*cn, *country, *state, *locality, *org, *ou, *email;
};
int	 cs_subject_build(const struct cs_subject *, X509_NAME **out,
	    char *err, size_t errlen);

/* 1 when s is a host name (LDH labels; "*." first label if wildcard). */
int	 cs_dns_valid(const char *s, int wildcard);
/*
 * Appends "DNS:x,IP:y,email:z,URI:u" entries (a bare entry is DNS or IP
 * by its looks) to gens, each validated.
 */
int	 cs_san_parse(const char *list, GENERAL_NAMES *gens, char *err,
	    size_t errlen);
/* Validates one entry taken from a request: DNS, IP, email or URI. */
int	 cs_san_check(const GENERAL_NAME *, char *err, size_t errlen);
/* Adds cn as DNS or IP entry when it is one and not there yet. */
int	 cs_san_add_cn(GENERAL_NAMES *gens, const char *cn, char *err,
	    size_t errlen);
/* Adds email:addr when not there yet. */
int	 cs_san_add_email(GENERAL_NAMES *gens, const char *addr, char *err,
	    size_t errlen);
/* Adds UPN:upn (a Microsoft user principal name otherName). */
int	 cs_san_add_upn(GENERAL_NAMES *gens, const char *upn, char *err,
	    size_t errlen);
/* "DNS:a, IP:1.2.3.4" */
void	 cs_san_format(const GENERAL_NAMES *gens, char *out, size_t size);
/* The subjectAltName of a certificate (NULL: none); caller frees. */
GENERAL_NAMES	*cs_cert_sans(X509 *x);

/* A URL for the CRL distribution point: http(s), no blanks or quotes. */
int	 cs_url_check(const char *url, char *err, size_t errlen);

/* A random positive serial of CS_SERIAL_BITS bits; caller frees. */
int	 cs_serial_random(BIGNUM **out);

/* What a certificate is to be. */
struct cs_certspec {
	X509_NAME	*subject;
	EVP_PKEY	*pubkey;	/* the key it certifies */
	GENERAL_NAMES	*san;		/* leaf: at least one entry */
	enum cs_purpose	 purpose;
	int		 ca;		/* a CA certificate instead of a leaf */
	unsigned	 days;
	const BIGNUM	*serial;	/* NULL: random */
	const char	*crl_url;	/* NULL: no CRL distribution point */
	int		 clamped;	/* out: notAfter cut to the issuer's */
};

/*
 * Builds and signs a certificate: self-signed when issuer is NULL (then
 * signkey must be spec->pubkey's private key), else by issuer with
 * signkey.  A leaf never outlives its issuer (spec->clamped says so).
 */
int	 cs_cert_sign(struct cs_certspec *spec, X509 *issuer,
	    EVP_PKEY *signkey, X509 **out, char *err, size_t errlen);
/* A request with subject and a subjectAltName extension. */
int	 cs_csr_build(EVP_PKEY *key, X509_NAME *subject, GENERAL_NAMES *san,
	    X509_REQ **out, char *err, size_t errlen);
/*
 * Checks a request: its signature, key and signature policy, and each
 * requested subjectAltName (anything else it asks for, CA:TRUE
 * included, is ignored).  *sans receives the validated names plus, for
 * a server, the CN when it is a host name or address; a server needs at
 * least one name, a client either a name or a CN that is a user name
 * (parse_user_name()).
 */
int	 cs_csr_check(X509_REQ *q, const char *label, enum cs_purpose,
	    GENERAL_NAMES **sans, char *err, size_t errlen);

/* For list and show. */
struct cs_certinfo {
	char	 subject[512], issuer[512];
	char	 cn[256], issuer_cn[256];
	char	 sans[1024];
	char	 key[48];
	char	 serial[80];
	char	 sha256[100];
	char	 sigalg[64];
	char	 eku[64];
	char	 not_before[32], not_after[32];
	time_t	 not_after_t;
	long	 days_left;	/* negative: expired */
	int	 self_signed, ca;
};
void	 cs_cert_info(X509 *x, struct cs_certinfo *);
/* "C=DE, O=Acme, CN=www" */
void	 cs_name_format(const X509_NAME *n, char *out, size_t size);
/* "2025-01-31 12:00:00 UTC" */
void	 cs_time_format(const ASN1_TIME *t, char *out, size_t size);

/*
 * PEM writers into a cs_txn.  A key is written as PKCS#8: unencrypted
 * (secret file) with pass NULL, else encrypted with AES-256-CBC and
 * PBKDF2.  certs: more may be NULL.
 */
int	 cs_txn_put_key(struct cs_txn *, const char *fname, EVP_PKEY *key,
	    const char *pass, size_t passlen, char *err, size_t errlen);
int	 cs_txn_put_certs(struct cs_txn *, const char *fname, X509 *first,
	    STACK_OF(X509) *more, char *err, size_t errlen);
int	 cs_txn_put_csr(struct cs_txn *, const char *fname, X509_REQ *q,
	    char *err, size_t errlen);

#endif
