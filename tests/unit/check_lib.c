/* tests/unit/check_lib.c: the shared basics in lib/. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <check.h>

#include "buf.h"
#include "err.h"
#include "ftps_limits.h"
#include "hash.h"
#include "log.h"
#include "parse.h"

Suite	*unit_suite(void);

static const struct {
	const char	*in;
	unsigned long	 min, max, want;
	int		 r;
} uints[] = {
	{ "0",		0, 10, 0, 0 },
	{ "10",		0, 10, 10, 0 },
	{ "11",		0, 10, 0, FTPS_EPARSE },
	{ "",		0, 10, 0, FTPS_EPARSE },
	{ "-1",		0, 10, 0, FTPS_EPARSE },
	{ " 1",		0, 10, 0, FTPS_EPARSE },
	{ "1x",		0, 10, 0, FTPS_EPARSE },
	{ "65535",	1, 65535, 65535, 0 },
	{ "0",		1, 65535, 0, FTPS_EPARSE },
	{ "99999999999999999999999999", 0, ULONG_MAX, 0, FTPS_EPARSE },
	{ "18446744073709551615", 0, ULONG_MAX, ULONG_MAX, 0 },
	{ "18446744073709551616", 0, ULONG_MAX, 0, FTPS_EPARSE },
};

START_TEST(uint_parse)
{
	unsigned long	 v = 77;

	ck_assert_int_eq(parse_uint(uints[_i].in, uints[_i].min,
	    uints[_i].max, &v), uints[_i].r);
	ck_assert_uint_eq(v, uints[_i].want);
}
END_TEST

static const struct {
	const char	*in;
	int		 family;	/* 0: refused */
	unsigned	 port;
} addrports[] = {
	{ "127.0.0.1:9100",	AF_INET,	9100 },
	{ "[::1]:65535",	AF_INET6,	65535 },
	{ "0.0.0.0:1",		AF_INET,	1 },
	{ "127.0.0.1",		0,		0 },
	{ "127.0.0.1:",		0,		0 },
	{ "127.0.0.1:0",	0,		0 },
	{ "127.0.0.1:65536",	0,		0 },
	{ "::1:9100",		0,		0 },
	{ "[127.0.0.1]:9100",	0,		0 },
	{ "[::1:9100",		0,		0 },
	{ "localhost:9100",	0,		0 },
	{ ":9100",		0,		0 },
	{ "[]:9100",		0,		0 },
};

