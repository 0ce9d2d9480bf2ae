/*
 * A client address as the key of the server's per-address tables: the
 * per-IP session counts (max_clients_per_ip, shm.c for one process or
 * many), the failed-login bans (ban.c) and the password pool's flows.
 * One grouping for all of them: an IPv4 address (and an IPv4-mapped
 * IPv6 one, ::ffff:a.b.c.d, as a dual-stack socket shows IPv4 clients)
 * counts whole; an IPv6 address counts by its first ipv6_prefix bits
 * (default /64, the block one subscriber usually holds).
 */
#ifndef FTPS_ADDRKEY_H
#define FTPS_ADDRKEY_H

#include <sys/socket.h>

#include <stdint.h>

#define ADDR_KEY_LEN	17	/* family byte + up to 16 address bytes */
#define ADDR_SEED_LEN	16	/* random bytes of one table's hash */

/*
 * The address's group as ADDR_KEY_LEN bytes (compare them with memcmp):
 * 4 and the IPv4 address, or 6 and the IPv6 address cut to its first
 * v6prefix bits (1..128; 0, or more than 128, is 128), zero-filled.  0, or
 * -1 for a family that is never counted (key zeroed).
 */
int		 addr_key(const struct sockaddr_storage *, unsigned v6prefix,
		    unsigned char key[ADDR_KEY_LEN]);
/*
 * A numeric IPv4 or IPv6 address and a port as a socket address, with
 * its length in *len (may be NULL).  0, or -1 when text is neither.
 */
int		 addr_parse(const char *text, unsigned port,
		    struct sockaddr_storage *, socklen_t *len);
/*
 * A key as text into buf: "192.0.2.7", or "2001:db8::/64" for an IPv6
 * group of v6prefix bits (128: the address alone).  Returns buf.
 */
const char	*addr_key_text(const unsigned char key[ADDR_KEY_LEN],
		    unsigned v6prefix, char *buf, size_t len);
/*
 * The one hash of a key, for every table of them: FNV-1a over the
 * table's seed, then the key.  SECURITY: clients choose their IPv6
 * addresses; a random seed per table keeps them from aiming at one
 * bucket.
 */
uint64_t	 addr_key_hash(const unsigned char seed[ADDR_SEED_LEN],
		    const unsigned char key[ADDR_KEY_LEN]);

#endif
