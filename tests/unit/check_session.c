/* tests/unit/check_session.c: the bounded line reader and its helpers. */
#include <string.h>
#include <check.h>

#include <event2/buffer.h>

#include "buf.h"
#include "cmd.h"
#include "err.h"
#include "ftps_limits.h"
#include "session.h"

Suite	*unit_suite(void);

static struct evbuffer	*in;
static struct linereader lr;
static char		 line[FTPS_LINE_MAX + 1];

static void
setup(void)
{
	in = evbuffer_new();
	memset(&lr, 0, sizeof(lr));
}

static void
teardown(void)
{
	evbuffer_free(in);
}

static enum lr_status
take(void)
{
	return sess_readline(in, &lr, line, sizeof(line));
}

START_TEST(crlf_and_bare_lf)
{
	evbuffer_add_printf(in, "USER ann\r\nNOOP\nPWD");
	ck_assert_int_eq(take(), LR_LINE);
	ck_assert_str_eq(line, "USER ann");
	ck_assert_int_eq(take(), LR_LINE);
	ck_assert_str_eq(line, "NOOP");
	ck_assert_int_eq(take(), LR_MORE);
	evbuffer_add_printf(in, "\r\n");
	ck_assert_int_eq(take(), LR_LINE);
	ck_assert_str_eq(line, "PWD");
	ck_assert_int_eq(take(), LR_MORE);
}
END_TEST

START_TEST(longest_line_fits)
{
	char	big[FTPS_LINE_MAX];

	/* FTPS_LINE_MAX bytes including the CRLF is still one line. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "STOR ", 5);
	big[FTPS_LINE_MAX - 2] = '\r';
	big[FTPS_LINE_MAX - 1] = '\n';
	evbuffer_add(in, big, sizeof(big));
	ck_assert_int_eq(take(), LR_LINE);
	ck_assert_uint_eq(strlen(line), FTPS_LINE_MAX - 2);
}
END_TEST

START_TEST(overlong_line_with_lf)
{
	char	big[FTPS_LINE_MAX + 1];

	memset(big, 'a', sizeof(big));
	big[FTPS_LINE_MAX] = '\n';
	evbuffer_add(in, big, sizeof(big));
	evbuffer_add_printf(in, "NOOP\r\n");
	ck_assert_int_eq(take(), LR_TOOLONG);
	ck_assert_int_eq(take(), LR_LINE);
	ck_assert_str_eq(line, "NOOP");
}
END_TEST

START_TEST(overlong_line_reported_once)
{
	char	big[3 * FTPS_LINE_MAX];
	int	i;

	memset(big, 'x', sizeof(big));
	evbuffer_add(in, big, FTPS_LINE_MAX);
	ck_assert_int_eq(take(), LR_TOOLONG);
	ck_assert_uint_eq(evbuffer_get_length(in), 0);
	/* More of the same line: dropped silently, memory stays flat. */
	for (i = 0; i < 3; i++) {
		evbuffer_add(in, big, sizeof(big));
		ck_assert_int_eq(take(), LR_MORE);
		ck_assert_uint_lt(evbuffer_get_length(in), FTPS_LINE_MAX);
	}
	evbuffer_add_printf(in, "tail\r\nNOOP\r\n");
	ck_assert_int_eq(take(), LR_LINE);
	ck_assert_str_eq(line, "NOOP");
}
END_TEST

START_TEST(nul_byte_refused)
{
	evbuffer_add(in, "RETR a\0b\r\nNOOP\r\n", 16);
	ck_assert_int_eq(take(), LR_NUL);
	ck_assert_int_eq(take(), LR_LINE);
	ck_assert_str_eq(line, "NOOP");
}
END_TEST

static const struct {
	const char	*in, *want;
} telnet[] = {
	{ "\xff\xf4\xff\xf2" "ABOR",	"ABOR" },	/* IAC IP IAC DM */
	{ "AB\xff\xffOR",		"AB\xffOR" },	/* IAC IAC */
	{ "\xff\xfb\x01NOOP",		"NOOP" },	/* IAC WILL ECHO */
	{ "\xff\xfd\x03QUIT",		"QUIT" },	/* IAC DO SGA */
	{ "NOOP\xff",			"NOOP" },
	{ "\xff\xfe",			"" },
	{ "plain",			"plain" },
};

