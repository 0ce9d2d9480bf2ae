/* tests/unit/check_proxy.c: PROXY v1/v2 parsers and CIDR ranges. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <string.h>

#include "cidr.h"
#include "err.h"
#include "proxy.h"

static const struct {
	const char	*in;
	int		 want;		/* > 0: length; 0 more; < 0 error */
	const char	*src;		/* "ip port", NULL: none */
} v1[] = {
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 40000 21\r\n", 40,
	  "192.0.2.5 40000" },
	{ "PROXY TCP6 2001:db8::5 2001:db8::1 1 990\r\nAUTH TLS\r\n", 42,
	  "2001:db8::5 1" },
	{ "PROXY UNKNOWN\r\n", 15, NULL },
	{ "PROXY UNKNOWN ffff::1 x y z\r\n", 29, NULL },
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 40000 21", 0, NULL },
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 40000 21\r", 0, NULL },
	{ "PRO", 0, NULL },
	{ "", 0, NULL },
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 40000 21\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 40000 21\rX", FTPS_EPARSE, NULL },
	{ "PROXY TCP4 192.0.2.5  10.0.0.1 40000 21\r\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 40000\r\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 40000 21 9\r\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 65536 21\r\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 040 21\r\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP4 192.0.2.5 10.0.0.1 -1 21\r\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP4 2001:db8::5 10.0.0.1 1 21\r\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP6 192.0.2.5 2001:db8::1 1 21\r\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP6 ::ffff:1.2.3.4 ::1 1 21\r\n", 36, "::ffff:1.2.3.4 1" },
	{ "PROXY UDP4 192.0.2.5 10.0.0.1 1 21\r\n", FTPS_EPARSE, NULL },
	{ "PROXY UNKNOWNX\r\n", FTPS_EPARSE, NULL },
	{ "proxy TCP4 192.0.2.5 10.0.0.1 1 21\r\n", FTPS_EPARSE, NULL },
	{ "GET / HTTP/1.0\r\n", FTPS_EPARSE, NULL },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 "
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", FTPS_ETOOBIG, NULL },
};

static void
check_src(const struct sockaddr_storage *ss, const char *want)
{
	char		 ip[64], got[80];
	unsigned	 port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)ss;
		ck_assert_int_eq(ss->ss_family, AF_INET6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(got, sizeof(got), "%s %u", ip, port);
	ck_assert_str_eq(got, want);
}

START_TEST(parse_v1)
{
	struct proxy_hdr	 h;
	const char		*why;
	int			 r;

	r = proxy_parse_v1((const unsigned char *)v1[_i].in,
	    strlen(v1[_i].in), &h, &why);
	ck_assert_int_eq(r, v1[_i].want);
	if (r < 0)
		ck_assert_ptr_nonnull(why);
	if (r > 0) {
		ck_assert_int_eq(h.version, 1);
		ck_assert_int_eq(h.noaddr, v1[_i].src == NULL);
		if (v1[_i].src != NULL)
			check_src(&h.src, v1[_i].src);
	}
	/* The same through proxy_parse, and refused when v1 is not on. */
	ck_assert_int_eq(proxy_parse((const unsigned char *)v1[_i].in,
	    strlen(v1[_i].in), PROXY_V1 | PROXY_V2, &h, &why), v1[_i].want);
	if (strncmp(v1[_i].in, "PROXY ", 6) == 0)
		ck_assert_int_eq(proxy_parse((const unsigned char *)v1[_i].in,
		    strlen(v1[_i].in), PROXY_V2, &h, &why), FTPS_EPARSE);
}
END_TEST

/* The longest legal v1 line is 107 bytes; 108 is refused. */
START_TEST(v1_bound)
{
	char			 line[128];
	struct proxy_hdr	 h;
	const char		*why;
	size_t			 n;

	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + 105, "\r\n", 2);
	ck_assert_int_eq(proxy_parse_v1((unsigned char *)line, 107, &h, &why),
	    107);
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + 106, "\r\n", 2);
	for (n = 100; n <= 108; n++)
		ck_assert_int_eq(proxy_parse_v1((unsigned char *)line, n, &h,
		    &why), n < 107 ? 0 : FTPS_ETOOBIG);
}
END_TEST

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A v2 header: ver_cmd, fam, then body of blen bytes; returns length. */
static size_t
v2(unsigned char *out, unsigned vc, unsigned fam, const unsigned char *body,
    size_t blen, size_t lenfield)
{
	memcpy(out, sig, 12);
	out[12] = (unsigned char)vc;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(lenfield >> 8);
	out[15] = (unsigned char)lenfield;
	memcpy(out + 16, body, blen);
	return 16 + blen;
}

