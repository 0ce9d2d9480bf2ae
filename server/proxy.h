/*
 * The PROXY protocol (HAProxy's "proxy-protocol.txt", versions 1 and 2):
 * the header a TCP load balancer sends before the client's first byte,
 * carrying the client's address.  Pure functions over a byte buffer: no
 * I/O, no allocation, bounded input.  server/proxyconn.c reads headers
 * off sockets with them.
 */
#ifndef FTPS_PROXY_H
#define FTPS_PROXY_H

#include <sys/socket.h>
#include <stddef.h>

#define PROXY_V1		0x01	/* versions, as a mask */
#define PROXY_V2		0x02
#define PROXY_V1_MAX		107	/* the spec's bound, CRLF included */
#define PROXY_V2_FIXED		16	/* signature, command, family, length */
#define PROXY_V2_LEN_MAX	1024	/* address block + TLVs we accept */
#define PROXY_HDR_MAX		(PROXY_V2_FIXED + PROXY_V2_LEN_MAX)
#define PROXY_SNIFF_LEN		12	/* bytes that tell a header apart */

struct proxy_hdr {
	int			 version;	/* 1 or 2 */
	int			 noaddr;	/* no client address: the
						 * connection's real endpoints
						 * count (v2 LOCAL, v2 PROXY
						 * without a TCP address, v1
						 * UNKNOWN) */
	struct sockaddr_storage	 src;		/* the client */
	struct sockaddr_storage	 dst;		/* what it connected to */
};

/*
 * Each parses a header at the start of buf (len bytes received so far)
 * and returns:
 *   > 0		its length: a complete, valid header; *hdr filled in
 *   0			valid so far, incomplete: read more (never more
 *			than the returned length of a later call)
 *   FTPS_EPARSE	malformed; *why says how (static text)
 *   FTPS_ETOOBIG	longer than the bound (v1 107 bytes,
 *			v2 PROXY_HDR_MAX)
 * *hdr is zeroed on entry.  proxy_parse accepts the versions in mask
 * (PROXY_V1 | PROXY_V2); a header of another version is FTPS_EPARSE.
 */
int	 proxy_parse_v1(const unsigned char *buf, size_t len,
	    struct proxy_hdr *hdr, const char **why);
int	 proxy_parse_v2(const unsigned char *buf, size_t len,
	    struct proxy_hdr *hdr, const char **why);
int	 proxy_parse(const unsigned char *buf, size_t len, unsigned mask,
	    struct proxy_hdr *hdr, const char **why);
/*
 * Whether buf begins like a PROXY header of either version: 1 yes, 0 no,
 * -1 cannot tell yet (buf is "\r" or a proper prefix of "PROXY ").  A
 * proper prefix of the v2 signature that holds its first CRLF is 0: an
 * FTP client's blank line, which waits for its reply.  Decided by
 * PROXY_SNIFF_LEN bytes at most.
 */
int	 proxy_sniff(const unsigned char *buf, size_t len);

#endif
