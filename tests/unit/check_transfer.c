/*
 * tests/unit/check_transfer.c: transfers (server/transfer.c, xferio.c)
 * on a real session (tests/unit/sesstest.c): the control connection is
 * a socketpair, the data connection goes over 127.0.0.1.  Every ending
 * is reported once through the sessions' hooks (session.h), with the
 * bytes moved, the final reply and the result.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <openssl/ssl.h>

#include "auth.h"
#include "cmd.h"
#include "datachan.h"
#include "ftps_limits.h"
#include "ftpsd.h"
#include "session.h"
#include "sesstest.h"
#include "transfer.h"

Suite	*unit_suite(void);

/* What the hook heard. */
static struct {
	int			 calls;
	struct xfer_report	 rep;
	char			 result[16];
} heard;

static int
ended_hook(struct session *s, const struct xfer_report *rep)
{
	ck_assert_ptr_eq(s, st_s);
	heard.calls++;
	heard.rep = *rep;
	snprintf(heard.result, sizeof(heard.result), "%s", rep->result);
	return 0;
}

static const struct sess_hooks test_hooks = { .xfer_ended = ended_hook };

static void
up(int tls)
{
	memset(&heard, 0, sizeof(heard));
	st_up(tls);
	st_ctx.hooks = &test_hooks;
	st_login(PERM_READ | PERM_WRITE);
}

static void
plain_up(void)
{
	up(0);
}

static void
tls_up(void)
{
	up(1);
}

/* A file of n bytes in the home whose byte i is i * 7 mod 251. */
static void
make_file(const char *name, size_t n)
{
	char	 p[128], b[4096];
	size_t	 i, k;
	FILE	*fp;

	snprintf(p, sizeof(p), "%s/%s", st_root, name);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	for (i = 0; i < n; i += k) {
		for (k = 0; k < sizeof(b) && i + k < n; k++)
			b[k] = (char)((i + k) * 7 % 251);
		ck_assert_uint_eq(fwrite(b, 1, k, fp), k);
	}
	ck_assert_int_eq(fclose(fp), 0);
}

static off_t
file_size(const char *name)
{
	char		 p[128];
	struct stat	 st;

	snprintf(p, sizeof(p), "%s/%s", st_root, name);
	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_size;
}

/* PASV (no reply needed: datachan is driven directly), then connect. */
static int
pasv_connect(void)
{
	unsigned	 port;

	ck_assert_int_eq(dc_passive(st_s, &port), 0);
	return st_connect(port);
}

#define BIG	(3 * FTPS_XFER_CHUNK + 12345)

/* The hook heard exactly one ending, this one. */
static void
heard_once(const char *verb, unsigned long long bytes, int code,
    const char *result)
{
	ck_assert_int_eq(heard.calls, 1);
	ck_assert_str_eq(heard.rep.verb, verb);
	ck_assert_uint_eq(heard.rep.bytes, bytes);
	ck_assert_int_eq(heard.rep.code, code);
	ck_assert_str_eq(heard.result, result);
	ck_assert_ptr_null(st_s->xfer);
}

START_TEST(retr_plain_counts_and_reports)
{
	int	 fd;

	make_file("big", BIG);
	fd = pasv_connect();
	st_dispatch("RETR big");
	ck_assert_int_eq(heard.calls, 0);
	ck_assert_uint_eq(st_drain(NULL, fd), BIG);
	ck_assert_ptr_nonnull(strstr(st_read_until(NULL, st_peer, "226 "),
	    "226 "));
	heard_once("retr", BIG, 226, "ok");
	close(fd);
}
END_TEST

