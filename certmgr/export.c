/*
 * certmgr export: NAME's key, certificate and chain as one PKCS#12 file
 * for clients that want a .p12/.pfx (FileZilla, WinSCP, browsers).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pkcs12.h>

#include "cli.h"
#include "err.h"

static void
add_folder_ca(const struct cli *cli, X509 *x, STACK_OF(X509) *chain)
{
	struct cs_bundle	 b;
	char			 path[FTPS_PATH_MAX + 16], err[CS_ERR_MAX];
	X509			*ca;

	snprintf(path, sizeof(path), "%s/ca/ca.crt", cli->dir);
	if (cs_decode_file(path, NULL, &b, err, sizeof(err)) != 0)
		return;
	if (sk_X509_num(b.certs) > 0) {
		ca = sk_X509_value(b.certs, 0);
		if (X509_check_issued(ca, x) == X509_V_OK &&
		    sk_X509_push(chain, ca))
			(void)sk_X509_shift(b.certs);
	}
	cs_bundle_free(&b);
}

int
cm_export(struct cli *cli, const struct cm_args *a)
{
	struct cm_state		 st;
	struct cm_pass		 pass;
	struct cs_txn		 t;
	PKCS12			*p12 = NULL;
	unsigned char		*der = NULL;
	const char		*name = a->argv[0], *base;
	const char		*file = CM_ARG(a, OPT_PKCS12);
	const char		*passout = CM_ARG(a, OPT_PASSOUT);
	char			 err[CS_ERR_MAX], dir[FTPS_PATH_MAX];
	int			 has, len = 0, force = CM_FLAG(a, OPT_FORCE);
	int			 rc = CM_FAIL;
	int			 loaded = 0, txn = 0;

	if (cm_pass_init(&pass, passout, "--passout", 1) != 0)
		return CM_USAGE;
	if ((base = strrchr(file, '/')) != NULL) {
		if ((size_t)(base - file) >= sizeof(dir)) {
			cm_error("%s: path too long", file);
			return CM_FAIL;
		}
		memcpy(dir, file, (size_t)(base - file));
		dir[base - file] = '\0';
		if (dir[0] == '\0')
			snprintf(dir, sizeof(dir), "/");
		base++;
	} else {
		snprintf(dir, sizeof(dir), ".");
		base = file;
	}
	if (*base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		cm_error("%s: not a file name", file);
		return CM_USAGE;
	}
	if ((has = cs_files(cli->dir, name, err, sizeof(err))) < 0) {
		cm_error("%s", err);
		return CM_FAIL;
	}
	if (!(has & CS_HAS_CRT) || !(has & CS_HAS_KEY)) {
		cm_error("%s/%s: needs both %s.crt and %s.key", cli->dir, name,
		    name, name);
		return CM_FAIL;
	}
	cm_state_load(cli->dir, name, (unsigned)has, &st);
	loaded = 1;
	if (st.cert == NULL || st.key == NULL) {
		cm_error("%s", st.why);
		goto out;
	}
	if (!cs_pair_matches(st.cert, st.key)) {
		cm_error("%s/%s.key: does not match %s.crt", cli->dir, name,
		    name);
		goto out;
	}
	/* Partners need the private CA's certificate to trust ours. */
	if (sk_X509_num(st.chain) == 0)
		add_folder_ca(cli, st.cert, st.chain);
	if (strcmp(st.status, "expired") == 0)
		cm_warn("%s: the certificate has expired", name);
	if (cm_pass_read(&pass, file) != 0)
		goto out;
	/* AES-256-CBC with PBKDF2 for key and certificates, SHA-256 MAC. */
	if ((p12 = PKCS12_create(pass.buf, name, st.key, st.cert,
	    sk_X509_num(st.chain) > 0 ? st.chain : NULL, NID_aes_256_cbc,
	    NID_aes_256_cbc, PKCS12_DEFAULT_ITER, PKCS12_DEFAULT_ITER,
	    0)) == NULL) {
		cs_err_ssl(err, sizeof(err), FTPS_ETLS, "%s: PKCS#12 "
		    "encoding failed", file);
		cm_error("%s", err);
		goto out;
	}
	if ((len = i2d_PKCS12(p12, &der)) <= 0) {
		cm_error("%s: PKCS#12 encoding failed", file);
		goto out;
	}
	if (cs_txn_begin(&t, dir, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	txn = 1;
	if (cs_txn_put(&t, base, der, (size_t)len, 1, err, sizeof(err)) != 0 ||
	    cs_txn_commit(&t, force, err, sizeof(err)) != 0) {
		if (strstr(err, "already exists") != NULL)
			cm_error("%s: already exists (use --force to replace "
			    "it)", file);
		else
			cm_error("%s", err);
		goto out;
	}
	cm_info(cli, "exported %s to %s (PKCS#12, AES-256, mode 0600, %d "
	    "chain certificate%s)", name, file, sk_X509_num(st.chain),
	    sk_X509_num(st.chain) == 1 ? "" : "s");
	rc = CM_OK;
 out:
	if (txn)
		cs_txn_end(&t);
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)len);
	PKCS12_free(p12);
	cm_pass_clear(&pass);
	if (loaded)
		cm_state_free(&st);
	return rc;
}
