/*
 * tests/unit/check_mtls.c: the client-certificate policy of the SSL_CTX
 * (trust store, CRLs, purpose, verify mode) and the identity a
 * certificate names.  Certificates and CRLs are made in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "err.h"
#include "ftps_limits.h"
#include "mtls.h"

Suite		*unit_suite(void);

#define DAY	(24L * 3600)

static char	 tmpdir[64];
static long	 next_serial = 1;

/* Captured error output of mtls_ctx_setup(). */
static char	*errtext;
static size_t	 errlen;
static FILE	*errf;

static EVP_PKEY *
mkkey(void)
{
	EVP_PKEY	*k = EVP_EC_gen("P-256");

	ck_assert_ptr_nonnull(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ck_assert_ptr_nonnull(ext = X509V3_EXT_conf_nid(NULL, &v3, nid,
	    value));
	ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/*
 * A certificate for subj and key, signed by issuer/ikey (NULL: self),
 * valid from..to seconds from now.  eku NULL: a CA.
 */
static X509 *
mkcert(X509_NAME *subj, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    const char *eku, long from, long to)
{
	X509	*x;

	ck_assert_ptr_nonnull(x = X509_new());
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x),
	    next_serial++), 1);
	ck_assert_int_eq(X509_set_subject_name(x, subj), 1);
	ck_assert_int_eq(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : subj), 1);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), from));
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), to));
	ck_assert_int_eq(X509_set_pubkey(x, key), 1);
	if (eku == NULL) {
		add_ext(x, issuer ? issuer : x, NID_basic_constraints,
		    "critical,CA:TRUE");
		add_ext(x, issuer ? issuer : x, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_ext_key_usage, eku);
	}
	ck_assert_int_gt(X509_sign(x, issuer != NULL ? ikey : key,
	    EVP_sha256()), 0);
	return x;
}

