/*
 * State shared by worker processes (server/shm.c, ban_share in
 * server/ban.c): admission against max_clients and max_clients_per_ip
 * over all workers, release of what a dead worker held, the table bound,
 * deletions checked against a model, a robust mutex whose owner died,
 * and a failed-login table seen by two processes.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ban.h"
#include "conf.h"
#include "err.h"
#include "ftpsd.h"
#include "listener.h"
#include "shm.h"

Suite	*unit_suite(void);

static struct sockaddr_storage
addr4(unsigned n)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x0a000000u + n);
	return ss;
}

static struct sockaddr_storage
addr6(const char *text)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	return ss;
}

START_TEST(limits_count_over_workers)
{
	struct shm_counts	*c;
	struct sockaddr_storage	 a = addr4(1), b = addr4(2);

	ck_assert_int_eq(shm_counts_new(2, 64, &c), 0);
	/* Per address: 3 over both workers. */
	ck_assert_int_eq(shm_admit(c, 0, &a, 5, 3), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 1, &a, 5, 3), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 1, &a, 5, 3), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 0, &a, 5, 3), SHM_ADMIT_PERIP);
	ck_assert_int_eq(shm_admit(c, 1, &a, 5, 3), SHM_ADMIT_PERIP);
	ck_assert_uint_eq(shm_ip_count(c, &a), 3);
	/* In total: 5 over both workers. */
	ck_assert_int_eq(shm_admit(c, 0, &b, 5, 3), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 1, &b, 5, 3), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 0, &b, 5, 3), SHM_ADMIT_FULL);
	ck_assert_uint_eq(shm_total(c), 5);
	ck_assert_uint_eq(shm_worker_total(c, 0), 2);
	ck_assert_uint_eq(shm_worker_total(c, 1), 3);
	/* A release in worker 1 frees a slot for worker 0. */
	shm_release(c, 1, &a);
	ck_assert_uint_eq(shm_ip_count(c, &a), 2);
	ck_assert_int_eq(shm_admit(c, 0, &a, 5, 3), SHM_ADMIT_OK);
	/* Releasing what a worker never counted changes nothing. */
	shm_release(c, 0, &b);
	shm_release(c, 0, &b);
	ck_assert_uint_eq(shm_ip_count(c, &b), 1);
	/* 0 is no limit; a bad worker index is refused. */
	ck_assert_int_eq(shm_admit(c, 1, &b, 0, 0), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 2, &b, 0, 0), SHM_ADMIT_TABLE);
	shm_counts_free(c);
}
END_TEST

START_TEST(dead_worker_released)
{
	struct shm_counts	*c;
	struct sockaddr_storage	 a;
	unsigned		 i;

	ck_assert_int_eq(shm_counts_new(3, 64, &c), 0);
	for (i = 0; i < 300; i++) {
		a = addr4(i % 50);
		ck_assert_int_eq(shm_admit(c, i % 3, &a, 0, 0), SHM_ADMIT_OK);
	}
	ck_assert_uint_eq(shm_total(c), 300);
	ck_assert_uint_eq(shm_release_worker(c, 1), 100);
	ck_assert_uint_eq(shm_total(c), 200);
	ck_assert_uint_eq(shm_worker_total(c, 1), 0);
	ck_assert_uint_eq(shm_worker_total(c, 0), 100);
	/* Address i % 50 was counted 6 times, 2 of them by worker 1. */
	a = addr4(7);
	ck_assert_uint_eq(shm_ip_count(c, &a), 4);
	/* What is left can still be released one by one. */
	for (i = 0; i < 300; i++) {
		a = addr4(i % 50);
		if (i % 3 != 1)
			shm_release(c, i % 3, &a);
	}
	ck_assert_uint_eq(shm_total(c), 0);
	ck_assert_uint_eq(shm_release_worker(c, 0), 0);
	shm_counts_free(c);
}
END_TEST

/* IPv6 clients count by their prefix, as bans do (ipv6_prefix). */
START_TEST(ipv6_grouped_by_prefix)
{
	struct shm_counts	*c;
	struct sockaddr_storage	 a = addr6("2001:db8:0:7::1"),
				 b = addr6("2001:db8:0:7:ffff::2"),
				 d = addr6("2001:db8:0:8::1"),
				 m = addr6("::ffff:10.0.0.1"),
				 v4 = addr4(1);

	ck_assert_int_eq(shm_counts_new(2, 64, &c), 0);
	ck_assert_int_eq(shm_admit(c, 0, &a, 0, 1), SHM_ADMIT_OK);
	/* Same /64, other worker: over the limit of 1. */
	ck_assert_int_eq(shm_admit(c, 1, &b, 0, 1), SHM_ADMIT_PERIP);
	ck_assert_uint_eq(shm_ip_count(c, &b), 1);
	ck_assert_int_eq(shm_admit(c, 1, &d, 0, 1), SHM_ADMIT_OK);
	/* An IPv4-mapped address is its IPv4 address. */
	ck_assert_int_eq(shm_admit(c, 0, &v4, 0, 1), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 1, &m, 0, 1), SHM_ADMIT_PERIP);
	/* Released through another address of the block. */
	shm_release(c, 0, &b);
	ck_assert_uint_eq(shm_ip_count(c, &a), 0);
	shm_counts_free(c);

	/* /128: whole addresses. */
	ck_assert_int_eq(shm_counts_new(2, 128, &c), 0);
	ck_assert_int_eq(shm_admit(c, 0, &a, 0, 1), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 1, &b, 0, 1), SHM_ADMIT_OK);
	shm_counts_free(c);

	/* /32: the whole 2001:db8::/32 is one client. */
	ck_assert_int_eq(shm_counts_new(1, 32, &c), 0);
	ck_assert_int_eq(shm_admit(c, 0, &a, 0, 2), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 0, &d, 0, 2), SHM_ADMIT_OK);
	ck_assert_int_eq(shm_admit(c, 0, &b, 0, 2), SHM_ADMIT_PERIP);
	shm_counts_free(c);
}
END_TEST

