/*
 * libcertstore: the private CA and its openssl-ca-compatible database
 * (see csca.h for the folder's layout and the crash-safety rules).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "csca.h"
#include "err.h"
#include "parse.h"

#define CA_CERT		"ca.crt"
#define CA_KEY		"ca.key"
#define CA_CHAIN	"chain.pem"
#define CA_INDEX	"index.txt"
#define CA_ATTR		"index.txt.attr"
#define CA_SERIAL	"serial"
#define CA_CRLNUMBER	"crlnumber"
#define CA_CRL		"crl.pem"
#define CA_NEWCERTS	"newcerts"
#define CA_CONF		"openssl.cnf"
#define CA_LOCK		".lock"

static int	cs_ca_may_sign_ca(struct cs_ca *, char *, size_t);
static int	cs_ca_create(const char *, const struct cs_subject *,
		    const char *, unsigned, const char *, const char *, size_t,
		    struct cs_ca *, X509 **, char *, size_t);

static const struct {
	const char	*name;
	int		 code;
} cs_reasons[] = {
	{ "unspecified", 0 },
	{ "keyCompromise", 1 },
	{ "CACompromise", 2 },
	{ "affiliationChanged", 3 },
	{ "superseded", 4 },
	{ "cessationOfOperation", 5 },
	{ "certificateHold", 6 },
	{ "removeFromCRL", 8 },
};
#define NREASONS	(sizeof(cs_reasons) / sizeof(cs_reasons[0]))

int
cs_reason_code(const char *name)
{
	size_t	 i;

	for (i = 0; i < NREASONS; i++)
		if (strcasecmp(name, cs_reasons[i].name) == 0)
			return cs_reasons[i].code;
	return -1;
}

static const char *
cs_reason_name(const char *name)
{
	size_t	 i;

	for (i = 0; i < NREASONS; i++)
		if (strcasecmp(name, cs_reasons[i].name) == 0)
			return cs_reasons[i].name;
	return NULL;
}

const char *
cs_reason_by_code(int code)
{
	size_t	 i;

	for (i = 0; i < NREASONS; i++)
		if (cs_reasons[i].code == code)
			return cs_reasons[i].name;
	return "unspecified";
}

const char *
cs_reason_list(void)
{
	return "unspecified, keyCompromise, CACompromise, affiliationChanged, "
	    "superseded, cessationOfOperation, certificateHold, removeFromCRL";
}

int
cs_serial_norm(const char *in, char *out, size_t size)
{
	BIGNUM	*bn = NULL;
	char	*hex;
	size_t	 i, n = strlen(in);
	int	 r = FTPS_EPARSE;

	if (size > 0)
		out[0] = '\0';
	if (n == 0 || n > 48)
		return FTPS_EPARSE;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)in[i]))
			return FTPS_EPARSE;
	if (BN_hex2bn(&bn, in) != (int)n)
		goto out;
	if (BN_is_zero(bn)) {
		r = str_copy(out, size, "00");
		goto out;
	}
	if ((hex = BN_bn2hex(bn)) == NULL) {
		r = FTPS_ENOMEM;
		goto out;
	}
	r = str_copy(out, size, hex);
	OPENSSL_free(hex);
 out:
	BN_free(bn);
	return r;
}

/* UTCTime or GeneralizedTime text, as openssl ca writes it. */
static int
cs_db_time_ok(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n != 13 && n != 15)
		return 0;
	for (i = 0; i + 1 < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return s[n - 1] == 'Z';
}

static int
cs_db_push(struct cs_db *db, const struct cs_dbrow *row)
{
	struct cs_dbrow	*v;
	size_t		 cap;

	if (db->n >= CS_CA_ROWS_MAX)
		return FTPS_ETOOBIG;
	if (db->n == db->cap) {
		cap = db->cap ? db->cap * 2 : 64;
		if ((v = reallocarray(db->rows, cap, sizeof(*v))) == NULL)
			return FTPS_ENOMEM;
		db->rows = v;
		db->cap = cap;
	}
	db->rows[db->n++] = *row;
	return 0;
}

