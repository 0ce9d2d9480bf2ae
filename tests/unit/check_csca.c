/*
 * tests/unit/check_csca.c: the CA database (openssl ca's index.txt
 * format) and the CA operations of libcertstore.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certstore.h"
#include "csca.h"
#include "err.h"
#include "testutil.h"

Suite	*unit_suite(void);

static char	 err[CS_ERR_MAX];
static char	 dir[64], cadir[96];

static int
has(const char *s)
{
	return strstr(err, s) != NULL;
}

static const char index_text[] =
    "V\t271123220117Z\t\t05A0E9F3A50A7DEBC26B10B45B7B128E\twww.crt\t"
    "/CN=www.example.com\n"
    "R\t271123220117Z\t261123220117Z,keyCompromise\tA2106D\t"
    "unknown\t/CN=alice/emailAddress=alice@example.com\n"
    "R\t20510101000000Z\t261123220117Z\t0102\talice.crt\t/CN=x\n"
    "E\t200101000000Z\t\t00\tunknown\t/CN=old\n";

START_TEST(db_round_trip)
{
	struct cs_db	 db;
	char		*out;
	size_t		 len;

	ck_assert_int_eq(cs_db_parse("index.txt", index_text,
	    sizeof(index_text) - 1, &db, err, sizeof(err)), 0);
	ck_assert_uint_eq(db.n, 4);
	ck_assert_int_eq(db.rows[1].status, 'R');
	ck_assert_str_eq(db.rows[1].revoked, "261123220117Z,keyCompromise");
	ck_assert_str_eq(db.rows[0].file, "www.crt");
	ck_assert_ptr_eq(cs_db_find(&db, "a2106d"), &db.rows[1]);
	ck_assert_ptr_eq(cs_db_find(&db, "00A2106D"), &db.rows[1]);
	ck_assert_ptr_eq(cs_db_find(&db, "102"), &db.rows[2]);
	ck_assert_ptr_null(cs_db_find(&db, "77"));
	ck_assert_int_eq(cs_db_format(&db, &out, &len), 0);
	ck_assert_uint_eq(len, sizeof(index_text) - 1);
	ck_assert_str_eq(out, index_text);
	free(out);
	cs_db_free(&db);

	ck_assert_int_eq(cs_db_parse("empty", "", 0, &db, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(db.n, 0);
	cs_db_free(&db);
}
END_TEST

static const struct {
	const char	*text, *why;
} bad_rows[] = {
	{ "V\t271123220117Z\t\t01\tf\t/CN=x", "not terminated" },
	{ "V\t271123220117Z\t\t01\tf\n", "6 tab-separated" },
	{ "V\t271123220117Z\t\t01\tf\t/CN=x\textra\n", "6 tab-separated" },
	{ "X\t271123220117Z\t\t01\tf\t/CN=x\n", "status" },
	{ "V\t2711232201Z\t\t01\tf\t/CN=x\n", "expiry" },
	{ "V\t271123220117Z\t261123220117Z\t01\tf\t/CN=x\n", "revocation" },
	{ "R\t271123220117Z\t\t01\tf\t/CN=x\n", "revocation" },
	{ "R\t271123220117Z\t261123220117Z,bogus\t01\tf\t/CN=x\n",
	  "reason" },
	{ "V\t271123220117Z\t\t0x1\tf\t/CN=x\n", "serial" },
	{ "V\t271123220117Z\t\t\tf\t/CN=x\n", "serial" },
	{ "V\t271123220117Z\t\t01\tf\t/CN=x\n"
	  "V\t271123220117Z\t\t0001\tg\t/CN=y\n",
	  "index.txt:2: serial 01 appears twice (also line 1)" },
};

START_TEST(db_malformed)
{
	struct cs_db	 db;

	ck_assert_int_eq(cs_db_parse("index.txt", bad_rows[_i].text,
	    strlen(bad_rows[_i].text), &db, err, sizeof(err)), FTPS_EPARSE);
	ck_assert_msg(has("index.txt:") && has(bad_rows[_i].why), "%s", err);
	ck_assert_ptr_null(db.rows);
}
END_TEST

START_TEST(serial_norm)
{
	char	 out[64];

	ck_assert_int_eq(cs_serial_norm("0a", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "0A");
	ck_assert_int_eq(cs_serial_norm("000abc", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "0ABC");
	ck_assert_int_eq(cs_serial_norm("0", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "00");
	ck_assert_int_eq(cs_serial_norm("-1", out, sizeof(out)),
	    FTPS_EPARSE);
	ck_assert_int_eq(cs_serial_norm("xyz", out, sizeof(out)),
	    FTPS_EPARSE);
	ck_assert_int_eq(cs_serial_norm("", out, sizeof(out)), FTPS_EPARSE);
	ck_assert_int_eq(cs_reason_code("superseded"), 4);
	ck_assert_int_eq(cs_reason_code("KEYCOMPROMISE"), 1);
	ck_assert_int_eq(cs_reason_code("whatever"), -1);
}
END_TEST


static void
ca_setup(void)
{
	struct cs_subject	 s = { .cn = "Unit CA", .country = "de" };
	X509			*x;

	snprintf(dir, sizeof(dir), "/tmp/check_csca.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cadir, sizeof(cadir), "%s/ca", dir);
	ck_assert_msg(cs_ca_init(cadir, &s, NULL, 30,
	    "http://crl.example.com/u.crl", NULL, 0, &x, err,
	    sizeof(err)) == 0, "%s", err);
	X509_free(x);
}

static void
ca_teardown(void)
{
	tu_rmtree(dir);
}

/* Signs one leaf for a fresh key; returns its serial in hex. */
static void
sign_one(struct cs_ca *ca, const char *cn, const char *supersedes,
    char *serial, size_t size)
{
	struct cs_subject	 s = { .cn = cn };
	struct cs_signreq	 req;
	struct cs_certinfo	 ci;
	X509_NAME		*n;
	EVP_PKEY		*k;
	GENERAL_NAMES		*g = sk_GENERAL_NAME_new_null();
	X509			*x;

	ck_assert_int_eq(cs_keygen(NULL, &k, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_subject_build(&s, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_san_add_cn(g, cn, err, sizeof(err)), 0);
	memset(&req, 0, sizeof(req));
	req.subject = n;
	req.pubkey = k;
	req.san = g;
	req.days = 365;
	req.file = "leaf.crt";
	req.supersedes = supersedes;
	ck_assert_msg(cs_ca_sign(ca, &req, &x, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(req.clamped, 1);
	ck_assert_int_eq(X509_check_issued(ca->cert, x), X509_V_OK);
	ck_assert_int_ge(X509_get_ext_by_NID(x, NID_crl_distribution_points,
	    -1), 0);
	cs_cert_info(x, &ci);
	snprintf(serial, size, "%s", ci.serial);
	X509_free(x);
	GENERAL_NAMES_free(g);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
}

START_TEST(ca_sign_revoke_crl)
{
	struct cs_ca	 ca;
	struct cs_db	 db;
	X509_CRL	*crl;
	char		 s1[80], s2[80], s3[80], p[256];
	struct stat	 st;

	ck_assert_int_eq(cs_ca_open(&ca, cadir, err, sizeof(err)), 0);
	ck_assert_str_eq(ca.crl_url, "http://crl.example.com/u.crl");
	/* No key, no signature. */
	{
		struct cs_signreq	 req;
		X509			*x;

		memset(&req, 0, sizeof(req));
		ck_assert_int_eq(cs_ca_sign(&ca, &req, &x, err, sizeof(err)),
		    FTPS_EDENIED);
	}
	ck_assert_int_eq(cs_ca_load_key(&ca, NULL, err, sizeof(err)), 0);
	sign_one(&ca, "a.example.com", NULL, s1, sizeof(s1));
	sign_one(&ca, "b.example.com", NULL, s2, sizeof(s2));
	sign_one(&ca, "a.example.com", s1, s3, sizeof(s3));
	snprintf(p, sizeof(p), "%s/newcerts/%s.pem", cadir, s3);
	ck_assert_int_eq(stat(p, &st), 0);

	ck_assert_int_eq(cs_ca_db_read(&ca, &db, err, sizeof(err)), 0);
	ck_assert_uint_eq(db.n, 3);
	ck_assert_int_eq(cs_db_find(&db, s1)->status, 'R');
	ck_assert_ptr_nonnull(strstr(cs_db_find(&db, s1)->revoked,
	    ",superseded"));
	ck_assert_int_eq(cs_db_find(&db, s2)->status, 'V');
	ck_assert_str_eq(cs_db_find(&db, s3)->subject, "/CN=a.example.com");
	cs_db_free(&db);

	ck_assert_int_eq(cs_ca_revoke(&ca, s2, "keyCompromise", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cs_ca_revoke(&ca, s2, NULL, err, sizeof(err)),
	    FTPS_EEXIST);
	ck_assert_int_eq(cs_ca_revoke(&ca, "ABCD", NULL, err, sizeof(err)),
	    FTPS_ENOENT);
	ck_assert_int_eq(cs_ca_revoke(&ca, s3, "because", err, sizeof(err)),
	    FTPS_EPARSE);

	ck_assert_int_eq(cs_ca_crl(&ca, 7, &crl, err, sizeof(err)), 0);
	ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(ca.cert)), 1);
	X509_CRL_free(crl);
	ck_assert_int_eq(cs_ca_crl(&ca, 0, &crl, err, sizeof(err)),
	    FTPS_EPARSE);
	cs_ca_close(&ca);
}
END_TEST

/*
 * An intermediate CA signed by the root of ca_setup(): recorded by the
 * root, pathlen 0, its issuer in chain.pem; a root renewed with the same
 * key keeps verifying what it signed.
 */
START_TEST(ca_intermediate_and_renew)
{
	struct cs_subject	 s = { .cn = "Unit Issuing" };
	struct cs_ca		 root, sub;
	struct cs_db		 db;
	X509_STORE		*store;
	X509_STORE_CTX		*ctx;
	X509			*x, *renewed;
	char			 subdir[128], serial[80];

	ck_assert_int_eq(cs_ca_open(&root, cadir, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_ca_load_key(&root, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(X509_get_pathlen(root.cert), 1);
	snprintf(subdir, sizeof(subdir), "%s/sub", dir);
	ck_assert_msg(cs_ca_init_sub(subdir, &s, NULL, 20,
	    "http://crl.example.com/sub.crl", NULL, 0, &root, &x, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(X509_get_pathlen(x), 0);
	ck_assert_int_eq(X509_check_issued(root.cert, x), X509_V_OK);
	X509_free(x);
	ck_assert_int_eq(cs_ca_db_read(&root, &db, err, sizeof(err)), 0);
	ck_assert_uint_eq(db.n, 1);
	ck_assert_str_eq(db.rows[0].subject, "/CN=Unit Issuing");
	cs_db_free(&db);

	ck_assert_int_eq(cs_ca_open(&sub, subdir, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_ca_is_root(&sub), 0);
	ck_assert_int_eq(sk_X509_num(sub.chain), 1);
	ck_assert_int_eq(cs_ca_load_key(&sub, NULL, err, sizeof(err)), 0);
	/* An intermediate (pathlen 0) signs no further CA. */
	ck_assert_int_eq(cs_ca_init_sub(dir, &s, NULL, 20, NULL, NULL, 0,
	    &sub, &x, err, sizeof(err)), FTPS_EDENIED);
	ck_assert_msg(has("pathlen 0"), "%s", err);
	sign_one(&sub, "leaf.example.com", NULL, serial, sizeof(serial));

	ck_assert_msg(cs_ca_renew(&root, NULL, 40, &renewed, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(renewed),
	    X509_get0_pubkey(root.cert)), 1);
	ck_assert_int_ne(ASN1_INTEGER_cmp(X509_get0_serialNumber(renewed),
	    X509_get0_serialNumber(root.cert)), 0);
	/* The intermediate signed by the old root verifies under the new. */
	ck_assert_ptr_nonnull(store = X509_STORE_new());
	ck_assert_ptr_nonnull(ctx = X509_STORE_CTX_new());
	ck_assert_int_eq(X509_STORE_add_cert(store, renewed), 1);
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, sub.cert, NULL), 1);
	ck_assert_int_eq(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(renewed);
	cs_ca_close(&sub);
	cs_ca_close(&root);
}
END_TEST

START_TEST(ca_init_refuses_existing)
{
	struct cs_subject	 s = { .cn = "Again" };
	X509			*x;

	ck_assert_int_eq(cs_ca_init(cadir, &s, NULL, 30, NULL, NULL, 0, &x,
	    err, sizeof(err)), FTPS_EEXIST);
	ck_assert_msg(has("holds a CA already"), "%s", err);
	ck_assert_int_eq(cs_ca_init(cadir, &s, NULL, 30, "ftp://x y", NULL,
	    0, &x, err, sizeof(err)), FTPS_EPARSE);
}
END_TEST

START_TEST(ca_encrypted_key)
{
	struct cs_subject	 s = { .cn = "Locked CA" };
	struct cs_ca		 ca;
	X509			*x;
	char			 d2[160];
	int			 fd;

	snprintf(d2, sizeof(d2), "%s/locked", dir);
	ck_assert_int_eq(cs_ca_init(d2, &s, NULL, 30, NULL, "sesame", 6, &x,
	    err, sizeof(err)), 0);
	X509_free(x);
	ck_assert_int_eq(cs_ca_open(&ca, d2, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_ca_load_key(&ca, NULL, err, sizeof(err)),
	    FTPS_EDENIED);
	ck_assert_msg(has("ca.key: the private key is encrypted"), "%s", err);
	cs_ca_close(&ca);
	snprintf(d2, sizeof(d2), "%s/locked/ca.key", dir);
	ck_assert_int_ge(fd = open(d2, O_RDONLY), 0);
	{
		char	 head[64];

		ck_assert_int_gt(read(fd, head, sizeof(head) - 1), 30);
		head[63] = '\0';
		ck_assert_ptr_nonnull(strstr(head,
		    "BEGIN ENCRYPTED PRIVATE KEY"));
	}
	close(fd);
}
END_TEST

START_TEST(ca_lock_excludes_and_sweeps)
{
	struct cs_ca	 a;
	char		 p[256];
	struct stat	 st;
	pid_t		 pid;
	int		 status;

	ck_assert_int_eq(cs_ca_open(&a, cadir, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_ca_lock(&a, err, sizeof(err)), 0);
	/* A killed writer's leftover, as cs_txn names its files. */
	snprintf(p, sizeof(p), "%s/.index.txt.0badf00d", cadir);
	ck_assert_int_eq(close(open(p, O_CREAT | O_WRONLY, 0600)), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Another process cannot take the lock the parent holds. */
		int	 fd;

		snprintf(p, sizeof(p), "%s/.lock", cadir);
		if ((fd = open(p, O_RDWR)) == -1)
			_exit(2);
		_exit(flock(fd, LOCK_EX | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK ? 0 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	cs_ca_unlock(&a);
	ck_assert_int_eq(cs_ca_lock(&a, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(p, &st), -1);
	cs_ca_close(&a);
}
END_TEST

START_TEST(ca_expired_signs_nothing)
{
	struct cs_ca		 ca;
	struct cs_signreq	 req;
	X509			*x;

	ck_assert_int_eq(cs_ca_open(&ca, cadir, err, sizeof(err)), 0);
	ck_assert_int_eq(cs_ca_load_key(&ca, NULL, err, sizeof(err)), 0);
	/* Age the CA certificate in memory: expired yesterday. */
	X509_gmtime_adj(X509_getm_notBefore(ca.cert), -86400 * 10);
	X509_gmtime_adj(X509_getm_notAfter(ca.cert), -86400);
	ck_assert_int_eq(cs_ca_usable(&ca, err, sizeof(err)), FTPS_EDENIED);
	ck_assert_msg(has("ca.crt: the CA certificate expired on"), "%s",
	    err);
	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(cs_ca_sign(&ca, &req, &x, err, sizeof(err)),
	    FTPS_EDENIED);
	cs_ca_close(&ca);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("csca");
	TCase	*tc;

	tc = tcase_create("db");
	tcase_add_test(tc, db_round_trip);
	tcase_add_loop_test(tc, db_malformed, 0,
	    sizeof(bad_rows) / sizeof(bad_rows[0]));
	tcase_add_test(tc, serial_norm);
	suite_add_tcase(s, tc);

	tc = tcase_create("ca");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, ca_setup, ca_teardown);
	tcase_add_test(tc, ca_sign_revoke_crl);
	tcase_add_test(tc, ca_init_refuses_existing);
	tcase_add_test(tc, ca_intermediate_and_renew);
	tcase_add_test(tc, ca_encrypted_key);
	tcase_add_test(tc, ca_lock_excludes_and_sweeps);
	tcase_add_test(tc, ca_expired_signs_nothing);
	suite_add_tcase(s, tc);
	return s;
}
