/*
 * The verified-login cache (authcache.h): a bounded LRU of HMAC tags in a
 * chained hash table, keyed by the HMAC of the user name.
 *
 * SECURITY: what a memory disclosure of the process yields: the key and,
 * per recently logged-in user, HMAC-SHA256(key, name || hash || password).
 * That allows an offline guess of those passwords at the speed of HMAC
 * instead of crypt(3): the reason the cache is off by default and its
 * entries expire (docs/users.md).  Nothing in clear is kept.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "authcache.h"
#include "err.h"
#include "ftps_limits.h"

#define AC_KEY_LEN	32

/* Domain separation: one label byte per kind of tag. */
#define AC_LABEL_USER	'u'
#define AC_LABEL_HASH	'h'
#define AC_LABEL_PASS	'p'

struct ac_entry {
	LIST_ENTRY(ac_entry)	 bucket;
	TAILQ_ENTRY(ac_entry)	 lru;		/* head: most recent */
	struct auth_cache_tag	 tag;
	time_t			 expires;
};
LIST_HEAD(ac_bucket, ac_entry);
TAILQ_HEAD(ac_lru, ac_entry);

struct auth_cache {
	EVP_MAC_CTX	*tmpl;		/* keyed HMAC-SHA256, duplicated */
	struct ac_bucket *buckets;
	size_t		 nbuckets;	/* a power of two */
	size_t		 count;
	size_t		 max;
	struct ac_lru	 lru;
};

static void
ac_entry_free(struct auth_cache *c, struct ac_entry *e)
{
	LIST_REMOVE(e, bucket);
	TAILQ_REMOVE(&c->lru, e, lru);
	c->count--;
	OPENSSL_clear_free(e, sizeof(*e));
}

int
auth_cache_new(size_t max, struct auth_cache **out)
{
	struct auth_cache	*c;
	EVP_MAC			*mac = NULL;
	OSSL_PARAM		 params[2];
	unsigned char		 key[AC_KEY_LEN];
	char			 digest[] = "SHA256";
	size_t			 i;
	int			 r = FTPS_ETLS;

	*out = NULL;
	if (max == 0)
		max = AUTH_CACHE_MAX;
	/* Never more entries than there can be users. */
	if (max > FTPS_USERS_MAX)
		max = FTPS_USERS_MAX;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return FTPS_ENOMEM;
	TAILQ_INIT(&c->lru);
	c->max = max;
	for (c->nbuckets = 16; c->nbuckets < max; c->nbuckets *= 2)
		;
	if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL) {
		r = FTPS_ENOMEM;
		goto out;
	}
	for (i = 0; i < c->nbuckets; i++)
		LIST_INIT(&c->buckets[i]);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (RAND_priv_bytes(key, sizeof(key)) != 1 ||
	    (mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (c->tmpl = EVP_MAC_CTX_new(mac)) == NULL ||
	    !EVP_MAC_init(c->tmpl, key, sizeof(key), params))
		goto out;
	r = 0;
 out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_MAC_free(mac);
	if (r != 0)
		auth_cache_free(c);
	else
		*out = c;
	return r;
}

void
auth_cache_flush(struct auth_cache *c)
{
	struct ac_entry	*e;

	if (c == NULL)
		return;
	while ((e = TAILQ_FIRST(&c->lru)) != NULL)
		ac_entry_free(c, e);
}

void
auth_cache_free(struct auth_cache *c)
{
	if (c == NULL)
		return;
	auth_cache_flush(c);
	free(c->buckets);
	/* Frees the HMAC state, which holds the key, cleansed. */
	EVP_MAC_CTX_free(c->tmpl);
	OPENSSL_clear_free(c, sizeof(*c));
}

size_t
auth_cache_count(const struct auth_cache *c)
{
	return c != NULL ? c->count : 0;
}