static X509_NAME *
cn_name(const char *cn)
{
	X509_NAME	*n;

	ck_assert_ptr_nonnull(n = X509_NAME_new());
	ck_assert_int_eq(X509_NAME_add_entry_by_NID(n, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	return n;
}

static X509 *
mkca(const char *cn, EVP_PKEY *key)
{
	X509_NAME	*n = cn_name(cn);
	X509		*x = mkcert(n, key, NULL, NULL, NULL, -DAY, 30 * DAY);

	X509_NAME_free(n);
	return x;
}

static X509 *
mkleaf(const char *cn, X509 *ca, EVP_PKEY *cakey, const char *eku,
    long from, long to)
{
	X509_NAME	*n = cn_name(cn);
	EVP_PKEY	*k = mkkey();
	X509		*x = mkcert(n, k, ca, cakey, eku, from, to);

	EVP_PKEY_free(k);
	X509_NAME_free(n);
	return x;
}

/* A CRL of ca listing revoked (may be NULL), next update in next s. */
static X509_CRL *
mkcrl(X509 *ca, EVP_PKEY *cakey, X509 *revoked, long next)
{
	X509_CRL	*crl;
	X509_REVOKED	*r;
	ASN1_TIME	*now, *nu;

	ck_assert_ptr_nonnull(crl = X509_CRL_new());
	ck_assert_int_eq(X509_CRL_set_version(crl, 1), 1);
	ck_assert_int_eq(X509_CRL_set_issuer_name(crl,
	    X509_get_subject_name(ca)), 1);
	ck_assert_ptr_nonnull(now = X509_gmtime_adj(NULL, -60));
	ck_assert_ptr_nonnull(nu = X509_gmtime_adj(NULL, next));
	ck_assert_int_eq(X509_CRL_set1_lastUpdate(crl, now), 1);
	ck_assert_int_eq(X509_CRL_set1_nextUpdate(crl, nu), 1);
	if (revoked != NULL) {
		ck_assert_ptr_nonnull(r = X509_REVOKED_new());
		ck_assert_int_eq(X509_REVOKED_set_serialNumber(r,
		    X509_get_serialNumber(revoked)), 1);
		ck_assert_int_eq(X509_REVOKED_set_revocationDate(r, now), 1);
		ck_assert_int_eq(X509_CRL_add0_revoked(crl, r), 1);
	}
	ck_assert_int_eq(X509_CRL_sort(crl), 1);
	ck_assert_int_gt(X509_CRL_sign(crl, cakey, EVP_sha256()), 0);
	ASN1_TIME_free(now);
	ASN1_TIME_free(nu);
	return crl;
}

/* tmpdir/name holding the PEM of each certificate, then each CRL. */
static char *
write_pem(const char *name, X509 **certs, int ncerts, X509_CRL **crls,
    int ncrls)
{
	static char	 path[4][128];
	static int	 slot;
	char		*p = path[slot++ % 4];
	FILE		*fp;
	int		 i;

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	for (i = 0; i < ncerts; i++)
		ck_assert_int_eq(PEM_write_X509(fp, certs[i]), 1);
	for (i = 0; i < ncrls; i++)
		ck_assert_int_eq(PEM_write_X509_CRL(fp, crls[i]), 1);
	ck_assert_int_eq(fclose(fp), 0);
	return p;
}

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_mtls.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	errtext = NULL;
	errlen = 0;
	ck_assert_ptr_nonnull(errf = open_memstream(&errtext, &errlen));
}

static void
teardown(void)
{
	static const char *const names[] = {
		"ca.pem", "crl.pem", "both.pem", "empty.pem", "bad.pem"
	};
	char	 p[160];
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
	fclose(errf);
	free(errtext);
}

static const char *
errors(void)
{
	fflush(errf);
	return errtext != NULL ? errtext : "";
}

static SSL_CTX *
newctx(void)
{
	SSL_CTX	*ctx = SSL_CTX_new(TLS_server_method());

	ck_assert_ptr_nonnull(ctx);
	return ctx;
}

static void
conf_mtls(struct conf *cf, enum conf_tls mode, const char *ca,
    const char *crl)
{
	memset(cf, 0, sizeof(*cf));
	cf->tls = CONF_TLS_REQUIRED;
	cf->tls_client_cert = mode;
	cf->tls_client_ca = (char *)ca;
	cf->tls_crl = (char *)crl;
}

/* What the TLS server does with a client chain: X509_V_OK or the error. */
static int
verify(SSL_CTX *ctx, X509 *leaf)
{
	X509_STORE	*st = NULL;
	X509_STORE_CTX	*xs;
	int		 r;

	ck_assert_int_eq(SSL_CTX_get0_verify_cert_store(ctx, &st), 1);
	ck_assert_ptr_nonnull(st);
	ck_assert_ptr_nonnull(xs = X509_STORE_CTX_new());
	ck_assert_int_eq(X509_STORE_CTX_init(xs, st, leaf, NULL), 1);
	/* As ssl_verify_internal() does for a server. */
	ck_assert_int_eq(X509_STORE_CTX_set_default(xs, "ssl_client"), 1);
	ck_assert_int_eq(X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xs),
	    SSL_CTX_get0_param(ctx)), 1);
	r = X509_verify_cert(xs) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(xs);
	X509_STORE_CTX_free(xs);
	return r;
}

