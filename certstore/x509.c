/*
 * libcertstore: keys, names, requests and certificates under certmgr's
 * policy (see csx509.h).
 */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "csx509.h"
#include "parse.h"
#include "err.h"

#define CS_SECLEVEL_NOTE \
	"OpenSSL's default security level would refuse to serve it anyway"

int
cs_keygen(const char *spec, EVP_PKEY **out, char *err, size_t errlen)
{
	EVP_PKEY	*k = NULL;

	*out = NULL;
	if (spec == NULL)
		spec = CS_KEY_DEFAULT;
	if (strcmp(spec, "rsa:2048") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(spec, "rsa:3072") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else if (strcmp(spec, "rsa:4096") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	else if (strcasecmp(spec, "ec:P-256") == 0 ||
	    strcasecmp(spec, "ec:prime256v1") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcasecmp(spec, "ec:P-384") == 0 ||
	    strcasecmp(spec, "ec:secp384r1") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcasecmp(spec, "ed25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (strncasecmp(spec, "rsa:", 4) == 0 &&
	    strtoul(spec + 4, NULL, 10) < 2048)
		return cs_err(err, errlen, FTPS_EDENIED, "key %s is refused: "
		    "RSA keys need at least 2048 bits (" CS_SECLEVEL_NOTE ")",
		    spec);
	else if (strncasecmp(spec, "dsa", 3) == 0)
		return cs_err(err, errlen, FTPS_EDENIED, "key %s is refused: "
		    "DSA is obsolete and TLS 1.3 cannot use it ("
		    CS_SECLEVEL_NOTE ")", spec);
	else
		return cs_err(err, errlen, FTPS_EPARSE, "unknown key type "
		    "\"%.40s\": use rsa:2048, rsa:3072, rsa:4096, ec:P-256, "
		    "ec:P-384 or ed25519", spec);
	if (k == NULL)
		return cs_err_ssl(err, errlen, FTPS_ETLS,
		    "key generation (%s) failed", spec);
	*out = k;
	return 0;
}

/* The NIST name of an EC key's curve ("P-256"), or its own name. */
static void
cs_curve(EVP_PKEY *key, char *out, size_t size)
{
	char		 g[64];
	const char	*nist;
	size_t		 gl = 0;
	int		 nid;

	snprintf(out, size, "?");
	if (EVP_PKEY_get_group_name(key, g, sizeof(g), &gl) != 1)
		return;
	nid = OBJ_sn2nid(g);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(g);
	if (nid != NID_undef && (nist = EC_curve_nid2nist(nid)) != NULL)
		snprintf(out, size, "%s", nist);
	else
		snprintf(out, size, "%s", g);
}

void
cs_key_describe(EVP_PKEY *key, char *out, size_t size)
{
	char	 c[64];

	if (key == NULL) {
		snprintf(out, size, "none");
		return;
	}
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		snprintf(out, size, "RSA %d", EVP_PKEY_get_bits(key));
		break;
	case EVP_PKEY_RSA_PSS:
		snprintf(out, size, "RSA-PSS %d", EVP_PKEY_get_bits(key));
		break;
	case EVP_PKEY_EC:
		cs_curve(key, c, sizeof(c));
		snprintf(out, size, "EC %s", c);
		break;
	case EVP_PKEY_ED25519:
		snprintf(out, size, "Ed25519");
		break;
	case EVP_PKEY_ED448:
		snprintf(out, size, "Ed448");
		break;
	case EVP_PKEY_DSA:
		snprintf(out, size, "DSA %d", EVP_PKEY_get_bits(key));
		break;
	default:
		snprintf(out, size, "%s", EVP_PKEY_get0_type_name(key) ?
		    EVP_PKEY_get0_type_name(key) : "unknown");
		break;
	}
}

/*
 * SECURITY: a key below these sizes can be factored or its discrete log
 * found by a well-funded attacker within a certificate's life, and an
 * unexpected curve may be one no client verifies correctly (or at all):
 * either way the certificate would protect nothing.
 */
int
cs_key_check(EVP_PKEY *key, const char *label, char *err, size_t errlen)
{
	char	 c[64];
	int	 bits;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		if ((bits = EVP_PKEY_get_bits(key)) < 2048)
			return cs_err(err, errlen, FTPS_EDENIED, "%s: RSA key "
			    "of %d bits is refused: at least 2048 are needed "
			    "(" CS_SECLEVEL_NOTE ")", label, bits);
		return 0;
	case EVP_PKEY_EC:
		cs_curve(key, c, sizeof(c));
		if (strcmp(c, "P-256") == 0 || strcmp(c, "P-384") == 0 ||
		    strcmp(c, "P-521") == 0)
			return 0;
		return cs_err(err, errlen, FTPS_EDENIED, "%s: EC curve %s is "
		    "refused: TLS clients expect P-256, P-384 or P-521",
		    label, c);
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return 0;
	case EVP_PKEY_DSA:
		return cs_err(err, errlen, FTPS_EDENIED, "%s: DSA keys are "
		    "refused: DSA is obsolete and TLS 1.3 cannot use it ("
		    CS_SECLEVEL_NOTE ")", label);
	default:
		cs_key_describe(key, c, sizeof(c));
		return cs_err(err, errlen, FTPS_EDENIED, "%s: %s keys are not "
		    "usable for TLS certificates", label, c);
	}
}

/*
 * SECURITY: with MD5 or SHA-1, chosen-prefix collisions let an attacker
 * get a signature over one certificate that is valid for another (a CA
 * certificate, or someone else's name).
 */
static int
cs_md_refused(int mdnid, const char *label, char *err, size_t errlen)
{
	switch (mdnid) {
	case NID_md2:
	case NID_md4:
	case NID_md5:
	case NID_md5_sha1:
	case NID_sha1:
	case NID_mdc2:
		return cs_err(err, errlen, FTPS_EDENIED, "%s: signed with %s, "
		    "which is refused: collisions can be forged ("
		    CS_SECLEVEL_NOTE ")", label, OBJ_nid2sn(mdnid));
	default:
		return 0;
	}
}

int
cs_sig_check_cert(X509 *x, const char *label, char *err, size_t errlen)
{
	int	 mdnid = NID_undef, pknid = NID_undef;

	if (!OBJ_find_sigid_algs(X509_get_signature_nid(x), &mdnid, &pknid))
		return cs_err(err, errlen, FTPS_EDENIED, "%s: unknown "
		    "signature algorithm", label);
	if (pknid == NID_dsa || pknid == NID_dsaWithSHA1)
		return cs_err(err, errlen, FTPS_EDENIED, "%s: signed with "
		    "DSA, which is refused (" CS_SECLEVEL_NOTE ")", label);
	return cs_md_refused(mdnid, label, err, errlen);
}

int
cs_sig_check_csr(X509_REQ *q, const char *label, char *err, size_t errlen)
{
	const X509_ALGOR	*alg = NULL;
	const ASN1_OBJECT	*obj = NULL;
	int			 mdnid = NID_undef, pknid = NID_undef;

	X509_REQ_get0_signature(q, NULL, &alg);
	if (alg != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj == NULL || !OBJ_find_sigid_algs(OBJ_obj2nid(obj), &mdnid,
	    &pknid))
		return cs_err(err, errlen, FTPS_EDENIED, "%s: unknown "
		    "signature algorithm", label);
	return cs_md_refused(mdnid, label, err, errlen);
}

/* Printable, no control characters, valid UTF-8 left to OpenSSL. */
static int
cs_attr_ok(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return 0;
	return 1;
}

static int
cs_name_add(X509_NAME *n, const char *field, const char *what, const char *v,
    size_t max, char *err, size_t errlen)
{
	if (v == NULL || *v == '\0')
		return 0;
	if (strlen(v) > max)
		return cs_err(err, errlen, FTPS_EPARSE, "%s is longer than %zu "
		    "characters", what, max);
	if (!cs_attr_ok(v))
		return cs_err(err, errlen, FTPS_EPARSE, "%s holds a control "
		    "character", what);
	if (!X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
	    (const unsigned char *)v, -1, -1, 0))
		return cs_err_ssl(err, errlen, FTPS_EPARSE, "%s \"%.64s\" is "
		    "refused", what, v);
	return 0;
}

