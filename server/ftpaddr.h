/*
 * Address text of the data-channel commands: PORT/PASV (RFC 959 4.1.2),
 * EPRT/EPSV (RFC 2428), and the anti-bounce policy of RFC 2577.
 */
#ifndef FTPS_FTPADDR_H
#define FTPS_FTPADDR_H

#include <sys/socket.h>
#include <stddef.h>

/* "h1,h2,h3,h4,p1,p2" -> IPv4 address and port.  0 or FTPS_EPARSE. */
int	 fa_parse_port(const char *, struct sockaddr_storage *);
/*
 * "<d>proto<d>addr<d>port<d>" with any delimiter 33..126; proto 1 or 2.
 * 0, FTPS_EPARSE, or FTPS_EDENIED for an unsupported protocol (522).
 */
int	 fa_parse_eprt(const char *, struct sockaddr_storage *);
/* "h1,h2,h3,h4,p1,p2" for a 227 reply; an IPv4(-mapped) address only. */
int	 fa_format_pasv(const struct sockaddr_storage *, char *, size_t);
/* Same host, comparing IPv4-mapped IPv6 with IPv4 as equal. */
int	 fa_same_host(const struct sockaddr_storage *,
	    const struct sockaddr_storage *);
/*
 * SECURITY: bounce and port theft (RFC 2577): an active-mode target must
 * be the control peer's own address and a port >= 1024.  0 or
 * FTPS_EDENIED.
 */
int	 fa_check_active(const struct sockaddr_storage *ctrl_peer,
	    const struct sockaddr_storage *target);
/* Numeric text of an address, without the port. */
int	 fa_ntop(const struct sockaddr_storage *, char *, size_t);

#endif