/* Copies field into dst; 0 or -1 when it does not fit. */
static int
cs_field(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* One serial of index.txt and the line it is on, for sorting. */
struct cs_serline {
	const char	*serial;
	size_t		 line;
};

static int
cs_serline_cmp(const void *a, const void *b)
{
	const struct cs_serline	*x = a, *y = b;

	return strcmp(x->serial, y->serial);
}

/*
 * A serial twice would make revocation ambiguous.  Sorted, not compared
 * pairwise: a database at CS_CA_ROWS_MAX is read in well under a second.
 */
static int
cs_db_dups(const char *label, const struct cs_db *db, char *err,
    size_t errlen)
{
	struct cs_serline	*v;
	size_t			 i, a, b;
	int			 r = 0;

	if (db->n < 2)
		return 0;
	if ((v = reallocarray(NULL, db->n, sizeof(struct cs_serline))) ==
	    NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "%s: out of memory",
		    label);
	for (i = 0; i < db->n; i++) {
		v[i].serial = db->rows[i].serial;
		v[i].line = i + 1;
	}
	qsort(v, db->n, sizeof(struct cs_serline), cs_serline_cmp);
	for (i = 1; i < db->n && r == 0; i++) {
		if (strcmp(v[i - 1].serial, v[i].serial) != 0)
			continue;
		a = v[i - 1].line;
		b = v[i].line;
		r = cs_err(err, errlen, FTPS_EPARSE, "%s:%zu: serial %s appears "
		    "twice (also line %zu)", label, a > b ? a : b,
		    v[i].serial, a > b ? b : a);
	}
	free(v);
	return r;
}

int
cs_db_parse(const char *label, const char *text, size_t len, struct cs_db *db,
    char *err, size_t errlen)
{
	struct cs_dbrow	 row;
	const char	*p = text, *end = text + len, *nl, *f[6], *q;
	size_t		 fl[6], k;
	unsigned	 line = 0;
	char		 serial[64], rt[48], *comma;
	int		 r;

	memset(db, 0, sizeof(*db));
	while (p < end) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			r = cs_err(err, errlen, FTPS_EPARSE, "%s:%u: last line "
			    "not terminated (truncated file)", label, line);
			goto fail;
		}
		/* 1. Exactly six tab-separated fields. */
		for (k = 0, q = p; k < 6; k++) {
			f[k] = q;
			while (q < nl && *q != '\t')
				q++;
			fl[k] = (size_t)(q - f[k]);
			if (k < 5) {
				if (q == nl)
					break;
				q++;
			}
		}
		if (k < 6 || q != nl) {
			r = cs_err(err, errlen, FTPS_EPARSE, "%s:%u: expected 6 "
			    "tab-separated fields", label, line);
			goto fail;
		}
		memset(&row, 0, sizeof(row));
		/* 2. Each field checked as openssl ca would need it. */
		if (fl[0] != 1 || (f[0][0] != 'V' && f[0][0] != 'R' &&
		    f[0][0] != 'E')) {
			r = cs_err(err, errlen, FTPS_EPARSE, "%s:%u: status must "
			    "be V, R or E", label, line);
			goto fail;
		}
		row.status = f[0][0];
		if (cs_field(row.expiry, sizeof(row.expiry), f[1], fl[1]) ||
		    !cs_db_time_ok(row.expiry)) {
			r = cs_err(err, errlen, FTPS_EPARSE, "%s:%u: bad expiry "
			    "date", label, line);
			goto fail;
		}
		if (cs_field(row.revoked, sizeof(row.revoked), f[2], fl[2]) ||
		    (row.status == 'R') != (fl[2] > 0)) {
			r = cs_err(err, errlen, FTPS_EPARSE, "%s:%u: revocation "
			    "field does not fit status %c", label, line,
			    row.status);
			goto fail;
		}
		if (row.status == 'R') {
			snprintf(rt, sizeof(rt), "%s", row.revoked);
			if ((comma = strchr(rt, ',')) != NULL)
				*comma++ = '\0';
			if (!cs_db_time_ok(rt) || (comma != NULL &&
			    cs_reason_name(comma) == NULL)) {
				r = cs_err(err, errlen, FTPS_EPARSE, "%s:%u: bad "
				    "revocation date or reason", label, line);
				goto fail;
			}
		}
		if (cs_field(serial, sizeof(serial), f[3], fl[3]) ||
		    cs_serial_norm(serial, row.serial, sizeof(row.serial))) {
			r = cs_err(err, errlen, FTPS_EPARSE, "%s:%u: bad serial",
			    label, line);
			goto fail;
		}
		if (cs_field(row.file, sizeof(row.file), f[4], fl[4]) ||
		    cs_field(row.subject, sizeof(row.subject), f[5], fl[5])) {
			r = cs_err(err, errlen, FTPS_EPARSE, "%s:%u: field too "
			    "long", label, line);
			goto fail;
		}
		if ((r = cs_db_push(db, &row)) != 0) {
			r = cs_err(err, errlen, r, "%s:%u: %s (at most %d rows)",
			    label, line, ftps_strerror(r), CS_CA_ROWS_MAX);
			goto fail;
		}
		p = nl + 1;
	}
	if ((r = cs_db_dups(label, db, err, errlen)) != 0)
		goto fail;
	return 0;
 fail:
	cs_db_free(db);
	return r;
}

int
cs_db_format(const struct cs_db *db, char **out, size_t *len)
{
	struct buf	 b;
	size_t		 i;
	int		 r = 0;

	*out = NULL;
	*len = 0;
	buf_init(&b, CS_CA_DB_MAX);
	for (i = 0; i < db->n && r == 0; i++)
		r = buf_addf(&b, "%c\t%s\t%s\t%s\t%s\t%s\n", db->rows[i].status,
		    db->rows[i].expiry, db->rows[i].revoked, db->rows[i].serial,
		    db->rows[i].file, db->rows[i].subject);
	if (r == 0 && (*out = strdup(buf_str(&b))) == NULL)
		r = FTPS_ENOMEM;
	if (r == 0)
		*len = buf_len(&b);
	buf_free(&b);
	return r;
}

void
cs_db_free(struct cs_db *db)
{
	free(db->rows);
	memset(db, 0, sizeof(*db));
}

struct cs_dbrow *
cs_db_find(struct cs_db *db, const char *serial)
{
	char	 norm[64];
	size_t	 i;

	if (cs_serial_norm(serial, norm, sizeof(norm)) != 0)
		return NULL;
	for (i = 0; i < db->n; i++)
		if (strcmp(db->rows[i].serial, norm) == 0)
			return &db->rows[i];
	return NULL;
}

static int
cs_bn_hex(const BIGNUM *bn, char *out, size_t size)
{
	char	*hex;
	int	 r;

	if ((hex = BN_bn2hex(bn)) == NULL)
		return FTPS_ENOMEM;
	r = str_copy(out, size, hex);
	OPENSSL_free(hex);
	return r;
}

/* The text of openssl.cnf; certmgr itself reads [certmgr] only. */
static int
cs_ca_conf_text(struct buf *b, const char *crl_url)
{
	static const char	*exts[2] = { "server", "client" };
	int			 i, r;

	r = buf_addf(b,
	    "# Written by certmgr ca init.  certmgr reads [certmgr] only; the\n"
	    "# rest lets \"openssl ca -config openssl.cnf\" use this folder\n"
	    "# when run inside it.\n"
	    "[ certmgr ]\n"
	    "%s%s%s"
	    "\n[ ca ]\ndefault_ca = certmgr_ca\n"
	    "\n[ certmgr_ca ]\n"
	    "dir = .\n"
	    "database = $dir/index.txt\n"
	    "new_certs_dir = $dir/newcerts\n"
	    "certificate = $dir/ca.crt\n"
	    "private_key = $dir/ca.key\n"
	    "serial = $dir/serial\n"
	    "crlnumber = $dir/crlnumber\n"
	    "crl = $dir/crl.pem\n"
	    "default_md = sha256\n"
	    "default_days = %d\n"
	    "default_crl_days = %d\n"
	    "policy = certmgr_policy\n"
	    "unique_subject = no\n"
	    "copy_extensions = none\n"
	    "x509_extensions = certmgr_server\n"
	    "crl_extensions = certmgr_crl\n"
	    "\n[ certmgr_policy ]\n"
	    "countryName = optional\n"
	    "stateOrProvinceName = optional\n"
	    "localityName = optional\n"
	    "organizationName = optional\n"
	    "organizationalUnitName = optional\n"
	    "commonName = supplied\n"
	    "emailAddress = optional\n"
	    "\n[ certmgr_crl ]\n"
	    "authorityKeyIdentifier = keyid:always\n",
	    crl_url ? "crl_url = " : "", crl_url ? crl_url : "",
	    crl_url ? "\n" : "", CS_DAYS_DEFAULT, CS_CRL_DAYS_DEFAULT);
	for (i = 0; r == 0 && i < 2; i++)
		r = buf_addf(b,
		    "\n[ certmgr_%s ]\n"
		    "basicConstraints = critical, CA:FALSE\n"
		    "keyUsage = critical, digitalSignature, keyEncipherment\n"
		    "extendedKeyUsage = %sAuth\n"
		    "subjectKeyIdentifier = hash\n"
		    "authorityKeyIdentifier = keyid:always\n"
		    "%s%s%s", exts[i], exts[i],
		    crl_url ? "crlDistributionPoints = URI:" : "",
		    crl_url ? crl_url : "", crl_url ? "\n" : "");
	return r;
}