int
cs_subject_build(const struct cs_subject *s, X509_NAME **out, char *err,
    size_t errlen)
{
	X509_NAME	*n;
	char		 cc[3];
	int		 r;

	*out = NULL;
	if (s->cn == NULL || *s->cn == '\0')
		return cs_err(err, errlen, FTPS_EPARSE, "a common name (--cn) "
		    "is required");
	if (s->email != NULL && *s->email != '\0' &&
	    strchr(s->email, '@') == NULL)
		return cs_err(err, errlen, FTPS_EPARSE, "e-mail address "
		    "\"%.64s\" has no '@'", s->email);
	if ((n = X509_NAME_new()) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	/* Upper-case and check first: the order is the usual C..CN. */
	if (s->country != NULL && *s->country != '\0') {
		if ((r = cs_country_check(s->country, cc, err, errlen)) != 0)
			goto out;
		if ((r = cs_name_add(n, "C", "country", cc, 2, err,
		    errlen)) != 0)
			goto out;
	}
	/* Upper bounds from RFC 5280 Appendix A (ub-*). */
	if ((r = cs_name_add(n, "ST", "state", s->state, 128, err,
	    errlen)) != 0 ||
	    (r = cs_name_add(n, "L", "locality", s->locality, 128, err,
	    errlen)) != 0 ||
	    (r = cs_name_add(n, "O", "organisation", s->org, 64, err,
	    errlen)) != 0 ||
	    (r = cs_name_add(n, "OU", "organisational unit", s->ou, 64, err,
	    errlen)) != 0 ||
	    (r = cs_name_add(n, "CN", "common name", s->cn, 64, err,
	    errlen)) != 0 ||
	    (r = cs_name_add(n, "emailAddress", "e-mail address", s->email,
	    128, err, errlen)) != 0)
		goto out;
	*out = n;
	n = NULL;
 out:
	X509_NAME_free(n);
	return r;
}

int
cs_dns_valid(const char *s, int wildcard)
{
	size_t	 n = strlen(s), lab = 0, i;

	if (wildcard && strncmp(s, "*.", 2) == 0) {
		s += 2;
		n -= 2;
		/* "*.com" would match every .com host: two labels at least. */
		if (strchr(s, '.') == NULL)
			return 0;
	}
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!isascii((unsigned char)s[i]) ||
		    !(isalnum((unsigned char)s[i]) || s[i] == '-'))
			return 0;
		if (lab == 0 && s[i] == '-')
			return 0;
		if (++lab > 63)
			return 0;
	}
	return lab > 0 && s[n - 1] != '-';
}