START_TEST(off_requests_nothing)
{
	struct conf	 cf;
	SSL_CTX		*ctx = newctx();

	conf_mtls(&cf, CONF_TLS_OFF, "/nonexistent", "/nonexistent");
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), 0);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	ck_assert_str_eq(errors(), "");
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(trust_only_the_bundle)
{
	struct conf	 cf;
	SSL_CTX		*ctx = newctx(), *opt = newctx();
	EVP_PKEY	*cakey = mkkey(), *rkey = mkkey();
	X509		*ca = mkca("Test CA", cakey), *rogue = mkca("Rogue", rkey);
	X509		*alice, *ralice, *srv, *old;
	X509_STORE	*st = NULL;
	STACK_OF(X509)	*all;
	const char	*path;

	alice = mkleaf("alice", ca, cakey, "clientAuth", -60, DAY);
	ralice = mkleaf("alice", rogue, rkey, "clientAuth", -60, DAY);
	srv = mkleaf("localhost", ca, cakey, "serverAuth", -60, DAY);
	old = mkleaf("old", ca, cakey, "clientAuth", -3 * DAY, -DAY);
	path = write_pem("ca.pem", &ca, 1, NULL, 0);

	conf_mtls(&cf, CONF_TLS_REQUIRED, path, NULL);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), 0);
	ck_assert_str_eq(errors(), "");
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx),
	    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	ck_assert_ptr_nonnull(SSL_CTX_get_verify_callback(ctx));
	/* The store holds the bundle and nothing else (no system roots). */
	ck_assert_int_eq(SSL_CTX_get0_verify_cert_store(ctx, &st), 1);
	ck_assert_ptr_nonnull(all = X509_STORE_get1_all_certs(st));
	ck_assert_int_eq(sk_X509_num(all), 1);
	ck_assert_int_eq(X509_cmp(sk_X509_value(all, 0), ca), 0);
	sk_X509_pop_free(all, X509_free);
	/* The CertificateRequest names the CA. */
	ck_assert_int_eq(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(ctx)),
	    1);

	ck_assert_int_eq(verify(ctx, alice), X509_V_OK);
	ck_assert_int_eq(verify(ctx, ralice),
	    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	ck_assert_int_eq(verify(ctx, srv), X509_V_ERR_INVALID_PURPOSE);
	ck_assert_int_eq(verify(ctx, old), X509_V_ERR_CERT_HAS_EXPIRED);

	conf_mtls(&cf, CONF_TLS_OPTIONAL, path, NULL);
	ck_assert_int_eq(mtls_ctx_setup(opt, &cf, errf), 0);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(opt), SSL_VERIFY_PEER);
	ck_assert_int_eq(verify(opt, ralice),
	    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);

	X509_free(alice);
	X509_free(ralice);
	X509_free(srv);
	X509_free(old);
	X509_free(ca);
	X509_free(rogue);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(rkey);
	SSL_CTX_free(ctx);
	SSL_CTX_free(opt);
}
END_TEST

START_TEST(crl_checked_for_the_chain)
{
	struct conf	 cf;
	SSL_CTX		*ctx = newctx(), *stale = newctx();
	EVP_PKEY	*cakey = mkkey();
	X509		*ca = mkca("Test CA", cakey), *alice, *bob;
	X509_CRL	*crl, *old;
	const char	*capath, *crlpath;

	alice = mkleaf("alice", ca, cakey, "clientAuth", -60, DAY);
	bob = mkleaf("bob", ca, cakey, "clientAuth", -60, DAY);
	crl = mkcrl(ca, cakey, bob, 7 * DAY);
	capath = write_pem("ca.pem", &ca, 1, NULL, 0);
	crlpath = write_pem("crl.pem", NULL, 0, &crl, 1);

	conf_mtls(&cf, CONF_TLS_REQUIRED, capath, crlpath);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), 0);
	ck_assert_str_eq(errors(), "");
	ck_assert_int_eq(verify(ctx, alice), X509_V_OK);
	ck_assert_int_eq(verify(ctx, bob), X509_V_ERR_CERT_REVOKED);

	/* A CRL past its next update: a warning, and every client fails. */
	old = mkcrl(ca, cakey, NULL, -60);
	crlpath = write_pem("crl.pem", NULL, 0, &old, 1);
	conf_mtls(&cf, CONF_TLS_REQUIRED, capath, crlpath);
	ck_assert_int_eq(mtls_ctx_setup(stale, &cf, errf), 0);
	ck_assert_ptr_nonnull(strstr(errors(), "warning: CRL 1 (issuer CN=Test "
	    "CA) is past its next update"));
	ck_assert_int_eq(verify(stale, alice), X509_V_ERR_CRL_HAS_EXPIRED);

	X509_CRL_free(crl);
	X509_CRL_free(old);
	X509_free(alice);
	X509_free(bob);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	SSL_CTX_free(ctx);
	SSL_CTX_free(stale);
}
END_TEST

