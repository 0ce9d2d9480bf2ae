/*
 * certmgr create / csr: a new key, a request and (create) a self-signed
 * certificate.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "cli.h"
#include "err.h"
#include "parse.h"

int
cm_build_request(const struct cm_subjopts *o, enum cs_purpose purpose,
    EVP_PKEY **key, X509_NAME **subj, GENERAL_NAMES **san, X509_REQ **csr)
{
	char	 err[CS_ERR_MAX];

	*key = NULL;
	*subj = NULL;
	*csr = NULL;
	if ((*san = sk_GENERAL_NAME_new_null()) == NULL) {
		cm_error("out of memory");
		return -1;
	}
	/*
	 * A server's CN comes first: it is the name people read.  A
	 * client's CN is the user name ftpsd logs it in as: no DNS name is
	 * made of it, and e-mail or UPN names only when asked for.
	 */
	if (cs_subject_build(&o->subj, subj, err, sizeof(err)) != 0 ||
	    (purpose == CS_SERVER && cs_san_add_cn(*san, o->subj.cn,
	    err, sizeof(err)) != 0) ||
	    cs_san_parse(o->san, *san, err, sizeof(err)) != 0 ||
	    (purpose == CS_CLIENT && cs_san_add_email(*san,
	    o->subj.email, err, sizeof(err)) != 0) ||
	    cs_san_add_upn(*san, o->upn, err, sizeof(err)) != 0)
		goto fail;
	if (purpose == CS_CLIENT && sk_GENERAL_NAME_num(*san) == 0 &&
	    !parse_user_name(o->subj.cn)) {
		snprintf(err, sizeof(err), "--cn \"%.64s\": a client "
		    "certificate's CN is the user name it logs in as (%s); "
		    "for one that names no account give --san, --email or "
		    "--upn", o->subj.cn, PARSE_USER_RULE);
		goto fail;
	}
	if (purpose == CS_SERVER && sk_GENERAL_NAME_num(*san) == 0) {
		snprintf(err, sizeof(err), "--cn \"%.64s\" is not a host name "
		    "or IP address, and no --san was given: a certificate "
		    "needs at least one subject alternative name", o->subj.cn);
		goto fail;
	}
	if (cs_keygen(o->key, key, err, sizeof(err)) != 0 ||
	    cs_csr_build(*key, *subj, *san, csr, err, sizeof(err)) != 0)
		goto fail;
	return 0;
 fail:
	cm_error("%s", err);
	EVP_PKEY_free(*key);
	X509_NAME_free(*subj);
	GENERAL_NAMES_free(*san);
	*key = NULL;
	*subj = NULL;
	*san = NULL;
	return -1;
}

int
cm_refuse_existing(const struct cli *cli, const char *name, int force)
{
	char	 err[CS_ERR_MAX];
	int	 has;

	if ((has = cs_files(cli->dir, name, err, sizeof(err))) < 0) {
		cm_error("%s", err);
		return -1;
	}
	if (has != 0 && !force) {
		cm_error("%s/%s.%s: already exists (use --force to replace "
		    "%s, or choose another NAME)", cli->dir, name,
		    (has & CS_HAS_CRT) ? "crt" : (has & CS_HAS_KEY) ? "key" :
		    (has & CS_HAS_CSR) ? "csr" : "chain", name);
		return -1;
	}
	return 0;
}

void
cm_print_written(const struct cli *cli, const char *what, const char *name,
    X509 *x, EVP_PKEY *key, const char *files)
{
	struct cs_certinfo	 ci;
	struct jw		 w;
	char			 kd[48];

	cs_key_describe(key, kd, sizeof(kd));
	if (x != NULL)
		cs_cert_info(x, &ci);
	if (cli->json) {
		memset(&w, 0, sizeof(w));
		jw_open(&w, NULL, '{');
		jw_str(&w, "name", name);
		jw_str(&w, "action", what);
		jw_str(&w, "dir", cli->dir);
		jw_str(&w, "files", files);
		jw_str(&w, "key", kd);
		if (x != NULL) {
			jw_str(&w, "subject", ci.subject);
			jw_str(&w, "issuer", ci.issuer);
			jw_str(&w, "sans", ci.sans);
			jw_str(&w, "serial", ci.serial);
			jw_str(&w, "not_after", ci.not_after);
			jw_str(&w, "sha256", ci.sha256);
		}
		jw_close(&w, '}');
		return;
	}
	cm_info(cli, "%s %s in %s: %s (key %s)", what, name, cli->dir, files,
	    kd);
	if (x != NULL)
		cm_info(cli, "  subject %s\n  names   %s\n  valid until %s, "
		    "serial %s", ci.subject, ci.sans[0] ? ci.sans : "-",
		    ci.not_after, ci.serial);
}

