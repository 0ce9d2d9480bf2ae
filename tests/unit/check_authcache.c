/*
 * tests/unit/check_authcache.c: the verified-login cache, alone
 * (authcache.c, with a clock given by the test) and through the password
 * pool (auth_check_user, auth_pool_set_cache).
 */
#include "config.h"

#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <check.h>

#include <event2/event.h>

#include "auth.h"
#include "authpool.h"
#include "authcache.h"
#include "err.h"
#include "ftps_limits.h"

Suite		*unit_suite(void);

static const char	 HA[] = "$6$rounds=1000$aaaaaaaa$hash-of-ann";
static const char	 HB[] = "$6$rounds=1000$bbbbbbbb$hash-of-ann-2";

/*
 * The cache alone
 */

static struct auth_cache	*ac;

static void
ac_setup(void)
{
	ck_assert_int_eq(auth_cache_new(3, &ac), 0);
	ck_assert_ptr_nonnull(ac);
}

static void
ac_teardown(void)
{
	auth_cache_free(ac);
	ac = NULL;
}

/* Looks up, and on a miss inserts as a successful full check would. */
static int
login(const char *name, const char *hash, const char *pw, time_t now,
    time_t expires)
{
	struct auth_cache_tag	 tag;
	int			 r;

	r = auth_cache_lookup(ac, name, hash, pw, now, &tag);
	ck_assert_int_ge(r, 0);
	if (r == 0)
		ck_assert_int_eq(auth_cache_insert(ac, &tag, expires), 0);
	return r;
}

static int
lookup(const char *name, const char *hash, const char *pw, time_t now)
{
	struct auth_cache_tag	 tag;
	int			 r;

	r = auth_cache_lookup(ac, name, hash, pw, now, &tag);
	ck_assert_int_ge(r, 0);
	return r;
}

START_TEST(hit_and_miss)
{
	ck_assert_uint_eq(auth_cache_count(ac), 0);
	ck_assert_int_eq(lookup("ann", HA, "secret", 0), 0);
	ck_assert_uint_eq(auth_cache_count(ac), 0);	/* lookups never add */
	ck_assert_int_eq(login("ann", HA, "secret", 0, 100), 0);
	ck_assert_uint_eq(auth_cache_count(ac), 1);
	ck_assert_int_eq(lookup("ann", HA, "secret", 1), 1);
	ck_assert_int_eq(lookup("ann", HA, "secret", 99), 1);
	/* Another password, another name, a prefix: all misses. */
	ck_assert_int_eq(lookup("ann", HA, "Secret", 1), 0);
	ck_assert_int_eq(lookup("ann", HA, "secret ", 1), 0);
	ck_assert_int_eq(lookup("ann", HA, "secre", 1), 0);
	ck_assert_int_eq(lookup("ann", HA, "", 1), 0);
	ck_assert_int_eq(lookup("bob", HA, "secret", 1), 0);
	ck_assert_int_eq(lookup("Ann", HA, "secret", 1), 0);
	/* A wrong password does not drop the entry... */
	ck_assert_uint_eq(auth_cache_count(ac), 1);
	ck_assert_int_eq(lookup("ann", HA, "secret", 2), 1);
	/* ...and the fields are length-prefixed: no shifting across them. */
	ck_assert_int_eq(lookup("an", HA, "nsecret", 2), 0);
}
END_TEST

START_TEST(expiry)
{
	ck_assert_int_eq(login("ann", HA, "secret", 10, 70), 0);
	ck_assert_int_eq(lookup("ann", HA, "secret", 69), 1);
	/* A hit does not extend the entry: it expires 60 after the check. */
	ck_assert_int_eq(lookup("ann", HA, "secret", 70), 0);
	ck_assert_uint_eq(auth_cache_count(ac), 0);	/* dropped */
	ck_assert_int_eq(login("ann", HA, "secret", 71, 131), 0);
	ck_assert_int_eq(lookup("ann", HA, "secret", 72), 1);
}
END_TEST

