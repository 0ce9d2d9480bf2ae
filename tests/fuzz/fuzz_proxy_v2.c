/*
 * fuzz_proxy_v2: PROXY protocol v2 binary headers (proxy_parse_v2,
 * server/proxy.c).  The input follows the 12-byte signature (so every
 * run explores the command, family, length, addresses and TLVs), and
 * also goes through alone.  Invariants: proxy_check.h, and a header's
 * length is 16 plus its length field, which is at most PROXY_V2_LEN_MAX.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include "fuzz.h"
#include "proxy_check.h"

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static size_t
v2_write(const struct proxy_hdr *h, unsigned char *out)
{
	const struct sockaddr_in	*s4 = (const void *)&h->src;
	const struct sockaddr_in	*d4 = (const void *)&h->dst;
	const struct sockaddr_in6	*s6 = (const void *)&h->src;
	const struct sockaddr_in6	*d6 = (const void *)&h->dst;
	unsigned char			*p = out + 16;

	memcpy(out, sig, sizeof(sig));
	out[12] = 0x21;
	if (h->src.ss_family == AF_INET) {
		out[13] = 0x11;
		memcpy(p, &s4->sin_addr, 4);
		memcpy(p + 4, &d4->sin_addr, 4);
		memcpy(p + 8, &s4->sin_port, 2);
		memcpy(p + 10, &d4->sin_port, 2);
		p += 12;
	} else {
		out[13] = 0x21;
		memcpy(p, &s6->sin6_addr, 16);
		memcpy(p + 16, &d6->sin6_addr, 16);
		memcpy(p + 32, &s6->sin6_port, 2);
		memcpy(p + 34, &d6->sin6_port, 2);
		p += 36;
	}
	out[14] = 0;
	out[15] = (unsigned char)(p - out - 16);
	return (size_t)(p - out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char	 buf[sizeof(sig) + 4096];
	struct proxy_hdr	 h;
	const char		*why;
	size_t			 len;
	int			 r;

	if (size > sizeof(buf) - sizeof(sig))
		size = sizeof(buf) - sizeof(sig);
	memcpy(buf, sig, sizeof(sig));
	memcpy(buf + sizeof(sig), data, size);
	len = sizeof(sig) + size;
	fp_check(buf, len, proxy_parse_v2, 2, PROXY_HDR_MAX, v2_write);
	r = proxy_parse_v2(buf, len, &h, &why);
	if (r > 0)
		FUZZ_CHECK((size_t)r == 16 + ((size_t)buf[14] << 8 | buf[15]) &&
		    (size_t)r - 16 <= PROXY_V2_LEN_MAX);
	fp_check(data, size, proxy_parse_v2, 2, PROXY_HDR_MAX, v2_write);
	return 0;
}
