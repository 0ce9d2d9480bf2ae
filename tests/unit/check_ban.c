/*
 * The failed-login table (server/ban.c): the sliding window, the ban and
 * its end, bans by ipv6_prefix, the bound on tracked addresses, and bans
 * off; time is given explicitly.  And admission (listener.c, lst_admit),
 * where bans meet max_clients and max_clients_per_ip, in one process and
 * across forked workers.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addrkey.h"
#include "addrkey.h"
#include "ban.h"
#include "conf.h"
#include "err.h"
#include "ftpsd.h"
#include "listener.h"
#include "shm.h"

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
	lst_admit_free(&ctx);
	ck_assert_ptr_null(ctx.bans);
	ck_assert_ptr_null(ctx.counts);
	conf_free(&ctx.conf);
}

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage	 ss;

	ck_assert_int_eq(addr_parse(text, 0, &ss, NULL), 0);
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

static int
list_cb(const unsigned char *key, unsigned left, void *arg)
{
	char	*out = arg, a[64];
	size_t	 n = strlen(out);

	snprintf(out + n, 512 - n, "%s left=%d;",
	    addr_key_text(key, 64, a, sizeof(a)), left > 800 && left <= 900);
	return 0;
}

/* ftpsdctl ban list / ban remove: the banned only, lifted by any address. */
START_TEST(list_and_lift)
{
	struct sockaddr_storage	 a = addr("192.0.2.7"),
				 b = addr("2001:db8:1:2::1"),
				 b2 = addr("2001:db8:1:2::99"),
				 c = addr("198.51.100.1");
	char			 out[512] = "";
	int			 i;

	ctx.conf.ban_failures = 3;
	for (i = 0; i < 3; i++) {
		(void)ban_fail(&ctx, &a);
		(void)ban_fail(&ctx, &b);
	}
	(void)ban_fail(&ctx, &c);
	ck_assert_int_eq(ban_each(&ctx, list_cb, out), 0);
	ck_assert_str_eq(out, "192.0.2.7 left=1;2001:db8:1:2::/64 left=1;");
	ck_assert_int_eq(ban_lift(&ctx, &c), FTPS_EPARSE);	/* not banned */
	ck_assert_int_eq(ban_lift(&ctx, &b2), 0);	/* the same /64 */
	ck_assert_uint_eq(ban_left(&ctx, &b), 0);
	ck_assert_uint_gt(ban_left(&ctx, &a), 0);
	ck_assert_int_eq(ban_lift(&ctx, &b), FTPS_EPARSE);
	/* Lifted means forgotten: one more failure does not ban again. */
	ck_assert_int_eq(ban_fail(&ctx, &b), 0);
	out[0] = '\0';
	ck_assert_int_eq(ban_each(&ctx, list_cb, out), 0);
	ck_assert_str_eq(out, "192.0.2.7 left=1;");
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

/*
 * SECURITY: a ban cannot be flushed.  Once the first BAN_EVICT_SCAN
 * least recently failed entries were bans, the old table evicted the
 * oldest ban to make room for a new address.
 */
START_TEST(flood_never_evicts_a_ban)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	unsigned		 i;

	ctx.conf.ban_failures = 2;
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	/* 100 banned addresses, the least recently failed entries. */
	for (i = 0; i < 100; i++) {
		sin->sin_addr.s_addr = htonl(0xc0000200u + i);
		ck_assert_int_eq(ban_fail_at(&ctx, &ss, 10), 0);
		ck_assert_int_eq(ban_fail_at(&ctx, &ss, 10), 1);
	}
	/* Then two tables' worth of new addresses, one failure each. */
	for (i = 0; i < 2 * BAN_TRACK_MAX; i++) {
		sin->sin_addr.s_addr = htonl(0x0a000000u + i);
		ck_assert_int_eq(ban_fail_at(&ctx, &ss, 20), 0);
	}
	ck_assert_uint_eq(ban_count(&ctx), BAN_TRACK_MAX);
	for (i = 0; i < 100; i++) {
		sin->sin_addr.s_addr = htonl(0xc0000200u + i);
		ck_assert_uint_eq(ban_left_at(&ctx, &ss, 21), 889);
	}
	ck_assert_uint_eq(ban_untracked(&ctx), 0);
}
END_TEST

