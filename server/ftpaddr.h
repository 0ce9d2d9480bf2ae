/*
 * Address text of the data-channel commands: PORT/PASV (RFC 959 4.1.2),
 * EPRT/EPSV (RFC 2428), and the anti-bounce policy of RFC 2577.
 */
#ifndef FTPS_FTPADDR_H
#define FTPS_FTPADDR_H

#include <sys/socket.h>
#include <stddef.h>

/*
 * "h1,h2,h3,h4,p1,p2" -> IPv4 address and port: six numbers 0..255 of
 * 1-3 digits, exactly five commas, no blanks or signs, port not 0.
 * 0 or FTPS_EPARSE.
 */
int	 fa_parse_port(const char *, struct sockaddr_storage *);
/*
 * "<d>proto<d>addr<d>port<d>" with any delimiter 33..126; proto 1 or 2,
 * the address as inet_pton(3) reads it (no zone id), port 1..65535.
 * 0, FTPS_EPARSE, or FTPS_EDENIED for an unsupported protocol number
 * (reply 522 "(1,2)").
 */
int	 fa_parse_eprt(const char *, struct sockaddr_storage *);
/*
 * "h1,h2,h3,h4,p1,p2" (no parentheses) for a 227 reply.  0, FTPS_EDENIED
 * for an address that is not IPv4 or IPv4-mapped (use EPSV), or
 * FTPS_ETOOBIG when it does not fit.
 */
int	 fa_format_pasv(const struct sockaddr_storage *, char *, size_t);
/*
 * 1 when both name the same host, comparing IPv4-mapped IPv6 with IPv4 as
 * equal (ports and IPv6 scope ids are ignored), else 0.
 */
int	 fa_same_host(const struct sockaddr_storage *,
	    const struct sockaddr_storage *);
/*
 * SECURITY: bounce and port theft (RFC 2577): an active-mode target must
 * be the control peer's own address and a port >= 1024.  0 or
 * FTPS_EDENIED.
 */
int	 fa_check_active(const struct sockaddr_storage *ctrl_peer,
	    const struct sockaddr_storage *target);
/*
 * Numeric text of an address, without the port; IPv4-mapped IPv6 is
 * written as plain IPv4, so one client has one spelling.  At most
 * INET6_ADDRSTRLEN bytes.  0, FTPS_EPARSE (unknown family) or
 * FTPS_ETOOBIG.
 */
int	 fa_ntop(const struct sockaddr_storage *, char *, size_t);
/* The port of an AF_INET or AF_INET6 address in host order, else 0. */
unsigned int	 fa_port(const struct sockaddr_storage *);

#endif