START_TEST(addrport_parse)
{
	struct sockaddr_storage	 ss;
	unsigned		 len;
	int			 r;

	r = parse_addrport(addrports[_i].in, &ss, &len);
	if (addrports[_i].family == 0) {
		ck_assert_int_eq(r, FTPS_EPARSE);
		ck_assert_uint_eq(len, 0);
		return;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(ss.ss_family, addrports[_i].family);
	ck_assert_uint_eq(ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port), addrports[_i].port);
	ck_assert_uint_eq(len, ss.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}
END_TEST

START_TEST(bool_parse)
{
	int	 v;

	ck_assert_int_eq(parse_bool("yes", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(parse_bool("OFF", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(parse_bool("maybe", &v), FTPS_EPARSE);
}
END_TEST

START_TEST(buf_bounded)
{
	struct buf	 b;

	buf_init(&b, 8);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_add(&b, "abcd", 4), 0);
	ck_assert_int_eq(buf_addf(&b, "%d", 1234), 0);
	ck_assert_str_eq(buf_str(&b), "abcd1234");
	ck_assert_int_eq(buf_add(&b, "x", 1), FTPS_ETOOBIG);
	ck_assert_int_eq(buf_addf(&b, "%s", "y"), FTPS_ETOOBIG);
	ck_assert_uint_eq(buf_len(&b), 8);
	buf_reset(&b);
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_int_eq(buf_add(&b, "0123456789", 10), FTPS_ETOOBIG);
	buf_free(&b);
}
END_TEST

START_TEST(buf_long_format)
{
	struct buf	 b;
	char		 big[1000];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 4096);
	ck_assert_int_eq(buf_addf(&b, "<%s>", big), 0);
	ck_assert_uint_eq(buf_len(&b), 1001);
	ck_assert_int_eq(buf_str(&b)[1000], '>');
	buf_free(&b);
}
END_TEST

START_TEST(copy_refuses_truncation)
{
	char	 d[4];

	ck_assert_int_eq(str_copy(d, sizeof(d), "abc"), 0);
	ck_assert_str_eq(d, "abc");
	ck_assert_int_eq(str_copy(d, sizeof(d), "abcd"), FTPS_ETOOBIG);
	ck_assert_str_eq(d, "");
}
END_TEST

START_TEST(safe_for_logs)
{
	char	 d[32];

	ck_assert_str_eq(log_safe(d, sizeof(d), "ok name"), "ok name");
	ck_assert_str_eq(log_safe(d, sizeof(d), "a\r\nb"), "a\\x0d\\x0ab");
	ck_assert_str_eq(log_safe(d, 8, "0123456789"), "0123...");
	/* Fit between quotes: a quote or backslash cannot end them. */
	ck_assert_str_eq(log_safe(d, sizeof(d), "a\"b\\c"),
	    "a\\x22b\\x5cc");
}
END_TEST

/* SECURITY: log forging: client text is one field value, never two. */
static const struct {
	const char	*in, *want;
} quoted[] = {
	{ "alice",			"alice" },
	{ "ann.b-c_d@example.org",	"ann.b-c_d@example.org" },
	{ "/dir/f+1,2:3~",		"/dir/f+1,2:3~" },
	{ "",				"\"\"" },
	{ "alice result=ok method=cert", "\"alice result=ok method=cert\"" },
	{ "a=b",			"\"a=b\"" },
	{ "x\" y=\"z",		"\"x\\x22 y=\\x22z\"" },
	{ "back\\slash",		"\"back\\x5cslash\"" },
	{ "line\r\nsess=1 login",	"\"line\\x0d\\x0asess=1 login\"" },
	{ "\x1b[2J\x7f",		"\"\\x1b[2J\\x7f\"" },
	{ "caf\xc3\xa9",		"\"caf\\xc3\\xa9\"" },
	{ "tab\there",			"\"tab\\x09here\"" },
};

START_TEST(quote_for_logs)
{
	char	 d[LOG_QUOTE_SIZE(32)];

	ck_assert_str_eq(log_quote(d, sizeof(d), quoted[_i].in),
	    quoted[_i].want);
}
END_TEST

START_TEST(quote_truncates_inside_quotes)
{
	char	 d[12];

	ck_assert_str_eq(log_quote(d, sizeof(d), "0123456789ab"),
	    "\"012345...\"");
	ck_assert_str_eq(log_quote(d, sizeof(d), "a b c d e f g"),
	    "\"a b c ...\"");
	/* A word that fits stays bare. */
	ck_assert_str_eq(log_quote(d, sizeof(d), "0123456789a"),
	    "0123456789a");
	ck_assert_str_eq(log_quote(d, 4, "x"), "");
	/* What stays bare. */
	ck_assert_int_eq(log_is_word("/a/b.txt"), 1);
	ck_assert_int_eq(log_is_word(""), 0);
	ck_assert_int_eq(log_is_word("a b"), 0);
	ck_assert_int_eq(log_is_word("a=b"), 0);
	ck_assert_int_eq(log_is_word("a\\x1b"), 0);
}
END_TEST

START_TEST(levels)
{
	log_init("check_lib", LOG_DEST_STDERR, LOG_LVL_INFO);
	ck_assert_int_eq(log_enabled(LOG_LVL_ERR), 1);
	ck_assert_int_eq(log_enabled(LOG_LVL_INFO), 1);
	ck_assert_int_eq(log_enabled(LOG_LVL_DEBUG), 0);
	log_init("check_lib", LOG_DEST_STDERR, LOG_LVL_DEBUG);
	ck_assert_int_eq(log_enabled(LOG_LVL_DEBUG), 1);
	log_init("check_lib", LOG_DEST_STDERR, LOG_LVL_WARN);
	ck_assert_int_eq(log_enabled(LOG_LVL_INFO), 0);
	ck_assert_int_eq(log_enabled(LOG_LVL_WARN), 1);
}
END_TEST

START_TEST(trim)
{
	char	 s[] = "  key = v \r\n";

	ck_assert_str_eq(str_trim(s), "key = v");
}
END_TEST

START_TEST(strerror_codes)
{
	errno = ENOENT;
	ck_assert_str_eq(ftps_strerror(FTPS_ESYS), strerror(ENOENT));
	ck_assert_str_eq(ftps_strerror(FTPS_ETOOBIG), "too long or too large");
}
END_TEST

/* Published FNV-1a 64-bit test vectors; folding in pieces changes nothing. */
START_TEST(fnv1a_vectors)
{
	uint64_t	 h;

	ck_assert_uint_eq(hash_fnv1a(HASH_FNV1A_INIT, "", 0),
	    0xcbf29ce484222325ULL);
	ck_assert_uint_eq(hash_fnv1a(HASH_FNV1A_INIT, "a", 1),
	    0xaf63dc4c8601ec8cULL);
	ck_assert_uint_eq(hash_fnv1a(HASH_FNV1A_INIT, "foobar", 6),
	    0x85944171f73967e8ULL);
	h = hash_fnv1a(HASH_FNV1A_INIT, "foo", 3);
	ck_assert_uint_eq(hash_fnv1a(h, "bar", 3), 0x85944171f73967e8ULL);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("lib");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, uint_parse, 0, sizeof(uints) / sizeof(uints[0]));
	tcase_add_loop_test(tc, addrport_parse, 0,
	    sizeof(addrports) / sizeof(addrports[0]));
	tcase_add_test(tc, bool_parse);
	tcase_add_test(tc, copy_refuses_truncation);
	tcase_add_test(tc, trim);
	suite_add_tcase(s, tc);

	tc = tcase_create("buf");
	tcase_add_test(tc, buf_bounded);
	tcase_add_test(tc, buf_long_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_test(tc, safe_for_logs);
	tcase_add_loop_test(tc, quote_for_logs, 0,
	    sizeof(quoted) / sizeof(quoted[0]));
	tcase_add_test(tc, quote_truncates_inside_quotes);
	tcase_add_test(tc, strerror_codes);
	tcase_add_test(tc, levels);
	suite_add_tcase(s, tc);

	tc = tcase_create("hash");
	tcase_add_test(tc, fnv1a_vectors);
	suite_add_tcase(s, tc);
	return s;
}
