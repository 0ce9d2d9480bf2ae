/*
 * certmgr ca: the folder's private CA (init, sign, issue, revoke, crl,
 * list) over libcertstore's csca.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli.h"
#include "csca.h"
#include "err.h"

static int	ca_init(struct cli *, const struct cm_args *);
static int	ca_renew(struct cli *, const struct cm_args *);
static int	ca_sign(struct cli *, const struct cm_args *);
static int	ca_issue(struct cli *, const struct cm_args *);
static int	ca_revoke(struct cli *, const struct cm_args *);
static int	ca_crl(struct cli *, const struct cm_args *);
static int	ca_list(struct cli *, const struct cm_args *);

#define CADAYS_HELP	"validity, 1 to 10950 days (default 3650)"
#define PASSIN_HELP	"the CA key's passphrase: file:PATH, fd:N, stdin " \
	"or prompt\n(asked on the terminal when needed)"

static const struct cm_optuse init_opts[] = {
	{ OPT_CN, 1, "the CA's name" }, { OPT_KEY, 0, NULL },
	{ OPT_DAYS, 0, CADAYS_HELP },
	{ OPT_PASSOUT, 0, "encrypt ca.key (PKCS#8 AES-256): file:PATH, "
	    "fd:N, stdin or\nprompt" },
	{ OPT_CRLURL, 0, NULL },
	{ OPT_INTERMEDIATE, 0, "make an intermediate CA signed by the CA "
	    "in ROOTDIR\n(pathlen 0; chain.pem holds the root's "
	    "certificate, and\nevery leaf it signs gets NAME.chain)" },
	{ OPT_PASSIN, 0, "the ROOTDIR CA's key passphrase" },
	{ OPT_COUNTRY, 0, NULL }, { OPT_STATE, 0, NULL },
	{ OPT_LOCALITY, 0, NULL }, { OPT_ORG, 0, NULL }, { OPT_OU, 0, NULL },
	{ OPT_EMAIL, 0, NULL }, { OPT_CADIR, 0, NULL }, { 0, 0, NULL },
};
static const struct cm_optuse renew_opts[] = {
	{ OPT_DAYS, 0, CADAYS_HELP },
	{ OPT_INTERMEDIATE, 0, "the root CA folder that signs an "
	    "intermediate CA" },
	{ OPT_PASSIN, 0, "the passphrase of the key that signs" },
	{ OPT_CADIR, 0, NULL }, { 0, 0, NULL },
};
static const struct cm_optuse sign_opts[] = {
	{ OPT_DAYS, 0, NULL }, { OPT_SERVER, 0, NULL },
	{ OPT_CLIENT, 0, NULL },
	{ OPT_NAME, 0, "the NAME to write (default: NAME, or the request "
	    "file's\nbase name)" },
	{ OPT_FORCE, 0, "replace a NAME.crt this CA signed before" },
	{ OPT_PASSIN, 0, PASSIN_HELP }, { OPT_CADIR, 0, NULL },
	{ 0, 0, NULL },
};
static const struct cm_optuse issue_opts[] = {
	{ OPT_CN, 1, NULL }, { OPT_SERVER, 0, NULL }, { OPT_CLIENT, 0, NULL },
	CM_SUBJECT_OPTS, { OPT_DAYS, 0, NULL },
	{ OPT_FORCE, 0, "replace an existing NAME" },
	{ OPT_PASSIN, 0, PASSIN_HELP }, { OPT_CADIR, 0, NULL },
	{ 0, 0, NULL },
};
static const struct cm_optuse revoke_opts[] = {
	{ OPT_REASON, 0, NULL }, { OPT_CADIR, 0, NULL }, { 0, 0, NULL },
};
static const struct cm_optuse crl_opts[] = {
	{ OPT_DAYS, 0, "next update in N days, 1 to 366 (default 30)" },
	{ OPT_PASSIN, 0, PASSIN_HELP }, { OPT_CADIR, 0, NULL },
	{ 0, 0, NULL },
};
static const struct cm_optuse list_opts[] = {
	{ OPT_CADIR, 0, NULL }, { 0, 0, NULL },
};

const struct cm_cmd cm_ca_cmds[] = {
	{ "ca init", ca_init, "", 0, 0, init_opts,
	  "Creates the CA: ca.key (0600), ca.crt (CA:TRUE critical,\n"
	  "keyCertSign+cRLSign, SKI/AKI) and a database openssl ca can read\n"
	  "(index.txt, serial, newcerts/, openssl.cnf).  A root may sign\n"
	  "intermediate CAs (pathlen 1).\n" },
	{ "ca renew", ca_renew, "", 0, 0, renew_opts,
	  "A new ca.crt for the same key and name, so that every certificate\n"
	  "the CA signed keeps verifying: a root signs its own, an\n"
	  "intermediate is signed by ROOTDIR's CA.\n" },
	{ "ca sign", ca_sign, "CSR|NAME", 1, 1, sign_opts,
	  "Signs a request (a file, or NAME.csr of the certs folder) and\n"
	  "writes NAME.crt.  Only the request's subject and validated\n"
	  "subjectAltNames are used; the certificate gets critical CA:FALSE\n"
	  "and serverAuth (--server, default) or clientAuth (--client).\n" },
	{ "ca issue", ca_issue, "NAME", 1, 1, issue_opts,
	  "Key, request and CA signature in one: writes NAME.key, NAME.csr\n"
	  "and NAME.crt.  A client certificate's CN is the user name it logs\n"
	  "in as (no DNS name is made of it); its --email and --upn go into\n"
	  "its SAN.\n" },
	{ "ca revoke", ca_revoke, "NAME|SERIAL", 1, 1, revoke_opts,
	  "Marks a certificate revoked in the database; publish with\n"
	  "certmgr ca crl.\n" },
	{ "ca crl", ca_crl, "", 0, 0, crl_opts,
	  "Writes ca/crl.pem listing every revoked serial.\n" },
	{ "ca list", ca_list, "", 0, 0, list_opts,
	  "Lists every certificate the CA signed: status, serial, expiry,\n"
	  "revocation, file and subject.\n" },
};
const size_t	cm_ca_ncmds = sizeof(cm_ca_cmds) / sizeof(cm_ca_cmds[0]);

/* The CA folder: --ca-dir, else DIR/ca. */
static void
ca_path(const struct cli *cli, const char *cadir, char *out, size_t size)
{
	if (cadir != NULL)
		snprintf(out, size, "%s", cadir);
	else
		snprintf(out, size, "%s/%s", cli->dir, CS_CA_SUBDIR);
}

