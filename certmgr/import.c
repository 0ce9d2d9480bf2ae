/*
 * certmgr import: whatever key and certificate format an admin was given
 * becomes NAME.key + NAME.crt (+ NAME.chain) in the folder.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "err.h"

/*
 * Orders the certificates that are not the leaf: issuer of the leaf
 * first, then its issuer, and so on; the ones that are no link of that
 * chain are dropped with a warning.
 */
static STACK_OF(X509) *
order_chain(X509 *leaf, STACK_OF(X509) *certs, const char *label)
{
	STACK_OF(X509)	*chain, *left;
	X509		*cur = leaf, *x;
	int		 i, found;

	if ((chain = sk_X509_new_null()) == NULL ||
	    (left = sk_X509_new_null()) == NULL) {
		sk_X509_free(chain);
		return NULL;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (x != leaf && X509_cmp(x, leaf) != 0)
			sk_X509_push(left, x);
	}
	do {
		found = 0;
		/* A self-signed certificate ends the chain. */
		if (cur != leaf && X509_self_signed(cur, 0) == 1)
			break;
		for (i = 0; i < sk_X509_num(left); i++) {
			x = sk_X509_value(left, i);
			if (X509_check_issued(x, cur) == X509_V_OK) {
				sk_X509_push(chain, x);
				(void)sk_X509_delete(left, i);
				cur = x;
				found = 1;
				break;
			}
		}
	} while (found && sk_X509_num(chain) < CS_CHAIN_MAX);
	for (i = 0; i < sk_X509_num(left); i++) {
		char	 subj[256];

		cs_name_format(X509_get_subject_name(sk_X509_value(left, i)),
		    subj, sizeof(subj));
		cm_warn("%s: certificate \"%s\" is not part of the chain: "
		    "left out", label, subj);
	}
	sk_X509_free(left);
	return chain;
}

/* A key already in the folder that matches x: its NAME, or "". */
static int
folder_key(const struct cli *cli, X509 *x, char *name, size_t size,
    EVP_PKEY **key)
{
	struct cs_entry		*ents;
	struct cs_bundle	 b;
	char			 err[CS_ERR_MAX], path[FTPS_PATH_MAX];
	size_t			 n, i;

	name[0] = '\0';
	*key = NULL;
	if (cs_list(cli->dir, &ents, &n, err, sizeof(err)) != 0)
		return 0;
	for (i = 0; i < n && *key == NULL; i++) {
		if (!(ents[i].has & CS_HAS_KEY))
			continue;
		snprintf(path, sizeof(path), "%s/%s.key", cli->dir,
		    ents[i].name);
		if (cs_decode_file(path, NULL, &b, err, sizeof(err)) != 0)
			continue;
		if (b.key != NULL && cs_pair_matches(x, b.key)) {
			snprintf(name, size, "%s", ents[i].name);
			*key = b.key;
			b.key = NULL;
		}
		cs_bundle_free(&b);
	}
	free(ents);
	return *key != NULL;
}

static int
import_policy(X509 *leaf, STACK_OF(X509) *chain, EVP_PKEY *key,
    const char *certlabel, const char *keylabel)
{
	char	 err[CS_ERR_MAX], when[40];
	int	 i;
	X509	*x;

	if (cs_key_check(key, keylabel, err, sizeof(err)) != 0 ||
	    cs_sig_check_cert(leaf, certlabel, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return -1;
	}
	for (i = 0; i < sk_X509_num(chain); i++) {
		x = sk_X509_value(chain, i);
		/* A root's own signature is never checked by a peer. */
		if (X509_self_signed(x, 0) == 1)
			continue;
		if (cs_sig_check_cert(x, certlabel, err, sizeof(err)) != 0) {
			cm_error("%s (chain certificate %d)", err, i + 1);
			return -1;
		}
	}
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
		cs_time_format(X509_get0_notAfter(leaf), when, sizeof(when));
		cm_warn("%s: the certificate expired on %s; ftpsd will refuse "
		    "to serve it", certlabel, when);
	}
	return 0;
}