static int
cs_email_valid(const char *s)
{
	const char	*at = strchr(s, '@');

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    strlen(s) > 254)
		return 0;
	for (; s < at; s++)
		if (!isgraph((unsigned char)*s) || *s == '"' || *s == ',' ||
		    *s == '<' || *s == '>' || *s == '\\')
			return 0;
	return cs_dns_valid(at + 1, 0);
}

static int
cs_uri_valid(const char *s)
{
	const char	*p;

	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0 &&
	    strncmp(s, "urn:", 4) != 0)
		return 0;
	if (strlen(s) > CS_URL_MAX)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p) || *p == '"' || *p == '\'' ||
		    *p == '\\' || *p == '<' || *p == '>' || *p == ',' ||
		    *p == '$' || *p == '`')
			return 0;
	return 1;
}

int
cs_url_check(const char *url, char *err, size_t errlen)
{
	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0)
		return cs_err(err, errlen, FTPS_EPARSE, "URL \"%.80s\" must "
		    "start with http:// or https://", url);
	if (!cs_uri_valid(url) || strlen(url) < 10)
		return cs_err(err, errlen, FTPS_EPARSE, "URL \"%.80s\" is "
		    "refused: no blanks, quotes, commas, '$' or '\\', at most "
		    "%d characters", url, CS_URL_MAX);
	return 0;
}

static int
cs_gen_eq(const GENERAL_NAME *a, const GENERAL_NAME *b)
{
	return GENERAL_NAME_cmp((GENERAL_NAME *)a, (GENERAL_NAME *)b) == 0;
}

static int
cs_gens_push(GENERAL_NAMES *gens, GENERAL_NAME *g, char *err, size_t errlen)
{
	int	 i;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		if (cs_gen_eq(sk_GENERAL_NAME_value(gens, i), g)) {
			GENERAL_NAME_free(g);
			return 0;
		}
	if (sk_GENERAL_NAME_num(gens) >= 100) {
		GENERAL_NAME_free(g);
		return cs_err(err, errlen, FTPS_ETOOBIG, "more than 100 "
		    "subject alternative names");
	}
	if (!sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	}
	return 0;
}

/* A GENERAL_NAME of type (GEN_DNS, GEN_EMAIL, GEN_URI) holding s. */
static GENERAL_NAME *
cs_gen_ia5(int type, const char *s)
{
	GENERAL_NAME	*g;
	ASN1_IA5STRING	*ia5;

	if ((g = GENERAL_NAME_new()) == NULL)
		return NULL;
	if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(ia5, s, (int)strlen(s))) {
		ASN1_IA5STRING_free(ia5);
		GENERAL_NAME_free(g);
		return NULL;
	}
	GENERAL_NAME_set0_value(g, type, ia5);
	return g;
}

/* A Microsoft UPN otherName (UTF8String), as Windows logons use. */
static GENERAL_NAME *
cs_gen_upn(const char *s)
{
	GENERAL_NAME	*g;
	ASN1_TYPE	*val;
	ASN1_UTF8STRING	*u;

	if ((g = GENERAL_NAME_new()) == NULL)
		return NULL;
	if ((val = ASN1_TYPE_new()) == NULL ||
	    (u = ASN1_UTF8STRING_new()) == NULL) {
		ASN1_TYPE_free(val);
		GENERAL_NAME_free(g);
		return NULL;
	}
	if (!ASN1_STRING_set(u, s, (int)strlen(s))) {
		ASN1_UTF8STRING_free(u);
		ASN1_TYPE_free(val);
		GENERAL_NAME_free(g);
		return NULL;
	}
	ASN1_TYPE_set(val, V_ASN1_UTF8STRING, u);
	if (!GENERAL_NAME_set0_othername(g, OBJ_nid2obj(NID_ms_upn), val)) {
		ASN1_TYPE_free(val);
		GENERAL_NAME_free(g);
		return NULL;
	}
	return g;
}

/* The text of a UPN otherName into out; -1 for any other name. */
static int
cs_upn_text(const GENERAL_NAME *g, char *out, size_t size)
{
	ASN1_OBJECT	*oid;
	ASN1_TYPE	*val;
	int		 len;

	if (g->type != GEN_OTHERNAME ||
	    !GENERAL_NAME_get0_otherName(g, &oid, &val) ||
	    OBJ_obj2nid(oid) != NID_ms_upn || val == NULL ||
	    val->type != V_ASN1_UTF8STRING)
		return -1;
	len = ASN1_STRING_length(val->value.utf8string);
	if (len <= 0 || (size_t)len >= size || memchr(ASN1_STRING_get0_data(
	    val->value.utf8string), '\0', (size_t)len) != NULL)
		return -1;
	memcpy(out, ASN1_STRING_get0_data(val->value.utf8string),
	    (size_t)len);
	out[len] = '\0';
	return 0;
}

static GENERAL_NAME *
cs_gen_ip(const char *s)
{
	GENERAL_NAME		*g;
	ASN1_OCTET_STRING	*ip;

	if ((ip = a2i_IPADDRESS(s)) == NULL)
		return NULL;
	if ((g = GENERAL_NAME_new()) == NULL) {
		ASN1_OCTET_STRING_free(ip);
		return NULL;
	}
	GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
	return g;
}