START_TEST(stor_plain_counts_and_reports)
{
	char	 b[8192];
	size_t	 sent = 0, n;
	ssize_t	 r;
	int	 fd, i;

	memset(b, 'u', sizeof(b));
	fd = pasv_connect();
	st_dispatch("STOR up");
	for (i = 0; i < 20000 && sent < BIG; i++) {
		n = BIG - sent < sizeof(b) ? BIG - sent : sizeof(b);
		if ((r = write(fd, b, n)) > 0)
			sent += (size_t)r;
		else
			ck_assert_int_eq(errno, EAGAIN);
		st_turn();
	}
	ck_assert_uint_eq(sent, BIG);
	close(fd);
	ck_assert_ptr_nonnull(strstr(st_read_until(NULL, st_peer, "226 "),
	    "226 "));
	heard_once("stor", BIG, 226, "ok");
	ck_assert_int_eq(file_size("up"), BIG);
}
END_TEST

#define HUGE	(64 * FTPS_XFER_CHUNK)

/*
 * A download far larger than the socket buffers hold, under way while
 * the client reads nothing; the data connection's fd.
 */
static int
start_huge(void)
{
	int	 fd, i;

	make_file("huge", HUGE);
	fd = pasv_connect();
	st_dispatch("RETR huge");
	for (i = 0; i < 50; i++)
		st_turn();
	ck_assert_ptr_nonnull(st_s->xfer);
	ck_assert_int_eq(heard.calls, 0);
	return fd;
}

static int
xfer_gone(void)
{
	return st_s->xfer == NULL;
}

START_TEST(abort_reports_abort)
{
	int	 fd = start_huge();

	xfer_abort(st_s, "the test", NULL);
	/* A file read in flight is waited for before the 426. */
	st_wait(-1, xfer_gone, "the aborted transfer's end");
	ck_assert_ptr_nonnull(strstr(st_replies(), "426 "));
	ck_assert_int_eq(heard.calls, 1);
	ck_assert_int_eq(heard.rep.code, 426);
	ck_assert_str_eq(heard.result, "aborted");
	ck_assert_uint_lt(heard.rep.bytes, HUGE);
	ck_assert_ptr_null(st_s->xfer);
	close(fd);
}
END_TEST

START_TEST(client_close_reports_abort)
{
	int	 fd = start_huge();

	/* The client goes away mid-download: a reset, not an EOF. */
	close(fd);
	ck_assert_ptr_nonnull(strstr(st_read_until(NULL, st_peer, "426 "),
	    "426 "));
	ck_assert_int_eq(heard.calls, 1);
	ck_assert_int_eq(heard.rep.code, 426);
	ck_assert_str_eq(heard.result, "aborted");
	ck_assert_uint_lt(heard.rep.bytes, HUGE);
}
END_TEST

START_TEST(retr_tls_counts_and_reports)
{
	SSL_SESSION	*sess;
	SSL		*ctrl, *data;
	int		 fd;

	/* Large enough for the gathering BIO (xferio.c). */
	make_file("big", BIG);
	sess = st_control_tls(&ctrl);
	fd = pasv_connect();
	st_dispatch("RETR big");
	data = st_tls_client(fd, sess);
	ck_assert_uint_eq(st_drain(data, fd), BIG);
	ck_assert_ptr_nonnull(strstr(st_read_until(ctrl, st_peer, "226 "),
	    "226 "));
	heard_once("retr", BIG, 226, "ok");
	SSL_free(data);
	close(fd);
	SSL_SESSION_free(sess);
	SSL_free(ctrl);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*su = suite_create("transfer");
	TCase	*tc;

	tc = tcase_create("plain");
	tcase_add_checked_fixture(tc, plain_up, st_down);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, retr_plain_counts_and_reports);
	tcase_add_test(tc, stor_plain_counts_and_reports);
	tcase_add_test(tc, abort_reports_abort);
	tcase_add_test(tc, client_close_reports_abort);
	suite_add_tcase(su, tc);

	tc = tcase_create("tls");
	tcase_add_checked_fixture(tc, tls_up, st_down);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, retr_tls_counts_and_reports);
	suite_add_tcase(su, tc);
	return su;
}
