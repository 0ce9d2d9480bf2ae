/* tests/unit/check_certstore.c: libcertstore's folder API and decoding. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "certstore.h"
#include "err.h"
#include "testutil.h"

Suite	*unit_suite(void);

static char	 dir[64];
static char	 err[CS_ERR_MAX];


static void
tmpdir_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_certstore.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	err[0] = '\0';
}

static void
tmpdir_teardown(void)
{
	tu_rmtree(dir);
}

static EVP_PKEY *
mkkey(void)
{
	EVP_PKEY	*k = EVP_EC_gen("P-256");

	ck_assert_ptr_nonnull(k);
	return k;
}

/* A certificate for key's public half, valid from..to seconds from now. */
static X509 *
mkcert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    long from, long to)
{
	X509		*x = X509_new();
	X509_NAME	*n = X509_NAME_new();

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	ck_assert_int_gt(X509_sign(x, ikey != NULL ? ikey : key,
	    EVP_sha256()), 0);
	X509_NAME_free(n);
	return x;
}

static void
wfile(const char *fname, const void *data, size_t len)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
wcert(const char *fname, X509 *x, int append)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	ck_assert_ptr_nonnull(f = fopen(path, append ? "a" : "w"));
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void
wkey(const char *fname, EVP_PKEY *k, const char *pass)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	if (pass != NULL)
		ck_assert_int_eq(PEM_write_PKCS8PrivateKey(f, k,
		    EVP_aes_256_cbc(), NULL, 0, NULL, (void *)pass), 1);
	else
		ck_assert_int_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0,
		    NULL, NULL), 1);
	fclose(f);
}

/* NAME.key + NAME.crt, valid for a day. */
static void
mkpair(const char *name, EVP_PKEY **kp, X509 **xp)
{
	char		 f[64];
	EVP_PKEY	*k = mkkey();
	X509		*x = mkcert(k, name, NULL, NULL, -60, 86400);

	snprintf(f, sizeof(f), "%s.key", name);
	wkey(f, k, NULL);
	snprintf(f, sizeof(f), "%s.crt", name);
	wcert(f, x, 0);
	if (kp != NULL)
		*kp = k;
	else
		EVP_PKEY_free(k);
	if (xp != NULL)
		*xp = x;
	else
		X509_free(x);
}

static int
has(const char *s)
{
	return strstr(err, s) != NULL;
}

