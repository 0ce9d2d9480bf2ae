/*
 * Counters shared by the master and the workers, and the Prometheus text
 * format they are served in (metrics.h).
 */
#include "config.h"

#include <sys/mman.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "auth.h"
#include "buf.h"
#include "err.h"
#include "ftpsd.h"
#include "metrics.h"
#include "session.h"
#include "tls.h"

struct mt_table {
	unsigned		 nrows;
	size_t			 maplen;
	_Atomic int64_t		 v[];		/* nrows x MT_NSERIES */
};

static const struct {
	const char	*name, *type, *help;
} mt_families[] = {
#define MT_FAMILY_ROW_(id, name, type, help)	{ name, type, help },
	MT_FAMILY_LIST(MT_FAMILY_ROW_)
};

static const struct {
	enum mt_family	 fam;
	const char	*labels;
} mt_series[] = {
#define MT_SERIES_ROW_(id, fam, labels)		{ MTF_##fam, labels },
	MT_SERIES_LIST(MT_SERIES_ROW_)
};

_Static_assert(sizeof(mt_families) / sizeof(mt_families[0]) ==
    MT_NFAMILIES, "a row per family");
_Static_assert(sizeof(mt_series) / sizeof(mt_series[0]) == MT_NSERIES,
    "a row per series");

int
mt_new(unsigned nrows, struct mt_table **out)
{
	struct mt_table	*t;
	size_t		 len;

	*out = NULL;
	len = sizeof(*t) + (size_t)nrows * MT_NSERIES * sizeof(t->v[0]);
	t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (t == MAP_FAILED)
		return FTPS_ESYS;
	t->nrows = nrows;
	t->maplen = len;
	*out = t;
	return 0;
}

void
mt_free(struct mt_table *t)
{
	if (t != NULL)
		munmap(t, t->maplen);
}

void
mt_add(struct mt_table *t, unsigned row, enum mt_series i, int64_t n)
{
	if (t == NULL || row >= t->nrows || (unsigned)i >= MT_NSERIES)
		return;
	atomic_fetch_add_explicit(&t->v[row * MT_NSERIES + i], n,
	    memory_order_relaxed);
}

void
mt_set(struct mt_table *t, unsigned row, enum mt_series i, int64_t v)
{
	if (t == NULL || row >= t->nrows || (unsigned)i >= MT_NSERIES)
		return;
	atomic_store_explicit(&t->v[row * MT_NSERIES + i], v,
	    memory_order_relaxed);
}

int64_t
mt_sum(const struct mt_table *t, enum mt_series i)
{
	int64_t		 sum = 0;
	unsigned	 r;

	if (t == NULL || (unsigned)i >= MT_NSERIES)
		return 0;
	for (r = 0; r < t->nrows; r++)
		sum += atomic_load_explicit(&t->v[r * MT_NSERIES + i],
		    memory_order_relaxed);
	return sum;
}

void
mt_zero_gauges(struct mt_table *t, unsigned row)
{
	unsigned	 i;

	for (i = 0; i < MT_NSERIES; i++)
		if (strcmp(mt_families[mt_series[i].fam].type, "gauge") == 0)
			mt_set(t, row, (enum mt_series)i, 0);
}

void
mt_inc(struct ftpsd *ctx, enum mt_series i)
{
	mt_add(ctx->mt, ctx->worker, i, 1);
}

void
mt_dec(struct ftpsd *ctx, enum mt_series i)
{
	mt_add(ctx->mt, ctx->worker, i, -1);
}

void
mt_login(struct session *s, int ok)
{
	enum mt_series	 i;

	if (s->flags & SF_ANON)
		i = MT_LOGIN_OK_ANONYMOUS;
	else if (s->user == NULL || s->user->method == AUTH_METHOD_PASSWORD)
		i = MT_LOGIN_OK_PASSWORD;
	else if (s->user->method == AUTH_METHOD_CERT)
		i = MT_LOGIN_OK_CERT;
	else
		i = MT_LOGIN_OK_CERT_PASSWORD;
	/* The fail series follow the ok series in the same order. */
	if (!ok)
		i += MT_LOGIN_FAIL_PASSWORD - MT_LOGIN_OK_PASSWORD;
	mt_inc(s->ctx, i);
}

void
mt_tls_ok(struct session *s, int data, SSL *ssl)
{
	int	 v13 = SSL_version(ssl) >= TLS1_3_VERSION;

	mt_inc(s->ctx, data ? (v13 ? MT_HS_DATA_13 : MT_HS_DATA_12) :
	    (v13 ? MT_HS_CTRL_13 : MT_HS_CTRL_12));
}