static int
create_common(struct cli *cli, const struct cm_args *a, int selfsign)
{
	struct cm_subjopts	 o;
	struct cs_certspec	 spec;
	struct cs_txn		 t;
	EVP_PKEY		*key = NULL;
	X509_NAME		*subj = NULL;
	GENERAL_NAMES		*san = NULL;
	X509_REQ		*csr = NULL;
	X509			*x = NULL;
	const char		*name = a->argv[0];
	char			 err[CS_ERR_MAX], f[3][FTPS_NAME_MAX + 1];
	char			 files[3 * FTPS_NAME_MAX + 8];
	enum cs_purpose		 purpose;
	unsigned		 days;
	int			 force, rc = CM_FAIL, txn = 0;

	cm_subjopts_get(a, &o);
	force = CM_FLAG(a, OPT_FORCE);
	purpose = CM_FLAG(a, OPT_CLIENT) ? CS_CLIENT : CS_SERVER;
	if (CM_FLAG(a, OPT_SERVER) && CM_FLAG(a, OPT_CLIENT)) {
		cm_error("%s: --server or --client, not both", selfsign ?
		    "create" : "csr");
		return CM_USAGE;
	}
	if (cs_name_check(name, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return CM_FAIL;
	}
	if (cm_days(o.days, CS_DAYS_DEFAULT, CS_DAYS_MAX, "leaf certificates",
	    &days) != 0)
		return CM_FAIL;
	/* A refused key or name creates no folder either. */
	if (cm_build_request(&o, purpose, &key, &subj, &san, &csr) != 0)
		return CM_FAIL;
	if (cm_ensure_dir(cli, cli->dir) != 0 ||
	    cm_refuse_existing(cli, name, force) != 0)
		goto out;
	if (selfsign) {
		memset(&spec, 0, sizeof(spec));
		spec.subject = subj;
		spec.pubkey = key;
		spec.san = san;
		spec.purpose = purpose;
		spec.days = days;
		if (cs_cert_sign(&spec, NULL, key, &x, err, sizeof(err)) != 0) {
			cm_error("%s: %s", name, err);
			goto out;
		}
	}
	snprintf(f[0], sizeof(f[0]), "%s.key", name);
	snprintf(f[1], sizeof(f[1]), "%s.csr", name);
	snprintf(f[2], sizeof(f[2]), "%s.crt", name);
	if (cs_txn_begin(&t, cli->dir, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	txn = 1;
	if (cs_txn_put_key(&t, f[0], key, NULL, 0, err, sizeof(err)) != 0 ||
	    cs_txn_put_csr(&t, f[1], csr, err, sizeof(err)) != 0 ||
	    (x != NULL && cs_txn_put_certs(&t, f[2], x, NULL, err,
	    sizeof(err)) != 0)) {
		cm_error("%s", err);
		goto out;
	}
	/* A replaced pair keeps nothing of the old one. */
	if (force) {
		snprintf(files, sizeof(files), "%s.chain", name);
		(void)cs_txn_unlink(&t, files);
		if (x == NULL)
			(void)cs_txn_unlink(&t, f[2]);
	}
	if (cs_txn_commit(&t, force, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	snprintf(files, sizeof(files), "%s, %s%s%s", f[0], f[1],
	    x != NULL ? ", " : "", x != NULL ? f[2] : "");
	cm_print_written(cli, selfsign ? (purpose == CS_CLIENT ? "created "
	    "client" : "created") : "created request", name, x, key, files);
	if (selfsign && purpose == CS_CLIENT)
		cm_info(cli, "a server trusts it when %s/%s is listed in its "
		    "tls_client_ca (or with certmgr export %s --pkcs12 FILE "
		    "for the client)", cli->dir, f[2], name);
	if (!selfsign)
		cm_info(cli, "send %s/%s to your CA, then: certmgr import "
		    "ANSWER.crt --name %s", cli->dir, f[1], name);
	rc = CM_OK;
 out:
	if (txn)
		cs_txn_end(&t);
	X509_free(x);
	X509_REQ_free(csr);
	GENERAL_NAMES_free(san);
	X509_NAME_free(subj);
	EVP_PKEY_free(key);
	return rc;
}

int
cm_create(struct cli *cli, const struct cm_args *a)
{
	return create_common(cli, a, 1);
}

int
cm_csr(struct cli *cli, const struct cm_args *a)
{
	return create_common(cli, a, 0);
}
