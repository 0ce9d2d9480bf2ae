/* FNV-1a (hash.h). */
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define HASH_FNV1A_PRIME	1099511628211ULL

uint64_t
hash_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * HASH_FNV1A_PRIME;
	return h;
}
