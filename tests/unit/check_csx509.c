/*
 * tests/unit/check_csx509.c: libcertstore's policy (country codes, keys,
 * SANs, requests, certificates) and every import format cs_decode reads.
 */
#include "config.h"

#include <string.h>
#include <check.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "certstore.h"
#include "csx509.h"
#include "err.h"

Suite	*unit_suite(void);

static char	 err[CS_ERR_MAX];

static int
has(const char *s)
{
	return strstr(err, s) != NULL;
}

START_TEST(country_table)
{
	static const char *const ok[] = {
		"DE", "FR", "GB", "US", "JP", "AX", "SS", "ZW",
		"UK", "EU", "AC", "CP", "CQ", "DG", "EA", "EZ", "FX", "IC",
		"SU", "TA", "UN",
	};
	char	 cc[3];
	size_t	 i;

	/* 249 assigned plus 13 exceptionally reserved. */
	ck_assert_uint_eq(cs_country_count(), 262);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(cs_country_check(ok[i], cc, err,
		    sizeof(err)) == 0, "%s: %s", ok[i], err);
		ck_assert_str_eq(cc, ok[i]);
	}
	ck_assert_int_eq(cs_country_check("gb", cc, err, sizeof(err)), 0);
	ck_assert_str_eq(cc, "GB");
	/* XK (Kosovo) is user-assigned, not an ISO code. */
	ck_assert_int_eq(cs_country_check("XK", cc, err, sizeof(err)),
	    FTPS_EPARSE);
}
END_TEST

