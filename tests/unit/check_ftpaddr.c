/* tests/unit/check_ftpaddr.c: PORT/EPRT parsing, PASV text, bounce checks. */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>
#include <check.h>

#include "err.h"
#include "ftpaddr.h"

static const struct {
	const char	*in;
	const char	*addr;		/* NULL: refused with FTPS_EPARSE */
	unsigned int	 port;
} ports[] = {
	{ "127,0,0,1,4,1",		"127.0.0.1",	1025 },
	{ "192,168,1,2,255,255",	"192.168.1.2",	65535 },
	{ "0,0,0,0,0,1",		"0.0.0.0",	1 },
	{ "10,0,0,1,0,21",		"10.0.0.1",	21 },
	{ "255,255,255,255,1,0",	"255.255.255.255", 256 },
	{ "010,001,000,001,004,001",	"10.1.0.1",	1025 },
	{ "127,0,0,1,0,0",		NULL, 0 },	/* port 0 */
	{ "127,0,0,256,4,1",		NULL, 0 },	/* overflow */
	{ "127,0,0,1,4,256",		NULL, 0 },
	{ "1000,0,0,1,4,1",		NULL, 0 },
	{ "0127,0,0,1,4,1",		NULL, 0 },	/* four digits */
	{ "127,0,0,1,4",		NULL, 0 },	/* five numbers */
	{ "127,0,0,1,4,1,",		NULL, 0 },
	{ "127,0,0,1,4,1,9",		NULL, 0 },
	{ "127,0,0,1,,4",		NULL, 0 },
	{ ",127,0,0,1,4,1",		NULL, 0 },
	{ "127,0,0,1,4,1 ",		NULL, 0 },
	{ " 127,0,0,1,4,1",		NULL, 0 },
	{ "127, 0,0,1,4,1",		NULL, 0 },
	{ "12 7,0,0,1,4,1",		NULL, 0 },
	{ "+127,0,0,1,4,1",		NULL, 0 },
	{ "127,-0,0,1,4,1",		NULL, 0 },
	{ "127.0.0.1,4,1",		NULL, 0 },
	{ "127;0;0;1;4;1",		NULL, 0 },
	{ "0x7f,0,0,1,4,1",		NULL, 0 },
	{ "",				NULL, 0 },
	{ "a,b,c,d,e,f",		NULL, 0 },
	{ "127,0,0,1,4,1\r\n",		NULL, 0 },
};

START_TEST(port_table)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	char			 text[INET_ADDRSTRLEN];
	int			 r;

	memset(&ss, 0xa5, sizeof(ss));
	r = fa_parse_port(ports[_i].in, &ss);
	if (ports[_i].addr == NULL) {
		ck_assert_int_eq(r, FTPS_EPARSE);
		ck_assert_int_eq(ss.ss_family, AF_UNSPEC);
		return;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_ptr_nonnull(inet_ntop(AF_INET, &sin->sin_addr, text,
	    sizeof(text)));
	ck_assert_str_eq(text, ports[_i].addr);
	ck_assert_uint_eq(ntohs(sin->sin_port), ports[_i].port);
	ck_assert_uint_eq(fa_port(&ss), ports[_i].port);
}
END_TEST

