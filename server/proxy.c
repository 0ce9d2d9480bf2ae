/*
 * PROXY protocol v1 (text) and v2 (binary) header parsers.  Every read
 * is bounded by len; nothing is trusted about the input.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "err.h"
#include "proxy.h"

static const unsigned char v1_sig[] = "PROXY ";
#define V1_SIG_LEN	(sizeof(v1_sig) - 1)
static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
	0x55, 0x49, 0x54, 0x0a
};

#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1
#define V2_AF_INET	0x1
#define V2_AF_INET6	0x2
#define V2_AF_UNIX	0x3
#define V2_STREAM	0x1
#define V2_DGRAM	0x2
#define V2_INET_LEN	12	/* src, dst addresses; src, dst ports */
#define V2_INET6_LEN	36

static int
prefix_of(const unsigned char *buf, size_t len, const unsigned char *sig,
    size_t siglen)
{
	return memcmp(buf, sig, len < siglen ? len : siglen) == 0;
}

int
proxy_sniff(const unsigned char *buf, size_t len)
{
	if (len == 0)
		return -1;
	if (prefix_of(buf, len, v1_sig, V1_SIG_LEN))
		return len >= V1_SIG_LEN ? 1 : -1;
	if (prefix_of(buf, len, v2_sig, sizeof(v2_sig))) {
		if (len >= sizeof(v2_sig))
			return 1;
		/*
		 * Past the first CRLF: a client that sent a blank line and
		 * waits for its reply, not a balancer, which sends the 12
		 * bytes at once (proxy-protocol.txt 2.1).
		 */
		return len >= 2 ? 0 : -1;
	}
	return 0;
}

/* One field of a v1 line: [start, end) with no blank inside. */
struct v1_tok {
	const char	*p;
	size_t		 n;
};

/* "0".."65535", no sign, no leading zero; 0 or FTPS_EPARSE. */
static int
v1_port(const struct v1_tok *t, in_port_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (t->n == 0 || t->n > 5 || (t->p[0] == '0' && t->n > 1))
		return FTPS_EPARSE;
	for (i = 0; i < t->n; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return FTPS_EPARSE;
		v = v * 10 + (unsigned long)(t->p[i] - '0');
	}
	if (v > 65535)
		return FTPS_EPARSE;
	*port = htons((uint16_t)v);
	return 0;
}