START_TEST(hash_changed)
{
	ck_assert_int_eq(login("ann", HA, "secret", 0, 100), 0);
	/* The users file now holds another hash for ann: entry dropped. */
	ck_assert_int_eq(lookup("ann", HB, "secret", 1), 0);
	ck_assert_uint_eq(auth_cache_count(ac), 0);
	ck_assert_int_eq(lookup("ann", HA, "secret", 1), 0);
	/* The new hash's full check succeeds: cached for the new hash. */
	ck_assert_int_eq(login("ann", HB, "other", 2, 100), 0);
	ck_assert_int_eq(lookup("ann", HB, "other", 3), 1);
	ck_assert_int_eq(lookup("ann", HB, "secret", 3), 0);
	ck_assert_uint_eq(auth_cache_count(ac), 1);
}
END_TEST

START_TEST(one_entry_per_user)
{
	ck_assert_int_eq(login("ann", HA, "secret", 0, 100), 0);
	ck_assert_int_eq(login("ann", HA, "secret", 1, 100), 1);
	/* A second insert for ann replaces the first. */
	ck_assert_int_eq(login("ann", HB, "two", 2, 100), 0);
	ck_assert_uint_eq(auth_cache_count(ac), 1);
}
END_TEST

START_TEST(bounded_lru)
{
	/* max 3: the least recently used goes first. */
	ck_assert_int_eq(login("u1", HA, "p1", 0, 100), 0);
	ck_assert_int_eq(login("u2", HA, "p2", 0, 100), 0);
	ck_assert_int_eq(login("u3", HA, "p3", 0, 100), 0);
	ck_assert_uint_eq(auth_cache_count(ac), 3);
	ck_assert_int_eq(lookup("u1", HA, "p1", 1), 1);	/* u1 is now recent */
	ck_assert_int_eq(login("u4", HA, "p4", 2, 100), 0);
	ck_assert_uint_eq(auth_cache_count(ac), 3);
	ck_assert_int_eq(lookup("u2", HA, "p2", 3), 0);	/* evicted */
	ck_assert_int_eq(lookup("u1", HA, "p1", 3), 1);
	ck_assert_int_eq(lookup("u3", HA, "p3", 3), 1);
	ck_assert_int_eq(lookup("u4", HA, "p4", 3), 1);
	ck_assert_uint_eq(auth_cache_count(ac), 3);
}
END_TEST

START_TEST(many_users_bounded)
{
	struct auth_cache	*big;
	struct auth_cache_tag	 tag;
	char			 name[32];
	int			 i, hits = 0;

	ck_assert_int_eq(auth_cache_new(100, &big), 0);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		ck_assert_int_eq(auth_cache_lookup(big, name, HA, "pw", 0,
		    &tag), 0);
		ck_assert_int_eq(auth_cache_insert(big, &tag, 10), 0);
		ck_assert_uint_le(auth_cache_count(big), 100);
	}
	ck_assert_uint_eq(auth_cache_count(big), 100);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		if (auth_cache_lookup(big, name, HA, "pw", 1, &tag) == 1) {
			ck_assert_int_ge(i, 900);	/* the last 100 */
			hits++;
		}
	}
	ck_assert_int_eq(hits, 100);
	auth_cache_flush(big);
	ck_assert_uint_eq(auth_cache_count(big), 0);
	ck_assert_int_eq(auth_cache_lookup(big, "user999", HA, "pw", 1, &tag),
	    0);
	auth_cache_free(big);
	auth_cache_free(NULL);
}
END_TEST

START_TEST(key_per_cache)
{
	struct auth_cache	*other;
	struct auth_cache_tag	 t1, t2;

	/* Tags depend on the random key: another cache's tag never hits. */
	ck_assert_int_eq(auth_cache_lookup(ac, "ann", HA, "secret", 0, &t1),
	    0);
	ck_assert_int_eq(auth_cache_new(0, &other), 0);
	ck_assert_int_eq(auth_cache_lookup(other, "ann", HA, "secret", 0,
	    &t2), 0);
	ck_assert(memcmp(&t1, &t2, sizeof(t1)) != 0);
	ck_assert_int_eq(auth_cache_insert(other, &t1, 100), 0);
	ck_assert_int_eq(auth_cache_lookup(other, "ann", HA, "secret", 1,
	    &t2), 0);
	auth_cache_free(other);
	/* The same inputs give the same tags within one cache. */
	ck_assert_int_eq(auth_cache_lookup(ac, "ann", HA, "secret", 0, &t2),
	    0);
	ck_assert(memcmp(&t1, &t2, sizeof(t1)) == 0);
}
END_TEST

