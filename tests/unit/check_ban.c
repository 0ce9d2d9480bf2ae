/*
 * The failed-login table (server/ban.c): the sliding window, the ban and
 * its end, address keys (IPv4, IPv4-mapped, IPv6 /64), the bound on
 * tracked addresses, and bans off.  Time is given explicitly.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ban.h"
#include "conf.h"
#include "ftpsd.h"

Suite	*unit_suite(void);

static struct ftpsd	 ctx;

static void
fixture_up(void)
{
	memset(&ctx, 0, sizeof(ctx));
	ck_assert_int_eq(conf_init(&ctx.conf), 0);
	ctx.conf.ban_failures = 10;
	ctx.conf.ban_window = 600;
	ctx.conf.ban_seconds = 900;
}

static void
fixture_down(void)
{
	ipc_free(&ctx);
	ck_assert_ptr_null(ctx.bans);
	conf_free(&ctx.conf);
}

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
	}
	return ss;
}

START_TEST(ban_after_failures_in_window)
{
	struct sockaddr_storage	 a = addr("192.0.2.1"), b = addr("192.0.2.2");
	time_t			 t;

	for (t = 1000; t < 1009; t++) {
		ck_assert_int_eq(ban_fail_at(&ctx, &a, t), 0);
		ck_assert_uint_eq(ban_left_at(&ctx, &a, t), 0);
	}
	/* The tenth failure within 600 s bans for 900 s. */
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 1009), 1);
	ck_assert_uint_eq(ban_left_at(&ctx, &a, 1009), 900);
	ck_assert_uint_eq(ban_left_at(&ctx, &a, 1500), 409);
	ck_assert_uint_eq(ban_left_at(&ctx, &b, 1500), 0);
	/* Failures while banned neither count nor extend the ban. */
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 1600), 0);
	ck_assert_uint_eq(ban_left_at(&ctx, &a, 1908), 1);
	ck_assert_uint_eq(ban_left_at(&ctx, &a, 1909), 0);
	/* The ban ended; the count starts from zero again. */
	for (t = 2000; t < 2009; t++)
		ck_assert_int_eq(ban_fail_at(&ctx, &a, t), 0);
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 2009), 1);
}
END_TEST

START_TEST(window_slides)
{
	struct sockaddr_storage	 a = addr("198.51.100.7");
	time_t			 t, last = 0;

	/* One failure every 67 s: at most nine within any 600 s. */
	for (t = 5000; t < 5000 + 3 * 3600; t += 67) {
		ck_assert_int_eq(ban_fail_at(&ctx, &a, t), 0);
		last = t;
	}
	ck_assert_uint_eq(ban_left_at(&ctx, &a, last), 0);
	/* One more at once: the nine still in the window count. */
	ck_assert_int_eq(ban_fail_at(&ctx, &a, last), 1);
}
END_TEST

START_TEST(stale_entries_go)
{
	struct sockaddr_storage	 a = addr("203.0.113.9");

	ck_assert_int_eq(ban_fail_at(&ctx, &a, 100), 0);
	ck_assert_uint_eq(ban_count(&ctx), 1);
	/* Past the window nothing is left to remember. */
	ck_assert_uint_eq(ban_left_at(&ctx, &a, 701), 0);
	ck_assert_uint_eq(ban_count(&ctx), 0);
}
END_TEST

START_TEST(ipv6_counts_per_64)
{
	struct sockaddr_storage	 a = addr("2001:db8:1:2::1"),
				 b = addr("2001:db8:1:2:ffff::99"),
				 c = addr("2001:db8:1:3::1");
	int			 i;

	for (i = 0; i < 9; i++)
		ck_assert_int_eq(ban_fail_at(&ctx, i % 2 ? &a : &b, 10 + i),
		    0);
	ck_assert_int_eq(ban_fail_at(&ctx, &b, 20), 1);
	ck_assert_uint_gt(ban_left_at(&ctx, &a, 21), 0);
	ck_assert_uint_eq(ban_left_at(&ctx, &c, 21), 0);
}
END_TEST

