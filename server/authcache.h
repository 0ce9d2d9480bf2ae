/*
 * The verified-login cache (opt-in: login_cache_seconds, docs/users.md).
 *
 * After a full crypt(3) check succeeds, the cache keeps for that user an
 * HMAC-SHA256, under a random per-process key, of the user name, the
 * stored hash string and the password (never the password itself), with
 * an expiry.  The next login of that user with the same password and the
 * same stored hash matches the HMAC in constant time and skips the crypt.
 * Anything else (no entry, expired, another password, a changed hash) is
 * a miss: the caller then runs the full check, so a wrong password always
 * costs a full hash.
 *
 * Entries are keyed by an HMAC of the name, so the cache holds no name,
 * password or hash in clear.  At most max entries; the least recently
 * used one goes first.  Loop thread only: no locking.
 */
#ifndef FTPS_AUTHCACHE_H
#define FTPS_AUTHCACHE_H

#include <stddef.h>
#include <time.h>

#define AUTH_CACHE_MAX		4096	/* entries when the caller says 0 */
#define AUTH_CACHE_MAC_LEN	32	/* HMAC-SHA256 */

struct auth_cache;

/* What a lookup computed, kept by a miss for the insert after the crypt. */
struct auth_cache_tag {
	unsigned char	 user[AUTH_CACHE_MAC_LEN];	/* of the name */
	unsigned char	 hash[AUTH_CACHE_MAC_LEN];	/* of the hash */
	unsigned char	 pass[AUTH_CACHE_MAC_LEN];	/* of all three */
};

/*
 * A cache of at most max entries (0: AUTH_CACHE_MAX; at most
 * FTPS_USERS_MAX) with a fresh random key.  0, FTPS_ENOMEM or FTPS_ETLS (no randomness or no HMAC).
 */
int		 auth_cache_new(size_t max, struct auth_cache **);
/* Wipes the key and every entry.  NULL is ignored. */
void		 auth_cache_free(struct auth_cache *);
/* Drops (and wipes) every entry; the key stays. */
void		 auth_cache_flush(struct auth_cache *);
size_t		 auth_cache_count(const struct auth_cache *);

/*
 * Computes *tag for name, hash and password and looks the user up as of
 * now (any monotonic clock, in the unit of the expiries given to
 * auth_cache_insert).  1: a live entry with the same hash and password
 * (it becomes the most recently used); 0: a miss (an expired entry, or
 * one whose stored hash differs, is dropped);
 * FTPS_ETLS: the HMAC failed (treat as a miss; *tag is then unusable).
 */
int		 auth_cache_lookup(struct auth_cache *, const char *name,
		    const char *hash, const char *password, time_t now,
		    struct auth_cache_tag *tag);
/*
 * Remembers tag (from a lookup on this cache whose full check then
 * succeeded) until expires, replacing the user's entry if any; the least
 * recently used entry is dropped when the cache is full.
 * 0 or FTPS_ENOMEM.
 */
int		 auth_cache_insert(struct auth_cache *,
		    const struct auth_cache_tag *, time_t expires);

#endif