/*
 * Through the pool
 */

struct result {
	int	 calls;
	int	 ok;
};

static struct event_base	*base;
static struct auth_pool		*pool;
static char			 h_sha[CRYPT_OUTPUT_SIZE];
static char			 h_sha2[CRYPT_OUTPUT_SIZE];

static void
mkhash(const char *pw, char *out)
{
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data	*cd;
	const char		*h;

	ck_assert_ptr_nonnull(cd = calloc(1, sizeof(*cd)));
	ck_assert_ptr_nonnull(crypt_gensalt_rn("$6$", 5000, NULL, 0, salt,
	    sizeof(salt)));
	ck_assert_ptr_nonnull(h = crypt_rn(pw, salt, cd, sizeof(*cd)));
	ck_assert_int_lt(snprintf(out, CRYPT_OUTPUT_SIZE, "%s", h),
	    CRYPT_OUTPUT_SIZE);
	free(cd);
}

static void
pool_setup(void)
{
	mkhash("secret", h_sha);
	mkhash("changed", h_sha2);
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_int_eq(auth_pool_new(base, 2, &pool), 0);
	ck_assert_int_eq(auth_pool_set_cache(pool, 60, 0), 0);
}

static void
pool_teardown(void)
{
	auth_pool_free(pool);
	event_base_free(base);
}

static void
done_cb(int ok, void *arg)
{
	struct result	*res = arg;

	res->calls++;
	res->ok = ok;
}

static void
never_cb(int ok, void *arg)
{
	ck_abort_msg("callback of a cancelled job ran");
}

static void
run_idle(void)
{
	while (auth_pool_pending(pool) > 0)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
}

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One check of name/hash/pw; *ms (may be NULL) gets how long it took. */
static int
check(const char *name, const char *hash, const char *pw, double *ms)
{
	struct result	 res = { 0, -1 };
	struct auth_job	*job;
	double		 t = now_ms();

	ck_assert_int_eq(auth_check_user(pool, name, hash, pw, done_cb, &res,
	    &job), 0);
	ck_assert_ptr_nonnull(job);
	/* Never from inside the call, hit or not. */
	ck_assert_int_eq(res.calls, 0);
	run_idle();
	if (ms != NULL)
		*ms = now_ms() - t;
	ck_assert_int_eq(res.calls, 1);
	return res.ok;
}

static void
stats(size_t want_entries, unsigned long want_hits)
{
	size_t		 entries;
	unsigned long	 hits;

	auth_pool_cache_stats(pool, &entries, &hits);
	ck_assert_uint_eq(entries, want_entries);
	ck_assert_uint_eq(hits, want_hits);
}

START_TEST(pool_hit)
{
	stats(0, 0);
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(1, 0);
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(1, 1);
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(1, 2);
	/* Without a name (auth_check) the cache is not used. */
	ck_assert_int_eq(check(NULL, h_sha, "secret", NULL), 1);
	stats(1, 2);
}
END_TEST

START_TEST(pool_wrong_password_full_check)
{
	double	 hit = 1e9, wrong = 1e9, t;
	int	 i;

	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(check("ann", h_sha, "secret", &t), 1);
		hit = t < hit ? t : hit;
		ck_assert_int_eq(check("ann", h_sha, "wrong", &t), 0);
		wrong = t < wrong ? t : wrong;
	}
	stats(1, 5);
	/*
	 * A wrong password costs a full sha512crypt (5,000 rounds, a few
	 * ms) however often the right one is cached; a hit costs an HMAC.
	 */
	ck_assert_msg(wrong > 4 * hit, "wrong %.3f ms, hit %.3f ms", wrong,
	    hit);
	/* Unknown, disabled and cert-only accounts are never cached. */
	ck_assert_int_eq(check("ann", NULL, "secret", NULL), 0);
	ck_assert_int_eq(check("ann", "!x", "secret", NULL), 0);
	ck_assert_int_eq(check("ann", "", "", NULL), 0);
	stats(1, 5);
}
END_TEST