START_TEST(ipv4_mapped_is_ipv4)
{
	struct sockaddr_storage	 a = addr("192.0.2.44"),
				 m = addr("::ffff:192.0.2.44");
	int			 i;

	for (i = 0; i < 9; i++)
		ck_assert_int_eq(ban_fail_at(&ctx, i % 2 ? &a : &m, 10), 0);
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 10), 1);
	ck_assert_uint_eq(ban_left_at(&ctx, &m, 11), 899);
}
END_TEST

START_TEST(bans_off)
{
	struct sockaddr_storage	 a = addr("192.0.2.1");
	int			 i;

	ctx.conf.ban_seconds = 0;
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(ban_fail_at(&ctx, &a, 10), 0);
	ck_assert_uint_eq(ban_left_at(&ctx, &a, 10), 0);
	ck_assert_uint_eq(ban_count(&ctx), 0);
}
END_TEST

START_TEST(one_failure_bans_when_configured)
{
	struct sockaddr_storage	 a = addr("192.0.2.1");

	ctx.conf.ban_failures = 1;
	ctx.conf.ban_seconds = 5;
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 10), 1);
	ck_assert_uint_eq(ban_left_at(&ctx, &a, 14), 1);
	ck_assert_uint_eq(ban_left_at(&ctx, &a, 15), 0);
}
END_TEST

START_TEST(reload_changes_threshold)
{
	struct sockaddr_storage	 a = addr("192.0.2.1");
	int			 i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ban_fail_at(&ctx, &a, 10), 0);
	/* Fewer allowed now: counting restarts with the new ring. */
	ctx.conf.ban_failures = 3;
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 11), 0);
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 11), 0);
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 11), 1);
}
END_TEST

/* SECURITY: many addresses cannot grow the table or lift a ban. */
START_TEST(table_is_bounded_and_keeps_bans)
{
	struct sockaddr_storage	 banned = addr("192.0.2.1"), ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	unsigned		 i;

	ctx.conf.ban_failures = 2;
	ck_assert_int_eq(ban_fail_at(&ctx, &banned, 10), 0);
	ck_assert_int_eq(ban_fail_at(&ctx, &banned, 10), 1);
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	for (i = 0; i < BAN_TRACK_MAX + 500; i++) {
		sin->sin_addr.s_addr = htonl(0x0a000000u + i);
		ck_assert_int_eq(ban_fail_at(&ctx, &ss, 20), 0);
		ck_assert_uint_le(ban_count(&ctx), BAN_TRACK_MAX);
	}
	ck_assert_uint_eq(ban_count(&ctx), BAN_TRACK_MAX);
	ck_assert_uint_eq(ban_left_at(&ctx, &banned, 21), 889);
	/* The newest addresses are still counted. */
	ck_assert_int_eq(ban_fail_at(&ctx, &ss, 21), 1);
}
END_TEST

START_TEST(other_families_ignored)
{
	struct sockaddr_storage	 ss;
	int			 i;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(ban_fail_at(&ctx, &ss, 10), 0);
	ck_assert_uint_eq(ban_left_at(&ctx, &ss, 10), 0);
}
END_TEST

START_TEST(real_clock)
{
	struct sockaddr_storage	 a = addr("192.0.2.1");
	int			 i;

	for (i = 0; i < 9; i++)
		ck_assert_int_eq(ban_fail(&ctx, &a), 0);
	ck_assert_int_eq(ban_fail(&ctx, &a), 1);
	ck_assert_uint_ge(ban_left(&ctx, &a), 899);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*su = suite_create("ban");
	TCase	*tc = tcase_create("ban");

	tcase_add_checked_fixture(tc, fixture_up, fixture_down);
	tcase_add_test(tc, ban_after_failures_in_window);
	tcase_add_test(tc, window_slides);
	tcase_add_test(tc, stale_entries_go);
	tcase_add_test(tc, ipv6_counts_per_64);
	tcase_add_test(tc, ipv4_mapped_is_ipv4);
	tcase_add_test(tc, bans_off);
	tcase_add_test(tc, one_failure_bans_when_configured);
	tcase_add_test(tc, reload_changes_threshold);
	tcase_add_test(tc, table_is_bounded_and_keeps_bans);
	tcase_add_test(tc, other_families_ignored);
	tcase_add_test(tc, real_clock);
	suite_add_tcase(su, tc);
	return su;
}
