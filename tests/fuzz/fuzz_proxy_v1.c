/*
 * fuzz_proxy_v1: PROXY protocol v1 text headers (proxy_parse_v1,
 * server/proxy.c), the input as the first bytes of a connection.
 * Invariants: proxy_check.h, and a header is at most 107 bytes, ends in
 * its first CRLF and holds no other CR or LF.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "proxy_check.h"

static size_t
v1_write(const struct proxy_hdr *h, unsigned char *out)
{
	char		 s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	const void	*sa, *da;
	unsigned	 sp, dp;
	int		 af = h->src.ss_family, n;

	if (af == AF_INET) {
		sa = &((const struct sockaddr_in *)&h->src)->sin_addr;
		da = &((const struct sockaddr_in *)&h->dst)->sin_addr;
		sp = ntohs(((const struct sockaddr_in *)&h->src)->sin_port);
		dp = ntohs(((const struct sockaddr_in *)&h->dst)->sin_port);
	} else {
		sa = &((const struct sockaddr_in6 *)&h->src)->sin6_addr;
		da = &((const struct sockaddr_in6 *)&h->dst)->sin6_addr;
		sp = ntohs(((const struct sockaddr_in6 *)&h->src)->sin6_port);
		dp = ntohs(((const struct sockaddr_in6 *)&h->dst)->sin6_port);
	}
	FUZZ_CHECK(inet_ntop(af, sa, s, sizeof(s)) != NULL &&
	    inet_ntop(af, da, d, sizeof(d)) != NULL);
	n = snprintf((char *)out, PROXY_HDR_MAX, "PROXY %s %s %s %u %u\r\n",
	    af == AF_INET ? "TCP4" : "TCP6", s, d, sp, dp);
	FUZZ_CHECK(n > 0 && n <= PROXY_V1_MAX);
	return (size_t)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr	 h;
	const char		*why;
	int			 r;

	fp_check(data, size, proxy_parse_v1, 1, PROXY_V1_MAX, v1_write);
	r = proxy_parse_v1(data, size, &h, &why);
	if (r > 0) {
		FUZZ_CHECK(data[r - 2] == '\r' && data[r - 1] == '\n');
		FUZZ_CHECK(memchr(data, '\n', (size_t)r - 1) == NULL);
		FUZZ_CHECK(memchr(data, '\r', (size_t)r - 2) == NULL);
	}
	return 0;
}