/*
 * After an import: a chain that stops short of anything trusted gets a
 * warning naming the missing issuer and the command that adds it.
 */
static void
import_chain_warn(const struct cli *cli, const char *name)
{
	struct cm_ctx	 cx;
	struct cm_state	 st;
	int		 has;

	if ((has = cs_files(cli->dir, name, NULL, 0)) <= 0)
		return;
	memset(&cx, 0, sizeof(cx));
	cm_state_load(cli->dir, name, (unsigned)has, &st);
	cm_state_check(&cx, cli->dir, &st);
	if (st.missing[0] != '\0')
		cm_warn("%s: the chain is incomplete: issuer \"%s\" is "
		    "missing (clients will fail with \"unable to get local "
		    "issuer certificate\"); add the CA's bundle with: certmgr "
		    "import BUNDLE.pem --name %s", name, st.missing, name);
	cm_state_free(&st);
	cm_ctx_free(&cx);
}

/* 1 when every certificate of certs is a CA's: a chain, not a pair. */
static int
only_cas(STACK_OF(X509) *certs)
{
	int	 i;

	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_check_ca(sk_X509_value(certs, i)) == 0)
			return 0;
	return sk_X509_num(certs) > 0;
}

/* import BUNDLE --name NAME: the issuers of NAME.crt become NAME.chain. */
static int
import_chain(const struct cli *cli, const char *certf, STACK_OF(X509) *certs,
    const char *name)
{
	struct cm_state	 st;
	struct cs_txn	 t;
	STACK_OF(X509)	*chain = NULL;
	char		 err[CS_ERR_MAX], f[FTPS_NAME_MAX + 1], iss[512];
	int		 has, i, r = -1;

	if ((has = cs_files(cli->dir, name, err, sizeof(err))) < 0) {
		cm_error("%s", err);
		return -1;
	}
	if (!(has & CS_HAS_CRT)) {
		cm_error("%s: no private key given, and %s/%s.crt does not "
		    "exist to take its CA certificates as chain", certf,
		    cli->dir, name);
		return -1;
	}
	cm_state_load(cli->dir, name, (unsigned)has, &st);
	if (st.cert == NULL) {
		cm_error("%s", st.why);
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_check_issued(sk_X509_value(certs, i), st.cert) ==
		    X509_V_OK)
			break;
	if (i == sk_X509_num(certs)) {
		cs_name_format(X509_get_issuer_name(st.cert), iss, sizeof(iss));
		cm_error("%s: none of its certificates issued %s/%s.crt (its "
		    "issuer is \"%s\")", certf, cli->dir, name, iss);
		goto out;
	}
	if ((chain = order_chain(st.cert, certs, certf)) == NULL) {
		cm_error("out of memory");
		goto out;
	}
	snprintf(f, sizeof(f), "%s.chain", name);
	if ((r = cs_txn_begin(&t, cli->dir, err, sizeof(err))) == 0) {
		if ((r = cs_txn_put_certs(&t, f, NULL, chain, err,
		    sizeof(err))) == 0)
			r = cs_txn_commit(&t, 1, err, sizeof(err));
		cs_txn_end(&t);
	}
	if (r != 0) {
		cm_error("%s", err);
		r = -1;
		goto out;
	}
	cm_info(cli, "wrote %s/%s: %d certificate%s after %s.crt", cli->dir, f,
	    sk_X509_num(chain), sk_X509_num(chain) > 1 ? "s" : "", name);
	import_chain_warn(cli, name);
 out:
	sk_X509_free(chain);
	cm_state_free(&st);
	return r;
}

/* The answer to a request made by create: it replaces the self-signed. */
static int
self_signed_crt(const struct cli *cli, const char *name, unsigned has)
{
	struct cm_state	 st;
	int		 yes;

	if (!(has & CS_HAS_CRT))
		return 0;
	cm_state_load(cli->dir, name, has, &st);
	yes = st.cert != NULL && X509_self_signed(st.cert, 0) == 1;
	cm_state_free(&st);
	return yes;
}