START_TEST(parse_v2_inet)
{
	static const unsigned char body[] = {
		192, 0, 2, 5,  10, 0, 0, 1,  0x9c, 0x40,  0, 21,
		0x04, 0x00, 0x01, 0xaa		/* a NOOP TLV */
	};
	unsigned char		 buf[64];
	struct proxy_hdr	 h;
	const char		*why;
	size_t			 n, i;

	n = v2(buf, 0x21, 0x11, body, sizeof(body), sizeof(body));
	ck_assert_int_eq(proxy_parse_v2(buf, n, &h, &why), (int)n);
	ck_assert_int_eq(h.version, 2);
	ck_assert_int_eq(h.noaddr, 0);
	check_src(&h.src, "192.0.2.5 40000");
	/* Every proper prefix asks for more. */
	for (i = 0; i < n; i++)
		ck_assert_int_eq(proxy_parse_v2(buf, i, &h, &why), 0);
	/* A TLV that overruns the length. */
	buf[16 + 14] = 0x02;
	ck_assert_int_eq(proxy_parse_v2(buf, n, &h, &why), FTPS_EPARSE);
	/* The address block shorter than IPv4's. */
	n = v2(buf, 0x21, 0x11, body, 8, 8);
	ck_assert_int_eq(proxy_parse_v2(buf, n, &h, &why), FTPS_EPARSE);
}
END_TEST

START_TEST(parse_v2_inet6)
{
	unsigned char		 body[36], buf[64];
	struct proxy_hdr	 h;
	const char		*why;
	size_t			 n;

	memset(body, 0, sizeof(body));
	inet_pton(AF_INET6, "2001:db8::5", body);
	inet_pton(AF_INET6, "2001:db8::1", body + 16);
	body[32] = 0x01;
	body[33] = 0x02;
	body[35] = 21;
	n = v2(buf, 0x21, 0x21, body, sizeof(body), sizeof(body));
	ck_assert_int_eq(proxy_parse(buf, n, PROXY_V2, &h, &why), (int)n);
	check_src(&h.src, "2001:db8::5 258");
	ck_assert_int_eq(proxy_parse(buf, n, PROXY_V1, &h, &why),
	    FTPS_EPARSE);
}
END_TEST

START_TEST(parse_v2_local_and_bad)
{
	static const struct {
		unsigned	 vc, fam;
		size_t		 blen;
	} noaddr[] = {
		{ 0x20, 0x00, 0 }, { 0x20, 0x11, 12 }, { 0x21, 0x00, 0 },
		{ 0x21, 0x12, 12 }, { 0x21, 0x31, 4 },
	};
	unsigned char		 buf[64], body[12] = { 0 };
	struct proxy_hdr	 h;
	const char		*why;
	size_t			 n, i;

	/*
	 * LOCAL: addresses ignored, whatever the family.  PROXY over UNSPEC,
	 * UDP, UNIX: no TCP client address.  Both: the real endpoints count
	 * (proxy-protocol.txt 2.2), whatever the length.
	 */
	for (i = 0; i < sizeof(noaddr) / sizeof(noaddr[0]); i++) {
		n = v2(buf, noaddr[i].vc, noaddr[i].fam, body, noaddr[i].blen,
		    noaddr[i].blen);
		ck_assert_int_eq(proxy_parse_v2(buf, n, &h, &why),
		    (int)(16 + noaddr[i].blen));
		ck_assert_int_eq(h.noaddr, 1);
	}
	/* Version 1 in a v2 header, an unknown command. */
	n = v2(buf, 0x11, 0x11, body, 12, 12);
	ck_assert_int_eq(proxy_parse_v2(buf, 13, &h, &why), FTPS_EPARSE);
	n = v2(buf, 0x22, 0x11, body, 12, 12);
	ck_assert_int_eq(proxy_parse_v2(buf, n, &h, &why), FTPS_EPARSE);
	/* A family or protocol the spec does not define. */
	n = v2(buf, 0x21, 0x41, body, 12, 12);
	ck_assert_int_eq(proxy_parse_v2(buf, n, &h, &why), FTPS_EPARSE);
	n = v2(buf, 0x21, 0x13, body, 12, 12);
	ck_assert_int_eq(proxy_parse_v2(buf, n, &h, &why), FTPS_EPARSE);
	/* Longer than the TLV bound: refused from the 16 fixed bytes. */
	n = v2(buf, 0x21, 0x11, body, 0, PROXY_V2_LEN_MAX + 1);
	ck_assert_int_eq(proxy_parse_v2(buf, 16, &h, &why), FTPS_ETOOBIG);
	/* A wrong signature byte. */
	buf[5] = 'X';
	ck_assert_int_eq(proxy_parse_v2(buf, 6, &h, &why), FTPS_EPARSE);
	ck_assert_int_eq(proxy_parse(buf, 6, PROXY_V2, &h, &why),
	    FTPS_EPARSE);
}
END_TEST

