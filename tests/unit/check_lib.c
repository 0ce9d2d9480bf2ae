/* tests/unit/check_lib.c: the shared basics in lib/. */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <check.h>

#include "addrkey.h"
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
	buf_truncate(&b, 9);
	ck_assert_str_eq(buf_str(&b), "abcd1234");
	buf_truncate(&b, 3);
	ck_assert_str_eq(buf_str(&b), "abc");
	ck_assert_uint_eq(buf_len(&b), 3);
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

/* log_vformat() through a variadic door, as log_msg_errno() calls it. */
static void	fmt_line(char *, size_t, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static void
fmt_line(char *buf, size_t n, int err, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vformat(buf, n, err, fmt, ap);
	va_end(ap);
}

/* log_warn = the text + ": strerror(errno)"; log_warnx = the text. */
START_TEST(errno_forms)
{
	char	 line[64], want[64];

	fmt_line(line, sizeof(line), -1, "accept on %s", "x");
	ck_assert_str_eq(line, "accept on x");
	fmt_line(line, sizeof(line), ENOENT, "open %d", 7);
	snprintf(want, sizeof(want), "open 7: %s", strerror(ENOENT));
	ck_assert_str_eq(line, want);
	/* Cut, never overrun. */
	fmt_line(line, 8, ENOENT, "0123456789");
	ck_assert_str_eq(line, "0123456");
	/* The errno form leaves errno as it found it. */
	log_init("check_lib", LOG_DEST_STDERR, LOG_LVL_ERR);
	errno = EMFILE;
	log_warn("not written at this level");
	ck_assert_int_eq(errno, EMFILE);
	log_init("check_lib", LOG_DEST_STDERR, LOG_LVL_WARN);
	log_warn("check_lib: errno_forms (an expected line)");
	ck_assert_int_eq(errno, EMFILE);
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

/* A numeric IPv4 or IPv6 address as accept() gives it. */
#define SA_OF(text, ss)	ck_assert_int_eq(addr_parse((text), 0, (ss), NULL), 0)

/* IPv4 whole; an IPv4-mapped IPv6 address is its IPv4 address. */
START_TEST(addr_key_v4)
{
	static const unsigned char	 want[ADDR_KEY_LEN] = {
		4, 192, 0, 2, 1
	};
	struct sockaddr_storage		 ss;
	unsigned char			 k[ADDR_KEY_LEN];
	unsigned			 prefix;

	for (prefix = 16; prefix <= 128; prefix += 56) {
		SA_OF("192.0.2.1", &ss);
		ck_assert_int_eq(addr_key(&ss, prefix, k), 0);
		ck_assert_mem_eq(k, want, ADDR_KEY_LEN);
		SA_OF("::ffff:192.0.2.1", &ss);
		ck_assert_int_eq(addr_key(&ss, prefix, k), 0);
		ck_assert_mem_eq(k, want, ADDR_KEY_LEN);
	}
	SA_OF("192.0.2.2", &ss);
	ck_assert_int_eq(addr_key(&ss, 64, k), 0);
	ck_assert_int_ne(memcmp(k, want, ADDR_KEY_LEN), 0);
	/* Not mapped: ::192.0.2.1 (deprecated "compatible") is IPv6. */
	SA_OF("::192.0.2.1", &ss);
	ck_assert_int_eq(addr_key(&ss, 128, k), 0);
	ck_assert_uint_eq(k[0], 6);
}
END_TEST

/* ipv6_prefix sets the block: /48, /60 (not a whole byte), /128. */
START_TEST(addr_key_v6_prefix)
{
	static const struct {
		unsigned	 prefix;
		const char	*a, *b;
		int		 same;
	} t[] = {
		{ 64,  "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", 1 },
		{ 64,  "2001:db8:1:2::1", "2001:db8:1:3::1", 0 },
		{ 48,  "2001:db8:1:2::1", "2001:db8:1:ffff::1", 1 },
		{ 48,  "2001:db8:1::1", "2001:db8:2::1", 0 },
		{ 60,  "2001:db8:1:20::1", "2001:db8:1:2f::1", 1 },
		{ 60,  "2001:db8:1:20::1", "2001:db8:1:30::1", 0 },
		{ 128, "2001:db8::1", "2001:db8::1", 1 },
		{ 128, "2001:db8::1", "2001:db8::2", 0 },
		{ 0,   "2001:db8::1", "2001:db8::2", 0 },	/* 0: /128 */
		{ 129, "2001:db8::1", "2001:db8::2", 0 },	/* too big */
		{ 64,  "::ffff:192.0.2.1", "192.0.2.1", 1 },
		{ 64,  "::ffff:192.0.2.1", "2001:db8::1", 0 },
		{ 16,  "2001:db8::1", "2001:ffff::1", 1 },
	};
	static const unsigned char	 want60[ADDR_KEY_LEN] = {
		6, 0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0x20
	};
	unsigned char			 ka[ADDR_KEY_LEN], kb[ADDR_KEY_LEN];
	struct sockaddr_storage		 a, b;
	size_t				 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		SA_OF(t[i].a, &a);
		SA_OF(t[i].b, &b);
		ck_assert_int_eq(addr_key(&a, t[i].prefix, ka), 0);
		ck_assert_int_eq(addr_key(&b, t[i].prefix, kb), 0);
		ck_assert_msg((memcmp(ka, kb, ADDR_KEY_LEN) == 0) == t[i].same,
		    "/%u %s %s", t[i].prefix, t[i].a, t[i].b);
	}
	/* The bits past the prefix are zero, inside a byte too. */
	SA_OF("2001:db8:1:2f:ffff::1", &a);
	ck_assert_int_eq(addr_key(&a, 60, ka), 0);
	ck_assert_mem_eq(ka, want60, ADDR_KEY_LEN);
}
END_TEST

/* Other families are never counted: -1 and a zeroed key. */
START_TEST(addr_key_other_family)
{
	static const unsigned char	 zero[ADDR_KEY_LEN];
	struct sockaddr_storage		 ss;
	unsigned char			 k[ADDR_KEY_LEN];

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	memset(k, 0xaa, sizeof(k));
	ck_assert_int_eq(addr_key(&ss, 64, k), -1);
	ck_assert_mem_eq(k, zero, ADDR_KEY_LEN);
}
END_TEST

/* Numeric addresses only, with their port and length. */
START_TEST(addr_parse_numeric)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = 0;

	ck_assert_int_eq(addr_parse("127.0.0.1", 2121, &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 2121);
	ck_assert_int_eq(addr_parse("::1", 990, &ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port),
	    990);
	ck_assert_int_eq(addr_parse("localhost", 21, &ss, NULL), -1);
	ck_assert_int_eq(addr_parse("1.2.3", 21, &ss, NULL), -1);
	ck_assert_int_eq(addr_parse("", 21, &ss, NULL), -1);
}
END_TEST

/* One hash: FNV-1a over the seed then the key; the seed changes it. */
START_TEST(addr_key_hashing)
{
	unsigned char		 s1[ADDR_SEED_LEN], s2[ADDR_SEED_LEN];
	unsigned char		 ka[ADDR_KEY_LEN], kb[ADDR_KEY_LEN];
	struct sockaddr_storage	 a, b;
	uint64_t		 h;

	memset(s1, 1, sizeof(s1));
	memset(s2, 2, sizeof(s2));
	SA_OF("192.0.2.1", &a);
	SA_OF("::ffff:192.0.2.1", &b);
	ck_assert_int_eq(addr_key(&a, 64, ka), 0);
	ck_assert_int_eq(addr_key(&b, 64, kb), 0);
	h = hash_fnv1a(HASH_FNV1A_INIT, s1, sizeof(s1));
	ck_assert_uint_eq(addr_key_hash(s1, ka),
	    hash_fnv1a(h, ka, ADDR_KEY_LEN));
	ck_assert_uint_eq(addr_key_hash(s1, ka), addr_key_hash(s1, kb));
	ck_assert_uint_ne(addr_key_hash(s1, ka), addr_key_hash(s2, ka));
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
	tcase_add_test(tc, errno_forms);
	suite_add_tcase(s, tc);

	tc = tcase_create("hash");
	tcase_add_test(tc, fnv1a_vectors);
	suite_add_tcase(s, tc);

	tc = tcase_create("addrkey");
	tcase_add_test(tc, addr_key_v4);
	tcase_add_test(tc, addr_key_v6_prefix);
	tcase_add_test(tc, addr_key_other_family);
	tcase_add_test(tc, addr_key_hashing);
	tcase_add_test(tc, addr_parse_numeric);
	suite_add_tcase(s, tc);
	return s;
}
