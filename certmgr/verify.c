/*
 * certmgr verify: does NAME's chain verify, for that purpose and host,
 * and does its key fit?  OpenSSL's own reason is given on failure.
 */
#include "config.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "err.h"

static int
load_crls(X509_STORE *store, const char *path)
{
	unsigned char		*data;
	size_t			 len;
	X509_CRL		*crl;
	BIO			*bio;
	char			 err[CS_ERR_MAX];
	int			 n = 0;

	if (cs_read_file(path, &data, &len, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return -1;
	}
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
		cs_data_free(data, len);
		cm_error("out of memory");
		return -1;
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_crl(store, crl);
		X509_CRL_free(crl);
		n++;
	}
	ERR_clear_error();
	if (n == 0) {
		/* Perhaps DER. */
		const unsigned char	*p = data;

		if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
		    p == data + len) {
			X509_STORE_add_crl(store, crl);
			n++;
		}
		X509_CRL_free(crl);
	}
	BIO_free(bio);
	cs_data_free(data, len);
	if (n == 0) {
		ERR_clear_error();
		cm_error("%s: not a CRL (PEM or DER)", path);
		return -1;
	}
	return 0;
}

static int
load_cas(X509_STORE *store, const char *path)
{
	struct cs_bundle	 b;
	char			 err[CS_ERR_MAX];
	int			 i;

	if (cs_decode_file(path, NULL, &b, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return -1;
	}
	if (sk_X509_num(b.certs) == 0) {
		cs_bundle_free(&b);
		cm_error("%s: holds no certificate", path);
		return -1;
	}
	for (i = 0; i < sk_X509_num(b.certs); i++)
		X509_STORE_add_cert(store, sk_X509_value(b.certs, i));
	cs_bundle_free(&b);
	return 0;
}

/* A name mismatch says which names the certificate does have. */
static void
err_names(X509_STORE_CTX *ctx, X509 *x, char *reason, size_t size)
{
	GENERAL_NAMES	*gens;
	char		 names[1024];
	size_t		 n;
	int		 e = X509_STORE_CTX_get_error(ctx);

	if (e != X509_V_ERR_HOSTNAME_MISMATCH &&
	    e != X509_V_ERR_IP_ADDRESS_MISMATCH)
		return;
	gens = cs_cert_sans(x);
	cs_san_format(gens, names, sizeof(names));
	GENERAL_NAMES_free(gens);
	n = strlen(reason);
	snprintf(reason + n, size - n, "; the certificate names %.400s",
	    names[0] ? names : "no host (no subjectAltName)");
}

int
cm_verify(struct cli *cli, const struct cm_args *a)
{
	struct cm_ctx		 cx;
	struct cm_state		 st;
	struct cs_certinfo	 ci;
	struct stat		 sb;
	struct jw		 w;
	X509_STORE		*store = NULL;
	X509_STORE_CTX		*ctx = NULL;
	X509_VERIFY_PARAM	*vp;
	STACK_OF(X509)		*path;
	const char		*name = a->argv[0];
	const char		*cafile = CM_ARG(a, OPT_CA);
	const char		*crlfile = CM_ARG(a, OPT_CRL);
	const char		*host = CM_ARG(a, OPT_HOST);
	const char		*purpose = CM_ARG(a, OPT_PURPOSE);
	char			 reason[CS_ERR_MAX];
	char			 folderca[FTPS_PATH_MAX + 16], subj[512];
	unsigned char		 ip[16];
	int			 has, ok = 0, rc = CM_FAIL, i, depth;
	int			 loaded = 0;

	reason[0] = '\0';
	memset(&cx, 0, sizeof(cx));
	if (purpose == NULL)
		purpose = "server";
	if (strcmp(purpose, "server") != 0 && strcmp(purpose, "client") != 0) {
		cm_error("--purpose %.20s: use server or client", purpose);
		return CM_USAGE;
	}
	if ((has = cm_name_files(cli, name, CS_HAS_CRT)) < 0)
		return CM_FAIL;
	cm_state_load(cli->dir, name, (unsigned)has, &st);
	loaded = 1;
	if (st.cert == NULL) {
		cm_error("%s", st.why);
		goto out;
	}

	/* 1. Trust: --ca, else the folder's CA and the system's roots. */
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL) {
		cm_error("out of memory");
		goto out;
	}
	if (cafile != NULL) {
		if (load_cas(store, cafile) != 0)
			goto out;
	} else {
		/* An intermediate CA's root (chain.pem) is trusted too. */
		for (i = 0; i < 2; i++) {
			snprintf(folderca, sizeof(folderca), "%s/ca/%s",
			    cli->dir, i == 0 ? "ca.crt" : "chain.pem");
			if (stat(folderca, &sb) == 0 &&
			    load_cas(store, folderca) != 0)
				goto out;
		}
		X509_STORE_set_default_paths(store);
		ERR_clear_error();
	}
	if (crlfile != NULL) {
		if (load_crls(store, crlfile) != 0)
			goto out;
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	} else if (cafile == NULL && cm_ctx_issued(&cx, cli->dir, st.cert) &&
	    cx.crl != NULL) {
		/* The folder's CA published a CRL: judge by it, as ftpsd. */
		X509_STORE_add_crl(store, cx.crl);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	if (!X509_STORE_CTX_init(ctx, store, st.cert, st.chain)) {
		cm_error("out of memory");
		goto out;
	}
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_STORE_CTX_set_purpose(ctx, strcmp(purpose, "client") == 0 ?
	    X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER);
	if (host != NULL) {
		if (inet_pton(AF_INET, host, ip) == 1 ||
		    inet_pton(AF_INET6, host, ip) == 1)
			X509_VERIFY_PARAM_set1_ip_asc(vp, host);
		else
			X509_VERIFY_PARAM_set1_host(vp, host, 0);
	}

	/* 2. OpenSSL decides; we report. */
	ok = X509_verify_cert(ctx) == 1;
	if (!ok) {
		depth = X509_STORE_CTX_get_error_depth(ctx);
		subj[0] = '\0';
		if (X509_STORE_CTX_get_current_cert(ctx) != NULL)
			cs_name_format(X509_get_subject_name(
			    X509_STORE_CTX_get_current_cert(ctx)), subj,
			    sizeof(subj));
		snprintf(reason, sizeof(reason), "%s (at depth %d%s%s)%s",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)),
		    depth, subj[0] ? ": " : "", subj,
		    X509_STORE_CTX_get_error(ctx) ==
		    X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ?
		    "; trust it with --ca on its own .crt" : "");
		err_names(ctx, st.cert, reason, sizeof(reason));
	} else if ((cm_state_check(&cx, cli->dir, &st),
	    strcmp(st.status, "revoked") == 0)) {
		ok = 0;
		snprintf(reason, sizeof(reason), "certificate revoked by the "
		    "folder's CA on %s (%s)%s", st.rev_date, st.rev_reason,
		    st.rev_crl ? "" : "; not yet in its CRL: publish it with "
		    "certmgr ca crl");
	} else if (st.key == NULL) {
		ok = 0;
		snprintf(reason, sizeof(reason), "the chain verifies but %s "
		    "has no usable private key (%s)", name, st.status);
	} else if (!cs_pair_matches(st.cert, st.key)) {
		ok = 0;
		snprintf(reason, sizeof(reason), "the chain verifies but "
		    "%s.key does not match %s.crt", name, name);
	}
	cs_cert_info(st.cert, &ci);
	if (cli->json) {
		memset(&w, 0, sizeof(w));
		jw_open(&w, NULL, '{');
		jw_str(&w, "name", name);
		jw_bool(&w, "ok", ok);
		jw_str(&w, "error", ok ? NULL : reason);
		jw_str(&w, "purpose", purpose);
		jw_str(&w, "host", host);
		jw_open(&w, "chain", '[');
		if (ok && (path = X509_STORE_CTX_get0_chain(ctx)) != NULL)
			for (i = 0; i < sk_X509_num(path); i++) {
				cs_name_format(X509_get_subject_name(
				    sk_X509_value(path, i)), subj,
				    sizeof(subj));
				jw_str(&w, NULL, subj);
			}
		jw_close(&w, ']');
		jw_close(&w, '}');
	}
	if (!ok) {
		cm_error("%s/%s.crt: verification failed: %s", cli->dir, name,
		    reason);
		goto out;
	}
	if (!cli->json && !cli->quiet) {
		printf("%s: OK (%s%s%s), chain:", name, purpose,
		    host ? ", " : "", host ? host : "");
		path = X509_STORE_CTX_get0_chain(ctx);
		for (i = 0; path != NULL && i < sk_X509_num(path); i++) {
			cs_name_format(X509_get_subject_name(
			    sk_X509_value(path, i)), subj, sizeof(subj));
			printf("%s %s", i ? " <-" : "", subj);
		}
		printf("\n");
	}
	rc = CM_OK;
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	if (loaded)
		cm_state_free(&st);
	cm_ctx_free(&cx);
	return rc;
}
