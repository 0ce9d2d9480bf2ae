/*
 * The ACME requests (RFC 8555 6): libcurl for HTTPS, jansson for the
 * JSON, OpenSSL's EVP for the JWS signature (ES256, RFC 7518 3.4), one
 * nonce at a time (badNonce retried), problem documents turned into one
 * line each.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "acme.h"
#include "err.h"
#include "parse.h"

#define ACME_ERR_PREFIX	"urn:ietf:params:acme:error:"
#define ACME_UA		"certmgr/" PACKAGE_VERSION " (ftpsd)"

int
acme_b64url(const unsigned char *in, size_t len, char *out, size_t size)
{
	size_t	 need = 4 * ((len + 2) / 3) + 1, i, n;

	if (need > size || len > 0x7fffffff)
		return -1;
	n = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++)
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	return 0;
}

const char *
acme_str(json_t *obj, const char *key)
{
	json_t	*v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A copy of a server's text fit for one line: printable, bounded. */
static void
acme_clean(const char *in, char *out, size_t size)
{
	size_t	 n = 0;

	for (; in != NULL && *in != '\0' && n + 1 < size; in++)
		out[n++] = isprint((unsigned char)*in) ? *in : ' ';
	out[n] = '\0';
}

/* Copies a string member no longer than size into out; -1 if not. */
static int
acme_copy(json_t *obj, const char *key, char *out, size_t size)
{
	const char	*s = acme_str(obj, key);

	if (s == NULL || strlen(s) >= size)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

void
acme_resp_free(struct acme_resp *r)
{
	buf_free(&r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

static size_t
acme_body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct acme_resp	*r = arg;

	if (buf_add(&r->body, p, size * n) != 0)
		return 0;	/* too big: curl fails with CURLE_WRITE_ERROR */
	return size * n;
}

/* Copies header value of line (without CRLF) when line is "name: ...". */
static int
acme_header(const char *line, size_t len, const char *name, char *out,
    size_t size)
{
	size_t	 nl = strlen(name), i;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return 0;
	for (i = nl + 1; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	while (len > i && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
	    line[len - 1] == ' '))
		len--;
	if (len - i >= size)
		return 0;
	memcpy(out, line + i, len - i);
	out[len - i] = '\0';
	return 1;
}

static size_t
acme_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct acme_resp	*r = arg;
	size_t			 len = size * n;
	char			 v[64];
	unsigned long		 secs;
	time_t			 when;

	(void)(acme_header(p, len, "Replay-Nonce", r->nonce,
	    sizeof(r->nonce)) ||
	    acme_header(p, len, "Location", r->location,
	    sizeof(r->location)) ||
	    acme_header(p, len, "Content-Type", r->ctype, sizeof(r->ctype)));
	if (acme_header(p, len, "Retry-After", v, sizeof(v))) {
		/* delta-seconds or an HTTP-date (RFC 9110 10.2.3) */
		if (parse_uint(v, 0, 86400L * 7, &secs) == 0)
			r->retry_after = (long)secs;
		else if ((when = curl_getdate(v, NULL)) != -1)
			r->retry_after = when > time(NULL) ?
			    (long)(when - time(NULL)) : 0;
	}
	return len;
}

/*
 * One HTTP exchange: GET (post NULL), HEAD (head) or a JOSE POST.  -1
 * with a->err when the server could not be reached or answered nothing
 * usable; any HTTP status is 0.
 */
static int
acme_http(struct acme *a, const char *url, const char *post, int head,
    struct acme_resp *r)
{
	struct curl_slist	*hdrs = NULL;
	char			 cerr[CURL_ERROR_SIZE];
	CURLcode		 c;
	json_error_t		 je;

	acme_resp_free(r);
	buf_init(&r->body, FTPS_ACME_BODY_MAX);
	cerr[0] = '\0';
	curl_easy_reset(a->curl);
	if (post != NULL && (hdrs = curl_slist_append(NULL,
	    "Content-Type: application/jose+json")) == NULL) {
		snprintf(a->err, sizeof(a->err), "out of memory");
		return -1;
	}
	curl_easy_setopt(a->curl, CURLOPT_URL, url);
	/*
	 * Every URL the CA hands out is https too, unless the directory
	 * itself is a plain-http test server on this host.
	 */
	curl_easy_setopt(a->curl, CURLOPT_PROTOCOLS_STR,
	    strncmp(a->server, "https://", 8) == 0 ? "https" : "https,http");
	curl_easy_setopt(a->curl, CURLOPT_USERAGENT, ACME_UA);
	curl_easy_setopt(a->curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(a->curl, CURLOPT_TIMEOUT, (long)FTPS_ACME_TIMEOUT);
	curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, acme_body_cb);
	curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(a->curl, CURLOPT_HEADERFUNCTION, acme_header_cb);
	curl_easy_setopt(a->curl, CURLOPT_HEADERDATA, r);
	if (a->cafile != NULL)
		curl_easy_setopt(a->curl, CURLOPT_CAINFO, a->cafile);
	if (head)
		curl_easy_setopt(a->curl, CURLOPT_NOBODY, 1L);
	if (post != NULL) {
		curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, post);
	}
	c = curl_easy_perform(a->curl);
	curl_slist_free_all(hdrs);
	if (c != CURLE_OK) {
		snprintf(a->err, sizeof(a->err), "cannot reach the ACME "
		    "server %.300s: %s%s", url, cerr[0] ? cerr :
		    curl_easy_strerror(c), c == CURLE_PEER_FAILED_VERIFICATION ?
		    " (give the CA's certificate with --ca-file FILE)" :
		    c == CURLE_WRITE_ERROR ? " (answer too long)" : "");
		return -1;
	}
	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->nonce[0] != '\0')
		memcpy(a->nonce, r->nonce, sizeof(a->nonce));
	if (strncasecmp(r->ctype, "application/json", 16) == 0 ||
	    strncasecmp(r->ctype, "application/problem+json", 24) == 0) {
		r->json = json_loadb(buf_str(&r->body), buf_len(&r->body), 0,
		    &je);
		if (r->json == NULL) {
			snprintf(a->err, sizeof(a->err), "%.300s: the ACME "
			    "server's answer is not JSON: %s", url, je.text);
			return -1;
		}
	}
	return 0;
}