START_TEST(crl_coverage_refused)
{
	struct conf	 cf;
	SSL_CTX		*ctx = newctx();
	EVP_PKEY	*k1 = mkkey(), *k2 = mkkey();
	X509		*cas[2];
	X509_CRL	*crl;
	const char	*capath, *crlpath;
	char		 want[512];

	cas[0] = mkca("One CA", k1);
	cas[1] = mkca("Two CA", k2);
	crl = mkcrl(cas[1], k2, NULL, DAY);
	capath = write_pem("both.pem", cas, 2, NULL, 0);
	crlpath = write_pem("crl.pem", NULL, 0, &crl, 1);

	/* Two CAs, the CRL of one only. */
	conf_mtls(&cf, CONF_TLS_REQUIRED, capath, crlpath);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), FTPS_EPARSE);
	snprintf(want, sizeof(want), "tls_crl: %s: no CRL of CN=One CA "
	    "(certificate 1 of tls_client_ca %s): with tls_crl set every CA "
	    "needs its CRL, or each client it signed is refused\n", crlpath,
	    capath);
	ck_assert_str_eq(errors(), want);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);

	/* A CRL of a CA that is not in the bundle. */
	fclose(errf);
	free(errtext);
	errtext = NULL;
	ck_assert_ptr_nonnull(errf = open_memstream(&errtext, &errlen));
	capath = write_pem("ca.pem", cas, 1, NULL, 0);
	conf_mtls(&cf, CONF_TLS_REQUIRED, capath, crlpath);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), FTPS_EPARSE);
	ck_assert_ptr_nonnull(strstr(errors(), "CRL 1 (issuer CN=Two CA) is "
	    "not signed by any certificate of tls_client_ca"));

	X509_CRL_free(crl);
	X509_free(cas[0]);
	X509_free(cas[1]);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(bad_files_refused)
{
	struct conf	 cf;
	SSL_CTX		*ctx = newctx();
	EVP_PKEY	*k = mkkey();
	X509		*ca = mkca("Test CA", k);
	const char	*empty, *bad, *capath;
	char		 want[512];
	FILE		*fp;

	capath = write_pem("ca.pem", &ca, 1, NULL, 0);
	empty = write_pem("empty.pem", NULL, 0, NULL, 0);
	bad = write_pem("bad.pem", NULL, 0, NULL, 0);
	ck_assert_ptr_nonnull(fp = fopen(bad, "w"));
	fputs("-----BEGIN CERTIFICATE-----\nnot base64!\n"
	    "-----END CERTIFICATE-----\n", fp);
	fclose(fp);

	conf_mtls(&cf, CONF_TLS_REQUIRED, "/nonexistent/ca.pem", NULL);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), FTPS_ESYS);
	conf_mtls(&cf, CONF_TLS_REQUIRED, tmpdir, NULL);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), FTPS_ESYS);
	conf_mtls(&cf, CONF_TLS_REQUIRED, empty, NULL);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), FTPS_EPARSE);
	conf_mtls(&cf, CONF_TLS_REQUIRED, bad, NULL);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), FTPS_ETLS);
	/* A certificate where CRLs are expected. */
	conf_mtls(&cf, CONF_TLS_OPTIONAL, capath, capath);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), FTPS_EPARSE);
	conf_mtls(&cf, CONF_TLS_OPTIONAL, NULL, NULL);
	ck_assert_int_eq(mtls_ctx_setup(ctx, &cf, errf), FTPS_EPARSE);
	snprintf(want, sizeof(want),
	    "tls_client_ca: /nonexistent/ca.pem: cannot read: No such file or "
	    "directory\n"
	    "tls_client_ca: %s: cannot read: not a regular file\n"
	    "tls_client_ca: %s: no PEM certificate in the file (expected "
	    "\"-----BEGIN CERTIFICATE-----\" blocks)\n", tmpdir, empty);
	ck_assert_msg(strncmp(errors(), want, strlen(want)) == 0,
	    "got %s", errors());
	snprintf(want, sizeof(want), "tls_client_ca: %s: error:", bad);
	ck_assert_ptr_nonnull(strstr(errors(), want));
	snprintf(want, sizeof(want), "tls_crl: %s: no PEM CRL in the file "
	    "(expected \"-----BEGIN X509 CRL-----\" blocks)\n", capath);
	ck_assert_ptr_nonnull(strstr(errors(), want));
	ck_assert_ptr_nonnull(strstr(errors(),
	    "tls_client_cert needs tls_client_ca\n"));
	/* Nothing of the failed attempts stuck. */
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);

	X509_free(ca);
	EVP_PKEY_free(k);
	SSL_CTX_free(ctx);
}
END_TEST

/*
 * Subjects and the identity they name: entries of (NID, ASN.1 type,
 * bytes, length); want NULL: none.
 */
