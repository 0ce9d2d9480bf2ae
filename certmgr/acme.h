/*
 * certmgr acme: certificates from an ACME CA (RFC 8555).
 *   acme.c      the subcommands, the account and the renewal records
 *   acmehttp.c  the requests: libcurl, nonces, JWS (ES256), problems
 *   acmechal.c  HTTP-01: the small responder, or files in a webroot
 *
 * Every failure leaves one line in a->err (the CA's words when it gave
 * any); the caller prints it.
 */
#ifndef FTPS_ACME_H
#define FTPS_ACME_H

#include <pthread.h>

#include <curl/curl.h>
#include <jansson.h>

#include <openssl/evp.h>

#include "buf.h"
#include "certstore.h"
#include "ftps_limits.h"

#define ACME_SUBDIR		"acme"
#define ACME_ACCOUNT_KEY	"account.key"
#define ACME_ACCOUNT_FILE	"account.json"
#define ACME_CHALLENGE_PATH	"/.well-known/acme-challenge/"

/* One ACME server, through one account key. */
struct acme {
	CURL		*curl;
	const char	*server;	/* the directory URL */
	const char	*cafile;	/* NULL: the system's roots */
	char		 new_nonce[FTPS_ACME_URL_MAX];
	char		 new_account[FTPS_ACME_URL_MAX];
	char		 new_order[FTPS_ACME_URL_MAX];
	char		 terms[FTPS_ACME_URL_MAX];	/* "" when none */
	char		 nonce[256];			/* "" when none */
	char		 kid[FTPS_ACME_URL_MAX];	/* "": sign with jwk */
	EVP_PKEY	*key;				/* the account key */
	char		 thumb[64];			/* its RFC 7638 print */
	char		 err[CS_ERR_MAX];
};

/* One response. */
struct acme_resp {
	long		 status;
	struct buf	 body;
	char		 ctype[128];
	char		 location[FTPS_ACME_URL_MAX];
	char		 nonce[256];
	long		 retry_after;		/* seconds, -1: none */
	json_t		*json;			/* a JSON body, else NULL */
};

/*
 * Reads the directory at server (the CA's certificate in cafile, NULL:
 * the system's).  key may be set later (acme_set_key).  0 or -1.
 */
int	 acme_open(struct acme *, const char *server, const char *cafile);
void	 acme_close(struct acme *);
/* The account key, and its thumbprint for key authorizations. */
int	 acme_set_key(struct acme *, EVP_PKEY *key);

/*
 * A JWS-signed POST of payload (NULL: POST-as-GET) to url, signed with
 * the account URL as kid, or with the key itself (jwk) while a->kid is
 * "".  A badNonce refusal is retried with the fresh nonce.  0 for a 2xx
 * answer, else -1 with a->err saying what the CA said about what.
 * acme_resp_free() frees *r either way.
 */
int	 acme_post(struct acme *, const char *url, json_t *payload,
	    const char *what, struct acme_resp *r);
void	 acme_resp_free(struct acme_resp *);

/*
 * POST-as-GET url until its "status" is no longer one of busy ("a|b"),
 * honouring Retry-After within bounds; *r holds the last answer.
 */
int	 acme_poll(struct acme *, const char *url, const char *busy,
	    const char *what, struct acme_resp *r);
/* The one line for a problem document (RFC 8555 6.7) about what. */
void	 acme_problem(struct acme *, json_t *problem, const char *what,
	    long retry_after);

/* base64url without padding; -1 when out is too small. */
int	 acme_b64url(const unsigned char *, size_t, char *out, size_t size);
/* A JSON object's string member, or NULL. */
const char	*acme_str(json_t *obj, const char *key);

/* HTTP-01: key authorizations served while the CA checks them. */
struct acme_chal {
	char		 token[128];
	char		 keyauth[256];
};
struct acme_http01 {
	int		 port;		/* responder mode when webroot NULL */
	const char	*webroot;
	struct acme_chal *chal;
	size_t		 n;
	/* the responder's */
	int		 lfd;		/* listening: [::] or 0.0.0.0 */
	int		 stop[2];	/* a pipe: closing stop[1] ends it */
	int		 running;
	pthread_t	 thread;
	/* webroot files written */
	size_t		 written;
};
/* Starts serving h's challenges; -1 with err. */
int	 acme_http01_start(struct acme_http01 *h, char *err, size_t errlen);
/* Stops serving, removing what was written to the webroot. */
void	 acme_http01_stop(struct acme_http01 *h);

#endif
