/* FNV-1a, for the server's in-memory hash tables. */
#ifndef FTPS_HASH_H
#define FTPS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_INIT	14695981039346656037ULL

/*
 * Folds n bytes at p into h (start with HASH_FNV1A_INIT).  Not keyed:
 * a table fed by clients first folds in a random seed of its own.
 */
uint64_t	 hash_fnv1a(uint64_t h, const void *p, size_t n);

#endif
