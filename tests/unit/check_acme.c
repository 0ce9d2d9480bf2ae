/*
 * tests/unit/check_acme.c: the pieces of certmgr acme (certmgr/acmehttp.c)
 * that pebble cannot show: base64url, the one line each CA problem
 * becomes (a rate limit, terms not agreed, a failed validation, a detail
 * with line breaks), the account key's type and thumbprint.
 */
#include "config.h"

#include <string.h>
#include <check.h>

#include <openssl/evp.h>

#include "acme.h"
#include "csx509.h"

Suite	*unit_suite(void);

START_TEST(b64url_vectors)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} v[] = {
		{ "", 0, "" }, { "f", 1, "Zg" }, { "fo", 2, "Zm8" },
		{ "foo", 3, "Zm9v" }, { "foob", 4, "Zm9vYg" },
		{ "\xfb\xff", 2, "-_8" }, { "\xfb\xef\xbe", 3, "----" },
	};
	char	 out[16];
	size_t	 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(acme_b64url((const unsigned char *)v[i].in,
		    v[i].len, out, sizeof(out)), 0);
		ck_assert_str_eq(out, v[i].out);
	}
	/* "Zm9v" and its NUL need 5 bytes: 4 is refused, not cut. */
	ck_assert_int_eq(acme_b64url((const unsigned char *)"foo", 3, out, 4),
	    -1);
}
END_TEST

/* acme_problem() of a problem document given as JSON text. */
static const char *
problem(struct acme *a, const char *json, const char *what, long after)
{
	json_t	*p = json_loads(json, 0, NULL);

	ck_assert_ptr_nonnull(p);
	acme_problem(a, p, what, after);
	json_decref(p);
	ck_assert_ptr_null(strchr(a->err, '\n'));
	return a->err;
}

START_TEST(problems_are_one_line)
{
	struct acme	 a;

	memset(&a, 0, sizeof(a));
	ck_assert_str_eq(problem(&a, "{\"type\":\"urn:ietf:params:acme:error:"
	    "rateLimited\",\"detail\":\"too many certificates (5) already "
	    "issued\"}", "new order", 3600), "new order: the CA's rate limit "
	    "was hit, try again later (retry after 3600 s): too many "
	    "certificates (5) already issued");
	ck_assert_str_eq(problem(&a, "{\"type\":\"urn:ietf:params:acme:error:"
	    "userActionRequired\",\"detail\":\"new terms\"}", "new order", -1),
	    "new order: the CA's terms of service are not agreed to (certmgr "
	    "acme register --agree-tos): new terms");
	ck_assert_str_eq(problem(&a, "{\"type\":\"urn:ietf:params:acme:error:"
	    "incorrectResponse\",\"detail\":\"key authorization\\r\\nmismatch"
	    "\\u0007\"}", "validation of a.example", -1), "validation of "
	    "a.example failed (incorrectResponse): key authorization  "
	    "mismatch ");
	ck_assert_str_eq(problem(&a, "{\"type\":\"urn:ietf:params:acme:error:"
	    "accountDoesNotExist\"}", "new order", -1), "new order: the CA "
	    "refuses this account (certmgr acme register makes one): no "
	    "detail given");
	ck_assert_str_eq(problem(&a, "{\"type\":\"urn:ietf:params:acme:error:"
	    "serverInternal\",\"detail\":\"oops\"}", "finalize", -1),
	    "finalize: the CA refused (serverInternal): oops");
	ck_assert_str_eq(problem(&a, "{\"detail\":\"no type\"}", "finalize",
	    -1), "finalize: the CA refused: no type");
	/* A detail of any length still fits the line. */
	problem(&a, "{\"type\":\"x\",\"detail\":\"" "0123456789012345678901"
	    "23456789012345678901234567890123456789012345678901234567890123"
	    "45678901234567890123456789012345678901234567890123456789012345"
	    "67890123456789012345678901234567890123456789012345678901234567"
	    "89012345678901234567890123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789\"}", "x", -1);
	ck_assert_uint_lt(strlen(a.err), sizeof(a.err));
}
END_TEST

START_TEST(account_key_es256_only)
{
	struct acme	 a;
	EVP_PKEY	*k = NULL;
	char		 err[CS_ERR_MAX], thumb[64];

	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(cs_keygen("ec:P-256", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(acme_set_key(&a, k), 0);
	/* SHA-256, base64url: 43 characters. */
	ck_assert_uint_eq(strlen(a.thumb), 43);
	memcpy(thumb, a.thumb, sizeof(thumb));
	ck_assert_int_eq(acme_set_key(&a, k), 0);
	ck_assert_str_eq(a.thumb, thumb);
	EVP_PKEY_free(k);

	k = NULL;
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(cs_keygen("ec:P-384", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(acme_set_key(&a, k), -1);
	ck_assert_str_eq(a.err, "the account key is not an EC P-256 key "
	    "(ES256)");
	ck_assert_ptr_null(a.key);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(json_members)
{
	json_t	*j = json_loads("{\"a\":\"x\",\"b\":1}", 0, NULL);

	ck_assert_str_eq(acme_str(j, "a"), "x");
	ck_assert_ptr_null(acme_str(j, "b"));
	ck_assert_ptr_null(acme_str(j, "c"));
	ck_assert_ptr_null(acme_str(NULL, "a"));
	json_decref(j);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("acme");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, b64url_vectors);
	tcase_add_test(tc, problems_are_one_line);
	tcase_add_test(tc, account_key_es256_only);
	tcase_add_test(tc, json_members);
	suite_add_tcase(s, tc);
	return s;
}
