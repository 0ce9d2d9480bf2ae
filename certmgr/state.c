/*
 * What list, show and verify add to a NAME's state once its files are
 * read (list.c): whether the folder's own CA revoked it (its database,
 * and its published CRL), and whether its chain reaches a certificate
 * anyone can trust.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "cli.h"
#include "csca.h"
#include "err.h"

/* Loads the folder's CA, its database and CRL, once. */
static void
ctx_load(struct cm_ctx *c, const char *dir)
{
	unsigned char	*data;
	size_t		 len;
	BIO		*bio;
	char		 path[FTPS_PATH_MAX];

	if (c->loaded)
		return;
	c->loaded = 1;
	snprintf(path, sizeof(path), "%s/%s", dir, CS_CA_SUBDIR);
	if (cs_ca_open(&c->ca, path, NULL, 0) != 0)
		return;
	c->have_ca = 1;
	/* An unreadable database is ca list's to report. */
	if (cs_ca_db_read(&c->ca, &c->db, NULL, 0) == 0)
		c->have_db = 1;
	if (cs_read_at(c->ca.dirfd, path, "crl.pem", &data, &len, NULL,
	    0) == 0) {
		if ((bio = BIO_new_mem_buf(data, (int)len)) != NULL)
			c->crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
		cs_data_free(data, len);
		/* Only the CA's own signature makes it its CRL. */
		if (c->crl != NULL && X509_CRL_verify(c->crl,
		    X509_get0_pubkey(c->ca.cert)) != 1) {
			X509_CRL_free(c->crl);
			c->crl = NULL;
		}
	}
	ERR_clear_error();
}

void
cm_ctx_free(struct cm_ctx *c)
{
	if (c->have_ca)
		cs_ca_close(&c->ca);
	cs_db_free(&c->db);
	X509_CRL_free(c->crl);
	X509_STORE_free(c->roots);
	memset(c, 0, sizeof(*c));
}

int
cm_ctx_issued(struct cm_ctx *c, const char *dir, X509 *x)
{
	EVP_PKEY	*pk;
	int		 ok;

	ctx_load(c, dir);
	if (!c->have_ca || X509_check_issued(c->ca.cert, x) != X509_V_OK ||
	    (pk = X509_get0_pubkey(c->ca.cert)) == NULL)
		return 0;
	ok = X509_verify(x, pk) == 1;
	ERR_clear_error();
	return ok;
}

/* "YYMMDDHHMMSSZ[,reason]" of index.txt into a date and a reason. */
static void
rev_split(const char *field, struct cm_state *st)
{
	ASN1_TIME	*t;
	char		 rt[48], *comma;

	snprintf(rt, sizeof(rt), "%s", field);
	if ((comma = strchr(rt, ',')) != NULL)
		*comma++ = '\0';
	snprintf(st->rev_reason, sizeof(st->rev_reason), "%s",
	    comma != NULL ? comma : "unspecified");
	snprintf(st->rev_date, sizeof(st->rev_date), "%s", rt);
	if ((t = ASN1_TIME_new()) != NULL && ASN1_TIME_set_string(t, rt))
		cs_time_format(t, st->rev_date, sizeof(st->rev_date));
	ASN1_TIME_free(t);
}

static void
rev_from_crl(X509_REVOKED *rv, struct cm_state *st)
{
	ASN1_ENUMERATED	*e;
	long		 code = 0;
	int		 crit;

	cs_time_format(X509_REVOKED_get0_revocationDate(rv), st->rev_date,
	    sizeof(st->rev_date));
	if ((e = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, &crit,
	    NULL)) != NULL) {
		code = ASN1_ENUMERATED_get(e);
		ASN1_ENUMERATED_free(e);
	}
	snprintf(st->rev_reason, sizeof(st->rev_reason), "%s",
	    cs_reason_by_code((int)code));
}

/*
 * The leaf's issuer when it is missing: not in the chain, not the
 * folder's CA, not one of the system's roots.  NULL when the chain goes
 * on from the leaf (to a root, or to an intermediate whose own root is
 * the clients' to trust).
 */
static const X509_NAME *
chain_gap(struct cm_ctx *c, X509 *x, STACK_OF(X509) *chain)
{
	X509_STORE_CTX	*sc;
	X509		*cur = x, *up;
	int		 i, n, found;

	for (n = 0; n <= CS_CHAIN_MAX; n++) {
		if (X509_self_signed(cur, 0) == 1)
			return NULL;
		if (c->have_ca && (X509_check_issued(c->ca.cert, cur) ==
		    X509_V_OK))
			return NULL;
		for (up = NULL, i = 0; i < sk_X509_num(chain); i++)
			if (sk_X509_value(chain, i) != cur &&
			    X509_check_issued(sk_X509_value(chain, i), cur) ==
			    X509_V_OK)
				up = sk_X509_value(chain, i);
		if (up != NULL) {
			cur = up;
			continue;
		}
		/* The system's roots (and the folder CA's issuers). */
		if (c->roots == NULL && (c->roots = X509_STORE_new()) != NULL) {
			X509_STORE_set_default_paths(c->roots);
			for (i = 0; c->have_ca && i < sk_X509_num(c->ca.chain);
			    i++)
				X509_STORE_add_cert(c->roots,
				    sk_X509_value(c->ca.chain, i));
		}
		found = 0;
		if (c->roots != NULL && (sc = X509_STORE_CTX_new()) != NULL) {
			if (X509_STORE_CTX_init(sc, c->roots, cur, NULL) &&
			    X509_STORE_CTX_get1_issuer(&up, sc, cur) == 1) {
				found = 1;
				X509_free(up);
			}
			X509_STORE_CTX_free(sc);
		}
		ERR_clear_error();
		/*
		 * Past the leaf, the gap is the root: clients bring their
		 * own (curl --cacert ROOT), servers do not send it.
		 */
		return found || cur != x ? NULL : X509_get_issuer_name(cur);
	}
	return NULL;
}

void
cm_state_check(struct cm_ctx *c, const char *dir, struct cm_state *st)
{
	struct cs_certinfo	 ci;
	struct cs_dbrow		*row;
	X509_REVOKED		*rv = NULL;
	const X509_NAME		*gap;

	if (st->cert == NULL || strcmp(st->status, "unreadable") == 0)
		return;
	/* 1. Revoked by the folder's CA: its database, then its CRL. */
	if (cm_ctx_issued(c, dir, st->cert)) {
		cs_cert_info(st->cert, &ci);
		if (c->have_db && (row = cs_db_find(&c->db, ci.serial)) !=
		    NULL && row->status == 'R') {
			rev_split(row->revoked, st);
			st->rev_db = 1;
		}
		if (c->crl != NULL && X509_CRL_get0_by_serial(c->crl, &rv,
		    X509_get0_serialNumber(st->cert)) == 1) {
			if (!st->rev_db)
				rev_from_crl(rv, st);
			st->rev_crl = 1;
		}
		if (st->rev_db || st->rev_crl) {
			st->status = "revoked";
			return;
		}
	}
	/* 2. A chain that stops short of anything trusted. */
	if (strcmp(st->status, "ok") != 0 &&
	    strcmp(st->status, "expiring") != 0)
		return;
	if ((gap = chain_gap(c, st->cert, st->chain)) != NULL) {
		cs_name_format(gap, st->missing, sizeof(st->missing));
		st->status = "incomplete-chain";
	}
}
