/*
 * libcertstore: decoding whatever an admin was handed (PEM, DER, PKCS#8,
 * traditional and legacy-encrypted keys, PKCS#12) into one bundle.
 */
#include "config.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include "certstore.h"
#include "err.h"
#include "log.h"

/* One decode: the passphrase is asked at most once and cleansed after. */
struct cs_dctx {
	const char		*label;
	const struct cs_pass	*pass;
	struct cs_bundle	*b;
	char			 pw[CS_PASS_MAX];
	int			 pwlen;		/* -1: not asked yet */
	int			 asked;
	char			*err;
	size_t			 errlen;
};

static int
cs_getpass(struct cs_dctx *c)
{
	char	 what[FTPS_PATH_MAX + 16];

	c->asked = 1;
	c->b->encrypted = 1;
	if (c->pwlen >= 0)
		return c->pwlen;
	if (c->pass == NULL || c->pass->get == NULL)
		return -1;
	snprintf(what, sizeof(what), "%s", c->label);
	c->pwlen = c->pass->get(c->pass->arg, what, 0, c->pw, sizeof(c->pw));
	if (c->pwlen < 0 || (size_t)c->pwlen >= sizeof(c->pw)) {
		OPENSSL_cleanse(c->pw, sizeof(c->pw));
		c->pwlen = -2;
		return -1;
	}
	return c->pwlen;
}

static int
cs_pem_cb(char *buf, int size, int rwflag, void *u)
{
	struct cs_dctx	*c = u;
	int		 n;

	if ((n = cs_getpass(c)) < 0 || n >= size)
		return -1;
	memcpy(buf, c->pw, (size_t)n);
	return n;
}

/* The error for a key that could not be decoded. */
static int
cs_key_fail(struct cs_dctx *c, const char *what)
{
	if (c->asked && (c->pass == NULL || c->pass->get == NULL)) {
		ERR_clear_error();
		return cs_err(c->err, c->errlen, FTPS_EDENIED, "%s: the "
		    "private key is encrypted and no passphrase was given",
		    c->label);
	}
	if (c->asked && c->pwlen < 0) {
		ERR_clear_error();
		return cs_err(c->err, c->errlen, FTPS_EDENIED, "%s: no "
		    "passphrase could be read for the encrypted private key",
		    c->label);
	}
	if (c->asked)
		return cs_err(c->err, c->errlen, FTPS_EDENIED, "%s: wrong "
		    "passphrase for the encrypted private key (or the key is "
		    "corrupt)", c->label);
	return cs_err_ssl(c->err, c->errlen, FTPS_EPARSE,
	    "%s: %s is not a valid private key", c->label, what);
}

static int
cs_add_key(struct cs_dctx *c, EVP_PKEY *k)
{
	if (c->b->key != NULL) {
		EVP_PKEY_free(k);
		return cs_err(c->err, c->errlen, FTPS_EPARSE,
		    "%s: holds more than one private key", c->label);
	}
	c->b->key = k;
	return 0;
}

static int
cs_add_cert(struct cs_dctx *c, X509 *x)
{
	if (sk_X509_num(c->b->certs) > CS_CHAIN_MAX) {
		X509_free(x);
		return cs_err(c->err, c->errlen, FTPS_ETOOBIG,
		    "%s: more than %d certificates", c->label,
		    CS_CHAIN_MAX + 1);
	}
	if (!sk_X509_push(c->b->certs, x)) {
		X509_free(x);
		return cs_err(c->err, c->errlen, FTPS_ENOMEM,
		    "%s: out of memory", c->label);
	}
	return 0;
}

static int
cs_add_csr(struct cs_dctx *c, X509_REQ *q)
{
	if (c->b->csr != NULL) {
		X509_REQ_free(q);
		return cs_err(c->err, c->errlen, FTPS_EPARSE,
		    "%s: holds more than one certificate request", c->label);
	}
	c->b->csr = q;
	return 0;
}

