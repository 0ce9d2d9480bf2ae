/*
 * CIDR ranges: parse, print, match.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "err.h"
#include "parse.h"

int
cidr_parse(const char *s, struct cidr *out, const char **why)
{
	char		 addr[INET6_ADDRSTRLEN];
	const char	*slash;
	unsigned long	 bits;
	size_t		 alen, i;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(addr)) {
		*why = "not a numeric IPv4 or IPv6 address";
		return FTPS_EPARSE;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		out->bits = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		out->bits = 128;
	} else {
		*why = "not a numeric IPv4 or IPv6 address";
		return FTPS_EPARSE;
	}
	if (slash != NULL) {
		if (parse_uint(slash + 1, 0, out->bits, &bits) != 0 ||
		    (slash[1] == '0' && slash[2] != '\0')) {
			*why = out->family == AF_INET ? "the prefix length "
			    "is not a number from 0 to 32" : "the prefix "
			    "length is not a number from 0 to 128";
			memset(out, 0, sizeof(*out));
			return FTPS_EPARSE;
		}
		out->bits = (unsigned)bits;
	}
	for (i = 0; i < 16; i++) {
		unsigned	 keep;
		unsigned char	 mask;

		keep = out->bits > i * 8 ? out->bits - (unsigned)i * 8 : 0;
		mask = keep >= 8 ? 0xff : (unsigned char)(0xff00u >> keep);
		if ((out->addr[i] & (unsigned char)~mask) != 0) {
			*why = "host bits are set beyond the prefix length";
			memset(out, 0, sizeof(*out));
			return FTPS_EPARSE;
		}
	}
	return 0;
}

int
cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char	 addr[INET6_ADDRSTRLEN];
	int	 n;

	if (len > 0)
		buf[0] = '\0';
	if ((c->family != AF_INET && c->family != AF_INET6) ||
	    inet_ntop(c->family, c->addr, addr, sizeof(addr)) == NULL)
		return FTPS_EPARSE;
	n = snprintf(buf, len, "%s/%u", addr, c->bits);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return FTPS_ETOOBIG;
	}
	return 0;
}

int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	static const unsigned char	 mapped[12] = { 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 0xff, 0xff };
	const unsigned char		*a;
	unsigned			 full, rest;

	if (sa->sa_family == AF_INET)
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
		if (c->family == AF_INET) {
			if (memcmp(a, mapped, sizeof(mapped)) != 0)
				return 0;
			a += sizeof(mapped);
		}
	} else
		return 0;
	if (sa->sa_family == AF_INET && c->family != AF_INET)
		return 0;
	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(a, c->addr, full) != 0)
		return 0;
	if (rest != 0 && ((a[full] ^ c->addr[full]) &
	    (unsigned char)(0xff00u >> rest)) != 0)
		return 0;
	return 1;
}
