/*
 * fuzz_ftpaddr: PORT and EPRT arguments.  The input, or each of its first
 * two lines, goes through fa_parse_port() and fa_parse_eprt().
 * Invariants:
 * - each parser accepts exactly what a plain reference reading of RFC 959
 *   4.1.2 / RFC 2428 2 accepts, and yields the same address and port;
 * - what was accepted prints (fa_format_pasv, fa_ntop) and parses back to
 *   the same address; the printers never overrun a short buffer and
 *   leave it empty on failure;
 * - SECURITY: fa_check_active (RFC 2577 bounce defence) allows a target
 *   only when it is the peer's own host on a port >= 1024, whatever the
 *   families and IPv4-mapped forms involved.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ftpaddr.h"
#include "fuzz.h"

#define FA_MAX_PARSED	4	/* PORT and EPRT of two strings */

static int
fa_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Reference PORT reader: "h1,h2,h3,h4,p1,p2", six numbers of 1 to 3
 * digits, each at most 255, port not 0.  1 and sin filled, or 0.
 */
static int
ref_port(const char *s, struct sockaddr_in *sin)
{
	unsigned	 v[6];
	int		 i, nd;

	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (nd = 0; fa_isdigit(*s); nd++, s++)
			v[i] = nd < 4 ? v[i] * 10 + (unsigned)(*s - '0') :
			    1000;
		if (nd < 1 || nd > 3 || v[i] > 255)
			return 0;
		if (i < 5 && *s++ != ',')
			return 0;
	}
	if (*s != '\0' || (v[4] == 0 && v[5] == 0))
		return 0;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(v[0] << 24 | v[1] << 16 | v[2] << 8 |
	    v[3]);
	sin->sin_port = htons((unsigned short)(v[4] * 256 + v[5]));
	return 1;
}

/* A whole decimal string of at most 7 digits, its value into *v. */
static int
ref_num(const char *s, size_t n, unsigned long *v)
{
	size_t	 i;

	if (n == 0 || n > 7)
		return 0;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (!fa_isdigit(s[i]))
			return 0;
		*v = *v * 10 + (unsigned long)(s[i] - '0');
	}
	return 1;
}

/*
 * Reference EPRT reader: "<d>proto<d>addr<d>port<d>", d in 33..126, proto
 * and port decimal, port 1..65535, the address as inet_pton reads it.
 * Returns what fa_parse_eprt must: 0 (ss filled), FTPS_EDENIED for a
 * well-formed command naming another protocol, else FTPS_EPARSE.
 */
