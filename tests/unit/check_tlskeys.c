/*
 * Rotating session-ticket keys (server/tlskeys.c), with real TLS 1.2 and
 * 1.3 handshakes over memory BIO pairs: tickets resume, still resume
 * after one rotation, and no longer once their key was wiped.
 */
#include <sys/types.h>

#include <check.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ftpsd.h"
#include "testutil.h"
#include "tlskeys.h"

Suite	*unit_suite(void);

static SSL_CTX		*sctx, *cctx;
static SSL_SESSION	*ticket;	/* the last one the client got */

static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	SSL_SESSION_free(ticket);
	ticket = sess;
	return 1;		/* we keep the reference */
}

static void
setup(int version)
{
	EVP_PKEY	*key;
	X509		*cert;

	tu_selfsigned(&key, &cert);
	ck_assert_ptr_nonnull(sctx = SSL_CTX_new(TLS_server_method()));
	ck_assert_int_eq(SSL_CTX_use_certificate(sctx, cert), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(sctx, key), 1);
	ck_assert_int_eq(SSL_CTX_set_session_id_context(sctx,
	    (const unsigned char *)"t", 1), 1);
	ck_assert_int_eq(tk_install(sctx), 0);
	ck_assert_int_eq(tk_count(sctx), 1);
	ck_assert_ptr_nonnull(cctx = SSL_CTX_new(TLS_client_method()));
	ck_assert_int_eq(SSL_CTX_set_min_proto_version(cctx, version), 1);
	ck_assert_int_eq(SSL_CTX_set_max_proto_version(cctx, version), 1);
	SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(cctx, new_session_cb);
	EVP_PKEY_free(key);
	X509_free(cert);
	ticket = NULL;
}

static void
setup12(void)
{
	setup(TLS1_2_VERSION);
}

static void
setup13(void)
{
	setup(TLS1_3_VERSION);
}

static void
teardown(void)
{
	SSL_SESSION_free(ticket);
	ticket = NULL;
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/*
 * One handshake offering a copy of sess (may be NULL): TLS 1.3 clients
 * use a session once, the copy lets a test offer the same ticket again.
 * 1 when it resumed.
 */
static int
handshake(SSL_SESSION *sess)
{
	SSL_SESSION	*copy;
	SSL		*c, *s;
	BIO		*bc, *bs;
	char		 b;
	int		 i, rc = 0, rs = 0, reused;

	ck_assert_ptr_nonnull(c = SSL_new(cctx));
	ck_assert_ptr_nonnull(s = SSL_new(sctx));
	ck_assert_int_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	if (sess != NULL) {
		ck_assert_ptr_nonnull(copy = SSL_SESSION_dup(sess));
		ck_assert_int_eq(SSL_set_session(c, copy), 1);
		SSL_SESSION_free(copy);
	}
	for (i = 0; i < 100 && (rc != 1 || rs != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(s);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_int_eq(rs, 1);
	/* TLS 1.3 tickets come after the handshake: read them. */
	ck_assert_int_eq(SSL_write(s, "x", 1), 1);
	ck_assert_int_eq(SSL_read(c, &b, 1), 1);
	reused = SSL_session_reused(c);
	/* A clean close: a session of an unclean one is not resumable. */
	SSL_shutdown(c);
	SSL_shutdown(s);
	SSL_free(c);
	SSL_free(s);
	return reused;
}

static time_t
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
rotation_lifecycle(void)
{
	SSL_SESSION	*first;
	time_t		 t0 = now();

	ck_assert_int_eq(handshake(NULL), 0);
	ck_assert_ptr_nonnull(first = ticket);
	ck_assert_int_eq(SSL_SESSION_up_ref(first), 1);
	ck_assert_int_eq(handshake(first), 1);
	/* Before TK_ROTATE nothing changes. */
	ck_assert_int_eq(tk_rotate(sctx, t0 + TK_ROTATE - 10), 0);
	ck_assert_int_eq(tk_count(sctx), 1);
	/* A new sealing key; the old one still opens its tickets. */
	ck_assert_int_eq(tk_rotate(sctx, t0 + TK_ROTATE + 1), 0);
	ck_assert_int_eq(tk_count(sctx), 2);
	ck_assert_int_eq(handshake(first), 1);
	/* Tickets sealed now resume too. */
	ck_assert_int_eq(handshake(NULL), 0);
	ck_assert_int_eq(handshake(ticket), 1);
	/* Past TK_ROTATE + lifetime the first key is wiped: no resumption. */
	ck_assert_int_eq(tk_rotate(sctx, t0 + TK_ROTATE +
	    FTPS_TICKET_LIFETIME + 1), 0);
	ck_assert_int_le(tk_count(sctx), TK_KEYS);
	ck_assert_int_eq(handshake(first), 0);
	SSL_SESSION_free(first);
}

START_TEST(tls12_rotation)
{
	rotation_lifecycle();
}
END_TEST

START_TEST(tls13_rotation)
{
	rotation_lifecycle();
}
END_TEST

START_TEST(never_more_than_tk_keys)
{
	time_t	 t = now();
	int	 i;

	for (i = 1; i <= 20; i++) {
		ck_assert_int_eq(tk_rotate(sctx, t + (time_t)i * TK_ROTATE),
		    0);
		ck_assert_int_le(tk_count(sctx), TK_KEYS);
	}
	/* After a long pause only the fresh key is left. */
	ck_assert_int_eq(tk_rotate(sctx, t + 100L * TK_ROTATE), 0);
	ck_assert_int_eq(tk_count(sctx), 1);
	ck_assert_int_eq(handshake(NULL), 0);
	ck_assert_int_eq(handshake(ticket), 1);
}
END_TEST

START_TEST(install_twice_keeps_keys)
{
	ck_assert_int_eq(tk_rotate(sctx, now() + TK_ROTATE), 0);
	ck_assert_int_eq(tk_count(sctx), 2);
	ck_assert_int_eq(tk_install(sctx), 0);
	ck_assert_int_eq(tk_count(sctx), 2);
}
END_TEST

START_TEST(no_ring_no_rotation)
{
	SSL_CTX	*bare;

	ck_assert_ptr_nonnull(bare = SSL_CTX_new(TLS_server_method()));
	ck_assert_int_eq(tk_count(bare), 0);
	ck_assert_int_ne(tk_rotate(bare, now()), 0);
	SSL_CTX_free(bare);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*su = suite_create("tlskeys");
	TCase	*tc;

	tc = tcase_create("tls12");
	tcase_add_checked_fixture(tc, setup12, teardown);
	tcase_add_test(tc, tls12_rotation);
	tcase_add_test(tc, never_more_than_tk_keys);
	tcase_add_test(tc, install_twice_keeps_keys);
	tcase_add_test(tc, no_ring_no_rotation);
	suite_add_tcase(su, tc);
	tc = tcase_create("tls13");
	tcase_add_checked_fixture(tc, setup13, teardown);
	tcase_add_test(tc, tls13_rotation);
	tcase_add_test(tc, never_more_than_tk_keys);
	suite_add_tcase(su, tc);
	return su;
}