int
cm_import(struct cli *cli, const struct cm_args *a)
{
	struct cm_pass		 pass;
	struct cs_bundle	 cb, kb;
	struct cs_txn		 t;
	STACK_OF(X509)		*chain = NULL;
	EVP_PKEY		*key = NULL, *fkey = NULL;
	X509			*leaf = NULL;
	const char		*certf = a->argv[0], *keylabel;
	const char		*keyf = a->argc > 1 ? a->argv[1] : NULL;
	const char		*newname = CM_ARG(a, OPT_NAME);
	const char		*passin = CM_ARG(a, OPT_PASSIN);
	char			 err[CS_ERR_MAX], name[FTPS_CERTNAME_MAX + 1];
	char			 from[FTPS_CERTNAME_MAX + 1];
	char			 f[4][FTPS_NAME_MAX + 1], path[FTPS_PATH_MAX];
	char			 files[4 * FTPS_NAME_MAX + 16];
	int			 i, has, force = CM_FLAG(a, OPT_FORCE);
	int			 rc = CM_FAIL, txn = 0;
	int			 keep_key = 0;

	memset(&cb, 0, sizeof(cb));
	memset(&kb, 0, sizeof(kb));
	if (cm_pass_init(&pass, passin, "--passin", 0) != 0)
		return CM_USAGE;
	if (newname != NULL && cs_name_check(newname, err, sizeof(err)) != 0) {
		cm_error("--name: %s", err);
		return CM_USAGE;
	}

	/* 1. Everything in the files given. */
	if (cs_decode_file(certf, &pass.cs, &cb, err, sizeof(err)) != 0 ||
	    (keyf != NULL && cs_decode_file(keyf, &pass.cs, &kb, err,
	    sizeof(err)) != 0)) {
		cm_error("%s", cm_pass_err(&pass, err));
		goto out;
	}
	if (keyf != NULL && kb.key == NULL) {
		cm_error("%s: holds no private key", keyf);
		goto out;
	}
	if (cb.key != NULL && kb.key != NULL &&
	    EVP_PKEY_eq(cb.key, kb.key) != 1) {
		cm_error("%s: holds a private key already, and not the one in "
		    "%s", certf, keyf);
		goto out;
	}
	key = kb.key != NULL ? kb.key : cb.key;
	keylabel = kb.key != NULL ? keyf : certf;
	while (keyf != NULL && sk_X509_num(kb.certs) > 0)
		if (!sk_X509_push(cb.certs, sk_X509_shift(kb.certs))) {
			cm_error("out of memory");
			goto out;
		}
	if (sk_X509_num(cb.certs) == 0) {
		cm_error("%s: holds no certificate%s", certf, cb.csr != NULL ?
		    " (it is a certificate request: sign it with certmgr ca "
		    "sign, or send it to a CA)" : "");
		goto out;
	}

	/* 2. The leaf is the certificate of the key. */
	if (key == NULL && keyf == NULL && only_cas(cb.certs)) {
		if (newname == NULL) {
			cm_error("%s: holds only CA certificates: to add them as "
			    "the chain of a NAME, run certmgr import %s --name "
			    "NAME", certf, certf);
			goto out;
		}
		if (import_chain(cli, certf, cb.certs, newname) == 0)
			rc = CM_OK;
		goto out;
	}
	if (key != NULL) {
		for (i = 0; i < sk_X509_num(cb.certs); i++)
			if (cs_pair_matches(sk_X509_value(cb.certs, i), key))
				leaf = sk_X509_value(cb.certs, i);
		if (leaf == NULL) {
			cm_error("%s: the private key does not match the "
			    "certificate%s in %s", keylabel,
			    sk_X509_num(cb.certs) > 1 ? "s" : "", certf);
			goto out;
		}
	} else {
		for (i = 0; i < sk_X509_num(cb.certs) && leaf == NULL; i++)
			if (X509_check_ca(sk_X509_value(cb.certs, i)) == 0)
				leaf = sk_X509_value(cb.certs, i);
		if (leaf == NULL)
			leaf = sk_X509_value(cb.certs, 0);
		/* The answer to a request made here: its key is here. */
		if (!folder_key(cli, leaf, from, sizeof(from), &fkey)) {
			cm_error("%s: no private key given, and none in %s "
			    "matches the certificate: give the key file as "
			    "second argument", certf, cli->dir);
			goto out;
		}
		key = fkey;
		snprintf(path, sizeof(path), "%s/%s.key", cli->dir, from);
		keylabel = path;
	}
	if ((chain = order_chain(leaf, cb.certs, certf)) == NULL) {
		cm_error("out of memory");
		goto out;
	}
	if (import_policy(leaf, chain, key, certf, keylabel) != 0)
		goto out;

	/* 3. The NAME: asked for, the folder key's, or the file's. */
	if (newname != NULL)
		snprintf(name, sizeof(name), "%s", newname);
	else if (fkey != NULL)
		snprintf(name, sizeof(name), "%s", from);
	else if (cm_basename(certf, name, sizeof(name)) != 0 ||
	    cs_name_check(name, err, sizeof(err)) != 0) {
		cm_error("%s: its base name is not a valid certificate NAME: "
		    "give --name", certf);
		goto out;
	}
	if (cm_ensure_dir(cli, cli->dir) != 0)
		goto out;
	if ((has = cs_files(cli->dir, name, err, sizeof(err))) < 0) {
		cm_error("%s", err);
		goto out;
	}
	keep_key = fkey != NULL && strcmp(from, name) == 0;
	/*
	 * Completing a pending request replaces nothing; the CA's answer
	 * for a key made by create replaces its self-signed stand-in.
	 */
	if (has != 0 && !force && !(keep_key && (!(has & CS_HAS_CRT) ||
	    self_signed_crt(cli, name, (unsigned)has)))) {
		cm_error("%s/%s: already exists (use --force to replace it, or "
		    "--name NEW)", cli->dir, name);
		goto out;
	}

	/* 4. All files or none. */
	snprintf(f[0], sizeof(f[0]), "%s.key", name);
	snprintf(f[1], sizeof(f[1]), "%s.crt", name);
	snprintf(f[2], sizeof(f[2]), "%s.chain", name);
	snprintf(f[3], sizeof(f[3]), "%s.csr", name);
	if (cs_txn_begin(&t, cli->dir, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	txn = 1;
	if ((!keep_key && cs_txn_put_key(&t, f[0], key, NULL, 0, err,
	    sizeof(err)) != 0) ||
	    cs_txn_put_certs(&t, f[1], leaf, NULL, err, sizeof(err)) != 0 ||
	    (sk_X509_num(chain) > 0 && cs_txn_put_certs(&t, f[2], NULL, chain,
	    err, sizeof(err)) != 0)) {
		cm_error("%s", err);
		goto out;
	}
	if (sk_X509_num(chain) == 0)
		(void)cs_txn_unlink(&t, f[2]);
	/* A request for another key would make renew sign the wrong one. */
	if (!keep_key && (has & CS_HAS_CSR))
		(void)cs_txn_unlink(&t, f[3]);
	if (cs_txn_commit(&t, force || keep_key, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	snprintf(files, sizeof(files), "%s%s, %s%s%s", keep_key ? "kept " :
	    "", f[0], f[1], sk_X509_num(chain) > 0 ? ", " : "",
	    sk_X509_num(chain) > 0 ? f[2] : "");
	cm_print_written(cli, "imported", name, leaf, key, files);
	import_chain_warn(cli, name);
	if (cb.encrypted || kb.encrypted)
		cm_info(cli, "note: %s is stored unencrypted (mode 0600) so "
		    "that ftpsd can load it unattended", f[0]);
	rc = CM_OK;
 out:
	if (txn)
		cs_txn_end(&t);
	sk_X509_free(chain);
	EVP_PKEY_free(fkey);
	cs_bundle_free(&cb);
	cs_bundle_free(&kb);
	cm_pass_clear(&pass);
	return rc;
}