START_TEST(pool_hash_changed)
{
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(1, 0);
	/* ann's hash changed: the old password fails, with a full check. */
	ck_assert_int_eq(check("ann", h_sha2, "secret", NULL), 0);
	stats(0, 0);
	ck_assert_int_eq(check("ann", h_sha2, "changed", NULL), 1);
	stats(1, 0);
	ck_assert_int_eq(check("ann", h_sha2, "changed", NULL), 1);
	stats(1, 1);
}
END_TEST

START_TEST(pool_reload_empties)
{
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	ck_assert_int_eq(check("bob", h_sha2, "changed", NULL), 1);
	stats(2, 0);
	/* A reload sets the cache again: no entry survives. */
	ck_assert_int_eq(auth_pool_set_cache(pool, 60, 0), 0);
	stats(0, 0);
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(1, 0);
	/* Off: nothing is kept. */
	ck_assert_int_eq(auth_pool_set_cache(pool, 0, 0), 0);
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(0, 0);
}
END_TEST

START_TEST(pool_reload_during_check)
{
	struct result	 res = { 0, -1 };
	struct auth_job	*job;

	/* A check started before a reload is not cached after it. */
	ck_assert_int_eq(auth_check_user(pool, "ann", h_sha, "secret",
	    done_cb, &res, &job), 0);
	ck_assert_int_eq(auth_pool_set_cache(pool, 60, 0), 0);
	run_idle();
	ck_assert_int_eq(res.calls, 1);
	ck_assert_int_eq(res.ok, 1);
	stats(0, 0);
}
END_TEST

/* The pool's cache clock in pool_expiry: stepped, never slept through. */
static int64_t	 fake_ms;

static int64_t
fake_clock(void)
{
	return fake_ms;
}

START_TEST(pool_expiry)
{
	fake_ms = 5000;
	auth_pool_set_clock(pool, fake_clock);
	ck_assert_int_eq(auth_pool_set_cache(pool, 1, 0), 0);
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(1, 1);
	/* Just inside the 1 s lifetime: still a hit. */
	fake_ms += 999;
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(1, 2);
	/* Expired: a full check again, which caches anew. */
	fake_ms += 2;
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(1, 2);
	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	stats(1, 3);
	auth_pool_set_clock(pool, NULL);
}
END_TEST

START_TEST(pool_bounded)
{
	char	 name[16];
	int	 i;

	ck_assert_int_eq(auth_pool_set_cache(pool, 60, 2), 0);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		ck_assert_int_eq(check(name, h_sha, "secret", NULL), 1);
	}
	stats(2, 0);
	ck_assert_int_eq(check("u3", h_sha, "secret", NULL), 1);
	ck_assert_int_eq(check("u0", h_sha, "secret", NULL), 1);  /* evicted */
	stats(2, 1);
}
END_TEST

START_TEST(pool_cancel_hit)
{
	struct auth_job	*job;

	ck_assert_int_eq(check("ann", h_sha, "secret", NULL), 1);
	/* A hit is delivered later, so it can still be cancelled. */
	ck_assert_int_eq(auth_check_user(pool, "ann", h_sha, "secret",
	    never_cb, NULL, &job), 0);
	ck_assert_uint_eq(auth_pool_pending(pool), 1);
	auth_cancel(job);
	run_idle();
	stats(1, 1);
	/* Pending hits are freed with the pool. */
	ck_assert_int_eq(auth_check_user(pool, "ann", h_sha, "secret",
	    never_cb, NULL, &job), 0);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("authcache");
	TCase	*tc;

	tc = tcase_create("cache");
	tcase_add_checked_fixture(tc, ac_setup, ac_teardown);
	tcase_add_test(tc, hit_and_miss);
	tcase_add_test(tc, expiry);
	tcase_add_test(tc, hash_changed);
	tcase_add_test(tc, one_entry_per_user);
	tcase_add_test(tc, bounded_lru);
	tcase_add_test(tc, many_users_bounded);
	tcase_add_test(tc, key_per_cache);
	suite_add_tcase(s, tc);

	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pool_hit);
	tcase_add_test(tc, pool_wrong_password_full_check);
	tcase_add_test(tc, pool_hash_changed);
	tcase_add_test(tc, pool_reload_empties);
	tcase_add_test(tc, pool_reload_during_check);
	tcase_add_test(tc, pool_expiry);
	tcase_add_test(tc, pool_bounded);
	tcase_add_test(tc, pool_cancel_hit);
	suite_add_tcase(s, tc);
	return s;
}
