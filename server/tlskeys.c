/*
 * Session-ticket keys that rotate (tlskeys.h).  The keys hang off the
 * SSL_CTX as ex_data and are wiped and freed with it.
 *
 * SECURITY: forward secrecy of resumed sessions: a ticket holds the
 * session's master secret sealed with the ticket key, so a key that
 * never changes would let one memory disclosure decrypt every ticket
 * ever issued.  Keys here live at most TK_ROTATE + FTPS_TICKET_LIFETIME.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "err.h"
#include "ftpsd.h"
#include "tlskeys.h"

#define TK_NAME_LEN	16
#define TK_AES_LEN	32
#define TK_HMAC_LEN	32
#define TK_IV_LEN	16

struct tk_key {
	unsigned char	 name[TK_NAME_LEN];
	unsigned char	 aes[TK_AES_LEN];
	unsigned char	 hmac[TK_HMAC_LEN];
	time_t		 born;
};

struct tk_ring {
	struct tk_key	 keys[TK_KEYS];	/* [0] seals, the others open */
	int		 n;
	/*
	 * Fetched once: EVP_aes_256_cbc() would make OpenSSL 3 look the
	 * cipher up by name on every ticket sealed or opened, which is
	 * twice per data connection (the control's fresh ticket, then the
	 * data connection's resumption).
	 */
	EVP_CIPHER	*aes;
};

/*
 * The ex_data slot of every SSL_CTX: one process-wide number, set once
 * (pthread_once) and never changed, like OpenSSL's own indexes.
 */
static pthread_once_t	 tk_once = PTHREAD_ONCE_INIT;
static int		 tk_index = -1;

static void
tk_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct tk_ring	*r = ptr;

	if (r != NULL) {
		EVP_CIPHER_free(r->aes);
		OPENSSL_clear_free(r, sizeof(*r));
	}
}

static void
tk_index_init(void)
{
	tk_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, tk_free_cb);
}

static struct tk_ring *
tk_ring_of(SSL_CTX *ctx)
{
	if (tk_index < 0)
		return NULL;
	return SSL_CTX_get_ex_data(ctx, tk_index);
}

static time_t
tk_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Still opens tickets as of now? */
static int
tk_alive(const struct tk_key *k, time_t now)
{
	return now - k->born < (time_t)(TK_ROTATE + FTPS_TICKET_LIFETIME);
}

static void
tk_drop_last(struct tk_ring *r)
{
	r->n--;
	OPENSSL_cleanse(&r->keys[r->n], sizeof(r->keys[r->n]));
}

int
tk_rotate(SSL_CTX *ctx, time_t now)
{
	struct tk_ring	*r = tk_ring_of(ctx);
	struct tk_key	 k;

	if (r == NULL)
		return FTPS_ETLS;
	while (r->n > 0 && !tk_alive(&r->keys[r->n - 1], now))
		tk_drop_last(r);
	if (r->n > 0 && now - r->keys[0].born < (time_t)TK_ROTATE)
		return 0;
	if (RAND_bytes(k.name, sizeof(k.name)) != 1 ||
	    RAND_priv_bytes(k.aes, sizeof(k.aes)) != 1 ||
	    RAND_priv_bytes(k.hmac, sizeof(k.hmac)) != 1) {
		OPENSSL_cleanse(&k, sizeof(k));
		return FTPS_ETLS;
	}
	k.born = now;
	if (r->n == TK_KEYS)
		tk_drop_last(r);
	memmove(&r->keys[1], &r->keys[0], (size_t)r->n * sizeof(r->keys[0]));
	r->keys[0] = k;
	r->n++;
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

int
tk_count(SSL_CTX *ctx)
{
	struct tk_ring	*r = tk_ring_of(ctx);

	return r != NULL ? r->n : 0;
}

static int
tk_mac_key(EVP_MAC_CTX *hctx, const struct tk_key *k)
{
	static char	 digest[] = "SHA256";
	OSSL_PARAM	 params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    (void *)(uintptr_t)k->hmac, sizeof(k->hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params);
}

/*
 * OpenSSL's ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb):
 * sealing returns 1 or -1; opening returns 1 (current key), 2 (an older
 * key: the ticket should be renewed), 0 (unknown key: full handshake) or
 * -1.
 */
static int
tk_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	SSL_CTX		*ctx = SSL_get_SSL_CTX(ssl);
	struct tk_ring	*r = tk_ring_of(ctx);
	time_t		 now = tk_now();
	int		 i;

	if (r == NULL || tk_rotate(ctx, now) != 0 || r->n == 0)
		return -1;
	if (enc) {
		if (RAND_bytes(iv, TK_IV_LEN) != 1)
			return -1;
		memcpy(name, r->keys[0].name, TK_NAME_LEN);
		if (!EVP_EncryptInit_ex(cctx, r->aes, NULL,
		    r->keys[0].aes, iv) || !tk_mac_key(hctx, &r->keys[0]))
			return -1;
		return 1;
	}
	for (i = 0; i < r->n; i++) {
		if (CRYPTO_memcmp(name, r->keys[i].name, TK_NAME_LEN) != 0)
			continue;
		if (!tk_mac_key(hctx, &r->keys[i]) ||
		    !EVP_DecryptInit_ex(cctx, r->aes, NULL,
		    r->keys[i].aes, iv))
			return -1;
		return i == 0 ? 1 : 2;
	}
	return 0;
}

int
tk_install(SSL_CTX *ctx)
{
	struct tk_ring	*r;

	if (pthread_once(&tk_once, tk_index_init) != 0 || tk_index < 0)
		return FTPS_ETLS;
	if (tk_ring_of(ctx) != NULL)
		return 0;
	if ((r = OPENSSL_zalloc(sizeof(*r))) == NULL)
		return FTPS_ENOMEM;
	if ((r->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL ||
	    !SSL_CTX_set_ex_data(ctx, tk_index, r)) {
		EVP_CIPHER_free(r->aes);
		OPENSSL_free(r);
		return FTPS_ETLS;
	}
	if (tk_rotate(ctx, tk_now()) != 0 ||
	    !SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tk_cb))
		return FTPS_ETLS;
	return 0;
}
