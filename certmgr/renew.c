/*
 * certmgr renew: a new certificate for the same key, subject and names;
 * a CA-signed one replaces its old serial (revoked as superseded).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "csca.h"
#include "err.h"

/* clientAuth without serverAuth makes a client certificate. */
static enum cs_purpose
old_purpose(X509 *x)
{
	uint32_t	 xku = X509_get_extended_key_usage(x);

	if ((xku & XKU_SSL_CLIENT) && !(xku & XKU_SSL_SERVER))
		return CS_CLIENT;
	return CS_SERVER;
}

/* NAME.csr when it is for key, else a new request from the old cert. */
static X509_REQ *
renew_request(const struct cli *cli, const char *name, unsigned has,
    X509 *old, EVP_PKEY *key, int *made)
{
	struct cs_bundle	 b;
	GENERAL_NAMES		*sans;
	X509_REQ		*q = NULL;
	char			 path[FTPS_PATH_MAX + 80], err[CS_ERR_MAX];

	*made = 0;
	if (has & CS_HAS_CSR) {
		snprintf(path, sizeof(path), "%s/%s.csr", cli->dir, name);
		if (cs_decode_file(path, NULL, &b, err, sizeof(err)) == 0 &&
		    b.csr != NULL && EVP_PKEY_eq(X509_REQ_get0_pubkey(b.csr),
		    key) == 1) {
			q = b.csr;
			b.csr = NULL;
			cs_bundle_free(&b);
			return q;
		}
		cs_bundle_free(&b);
		cm_warn("%s: not a request for %s.key: a new one is made",
		    path, name);
	}
	sans = cs_cert_sans(old);
	if (cs_csr_build(key, X509_get_subject_name(old), sans, &q, err,
	    sizeof(err)) != 0) {
		cm_error("%s: %s", name, err);
		q = NULL;
	} else
		*made = 1;
	GENERAL_NAMES_free(sans);
	return q;
}

static int
renew_self(const struct cli *cli, const char *name, struct cm_state *st,
    unsigned days)
{
	struct cs_certspec	 spec;
	struct cs_txn		 t;
	GENERAL_NAMES		*sans;
	X509			*x = NULL;
	char			 err[CS_ERR_MAX], f[FTPS_NAME_MAX + 1];
	int			 r;

	if ((sans = cs_cert_sans(st->cert)) == NULL &&
	    (sans = sk_GENERAL_NAME_new_null()) == NULL) {
		cm_error("out of memory");
		return -1;
	}
	memset(&spec, 0, sizeof(spec));
	spec.subject = X509_get_subject_name(st->cert);
	spec.pubkey = st->key;
	spec.san = sans;
	spec.purpose = old_purpose(st->cert);
	spec.days = days;
	r = cs_cert_sign(&spec, NULL, st->key, &x, err, sizeof(err));
	GENERAL_NAMES_free(sans);
	if (r != 0) {
		cm_error("%s: %s", name, err);
		return -1;
	}
	snprintf(f, sizeof(f), "%s.crt", name);
	if ((r = cs_txn_begin(&t, cli->dir, err, sizeof(err))) == 0) {
		if ((r = cs_txn_put_certs(&t, f, x, NULL, err,
		    sizeof(err))) == 0)
			r = cs_txn_commit(&t, 1, err, sizeof(err));
		cs_txn_end(&t);
	}
	if (r != 0)
		cm_error("%s", err);
	else {
		cm_print_written(cli, "renewed self-signed", name, x, st->key,
		    f);
		cm_info(cli, "note: whoever trusts the old %s.crt directly "
		    "(curl --cacert, a server's tls_client_ca) must be given "
		    "the new %s/%s", name, cli->dir, f);
	}
	X509_free(x);
	return r != 0 ? -1 : 0;
}