/* Why a handshake failed, from what OpenSSL and the bufferevent said. */
static enum mt_tls_why
mt_tls_why(unsigned long e, int timeout, int cert)
{
	int	 r = e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL ?
		    ERR_GET_REASON(e) : 0;

	if (cert || r == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE ||
	    r == SSL_R_CERTIFICATE_VERIFY_FAILED)
		return MT_WHY_CERT;
	if (timeout)
		return MT_WHY_TIMEOUT;
	if (e == 0 || r == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return MT_WHY_CLOSED;
	switch (r) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
		return MT_WHY_NOT_TLS;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_VERSION_TOO_LOW:
		return MT_WHY_PROTOCOL;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SHARED_GROUPS:
	case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
		return MT_WHY_CIPHER;
	default:
		return MT_WHY_OTHER;
	}
}

void
mt_tls_fail(struct session *s, int data, unsigned long e, int timeout,
    int cert)
{
	mt_inc(s->ctx, (data ? MT_HSF_DATA_PROTOCOL : MT_HSF_CTRL_PROTOCOL) +
	    mt_tls_why(e, timeout, cert));
}

void
mt_refused_offer(struct session *s, int offer)
{
	mt_inc(s->ctx, offer == TLS_OFFER_FOREIGN ?
	    MT_REFUSED_FOREIGN_SESSION : MT_REFUSED_NOT_RESUMED);
}

void
mt_xfer(struct session *s, int upload, const char *result,
    unsigned long long bytes)
{
	int	 k;

	k = strcmp(result, "ok") == 0 ? 0 :
	    strcmp(result, "aborted") == 0 ? 1 : 2;
	if (upload)
		k += MT_XFER_UP_OK - MT_XFER_DOWN_OK;
	mt_inc(s->ctx, MT_XFER_DOWN_OK + k);
	mt_add(s->ctx->mt, s->ctx->worker, MT_BYTES_DOWN_OK + k,
	    (int64_t)bytes);
}

/* A label value: backslash, double quote and newline escaped. */
static int
mt_label(struct buf *b, const char *v)
{
	int	 r = 0;

	for (; *v != '\0' && r == 0; v++) {
		if (*v == '\\' || *v == '"')
			r = buf_addf(b, "\\%c", *v);
		else if (*v == '\n')
			r = buf_add(b, "\\n", 2);
		else
			r = buf_add(b, v, 1);
	}
	return r;
}

/* The expiry of the served certificate, as seconds since the epoch. */
static int
mt_cert(struct buf *b, SSL_CTX *sctx)
{
	struct tm	 tm;
	X509		*x;
	char		 subj[256];
	int		 r;

	if ((r = buf_addf(b, "# HELP ftpsd_certificate_expiry_timestamp_seconds"
	    " When each loaded certificate expires (notAfter), seconds since "
	    "the epoch.\n# TYPE ftpsd_certificate_expiry_timestamp_seconds "
	    "gauge\n")) != 0)
		return r;
	if (sctx == NULL || (x = SSL_CTX_get0_certificate(sctx)) == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		return 0;
	if (X509_NAME_oneline(X509_get_subject_name(x), subj,
	    sizeof(subj)) == NULL)
		snprintf(subj, sizeof(subj), "?");
	if ((r = buf_addf(b, "ftpsd_certificate_expiry_timestamp_seconds"
	    "{subject=\"")) != 0 || (r = mt_label(b, subj)) != 0)
		return r;
	return buf_addf(b, "\"} %lld\n", (long long)timegm(&tm));
}

int
mt_render(const struct mt_table *t, const struct mt_extra *x, struct buf *b)
{
	unsigned	 f, i;
	int		 r = 0;

	for (f = 0; f < MT_NFAMILIES && r == 0; f++) {
		r = buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n",
		    mt_families[f].name, mt_families[f].help,
		    mt_families[f].name, mt_families[f].type);
		for (i = 0; i < MT_NSERIES && r == 0; i++) {
			if (mt_series[i].fam != f)
				continue;
			r = buf_addf(b, "%s%s%s%s %lld\n", mt_families[f].name,
			    mt_series[i].labels[0] != '\0' ? "{" : "",
			    mt_series[i].labels,
			    mt_series[i].labels[0] != '\0' ? "}" : "",
			    (long long)mt_sum(t, (enum mt_series)i));
		}
	}
	if (r == 0)
		r = buf_addf(b, "# HELP ftpsd_bans_active Client addresses "
		    "banned now for failed logins.\n# TYPE ftpsd_bans_active "
		    "gauge\nftpsd_bans_active %lld\n", (long long)x->bans);
	if (r == 0)
		r = mt_cert(b, x->ssl_ctx);
	return r;
}