static int
cs_is_ip(const char *s)
{
	unsigned char	 a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static void
cs_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* One "TYPE:value" (or bare value) entry. */
static int
cs_san_one(char *e, GENERAL_NAMES *gens, char *err, size_t errlen)
{
	GENERAL_NAME	*g = NULL;
	char		*v;

	if (strncasecmp(e, "DNS:", 4) == 0) {
		v = e + 4;
		cs_lower(v);
		if (!cs_dns_valid(v, 1))
			return cs_err(err, errlen, FTPS_EPARSE, "SAN \"%.80s\": "
			    "not a valid DNS name (letters, digits, '-', dots; "
			    "a wildcard only as \"*.\" on the left)", e);
		g = cs_gen_ia5(GEN_DNS, v);
	} else if (strncasecmp(e, "IP:", 3) == 0) {
		v = e + 3;
		if (!cs_is_ip(v))
			return cs_err(err, errlen, FTPS_EPARSE, "SAN \"%.80s\": "
			    "not an IPv4 or IPv6 address", e);
		g = cs_gen_ip(v);
	} else if (strncasecmp(e, "email:", 6) == 0) {
		v = e + 6;
		if (!cs_email_valid(v))
			return cs_err(err, errlen, FTPS_EPARSE, "SAN \"%.80s\": "
			    "not a valid e-mail address", e);
		g = cs_gen_ia5(GEN_EMAIL, v);
	} else if (strncasecmp(e, "URI:", 4) == 0) {
		v = e + 4;
		if (!cs_uri_valid(v))
			return cs_err(err, errlen, FTPS_EPARSE, "SAN \"%.80s\": "
			    "not an http, https or urn URI without blanks or "
			    "quotes", e);
		g = cs_gen_ia5(GEN_URI, v);
	} else if (strncasecmp(e, "UPN:", 4) == 0) {
		v = e + 4;
		if (!cs_email_valid(v))
			return cs_err(err, errlen, FTPS_EPARSE, "SAN \"%.80s\": "
			    "a user principal name is user@domain", e);
		g = cs_gen_upn(v);
	} else if (cs_is_ip(e))
		g = cs_gen_ip(e);
	else if (strchr(e, ':') == NULL && (cs_lower(e), cs_dns_valid(e, 1)))
		g = cs_gen_ia5(GEN_DNS, e);
	else
		return cs_err(err, errlen, FTPS_EPARSE, "SAN \"%.80s\": expected "
		    "DNS:name, IP:address, email:address, URI:uri or "
		    "UPN:user@domain", e);
	if (g == NULL)
		return cs_err_ssl(err, errlen, FTPS_ENOMEM, "SAN \"%.80s\"", e);
	return cs_gens_push(gens, g, err, errlen);
}

int
cs_san_parse(const char *list, GENERAL_NAMES *gens, char *err, size_t errlen)
{
	char	*copy, *p, *e;
	int	 r = 0;

	if (list == NULL)
		return 0;
	if (strlen(list) > 8192)
		return cs_err(err, errlen, FTPS_ETOOBIG, "SAN list too long");
	if ((copy = strdup(list)) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	for (p = copy; r == 0 && (e = strsep(&p, ",")) != NULL; ) {
		while (*e == ' ')
			e++;
		if (*e == '\0')
			r = cs_err(err, errlen, FTPS_EPARSE, "empty entry in "
			    "the SAN list \"%.80s\"", list);
		else
			r = cs_san_one(e, gens, err, errlen);
	}
	free(copy);
	return r;
}

int
cs_san_check(const GENERAL_NAME *g, char *err, size_t errlen)
{
	const ASN1_STRING	*s;
	char			 v[CS_URL_MAX + 1];
	int			 type, len;

	if (cs_upn_text(g, v, sizeof(v)) == 0)
		return cs_email_valid(v) ? 0 : cs_err(err, errlen, FTPS_EPARSE,
		    "requested SAN UPN:%.80s is not user@domain", v);
	s = GENERAL_NAME_get0_value(g, &type);
	switch (type) {
	case GEN_DNS:
	case GEN_EMAIL:
	case GEN_URI:
		len = ASN1_STRING_length(s);
		if (len <= 0 || (size_t)len >= sizeof(v) ||
		    memchr(ASN1_STRING_get0_data(s), '\0', (size_t)len) != NULL)
			return cs_err(err, errlen, FTPS_EPARSE, "requested SAN "
			    "of bad length or with a NUL byte");
		memcpy(v, ASN1_STRING_get0_data(s), (size_t)len);
		v[len] = '\0';
		if (type == GEN_DNS && !cs_dns_valid(v, 1))
			return cs_err(err, errlen, FTPS_EPARSE, "requested SAN "
			    "DNS:%.80s is not a valid DNS name", v);
		if (type == GEN_EMAIL && !cs_email_valid(v))
			return cs_err(err, errlen, FTPS_EPARSE, "requested SAN "
			    "email:%.80s is not a valid e-mail address", v);
		if (type == GEN_URI && !cs_uri_valid(v))
			return cs_err(err, errlen, FTPS_EPARSE, "requested SAN "
			    "URI:%.80s is refused", v);
		return 0;
	case GEN_IPADD:
		len = ASN1_STRING_length(s);
		if (len != 4 && len != 16)
			return cs_err(err, errlen, FTPS_EPARSE, "requested SAN "
			    "IP address of %d bytes", len);
		return 0;
	default:
		return cs_err(err, errlen, FTPS_EPARSE, "requested SAN of a "
		    "type certmgr does not sign (only DNS, IP, email, URI, "
		    "UPN)");
	}
}

int
cs_san_add_cn(GENERAL_NAMES *gens, const char *cn, char *err, size_t errlen)
{
	char	 low[256];

	if (cn == NULL || strlen(cn) >= sizeof(low))
		return 0;
	snprintf(low, sizeof(low), "%s", cn);
	if (cs_is_ip(low))
		return cs_san_one(low, gens, err, errlen);
	cs_lower(low);
	if (!cs_dns_valid(low, 1))
		return 0;
	return cs_san_one(low, gens, err, errlen);
}

int
cs_san_add_email(GENERAL_NAMES *gens, const char *addr, char *err,
    size_t errlen)
{
	char	 e[300];

	if (addr == NULL || *addr == '\0')
		return 0;
	snprintf(e, sizeof(e), "email:%s", addr);
	return cs_san_one(e, gens, err, errlen);
}

int
cs_san_add_upn(GENERAL_NAMES *gens, const char *upn, char *err, size_t errlen)
{
	char	 e[300];

	if (upn == NULL || *upn == '\0')
		return 0;
	snprintf(e, sizeof(e), "UPN:%s", upn);
	return cs_san_one(e, gens, err, errlen);
}

void
cs_san_format(const GENERAL_NAMES *gens, char *out, size_t size)
{
	const GENERAL_NAME	*g;
	const ASN1_STRING	*s;
	const unsigned char	*d;
	char			 ip[64], upn[256];
	size_t			 n;
	int			 i, type, len;

	out[0] = '\0';
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		s = GENERAL_NAME_get0_value(g, &type);
		n = strlen(out);
		if (n + 1 >= size)
			return;
		if (cs_upn_text(g, upn, sizeof(upn)) == 0) {
			snprintf(out + n, size - n, "%sUPN:%s", n ? ", " : "",
			    upn);
			continue;
		}
		if (type == GEN_OTHERNAME) {
			snprintf(out + n, size - n, "%sother", n ? ", " : "");
			continue;
		}
		d = ASN1_STRING_get0_data(s);
		len = ASN1_STRING_length(s);
		switch (type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			snprintf(out + n, size - n, "%s%s:%.*s", n ? ", " : "",
			    type == GEN_DNS ? "DNS" : type == GEN_EMAIL ?
			    "email" : "URI", len, (const char *)d);
			break;
		case GEN_IPADD:
			if (len == 4)
				inet_ntop(AF_INET, d, ip, sizeof(ip));
			else if (len == 16)
				inet_ntop(AF_INET6, d, ip, sizeof(ip));
			else
				snprintf(ip, sizeof(ip), "?");
			snprintf(out + n, size - n, "%sIP:%s", n ? ", " : "",
			    ip);
			break;
		default:
			snprintf(out + n, size - n, "%sother", n ? ", " : "");
			break;
		}
	}
	/* Only printable bytes reach a terminal. */
	for (n = 0; out[n] != '\0'; n++)
		if ((unsigned char)out[n] < 0x20 || out[n] == 0x7f)
			out[n] = '?';
}

GENERAL_NAMES *
cs_cert_sans(X509 *x)
{
	return X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
}

/*
 * SECURITY: unpredictable serials (128 random bits) keep a requester
 * from knowing in advance the exact bytes the CA will sign, the
 * precondition of the collision attacks above.
 */
int
cs_serial_random(BIGNUM **out)
{
	BIGNUM	*bn;

	*out = NULL;
	if ((bn = BN_new()) == NULL)
		return FTPS_ENOMEM;
	/* RFC 5280 4.1.2.2: positive, at most 20 octets; zero is no serial. */
	do {
		if (!BN_rand(bn, CS_SERIAL_BITS, BN_RAND_TOP_ANY,
		    BN_RAND_BOTTOM_ANY)) {
			BN_free(bn);
			return FTPS_ETLS;
		}
	} while (BN_is_zero(bn));
	*out = bn;
	return 0;
}

/* Adds one extension given in openssl.cnf syntax. */
static int
cs_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value, char *err,
    size_t errlen)
{
	X509_EXTENSION	*ext;
	int		 ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL)
		return cs_err_ssl(err, errlen, FTPS_ETLS, "extension %s=%s",
		    OBJ_nid2sn(nid), value);
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok)
		return cs_err_ssl(err, errlen, FTPS_ETLS, "extension %s",
		    OBJ_nid2sn(nid));
	return 0;
}