static const struct {
	const char	*label;
	int		 n;
	struct {
		int		 nid, type;
		const char	*bytes;
		int		 len;
	} e[3];
	const char	*want, *why;
} names[] = {
	{ "plain", 1, { { NID_commonName, MBSTRING_ASC, "alice", -1 } },
	    "alice", NULL },
	{ "with O and OU", 3, {
	    { NID_organizationName, MBSTRING_ASC, "Acme", -1 },
	    { NID_commonName, MBSTRING_ASC, "bob@example.com", -1 },
	    { NID_organizationalUnitName, MBSTRING_ASC, "ftp", -1 } },
	    "bob@example.com", NULL },
	{ "BMPString", 1, { { NID_commonName, V_ASN1_BMPSTRING,
	    "\0a\0l\0i\0c\0e", 10 } }, "alice", NULL },
	{ "UTF-8", 1, { { NID_commonName, MBSTRING_UTF8, "j\xc3\xb6rg", -1 } },
	    "j\xc3\xb6rg", NULL },
	{ "no CN", 1, { { NID_organizationName, MBSTRING_ASC, "Acme", -1 } },
	    NULL, "no CN in the subject" },
	{ "two CNs", 2, { { NID_commonName, MBSTRING_ASC, "alice", -1 },
	    { NID_commonName, MBSTRING_ASC, "root", -1 } },
	    NULL, "more than one CN in the subject" },
	{ "NUL inside", 1, { { NID_commonName, V_ASN1_UTF8STRING,
	    "alice\0.evil", 11 } }, NULL, "the CN contains a NUL byte" },
	{ "empty", 1, { { NID_commonName, V_ASN1_UTF8STRING, "", 0 } },
	    NULL, "the CN is empty or longer than a user name" },
	{ "65 bytes", 1, { { NID_commonName, V_ASN1_UTF8STRING,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    65 } }, NULL, "the CN is empty or longer than a user name" },
	{ "64 bytes", 1, { { NID_commonName, MBSTRING_ASC,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    -1 } },
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    NULL },
};

START_TEST(cert_name)
{
	X509_NAME	*n;
	X509		*x;
	EVP_PKEY	*k = mkkey();
	char		 out[FTPS_USER_MAX + 1];
	const char	*why = "unset";
	int		 i;

	ck_assert_ptr_nonnull(n = X509_NAME_new());
	for (i = 0; i < names[_i].n; i++)
		ck_assert_int_eq(X509_NAME_add_entry_by_NID(n,
		    names[_i].e[i].nid, names[_i].e[i].type,
		    (const unsigned char *)names[_i].e[i].bytes,
		    names[_i].e[i].len, -1, 0), 1);
	ck_assert_ptr_nonnull(x = X509_new());
	ck_assert_int_eq(X509_set_subject_name(x, n), 1);
	if (names[_i].want != NULL) {
		ck_assert_int_eq(mtls_cert_name(x, out, sizeof(out), &why), 0);
		ck_assert_str_eq(out, names[_i].want);
		ck_assert_ptr_null(why);
	} else {
		ck_assert_int_eq(mtls_cert_name(x, out, sizeof(out), &why),
		    FTPS_EPARSE);
		ck_assert_str_eq(out, "");
		ck_assert_str_eq(why, names[_i].why);
	}
	X509_free(x);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(name_text_is_log_safe)
{
	X509_NAME	*n = cn_name("evil\n\x1b[2Jname");
	char		 out[128];

	ck_assert_str_eq(mtls_name_text(n, out, sizeof(out)),
	    "CN=evil\\x0a\\x1b[2Jname");
	ck_assert_str_eq(mtls_name_text(NULL, out, sizeof(out)), "(none)");
	X509_NAME_free(n);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("mtls");
	TCase	*tc;

	tc = tcase_create("ctx");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, off_requests_nothing);
	tcase_add_test(tc, trust_only_the_bundle);
	tcase_add_test(tc, crl_checked_for_the_chain);
	tcase_add_test(tc, crl_coverage_refused);
	tcase_add_test(tc, bad_files_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("identity");
	tcase_add_loop_test(tc, cert_name, 0, sizeof(names) / sizeof(names[0]));
	tcase_add_test(tc, name_text_is_log_safe);
	suite_add_tcase(s, tc);
	return s;
}
