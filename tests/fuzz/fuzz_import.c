/*
 * fuzz_import: arbitrary bytes through cs_decode(), what `certmgr import`
 * runs on a file (PEM with any number of blocks, DER, PKCS#8, legacy
 * encrypted keys, PKCS#12).  Encrypted inputs get the passphrase
 * "fuzz-pass", as the seeds use.  Invariants:
 * - the result is 0 or a documented code; on failure the bundle is empty
 *   and err is one printable line naming the input (SECURITY: a hostile
 *   file cannot put terminal escapes or extra lines into certmgr's
 *   output);
 * - on success the bundle holds something, at most CS_CHAIN_MAX + 1
 *   certificates, and the passphrase was asked at most once;
 * - what was accepted, written back as certmgr stores it (PEM, key
 *   unencrypted), decodes to the same key, certificates (in order) and
 *   request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certstore.h"
#include "err.h"
#include "fuzz.h"

#define FI_LABEL	"input"
#define FI_PASS		"fuzz-pass"

static int
fi_getpass(void *arg, const char *what, int verify, char *buf, size_t size)
{
	int	*calls = arg;

	(*calls)++;
	FUZZ_CHECK(strcmp(what, FI_LABEL) == 0);
	FUZZ_CHECK(verify == 0);
	FUZZ_CHECK(size > sizeof(FI_PASS));
	memcpy(buf, FI_PASS, sizeof(FI_PASS));
	return (int)sizeof(FI_PASS) - 1;
}

static void
fi_err_clean(const char *err)
{
	const char	*p;

	FUZZ_CHECK(strncmp(err, FI_LABEL ": ", sizeof(FI_LABEL) + 1) == 0);
	for (p = err; *p != '\0'; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
}

/* The bundle as certmgr writes it: key (PKCS#8, clear), certs, request. */
static void
fi_roundtrip(const struct cs_bundle *b)
{
	struct cs_bundle	 c;
	char			 err[CS_ERR_MAX];
	BIO			*mem;
	const unsigned char	*pem;
	long			 len;
	int			 i, r;

	FUZZ_CHECK((mem = BIO_new(BIO_s_mem())) != NULL);
	if (b->key != NULL)
		FUZZ_CHECK(PEM_write_bio_PrivateKey(mem, b->key, NULL, NULL,
		    0, NULL, NULL) == 1);
	for (i = 0; i < sk_X509_num(b->certs); i++)
		FUZZ_CHECK(PEM_write_bio_X509(mem, sk_X509_value(b->certs,
		    i)) == 1);
	if (b->csr != NULL)
		FUZZ_CHECK(PEM_write_bio_X509_REQ(mem, b->csr) == 1);
	len = BIO_get_mem_data(mem, (char **)&pem);
	FUZZ_CHECK(len > 0);
	err[0] = '\0';
	r = cs_decode(FI_LABEL, pem, (size_t)len, NULL, &c, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "stored form refused: %s\n", err);
		FUZZ_CHECK(!"a decoded bundle reads back from its PEM form");
	}
	FUZZ_CHECK((b->key == NULL) == (c.key == NULL));
	if (b->key != NULL)
		FUZZ_CHECK(EVP_PKEY_eq(b->key, c.key) == 1);
	FUZZ_CHECK(sk_X509_num(b->certs) == sk_X509_num(c.certs));
	for (i = 0; i < sk_X509_num(b->certs); i++)
		FUZZ_CHECK(X509_cmp(sk_X509_value(b->certs, i),
		    sk_X509_value(c.certs, i)) == 0);
	FUZZ_CHECK((b->csr == NULL) == (c.csr == NULL));
	if (b->csr != NULL) {
		unsigned char	*d1 = NULL, *d2 = NULL;
		int		 n1, n2;

		n1 = i2d_X509_REQ(b->csr, &d1);
		n2 = i2d_X509_REQ(c.csr, &d2);
		FUZZ_CHECK(n1 > 0 && n1 == n2 && memcmp(d1, d2,
		    (size_t)n1) == 0);
		OPENSSL_free(d1);
		OPENSSL_free(d2);
	}
	FUZZ_CHECK(!c.encrypted && !c.pkcs12);
	cs_bundle_free(&c);
	BIO_free(mem);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_bundle	 b;
	struct cs_pass		 pass;
	char			 err[CS_ERR_MAX];
	int			 calls = 0, r, n;

	pass.get = fi_getpass;
	pass.arg = &calls;
	err[0] = '\0';
	r = cs_decode(FI_LABEL, data, size, &pass, &b, err, sizeof(err));
	FUZZ_CHECK(calls <= 1);
	FUZZ_CHECK(r == 0 || r == FTPS_EPARSE || r == FTPS_ETOOBIG ||
	    r == FTPS_EDENIED || r == FTPS_ENOMEM);
	if (r != 0) {
		if (err[0] == '\0' || strncmp(err, FI_LABEL ": ",
		    sizeof(FI_LABEL) + 1) != 0)
			fprintf(stderr, "err: \"%s\"\n", err);
		fi_err_clean(err);
		FUZZ_CHECK(b.key == NULL && b.certs == NULL && b.csr == NULL);
		FUZZ_CHECK(b.encrypted == (calls > 0));
		ERR_clear_error();
		return 0;
	}
	FUZZ_CHECK(b.certs != NULL);
	n = sk_X509_num(b.certs);
	FUZZ_CHECK(n >= 0 && n <= CS_CHAIN_MAX + 1);
	FUZZ_CHECK(b.key != NULL || b.csr != NULL || n > 0);
	FUZZ_CHECK(b.encrypted == (calls > 0));
	if (b.key != NULL && n > 0)
		FUZZ_CHECK(cs_pair_matches(sk_X509_value(b.certs, 0),
		    b.key) == (EVP_PKEY_eq(X509_get0_pubkey(
		    sk_X509_value(b.certs, 0)), b.key) == 1));
	fi_roundtrip(&b);
	cs_bundle_free(&b);
	FUZZ_CHECK(b.key == NULL && b.certs == NULL && b.csr == NULL);
	ERR_clear_error();
	return 0;
}