START_TEST(country_refused_with_suggestion)
{
	char	 cc[3];

	ck_assert_int_eq(cs_country_check("EN", cc, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_msg(has("did you mean GB"), "%s", err);
	ck_assert_str_eq(cc, "");
	ck_assert_int_eq(cs_country_check("DEU", cc, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_msg(has("did you mean DE (Germany)"), "%s", err);
	ck_assert_int_eq(cs_country_check("france", cc, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_msg(has("did you mean FR"), "%s", err);
	/* Swapped letters. */
	ck_assert_int_eq(cs_country_check("ED", cc, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_msg(has("did you mean DE"), "%s", err);
	/* No single guess: the codes with that first letter. */
	ck_assert_int_eq(cs_country_check("EQ", cc, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_msg(has("starting with E are: EC EE EG EH ER ES ET"), "%s",
	    err);
	ck_assert_int_eq(cs_country_check("", cc, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_int_eq(cs_country_check("D", cc, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_int_eq(cs_country_check("D\n", cc, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_int_eq(cs_country_check("XX", cc, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_msg(has("not an ISO 3166-1 alpha-2 code"), "%s", err);
}
END_TEST

START_TEST(keygen_policy)
{
	EVP_PKEY	*k;
	char		 d[48];

	ck_assert_int_eq(cs_keygen("rsa:1024", &k, err, sizeof(err)),
	    FTPS_EDENIED);
	ck_assert_msg(has("2048") && has("security level"), "%s", err);
	ck_assert_int_eq(cs_keygen("dsa:2048", &k, err, sizeof(err)),
	    FTPS_EDENIED);
	ck_assert_msg(has("DSA") && has("security level"), "%s", err);
	ck_assert_int_eq(cs_keygen("ec:P-192", &k, err, sizeof(err)),
	    FTPS_EPARSE);
	ck_assert_int_eq(cs_keygen("ed25519", &k, err, sizeof(err)), 0);
	cs_key_describe(k, d, sizeof(d));
	ck_assert_str_eq(d, "Ed25519");
	ck_assert_int_eq(cs_key_check(k, "k", err, sizeof(err)), 0);
	EVP_PKEY_free(k);
	ck_assert_int_eq(cs_keygen("ec:P-384", &k, err, sizeof(err)), 0);
	cs_key_describe(k, d, sizeof(d));
	ck_assert_str_eq(d, "EC P-384");
	EVP_PKEY_free(k);
	ck_assert_int_eq(cs_keygen(NULL, &k, err, sizeof(err)), 0);
	cs_key_describe(k, d, sizeof(d));
	ck_assert_str_eq(d, "EC P-256");
	EVP_PKEY_free(k);

	/* An existing weak key is refused by the check too. */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(cs_key_check(k, "weak.key", err, sizeof(err)),
	    FTPS_EDENIED);
	ck_assert_msg(has("weak.key: RSA key of 1024 bits"), "%s", err);
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(cs_key_check(k, "k1", err, sizeof(err)),
	    FTPS_EDENIED);
	EVP_PKEY_free(k);
}
END_TEST

static const struct {
	const char	*in;
	int		 ok;
} sans[] = {
	{ "DNS:www.example.com", 1 },
	{ "dns:WWW.Example.COM", 1 },
	{ "DNS:*.example.com", 1 },
	{ "DNS:*.com", 0 },
	{ "DNS:a.*.example.com", 0 },
	{ "DNS:-bad.example.com", 0 },
	{ "DNS:bad-.example.com", 0 },
	{ "DNS:ex ample.com", 0 },
	{ "DNS:", 0 },
	{ "IP:127.0.0.1", 1 },
	{ "IP:::1", 1 },
	{ "IP:300.1.1.1", 0 },
	{ "email:alice@example.com", 1 },
	{ "email:alice", 0 },
	{ "URI:https://example.com/x", 1 },
	{ "URI:javascript:alert(1)", 0 },
	{ "otherName:1.2.3;UTF8:x", 0 },
	{ "www.example.com,127.0.0.1", 1 },
	{ "DNS:a.example,,DNS:b.example", 0 },
};

START_TEST(san_parse)
{
	GENERAL_NAMES	*g = sk_GENERAL_NAME_new_null();
	int		 r;

	r = cs_san_parse(sans[_i].in, g, err, sizeof(err));
	ck_assert_msg((r == 0) == sans[_i].ok, "%s: %d %s", sans[_i].in, r,
	    err);
	GENERAL_NAMES_free(g);
}
END_TEST

START_TEST(san_cn_and_dedup)
{
	GENERAL_NAMES	*g = sk_GENERAL_NAME_new_null();
	char		 out[256];

	ck_assert_int_eq(cs_san_add_cn(g, "WWW.example.com", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cs_san_parse("DNS:www.example.com,IP:10.0.0.1", g,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(cs_san_add_cn(g, "Not A Host", err, sizeof(err)), 0);
	ck_assert_int_eq(cs_san_add_cn(g, "10.0.0.1", err, sizeof(err)), 0);
	cs_san_format(g, out, sizeof(out));
	ck_assert_str_eq(out, "DNS:www.example.com, IP:10.0.0.1");
	GENERAL_NAMES_free(g);
}
END_TEST

/* A request asking for CA:TRUE and odd names, signed with md. */
static X509_REQ *
mkreq(EVP_PKEY *k, const char *cn, const char *extra_san, const EVP_MD *md)
{
	X509_REQ			*q = X509_REQ_new();
	X509_NAME			*n = X509_NAME_new();
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION			*e;
	X509V3_CTX			 ctx;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(q, n);
	X509_REQ_set_pubkey(q, k);
	X509V3_set_ctx(&ctx, NULL, NULL, q, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    "critical,CA:TRUE");
	sk_X509_EXTENSION_push(exts, e);
	if (extra_san != NULL) {
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
		    extra_san);
		ck_assert_ptr_nonnull(e);
		sk_X509_EXTENSION_push(exts, e);
	}
	X509_REQ_add_extensions(q, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ck_assert_int_gt(X509_REQ_sign(q, k, md), 0);
	X509_NAME_free(n);
	return q;
}

START_TEST(csr_extensions_never_copied)
{
	EVP_PKEY		*cak, *k;
	X509			*ca, *x;
	X509_REQ		*q;
	GENERAL_NAMES		*g = NULL;
	X509_NAME		*n = NULL;
	struct cs_subject	 s = { .cn = "Test CA" };
	struct cs_certspec	 spec;
	BASIC_CONSTRAINTS	*bc;
	char			 out[256];

	ck_assert_int_eq(cs_keygen(NULL, &cak, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_keygen(NULL, &k, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_subject_build(&s, &n, err, sizeof(err)), 0);
	memset(&spec, 0, sizeof(spec));
	spec.subject = n;
	spec.pubkey = cak;
	spec.ca = 1;
	spec.days = 30;
	ck_assert_int_eq(cs_cert_sign(&spec, NULL, cak, &ca, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(X509_check_ca(ca), 1);

	q = mkreq(k, "www.example.com", "DNS:alt.example.com", EVP_sha256());
	ck_assert_int_eq(cs_csr_check(q, "req", CS_SERVER, &g, err,
	    sizeof(err)), 0);
	cs_san_format(g, out, sizeof(out));
	ck_assert_str_eq(out, "DNS:alt.example.com, DNS:www.example.com");
	memset(&spec, 0, sizeof(spec));
	spec.subject = X509_REQ_get_subject_name(q);
	spec.pubkey = k;
	spec.san = g;
	spec.days = 900;
	ck_assert_int_eq(cs_cert_sign(&spec, ca, cak, &x, err, sizeof(err)),
	    FTPS_EDENIED);
	ck_assert_msg(has("825"), "%s", err);
	spec.days = 3650 / 5;
	ck_assert_int_eq(cs_cert_sign(&spec, ca, cak, &x, err, sizeof(err)),
	    0);
	/* Asked for CA:TRUE, got critical CA:FALSE; cut to the CA's life. */
	ck_assert_int_eq(spec.clamped, 1);
	ck_assert_int_eq(X509_check_ca(x), 0);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	ck_assert_ptr_nonnull(bc);
	ck_assert_int_eq(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	ck_assert_int_eq(X509_get_ext_by_critical(x, 1, -1) >= 0, 1);
	ck_assert_uint_eq(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	ck_assert_int_eq(X509_check_issued(ca, x), X509_V_OK);
	X509_free(x);
	GENERAL_NAMES_free(g);
	X509_REQ_free(q);

	/* Names of a type certmgr does not sign, or malformed, refused. */
	q = mkreq(k, "www.example.com", "DNS:bad_name.example.com",
	    EVP_sha256());
	ck_assert_int_eq(cs_csr_check(q, "req", CS_SERVER, &g, err,
	    sizeof(err)), FTPS_EPARSE);
	ck_assert_msg(has("req: requested SAN DNS:bad_name"), "%s", err);
	X509_REQ_free(q);

	/* A SHA-1 request is refused. */
	q = mkreq(k, "www.example.com", NULL, EVP_sha1());
	ck_assert_int_eq(cs_csr_check(q, "req", CS_SERVER, &g, err,
	    sizeof(err)), FTPS_EDENIED);
	ck_assert_msg(has("SHA1") && has("security level"), "%s", err);
	X509_REQ_free(q);

	/* A client CN that is not a host name needs another name. */
	q = mkreq(k, "Alice Smith", NULL, EVP_sha256());
	ck_assert_int_eq(cs_csr_check(q, "req", CS_CLIENT, &g, err,
	    sizeof(err)), FTPS_EPARSE);
	X509_REQ_free(q);

	X509_free(ca);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
}
END_TEST

START_TEST(serials_random_and_unique)
{
	BIGNUM	*bn[200];
	int	 i, j;

	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(cs_serial_random(&bn[i]), 0);
		ck_assert(!BN_is_zero(bn[i]));
		ck_assert(!BN_is_negative(bn[i]));
		ck_assert_int_le(BN_num_bits(bn[i]), CS_SERIAL_BITS);
		for (j = 0; j < i; j++)
			ck_assert_int_ne(BN_cmp(bn[i], bn[j]), 0);
	}
	/* Some serials use the top bits: 128 random bits, not fewer. */
	for (i = 0, j = 0; i < 200; i++) {
		j |= BN_num_bits(bn[i]) == CS_SERIAL_BITS;
		BN_free(bn[i]);
	}
	ck_assert_int_eq(j, 1);
}
END_TEST

/* Every format an admin may be handed, and bad ones. */
static EVP_PKEY	*fk;
static X509	*fx, *fca;

static void
fmt_setup(void)
{
	EVP_PKEY		*cak;
	X509_NAME		*n = NULL;
	GENERAL_NAMES		*g = sk_GENERAL_NAME_new_null();
	struct cs_subject	 s = { .cn = "Import CA" };
	struct cs_subject	 ls = { .cn = "imp.example.com" };
	struct cs_certspec	 spec;

	ck_assert_int_eq(cs_keygen("rsa:2048", &fk, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_keygen(NULL, &cak, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_subject_build(&s, &n, err, sizeof(err)), 0);
	memset(&spec, 0, sizeof(spec));
	spec.subject = n;
	spec.pubkey = cak;
	spec.ca = 1;
	spec.days = 30;
	ck_assert_int_eq(cs_cert_sign(&spec, NULL, cak, &fca, err,
	    sizeof(err)), 0);
	X509_NAME_free(n);
	ck_assert_int_eq(cs_subject_build(&ls, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_san_add_cn(g, ls.cn, err, sizeof(err)), 0);
	memset(&spec, 0, sizeof(spec));
	spec.subject = n;
	spec.pubkey = fk;
	spec.san = g;
	spec.days = 10;
	ck_assert_int_eq(cs_cert_sign(&spec, fca, cak, &fx, err,
	    sizeof(err)), 0);
	X509_NAME_free(n);
	GENERAL_NAMES_free(g);
	EVP_PKEY_free(cak);
}

static void
fmt_teardown(void)
{
	EVP_PKEY_free(fk);
	X509_free(fx);
	X509_free(fca);
}

static int
tpass(void *arg, const char *what, int verify, char *buf, size_t size)
{
	return snprintf(buf, size, "%s", (const char *)arg);
}

enum fmt {
	F_PEM_CERT, F_DER_CERT, F_PEM_PKCS8, F_DER_PKCS8, F_PEM_TRAD,
	F_DER_TRAD, F_PEM_PKCS8_ENC, F_DER_PKCS8_ENC, F_PEM_TRAD_ENC,
	F_COMBINED, F_PKCS12, F_PKCS12_EMPTY, F_PEM_CSR, F_DER_CSR, F_NFMT
};

static BIO *
encode(enum fmt f)
{
	BIO		*b = BIO_new(BIO_s_mem());
	PKCS12		*p12;
	STACK_OF(X509)	*ca;
	X509_REQ	*q;

	switch (f) {
	case F_PEM_CERT:
		PEM_write_bio_X509(b, fx);
		break;
	case F_DER_CERT:
		i2d_X509_bio(b, fx);
		break;
	case F_PEM_PKCS8:
		PEM_write_bio_PKCS8PrivateKey(b, fk, NULL, NULL, 0, NULL, NULL);
		break;
	case F_DER_PKCS8:
		i2d_PKCS8PrivateKey_bio(b, fk, NULL, NULL, 0, NULL, NULL);
		break;
	case F_PEM_TRAD:
		PEM_write_bio_PrivateKey_traditional(b, fk, NULL, NULL, 0,
		    NULL, NULL);
		break;
	case F_DER_TRAD:
		i2d_PrivateKey_bio(b, fk);
		break;
	case F_PEM_PKCS8_ENC:
		PEM_write_bio_PKCS8PrivateKey(b, fk, EVP_aes_256_cbc(), NULL,
		    0, NULL, "pw");
		break;
	case F_DER_PKCS8_ENC:
		i2d_PKCS8PrivateKey_bio(b, fk, EVP_aes_256_cbc(), NULL, 0,
		    NULL, "pw");
		break;
	case F_PEM_TRAD_ENC:
		PEM_write_bio_PrivateKey_traditional(b, fk, EVP_aes_256_cbc(),
		    NULL, 0, NULL, "pw");
		break;
	case F_COMBINED:
		PEM_write_bio_PrivateKey(b, fk, NULL, NULL, 0, NULL, NULL);
		PEM_write_bio_X509(b, fx);
		PEM_write_bio_X509(b, fca);
		break;
	case F_PKCS12:
	case F_PKCS12_EMPTY:
		ca = sk_X509_new_null();
		sk_X509_push(ca, fca);
		p12 = PKCS12_create(f == F_PKCS12 ? "pw" : "", "imp", fk, fx,
		    ca, 0, 0, 0, 0, 0);
		ck_assert_ptr_nonnull(p12);
		i2d_PKCS12_bio(b, p12);
		PKCS12_free(p12);
		sk_X509_free(ca);
		break;
	case F_PEM_CSR:
	case F_DER_CSR:
		ck_assert_int_eq(cs_csr_build(fk, X509_get_subject_name(fx),
		    NULL, &q, err, sizeof(err)), 0);
		if (f == F_PEM_CSR)
			PEM_write_bio_X509_REQ(b, q);
		else
			i2d_X509_REQ_bio(b, q);
		X509_REQ_free(q);
		break;
	default:
		break;
	}
	return b;
}

START_TEST(import_formats)
{
	static const struct {
		int	 key, certs, csr, encrypted, p12;
	} want[F_NFMT] = {
		[F_PEM_CERT] = { 0, 1, 0, 0, 0 },
		[F_DER_CERT] = { 0, 1, 0, 0, 0 },
		[F_PEM_PKCS8] = { 1, 0, 0, 0, 0 },
		[F_DER_PKCS8] = { 1, 0, 0, 0, 0 },
		[F_PEM_TRAD] = { 1, 0, 0, 0, 0 },
		[F_DER_TRAD] = { 1, 0, 0, 0, 0 },
		[F_PEM_PKCS8_ENC] = { 1, 0, 0, 1, 0 },
		[F_DER_PKCS8_ENC] = { 1, 0, 0, 1, 0 },
		[F_PEM_TRAD_ENC] = { 1, 0, 0, 1, 0 },
		[F_COMBINED] = { 1, 2, 0, 0, 0 },
		[F_PKCS12] = { 1, 2, 0, 1, 1 },
		[F_PKCS12_EMPTY] = { 1, 2, 0, 0, 1 },
		[F_PEM_CSR] = { 0, 0, 1, 0, 0 },
		[F_DER_CSR] = { 0, 0, 1, 0, 0 },
	};
	struct cs_pass		 pw = { tpass, (void *)"pw" };
	struct cs_pass		 bad = { tpass, (void *)"nope" };
	struct cs_bundle	 b;
	BIO			*bio = encode((enum fmt)_i);
	unsigned char		*data;
	long			 len;
	int			 r;

	len = BIO_get_mem_data(bio, (char **)&data);
	ck_assert_int_gt(len, 0);
	r = cs_decode("in", data, (size_t)len, &pw, &b, err, sizeof(err));
	ck_assert_msg(r == 0, "format %d: %s", _i, err);
	ck_assert_int_eq(b.key != NULL, want[_i].key);
	ck_assert_int_eq(sk_X509_num(b.certs), want[_i].certs);
	ck_assert_int_eq(b.csr != NULL, want[_i].csr);
	ck_assert_int_eq(b.encrypted, want[_i].encrypted);
	ck_assert_int_eq(b.pkcs12, want[_i].p12);
	if (b.key != NULL)
		ck_assert_int_eq(cs_pair_matches(fx, b.key), 1);
	if (want[_i].certs > 0)
		ck_assert_int_eq(X509_cmp(sk_X509_value(b.certs, 0), fx), 0);
	cs_bundle_free(&b);

	if (want[_i].encrypted) {
		/* Wrong passphrase, and none at all. */
		ck_assert_int_eq(cs_decode("in", data, (size_t)len, &bad, &b,
		    err, sizeof(err)), FTPS_EDENIED);
		ck_assert_msg(has("in: wrong passphrase"), "%s", err);
		ck_assert_int_eq(cs_decode("in", data, (size_t)len, NULL, &b,
		    err, sizeof(err)), FTPS_EDENIED);
		ck_assert_int_eq(b.encrypted, 1);
		ck_assert_msg(!has("pw"), "%s", err);
	}
	if (_i != F_DER_CERT && _i != F_DER_PKCS8 && _i != F_DER_TRAD &&
	    _i != F_DER_PKCS8_ENC && _i != F_DER_CSR && len > 80) {
		/* Truncated: named, never half-read. */
		r = cs_decode("cut", data, (size_t)len - 40, &pw, &b, err,
		    sizeof(err));
		ck_assert_msg(r != 0, "format %d truncated accepted", _i);
		ck_assert_msg(has("cut: "), "%s", err);
	}
	BIO_free(bio);
}
END_TEST

START_TEST(import_refusals)
{
	struct cs_bundle	 b;
	BIO			*bio = BIO_new(BIO_s_mem());
	char			*data;
	long			 len;

	ck_assert_int_eq(cs_decode("e", (const unsigned char *)"", 0, NULL,
	    &b, err, sizeof(err)), FTPS_EPARSE);
	ck_assert_msg(has("e: empty file"), "%s", err);
	ck_assert_int_eq(cs_decode("g", (const unsigned char *)"hello", 5,
	    NULL, &b, err, sizeof(err)), FTPS_EPARSE);
	ck_assert_msg(has("g: not a certificate"), "%s", err);

	PEM_write_bio_PrivateKey(bio, fk, NULL, NULL, 0, NULL, NULL);
	PEM_write_bio_PrivateKey(bio, fk, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(bio, &data);
	ck_assert_int_eq(cs_decode("two", (unsigned char *)data, (size_t)len,
	    NULL, &b, err, sizeof(err)), FTPS_EPARSE);
	ck_assert_msg(has("more than one private key"), "%s", err);
	BIO_reset(bio);

	PEM_write_bio_PUBKEY(bio, fk);
	len = BIO_get_mem_data(bio, &data);
	ck_assert_int_eq(cs_decode("pub", (unsigned char *)data, (size_t)len,
	    NULL, &b, err, sizeof(err)), FTPS_EPARSE);
	ck_assert_msg(has("public key, not a private key"), "%s", err);
	BIO_free(bio);
}
END_TEST

START_TEST(sha1_cert_refused)
{
	X509	*x = X509_dup(fx);

	ck_assert_int_eq(cs_sig_check_cert(x, "x", err, sizeof(err)), 0);
	ck_assert_int_gt(X509_sign(x, fk, EVP_sha1()), 0);
	ck_assert_int_eq(cs_sig_check_cert(x, "old.crt", err, sizeof(err)),
	    FTPS_EDENIED);
	ck_assert_msg(has("old.crt: signed with SHA1"), "%s", err);
	X509_free(x);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("csx509");
	TCase	*tc;

	tc = tcase_create("country");
	tcase_add_test(tc, country_table);
	tcase_add_test(tc, country_refused_with_suggestion);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, keygen_policy);
	tcase_add_loop_test(tc, san_parse, 0, sizeof(sans) / sizeof(sans[0]));
	tcase_add_test(tc, san_cn_and_dedup);
	tcase_add_test(tc, csr_extensions_never_copied);
	tcase_add_test(tc, serials_random_and_unique);
	suite_add_tcase(s, tc);

	tc = tcase_create("import");
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, fmt_setup, fmt_teardown);
	tcase_add_loop_test(tc, import_formats, 0, F_NFMT);
	tcase_add_test(tc, import_refusals);
	tcase_add_test(tc, sha1_cert_refused);
	suite_add_tcase(s, tc);
	return s;
}