static const EVP_MD *
cs_sign_md(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return NULL;
	default:
		return EVP_sha256();
	}
}

int
cs_cert_sign(struct cs_certspec *spec, X509 *issuer, EVP_PKEY *signkey,
    X509 **out, char *err, size_t errlen)
{
	X509		*x = NULL;
	BIGNUM		*rnd = NULL;
	const BIGNUM	*serial = spec->serial;
	X509V3_CTX	 ctx;
	char		 ku[96], dp[CS_URL_MAX + 8];
	int		 r = 0, rsa;

	*out = NULL;
	spec->clamped = 0;
	if (spec->days < 1 || (!spec->ca && spec->days > CS_DAYS_MAX) ||
	    spec->days > CS_CA_DAYS_MAX)
		return cs_err(err, errlen, FTPS_EDENIED, "validity of %u days "
		    "is refused: 1 to %d days for a %s", spec->days,
		    spec->ca ? CS_CA_DAYS_MAX : CS_DAYS_MAX,
		    spec->ca ? "CA" : "leaf certificate");
	/*
	 * A server is found by name: it needs a subjectAltName.  A client
	 * certificate may name nobody but its CN, the user it logs in as
	 * (RFC 5280 4.2.1.6 allows it with a non-empty subject).
	 */
	if (!spec->ca && sk_GENERAL_NAME_num(spec->san) < 1 &&
	    (spec->purpose != CS_CLIENT ||
	    X509_NAME_entry_count(spec->subject) == 0))
		return cs_err(err, errlen, FTPS_EPARSE, "no subject "
		    "alternative name: give a host name or address as CN, or "
		    "--san");
	if ((r = cs_key_check(spec->pubkey, "certificate key", err,
	    errlen)) != 0 ||
	    (r = cs_key_check(signkey, "signing key", err, errlen)) != 0)
		return r;
	if (serial == NULL) {
		if (cs_serial_random(&rnd) != 0)
			return cs_err_ssl(err, errlen, FTPS_ETLS, "serial");
		serial = rnd;
	}
	if ((x = X509_new()) == NULL) {
		r = cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
		goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3) ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL ||
	    !X509_set_subject_name(x, spec->subject) ||
	    !X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : spec->subject) ||
	    !X509_set_pubkey(x, spec->pubkey) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -CS_BACKDATE) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)spec->days, 0,
	    NULL) == NULL) {
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "certificate fields");
		goto out;
	}
	/*
	 * A certificate never outlives the one that vouches for it: past
	 * the issuer's notAfter the chain fails anyway, and clients would
	 * blame the leaf.
	 */
	if (issuer != NULL && ASN1_TIME_compare(X509_get0_notAfter(x),
	    X509_get0_notAfter(issuer)) > 0) {
		if (!X509_set1_notAfter(x, X509_get0_notAfter(issuer))) {
			r = cs_err_ssl(err, errlen, FTPS_ETLS, "notAfter");
			goto out;
		}
		spec->clamped = 1;
	}

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	rsa = EVP_PKEY_get_base_id(spec->pubkey) == EVP_PKEY_RSA;
	if (spec->ca)
		snprintf(ku, sizeof(ku), "critical,keyCertSign,cRLSign");
	else
		snprintf(ku, sizeof(ku), "critical,digitalSignature%s",
		    rsa ? ",keyEncipherment" : "");
	/*
	 * A root may sign one level of intermediate CAs, an intermediate
	 * only leaves: a stolen intermediate key cannot mint further CAs.
	 */
	if ((r = cs_ext_conf(x, &ctx, NID_basic_constraints, !spec->ca ?
	    "critical,CA:FALSE" : issuer == NULL ?
	    "critical,CA:TRUE,pathlen:1" : "critical,CA:TRUE,pathlen:0", err,
	    errlen)) != 0 ||
	    (r = cs_ext_conf(x, &ctx, NID_key_usage, ku, err, errlen)) != 0 ||
	    (r = cs_ext_conf(x, &ctx, NID_subject_key_identifier, "hash", err,
	    errlen)) != 0 ||
	    (r = cs_ext_conf(x, &ctx, NID_authority_key_identifier,
	    "keyid:always", err, errlen)) != 0)
		goto out;
	if (!spec->ca) {
		if ((r = cs_ext_conf(x, &ctx, NID_ext_key_usage,
		    spec->purpose == CS_CLIENT ? "clientAuth" : "serverAuth",
		    err, errlen)) != 0)
			goto out;
		if (sk_GENERAL_NAME_num(spec->san) > 0 &&
		    !X509_add1_ext_i2d(x, NID_subject_alt_name, spec->san, 0,
		    X509V3_ADD_REPLACE)) {
			r = cs_err_ssl(err, errlen, FTPS_ETLS,
			    "subjectAltName");
			goto out;
		}
	}
	if (spec->crl_url != NULL) {
		if ((r = cs_url_check(spec->crl_url, err, errlen)) != 0)
			goto out;
		snprintf(dp, sizeof(dp), "URI:%s", spec->crl_url);
		if ((r = cs_ext_conf(x, &ctx, NID_crl_distribution_points, dp,
		    err, errlen)) != 0)
			goto out;
	}
	if (X509_sign(x, signkey, cs_sign_md(signkey)) <= 0) {
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "signing failed");
		goto out;
	}
	*out = x;
	x = NULL;
 out:
	X509_free(x);
	BN_free(rnd);
	return r;
}