START_TEST(name_rules)
{
	static const struct {
		const char	*name;
		int		 ok;
	} v[] = {
		{ "www", 1 }, { "www.example.com", 1 }, { "a_b-c.1", 1 },
		{ "9", 1 }, { "", 0 }, { ".hidden", 0 }, { "-x", 0 },
		{ "a/b", 0 }, { "a..b", 0 }, { "a b", 0 }, { "é", 0 },
		{ "x\n", 0 },
		{ "0123456789012345678901234567890123456789012345678901234567890123",
		  1 },
		{ "01234567890123456789012345678901234567890123456789012345678901234",
		  0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_msg((cs_name_check(v[i].name, err, sizeof(err)) ==
		    0) == v[i].ok, "name %s", v[i].name);
}
END_TEST

START_TEST(load_ok)
{
	X509		*x, *got;
	EVP_PKEY	*k, *gk;
	STACK_OF(X509)	*chain;

	mkpair("www", &k, &x);
	ck_assert_int_eq(cs_load_pair(dir, "www", &got, &gk, &chain, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(X509_cmp(got, x), 0);
	ck_assert_int_eq(EVP_PKEY_eq(gk, k), 1);
	ck_assert_ptr_null(chain);
	X509_free(got);
	EVP_PKEY_free(gk);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(load_missing_file)
{
	X509		*x = (X509 *)1;
	EVP_PKEY	*k = (EVP_PKEY *)1;
	STACK_OF(X509)	*c = (STACK_OF(X509) *)1;

	ck_assert_int_eq(cs_load_pair(dir, "nope", &x, &k, &c, err,
	    sizeof(err)), FTPS_ENOENT);
	ck_assert_msg(has("nope.crt") && has("No such file"), "%s", err);
	ck_assert_ptr_null(x);
	ck_assert_ptr_null(k);
	ck_assert_ptr_null(c);

	/* A certificate alone: the key is named. */
	mkpair("half", NULL, NULL);
	snprintf(err, sizeof(err), "%s/half.key", dir);
	ck_assert_int_eq(unlink(err), 0);
	ck_assert_int_eq(cs_load_pair(dir, "half", &x, &k, &c, err,
	    sizeof(err)), FTPS_ENOENT);
	ck_assert_msg(has("half.key"), "%s", err);
}
END_TEST

START_TEST(load_unreadable_file)
{
	X509		*x;
	EVP_PKEY	*k;
	STACK_OF(X509)	*c;
	char		 p[256];

	/* Root reads any mode, so a directory stands in for "unreadable". */
	mkpair("www", NULL, NULL);
	snprintf(p, sizeof(p), "%s/www.key", dir);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_ne(cs_load_pair(dir, "www", &x, &k, &c, err,
	    sizeof(err)), 0);
	ck_assert_msg(has("www.key: not a regular file"), "%s", err);

	/* Garbage in place of the certificate. */
	wfile("bad.crt", "hello\n", 6);
	wfile("bad.key", "hello\n", 6);
	ck_assert_int_eq(cs_load_pair(dir, "bad", &x, &k, &c, err,
	    sizeof(err)), FTPS_EPARSE);
	ck_assert_msg(has("bad.crt: not a certificate"), "%s", err);
}
END_TEST

START_TEST(load_mismatch)
{
	X509		*x;
	EVP_PKEY	*k, *other = mkkey();
	STACK_OF(X509)	*c;

	mkpair("www", NULL, NULL);
	wkey("www.key", other, NULL);
	ck_assert_int_eq(cs_load_pair(dir, "www", &x, &k, &c, err,
	    sizeof(err)), FTPS_EDENIED);
	ck_assert_msg(has("www.key: the private key does not match"), "%s",
	    err);
	EVP_PKEY_free(other);
}
END_TEST

START_TEST(load_expired)
{
	X509		*x, *got;
	EVP_PKEY	*k = mkkey(), *gk;
	STACK_OF(X509)	*c;

	x = mkcert(k, "old", NULL, NULL, -86400 * 10, -86400);
	wkey("old.key", k, NULL);
	wcert("old.crt", x, 0);
	ck_assert_int_eq(cs_load_pair(dir, "old", &got, &gk, &c, err,
	    sizeof(err)), FTPS_EDENIED);
	ck_assert_msg(has("old.crt: certificate expired on"), "%s", err);
	X509_free(x);

	x = mkcert(k, "new", NULL, NULL, 86400, 86400 * 10);
	wkey("new.key", k, NULL);
	wcert("new.crt", x, 0);
	ck_assert_int_eq(cs_load_pair(dir, "new", &got, &gk, &c, err,
	    sizeof(err)), FTPS_EDENIED);
	ck_assert_msg(has("new.crt: certificate not valid before"), "%s",
	    err);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(load_weak_key_refused)
{
	X509		*x, *got;
	EVP_PKEY	*k, *gk;
	STACK_OF(X509)	*c;

	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	ck_assert_ptr_nonnull(k);
	x = mkcert(k, "weak", NULL, NULL, -60, 86400);
	wkey("weak.key", k, NULL);
	wcert("weak.crt", x, 0);
	ck_assert_int_eq(cs_load_pair(dir, "weak", &got, &gk, &c, err,
	    sizeof(err)), FTPS_EDENIED);
	ck_assert_msg(has("weak.key: RSA key of 1024 bits"), "%s", err);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(load_encrypted_key_refused)
{
	X509		*x, *got;
	EVP_PKEY	*k, *gk;
	STACK_OF(X509)	*c;

	mkpair("www", &k, &x);
	wkey("www.key", k, "secret");
	ck_assert_int_eq(cs_load_pair(dir, "www", &got, &gk, &c, err,
	    sizeof(err)), FTPS_EDENIED);
	ck_assert_msg(has("www.key: the private key is encrypted"), "%s",
	    err);
	ck_assert_msg(!has("secret"), "%s", err);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(load_chain)
{
	EVP_PKEY	*cak = mkkey(), *ik = mkkey(), *k = mkkey(), *gk;
	X509		*ca, *im, *leaf, *got;
	STACK_OF(X509)	*chain;

	ca = mkcert(cak, "root", NULL, NULL, -60, 86400);
	im = mkcert(ik, "intermediate", ca, cak, -60, 86400);
	leaf = mkcert(k, "www", im, ik, -60, 86400);
	wkey("www.key", k, NULL);
	wcert("www.crt", leaf, 0);
	wcert("www.chain", im, 0);
	wcert("www.chain", ca, 1);
	ck_assert_int_eq(cs_load_pair(dir, "www", &got, &gk, &chain, err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(chain);
	ck_assert_int_eq(sk_X509_num(chain), 2);
	ck_assert_int_eq(X509_cmp(sk_X509_value(chain, 0), im), 0);
	ck_assert_int_eq(X509_cmp(sk_X509_value(chain, 1), ca), 0);
	sk_X509_pop_free(chain, X509_free);
	X509_free(got);
	EVP_PKEY_free(gk);

	/* A "fullchain" .crt: the chain follows the leaf in one file. */
	wcert("full.crt", leaf, 0);
	wcert("full.crt", im, 1);
	wkey("full.key", k, NULL);
	ck_assert_int_eq(cs_load_pair(dir, "full", &got, &gk, &chain, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(X509_cmp(got, leaf), 0);
	ck_assert_int_eq(sk_X509_num(chain), 1);
	sk_X509_pop_free(chain, X509_free);
	X509_free(got);
	EVP_PKEY_free(gk);

	/* A corrupt chain file is named, not ignored. */
	wfile("www.chain", "-----BEGIN CERTIFICATE-----\nAAAA\n", 34);
	ck_assert_int_ne(cs_load_pair(dir, "www", &got, &gk, &chain, err,
	    sizeof(err)), 0);
	ck_assert_msg(has("www.chain: truncated or corrupt PEM"), "%s", err);

	X509_free(ca);
	X509_free(im);
	X509_free(leaf);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(default_resolution)
{
	char		 name[FTPS_CERTNAME_MAX + 1];
	X509		*x;
	EVP_PKEY	*k;
	STACK_OF(X509)	*c;

	/* Empty folder. */
	ck_assert_int_eq(cs_default_name(dir, name, sizeof(name), err,
	    sizeof(err)), FTPS_ENOENT);
	ck_assert_msg(has("no certificate pair"), "%s", err);
	ck_assert_str_eq(name, "");

	/* One pair (plus a lone CSR and a lone key): that pair. */
	mkpair("only", NULL, NULL);
	wfile("pending.key", "x", 1);
	wfile("other.csr", "x", 1);
	ck_assert_int_eq(cs_default_name(dir, name, sizeof(name), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(name, "only");
	ck_assert_int_eq(cs_load_pair(dir, NULL, &x, &k, &c, err,
	    sizeof(err)), 0);
	X509_free(x);
	EVP_PKEY_free(k);

	/* Two pairs, none marked. */
	mkpair("second", NULL, NULL);
	ck_assert_int_eq(cs_default_name(dir, name, sizeof(name), err,
	    sizeof(err)), FTPS_ENOENT);
	ck_assert_msg(has("2 certificate pairs and no default"), "%s", err);

	/* Marked. */
	ck_assert_int_eq(cs_set_default(dir, "second", err, sizeof(err)), 0);
	ck_assert_int_eq(cs_default_name(dir, name, sizeof(name), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(name, "second");
	ck_assert_int_eq(cs_set_default(dir, "pending", err, sizeof(err)),
	    FTPS_ENOENT);
	ck_assert_msg(has("pending.crt: no such certificate"), "%s", err);

	/* A hand-edited mark with junk is refused, naming the file. */
	wfile(CS_DEFAULT_FILE, "../etc/passwd\n", 14);
	ck_assert_int_eq(cs_default_name(dir, name, sizeof(name), err,
	    sizeof(err)), FTPS_EPARSE);
	ck_assert_msg(has(".default: does not hold one valid"), "%s", err);
	wfile(CS_DEFAULT_FILE, " only \n", 7);
	ck_assert_int_eq(cs_default_name(dir, name, sizeof(name), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(name, "only");
}
END_TEST

START_TEST(rename_and_delete)
{
	struct cs_entry	*e;
	size_t		 n;
	char		 name[FTPS_CERTNAME_MAX + 1];

	mkpair("a", NULL, NULL);
	mkpair("b", NULL, NULL);
	wfile("a.csr", "x", 1);
	ck_assert_int_eq(cs_set_default(dir, "a", err, sizeof(err)), 0);
	ck_assert_int_eq(cs_rename(dir, "a", "b", err, sizeof(err)),
	    FTPS_EEXIST);
	ck_assert_int_eq(cs_files(dir, "a", err, sizeof(err)),
	    CS_HAS_CRT | CS_HAS_KEY | CS_HAS_CSR);
	ck_assert_int_eq(cs_rename(dir, "a", "c", err, sizeof(err)), 0);
	ck_assert_int_eq(cs_files(dir, "a", err, sizeof(err)), 0);
	ck_assert_int_eq(cs_files(dir, "c", err, sizeof(err)),
	    CS_HAS_CRT | CS_HAS_KEY | CS_HAS_CSR);
	ck_assert_int_eq(cs_marked_default(dir, name, sizeof(name), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(name, "c");
	ck_assert_int_eq(cs_rename(dir, "zz", "y", err, sizeof(err)),
	    FTPS_ENOENT);
	ck_assert_int_eq(cs_rename(dir, "c", "../x", err, sizeof(err)),
	    FTPS_EPARSE);

	ck_assert_int_eq(cs_list(dir, &e, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(e[0].name, "b");
	ck_assert_str_eq(e[1].name, "c");
	free(e);

	ck_assert_int_eq(cs_delete(dir, "c", err, sizeof(err)), 0);
	ck_assert_int_eq(cs_files(dir, "c", err, sizeof(err)), 0);
	ck_assert_int_eq(cs_marked_default(dir, name, sizeof(name), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(name, "");
	ck_assert_int_eq(cs_delete(dir, "c", err, sizeof(err)), FTPS_ENOENT);
	ck_assert_msg(has("no such certificate name"), "%s", err);
}
END_TEST

START_TEST(txn_modes_and_symlinks)
{
	struct cs_txn	 t;
	struct stat	 st;
	char		 p[256], victim[256];
	mode_t		 old;

	/* 0600 whatever the umask. */
	old = umask(0);
	ck_assert_int_eq(cs_txn_begin(&t, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_put(&t, "k.key", "secret", 6, 1, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_put(&t, "k.crt", "public", 6, 0, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_commit(&t, 0, err, sizeof(err)), 0);
	cs_txn_end(&t);
	umask(0277);
	ck_assert_int_eq(cs_txn_begin(&t, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_put(&t, "u.key", "secret", 6, 1, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_commit(&t, 0, err, sizeof(err)), 0);
	cs_txn_end(&t);
	umask(old);
	snprintf(p, sizeof(p), "%s/k.key", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s/u.key", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s/k.crt", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);

	/* Without replace an existing target is refused, nothing written. */
	ck_assert_int_eq(cs_txn_begin(&t, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_put(&t, "n.key", "x", 1, 1, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_put(&t, "k.crt", "x", 1, 0, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_commit(&t, 0, err, sizeof(err)),
	    FTPS_EEXIST);
	cs_txn_end(&t);
	snprintf(p, sizeof(p), "%s/n.key", dir);
	ck_assert_int_eq(access(p, F_OK), -1);

	/* SECURITY: a symlink planted at the target is replaced. */
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	wfile("victim", "keep", 4);
	snprintf(p, sizeof(p), "%s/s.key", dir);
	ck_assert_int_eq(symlink(victim, p), 0);
	ck_assert_int_eq(cs_txn_begin(&t, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_put(&t, "s.key", "secret", 6, 1, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_commit(&t, 1, err, sizeof(err)), 0);
	cs_txn_end(&t);
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_int_eq(st.st_size, 4);

	/* No temporary file is ever left behind. */
	ck_assert_int_eq(cs_txn_begin(&t, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_txn_put(&t, "gone.key", "x", 1, 1, err,
	    sizeof(err)), 0);
	cs_txn_end(&t);
	{
		struct cs_entry	*e;
		size_t		 n, i;

		ck_assert_int_eq(cs_list(dir, &e, &n, err, sizeof(err)), 0);
		for (i = 0; i < n; i++)
			ck_assert_str_ne(e[i].name, "gone");
		free(e);
	}
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("certstore");
	TCase	*tc;

	tc = tcase_create("names");
	tcase_add_test(tc, name_rules);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, load_ok);
	tcase_add_test(tc, load_missing_file);
	tcase_add_test(tc, load_unreadable_file);
	tcase_add_test(tc, load_mismatch);
	tcase_add_test(tc, load_expired);
	tcase_add_test(tc, load_encrypted_key_refused);
	tcase_add_test(tc, load_weak_key_refused);
	tcase_add_test(tc, load_chain);
	tcase_add_test(tc, default_resolution);
	suite_add_tcase(s, tc);

	tc = tcase_create("folder");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, rename_and_delete);
	tcase_add_test(tc, txn_modes_and_symlinks);
	suite_add_tcase(s, tc);
	return s;
}