void
acme_problem(struct acme *a, json_t *p, const char *what, long retry_after)
{
	const char	*type = acme_str(p, "type"), *t;
	char		 detail[320], after[64];

	acme_clean(acme_str(p, "detail"), detail, sizeof(detail));
	if (detail[0] == '\0')
		snprintf(detail, sizeof(detail), "no detail given");
	t = type != NULL && strncmp(type, ACME_ERR_PREFIX,
	    strlen(ACME_ERR_PREFIX)) == 0 ? type + strlen(ACME_ERR_PREFIX) :
	    type != NULL ? type : "";
	after[0] = '\0';
	if (retry_after >= 0)
		snprintf(after, sizeof(after), " (retry after %ld s)",
		    retry_after);
	if (strcmp(t, "rateLimited") == 0)
		snprintf(a->err, sizeof(a->err), "%s: the CA's rate limit was "
		    "hit, try again later%s: %s", what, after, detail);
	else if (strcmp(t, "userActionRequired") == 0 ||
	    strcmp(t, "agreementRequired") == 0)
		snprintf(a->err, sizeof(a->err), "%s: the CA's terms of "
		    "service are not agreed to (certmgr acme register "
		    "--agree-tos): %s", what, detail);
	else if (strcmp(t, "accountDoesNotExist") == 0 ||
	    (strcmp(t, "unauthorized") == 0 && strstr(what, "validation") ==
	    NULL))
		snprintf(a->err, sizeof(a->err), "%s: the CA refuses this "
		    "account (certmgr acme register makes one): %s", what,
		    detail);
	else if (strcmp(t, "incorrectResponse") == 0 ||
	    strcmp(t, "connection") == 0 || strcmp(t, "dns") == 0 ||
	    strcmp(t, "unauthorized") == 0 || strcmp(t, "tls") == 0 ||
	    strcmp(t, "caa") == 0)
		snprintf(a->err, sizeof(a->err), "%s failed (%s): %s", what, t,
		    detail);
	else if (strcmp(t, "badNonce") == 0)
		snprintf(a->err, sizeof(a->err), "%s: the CA refused %d "
		    "nonces in a row: %s", what, FTPS_ACME_NONCE_TRIES, detail);
	else
		snprintf(a->err, sizeof(a->err), "%s: the CA refused%s%s%s: "
		    "%s", what, t[0] ? " (" : "", t, t[0] ? ")" : "", detail);
}

/* The public key as a JWK (RFC 7517), members sorted (RFC 7638). */
static json_t *
acme_jwk(EVP_PKEY *key)
{
	BIGNUM		*x = NULL, *y = NULL;
	unsigned char	 bx[32], by[32];
	char		 sx[48], sy[48];
	json_t		*j = NULL;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
	    BN_bn2binpad(x, bx, sizeof(bx)) != sizeof(bx) ||
	    BN_bn2binpad(y, by, sizeof(by)) != sizeof(by) ||
	    acme_b64url(bx, sizeof(bx), sx, sizeof(sx)) != 0 ||
	    acme_b64url(by, sizeof(by), sy, sizeof(sy)) != 0)
		goto out;
	j = json_pack("{s:s, s:s, s:s, s:s}", "crv", "P-256", "kty", "EC",
	    "x", sx, "y", sy);
 out:
	BN_free(x);
	BN_free(y);
	return j;
}