int
cs_ca_init(const char *dir, const struct cs_subject *subj, const char *keyspec,
    unsigned days, const char *crl_url, const char *pass, size_t passlen,
    X509 **out, char *err, size_t errlen)
{
	return cs_ca_create(dir, subj, keyspec, days, crl_url, pass, passlen,
	    NULL, out, err, errlen);
}

int
cs_ca_init_sub(const char *dir, const struct cs_subject *subj,
    const char *keyspec, unsigned days, const char *crl_url, const char *pass,
    size_t passlen, struct cs_ca *parent, X509 **out, char *err,
    size_t errlen)
{
	return cs_ca_create(dir, subj, keyspec, days, crl_url, pass, passlen,
	    parent, out, err, errlen);
}

/*
 * The CA certificate for key and subject, put into t as ca.crt and t
 * committed: self-signed (key private) when parent is NULL, else signed
 * by parent, recorded in its database, with parent's certificate and
 * chain as chain.pem (t committed once the parent holds the row).
 */
static int
cs_ca_cert(struct cs_ca *parent, X509_NAME *subject, EVP_PKEY *key,
    unsigned days, struct cs_txn *t, int replace, X509 **out, char *err,
    size_t errlen)
{
	struct cs_certspec	 spec;
	struct cs_signreq	 req;
	int			 r;

	*out = NULL;
	if (parent == NULL) {
		memset(&spec, 0, sizeof(spec));
		spec.subject = subject;
		spec.pubkey = key;
		spec.ca = 1;
		spec.days = days;
		if ((r = cs_cert_sign(&spec, NULL, key, out, err,
		    errlen)) == 0 &&
		    (r = cs_txn_put_certs(t, CA_CERT, *out, NULL, err,
		    errlen)) == 0)
			r = cs_txn_commit(t, replace, err, errlen);
	} else if ((r = cs_txn_put_certs(t, CA_CHAIN, parent->cert,
	    parent->chain, err, errlen)) == 0) {
		memset(&req, 0, sizeof(req));
		req.subject = subject;
		req.pubkey = key;
		req.ca = 1;
		req.days = days;
		req.file = CA_CERT;
		req.txn = t;
		req.replace = replace;
		r = cs_ca_sign(parent, &req, out, err, errlen);
	}
	if (r != 0) {
		X509_free(*out);
		*out = NULL;
	}
	return r;
}

static int
cs_ca_create(const char *dir, const struct cs_subject *subj,
    const char *keyspec, unsigned days, const char *crl_url, const char *pass,
    size_t passlen, struct cs_ca *parent, X509 **out, char *err, size_t errlen)
{
	struct cs_txn		 t;
	struct stat		 st;
	struct buf		 conf;
	EVP_PKEY		*key = NULL;
	X509_NAME		*name = NULL;
	X509			*x = NULL;
	BIGNUM			*serial = NULL;
	char			 hex[64], line[80], p[FTPS_PATH_MAX + 64];
	const char		*const exist[] = { CA_CERT, CA_KEY, CA_INDEX };
	size_t			 i;
	int			 r, txn = 0;

	*out = NULL;
	buf_init(&conf, 16384);
	if (crl_url != NULL && (r = cs_url_check(crl_url, err, errlen)) != 0)
		return r;
	/* Refused before anything of the new CA exists. */
	if (parent != NULL && ((r = cs_ca_usable(parent, err, errlen)) != 0 ||
	    (r = cs_ca_may_sign_ca(parent, err, errlen)) != 0))
		return r;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return cs_err(err, errlen, FTPS_ESYS, "%s: %s", dir,
		    strerror(errno));
	for (i = 0; i < sizeof(exist) / sizeof(exist[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, exist[i]);
		if (lstat(p, &st) == 0)
			return cs_err(err, errlen, FTPS_EEXIST, "%s: already "
			    "exists: %s holds a CA already (certmgr ca renew "
			    "renews its certificate with the same key; for a "
			    "new CA give --ca-dir NEWDIR)", p, dir);
	}
	snprintf(p, sizeof(p), "%s/%s", dir, CA_NEWCERTS);
	if (mkdir(p, 0700) == -1 && errno != EEXIST)
		return cs_err(err, errlen, FTPS_ESYS, "%s: %s", p,
		    strerror(errno));

	if ((r = cs_subject_build(subj, &name, err, errlen)) != 0 ||
	    (r = cs_keygen(keyspec, &key, err, errlen)) != 0)
		goto out;
	if (cs_serial_random(&serial) != 0 ||
	    cs_bn_hex(serial, hex, sizeof(hex)) != 0) {
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "serial");
		goto out;
	}
	snprintf(line, sizeof(line), "%s\n", hex);
	if (cs_ca_conf_text(&conf, crl_url) != 0) {
		r = cs_err(err, errlen, FTPS_ETOOBIG, "%s: settings too long",
		    dir);
		goto out;
	}
	if ((r = cs_txn_begin(&t, dir, err, errlen)) != 0)
		goto out;
	txn = 1;
	if ((r = cs_txn_put_key(&t, CA_KEY, key, pass, passlen, err,
	    errlen)) != 0 ||
	    (r = cs_txn_put(&t, CA_INDEX, "", 0, 0, err, errlen)) != 0 ||
	    (r = cs_txn_put(&t, CA_ATTR, "unique_subject = no\n", 20, 0, err,
	    errlen)) != 0 ||
	    (r = cs_txn_put(&t, CA_SERIAL, line, strlen(line), 0, err,
	    errlen)) != 0 ||
	    (r = cs_txn_put(&t, CA_CRLNUMBER, "01\n", 3, 0, err,
	    errlen)) != 0 ||
	    (r = cs_txn_put(&t, CA_CONF, buf_str(&conf), buf_len(&conf), 0,
	    err, errlen)) != 0 ||
	    (r = cs_ca_cert(parent, name, key, days, &t, 0, &x, err,
	    errlen)) != 0)
		goto out;
	*out = x;
	x = NULL;
 out:
	if (txn)
		cs_txn_end(&t);
	buf_free(&conf);
	BN_free(serial);
	X509_free(x);
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return r;
}