/* Random admits and releases against a plain array: deletions keep runs. */
START_TEST(model_check)
{
	static unsigned		 model[2][400];
	struct shm_counts	*c;
	struct sockaddr_storage	 a;
	unsigned		 i, w, k, n;

	memset(model, 0, sizeof(model));
	srandom(7);
	ck_assert_int_eq(shm_counts_new(2, 64, &c), 0);
	for (i = 0; i < 200000; i++) {
		w = (unsigned)random() % 2;
		k = (unsigned)random() % 400;
		a = addr4(k * 7919);
		if (random() % 2) {
			ck_assert_int_eq(shm_admit(c, w, &a, 0, 0),
			    SHM_ADMIT_OK);
			model[w][k]++;
		} else {
			shm_release(c, w, &a);
			if (model[w][k] > 0)
				model[w][k]--;
		}
		if (i % 997 == 0) {
			n = shm_ip_count(c, &a);
			ck_assert_uint_eq(n, model[0][k] + model[1][k]);
		}
	}
	for (k = 0, n = 0; k < 400; k++) {
		a = addr4(k * 7919);
		ck_assert_uint_eq(shm_ip_count(c, &a),
		    model[0][k] + model[1][k]);
		n += model[0][k] + model[1][k];
	}
	ck_assert_uint_eq(shm_total(c), n);
	shm_counts_free(c);
}
END_TEST

START_TEST(table_bounded)
{
	struct shm_counts	*c;
	struct sockaddr_storage	 a;
	unsigned		 i;

	ck_assert_int_eq(shm_counts_new(1, 64, &c), 0);
	for (i = 0; i < SHM_IP_FILL; i++) {
		a = addr4(i);
		ck_assert_int_eq(shm_admit(c, 0, &a, 0, 0), SHM_ADMIT_OK);
	}
	a = addr4(i);
	ck_assert_int_eq(shm_admit(c, 0, &a, 0, 0), SHM_ADMIT_TABLE);
	/* An address already in it still counts. */
	a = addr4(5);
	ck_assert_int_eq(shm_admit(c, 0, &a, 0, 0), SHM_ADMIT_OK);
	shm_release(c, 0, &a);
	shm_release(c, 0, &a);
	a = addr4(i);
	ck_assert_int_eq(shm_admit(c, 0, &a, 0, 0), SHM_ADMIT_OK);
	shm_counts_free(c);
}
END_TEST

/* A process that dies holding the lock does not block the others. */
START_TEST(robust_mutex_owner_dies)
{
	pthread_mutex_t	*mu;
	pid_t		 pid;
	int		 st;

	mu = mmap(NULL, sizeof(*mu), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(mu, MAP_FAILED);
	ck_assert_int_eq(shm_mutex_init(mu), 0);
	if ((pid = fork()) == 0) {
		pthread_mutex_lock(mu);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(shm_lock(mu), 1);
	shm_unlock(mu);
	ck_assert_int_eq(shm_lock(mu), 0);
	shm_unlock(mu);
	munmap(mu, sizeof(*mu));
}
END_TEST

/* The failed-login table: a failure in one process counts in another. */
START_TEST(ban_table_shared_by_processes)
{
	struct ftpsd		 ctx;
	struct sockaddr_storage	 a = addr4(9);
	pid_t			 pid;
	int			 st, i;

	memset(&ctx, 0, sizeof(ctx));
	ck_assert_int_eq(conf_init(&ctx.conf), 0);
	ctx.conf.ban_failures = 4;
	ctx.conf.ban_window = 600;
	ctx.conf.ban_seconds = 900;
	ck_assert_int_eq(ban_share(&ctx), 0);
	ck_assert_int_eq(ban_share(&ctx), FTPS_EPARSE);
	if ((pid = fork()) == 0) {
		for (i = 0; i < 3; i++)
			if (ban_fail_at(&ctx, &a, 1000 + i) != 0)
				_exit(1);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_uint_eq(ban_count(&ctx), 1);
	/* The fourth failure, here, bans. */
	ck_assert_int_eq(ban_fail_at(&ctx, &a, 1003), 1);
	if ((pid = fork()) == 0)
		_exit(ban_left_at(&ctx, &a, 1003) == 900 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The pool is bounded like the private table. */
	for (i = 0; i < BAN_TRACK_MAX + 10; i++) {
		struct sockaddr_storage	 b = addr4(100000 + (unsigned)i);

		ck_assert_int_ge(ban_fail_at(&ctx, &b, 1500), 0);
	}
	ck_assert_uint_eq(ban_count(&ctx), BAN_TRACK_MAX);
	ck_assert_uint_eq(ban_left_at(&ctx, &a, 1500), 403);
	lst_admit_free(&ctx);
	ck_assert_ptr_null(ctx.bans);
	conf_free(&ctx.conf);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*su = suite_create("shm");
	TCase	*tc = tcase_create("shm");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, limits_count_over_workers);
	tcase_add_test(tc, dead_worker_released);
	tcase_add_test(tc, ipv6_grouped_by_prefix);
	tcase_add_test(tc, model_check);
	tcase_add_test(tc, table_bounded);
	tcase_add_test(tc, robust_mutex_owner_dies);
	tcase_add_test(tc, ban_table_shared_by_processes);
	suite_add_tcase(su, tc);
	return su;
}