START_TEST(sniff)
{
	ck_assert_int_eq(proxy_sniff((const unsigned char *)"PROXY T", 7), 1);
	ck_assert_int_eq(proxy_sniff((const unsigned char *)"PROX", 4), -1);
	ck_assert_int_eq(proxy_sniff((const unsigned char *)"PASS x", 6), 0);
	ck_assert_int_eq(proxy_sniff(sig, 12), 1);
	/* A blank line (a prefix of the v2 signature) is a client's. */
	ck_assert_int_eq(proxy_sniff(sig, 1), -1);
	ck_assert_int_eq(proxy_sniff(sig, 2), 0);
	ck_assert_int_eq(proxy_sniff(sig, 4), 0);
	ck_assert_int_eq(proxy_sniff(sig, 11), 0);
	ck_assert_int_eq(proxy_sniff((const unsigned char *)"\r\nUSER", 6),
	    0);
	ck_assert_int_eq(proxy_sniff((const unsigned char *)"\x16\x03\x01",
	    3), 0);
	ck_assert_int_eq(proxy_sniff(sig, 0), -1);
}
END_TEST

static const struct {
	const char	*range, *addr;
	int		 want;	/* -1: the range is refused */
} cidrs[] = {
	{ "127.0.0.1", "127.0.0.1", 1 },
	{ "127.0.0.1", "127.0.0.2", 0 },
	{ "10.0.0.0/8", "10.255.1.2", 1 },
	{ "10.0.0.0/8", "11.0.0.1", 0 },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", 1 },
	{ "0.0.0.0/0", "192.0.2.1", 1 },
	{ "0.0.0.0/0", "2001:db8::1", 0 },
	{ "192.168.4.0/23", "192.168.5.9", 1 },
	{ "192.168.4.0/23", "192.168.6.1", 0 },
	{ "fd00::/8", "fdab::1", 1 },
	{ "fd00::/8", "fe80::1", 0 },
	{ "::/0", "::1", 1 },
	{ "::1", "::1", 1 },
	{ "10.1.2.3/8", NULL, -1 },
	{ "10.0.0.0/33", NULL, -1 },
	{ "10.0.0.0/", NULL, -1 },
	{ "10.0.0.0/08", NULL, -1 },
	{ "/8", NULL, -1 },
	{ "host.example", NULL, -1 },
	{ "fd00::/129", NULL, -1 },
};

START_TEST(cidr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct cidr		 c, back;
	const char		*why;
	char			 text[CIDR_TEXT_MAX];

	if (cidrs[_i].want == -1) {
		ck_assert_int_eq(cidr_parse(cidrs[_i].range, &c, &why),
		    FTPS_EPARSE);
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_int_eq(cidr_parse(cidrs[_i].range, &c, &why), 0);
	ck_assert_int_eq(cidr_format(&c, text, sizeof(text)), 0);
	ck_assert_int_eq(cidr_parse(text, &back, &why), 0);
	ck_assert_mem_eq(&c, &back, sizeof(c));
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cidrs[_i].addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, cidrs[_i].addr,
		    &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&ss),
	    cidrs[_i].want);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc;

	tc = tcase_create("v1");
	tcase_add_loop_test(tc, parse_v1, 0, sizeof(v1) / sizeof(v1[0]));
	tcase_add_test(tc, v1_bound);
	suite_add_tcase(s, tc);
	tc = tcase_create("v2");
	tcase_add_test(tc, parse_v2_inet);
	tcase_add_test(tc, parse_v2_inet6);
	tcase_add_test(tc, parse_v2_local_and_bad);
	tcase_add_test(tc, sniff);
	suite_add_tcase(s, tc);
	tc = tcase_create("cidr");
	tcase_add_loop_test(tc, cidr, 0, sizeof(cidrs) / sizeof(cidrs[0]));
	suite_add_tcase(s, tc);
	return s;
}