static int
renew_ca(const struct cli *cli, const char *name, struct cm_state *st,
    unsigned days, struct cs_ca *ca)
{
	struct cs_signreq	 req;
	struct cs_certinfo	 ci;
	GENERAL_NAMES		*sans = NULL;
	X509_REQ		*q;
	X509			*x = NULL;
	char			 err[CS_ERR_MAX], f[FTPS_NAME_MAX + 1];
	int			 made, r = -1;

	if ((q = renew_request(cli, name, st->has, st->cert, st->key,
	    &made)) == NULL)
		return -1;
	memset(&req, 0, sizeof(req));
	req.purpose = old_purpose(st->cert);
	if (cs_csr_check(q, name, req.purpose, &sans, err,
	    sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	cs_cert_info(st->cert, &ci);
	snprintf(f, sizeof(f), "%s.crt", name);
	req.subject = X509_REQ_get_subject_name(q);
	req.pubkey = st->key;
	req.san = sans;
	req.days = days;
	req.supersedes = ci.serial;
	if (cm_ca_sign_write(cli, ca, &req, name, NULL, made ? q : NULL, 1,
	    &x) != 0)
		goto out;
	r = 0;
	cm_print_written(cli, "renewed", name, x, st->key, f);
	cm_info(cli, "old serial %s revoked (superseded); publish it with: "
	    "certmgr ca crl", ci.serial);
 out:
	X509_free(x);
	GENERAL_NAMES_free(sans);
	X509_REQ_free(q);
	return r;
}

int
cm_renew(struct cli *cli, const struct cm_args *a)
{
	struct cm_state		 st;
	struct cm_pass		 pass;
	struct cs_ca		 ca;
	const char		*name = a->argv[0], *days = CM_ARG(a, OPT_DAYS);
	const char		*passin = CM_ARG(a, OPT_PASSIN);
	char			 issuer[512];
	unsigned		 ndays;
	int			 has, rc = CM_FAIL, isca;

	if (cm_pass_init(&pass, passin, "--passin", 0) != 0)
		return CM_USAGE;
	if (cm_days(days, CS_DAYS_DEFAULT, CS_DAYS_MAX, "leaf certificates",
	    &ndays) != 0)
		return CM_FAIL;
	if ((has = cm_name_files(cli, name, CS_HAS_CRT)) < 0)
		return CM_FAIL;
	cm_state_load(cli->dir, name, (unsigned)has, &st);
	if (st.cert == NULL || st.key == NULL) {
		cm_error("%s", st.why[0] ? st.why : "no usable key");
		if (st.key == NULL && st.why[0] == '\0')
			cm_error("%s/%s.key: missing: a renewal keeps the key",
			    cli->dir, name);
		goto out;
	}
	if (!cs_pair_matches(st.cert, st.key)) {
		cm_error("%s/%s.key: does not match %s.crt", cli->dir, name,
		    name);
		goto out;
	}
	if (X509_self_signed(st.cert, 0) == 1) {
		if (renew_self(cli, name, &st, ndays) == 0)
			rc = CM_OK;
		goto out;
	}
	if ((isca = cm_ca_for(cli, st.cert, &ca, &pass)) < 0)
		goto out;
	if (isca == 0) {
		cs_name_format(X509_get_issuer_name(st.cert), issuer,
		    sizeof(issuer));
		if (cm_acme_managed(cli, name))
			cm_error("%s/%s.crt: issued by \"%s\" through certmgr "
			    "acme: certmgr acme renew orders its successor "
			    "(--days N for one not due yet)", cli->dir, name,
			    issuer);
		else
			cm_error("%s/%s.crt: issued by \"%s\", not by this "
			    "folder's CA: send %s.csr to that CA and import "
			    "its answer with certmgr import ANSWER --name %s "
			    "--force",
			    cli->dir, name, issuer, name, name);
		goto out;
	}
	if (renew_ca(cli, name, &st, ndays, &ca) == 0)
		rc = CM_OK;
	cs_ca_close(&ca);
 out:
	cm_pass_clear(&pass);
	cm_state_free(&st);
	return rc;
}
