/* The invariants both PROXY header targets check (proxy_check.h). */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "proxy_check.h"

static void
fp_same_addr(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4 = (const void *)a;
	const struct sockaddr_in	*b4 = (const void *)b;
	const struct sockaddr_in6	*a6 = (const void *)a;
	const struct sockaddr_in6	*b6 = (const void *)b;

	FUZZ_CHECK(a->ss_family == b->ss_family);
	FUZZ_CHECK(a->ss_family == AF_INET || a->ss_family == AF_INET6);
	if (a->ss_family == AF_INET)
		FUZZ_CHECK(a4->sin_addr.s_addr == b4->sin_addr.s_addr &&
		    a4->sin_port == b4->sin_port);
	else
		FUZZ_CHECK(memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0 &&
		    a6->sin6_port == b6->sin6_port);
}

void
fp_check(const unsigned char *buf, size_t len, fp_parse_fn parse,
    unsigned version, size_t bound, fp_write_fn writer)
{
	static unsigned char	 again[PROXY_HDR_MAX];
	struct proxy_hdr	 h, h2;
	const char		*why, *why2;
	unsigned		 mine = version == 1 ? PROXY_V1 : PROXY_V2;
	unsigned		 other = version == 1 ? PROXY_V2 : PROXY_V1;
	size_t			 i, n;
	int			 r, r2;

	r = parse(buf, len, &h, &why);
	FUZZ_CHECK(r == 0 || r == FTPS_EPARSE || r == FTPS_ETOOBIG ||
	    (r > 0 && (size_t)r <= len && (size_t)r <= bound));
	FUZZ_CHECK((r < 0) == (why != NULL));
	if (r == 0)
		FUZZ_CHECK(len < bound);
	/* The dispatcher picks the version by the first byte. */
	if (len > 0 && buf[0] == (version == 1 ? 'P' : '\r')) {
		FUZZ_CHECK(proxy_parse(buf, len, PROXY_V1 | PROXY_V2, &h2,
		    &why2) == r);
		FUZZ_CHECK(proxy_parse(buf, len, mine, &h2, &why2) == r);
	} else if (len > 0)
		FUZZ_CHECK(proxy_parse(buf, len, mine, &h2, &why2) ==
		    FTPS_EPARSE);
	if (r <= 0)
		return;
	FUZZ_CHECK(h.version == (int)version);
	FUZZ_CHECK(proxy_sniff(buf, len) == 1);
	FUZZ_CHECK(proxy_parse(buf, len, other, &h2, &why2) == FTPS_EPARSE);
	FUZZ_CHECK(parse(buf, (size_t)r, &h2, &why2) == r);
	for (i = 0; i < (size_t)r; i++)
		FUZZ_CHECK(parse(buf, i, &h2, &why2) == 0);
	if (h.noaddr)
		return;
	FUZZ_CHECK(h.src.ss_family == AF_INET || h.src.ss_family == AF_INET6);
	n = writer(&h, again);
	FUZZ_CHECK(n > 0 && n <= bound);
	FUZZ_CHECK(parse(again, n, &h2, &why2) == (int)n);
	FUZZ_CHECK(!h2.noaddr);
	fp_same_addr(&h.src, &h2.src);
	fp_same_addr(&h.dst, &h2.dst);
}
