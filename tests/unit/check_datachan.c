/*
 * tests/unit/check_datachan.c: the data connection (server/datachan.c)
 * of a real session on a socketpair: a passive listener on 127.0.0.1,
 * the peer check, and with PROT P the RFC 4217 binding: the data TLS
 * handshake must resume this control connection's own TLS session.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include <openssl/ssl.h>

#include "datachan.h"
#include "ftpsd.h"
#include "session.h"
#include "sesstest.h"

Suite	*unit_suite(void);

/* What dc_open() reported. */
static struct {
	int	 connected;
	int	 ready;
	int	 fail;
	int	 code;
	char	 text[256];
} got;

static void
rec_cb(struct session *s, enum dc_event ev, struct bufferevent *bev,
    int code, const char *text)
{
	switch (ev) {
	case DC_EV_CONNECTED:
		got.connected++;
		break;
	case DC_EV_READY:
		ck_assert_ptr_nonnull(bev);
		got.ready++;
		break;
	case DC_EV_FAIL:
		got.fail++;
		got.code = code;
		snprintf(got.text, sizeof(got.text), "%s", text);
		break;
	}
}

static int
decided(void)
{
	return got.ready + got.fail > 0;
}

/* Turns the loop until dc_open() reported READY or FAIL, once. */
static void
wait_outcome(void)
{
	st_wait(-1, decided, "data connection outcome");
	ck_assert_msg(got.ready + got.fail == 1, "ready %d fail %d",
	    got.ready, got.fail);
}

static void
plain_up(void)
{
	memset(&got, 0, sizeof(got));
	st_up(0);
}

static void
tls_up(void)
{
	memset(&got, 0, sizeof(got));
	st_up(1);
}

/* PASV, then a TCP connection to it, then the transfer's dc_open(). */
static int
open_passive(void)
{
	unsigned	 port;
	int		 fd;

	ck_assert_int_eq(dc_passive(st_s, &port), 0);
	ck_assert_uint_gt(port, 0);
	ck_assert(dc_configured(st_s));
	fd = st_connect(port);
	dc_open(st_s, rec_cb);
	return fd;
}

START_TEST(plain_passive_ready)
{
	int	 fd = open_passive();

	wait_outcome();
	ck_assert_int_eq(got.connected, 1);
	ck_assert_int_eq(got.ready, 1);
	dc_close(st_s, 0);
	close(fd);
}
END_TEST

START_TEST(no_pasv_is_425)
{
	dc_open(st_s, rec_cb);
	ck_assert_int_eq(got.fail, 1);
	ck_assert_int_eq(got.code, 425);
	ck_assert_int_eq(got.connected, 0);
}
END_TEST

START_TEST(foreign_peer_refused)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&st_s->peer;
	int			 fd;

	/* The control connection came from 127.0.0.2: port theft. */
	sin->sin_addr.s_addr = htonl(0x7f000002);
	fd = open_passive();
	wait_outcome();
	ck_assert_int_eq(got.fail, 1);
	ck_assert_int_eq(got.code, 425);
	ck_assert_ptr_nonnull(strstr(got.text, "foreign address"));
	ck_assert_int_eq(got.connected, 0);
	close(fd);
}
END_TEST

/*
 * One PROT P data connection whose client offers sess (NULL: none) and
 * whether it resumed; got says what datachan made of it.
 */
static int
data_tls(SSL_SESSION *sess)
{
	SSL	*data;
	int	 fd, reused;

	memset(&got, 0, sizeof(got));
	fd = open_passive();
	data = st_tls_client(fd, sess);
	reused = SSL_session_reused(data);
	wait_outcome();
	ck_assert_int_eq(got.connected, 1);
	dc_close(st_s, 0);
	SSL_free(data);
	close(fd);
	return reused;
}

START_TEST(resumed_data_tls_accepted)
{
	SSL_SESSION	*sess;
	SSL		*ctrl;

	sess = st_control_tls(&ctrl);
	ck_assert_int_eq(data_tls(sess), 1);
	ck_assert_msg(got.ready == 1, "refused: %d %s", got.code, got.text);
	SSL_SESSION_free(sess);
	SSL_free(ctrl);
}
END_TEST

START_TEST(unresumed_data_tls_refused)
{
	SSL_SESSION	*sess;
	SSL		*ctrl;

	sess = st_control_tls(&ctrl);
	/* A full handshake of its own: not this control session's. */
	ck_assert_int_eq(data_tls(NULL), 0);
	ck_assert_int_eq(got.ready, 0);
	ck_assert_int_eq(got.fail, 1);
	ck_assert_int_eq(got.code, 522);
	/* With data_session_reuse = optional the same connection passes. */
	st_s->policy.data_session_reuse = CONF_REUSE_OPTIONAL;
	ck_assert_int_eq(data_tls(NULL), 0);
	ck_assert_int_eq(got.ready, 1);
	SSL_SESSION_free(sess);
	SSL_free(ctrl);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*su = suite_create("datachan");
	TCase	*tc;

	tc = tcase_create("plain");
	tcase_add_checked_fixture(tc, plain_up, st_down);
	tcase_add_test(tc, plain_passive_ready);
	tcase_add_test(tc, no_pasv_is_425);
	tcase_add_test(tc, foreign_peer_refused);
	suite_add_tcase(su, tc);

	tc = tcase_create("tls");
	tcase_add_checked_fixture(tc, tls_up, st_down);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, resumed_data_tls_accepted);
	tcase_add_test(tc, unresumed_data_tls_refused);
	suite_add_tcase(su, tc);
	return su;
}
