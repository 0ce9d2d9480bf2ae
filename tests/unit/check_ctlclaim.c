/*
 * tests/unit/check_ctlclaim.c: mailbox claims (server/ctlclaim.c), the
 * lock that keeps two ftpsdctl askers off one worker's box.
 */
#include <check.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ctlclaim.h"

static _Atomic uint64_t	 claim;
static _Atomic uint32_t	 gen;

static void
fresh(void)
{
	atomic_store(&claim, 0);
	atomic_store(&gen, 0);
}

START_TEST(one_asker_at_a_time)
{
	uint64_t	 a, b;

	fresh();
	ck_assert_uint_ne(a = ctl_claim_take(&claim, &gen, 1000, 5000), 0);
	ck_assert_int_eq(ctl_claim_held(&claim, a), 1);
	/* Held until 5000: nobody else. */
	ck_assert_uint_eq(ctl_claim_take(&claim, &gen, 4999, 9000), 0);
	ctl_claim_drop(&claim, a);
	ck_assert_int_eq(ctl_claim_held(&claim, a), 0);
	ck_assert_uint_ne(b = ctl_claim_take(&claim, &gen, 4999, 9000), 0);
	ck_assert_uint_ne(a, b);
	ck_assert_int_eq(ctl_claim_held(&claim, 0), 0);
}
END_TEST

/*
 * The race this guards: an asker whose claim expired (it hung) or was
 * cleared (its worker died and the master freed the box) comes back
 * late.  It must neither see itself as holder nor free the claim that
 * another asker took meanwhile; before, its release was a plain store of
 * 0, which let a third asker in to rewrite the box under the second.
 */
START_TEST(late_asker_frees_nothing)
{
	uint64_t	 late, second, third;

	fresh();
	late = ctl_claim_take(&claim, &gen, 1000, 2000);
	ck_assert_uint_ne(late, 0);
	second = ctl_claim_take(&claim, &gen, 2000, 6000);
	ck_assert_uint_ne(second, 0);
	ck_assert_int_eq(ctl_claim_held(&claim, late), 0);
	ctl_claim_drop(&claim, late);
	ck_assert_int_eq(ctl_claim_held(&claim, second), 1);
	ck_assert_uint_eq(ctl_claim_take(&claim, &gen, 2001, 7000), 0);
	/* ctl_worker_gone(): the box freed under its asker. */
	atomic_store(&claim, 0);
	third = ctl_claim_take(&claim, &gen, 2002, 7000);
	ck_assert_uint_ne(third, 0);
	ctl_claim_drop(&claim, second);
	ck_assert_int_eq(ctl_claim_held(&claim, third), 1);
	ck_assert_int_eq(ctl_claim_held(&claim, second), 0);
	ctl_claim_drop(&claim, third);
	ck_assert_uint_eq(atomic_load(&claim), 0);
}
END_TEST

/* Same expiry and a generation counter that wrapped: tokens differ. */
START_TEST(tokens_differ)
{
	uint64_t	 a, b;

	fresh();
	atomic_store(&gen, UINT32_MAX);
	a = ctl_claim_take(&claim, &gen, 10, 20);
	ctl_claim_drop(&claim, a);
	b = ctl_claim_take(&claim, &gen, 10, 20);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_ne(b, 0);
	ck_assert_uint_ne(a, b);
}
END_TEST

/* Monotonic milliseconds past 2^40 (34 years of uptime) still expire. */
START_TEST(expiry_wraps)
{
	long long	 t = (1LL << 40) - 10;
	uint64_t	 a;

	fresh();
	a = ctl_claim_take(&claim, &gen, t, t + 20);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_eq(ctl_claim_take(&claim, &gen, t + 19, t + 40), 0);
	ck_assert_uint_ne(ctl_claim_take(&claim, &gen, t + 20, t + 40), 0);
	ck_assert_int_eq(ctl_claim_held(&claim, a), 0);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("ctlclaim");
	TCase	*tc = tcase_create("claim");

	tcase_add_test(tc, one_asker_at_a_time);
	tcase_add_test(tc, late_asker_frees_nothing);
	tcase_add_test(tc, tokens_differ);
	tcase_add_test(tc, expiry_wraps);
	suite_add_tcase(s, tc);
	return s;
}
