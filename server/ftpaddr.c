/*
 * The address text of PORT, EPRT and the PASV reply.  Parsing is strict:
 * a client that sends anything but the exact forms of RFC 959 4.1.2 and
 * RFC 2428 2 gets a 501, never a guess.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "ftpaddr.h"
#include "parse.h"

/*
 * One decimal number of PORT: 1 to 3 digits, nothing else (no sign, no
 * blank), at most 255.  Returns the position after it, or NULL.
 */
static const char *
fa_byte(const char *p, unsigned int *out)
{
	unsigned int	 v = 0;
	int		 n;

	for (n = 0; n < 3 && p[n] >= '0' && p[n] <= '9'; n++)
		v = v * 10 + (unsigned int)(p[n] - '0');
	if (n == 0 || (p[n] >= '0' && p[n] <= '9') || v > 255)
		return NULL;
	*out = v;
	return p + n;
}

int
fa_parse_port(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	unsigned char		 b[6];
	unsigned int		 v;
	const char		*p = s;
	int			 i;

	memset(ss, 0, sizeof(*ss));
	/* "h1,h2,h3,h4,p1,p2": six numbers, exactly five commas. */
	for (i = 0; i < 6; i++) {
		if ((p = fa_byte(p, &v)) == NULL)
			return FTPS_EPARSE;
		b[i] = (unsigned char)v;
		if (i < 5 && *p++ != ',')
			return FTPS_EPARSE;
	}
	if (*p != '\0')
		return FTPS_EPARSE;
	if (b[4] == 0 && b[5] == 0)
		return FTPS_EPARSE;
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, b, 4);
	sin->sin_port = htons((unsigned short)(b[4] << 8 | b[5]));
	return 0;
}

/*
 * Copies the field of s that ends at the next delimiter d into dst;
 * returns the position after that delimiter, or NULL when there is none
 * or the field does not fit.
 */
static const char *
fa_field(const char *s, char d, char *dst, size_t dstsize)
{
	const char	*e;

	if ((e = strchr(s, d)) == NULL || (size_t)(e - s) >= dstsize)
		return NULL;
	memcpy(dst, s, (size_t)(e - s));
	dst[e - s] = '\0';
	return e + 1;
}

int
fa_parse_eprt(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 proto[8], addr[INET6_ADDRSTRLEN], port[8];
	unsigned long		 af, pn;
	const char		*p;
	char			 d;

	memset(ss, 0, sizeof(*ss));
	/* RFC 2428 2: "<d><net-prt><d><net-addr><d><tcp-port><d>". */
	d = s[0];
	if (d < 33 || d > 126)
		return FTPS_EPARSE;
	if ((p = fa_field(s + 1, d, proto, sizeof(proto))) == NULL ||
	    (p = fa_field(p, d, addr, sizeof(addr))) == NULL ||
	    (p = fa_field(p, d, port, sizeof(port))) == NULL || *p != '\0')
		return FTPS_EPARSE;
	if (parse_uint(proto, 0, 65535, &af) != 0 ||
	    parse_uint(port, 1, 65535, &pn) != 0)
		return FTPS_EPARSE;
	switch (af) {
	case 1:
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			return FTPS_EPARSE;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)pn);
		return 0;
	case 2:
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			return FTPS_EPARSE;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)pn);
		return 0;
	default:
		/* RFC 2428 2: 522 and the protocols we do support. */
		return FTPS_EDENIED;
	}
}

/*
 * The IPv4 address of ss in a, when it is IPv4 or IPv4-mapped IPv6
 * (a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d).
 */
static int
fa_v4(const struct sockaddr_storage *ss, struct in_addr *a)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 =
					    (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		*a = sin->sin_addr;
		return 1;
	}
	if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(a, &sin6->sin6_addr.s6_addr[12], 4);
		return 1;
	}
	return 0;
}

unsigned int
fa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

int
fa_format_pasv(const struct sockaddr_storage *ss, char *dst, size_t len)
{
	struct in_addr	 a;
	unsigned char	 b[4];
	unsigned int	 port = fa_port(ss);
	int		 n;

	if (len > 0)
		dst[0] = '\0';
	/* RFC 959 PASV carries IPv4 only; IPv6 clients use EPSV. */
	if (!fa_v4(ss, &a))
		return FTPS_EDENIED;
	memcpy(b, &a, 4);
	n = snprintf(dst, len, "%u,%u,%u,%u,%u,%u", b[0], b[1], b[2], b[3],
	    port >> 8, port & 0xff);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			dst[0] = '\0';
		return FTPS_ETOOBIG;
	}
	return 0;
}

int
fa_same_host(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6	*b6 = (const struct sockaddr_in6 *)b;
	struct in_addr			 a4, b4;
	int				 av4, bv4;

	av4 = fa_v4(a, &a4);
	bv4 = fa_v4(b, &b4);
	if (av4 || bv4)
		return av4 && bv4 && a4.s_addr == b4.s_addr;
	if (a->ss_family != AF_INET6 || b->ss_family != AF_INET6)
		return 0;
	return memcmp(&a6->sin6_addr, &b6->sin6_addr,
	    sizeof(a6->sin6_addr)) == 0;
}

int
fa_check_active(const struct sockaddr_storage *ctrl_peer,
    const struct sockaddr_storage *target)
{
	/*
	 * SECURITY: FTP bounce (RFC 2577 3): PORT aimed at a third host
	 * makes this server scan it or send it data the client chose; and
	 * as 3 recommends, no connection to a privileged port (below 1024),
	 * where a trusted service could take that data for a command.
	 */
	if (!fa_same_host(ctrl_peer, target))
		return FTPS_EDENIED;
	if (fa_port(target) < 1024)
		return FTPS_EDENIED;
	return 0;
}

int
fa_ntop(const struct sockaddr_storage *ss, char *dst, size_t len)
{
	const struct sockaddr_in6	*sin6 =
					    (const struct sockaddr_in6 *)ss;
	struct in_addr			 a;
	char				 tmp[INET6_ADDRSTRLEN];

	if (len > 0)
		dst[0] = '\0';
	if (fa_v4(ss, &a)) {
		if (inet_ntop(AF_INET, &a, tmp, sizeof(tmp)) == NULL)
			return FTPS_EPARSE;
	} else if (ss->ss_family == AF_INET6) {
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, tmp,
		    sizeof(tmp)) == NULL)
			return FTPS_EPARSE;
	} else
		return FTPS_EPARSE;
	return str_copy(dst, len, tmp);
}