int
cs_csr_build(EVP_PKEY *key, X509_NAME *subject, GENERAL_NAMES *san,
    X509_REQ **out, char *err, size_t errlen)
{
	X509_REQ			*q;
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	X509_EXTENSION			*ext = NULL;
	int				 r = 0;

	*out = NULL;
	if ((r = cs_key_check(key, "key", err, errlen)) != 0)
		return r;
	if ((q = X509_REQ_new()) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	if (!X509_REQ_set_version(q, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(q, subject) ||
	    !X509_REQ_set_pubkey(q, key) ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    (san != NULL && sk_GENERAL_NAME_num(san) > 0 &&
	    ((ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, san)) == NULL ||
	    !sk_X509_EXTENSION_push(exts, ext))) ||
	    !X509_REQ_add_extensions(q, exts)) {
		X509_EXTENSION_free(ext);
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "request fields");
		goto out;
	}
	if (X509_REQ_sign(q, key, cs_sign_md(key)) <= 0) {
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "signing the request "
		    "failed");
		goto out;
	}
	*out = q;
	q = NULL;
 out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(q);
	return r;
}

/* The request's CN, or "". */
static void
cs_req_cn(X509_REQ *q, char *out, size_t size)
{
	X509_NAME	*n = X509_REQ_get_subject_name(q);
	int		 len;

	out[0] = '\0';
	len = X509_NAME_get_text_by_NID(n, NID_commonName, out, (int)size);
	if (len < 0 || (size_t)len != strlen(out))
		out[0] = '\0';
}