static const struct {
	const char	*in;
	int		 r;
	int		 family;
	const char	*addr;
	unsigned int	 port;
} eprts[] = {
	{ "|1|127.0.0.1|1025|",		0, AF_INET, "127.0.0.1", 1025 },
	{ "|2|::1|65535|",		0, AF_INET6, "::1", 65535 },
	{ "|2|2001:db8::7|2000|",	0, AF_INET6, "2001:db8::7", 2000 },
	{ "|2|::ffff:10.1.2.3|4000|",	0, AF_INET6, "::ffff:10.1.2.3", 4000 },
	{ "!1!10.0.0.1!21!",		0, AF_INET, "10.0.0.1", 21 },
	{ "~1~10.0.0.1~5000~",		0, AF_INET, "10.0.0.1", 5000 },
	{ "#2#fe80::1#5000#",		0, AF_INET6, "fe80::1", 5000 },
	{ ",1,10.0.0.1,5000,",		0, AF_INET, "10.0.0.1", 5000 },
	{ "a1a10.0.0.1a5000a",		0, AF_INET, "10.0.0.1", 5000 },
	{ "|3|127.0.0.1|1025|",		FTPS_EDENIED, 0, NULL, 0 },
	{ "|0|127.0.0.1|1025|",		FTPS_EDENIED, 0, NULL, 0 },
	{ "|x|127.0.0.1|1025|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "||127.0.0.1|1025|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1|0|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1|65536|",	FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1|-1|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1|+80|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1| 80|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1||",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1|1025",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1|1025||",	FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1|1025| ",	FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|::1|1025|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|2|127.0.0.1|1025|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.256|1025|",	FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.1|1025|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|010.0.0.1|1025|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1||1025|",			FTPS_EPARSE, 0, NULL, 0 },
	{ "|2|fe80::1%eth0|1025|",	FTPS_EPARSE, 0, NULL, 0 },
	{ "|2|::1::2|1025|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1|1025|extra",	FTPS_EPARSE, 0, NULL, 0 },
	{ "1|127.0.0.1|1025|",		FTPS_EPARSE, 0, NULL, 0 },
	{ " 1 127.0.0.1 1025 ",		FTPS_EPARSE, 0, NULL, 0 },
	{ "\x7f" "1\x7f" "127.0.0.1\x7f" "1025\x7f", FTPS_EPARSE, 0, NULL, 0 },
	{ ".1.127.0.0.1.1025.",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|127.0.0.1|",		FTPS_EPARSE, 0, NULL, 0 },
	{ "|1|",			FTPS_EPARSE, 0, NULL, 0 },
	{ "|",				FTPS_EPARSE, 0, NULL, 0 },
	{ "",				FTPS_EPARSE, 0, NULL, 0 },
	{ "|2|1111:2222:3333:4444:5555:6666:7777:8888:9999|1025|",
					FTPS_EPARSE, 0, NULL, 0 },
};

START_TEST(eprt_table)
{
	struct sockaddr_storage	 ss;
	const void		*a;
	char			 text[INET6_ADDRSTRLEN];
	int			 r;

	memset(&ss, 0xa5, sizeof(ss));
	r = fa_parse_eprt(eprts[_i].in, &ss);
	ck_assert_int_eq(r, eprts[_i].r);
	if (r != 0) {
		ck_assert_int_eq(ss.ss_family, AF_UNSPEC);
		return;
	}
	ck_assert_int_eq(ss.ss_family, eprts[_i].family);
	if (ss.ss_family == AF_INET)
		a = &((struct sockaddr_in *)&ss)->sin_addr;
	else
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	ck_assert_ptr_nonnull(inet_ntop(ss.ss_family, a, text, sizeof(text)));
	ck_assert_str_eq(text, eprts[_i].addr);
	ck_assert_uint_eq(fa_port(&ss), eprts[_i].port);
}
END_TEST

/* A sockaddr_storage from text and a port, for the tests below. */
static struct sockaddr_storage
sa(const char *addr, unsigned int port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
	}
	return ss;
}

START_TEST(pasv_format)
{
	struct sockaddr_storage	 ss, back;
	char			 text[64], small[10];

	ss = sa("127.0.0.1", 50001);
	ck_assert_int_eq(fa_format_pasv(&ss, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "127,0,0,1,195,81");
	/* What we write, PORT parsing reads back to the same address. */
	ck_assert_int_eq(fa_parse_port(text, &back), 0);
	ck_assert_int_eq(fa_same_host(&ss, &back), 1);
	ck_assert_uint_eq(fa_port(&back), 50001);

	ss = sa("::ffff:192.168.10.20", 1024);
	ck_assert_int_eq(fa_format_pasv(&ss, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "192,168,10,20,4,0");
	ss = sa("255.255.255.255", 65535);
	ck_assert_int_eq(fa_format_pasv(&ss, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "255,255,255,255,255,255");

	ss = sa("::1", 50001);
	ck_assert_int_eq(fa_format_pasv(&ss, text, sizeof(text)),
	    FTPS_EDENIED);
	ck_assert_str_eq(text, "");
	ss = sa("10.0.0.1", 50001);
	ck_assert_int_eq(fa_format_pasv(&ss, small, sizeof(small)),
	    FTPS_ETOOBIG);
	ck_assert_str_eq(small, "");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(fa_format_pasv(&ss, text, sizeof(text)),
	    FTPS_EDENIED);
}
END_TEST

START_TEST(same_host)
{
	struct sockaddr_storage	 a, b;

	a = sa("127.0.0.1", 2121);
	b = sa("127.0.0.1", 40000);
	ck_assert_int_eq(fa_same_host(&a, &b), 1);
	b = sa("::ffff:127.0.0.1", 40000);
	ck_assert_int_eq(fa_same_host(&a, &b), 1);
	ck_assert_int_eq(fa_same_host(&b, &a), 1);
	b = sa("127.0.0.2", 40000);
	ck_assert_int_eq(fa_same_host(&a, &b), 0);
	b = sa("::1", 40000);
	ck_assert_int_eq(fa_same_host(&a, &b), 0);
	ck_assert_int_eq(fa_same_host(&b, &a), 0);
	a = sa("::1", 2121);
	ck_assert_int_eq(fa_same_host(&a, &b), 1);
	b = sa("::2", 2121);
	ck_assert_int_eq(fa_same_host(&a, &b), 0);
	/* ::127.0.0.1 (IPv4-compatible) is not the mapped form. */
	a = sa("127.0.0.1", 2121);
	b = sa("::127.0.0.1", 2121);
	ck_assert_int_eq(fa_same_host(&a, &b), 0);
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(fa_same_host(&a, &b), 0);
	ck_assert_int_eq(fa_same_host(&b, &b), 0);
}
END_TEST

static const struct {
	const char	*peer, *target;
	unsigned int	 port;
	int		 r;
} actives[] = {
	{ "127.0.0.1",		"127.0.0.1",		1024,	0 },
	{ "127.0.0.1",		"127.0.0.1",		65535,	0 },
	{ "127.0.0.1",		"127.0.0.1",		1023,	FTPS_EDENIED },
	{ "127.0.0.1",		"127.0.0.1",		25,	FTPS_EDENIED },
	{ "127.0.0.1",		"127.0.0.1",		0,	FTPS_EDENIED },
	{ "127.0.0.1",		"10.0.0.1",		5000,	FTPS_EDENIED },
	{ "127.0.0.1",		"0.0.0.0",		5000,	FTPS_EDENIED },
	{ "::ffff:127.0.0.1",	"127.0.0.1",		5000,	0 },
	{ "127.0.0.1",		"::ffff:127.0.0.1",	5000,	0 },
	{ "::ffff:127.0.0.1",	"::ffff:10.0.0.1",	5000,	FTPS_EDENIED },
	{ "::1",		"::1",			5000,	0 },
	{ "::1",		"::1",			22,	FTPS_EDENIED },
	{ "::1",		"127.0.0.1",		5000,	FTPS_EDENIED },
	{ "2001:db8::1",	"2001:db8::2",		5000,	FTPS_EDENIED },
};

START_TEST(active_policy)
{
	struct sockaddr_storage	 peer, target;

	peer = sa(actives[_i].peer, 2121);
	target = sa(actives[_i].target, actives[_i].port);
	ck_assert_int_eq(fa_check_active(&peer, &target), actives[_i].r);
}
END_TEST

START_TEST(bounce_via_parsers)
{
	struct sockaddr_storage	 peer, target;

	/* The whole path of a PORT/EPRT command, as the server takes it. */
	peer = sa("::ffff:127.0.0.1", 2121);
	ck_assert_int_eq(fa_parse_port("127,0,0,1,19,137", &target), 0);
	ck_assert_int_eq(fa_check_active(&peer, &target), 0);
	ck_assert_int_eq(fa_parse_port("192,0,2,1,19,137", &target), 0);
	ck_assert_int_eq(fa_check_active(&peer, &target), FTPS_EDENIED);
	ck_assert_int_eq(fa_parse_port("127,0,0,1,0,25", &target), 0);
	ck_assert_int_eq(fa_check_active(&peer, &target), FTPS_EDENIED);
	ck_assert_int_eq(fa_parse_eprt("|1|127.0.0.1|5001|", &target), 0);
	ck_assert_int_eq(fa_check_active(&peer, &target), 0);
	ck_assert_int_eq(fa_parse_eprt("|2|::1|5001|", &target), 0);
	ck_assert_int_eq(fa_check_active(&peer, &target), FTPS_EDENIED);
}
END_TEST

START_TEST(ntop)
{
	struct sockaddr_storage	 ss;
	char			 text[INET6_ADDRSTRLEN], small[4];

	ss = sa("10.1.2.3", 21);
	ck_assert_int_eq(fa_ntop(&ss, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "10.1.2.3");
	ss = sa("::ffff:10.1.2.3", 21);
	ck_assert_int_eq(fa_ntop(&ss, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "10.1.2.3");
	ss = sa("2001:db8::1", 21);
	ck_assert_int_eq(fa_ntop(&ss, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "2001:db8::1");
	ck_assert_int_eq(fa_ntop(&ss, small, sizeof(small)), FTPS_ETOOBIG);
	ck_assert_str_eq(small, "");
	memset(&ss, 0, sizeof(ss));
	ck_assert_int_eq(fa_ntop(&ss, text, sizeof(text)), FTPS_EPARSE);
	ck_assert_str_eq(text, "");
	ck_assert_uint_eq(fa_port(&ss), 0);
}
END_TEST

Suite	*unit_suite(void);

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("ftpaddr");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, port_table, 0,
	    sizeof(ports) / sizeof(ports[0]));
	tcase_add_loop_test(tc, eprt_table, 0,
	    sizeof(eprts) / sizeof(eprts[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_test(tc, pasv_format);
	tcase_add_test(tc, same_host);
	tcase_add_loop_test(tc, active_policy, 0,
	    sizeof(actives) / sizeof(actives[0]));
	tcase_add_test(tc, bounce_via_parsers);
	tcase_add_test(tc, ntop);
	suite_add_tcase(s, tc);
	return s;
}