int
cs_ca_renew(struct cs_ca *ca, struct cs_ca *parent, unsigned days, X509 **out,
    char *err, size_t errlen)
{
	struct cs_txn	 t;
	int		 r;

	*out = NULL;
	if (parent == NULL && ca->key == NULL)
		return cs_err(err, errlen, FTPS_EDENIED, "%s: CA key not "
		    "loaded", ca->dir);
	if (parent != NULL &&
	    X509_check_issued(parent->cert, ca->cert) != X509_V_OK)
		return cs_err(err, errlen, FTPS_EDENIED, "%s/%s: was not "
		    "issued by the CA in %s", ca->dir, CA_CERT, parent->dir);
	if ((r = cs_txn_begin(&t, ca->dir, err, errlen)) != 0)
		return r;
	r = cs_ca_cert(parent, X509_get_subject_name(ca->cert),
	    parent == NULL ? ca->key : X509_get0_pubkey(ca->cert), days, &t, 1,
	    out, err, errlen);
	cs_txn_end(&t);
	return r;
}

/* [certmgr] crl_url of openssl.cnf, when there is one. */
static int
cs_ca_read_conf(struct cs_ca *ca, char *err, size_t errlen)
{
	CONF		*conf;
	char		 p[FTPS_PATH_MAX + 64];
	const char	*url;
	long		 eline = 0;
	struct stat	 st;
	int		 r = 0;

	ca->crl_url[0] = '\0';
	snprintf(p, sizeof(p), "%s/%s", ca->dir, CA_CONF);
	if (stat(p, &st) == -1 && errno == ENOENT)
		return 0;
	if ((conf = NCONF_new(NULL)) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	if (NCONF_load(conf, p, &eline) != 1) {
		r = cs_err_ssl(err, errlen, FTPS_EPARSE, "%s:%ld: unreadable "
		    "settings", p, eline);
		goto out;
	}
	if ((url = NCONF_get_string(conf, "certmgr", "crl_url")) != NULL) {
		if (cs_url_check(url, err, errlen) != 0 ||
		    str_copy(ca->crl_url, sizeof(ca->crl_url), url) != 0) {
			r = cs_err(err, errlen, FTPS_EPARSE, "%s: crl_url is "
			    "not a usable URL", p);
			goto out;
		}
	}
	ERR_clear_error();
 out:
	NCONF_free(conf);
	return r;
}

int
cs_ca_open(struct cs_ca *ca, const char *dir, char *err, size_t errlen)
{
	struct cs_bundle	 b;
	unsigned char		*data;
	size_t			 len;
	char			 lab[FTPS_PATH_MAX + 64];
	int			 r;

	memset(ca, 0, sizeof(*ca));
	ca->lockfd = -1;
	if (str_copy(ca->dir, sizeof(ca->dir), dir) != 0)
		return cs_err(err, errlen, FTPS_ETOOBIG, "CA folder name too "
		    "long");
	if ((ca->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		r = errno == ENOENT ? FTPS_ENOENT : FTPS_ESYS;
		return cs_err(err, errlen, r, "%s: %s%s", dir, strerror(errno),
		    r == FTPS_ENOENT ? " (create the CA with certmgr ca init)" :
		    "");
	}
	if ((r = cs_read_at(ca->dirfd, dir, CA_CERT, &data, &len, err,
	    errlen)) != 0)
		goto fail;
	snprintf(lab, sizeof(lab), "%s/%s", dir, CA_CERT);
	r = cs_decode(lab, data, len, NULL, &b, err, errlen);
	cs_data_free(data, len);
	if (r != 0)
		goto fail;
	if (sk_X509_num(b.certs) == 0) {
		cs_bundle_free(&b);
		r = cs_err(err, errlen, FTPS_EPARSE, "%s: holds no "
		    "certificate", lab);
		goto fail;
	}
	ca->cert = sk_X509_shift(b.certs);
	cs_bundle_free(&b);
	if (X509_check_ca(ca->cert) != 1) {
		r = cs_err(err, errlen, FTPS_EPARSE, "%s: not a CA "
		    "certificate (no basicConstraints CA:TRUE)", lab);
		goto fail;
	}
	/* An intermediate's issuers, sent along with every leaf it signs. */
	r = cs_read_at(ca->dirfd, dir, CA_CHAIN, &data, &len, err, errlen);
	if (r == 0) {
		snprintf(lab, sizeof(lab), "%s/%s", dir, CA_CHAIN);
		r = cs_decode(lab, data, len, NULL, &b, err, errlen);
		cs_data_free(data, len);
		if (r != 0)
			goto fail;
		ca->chain = b.certs;
		b.certs = NULL;
		cs_bundle_free(&b);
	} else if (r != FTPS_ENOENT)
		goto fail;
	if ((r = cs_ca_read_conf(ca, err, errlen)) != 0)
		goto fail;
	return 0;
 fail:
	cs_ca_close(ca);
	return r;
}

int
cs_ca_load_key(struct cs_ca *ca, const struct cs_pass *pass, char *err,
    size_t errlen)
{
	struct cs_bundle	 b;
	unsigned char		*data;
	size_t			 len;
	char			 lab[FTPS_PATH_MAX + 64];
	int			 r;

	if ((r = cs_read_at(ca->dirfd, ca->dir, CA_KEY, &data, &len, err,
	    errlen)) != 0)
		return r;
	snprintf(lab, sizeof(lab), "%s/%s", ca->dir, CA_KEY);
	r = cs_decode(lab, data, len, pass, &b, err, errlen);
	cs_data_free(data, len);
	if (r != 0)
		return r;
	if (b.key == NULL)
		r = cs_err(err, errlen, FTPS_EPARSE, "%s: holds no private "
		    "key", lab);
	else if (!cs_pair_matches(ca->cert, b.key))
		r = cs_err(err, errlen, FTPS_EDENIED, "%s: does not match "
		    "%s/%s", lab, ca->dir, CA_CERT);
	else {
		ca->key = b.key;
		b.key = NULL;
	}
	cs_bundle_free(&b);
	return r;
}

int
cs_ca_usable(struct cs_ca *ca, char *err, size_t errlen)
{
	char	 when[40];

	if (X509_cmp_current_time(X509_get0_notAfter(ca->cert)) <= 0) {
		cs_time_format(X509_get0_notAfter(ca->cert), when,
		    sizeof(when));
		return cs_err(err, errlen, FTPS_EDENIED, "%s/%s: the CA "
		    "certificate expired on %s: it can sign nothing more "
		    "(create a new CA)", ca->dir, CA_CERT, when);
	}
	if (X509_cmp_current_time(X509_get0_notBefore(ca->cert)) >= 0) {
		cs_time_format(X509_get0_notBefore(ca->cert), when,
		    sizeof(when));
		return cs_err(err, errlen, FTPS_EDENIED, "%s/%s: the CA "
		    "certificate is not valid before %s", ca->dir, CA_CERT,
		    when);
	}
	return 0;
}

int
cs_ca_is_root(const struct cs_ca *ca)
{
	return X509_self_signed(ca->cert, 0) == 1;
}

void
cs_ca_close(struct cs_ca *ca)
{
	cs_ca_unlock(ca);
	sk_X509_pop_free(ca->chain, X509_free);
	ca->chain = NULL;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	if (ca->dirfd >= 0)
		close(ca->dirfd);
	ca->cert = NULL;
	ca->key = NULL;
	ca->dirfd = -1;
}

/*
 * Only a lock holder writes temporary files here, so once we hold the
 * lock every ".FILE.XXXXXXXX" left is a killed writer's.
 */
static void
cs_ca_sweep(int dirfd)
{
	static const char *const bases[] = {
		CA_INDEX, CA_SERIAL, CA_CRLNUMBER, CA_CRL,
	};
	DIR		*d;
	struct dirent	*de;
	size_t		 i, n;
	int		 fd;

	if ((fd = dup(dirfd)) == -1)
		return;
	if (lseek(fd, 0, SEEK_SET) == -1 || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			continue;
		for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
			n = strlen(bases[i]);
			if (strncmp(de->d_name + 1, bases[i], n) == 0 &&
			    de->d_name[n + 1] == '.' &&
			    strlen(de->d_name + n + 2) == 8)
				(void)unlinkat(dirfd, de->d_name, 0);
		}
	}
	closedir(d);
}

static void
cs_ca_sweep_newcerts(struct cs_ca *ca)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	if ((fd = openat(ca->dirfd, CA_NEWCERTS, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] == '.' && strstr(de->d_name, ".pem.") != NULL)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

int
cs_ca_lock(struct cs_ca *ca, char *err, size_t errlen)
{
	struct timespec	 nap = { 0, 20 * 1000 * 1000 };
	time_t		 until;

	if (ca->lockfd >= 0)
		return 0;
	if ((ca->lockfd = openat(ca->dirfd, CA_LOCK, O_RDWR | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return cs_err(err, errlen, FTPS_ESYS, "%s/%s: %s", ca->dir,
		    CA_LOCK, strerror(errno));
	until = time(NULL) + CS_CA_LOCK_WAIT;
	while (flock(ca->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int	 e = errno;

			close(ca->lockfd);
			ca->lockfd = -1;
			return cs_err(err, errlen, FTPS_ESYS, "%s/%s: %s",
			    ca->dir, CA_LOCK, strerror(e));
		}
		if (time(NULL) > until) {
			close(ca->lockfd);
			ca->lockfd = -1;
			return cs_err(err, errlen, FTPS_EDENIED, "%s: the CA "
			    "database stayed locked for %d seconds by another "
			    "certmgr", ca->dir, CS_CA_LOCK_WAIT);
		}
		nanosleep(&nap, NULL);
	}
	cs_ca_sweep(ca->dirfd);
	cs_ca_sweep_newcerts(ca);
	return 0;
}

void
cs_ca_unlock(struct cs_ca *ca)
{
	if (ca->lockfd >= 0) {
		(void)flock(ca->lockfd, LOCK_UN);
		close(ca->lockfd);
	}
	ca->lockfd = -1;
}

int
cs_ca_db_read(struct cs_ca *ca, struct cs_db *db, char *err, size_t errlen)
{
	unsigned char	*data;
	size_t		 len;
	char		 lab[FTPS_PATH_MAX + 64];
	int		 r;

	memset(db, 0, sizeof(*db));
	if ((r = cs_read_at_max(ca->dirfd, ca->dir, CA_INDEX, CS_CA_DB_MAX,
	    &data, &len, err, errlen)) != 0)
		return r;
	snprintf(lab, sizeof(lab), "%s/%s", ca->dir, CA_INDEX);
	if (memchr(data, '\0', len) != NULL)
		r = cs_err(err, errlen, FTPS_EPARSE, "%s: holds a NUL byte",
		    lab);
	else
		r = cs_db_parse(lab, (const char *)data, len, db, err, errlen);
	cs_data_free(data, len);
	return r;
}

/* Replaces one small file of the CA folder. */
static int
cs_ca_put(struct cs_ca *ca, const char *sub, const char *fname,
    const char *text, size_t len, int replace, char *err, size_t errlen)
{
	struct cs_txn	 t;
	char		 d[FTPS_PATH_MAX + 64];
	int		 r;

	if (sub != NULL)
		snprintf(d, sizeof(d), "%s/%s", ca->dir, sub);
	else
		snprintf(d, sizeof(d), "%s", ca->dir);
	if ((r = cs_txn_begin(&t, d, err, errlen)) != 0)
		return r;
	if ((r = cs_txn_put(&t, fname, text, len, 0, err, errlen)) == 0)
		r = cs_txn_commit(&t, replace, err, errlen);
	cs_txn_end(&t);
	return r;
}

int
cs_ca_db_write(struct cs_ca *ca, const struct cs_db *db, char *err,
    size_t errlen)
{
	char	*text;
	size_t	 len;
	int	 r;

	if (ca->lockfd < 0)
		return cs_err(err, errlen, FTPS_EDENIED, "%s: database "
		    "written without the lock", ca->dir);
	if ((r = cs_db_format(db, &text, &len)) != 0)
		return cs_err(err, errlen, r, "%s/%s: %s", ca->dir, CA_INDEX,
		    ftps_strerror(r));
	r = cs_ca_put(ca, NULL, CA_INDEX, text, len, 1, err, errlen);
	free(text);
	return r;
}

/* "YYMMDDHHMMSSZ" of now, as openssl ca records revocations. */
static int
cs_now_utc(char *out, size_t size)
{
	ASN1_TIME	*t;
	int		 r;

	if ((t = ASN1_TIME_adj(NULL, time(NULL), 0, 0)) == NULL)
		return FTPS_ENOMEM;
	r = cs_field(out, size, (const char *)ASN1_STRING_get0_data(t),
	    (size_t)ASN1_STRING_length(t)) == 0 ? 0 : FTPS_ETOOBIG;
	ASN1_TIME_free(t);
	return r;
}

static int
cs_revoke_row(struct cs_dbrow *row, const char *reason)
{
	char	 now[24];

	if (cs_now_utc(now, sizeof(now)) != 0)
		return FTPS_ENOMEM;
	row->status = 'R';
	if (reason != NULL && strcmp(reason, "unspecified") != 0)
		snprintf(row->revoked, sizeof(row->revoked), "%s,%s", now,
		    reason);
	else
		snprintf(row->revoked, sizeof(row->revoked), "%s", now);
	return 0;
}

/*
 * SECURITY: basicConstraints pathlen bounds how deep a chain may go;
 * signing a CA below a CA whose pathlen is 0 would make a certificate
 * every verifier refuses.
 */
static int
cs_ca_may_sign_ca(struct cs_ca *ca, char *err, size_t errlen)
{
	if (X509_get_pathlen(ca->cert) != 0)
		return 0;
	return cs_err(err, errlen, FTPS_EDENIED, "%s/%s: this CA may sign no "
	    "other CA (pathlen 0)%s", ca->dir, CA_CERT, cs_ca_is_root(ca) ?
	    ": renew it first (certmgr ca renew --ca-dir DIR: same key, "
	    "pathlen 1)" : ": sign with its root");
}

/* The bytes cs_db_format() writes for row. */
static size_t
cs_row_size(const struct cs_dbrow *row)
{
	return 6 + 1 + strlen(row->expiry) + strlen(row->revoked) +
	    strlen(row->serial) + strlen(row->file) + strlen(row->subject);
}

/*
 * The row of a certificate about to be signed, and whether the database
 * has room for it: refused before signing, never after.
 */
static int
cs_sign_room(struct cs_ca *ca, const struct cs_db *db,
    const struct cs_dbrow *row, char *err, size_t errlen)
{
	size_t	 i, total;

	if (db->n >= CS_CA_ROWS_MAX)
		return cs_err(err, errlen, FTPS_ETOOBIG, "%s/%s: holds %zu "
		    "certificates, the most certmgr keeps in one CA: make a "
		    "new CA for new certificates (certmgr ca init --ca-dir "
		    "DIR)", ca->dir, CA_INDEX, db->n);
	/* The row, plus a superseded row's revocation date and reason. */
	total = cs_row_size(row) + sizeof(row->revoked);
	for (i = 0; i < db->n; i++)
		total += cs_row_size(&db->rows[i]);
	if (total > CS_CA_DB_MAX)
		return cs_err(err, errlen, FTPS_ETOOBIG, "%s/%s: would grow "
		    "past %d bytes, the most certmgr reads: make a new CA "
		    "for new certificates (certmgr ca init --ca-dir DIR)",
		    ca->dir, CA_INDEX, CS_CA_DB_MAX);
	return 0;
}

int
cs_ca_sign(struct cs_ca *ca, struct cs_signreq *req, X509 **out, char *err,
    size_t errlen)
{
	struct cs_certspec	 spec;
	struct cs_db		 db;
	struct cs_dbrow		 row, saved, *old = NULL;
	struct stat		 st;
	X509			*x = NULL;
	BIGNUM			*serial = NULL, *next = NULL;
	BIO			*pem = NULL;
	char			 hex[64], fname[96], line[112], *subj = NULL;
	char			*p;
	const ASN1_TIME		*na;
	long			 plen;
	int			 r, tries, pemdone = 0;

	*out = NULL;
	memset(&db, 0, sizeof(db));
	memset(&row, 0, sizeof(row));
	req->clamped = 0;
	if (ca->key == NULL)
		return cs_err(err, errlen, FTPS_EDENIED, "%s: CA key not "
		    "loaded", ca->dir);
	if ((r = cs_ca_usable(ca, err, errlen)) != 0)
		return r;

	/* 1. Every check that can refuse, before anything is signed. */
	if (req->ca && (r = cs_ca_may_sign_ca(ca, err, errlen)) != 0)
		return r;
	if (req->file != NULL && (strchr(req->file, '\t') != NULL ||
	    strchr(req->file, '\n') != NULL ||
	    strlen(req->file) >= sizeof(row.file)))
		return cs_err(err, errlen, FTPS_EPARSE, "%s: not a file name "
		    "index.txt can record", req->file);
	snprintf(row.file, sizeof(row.file), "%s", req->file != NULL ?
	    req->file : "unknown");
	if ((subj = X509_NAME_oneline(req->subject, NULL, 0)) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	if (cs_field(row.subject, sizeof(row.subject), subj,
	    strlen(subj)) != 0) {
		r = cs_err(err, errlen, FTPS_ETOOBIG, "the subject is %zu "
		    "characters long as %s/%s records it, more than %zu: "
		    "shorten it", strlen(subj), ca->dir, CA_INDEX,
		    sizeof(row.subject) - 1);
		OPENSSL_free(subj);
		return r;
	}
	OPENSSL_free(subj);
	if ((r = cs_ca_lock(ca, err, errlen)) != 0)
		return r;
	if ((r = cs_ca_db_read(ca, &db, err, errlen)) != 0)
		goto out;

	/* 2. A random serial no row and no newcerts file has yet. */
	for (tries = 0; ; tries++) {
		BN_free(serial);
		serial = NULL;
		if (tries == 16 || cs_serial_random(&serial) != 0 ||
		    cs_bn_hex(serial, hex, sizeof(hex)) != 0) {
			r = cs_err_ssl(err, errlen, FTPS_ETLS, "%s: no unused "
			    "serial could be drawn", ca->dir);
			goto out;
		}
		snprintf(fname, sizeof(fname), "%s/%s.pem", CA_NEWCERTS, hex);
		if (cs_db_find(&db, hex) == NULL &&
		    fstatat(ca->dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) == -1)
			break;
	}
	row.status = 'V';
	snprintf(row.serial, sizeof(row.serial), "%s", hex);
	/* The longest expiry (GeneralizedTime) stands in until signed. */
	snprintf(row.expiry, sizeof(row.expiry), "YYYYMMDDHHMMSSZ");
	if ((r = cs_sign_room(ca, &db, &row, err, errlen)) != 0)
		goto out;

	/* 3. The certificate. */
	memset(&spec, 0, sizeof(spec));
	spec.subject = req->subject;
	spec.pubkey = req->pubkey;
	spec.san = req->san;
	spec.purpose = req->purpose;
	spec.ca = req->ca;
	spec.days = req->days;
	spec.serial = serial;
	spec.crl_url = ca->crl_url[0] != '\0' ? ca->crl_url : NULL;
	if ((r = cs_cert_sign(&spec, ca->cert, ca->key, &x, err,
	    errlen)) != 0)
		goto out;
	req->clamped = spec.clamped;
	na = X509_get0_notAfter(x);
	if (cs_field(row.expiry, sizeof(row.expiry),
	    (const char *)ASN1_STRING_get0_data(na),
	    (size_t)ASN1_STRING_length(na)) != 0) {
		r = cs_err(err, errlen, FTPS_ETLS, "notAfter");
		goto out;
	}
	if (req->txn != NULL && req->file != NULL &&
	    (r = cs_txn_put_certs(req->txn, req->file, x, NULL, err,
	    errlen)) != 0)
		goto out;

	/* 4. newcerts/SERIAL.pem first: a row never names a missing file. */
	if ((pem = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(pem, x) != 1 ||
	    (plen = BIO_get_mem_data(pem, &p)) <= 0) {
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "encoding");
		goto out;
	}
	snprintf(fname, sizeof(fname), "%s.pem", hex);
	if ((r = cs_ca_put(ca, CA_NEWCERTS, fname, p, (size_t)plen, 0, err,
	    errlen)) != 0)
		goto out;
	pemdone = 1;

	/* 5. The row (and the superseded one) in one atomic replace. */
	if (req->supersedes != NULL &&
	    (old = cs_db_find(&db, req->supersedes)) != NULL) {
		saved = *old;
		if (old->status != 'V')
			old = NULL;
		else if (cs_revoke_row(old, "superseded") != 0) {
			r = cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((r = cs_db_push(&db, &row)) != 0) {
		r = cs_err(err, errlen, r, "%s/%s: %s", ca->dir, CA_INDEX,
		    ftps_strerror(r));
		goto out;
	}
	if ((r = cs_ca_db_write(ca, &db, err, errlen)) != 0)
		goto out;

	/* 6. The caller's files; if they cannot be written, take it back. */
	if (req->txn != NULL &&
	    (r = cs_txn_commit(req->txn, req->replace, err, errlen)) != 0) {
		db.n--;
		if (old != NULL)
			*old = saved;
		(void)cs_ca_db_write(ca, &db, NULL, 0);
		goto out;
	}

	/* 7. A fresh serial for openssl ca; ours are drawn each time. */
	if (cs_serial_random(&next) == 0 &&
	    cs_bn_hex(next, fname, sizeof(fname)) == 0) {
		snprintf(line, sizeof(line), "%s\n", fname);
		(void)cs_ca_put(ca, NULL, CA_SERIAL, line, strlen(line), 1,
		    NULL, 0);
	}
	*out = x;
	x = NULL;
	pemdone = 0;
 out:
	if (pemdone) {
		snprintf(fname, sizeof(fname), "%s/%s.pem", CA_NEWCERTS, hex);
		(void)unlinkat(ca->dirfd, fname, 0);
	}
	cs_ca_unlock(ca);
	BIO_free(pem);
	BN_free(serial);
	BN_free(next);
	X509_free(x);
	cs_db_free(&db);
	return r;
}

int
cs_ca_revoke(struct cs_ca *ca, const char *serial, const char *reason,
    char *err, size_t errlen)
{
	struct cs_db	 db;
	struct cs_dbrow	*row;
	const char	*rn = NULL;
	int		 r;

	if (reason != NULL && (rn = cs_reason_name(reason)) == NULL)
		return cs_err(err, errlen, FTPS_EPARSE, "unknown reason "
		    "\"%.40s\": use one of %s", reason, cs_reason_list());
	if ((r = cs_ca_lock(ca, err, errlen)) != 0)
		return r;
	if ((r = cs_ca_db_read(ca, &db, err, errlen)) != 0)
		goto out;
	if ((row = cs_db_find(&db, serial)) == NULL) {
		r = cs_err(err, errlen, FTPS_ENOENT, "%s/%s: no certificate "
		    "with serial %.64s", ca->dir, CA_INDEX, serial);
		goto out;
	}
	if (row->status == 'R') {
		r = cs_err(err, errlen, FTPS_EEXIST, "%s/%s: serial %s is "
		    "already revoked", ca->dir, CA_INDEX, row->serial);
		goto out;
	}
	if ((r = cs_revoke_row(row, rn)) != 0)
		goto out;
	r = cs_ca_db_write(ca, &db, err, errlen);
 out:
	cs_ca_unlock(ca);
	cs_db_free(&db);
	return r;
}

static int
cs_crl_add(X509_CRL *crl, const struct cs_dbrow *row)
{
	X509_REVOKED	*rv = NULL;
	ASN1_INTEGER	*sn = NULL;
	ASN1_TIME	*t = NULL;
	ASN1_ENUMERATED	*e = NULL;
	BIGNUM		*bn = NULL;
	char		 rt[48], *comma;
	int		 ok = 0, code = 0;

	snprintf(rt, sizeof(rt), "%s", row->revoked);
	if ((comma = strchr(rt, ',')) != NULL) {
		*comma++ = '\0';
		code = cs_reason_code(comma);
	}
	if ((rv = X509_REVOKED_new()) == NULL ||
	    BN_hex2bn(&bn, row->serial) == 0 ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_REVOKED_set_serialNumber(rv, sn) ||
	    (t = ASN1_TIME_new()) == NULL || !ASN1_TIME_set_string(t, rt) ||
	    !X509_REVOKED_set_revocationDate(rv, t))
		goto out;
	/* RFC 5280 5.3.1: reasonCode absent rather than unspecified (0). */
	if (code > 0 && ((e = ASN1_ENUMERATED_new()) == NULL ||
	    !ASN1_ENUMERATED_set(e, code) ||
	    !X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, e, 0, 0)))
		goto out;
	if (!X509_CRL_add0_revoked(crl, rv))
		goto out;
	rv = NULL;
	ok = 1;
 out:
	X509_REVOKED_free(rv);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(e);
	BN_free(bn);
	return ok;
}

int
cs_ca_crl(struct cs_ca *ca, unsigned days, X509_CRL **out, char *err,
    size_t errlen)
{
	struct cs_db	 db;
	struct cs_txn	 t;
	X509_CRL	*crl = NULL;
	X509_EXTENSION	*ext = NULL;
	X509V3_CTX	 ctx;
	ASN1_TIME	*tm = NULL;
	ASN1_INTEGER	*num = NULL;
	BIGNUM		*bn = NULL;
	BIO		*pem = NULL;
	unsigned char	*data = NULL;
	size_t		 len = 0, i;
	char		 hex[80], *p;
	long		 plen;
	int		 r, txn = 0;

	*out = NULL;
	memset(&db, 0, sizeof(db));
	if (days < 1 || days > CS_CRL_DAYS_MAX)
		return cs_err(err, errlen, FTPS_EPARSE, "a CRL is valid 1 to "
		    "%d days", CS_CRL_DAYS_MAX);
	if (ca->key == NULL)
		return cs_err(err, errlen, FTPS_EDENIED, "%s: CA key not "
		    "loaded", ca->dir);
	if ((r = cs_ca_lock(ca, err, errlen)) != 0)
		return r;
	if ((r = cs_ca_db_read(ca, &db, err, errlen)) != 0)
		goto out;

	/* 1. The CRL number: crlnumber, or 1 when it is missing. */
	r = cs_read_at(ca->dirfd, ca->dir, CA_CRLNUMBER, &data, &len, err,
	    errlen);
	if (r == FTPS_ENOENT)
		r = BN_hex2bn(&bn, "01") ? 0 : FTPS_ENOMEM;
	else if (r == 0 && (cs_serial_norm(str_trim((char *)data), hex,
	    sizeof(hex)) != 0 || BN_hex2bn(&bn, hex) == 0))
		r = cs_err(err, errlen, FTPS_EPARSE, "%s/%s: not a hex "
		    "number", ca->dir, CA_CRLNUMBER);
	if (r != 0)
		goto out;

	/* 2. The list, signed. */
	if ((crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) ||
	    (tm = X509_gmtime_adj(NULL, 0)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, tm) ||
	    X509_time_adj_ex(tm, (int)days, 0, NULL) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, tm)) {
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "CRL fields");
		goto out;
	}
	for (i = 0; i < db.n; i++)
		if (db.rows[i].status == 'R' && !cs_crl_add(crl,
		    &db.rows[i])) {
			r = cs_err_ssl(err, errlen, FTPS_ETLS, "%s/%s: serial "
			    "%s", ca->dir, CA_INDEX, db.rows[i].serial);
			goto out;
		}
	X509_CRL_sort(crl);
	X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    !X509_CRL_add_ext(crl, ext, -1) ||
	    (num = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0)) {
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "CRL extensions");
		goto out;
	}
	if (X509_CRL_sign(crl, ca->key, EVP_PKEY_get_base_id(ca->key) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256()) <= 0) {
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "signing the CRL");
		goto out;
	}

	/* 3. crlnumber before crl.pem: a crash skips a number, never reuses. */
	if (!BN_add_word(bn, 1) || cs_bn_hex(bn, hex, sizeof(hex) - 1) != 0) {
		r = cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
		goto out;
	}
	hex[strlen(hex) + 1] = '\0';
	hex[strlen(hex)] = '\n';
	if ((pem = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_CRL(pem, crl) != 1 ||
	    (plen = BIO_get_mem_data(pem, &p)) <= 0) {
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "encoding the CRL");
		goto out;
	}
	if ((r = cs_txn_begin(&t, ca->dir, err, errlen)) != 0)
		goto out;
	txn = 1;
	if ((r = cs_txn_put(&t, CA_CRLNUMBER, hex, strlen(hex), 0, err,
	    errlen)) != 0 ||
	    (r = cs_txn_put(&t, CA_CRL, p, (size_t)plen, 0, err,
	    errlen)) != 0 ||
	    (r = cs_txn_commit(&t, 1, err, errlen)) != 0)
		goto out;
	*out = crl;
	crl = NULL;
 out:
	if (txn)
		cs_txn_end(&t);
	cs_ca_unlock(ca);
	cs_data_free(data, len);
	BIO_free(pem);
	BN_free(bn);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(tm);
	X509_EXTENSION_free(ext);
	X509_CRL_free(crl);
	cs_db_free(&db);
	return r;
}