/* A table full of running bans stops tracking new addresses instead. */
START_TEST(full_table_of_bans_keeps_them)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	unsigned		 i;

	ctx.conf.ban_failures = 1;
	ctx.conf.ban_seconds = 100;
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	for (i = 0; i < BAN_TRACK_MAX; i++) {
		sin->sin_addr.s_addr = htonl(0xc0000000u + i);
		ck_assert_int_eq(ban_fail_at(&ctx, &ss, 10), 1);
	}
	for (i = 0; i < BAN_TRACK_MAX; i++) {
		sin->sin_addr.s_addr = htonl(0x0a000000u + i);
		ck_assert_int_eq(ban_fail_at(&ctx, &ss, 20), FTPS_ETOOBIG);
		ck_assert_uint_eq(ban_left_at(&ctx, &ss, 20), 0);
	}
	ck_assert_uint_eq(ban_untracked(&ctx), BAN_TRACK_MAX);
	ck_assert_uint_eq(ban_count(&ctx), BAN_TRACK_MAX);
	for (i = 0; i < BAN_TRACK_MAX; i++) {
		sin->sin_addr.s_addr = htonl(0xc0000000u + i);
		ck_assert_uint_eq(ban_left_at(&ctx, &ss, 21), 89);
	}
	/* Once the bans ended, new addresses are tracked (and banned). */
	sin->sin_addr.s_addr = htonl(0x0b000001u);
	ck_assert_int_eq(ban_fail_at(&ctx, &ss, 110), 1);
	ck_assert_uint_eq(ban_left_at(&ctx, &ss, 111), 99);
	ck_assert_uint_le(ban_count(&ctx), BAN_TRACK_MAX);
}
END_TEST

/* Bans group IPv6 clients by ipv6_prefix (addr_key: check_lib). */
START_TEST(ipv6_prefix_groups)
{
	struct sockaddr_storage	 a, b;

	/* Bans follow the configured prefix. */
	ctx.conf.ipv6_prefix = 48;
	ctx.conf.ban_failures = 2;
	a = addr("2001:db8:5:1::1");
	b = addr("2001:db8:5:2::1");
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 10), 0);
	ck_assert_int_eq(ban_fail_at(&ctx, &b, 10), 1);
	ck_assert_uint_gt(ban_left_at(&ctx, &a, 11), 0);
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

/*
 * Admission (server/listener.c, lst_admit): bans, max_clients and
 * max_clients_per_ip decided on one path, for one process (its own
 * session table, made by lst_start_all) and for workers (one table and
 * one ban table shared by forked processes).
 */
static void
admission_limits(void)
{
	TAILQ_INIT(&ctx.listeners);
	ctx.conf.max_clients = 3;
	ctx.conf.max_clients_per_ip = 2;
	ctx.conf.ban_failures = 2;
}

static enum lst_admit
admit(struct ftpsd *c, const char *text)
{
	struct sockaddr_storage	 ss = addr(text);
	unsigned		 left = 12345;
	enum lst_admit		 r;

	r = lst_admit(c, &ss, &left);
	ck_assert_uint_eq(left != 0, r == LST_BANNED);
	return r;
}

static void
release(struct ftpsd *c, const char *text)
{
	struct sockaddr_storage	 ss = addr(text);

	lst_release(c, &ss);
}

