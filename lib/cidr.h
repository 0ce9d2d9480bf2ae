/*
 * Address ranges in CIDR notation ("10.0.0.0/8", "fd00::/8", or one
 * address, a /32 or /128), for proxy_trusted.  Pure functions: no
 * allocation, no global state.
 */
#ifndef FTPS_CIDR_H
#define FTPS_CIDR_H

#include <sys/socket.h>
#include <stddef.h>

#define CIDR_TEXT_MAX	(46 + 4)	/* INET6_ADDRSTRLEN + "/128" */

struct cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network byte order; host bits 0 */
	unsigned	 bits;		/* prefix length */
};

/*
 * "ADDR" or "ADDR/BITS", numeric only, no blanks.  A prefix with host
 * bits set ("10.1.2.3/8") is refused: it is more likely a typo than a
 * range.  0, or FTPS_EPARSE with *why a static reason; *out is zeroed
 * on entry.
 */
int	 cidr_parse(const char *, struct cidr *out, const char **why);
/* Canonical text ("10.0.0.0/8", "fd00::/8"); 0 or FTPS_ETOOBIG. */
int	 cidr_format(const struct cidr *, char *buf, size_t len);
/*
 * 1 when the address lies in the range.  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, a dual-stack socket's IPv4 peer) matches IPv4 ranges.
 */
int	 cidr_match(const struct cidr *, const struct sockaddr *);

#endif