int
acme_set_key(struct acme *a, EVP_PKEY *key)
{
	unsigned char	 md[32];
	unsigned int	 mdlen = 0;
	json_t		*jwk;
	char		*s = NULL;
	char		 curve[32];
	int		 r = -1;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
	    curve, sizeof(curve), NULL) != 1 || strcmp(curve, "prime256v1")
	    != 0) {
		snprintf(a->err, sizeof(a->err), "the account key is not an "
		    "EC P-256 key (ES256)");
		return -1;
	}
	if ((jwk = acme_jwk(key)) == NULL ||
	    (s = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    acme_b64url(md, mdlen, a->thumb, sizeof(a->thumb)) != 0)
		snprintf(a->err, sizeof(a->err), "the account key's "
		    "thumbprint: out of memory");
	else {
		a->key = key;
		r = 0;
	}
	free(s);
	json_decref(jwk);
	return r;
}

/* base64url of a JSON value's compact form. */
static char *
acme_b64json(json_t *j)
{
	char	*s, *out = NULL;
	size_t	 n, size;

	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		return NULL;
	n = strlen(s);
	size = 4 * ((n + 2) / 3) + 1;
	if ((out = malloc(size)) != NULL &&
	    acme_b64url((unsigned char *)s, n, out, size) != 0) {
		free(out);
		out = NULL;
	}
	free(s);
	return out;
}

/* ES256 over "protected.payload": R || S, 32 bytes each (RFC 7518 3.4). */
static int
acme_sign(EVP_PKEY *key, const char *in, char *out, size_t size)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 der[128], raw[64];
	const unsigned char *p = der;
	size_t		 derlen = sizeof(der);
	ECDSA_SIG	*sig = NULL;
	const BIGNUM	*r, *s;
	int		 rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &derlen, (const unsigned char *)in,
	    strlen(in)) != 1 ||
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) !=
	    32 || acme_b64url(raw, sizeof(raw), out, size) != 0)
		goto out;
	rc = 0;
 out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* The flattened JWS (RFC 7515 7.2.2) of payload for url. */
static char *
acme_jws(struct acme *a, const char *url, json_t *payload)
{
	json_t	*prot = NULL, *jws = NULL;
	char	*p64 = NULL, *b64 = NULL, *input = NULL, *out = NULL;
	char	 sig[96];
	size_t	 n;

	if (a->kid[0] != '\0')
		prot = json_pack("{s:s, s:s, s:s, s:s}", "alg", "ES256",
		    "kid", a->kid, "nonce", a->nonce, "url", url);
	else
		prot = json_pack("{s:s, s:o, s:s, s:s}", "alg", "ES256",
		    "jwk", acme_jwk(a->key), "nonce", a->nonce, "url", url);
	if (prot == NULL || (p64 = acme_b64json(prot)) == NULL)
		goto out;
	if (payload != NULL && (b64 = acme_b64json(payload)) == NULL)
		goto out;
	n = strlen(p64) + 2 + (b64 != NULL ? strlen(b64) : 0);
	if ((input = malloc(n)) == NULL)
		goto out;
	snprintf(input, n, "%s.%s", p64, b64 != NULL ? b64 : "");
	if (acme_sign(a->key, input, sig, sizeof(sig)) != 0 ||
	    (jws = json_pack("{s:s, s:s, s:s}", "protected", p64, "payload",
	    b64 != NULL ? b64 : "", "signature", sig)) == NULL)
		goto out;
	out = json_dumps(jws, JSON_COMPACT);
 out:
	json_decref(prot);
	json_decref(jws);
	free(p64);
	free(b64);
	free(input);
	return out;
}

int
acme_post(struct acme *a, const char *url, json_t *payload,
    const char *what, struct acme_resp *r)
{
	struct acme_resp	 nr;
	char			*body;
	int			 tries, rc;

	memset(&nr, 0, sizeof(nr));
	for (tries = 0; tries < FTPS_ACME_NONCE_TRIES; tries++) {
		if (a->nonce[0] == '\0') {
			rc = acme_http(a, a->new_nonce, NULL, 1, &nr);
			if (rc == 0 && a->nonce[0] == '\0')
				snprintf(a->err, sizeof(a->err), "%.300s: no "
				    "Replay-Nonce from the ACME server (HTTP "
				    "%ld)", a->new_nonce, nr.status);
			acme_resp_free(&nr);
			if (rc != 0 || a->nonce[0] == '\0')
				return -1;
		}
		if ((body = acme_jws(a, url, payload)) == NULL) {
			snprintf(a->err, sizeof(a->err), "%s: cannot sign the "
			    "request", what);
			return -1;
		}
		a->nonce[0] = '\0';	/* used; the answer brings the next */
		rc = acme_http(a, url, body, 0, r);
		free(body);
		if (rc != 0)
			return -1;
		if (r->status >= 200 && r->status < 300)
			return 0;
		if (r->status == 400 && r->json != NULL && strcmp(acme_str(
		    r->json, "type") != NULL ? acme_str(r->json, "type") : "",
		    ACME_ERR_PREFIX "badNonce") == 0)
			continue;
		break;
	}
	if (r->json != NULL && acme_str(r->json, "type") != NULL)
		acme_problem(a, r->json, what, r->retry_after);
	else
		snprintf(a->err, sizeof(a->err), "%s: the ACME server "
		    "answered HTTP %ld", what, r->status);
	return -1;
}