int
cs_csr_check(X509_REQ *q, const char *label, enum cs_purpose purpose,
    GENERAL_NAMES **sans, char *err, size_t errlen)
{
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	GENERAL_NAMES			*req = NULL, *v = NULL;
	GENERAL_NAME			*g;
	EVP_PKEY			*pub;
	char				 cn[256], why[CS_ERR_MAX];
	int				 r = 0, i, crit = 0;

	*sans = NULL;
	if ((pub = X509_REQ_get0_pubkey(q)) == NULL)
		return cs_err_ssl(err, errlen, FTPS_EPARSE,
		    "%s: unreadable public key", label);
	if (X509_REQ_verify(q, pub) != 1)
		return cs_err_ssl(err, errlen, FTPS_EPARSE, "%s: the request's "
		    "signature does not verify (corrupt or tampered)", label);
	if ((r = cs_key_check(pub, label, err, errlen)) != 0 ||
	    (r = cs_sig_check_csr(q, label, err, errlen)) != 0)
		return r;
	if ((v = sk_GENERAL_NAME_new_null()) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	/*
	 * SECURITY: of everything a request asks for (CA:TRUE, key usages,
	 * policies...) only subjectAltName is read, and each name in it is
	 * validated; the rest is the signer's decision.
	 */
	exts = X509_REQ_get_extensions(q);
	if (exts != NULL)
		req = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
	if (req == NULL && crit != -1) {
		r = cs_err(err, errlen, FTPS_EPARSE, "%s: unreadable or "
		    "repeated subjectAltName extension", label);
		goto out;
	}
	for (i = 0; req != NULL && i < sk_GENERAL_NAME_num(req); i++) {
		g = sk_GENERAL_NAME_value(req, i);
		if ((r = cs_san_check(g, why, sizeof(why))) != 0) {
			r = cs_err(err, errlen, r, "%s: %s", label, why);
			goto out;
		}
		if ((g = GENERAL_NAME_dup(g)) == NULL) {
			r = cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
			goto out;
		}
		if ((r = cs_gens_push(v, g, err, errlen)) != 0)
			goto out;
	}
	cs_req_cn(q, cn, sizeof(cn));
	/* A client's CN is the user name it logs in as, not a host. */
	if (purpose == CS_CLIENT) {
		if (sk_GENERAL_NAME_num(v) == 0 && !parse_user_name(cn)) {
			r = cs_err(err, errlen, FTPS_EPARSE, "%s: the request "
			    "has no subjectAltName and its CN \"%.64s\" is no "
			    "user name (%s)", label, cn, PARSE_USER_RULE);
			goto out;
		}
		*sans = v;
		v = NULL;
		goto out;
	}
	if ((r = cs_san_add_cn(v, cn, err, errlen)) != 0)
		goto out;
	if (sk_GENERAL_NAME_num(v) == 0) {
		r = cs_err(err, errlen, FTPS_EPARSE, "%s: the request has no "
		    "subjectAltName and its CN is not a host name or address",
		    label);
		goto out;
	}
	*sans = v;
	v = NULL;
 out:
	GENERAL_NAMES_free(req);
	GENERAL_NAMES_free(v);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

void
cs_name_format(const X509_NAME *n, char *out, size_t size)
{
	BIO	*b;
	long	 len;
	char	*p;
	size_t	 i;

	out[0] = '\0';
	if (n == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	/* Forward order, "C=DE, O=Acme, CN=www", UTF-8 kept. */
	if (X509_NAME_print_ex(b, n, 0, (XN_FLAG_SEP_CPLUS_SPC |
	    XN_FLAG_FN_SN | ASN1_STRFLGS_RFC2253) &
	    ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) > 0)
		snprintf(out, size, "%.*s", (int)len, p);
	BIO_free(b);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

void
cs_time_format(const ASN1_TIME *t, char *out, size_t size)
{
	struct tm	 tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, size, "(unreadable date)");
}

static void
cs_text_nid(X509_NAME *n, int nid, char *out, size_t size)
{
	int	 i;
	const ASN1_STRING *s;
	unsigned char	*u = NULL;
	int	 len;

	out[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(n, nid, -1)) < 0)
		return;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	if ((len = ASN1_STRING_to_UTF8(&u, s)) < 0)
		return;
	snprintf(out, size, "%.*s", len, (char *)u);
	OPENSSL_free(u);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

void
cs_cert_info(X509 *x, struct cs_certinfo *ci)
{
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	GENERAL_NAMES		*gens;
	EXTENDED_KEY_USAGE	*eku;
	BIGNUM			*bn;
	char			*hex;
	int			 day = 0, sec = 0, j;
	size_t			 n;

	memset(ci, 0, sizeof(*ci));
	cs_name_format(X509_get_subject_name(x), ci->subject,
	    sizeof(ci->subject));
	cs_name_format(X509_get_issuer_name(x), ci->issuer,
	    sizeof(ci->issuer));
	cs_text_nid(X509_get_subject_name(x), NID_commonName, ci->cn,
	    sizeof(ci->cn));
	cs_text_nid(X509_get_issuer_name(x), NID_commonName, ci->issuer_cn,
	    sizeof(ci->issuer_cn));
	gens = cs_cert_sans(x);
	cs_san_format(gens, ci->sans, sizeof(ci->sans));
	GENERAL_NAMES_free(gens);
	cs_key_describe(X509_get0_pubkey(x), ci->key, sizeof(ci->key));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	    NULL && (hex = BN_bn2hex(bn)) != NULL) {
		snprintf(ci->serial, sizeof(ci->serial), "%s", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
	if (X509_digest(x, EVP_sha256(), md, &mdlen))
		for (i = 0; i < mdlen; i++) {
			n = strlen(ci->sha256);
			snprintf(ci->sha256 + n, sizeof(ci->sha256) - n,
			    "%s%02X", i ? ":" : "", md[i]);
		}
	snprintf(ci->sigalg, sizeof(ci->sigalg), "%s",
	    OBJ_nid2ln(X509_get_signature_nid(x)));
	if ((eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL)) !=
	    NULL) {
		for (j = 0; j < sk_ASN1_OBJECT_num(eku); j++) {
			n = strlen(ci->eku);
			snprintf(ci->eku + n, sizeof(ci->eku) - n, "%s%s",
			    j ? "," : "", OBJ_nid2sn(OBJ_obj2nid(
			    sk_ASN1_OBJECT_value(eku, j))));
		}
		EXTENDED_KEY_USAGE_free(eku);
	}
	cs_time_format(X509_get0_notBefore(x), ci->not_before,
	    sizeof(ci->not_before));
	cs_time_format(X509_get0_notAfter(x), ci->not_after,
	    sizeof(ci->not_after));
	if (ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notAfter(x)))
		ci->days_left = day - ((day <= 0 && sec < 0) ? 1 : 0);
	ci->not_after_t = time(NULL) + (time_t)day * 86400 + sec;
	ci->self_signed = X509_self_signed(x, 0) == 1;
	ci->ca = X509_check_ca(x) != 0;
}

static int
cs_txn_put_bio(struct cs_txn *t, const char *fname, BIO *b, int secret,
    char *err, size_t errlen)
{
	char	*p;
	long	 len;

	if ((len = BIO_get_mem_data(b, &p)) <= 0)
		return cs_err_ssl(err, errlen, FTPS_ETLS, "%s/%s: encoding",
		    t->label, fname);
	return cs_txn_put(t, fname, p, (size_t)len, secret, err, errlen);
}

int
cs_txn_put_key(struct cs_txn *t, const char *fname, EVP_PKEY *key,
    const char *pass, size_t passlen, char *err, size_t errlen)
{
	BIO	*b;
	int	 r;

	/* SECURITY: secure-heap memory, cleansed when freed. */
	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	if ((pass != NULL ? PEM_write_bio_PKCS8PrivateKey(b, key,
	    EVP_aes_256_cbc(), pass, (int)passlen, NULL, NULL) :
	    PEM_write_bio_PKCS8PrivateKey(b, key, NULL, NULL, 0, NULL,
	    NULL)) != 1)
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "%s/%s: encoding the "
		    "key", t->label, fname);
	else
		r = cs_txn_put_bio(t, fname, b, 1, err, errlen);
	BIO_free(b);
	return r;
}

int
cs_txn_put_certs(struct cs_txn *t, const char *fname, X509 *first,
    STACK_OF(X509) *more, char *err, size_t errlen)
{
	BIO	*b;
	int	 r = 0, i;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	if (first != NULL && PEM_write_bio_X509(b, first) != 1)
		r = FTPS_ETLS;
	for (i = 0; r == 0 && more != NULL && i < sk_X509_num(more); i++)
		if (PEM_write_bio_X509(b, sk_X509_value(more, i)) != 1)
			r = FTPS_ETLS;
	if (r != 0)
		r = cs_err_ssl(err, errlen, r, "%s/%s: encoding", t->label,
		    fname);
	else
		r = cs_txn_put_bio(t, fname, b, 0, err, errlen);
	BIO_free(b);
	return r;
}

int
cs_txn_put_csr(struct cs_txn *t, const char *fname, X509_REQ *q, char *err,
    size_t errlen)
{
	BIO	*b;
	int	 r;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "out of memory");
	if (PEM_write_bio_X509_REQ(b, q) != 1)
		r = cs_err_ssl(err, errlen, FTPS_ETLS, "%s/%s: encoding",
		    t->label, fname);
	else
		r = cs_txn_put_bio(t, fname, b, 0, err, errlen);
	BIO_free(b);
	return r;
}