static int
ref_eprt(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	const char		*f[4];
	char			 addr[INET6_ADDRSTRLEN];
	unsigned long		 proto, port;
	size_t			 flen[3], i;
	char			 d = s[0];

	memset(ss, 0, sizeof(*ss));
	if (d < 33 || d > 126)
		return FTPS_EPARSE;
	f[0] = s + 1;
	for (i = 0; i < 3; i++) {
		if ((f[i + 1] = strchr(f[i], d)) == NULL)
			return FTPS_EPARSE;
		flen[i] = (size_t)(f[i + 1] - f[i]);
		f[i + 1]++;
	}
	if (*f[3] != '\0')
		return FTPS_EPARSE;
	if (!ref_num(f[0], flen[0], &proto) || proto > 65535 ||
	    !ref_num(f[2], flen[2], &port) || port < 1 || port > 65535 ||
	    flen[1] >= sizeof(addr))
		return FTPS_EPARSE;
	memcpy(addr, f[1], flen[1]);
	addr[flen[1]] = '\0';
	if (proto == 1 && inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		return 0;
	}
	if (proto == 2 && inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	return proto == 1 || proto == 2 ? FTPS_EPARSE : FTPS_EDENIED;
}

/* The 4 bytes of an IPv4 or IPv4-mapped address, or 0. */
static int
ref_v4(const struct sockaddr_storage *ss, unsigned char b[4])
{
	const struct sockaddr_in6	*sin6 =
					    (const struct sockaddr_in6 *)ss;
	static const unsigned char	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0xff, 0xff };

	if (ss->ss_family == AF_INET) {
		memcpy(b, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return 1;
	}
	if (ss->ss_family == AF_INET6 &&
	    memcmp(sin6->sin6_addr.s6_addr, mapped, 12) == 0) {
		memcpy(b, sin6->sin6_addr.s6_addr + 12, 4);
		return 1;
	}
	return 0;
}

static unsigned
ref_port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int
ref_same_host(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	unsigned char	 a4[4], b4[4];
	int		 av4 = ref_v4(a, a4), bv4 = ref_v4(b, b4);

	if (av4 || bv4)
		return av4 && bv4 && memcmp(a4, b4, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* The text printers, with every buffer size up to what they need. */
static void
fa_printers(const struct sockaddr_storage *ss)
{
	char				 full[64], buf[64];
	struct sockaddr_storage		 back;
	unsigned char			 b[4];
	size_t				 len;
	int				 r;

	r = fa_format_pasv(ss, full, sizeof(full));
	FUZZ_CHECK(r == (ref_v4(ss, b) ? 0 : FTPS_EDENIED));
	if (r == 0) {
		FUZZ_CHECK(fa_parse_port(full, &back) == 0);
		FUZZ_CHECK(ref_v4(&back, b) && ref_same_host(ss, &back));
		FUZZ_CHECK(fa_port(&back) == fa_port(ss));
		for (len = 0; len <= strlen(full); len++) {
			memset(buf, 'x', sizeof(buf));
			FUZZ_CHECK(fa_format_pasv(ss, buf, len) ==
			    FTPS_ETOOBIG);
			FUZZ_CHECK(len == 0 || buf[0] == '\0');
			FUZZ_CHECK(buf[len] == 'x');
		}
	}

	FUZZ_CHECK(fa_ntop(ss, full, sizeof(full)) == 0);
	FUZZ_CHECK(strlen(full) < INET6_ADDRSTRLEN);
	for (len = 0; len <= strlen(full); len++) {
		memset(buf, 'x', sizeof(buf));
		FUZZ_CHECK(fa_ntop(ss, buf, len) == FTPS_ETOOBIG);
		FUZZ_CHECK(len == 0 || buf[0] == '\0');
		FUZZ_CHECK(buf[len] == 'x');
	}
	/* The text reads back as the same host, in EPRT as in a log. */
	snprintf(buf, sizeof(buf), "|%d|%s|%u|", strchr(full, ':') ? 2 : 1,
	    full, fa_port(ss));
	FUZZ_CHECK(fa_parse_eprt(buf, &back) == 0);
	FUZZ_CHECK(fa_same_host(ss, &back) && fa_port(&back) == fa_port(ss));
}

static int
fa_one(const char *s, struct sockaddr_storage *out, int *n)
{
	struct sockaddr_storage	 ss, ref;
	struct sockaddr_in	 rsin;
	int			 r, want;

	r = fa_parse_port(s, &ss);
	want = ref_port(s, &rsin);
	FUZZ_CHECK(r == (want ? 0 : FTPS_EPARSE));
	if (r == 0) {
		FUZZ_CHECK(ss.ss_family == AF_INET);
		FUZZ_CHECK(memcmp(&ss, &rsin, sizeof(rsin)) == 0);
		FUZZ_CHECK(fa_port(&ss) != 0);
		fa_printers(&ss);
		out[(*n)++] = ss;
	}

	r = fa_parse_eprt(s, &ss);
	want = ref_eprt(s, &ref);
	if (r != want)
		fprintf(stderr, "EPRT \"%s\": %d, reference %d\n", s, r, want);
	FUZZ_CHECK(r == want);
	if (r == 0) {
		FUZZ_CHECK(memcmp(&ss, &ref, sizeof(ss)) == 0);
		FUZZ_CHECK(fa_port(&ss) >= 1 && fa_port(&ss) <= 65535);
		fa_printers(&ss);
		out[(*n)++] = ss;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage	 got[FA_MAX_PARSED];
	char			*s, *nl;
	int			 n = 0, i, j, same, ok;

	FUZZ_CHECK((s = fuzz_strdup(data, size)) != NULL);
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		if ((nl = strchr(nl + 1, '\n')) != NULL)
			*nl = '\0';
		fa_one(s, got, &n);
		fa_one(s + strlen(s) + 1, got, &n);
	} else
		fa_one(s, got, &n);
	free(s);

	/* SECURITY: every pair as (control peer, active target). */
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			same = ref_same_host(&got[i], &got[j]);
			FUZZ_CHECK(fa_same_host(&got[i], &got[j]) == same);
			FUZZ_CHECK(fa_same_host(&got[j], &got[i]) == same);
			ok = same && ref_port_of(&got[j]) >= 1024;
			FUZZ_CHECK(fa_check_active(&got[i], &got[j]) ==
			    (ok ? 0 : FTPS_EDENIED));
		}
	return 0;
}