int
acme_poll(struct acme *a, const char *url, const char *busy,
    const char *what, struct acme_resp *r)
{
	struct timespec	 start, now, ts;
	const char	*st, *p;
	long		 ms = 250, wait;
	size_t		 n;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (acme_post(a, url, NULL, what, r) != 0)
			return -1;
		if ((st = acme_str(r->json, "status")) == NULL) {
			snprintf(a->err, sizeof(a->err), "%s: the ACME server's "
			    "answer has no status", what);
			return -1;
		}
		n = strlen(st);
		for (p = busy; (p = strstr(p, st)) != NULL; p += n)
			if ((p == busy || p[-1] == '|') &&
			    (p[n] == '\0' || p[n] == '|'))
				break;
		if (p == NULL)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= FTPS_ACME_POLL_SECS) {
			snprintf(a->err, sizeof(a->err), "%s: still %s after %d "
			    "s; run the command again later", what, st,
			    FTPS_ACME_POLL_SECS);
			return -1;
		}
		/* The server's Retry-After within bounds, else a backoff. */
		wait = r->retry_after >= 0 ? (r->retry_after < 1 ? 1000 :
		    r->retry_after > FTPS_ACME_WAIT_MAX ? FTPS_ACME_WAIT_MAX *
		    1000L : r->retry_after * 1000L) : ms;
		if (ms < 4000)
			ms *= 2;
		ts.tv_sec = wait / 1000;
		ts.tv_nsec = (wait % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
}

/* http://localhost, 127.x.y.z or [::1]: a test CA on this host. */
static int
acme_loopback(const char *url)
{
	const char	*h = url + 7;
	size_t		 n;

	if (strncmp(url, "http://", 7) != 0)
		return 0;
	if (strncmp(h, "[::1]", 5) == 0)
		return h[5] == ':' || h[5] == '/' || h[5] == '\0';
	n = strcspn(h, ":/");
	return (n == 9 && strncmp(h, "localhost", 9) == 0) ||
	    (n >= 9 && n <= 15 && strncmp(h, "127.", 4) == 0 &&
	    strspn(h, "0123456789.") == n);
}

int
acme_open(struct acme *a, const char *server, const char *cafile)
{
	struct acme_resp	 r;
	json_t			*meta;
	int			 rc = -1;

	memset(a, 0, sizeof(*a));
	memset(&r, 0, sizeof(r));
	a->server = server;
	a->cafile = cafile;
	if (strncmp(server, "https://", 8) != 0 && !acme_loopback(server)) {
		snprintf(a->err, sizeof(a->err), "%.300s: an ACME server's "
		    "directory URL starts with https:// (http:// only for a "
		    "test server on this host)", server);
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (a->curl = curl_easy_init()) == NULL) {
		snprintf(a->err, sizeof(a->err), "cannot start libcurl");
		return -1;
	}
	if (acme_http(a, server, NULL, 0, &r) != 0)
		goto out;
	if (r.status != 200 || r.json == NULL ||
	    acme_copy(r.json, "newNonce", a->new_nonce,
	    sizeof(a->new_nonce)) != 0 ||
	    acme_copy(r.json, "newAccount", a->new_account,
	    sizeof(a->new_account)) != 0 ||
	    acme_copy(r.json, "newOrder", a->new_order,
	    sizeof(a->new_order)) != 0) {
		snprintf(a->err, sizeof(a->err), "%.300s is not an ACME "
		    "directory (HTTP %ld%s)", server, r.status,
		    r.json == NULL ? ", not JSON" : ", no newNonce, newAccount "
		    "and newOrder");
		goto out;
	}
	meta = json_object_get(r.json, "meta");
	(void)acme_copy(meta, "termsOfService", a->terms, sizeof(a->terms));
	rc = 0;
 out:
	acme_resp_free(&r);
	return rc;
}

void
acme_close(struct acme *a)
{
	if (a->curl != NULL)
		curl_easy_cleanup(a->curl);
	a->curl = NULL;
	curl_global_cleanup();
}