START_TEST(telnet_stripped)
{
	char	tmp[64];

	strcpy(tmp, telnet[_i].in);
	sess_strip_telnet(tmp);
	ck_assert_str_eq(tmp, telnet[_i].want);
}
END_TEST

START_TEST(telnet_in_reader)
{
	evbuffer_add_printf(in, "\xff\xf4\xff\xf2" "abor\r\n");
	ck_assert_int_eq(take(), LR_LINE);
	ck_assert_str_eq(line, "abor");
	ck_assert_int_eq(cmd_during_xfer(line), 1);
}
END_TEST

START_TEST(quote_doubles)
{
	char	out[16];

	ck_assert_int_eq(sess_quote("/a\"b", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/a\"\"b");
	ck_assert_int_eq(sess_quote("\"\"\"\"\"\"\"\"", out, sizeof(out)),
	    FTPS_ETOOBIG);
	ck_assert_str_eq(out, "");
}
END_TEST

static const struct {
	const char	*in, *verb, *arg;
	int		 r;
} splits[] = {
	{ "user ann",		"USER",	"ann",		0 },
	{ "NOOP",		"NOOP",	NULL,		0 },
	{ "STOR a b c",		"STOR",	"a b c",	0 },
	{ "Retr  x",		"RETR",	" x",		0 },
	{ "TYPE ",		"TYPE",	"",		0 },
	{ "",			NULL,	NULL,		FTPS_EPARSE },
	{ " NOOP",		NULL,	NULL,		FTPS_EPARSE },
	{ "NO0P",		NULL,	NULL,		FTPS_EPARSE },
	{ "VERYLONGVERB x",	NULL,	NULL,		FTPS_EPARSE },
};

START_TEST(split)
{
	char	tmp[64], *verb, *arg;

	strcpy(tmp, splits[_i].in);
	ck_assert_int_eq(cmd_split(tmp, &verb, &arg), splits[_i].r);
	if (splits[_i].r != 0)
		return;
	ck_assert_str_eq(verb, splits[_i].verb);
	if (splits[_i].arg == NULL)
		ck_assert_ptr_null(arg);
	else
		ck_assert_str_eq(arg, splits[_i].arg);
}
END_TEST

START_TEST(during_transfer)
{
	ck_assert_int_eq(cmd_during_xfer("ABOR"), 1);
	ck_assert_int_eq(cmd_during_xfer("quit"), 1);
	ck_assert_int_eq(cmd_during_xfer("STAT"), 1);
	ck_assert_int_eq(cmd_during_xfer("NOOP"), 1);
	ck_assert_int_eq(cmd_during_xfer("STOR x"), 0);
	ck_assert_int_eq(cmd_during_xfer("ABORT"), 0);
	ck_assert_int_eq(cmd_during_xfer("PASV"), 0);
}
END_TEST

START_TEST(table_lookup)
{
	ck_assert_ptr_nonnull(cmd_find("xpwd"));
	ck_assert_ptr_nonnull(cmd_find("EPSV"));
	ck_assert_ptr_null(cmd_find("SITE"));
	ck_assert_int_eq(cmd_find("RETR")->tls, TLS_DATA);
	ck_assert_int_eq(cmd_find("RETR")->login, 1);
	ck_assert_int_eq(cmd_find("AUTH")->tls, TLS_NONE);
	ck_assert_int_eq(cmd_find("USER")->tls, TLS_CTRL);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("session");
	TCase	*tc;

	tc = tcase_create("readline");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, crlf_and_bare_lf);
	tcase_add_test(tc, longest_line_fits);
	tcase_add_test(tc, overlong_line_with_lf);
	tcase_add_test(tc, overlong_line_reported_once);
	tcase_add_test(tc, nul_byte_refused);
	tcase_add_test(tc, telnet_in_reader);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_loop_test(tc, telnet_stripped, 0,
	    sizeof(telnet) / sizeof(telnet[0]));
	tcase_add_test(tc, quote_doubles);
	tcase_add_loop_test(tc, split, 0, sizeof(splits) / sizeof(splits[0]));
	tcase_add_test(tc, during_transfer);
	tcase_add_test(tc, table_lookup);
	suite_add_tcase(s, tc);
	return s;
}