/* Length-prefixed, so ("ab", "c") and ("a", "bc") differ. */
static int
ac_mac_add(EVP_MAC_CTX *m, const char *s)
{
	unsigned char	 len[4];
	size_t		 n = strlen(s);

	len[0] = (unsigned char)(n >> 24);
	len[1] = (unsigned char)(n >> 16);
	len[2] = (unsigned char)(n >> 8);
	len[3] = (unsigned char)n;
	return EVP_MAC_update(m, len, sizeof(len)) &&
	    EVP_MAC_update(m, (const unsigned char *)s, n);
}

/* HMAC(key, label || fields...) into out; a, b, p may be NULL (absent). */
static int
ac_mac(struct auth_cache *c, unsigned char label, const char *a,
    const char *b, const char *p, unsigned char out[AUTH_CACHE_MAC_LEN])
{
	EVP_MAC_CTX	*m;
	size_t		 n = 0;
	int		 ok;

	if ((m = EVP_MAC_CTX_dup(c->tmpl)) == NULL)
		return FTPS_ETLS;
	ok = EVP_MAC_update(m, &label, 1) &&
	    (a == NULL || ac_mac_add(m, a)) &&
	    (b == NULL || ac_mac_add(m, b)) &&
	    (p == NULL || ac_mac_add(m, p)) &&
	    EVP_MAC_final(m, out, &n, AUTH_CACHE_MAC_LEN) &&
	    n == AUTH_CACHE_MAC_LEN;
	EVP_MAC_CTX_free(m);
	return ok ? 0 : FTPS_ETLS;
}

static struct ac_bucket *
ac_bucket_of(struct auth_cache *c, const unsigned char *user)
{
	uint64_t	 h;

	/* A keyed MAC: clients cannot aim at one bucket. */
	memcpy(&h, user, sizeof(h));
	return &c->buckets[h & (c->nbuckets - 1)];
}

static struct ac_entry *
ac_find(struct auth_cache *c, const unsigned char *user)
{
	struct ac_entry	*e;

	LIST_FOREACH(e, ac_bucket_of(c, user), bucket)
		if (memcmp(e->tag.user, user, AUTH_CACHE_MAC_LEN) == 0)
			return e;
	return NULL;
}

int
auth_cache_lookup(struct auth_cache *c, const char *name, const char *hash,
    const char *password, time_t now, struct auth_cache_tag *tag)
{
	struct ac_entry	*e;

	/*
	 * All three tags every time, hit or miss, so a lookup costs the
	 * same whether the user has an entry or not.
	 */
	if (ac_mac(c, AC_LABEL_USER, name, NULL, NULL, tag->user) != 0 ||
	    ac_mac(c, AC_LABEL_HASH, hash, NULL, NULL, tag->hash) != 0 ||
	    ac_mac(c, AC_LABEL_PASS, name, hash, password, tag->pass) != 0) {
		OPENSSL_cleanse(tag, sizeof(*tag));
		return FTPS_ETLS;
	}
	if ((e = ac_find(c, tag->user)) == NULL)
		return 0;
	/* An expired entry, or one for an older hash, is of no more use. */
	if (now >= e->expires || CRYPTO_memcmp(e->tag.hash, tag->hash,
	    AUTH_CACHE_MAC_LEN) != 0) {
		ac_entry_free(c, e);
		return 0;
	}
	/* SECURITY: constant time: no early exit leaks a tag prefix. */
	if (CRYPTO_memcmp(e->tag.pass, tag->pass, AUTH_CACHE_MAC_LEN) != 0)
		return 0;
	TAILQ_REMOVE(&c->lru, e, lru);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	return 1;
}

int
auth_cache_insert(struct auth_cache *c, const struct auth_cache_tag *tag,
    time_t expires)
{
	struct ac_entry	*e;

	if ((e = ac_find(c, tag->user)) != NULL)
		ac_entry_free(c, e);
	else if (c->count >= c->max)
		ac_entry_free(c, TAILQ_LAST(&c->lru, ac_lru));
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return FTPS_ENOMEM;
	e->tag = *tag;
	e->expires = expires;
	LIST_INSERT_HEAD(ac_bucket_of(c, tag->user), e, bucket);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->count++;
	return 0;
}