/* Opens the CA, with its key when needkey. */
static int
ca_open(const struct cli *cli, const char *cadir, struct cs_ca *ca,
    struct cm_pass *pass, int needkey)
{
	char	 path[FTPS_PATH_MAX], err[CS_ERR_MAX];

	ca_path(cli, cadir, path, sizeof(path));
	if (cs_ca_open(ca, path, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return -1;
	}
	if (needkey && (cs_ca_usable(ca, err, sizeof(err)) != 0 ||
	    cs_ca_load_key(ca, &pass->cs, err, sizeof(err)) != 0)) {
		cm_error("%s", cm_pass_err(pass, err));
		cs_ca_close(ca);
		return -1;
	}
	return 0;
}

static int
ca_init(struct cli *cli, const struct cm_args *a)
{
	struct cm_subjopts	 o;
	struct cm_pass		 pass, rootpass;
	struct cs_ca		 root;
	X509			*x = NULL;
	const char		*passout = CM_ARG(a, OPT_PASSOUT);
	const char		*crlurl = CM_ARG(a, OPT_CRLURL);
	const char		*cadir = CM_ARG(a, OPT_CADIR);
	const char		*rootdir = CM_ARG(a, OPT_INTERMEDIATE);
	const char		*passin = CM_ARG(a, OPT_PASSIN);
	char			 path[FTPS_PATH_MAX], err[CS_ERR_MAX];
	unsigned		 days;
	int			 r, rc = CM_FAIL, opened = 0;

	cm_subjopts_get(a, &o);
	if (passin != NULL && rootdir == NULL) {
		cm_error("ca init: --passin is the key of the CA named by "
		    "--intermediate ROOTDIR");
		return CM_USAGE;
	}
	if (cm_pass_init(&pass, passout, "--passout", 1) != 0 ||
	    cm_pass_init(&rootpass, passin, "--passin", 0) != 0)
		return CM_USAGE;
	if (cm_days(o.days, CS_CA_DAYS_DEFAULT, CS_CA_DAYS_MAX,
	    "CA certificates", &days) != 0)
		return CM_FAIL;
	if (crlurl != NULL && cs_url_check(crlurl, err, sizeof(err)) != 0) {
		cm_error("--crl-url: %s", err);
		return CM_FAIL;
	}
	ca_path(cli, cadir, path, sizeof(path));
	if (cadir == NULL && cm_ensure_dir(cli, cli->dir) != 0)
		return CM_FAIL;
	/* The signing root first: no key is made for a root that cannot. */
	if (rootdir != NULL) {
		if (ca_open(cli, rootdir, &root, &rootpass, 1) != 0)
			goto out;
		opened = 1;
	}
	if (passout != NULL && cm_pass_read(&pass, "the CA key") != 0)
		goto out;
	if (rootdir != NULL)
		r = cs_ca_init_sub(path, &o.subj, o.key, days, crlurl,
		    passout != NULL ? pass.buf : NULL,
		    passout != NULL ? (size_t)pass.len : 0, &root, &x, err,
		    sizeof(err));
	else
		r = cs_ca_init(path, &o.subj, o.key, days, crlurl,
		    passout != NULL ? pass.buf : NULL,
		    passout != NULL ? (size_t)pass.len : 0, &x, err,
		    sizeof(err));
	if (r != 0) {
		cm_error("%s", err);
		goto out;
	}
	{
		struct cli	 cacli = *cli;

		cacli.dir = path;
		cm_print_written(&cacli, rootdir != NULL ? "created "
		    "intermediate" : "created", "CA", x, X509_get0_pubkey(x),
		    rootdir != NULL ? "ca.key, ca.crt, chain.pem, index.txt, "
		    "serial, crlnumber, newcerts/, openssl.cnf" : "ca.key, "
		    "ca.crt, index.txt, serial, crlnumber, newcerts/, "
		    "openssl.cnf");
	}
	if (passout == NULL)
		cm_info(cli, "note: %s/ca.key is not encrypted (give --passout "
		    "to encrypt it)", path);
	rc = CM_OK;
 out:
	if (opened)
		cs_ca_close(&root);
	cm_pass_clear(&pass);
	cm_pass_clear(&rootpass);
	X509_free(x);
	return rc;
}

static int
ca_renew(struct cli *cli, const struct cm_args *a)
{
	struct cm_pass		 pass;
	struct cs_ca		 ca, root;
	X509			*x = NULL;
	const char		*days = CM_ARG(a, OPT_DAYS);
	const char		*cadir = CM_ARG(a, OPT_CADIR);
	const char		*rootdir = CM_ARG(a, OPT_INTERMEDIATE);
	const char		*passin = CM_ARG(a, OPT_PASSIN);
	char			 err[CS_ERR_MAX];
	unsigned		 ndays;
	int			 rc = CM_FAIL, opened = 0, ropened = 0;

	if (cm_pass_init(&pass, passin, "--passin", 0) != 0)
		return CM_USAGE;
	if (cm_days(days, CS_CA_DAYS_DEFAULT, CS_CA_DAYS_MAX,
	    "CA certificates", &ndays) != 0)
		return CM_FAIL;
	if (ca_open(cli, cadir, &ca, &pass, 0) != 0)
		goto out;
	opened = 1;
	if (!cs_ca_is_root(&ca) && rootdir == NULL) {
		cm_error("%s/ca.crt: an intermediate CA is renewed by its "
		    "root: give --intermediate ROOTDIR", ca.dir);
		goto out;
	}
	if (cs_ca_is_root(&ca) && rootdir != NULL) {
		cm_error("%s/ca.crt: a root CA renews itself: leave out "
		    "--intermediate", ca.dir);
		goto out;
	}
	/* The key that signs: the root's, or a root's own. */
	if (rootdir != NULL) {
		if (ca_open(cli, rootdir, &root, &pass, 1) != 0)
			goto out;
		ropened = 1;
	} else if (cs_ca_load_key(&ca, &pass.cs, err, sizeof(err)) != 0) {
		cm_error("%s", cm_pass_err(&pass, err));
		goto out;
	}
	if (cs_ca_renew(&ca, ropened ? &root : NULL, ndays, &x, err,
	    sizeof(err)) != 0) {
		cm_error("%s", cm_pass_err(&pass, err));
		goto out;
	}
	{
		struct cli	 cacli = *cli;

		cacli.dir = ca.dir;
		cm_print_written(&cacli, "renewed", "CA", x,
		    X509_get0_pubkey(x), ropened ? "ca.crt, chain.pem" :
		    "ca.crt");
	}
	cm_info(cli, "same key and name: certificates it signed keep "
	    "verifying; give clients and servers the new %s/ca.crt "
	    "(tls_client_ca, curl --cacert)", ca.dir);
	rc = CM_OK;
 out:
	if (ropened)
		cs_ca_close(&root);
	if (opened)
		cs_ca_close(&ca);
	cm_pass_clear(&pass);
	X509_free(x);
	return rc;
}

/*
 * May NAME.crt be replaced by a certificate of this CA?  When there is
 * none, when it is self-signed (the create-then-sign flow), or --force.
 */
static int
ca_may_replace(const struct cli *cli, const char *name, int force)
{
	struct cm_state	 st;
	int		 has, ok = 1;
	char		 err[CS_ERR_MAX];

	if ((has = cs_files(cli->dir, name, err, sizeof(err))) < 0) {
		cm_error("%s", err);
		return 0;
	}
	if (!(has & CS_HAS_CRT) || force)
		return 1;
	cm_state_load(cli->dir, name, (unsigned)has, &st);
	if (st.cert == NULL || X509_self_signed(st.cert, 0) != 1) {
		cm_error("%s/%s.crt: already exists and is not self-signed "
		    "(use --force to replace it, --name NEW, or certmgr renew "
		    "%s)", cli->dir, name, name);
		ok = 0;
	}
	cm_state_free(&st);
	return ok;
}

int
cm_ca_sign_write(const struct cli *cli, struct cs_ca *ca,
    struct cs_signreq *req, const char *name, EVP_PKEY *key, X509_REQ *csr,
    int replace, X509 **out)
{
	struct cs_signreq	 rq = *req;
	struct cs_txn		 t;
	char			 err[CS_ERR_MAX], f[4][FTPS_NAME_MAX + 1];
	int			 r;

	*out = NULL;
	snprintf(f[0], sizeof(f[0]), "%s.key", name);
	snprintf(f[1], sizeof(f[1]), "%s.csr", name);
	snprintf(f[2], sizeof(f[2]), "%s.crt", name);
	snprintf(f[3], sizeof(f[3]), "%s.chain", name);
	if (cs_txn_begin(&t, cli->dir, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return -1;
	}
	/* An intermediate CA's leaves carry it (and what is above it). */
	if ((key == NULL || (r = cs_txn_put_key(&t, f[0], key, NULL, 0, err,
	    sizeof(err))) == 0) &&
	    (csr == NULL || (r = cs_txn_put_csr(&t, f[1], csr, err,
	    sizeof(err))) == 0) &&
	    (r = cs_ca_is_root(ca) ? cs_txn_unlink(&t, f[3]) :
	    cs_txn_put_certs(&t, f[3], ca->cert, ca->chain, err,
	    sizeof(err))) == 0) {
		rq.file = f[2];
		rq.txn = &t;
		rq.replace = replace;
		r = cs_ca_sign(ca, &rq, out, err, sizeof(err));
	}
	cs_txn_end(&t);
	if (r != 0) {
		cm_error("%s", err);
		return -1;
	}
	req->clamped = rq.clamped;
	if (req->clamped)
		cm_warn("%s: validity cut to the CA's own expiry", name);
	return 0;
}

static int
ca_sign(struct cli *cli, const struct cm_args *a)
{
	struct cm_pass		 pass;
	struct cs_ca		 ca;
	struct cs_bundle	 b;
	struct cs_signreq	 req;
	struct stat		 st;
	GENERAL_NAMES		*sans = NULL;
	X509			*x = NULL;
	const char		*arg = a->argv[0];
	const char		*newname = CM_ARG(a, OPT_NAME);
	const char		*passin = CM_ARG(a, OPT_PASSIN);
	const char		*cadir = CM_ARG(a, OPT_CADIR);
	const char		*days = CM_ARG(a, OPT_DAYS);
	char			 err[CS_ERR_MAX], path[FTPS_PATH_MAX];
	char			 name[FTPS_CERTNAME_MAX + 1];
	char			 fname[FTPS_NAME_MAX + 1];
	enum cs_purpose		 purpose;
	unsigned		 ndays;
	int			 force = CM_FLAG(a, OPT_FORCE), rc = CM_FAIL;
	int			 has, opened = 0, copycsr, innamed = 0;

	memset(&b, 0, sizeof(b));
	purpose = CM_FLAG(a, OPT_CLIENT) ? CS_CLIENT : CS_SERVER;
	if (cm_pass_init(&pass, passin, "--passin", 0) != 0)
		return CM_USAGE;
	if (newname != NULL && cs_name_check(newname, err, sizeof(err)) != 0) {
		cm_error("--name: %s", err);
		return CM_USAGE;
	}
	if (cm_days(days, CS_DAYS_DEFAULT, CS_DAYS_MAX, "leaf certificates",
	    &ndays) != 0)
		return CM_FAIL;

	/* 1. NAME (its .csr in the folder) or a request file. */
	if (strchr(arg, '/') == NULL && cs_name_check(arg, NULL, 0) == 0 &&
	    (has = cs_files(cli->dir, arg, NULL, 0)) > 0 &&
	    (has & CS_HAS_CSR)) {
		innamed = 1;
		snprintf(path, sizeof(path), "%s/%s.csr", cli->dir, arg);
	} else if (stat(arg, &st) == 0)
		snprintf(path, sizeof(path), "%s", arg);
	else {
		cm_error("%s: no such request file, and no %s/%.64s.csr",
		    arg, cli->dir, arg);
		goto out;
	}
	if (cs_decode_file(path, NULL, &b, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	if (b.csr == NULL) {
		cm_error("%s: holds no certificate request", path);
		goto out;
	}
	if (cs_csr_check(b.csr, path, purpose, &sans, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	if (innamed && newname != NULL && strcmp(newname, arg) != 0) {
		cm_error("--name %s: %s is a NAME of the folder already (use "
		    "certmgr rename first)", newname, arg);
		goto out;
	}
	if (newname != NULL)
		snprintf(name, sizeof(name), "%s", newname);
	else if (innamed)
		snprintf(name, sizeof(name), "%s", arg);
	else if (cm_basename(arg, name, sizeof(name)) != 0 ||
	    cs_name_check(name, NULL, 0) != 0) {
		cm_error("%s: its base name is not a valid certificate NAME: "
		    "give --name", arg);
		goto out;
	}

	/* 2. What is in the folder must fit this request. */
	if ((has = cs_files(cli->dir, name, err, sizeof(err))) < 0) {
		cm_error("%s", err);
		goto out;
	}
	if (has & CS_HAS_KEY) {
		struct cs_bundle	 kb;

		snprintf(fname, sizeof(fname), "%s/%s.key", cli->dir, name);
		if (cs_decode_file(fname, NULL, &kb, err, sizeof(err)) != 0 ||
		    kb.key == NULL || EVP_PKEY_eq(kb.key,
		    X509_REQ_get0_pubkey(b.csr)) != 1) {
			cs_bundle_free(&kb);
			cm_error("%s: exists and is not the key of the request "
			    "%s (use --name NEW)", fname, path);
			goto out;
		}
		cs_bundle_free(&kb);
	}
	if (!ca_may_replace(cli, name, force))
		goto out;
	copycsr = !innamed || strcmp(name, arg) != 0;
	if (copycsr && (has & CS_HAS_CSR) && !force) {
		cm_error("%s/%s.csr: already exists (use --force or --name "
		    "NEW)", cli->dir, name);
		goto out;
	}

	/* 3. Sign and record, then write NAME.crt. */
	if (ca_open(cli, cadir, &ca, &pass, 1) != 0)
		goto out;
	opened = 1;
	memset(&req, 0, sizeof(req));
	req.subject = X509_REQ_get_subject_name(b.csr);
	req.pubkey = X509_REQ_get0_pubkey(b.csr);
	req.san = sans;
	req.purpose = purpose;
	req.days = ndays;
	snprintf(fname, sizeof(fname), "%s.crt", name);
	if (cm_ca_sign_write(cli, &ca, &req, name, NULL, copycsr ? b.csr :
	    NULL, 1, &x) != 0)
		goto out;
	cm_print_written(cli, purpose == CS_CLIENT ? "signed client" :
	    "signed server", name, x, X509_REQ_get0_pubkey(b.csr), fname);
	rc = CM_OK;
 out:
	if (opened)
		cs_ca_close(&ca);
	cm_pass_clear(&pass);
	X509_free(x);
	GENERAL_NAMES_free(sans);
	cs_bundle_free(&b);
	return rc;
}

static int
ca_issue(struct cli *cli, const struct cm_args *a)
{
	struct cm_subjopts	 o;
	struct cm_pass		 pass;
	struct cs_ca		 ca;
	struct cs_signreq	 req;
	EVP_PKEY		*key = NULL;
	X509_NAME		*subj = NULL;
	GENERAL_NAMES		*san = NULL, *checked = NULL;
	X509_REQ		*csr = NULL;
	X509			*x = NULL;
	const char		*name = a->argv[0];
	const char		*passin = CM_ARG(a, OPT_PASSIN);
	const char		*cadir = CM_ARG(a, OPT_CADIR);
	char			 err[CS_ERR_MAX];
	char			 files[3 * FTPS_NAME_MAX + 8];
	enum cs_purpose		 purpose;
	unsigned		 days;
	int			 force = CM_FLAG(a, OPT_FORCE), rc = CM_FAIL;
	int			 opened = 0;

	cm_subjopts_get(a, &o);
	purpose = CM_FLAG(a, OPT_CLIENT) ? CS_CLIENT : CS_SERVER;
	if (cm_pass_init(&pass, passin, "--passin", 0) != 0)
		return CM_USAGE;
	if (cs_name_check(name, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return CM_FAIL;
	}
	if (cm_days(o.days, CS_DAYS_DEFAULT, CS_DAYS_MAX, "leaf certificates",
	    &days) != 0)
		return CM_FAIL;
	if (cm_refuse_existing(cli, name, force) != 0)
		return CM_FAIL;
	/* The CA first: no key is made for a CA that cannot sign. */
	if (ca_open(cli, cadir, &ca, &pass, 1) != 0)
		goto out;
	opened = 1;
	if (cm_build_request(&o, purpose, &key, &subj, &san, &csr) != 0)
		goto out;
	if (cs_csr_check(csr, name, purpose, &checked, err,
	    sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.subject = subj;
	req.pubkey = key;
	req.san = san;
	req.purpose = purpose;
	req.days = days;
	if (cm_ca_sign_write(cli, &ca, &req, name, key, csr, force, &x) != 0)
		goto out;
	snprintf(files, sizeof(files), "%s.key, %s.csr, %s.crt", name, name,
	    name);
	cm_print_written(cli, purpose == CS_CLIENT ? "issued client" :
	    "issued server", name, x, key, files);
	rc = CM_OK;
 out:
	if (opened)
		cs_ca_close(&ca);
	cm_pass_clear(&pass);
	X509_free(x);
	X509_REQ_free(csr);
	GENERAL_NAMES_free(san);
	GENERAL_NAMES_free(checked);
	X509_NAME_free(subj);
	EVP_PKEY_free(key);
	return rc;
}

/* NAME (its .crt, issued by this CA) or a serial, as a normalised serial. */
static int
ca_resolve(const struct cli *cli, struct cs_ca *ca, const char *arg,
    char *serial, size_t size)
{
	struct cs_bundle	 b;
	struct cs_certinfo	 ci;
	char			 path[FTPS_PATH_MAX], err[CS_ERR_MAX];
	int			 has;

	if (cs_name_check(arg, NULL, 0) == 0 &&
	    (has = cs_files(cli->dir, arg, NULL, 0)) > 0 &&
	    (has & CS_HAS_CRT)) {
		snprintf(path, sizeof(path), "%s/%s.crt", cli->dir, arg);
		if (cs_decode_file(path, NULL, &b, err, sizeof(err)) != 0) {
			cm_error("%s", err);
			return -1;
		}
		if (sk_X509_num(b.certs) == 0 ||
		    X509_check_issued(ca->cert, sk_X509_value(b.certs, 0)) !=
		    X509_V_OK) {
			cs_bundle_free(&b);
			cm_error("%s: was not issued by the CA in %s", path,
			    ca->dir);
			return -1;
		}
		cs_cert_info(sk_X509_value(b.certs, 0), &ci);
		cs_bundle_free(&b);
		snprintf(serial, size, "%s", ci.serial);
		return 0;
	}
	if (cs_serial_norm(arg, serial, size) == 0)
		return 0;
	cm_error("%s: neither a NAME with a certificate in %s nor a serial "
	    "number (hex)", arg, cli->dir);
	return -1;
}

static int
ca_revoke(struct cli *cli, const struct cm_args *a)
{
	struct cs_ca		 ca;
	const char		*reason = CM_ARG(a, OPT_REASON);
	const char		*cadir = CM_ARG(a, OPT_CADIR);
	char			 err[CS_ERR_MAX], serial[80];
	int			 rc = CM_FAIL;

	if (reason != NULL && cs_reason_code(reason) < 0) {
		cm_error("--reason %.40s: use one of %s", reason,
		    cs_reason_list());
		return CM_USAGE;
	}
	if (ca_open(cli, cadir, &ca, NULL, 0) != 0)
		return CM_FAIL;
	if (ca_resolve(cli, &ca, a->argv[0], serial, sizeof(serial)) != 0)
		goto out;
	if (cs_ca_revoke(&ca, serial, reason, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	cm_info(cli, "revoked serial %s (%s); publish it with: certmgr ca crl",
	    serial, reason != NULL ? reason : "unspecified");
	rc = CM_OK;
 out:
	cs_ca_close(&ca);
	return rc;
}

static int
ca_crl(struct cli *cli, const struct cm_args *a)
{
	struct cm_pass		 pass;
	struct cs_ca		 ca;
	X509_CRL		*crl = NULL;
	const char		*days = CM_ARG(a, OPT_DAYS);
	const char		*passin = CM_ARG(a, OPT_PASSIN);
	const char		*cadir = CM_ARG(a, OPT_CADIR);
	char			 err[CS_ERR_MAX], when[40];
	unsigned		 ndays;
	int			 nrev, rc = CM_FAIL;

	if (cm_pass_init(&pass, passin, "--passin", 0) != 0)
		return CM_USAGE;
	if (cm_days(days, CS_CRL_DAYS_DEFAULT, CS_CRL_DAYS_MAX, "CRLs",
	    &ndays) != 0)
		return CM_FAIL;
	/* An expired CA may still publish who it revoked. */
	if (ca_open(cli, cadir, &ca, &pass, 0) != 0)
		goto out;
	if (cs_ca_load_key(&ca, &pass.cs, err, sizeof(err)) != 0 ||
	    cs_ca_crl(&ca, ndays, &crl, err, sizeof(err)) != 0) {
		cm_error("%s", cm_pass_err(&pass, err));
		cs_ca_close(&ca);
		goto out;
	}
	cs_time_format(X509_CRL_get0_nextUpdate(crl), when, sizeof(when));
	/* A CRL listing nobody has no stack at all: -1 from _num(). */
	nrev = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
	cm_info(cli, "wrote %s/crl.pem: %d revoked, next update %s", ca.dir,
	    nrev > 0 ? nrev : 0, when);
	cs_ca_close(&ca);
	rc = CM_OK;
 out:
	cm_pass_clear(&pass);
	X509_CRL_free(crl);
	return rc;
}

static void
ca_date(const char *asn1, char *out, size_t size)
{
	ASN1_TIME	*t;

	snprintf(out, size, "%s", asn1);
	if ((t = ASN1_TIME_new()) != NULL && ASN1_TIME_set_string(t, asn1))
		cs_time_format(t, out, size);
	ASN1_TIME_free(t);
}

/* 1 when an index date lies in the past. */
static int
ca_past(const char *asn1)
{
	ASN1_TIME	*t;
	int		 past = 0;

	if ((t = ASN1_TIME_new()) != NULL && ASN1_TIME_set_string(t, asn1))
		past = X509_cmp_current_time(t) < 0;
	ASN1_TIME_free(t);
	return past;
}

static int
ca_list(struct cli *cli, const struct cm_args *a)
{
	struct cs_ca		 ca;
	struct cs_db		 db;
	struct cs_dbrow		*row;
	struct jw		 w;
	const char		*cadir = CM_ARG(a, OPT_CADIR), *st;
	char			 err[CS_ERR_MAX], exp[40], rev[40], rt[48];
	char			*reason;
	size_t			 i;

	if (ca_open(cli, cadir, &ca, NULL, 0) != 0)
		return CM_FAIL;
	if (cs_ca_db_read(&ca, &db, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		cs_ca_close(&ca);
		return CM_FAIL;
	}
	memset(&w, 0, sizeof(w));
	if (cli->json)
		jw_open(&w, NULL, '[');
	else if (!cli->quiet)
		printf("%-8s %-34s %-10s %-10s %-20s %-16s %s\n", "STATUS",
		    "SERIAL", "EXPIRES", "REVOKED", "REASON", "FILE",
		    "SUBJECT");
	for (i = 0; i < db.n; i++) {
		row = &db.rows[i];
		st = row->status == 'V' ? "valid" : row->status == 'R' ?
		    "revoked" : "expired";
		if (row->status == 'V' && ca_past(row->expiry))
			st = "expired";
		ca_date(row->expiry, exp, sizeof(exp));
		snprintf(rt, sizeof(rt), "%s", row->revoked);
		reason = NULL;
		if ((reason = strchr(rt, ',')) != NULL)
			*reason++ = '\0';
		if (rt[0] != '\0')
			ca_date(rt, rev, sizeof(rev));
		else
			rev[0] = '\0';
		if (cli->json) {
			jw_open(&w, NULL, '{');
			jw_str(&w, "status", st);
			jw_str(&w, "serial", row->serial);
			jw_str(&w, "expires", exp);
			jw_str(&w, "revoked", rev[0] ? rev : NULL);
			jw_str(&w, "reason", rev[0] ? (reason ? reason :
			    "unspecified") : NULL);
			jw_str(&w, "file", row->file);
			jw_str(&w, "subject", row->subject);
			jw_close(&w, '}');
		} else if (!cli->quiet)
			printf("%-8s %-34s %-10.10s %-10.10s %-20s %-16s %s\n",
			    st, row->serial, exp, rev[0] ? rev : "-",
			    rev[0] ? (reason ? reason : "unspecified") : "-",
			    row->file, row->subject);
	}
	if (cli->json)
		jw_close(&w, ']');
	cs_db_free(&db);
	cs_ca_close(&ca);
	return CM_OK;
}

/* For renew.c: the CA of the folder when it issued x, else NULL. */
int
cm_ca_for(const struct cli *cli, X509 *x, struct cs_ca *ca,
    struct cm_pass *pass)
{
	char	 path[FTPS_PATH_MAX], err[CS_ERR_MAX];

	ca_path(cli, NULL, path, sizeof(path));
	if (cs_ca_open(ca, path, err, sizeof(err)) != 0)
		return 0;
	if (X509_check_issued(ca->cert, x) != X509_V_OK) {
		cs_ca_close(ca);
		return 0;
	}
	if (cs_ca_usable(ca, err, sizeof(err)) != 0 ||
	    cs_ca_load_key(ca, &pass->cs, err, sizeof(err)) != 0) {
		cm_error("%s", cm_pass_err(pass, err));
		cs_ca_close(ca);
		return -1;
	}
	return 1;
}
