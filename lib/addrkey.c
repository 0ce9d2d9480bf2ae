/* Client addresses as table keys (addrkey.h). */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addrkey.h"
#include "hash.h"

int
addr_key(const struct sockaddr_storage *ss, unsigned v6prefix,
    unsigned char key[ADDR_KEY_LEN])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	static const unsigned char	 mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	unsigned			 whole, bits;

	memset(key, 0, ADDR_KEY_LEN);
	if (ss->ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)ss;
		key[0] = 4;
		memcpy(key + 1, &sin->sin_addr, 4);
		return 0;
	}
	if (ss->ss_family != AF_INET6)
		return -1;
	sin6 = (const struct sockaddr_in6 *)ss;
	if (memcmp(sin6->sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
		key[0] = 4;
		memcpy(key + 1, sin6->sin6_addr.s6_addr + 12, 4);
		return 0;
	}
	if (v6prefix == 0 || v6prefix > 128)
		v6prefix = 128;
	whole = v6prefix / 8;
	bits = v6prefix % 8;
	key[0] = 6;
	memcpy(key + 1, sin6->sin6_addr.s6_addr, whole);
	if (bits != 0)
		key[1 + whole] = (unsigned char)
		    (sin6->sin6_addr.s6_addr[whole] & (0xff00u >> bits));
	return 0;
}

int
addr_parse(const char *text, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	socklen_t		 sl;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sl = sizeof(*sin);
	} else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*sin6);
	} else
		return -1;
	if (len != NULL)
		*len = sl;
	return 0;
}

const char *
addr_key_text(const unsigned char key[ADDR_KEY_LEN], unsigned v6prefix,
    char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN];

	if (key[0] == 4 && inet_ntop(AF_INET, key + 1, a, sizeof(a)) != NULL)
		snprintf(buf, len, "%s", a);
	else if (key[0] == 6 && inet_ntop(AF_INET6, key + 1, a,
	    sizeof(a)) != NULL)
		snprintf(buf, len, v6prefix > 0 && v6prefix < 128 ? "%s/%u" :
		    "%s", a, v6prefix);
	else
		snprintf(buf, len, "?");
	return buf;
}

uint64_t
addr_key_hash(const unsigned char seed[ADDR_SEED_LEN],
    const unsigned char key[ADDR_KEY_LEN])
{
	return hash_fnv1a(hash_fnv1a(HASH_FNV1A_INIT, seed, ADDR_SEED_LEN),
	    key, ADDR_KEY_LEN);
}