/* One process: lst_start_all makes the table; the limits hold. */
START_TEST(one_process)
{
	struct sockaddr_storage	 b = addr("198.51.100.7");
	unsigned		 left;

	admission_limits();
	/* Sessions made by hand (no table yet): only bans apply. */
	ck_assert_int_eq(admit(&ctx, "192.0.2.1"), LST_ADMIT);
	release(&ctx, "192.0.2.1");
	ck_assert_int_eq(lst_start_all(&ctx), 0);
	ck_assert_ptr_nonnull(ctx.counts);
	ck_assert_uint_eq(shm_total(ctx.counts), 0);

	ck_assert_int_eq(admit(&ctx, "192.0.2.1"), LST_ADMIT);
	/* An IPv4-mapped address is the same client. */
	ck_assert_int_eq(admit(&ctx, "::ffff:192.0.2.1"), LST_ADMIT);
	ck_assert_int_eq(admit(&ctx, "192.0.2.1"), LST_PERIP);
	ck_assert_int_eq(admit(&ctx, "::ffff:192.0.2.1"), LST_PERIP);
	/* IPv6 by its /64: a second address of the block counts too. */
	ck_assert_int_eq(admit(&ctx, "2001:db8:1:2::1"), LST_ADMIT);
	ck_assert_uint_eq(shm_total(ctx.counts), 3);
	ck_assert_int_eq(admit(&ctx, "2001:db8:9::1"), LST_FULL);
	release(&ctx, "2001:db8:1:2::1");
	ck_assert_int_eq(admit(&ctx, "2001:db8:1:2:ffff::2"), LST_ADMIT);
	ck_assert_int_eq(admit(&ctx, "2001:db8:1:2::3"), LST_FULL);
	release(&ctx, "192.0.2.1");
	ck_assert_int_eq(admit(&ctx, "2001:db8:1:2::3"), LST_ADMIT);
	ck_assert_int_eq(admit(&ctx, "2001:db8:1:2::4"), LST_FULL);
	ck_assert_uint_eq(shm_total(ctx.counts), 3);

	/* A ban refuses before any count, and counts nothing. */
	release(&ctx, "2001:db8:1:2::3");
	ck_assert_int_eq(ban_fail(&ctx, &b), 0);
	ck_assert_int_eq(ban_fail(&ctx, &b), 1);
	ck_assert_int_eq(lst_admit(&ctx, &b, &left), LST_BANNED);
	ck_assert_uint_gt(left, 0);
	ck_assert_uint_le(left, ctx.conf.ban_seconds);
	ck_assert_uint_eq(shm_total(ctx.counts), 2);
	ck_assert_int_eq(admit(&ctx, "198.51.100.8"), LST_ADMIT);
}
END_TEST

/*
 * Workers: the same function over the master's shared tables.  A
 * session or a failed login in one process counts in the other.
 */
START_TEST(workers)
{
	struct ftpsd		 w2;
	struct sockaddr_storage	 b = addr("198.51.100.7");
	pid_t			 pid;
	int			 st;

	admission_limits();
	ck_assert_int_eq(shm_counts_new(2, ctx.conf.ipv6_prefix,
	    &ctx.counts), 0);
	ck_assert_int_eq(ban_share(&ctx), 0);
	ctx.worker = 1;
	/* lst_start_all keeps the shared table. */
	ck_assert_int_eq(lst_start_all(&ctx), 0);
	ck_assert_int_eq(admit(&ctx, "192.0.2.1"), LST_ADMIT);

	if ((pid = fork()) == 0) {
		w2 = ctx;
		w2.worker = 2;
		if (admit(&w2, "::ffff:192.0.2.1") != LST_ADMIT ||
		    admit(&w2, "2001:db8:1:2::1") != LST_ADMIT ||
		    ban_fail(&w2, &b) != 0 || ban_fail(&w2, &b) != 1)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* Worker 2's sessions and its failed logins count here. */
	ck_assert_uint_eq(shm_worker_total(ctx.counts, 1), 2);
	ck_assert_int_eq(admit(&ctx, "2001:db8:5::1"), LST_FULL);
	ck_assert_int_eq(admit(&ctx, "198.51.100.7"), LST_BANNED);
	/* A reload raised max_clients: the per-address limit remains. */
	ctx.conf.max_clients = 4;
	ck_assert_int_eq(admit(&ctx, "192.0.2.1"), LST_PERIP);
	/* The master forgets a dead worker's sessions. */
	ck_assert_uint_eq(shm_release_worker(ctx.counts, 1), 2);
	ck_assert_int_eq(admit(&ctx, "192.0.2.1"), LST_ADMIT);
	ck_assert_int_eq(admit(&ctx, "2001:db8:5::1"), LST_ADMIT);
	ck_assert_uint_eq(shm_worker_total(ctx.counts, 0), 3);
	ck_assert_uint_eq(shm_total(ctx.counts), 3);
	/* A release goes to this worker's own entry. */
	release(&ctx, "192.0.2.1");
	ck_assert_uint_eq(shm_worker_total(ctx.counts, 0), 2);
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
	tcase_add_test(tc, flood_never_evicts_a_ban);
	tcase_add_test(tc, full_table_of_bans_keeps_them);
	tcase_add_test(tc, ipv6_prefix_groups);
	tcase_add_test(tc, other_families_ignored);
	tcase_add_test(tc, real_clock);
	tcase_add_test(tc, list_and_lift);
	suite_add_tcase(su, tc);

	tc = tcase_create("admission");
	tcase_add_checked_fixture(tc, fixture_up, fixture_down);
	tcase_add_test(tc, one_process);
	tcase_add_test(tc, workers);
	suite_add_tcase(su, tc);
	return su;
}