/* A DER private key in any structure, encrypted PKCS#8 included. */
static EVP_PKEY *
cs_der_key(struct cs_dctx *c, const unsigned char *der, size_t len)
{
	OSSL_DECODER_CTX	*dctx;
	EVP_PKEY		*k = NULL;
	const unsigned char	*p = der;
	size_t			 left = len;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&k, "DER", NULL, NULL,
	    EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dctx == NULL)
		return NULL;
	if (OSSL_DECODER_CTX_set_pem_password_cb(dctx, cs_pem_cb, c) != 1 ||
	    OSSL_DECODER_from_data(dctx, &p, &left) != 1 || left != 0) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	return k;
}

static int
cs_is_key_block(const char *name)
{
	static const char *const names[] = {
		"PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY",
		"EC PRIVATE KEY", "DSA PRIVATE KEY", "ANY PRIVATE KEY",
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

static int
cs_pem_block(struct cs_dctx *c, int idx, const char *name, const char *header,
    const unsigned char *der, long len)
{
	const unsigned char	*p = der;
	X509			*x;
	X509_REQ		*q;
	EVP_PKEY		*k;
	BIO			*mem;
	char			 what[96], safe[48];

	/* SECURITY: the block name is the file's text: no terminal escapes. */
	snprintf(what, sizeof(what), "PEM block %d (%s)", idx,
	    log_safe(safe, sizeof(safe), name));
	if (strcmp(name, "CERTIFICATE") == 0 ||
	    strcmp(name, "X509 CERTIFICATE") == 0 ||
	    strcmp(name, "TRUSTED CERTIFICATE") == 0) {
		x = strcmp(name, "TRUSTED CERTIFICATE") == 0 ?
		    d2i_X509_AUX(NULL, &p, len) : d2i_X509(NULL, &p, len);
		if (x == NULL || p != der + len) {
			X509_free(x);
			return cs_err_ssl(c->err, c->errlen, FTPS_EPARSE,
			    "%s: %s is not a valid certificate", c->label,
			    what);
		}
		return cs_add_cert(c, x);
	}
	if (strcmp(name, "CERTIFICATE REQUEST") == 0 ||
	    strcmp(name, "NEW CERTIFICATE REQUEST") == 0) {
		if ((q = d2i_X509_REQ(NULL, &p, len)) == NULL ||
		    p != der + len) {
			X509_REQ_free(q);
			return cs_err_ssl(c->err, c->errlen, FTPS_EPARSE,
			    "%s: %s is not a valid certificate request",
			    c->label, what);
		}
		return cs_add_csr(c, q);
	}
	if (cs_is_key_block(name)) {
		/*
		 * Re-armoured and read back whole, so that a legacy
		 * "Proc-Type: 4,ENCRYPTED" header is honoured too.
		 */
		if ((mem = BIO_new(BIO_s_secmem())) == NULL ||
		    PEM_write_bio(mem, name, header, der, len) <= 0) {
			BIO_free(mem);
			return cs_err_ssl(c->err, c->errlen, FTPS_ENOMEM,
			    "%s: %s", c->label, what);
		}
		k = PEM_read_bio_PrivateKey_ex(mem, NULL, cs_pem_cb, c, NULL,
		    NULL);
		BIO_free(mem);
		if (k == NULL)
			return cs_key_fail(c, what);
		return cs_add_key(c, k);
	}
	if (strcmp(name, "EC PARAMETERS") == 0 ||
	    strcmp(name, "DSA PARAMETERS") == 0)
		return 0;
	if (strcmp(name, "OPENSSH PRIVATE KEY") == 0)
		return cs_err(c->err, c->errlen, FTPS_EPARSE, "%s: %s is in "
		    "OpenSSH's own format (convert it with ssh-keygen -p -m "
		    "PKCS8 -f FILE)", c->label, what);
	if (strstr(name, "PUBLIC KEY") != NULL)
		return cs_err(c->err, c->errlen, FTPS_EPARSE, "%s: %s is a "
		    "public key, not a private key", c->label, what);
	return cs_err(c->err, c->errlen, FTPS_EPARSE, "%s: %s is neither a "
	    "certificate, a private key nor a certificate request",
	    c->label, what);
}

static int
cs_decode_pem(struct cs_dctx *c, const unsigned char *data, size_t len)
{
	BIO		*bio;
	char		*name = NULL, *header = NULL;
	unsigned char	*der = NULL;
	long		 dlen = 0;
	unsigned long	 e;
	int		 idx, r = 0;

	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		return cs_err(c->err, c->errlen, FTPS_ENOMEM,
		    "%s: out of memory", c->label);
	for (idx = 1; ; idx++) {
		ERR_clear_error();
		if (PEM_read_bio(bio, &name, &header, &der, &dlen) != 1) {
			e = ERR_peek_last_error();
			if (idx > 1 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
				ERR_clear_error();
				break;
			}
			r = cs_err_ssl(c->err, c->errlen, FTPS_EPARSE,
			    "%s: truncated or corrupt PEM at block %d", c->label,
			    idx);
			break;
		}
		r = cs_pem_block(c, idx, name, header, der, dlen);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_clear_free(der, (size_t)dlen);
		name = header = NULL;
		der = NULL;
		if (r != 0)
			break;
	}
	BIO_free(bio);
	return r;
}

/* 1 when the legacy provider (RC2, 3DES in old .pfx files) is loaded. */
static int
cs_legacy_provider(void)
{
	static OSSL_PROVIDER	*legacy;

	if (legacy == NULL)
		legacy = OSSL_PROVIDER_try_load(NULL, "legacy", 1);
	return legacy != NULL;
}

static int
cs_decode_p12(struct cs_dctx *c, PKCS12 *p12)
{
	EVP_PKEY	*k = NULL;
	X509		*x = NULL;
	STACK_OF(X509)	*ca = NULL;
	const char	*pw = NULL;
	int		 r = 0, tries;

	c->b->pkcs12 = 1;
	/* An empty passphrase is tried first, as by openssl pkcs12. */
	if (PKCS12_mac_present(p12)) {
		if (PKCS12_verify_mac(p12, "", 0))
			pw = "";
		else if (PKCS12_verify_mac(p12, NULL, 0))
			pw = NULL;
		else {
			if (cs_getpass(c) < 0)
				return cs_key_fail(c, "PKCS#12");
			if (!PKCS12_verify_mac(p12, c->pw, c->pwlen)) {
				ERR_clear_error();
				return cs_err(c->err, c->errlen, FTPS_EDENIED,
				    "%s: wrong passphrase (PKCS#12 integrity "
				    "check failed)", c->label);
			}
			pw = c->pw;
		}
	} else
		pw = "";
	for (tries = 0; tries < 2; tries++) {
		ERR_clear_error();
		if (PKCS12_parse(p12, pw, &k, &x, &ca) == 1)
			break;
		/* Old files use algorithms that only "legacy" provides. */
		if (tries == 0 && !cs_legacy_provider())
			tries++;
	}
	if (tries == 2)
		return cs_err_ssl(c->err, c->errlen, FTPS_EPARSE,
		    "%s: PKCS#12 contents could not be decrypted", c->label);
	if (k != NULL)
		r = cs_add_key(c, k);
	if (r == 0 && x != NULL) {
		r = cs_add_cert(c, x);
		x = NULL;
	}
	while (r == 0 && ca != NULL && sk_X509_num(ca) > 0)
		r = cs_add_cert(c, sk_X509_shift(ca));
	X509_free(x);
	sk_X509_pop_free(ca, X509_free);
	return r;
}

static int
cs_decode_der(struct cs_dctx *c, const unsigned char *data, size_t len)
{
	const unsigned char	*p;
	PKCS12			*p12;
	X509			*x;
	X509_REQ		*q;
	EVP_PKEY		*k;
	int			 r;

	if (len > 0x7fffffff)
		return cs_err(c->err, c->errlen, FTPS_ETOOBIG,
		    "%s: too large", c->label);
	p = data;
	if ((p12 = d2i_PKCS12(NULL, &p, (long)len)) != NULL) {
		if (p == data + len) {
			r = cs_decode_p12(c, p12);
			PKCS12_free(p12);
			return r;
		}
		PKCS12_free(p12);
	}
	p = data;
	if ((x = d2i_X509(NULL, &p, (long)len)) != NULL) {
		if (p == data + len)
			return cs_add_cert(c, x);
		X509_free(x);
	}
	p = data;
	if ((q = d2i_X509_REQ(NULL, &p, (long)len)) != NULL) {
		if (p == data + len)
			return cs_add_csr(c, q);
		X509_REQ_free(q);
	}
	if ((k = cs_der_key(c, data, len)) != NULL)
		return cs_add_key(c, k);
	if (c->asked)
		return cs_key_fail(c, "DER key");
	ERR_clear_error();
	return cs_err(c->err, c->errlen, FTPS_EPARSE, "%s: not a certificate, "
	    "private key, certificate request or PKCS#12 file in PEM or DER "
	    "(wrong format, or truncated)", c->label);
}

static int
cs_looks_pem(const unsigned char *data, size_t len)
{
	static const char	 tag[] = "-----BEGIN ";
	size_t			 i;

	if (len < sizeof(tag) - 1)
		return 0;
	for (i = 0; i + sizeof(tag) - 1 <= len; i++)
		if (data[i] == '-' && memcmp(data + i, tag,
		    sizeof(tag) - 1) == 0)
			return 1;
	return 0;
}

int
cs_decode(const char *label, const unsigned char *data, size_t len,
    const struct cs_pass *pass, struct cs_bundle *b, char *err,
    size_t errlen)
{
	struct cs_dctx	 c;
	int		 r;

	memset(b, 0, sizeof(*b));
	if (len == 0)
		return cs_err(err, errlen, FTPS_EPARSE, "%s: empty file",
		    label);
	if ((b->certs = sk_X509_new_null()) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "%s: out of memory",
		    label);
	memset(&c, 0, sizeof(c));
	c.label = label;
	c.pass = pass;
	c.b = b;
	c.pwlen = -1;
	c.err = err;
	c.errlen = errlen;
	ERR_clear_error();
	if (cs_looks_pem(data, len))
		r = cs_decode_pem(&c, data, len);
	else
		r = cs_decode_der(&c, data, len);
	OPENSSL_cleanse(c.pw, sizeof(c.pw));
	ERR_clear_error();
	if (r == 0 && b->key == NULL && b->csr == NULL &&
	    sk_X509_num(b->certs) == 0)
		r = cs_err(err, errlen, FTPS_EPARSE, "%s: holds no "
		    "certificate, private key or certificate request", label);
	if (r != 0) {
		cs_bundle_free(b);
		/* The caller may still want to know why it was refused. */
		b->encrypted = c.asked;
	}
	return r;
}

int
cs_decode_file(const char *path, const struct cs_pass *pass,
    struct cs_bundle *b, char *err, size_t errlen)
{
	unsigned char	*data;
	size_t		 len;
	int		 r;

	memset(b, 0, sizeof(*b));
	if ((r = cs_read_file(path, &data, &len, err, errlen)) != 0)
		return r;
	r = cs_decode(path, data, len, pass, b, err, errlen);
	cs_data_free(data, len);
	return r;
}

void
cs_bundle_free(struct cs_bundle *b)
{
	EVP_PKEY_free(b->key);
	sk_X509_pop_free(b->certs, X509_free);
	X509_REQ_free(b->csr);
	memset(b, 0, sizeof(*b));
}