static int
v1_addr(int af, const struct v1_tok *t, in_port_t port,
    struct sockaddr_storage *ss)
{
	char			 text[INET6_ADDRSTRLEN];
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	if (t->n == 0 || t->n >= sizeof(text))
		return FTPS_EPARSE;
	memcpy(text, t->p, t->n);
	text[t->n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
			return FTPS_EPARSE;
		sin->sin_family = AF_INET;
		sin->sin_port = port;
	} else {
		/* SECURITY: TCP6 must not smuggle an IPv4 literal. */
		if (memchr(t->p, ':', t->n) == NULL ||
		    inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
			return FTPS_EPARSE;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
	}
	return 0;
}

/* The index of the first CR or LF among n bytes, or n. */
static size_t
v1_line_end(const unsigned char *buf, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			return i;
	return n;
}

int
proxy_parse_v1(const unsigned char *buf, size_t len, struct proxy_hdr *hdr,
    const char **why)
{
	const char	*line = (const char *)buf, *p, *end;
	struct v1_tok	 t[5];
	in_port_t	 sport, dport;
	size_t		 n, i, eol;
	int		 af;

	memset(hdr, 0, sizeof(*hdr));
	*why = NULL;
	if (!prefix_of(buf, len, v1_sig, V1_SIG_LEN)) {
		*why = "a v1 header starts with \"PROXY \"";
		return FTPS_EPARSE;
	}
	n = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
	/* 1. Find the end of the line within the bound. */
	if ((eol = v1_line_end(buf, n)) == n) {
		if (len >= PROXY_V1_MAX) {
			*why = "no CRLF within 107 bytes";
			return FTPS_ETOOBIG;
		}
		return 0;
	}
	if (buf[eol] == '\n') {
		*why = "LF without CR";
		return FTPS_EPARSE;
	}
	if (eol + 2 > PROXY_V1_MAX) {
		*why = "no CRLF within 107 bytes";
		return FTPS_ETOOBIG;
	}
	if (eol + 1 >= len)
		return 0;
	if (buf[eol + 1] != '\n') {
		*why = "CR without LF";
		return FTPS_EPARSE;
	}
	/*
	 * 2. "PROXY UNKNOWN" ignores the rest of its line: the real
	 * connection's endpoints count (proxy-protocol.txt 2.1).
	 */
	p = line + V1_SIG_LEN;
	end = line + eol;
	if ((size_t)(end - p) >= 7 && memcmp(p, "UNKNOWN", 7) == 0 &&
	    (end - p == 7 || p[7] == ' ')) {
		hdr->version = 1;
		hdr->noaddr = 1;
		return (int)(eol + 2);
	}
	/* 3. Five fields, each separated by exactly one blank. */
	for (i = 0; i < 5; i++) {
		t[i].p = p;
		while (p < end && *p != ' ')
			p++;
		t[i].n = (size_t)(p - t[i].p);
		if (t[i].n == 0) {
			*why = "an empty field or a doubled blank";
			return FTPS_EPARSE;
		}
		if (i < 4) {
			if (p == end) {
				*why = "fewer than five fields";
				return FTPS_EPARSE;
			}
			p++;
		}
	}
	if (p != end) {
		*why = "more than five fields";
		return FTPS_EPARSE;
	}
	if (t[0].n == 4 && memcmp(t[0].p, "TCP4", 4) == 0)
		af = AF_INET;
	else if (t[0].n == 4 && memcmp(t[0].p, "TCP6", 4) == 0)
		af = AF_INET6;
	else {
		*why = "the protocol is not TCP4, TCP6 or UNKNOWN";
		return FTPS_EPARSE;
	}
	if (v1_port(&t[3], &sport) != 0 || v1_port(&t[4], &dport) != 0) {
		*why = "a port is not a number from 0 to 65535";
		return FTPS_EPARSE;
	}
	if (v1_addr(af, &t[1], sport, &hdr->src) != 0 ||
	    v1_addr(af, &t[2], dport, &hdr->dst) != 0) {
		memset(hdr, 0, sizeof(*hdr));
		*why = af == AF_INET ? "an address is not numeric IPv4" :
		    "an address is not numeric IPv6";
		return FTPS_EPARSE;
	}
	hdr->version = 1;
	return (int)(eol + 2);
}

/* The TLVs after the address block must tile it exactly. */
static int
v2_tlvs(const unsigned char *p, size_t n)
{
	size_t	 vlen;

	while (n > 0) {
		if (n < 3)
			return FTPS_EPARSE;
		vlen = ((size_t)p[1] << 8) | p[2];
		if (vlen > n - 3)
			return FTPS_EPARSE;
		p += 3 + vlen;
		n -= 3 + vlen;
	}
	return 0;
}

int
proxy_parse_v2(const unsigned char *buf, size_t len, struct proxy_hdr *hdr,
    const char **why)
{
	struct sockaddr_in	*s4, *d4;
	struct sockaddr_in6	*s6, *d6;
	const unsigned char	*a;
	size_t			 blen, alen;
	unsigned		 cmd, fam;

	memset(hdr, 0, sizeof(*hdr));
	*why = NULL;
	if (!prefix_of(buf, len, v2_sig, sizeof(v2_sig))) {
		*why = "not the v2 signature";
		return FTPS_EPARSE;
	}
	if (len < PROXY_V2_FIXED) {
		/* Check what is there of the version and command. */
		if (len > 12 && (buf[12] & 0xf0) != 0x20) {
			*why = "version is not 2";
			return FTPS_EPARSE;
		}
		return 0;
	}
	if ((buf[12] & 0xf0) != 0x20) {
		*why = "version is not 2";
		return FTPS_EPARSE;
	}
	cmd = buf[12] & 0x0f;
	fam = buf[13];
	blen = ((size_t)buf[14] << 8) | buf[15];
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY) {
		*why = "command is neither LOCAL nor PROXY";
		return FTPS_EPARSE;
	}
	if (blen > PROXY_V2_LEN_MAX) {
		*why = "address block and TLVs longer than 1024 bytes";
		return FTPS_ETOOBIG;
	}
	if (len < PROXY_V2_FIXED + blen)
		return 0;
	a = buf + PROXY_V2_FIXED;
	hdr->version = 2;
	/*
	 * proxy-protocol.txt 2.2: LOCAL is the balancer's own connection (a
	 * health check): the real endpoints count and the family byte is
	 * ignored.  PROXY with a family and protocol the spec defines but
	 * that name no TCP address (UNSPEC, UDP, UNIX) falls back to the
	 * same; undefined ones are refused.
	 */
	if (cmd == V2_CMD_LOCAL) {
		hdr->noaddr = 1;
		return (int)(PROXY_V2_FIXED + blen);
	}
	if ((fam >> 4) > V2_AF_UNIX || (fam & 0x0f) > V2_DGRAM) {
		hdr->version = 0;
		*why = "undefined address family or transport protocol";
		return FTPS_EPARSE;
	}
	if (fam == ((V2_AF_INET << 4) | V2_STREAM))
		alen = V2_INET_LEN;
	else if (fam == ((V2_AF_INET6 << 4) | V2_STREAM))
		alen = V2_INET6_LEN;
	else {
		hdr->noaddr = 1;
		return (int)(PROXY_V2_FIXED + blen);
	}
	if (blen < alen || v2_tlvs(a + alen, blen - alen) != 0) {
		hdr->version = 0;
		*why = blen < alen ? "address block too short" :
		    "TLVs do not fit the length";
		return FTPS_EPARSE;
	}
	if (alen == V2_INET_LEN) {
		s4 = (struct sockaddr_in *)&hdr->src;
		d4 = (struct sockaddr_in *)&hdr->dst;
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		memcpy(&d4->sin_addr, a + 4, 4);
		memcpy(&s4->sin_port, a + 8, 2);
		memcpy(&d4->sin_port, a + 10, 2);
	} else {
		s6 = (struct sockaddr_in6 *)&hdr->src;
		d6 = (struct sockaddr_in6 *)&hdr->dst;
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		memcpy(&d6->sin6_addr, a + 16, 16);
		memcpy(&s6->sin6_port, a + 32, 2);
		memcpy(&d6->sin6_port, a + 34, 2);
	}
	return (int)(PROXY_V2_FIXED + blen);
}

int
proxy_parse(const unsigned char *buf, size_t len, unsigned mask,
    struct proxy_hdr *hdr, const char **why)
{
	memset(hdr, 0, sizeof(*hdr));
	*why = NULL;
	if (len == 0)
		return 0;
	if (buf[0] == v1_sig[0]) {
		if (!(mask & PROXY_V1)) {
			*why = prefix_of(buf, len, v1_sig, V1_SIG_LEN) ?
			    "a v1 header, but only v2 is accepted" :
			    "not a PROXY header";
			return FTPS_EPARSE;
		}
		return proxy_parse_v1(buf, len, hdr, why);
	}
	if (buf[0] == v2_sig[0]) {
		if (!(mask & PROXY_V2)) {
			*why = prefix_of(buf, len, v2_sig, sizeof(v2_sig)) ?
			    "a v2 header, but only v1 is accepted" :
			    "not a PROXY header";
			return FTPS_EPARSE;
		}
		return proxy_parse_v2(buf, len, hdr, why);
	}
	*why = "not a PROXY header";
	return FTPS_EPARSE;
}
