/*
 * What fuzz_proxy_v1 and fuzz_proxy_v2 check alike (proxy_check.c):
 * - the result is a length within the input and the bound, 0 (only
 *   below the bound), FTPS_EPARSE or FTPS_ETOOBIG, and *why is set
 *   exactly on errors;
 * - a header found is found again in the input cut to its length, and
 *   every shorter prefix asks for more (0): a reader that feeds bytes as
 *   they come never refuses a good header nor reads past it;
 * - proxy_parse() with both versions agrees, with the other version
 *   alone refuses, and proxy_sniff() says "a header";
 * - a header with addresses written again by the target's writer parses
 *   back to the same addresses and ports.
 */
#ifndef FTPS_PROXY_CHECK_H
#define FTPS_PROXY_CHECK_H

#include <stddef.h>

#include "proxy.h"

typedef int	(*fp_parse_fn)(const unsigned char *, size_t,
		    struct proxy_hdr *, const char **);
/* Writes h as a header into out (room PROXY_HDR_MAX); its length. */
typedef size_t	(*fp_write_fn)(const struct proxy_hdr *, unsigned char *);

void	 fp_check(const unsigned char *, size_t, fp_parse_fn, unsigned version,
	    size_t bound, fp_write_fn);

#endif
