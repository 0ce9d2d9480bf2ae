/*
 * certmgr list / show: what the folder holds, and in what state.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "cli.h"
#include "conf.h"
#include "err.h"

static void
state_path(char *out, size_t size, const char *dir, const char *name,
    const char *ext)
{
	snprintf(out, size, "%s/%s%s", dir, name, ext);
}

void
cm_state_load(const char *dir, const char *name, unsigned has,
    struct cm_state *st)
{
	struct cs_bundle	 b;
	struct cs_certinfo	 ci;
	char			 path[FTPS_PATH_MAX];
	int			 r;

	memset(st, 0, sizeof(*st));
	st->has = has;
	if ((st->chain = sk_X509_new_null()) == NULL) {
		st->status = "unreadable";
		snprintf(st->why, sizeof(st->why), "out of memory");
		return;
	}
	if (has & CS_HAS_CRT) {
		state_path(path, sizeof(path), dir, name, ".crt");
		if (cs_decode_file(path, NULL, &b, st->why,
		    sizeof(st->why)) != 0) {
			st->status = "unreadable";
			return;
		}
		if (sk_X509_num(b.certs) == 0) {
			snprintf(st->why, sizeof(st->why), "%.400s: holds "
			    "no certificate", path);
			cs_bundle_free(&b);
			st->status = "unreadable";
			return;
		}
		st->cert = sk_X509_shift(b.certs);
		while (sk_X509_num(b.certs) > 0)
			sk_X509_push(st->chain, sk_X509_shift(b.certs));
		cs_bundle_free(&b);
	}
	if (has & CS_HAS_CHAIN) {
		state_path(path, sizeof(path), dir, name, ".chain");
		if (cs_decode_file(path, NULL, &b, st->why,
		    sizeof(st->why)) != 0) {
			st->status = "unreadable";
			return;
		}
		while (sk_X509_num(b.certs) > 0)
			sk_X509_push(st->chain, sk_X509_shift(b.certs));
		cs_bundle_free(&b);
	}
	if (has & CS_HAS_KEY) {
		state_path(path, sizeof(path), dir, name, ".key");
		r = cs_decode_file(path, NULL, &b, st->why, sizeof(st->why));
		if (r == FTPS_EDENIED && b.encrypted) {
			st->status = "key-encrypted";
			return;
		}
		if (r != 0 || b.key == NULL) {
			if (r == 0)
				snprintf(st->why, sizeof(st->why), "%.400s: "
				    "holds no private key", path);
			cs_bundle_free(&b);
			st->status = "unreadable";
			return;
		}
		st->key = b.key;
		b.key = NULL;
		cs_bundle_free(&b);
	}
	if (st->cert == NULL) {
		st->status = (has & CS_HAS_KEY) && (has & CS_HAS_CSR) ?
		    "pending" : "missing-cert";
		return;
	}
	cs_cert_info(st->cert, &ci);
	if (st->key == NULL)
		st->status = "missing-key";
	else if (!cs_pair_matches(st->cert, st->key))
		st->status = "key-mismatch";
	else if (ci.days_left < 0 || X509_cmp_current_time(
	    X509_get0_notAfter(st->cert)) <= 0)
		st->status = "expired";
	else if (ci.days_left < CM_EXPIRING_DAYS)
		st->status = "expiring";
	else if (ci.self_signed)
		st->status = "self-signed";
	else
		st->status = "ok";
}

void
cm_state_free(struct cm_state *st)
{
	X509_free(st->cert);
	sk_X509_pop_free(st->chain, X509_free);
	EVP_PKEY_free(st->key);
	memset(st, 0, sizeof(*st));
}

/*
 * The certificate's facts; the key's type is the .key's own (a
 * key-mismatch shows what the key file holds, not the certificate).
 */
static void
state_info(const struct cm_state *st, struct cs_certinfo *ci)
{
	memset(ci, 0, sizeof(*ci));
	if (st->cert != NULL)
		cs_cert_info(st->cert, ci);
	if (st->key != NULL)
		cs_key_describe(st->key, ci->key, sizeof(ci->key));
}

/*
 * What a status means: a line under the NAME in list, labelled lines
 * in show (which reports an unreadable file as its error).
 */
static void
state_note(const struct cm_state *st, const char *name, int show)
{
	if (strcmp(st->status, "unreadable") == 0 && !show)
		printf("    %s\n", st->why);
	else if (strcmp(st->status, "revoked") == 0)
		printf("%s%s (%s)%s\n", show ? "revoked:       " :
		    "    revoked ", st->rev_date, st->rev_reason, st->rev_crl ?
		    ", in ca/crl.pem" : ", not yet published: certmgr ca crl");
	else if (strcmp(st->status, "incomplete-chain") == 0)
		printf("%s\"%s\": add it with certmgr import BUNDLE.pem "
		    "--name %s\n", show ? "missing:       issuer " :
		    "    missing issuer ", st->missing, name);
}

/* A pending request's subject and names, for show. */
struct cm_reqinfo {
	char	 subject[512], sans[1024];
};

static void
state_request(const char *dir, const char *name, unsigned has,
    struct cm_reqinfo *r)
{
	struct cs_bundle	 b;
	STACK_OF(X509_EXTENSION)	*exts;
	GENERAL_NAMES		*gens = NULL;
	char			 path[FTPS_PATH_MAX];

	memset(r, 0, sizeof(*r));
	if (!(has & CS_HAS_CSR))
		return;
	state_path(path, sizeof(path), dir, name, ".csr");
	if (cs_decode_file(path, NULL, &b, NULL, 0) != 0)
		return;
	if (b.csr != NULL) {
		cs_name_format(X509_REQ_get_subject_name(b.csr), r->subject,
		    sizeof(r->subject));
		if ((exts = X509_REQ_get_extensions(b.csr)) != NULL) {
			gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL,
			    NULL);
			sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		}
		cs_san_format(gens, r->sans, sizeof(r->sans));
		GENERAL_NAMES_free(gens);
	}
	cs_bundle_free(&b);
}

static void
state_json(struct jw *w, const struct cm_state *st)
{
	if (st->rev_db || st->rev_crl) {
		jw_open(w, "revoked", '{');
		jw_str(w, "date", st->rev_date);
		jw_str(w, "reason", st->rev_reason);
		jw_bool(w, "in_crl", st->rev_crl);
		jw_close(w, '}');
	}
	if (st->missing[0] != '\0')
		jw_str(w, "missing_issuer", st->missing);
}

/* 1 when the configured certificate cert (NULL: the default) is name. */
static int
list_is(const char *cert, const char *name, const char *def)
{
	size_t	 n = strlen(name);

	if (cert == NULL)
		return def[0] != '\0' && strcmp(def, name) == 0;
	/* "certificate = NAME.crt" means NAME (server/tls.c). */
	return strncmp(cert, name, n) == 0 && (cert[n] == '\0' ||
	    strcmp(cert + n, ".crt") == 0 || strcmp(cert + n, ".key") == 0);
}

/*
 * The hosts of ftpsd.conf that serve certificate name, "a, b" ("" for
 * none); only with [host] sections (docs/vhosts.md).  A section without
 * certificate serves the default host's.
 */
static const char *
list_hosts(const struct conf *cf, const char *name, const char *def,
    char *buf, size_t len)
{
	struct conf	 hc;
	size_t		 off = 0;
	int		 i, is;

	buf[0] = '\0';
	if (cf == NULL || cf->nhosts == 0)
		return buf;
	if (list_is(cf->certificate, name, def)) {
		snprintf(buf, len, "(default host)");
		off = strlen(buf);
	}
	for (i = 0; i < cf->nhosts && off < len; i++) {
		if (conf_host_conf(cf, &cf->hosts[i], &hc) != 0)
			break;
		is = list_is(hc.certificate, name, def);
		conf_free(&hc);
		if (!is)
			continue;
		snprintf(buf + off, len - off, "%s%s", off == 0 ? "" : ", ",
		    cf->hosts[i].name);
		off = strlen(buf);
	}
	return buf;
}

int
cm_list(struct cli *cli, const struct cm_args *a)
{
	struct cs_entry		*ents = NULL;
	struct cm_ctx		 cx;
	struct cm_state		 st;
	struct cs_certinfo	 ci;
	struct jw		 w;
	char			 err[CS_ERR_MAX];
	char			 def[FTPS_CERTNAME_MAX + 1], na[32];
	char			 days[24], hosts[1024];
	size_t			 n, i;
	int			 isdef;

	(void)a;
	if (cs_list(cli->dir, &ents, &n, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return CM_FAIL;
	}
	if (cs_default_name(cli->dir, def, sizeof(def), NULL, 0) != 0)
		def[0] = '\0';
	memset(&w, 0, sizeof(w));
	memset(&cx, 0, sizeof(cx));
	if (cli->json)
		jw_open(&w, NULL, '[');
	else if (n == 0)
		cm_info(cli, "no certificates in %s", cli->dir);
	else if (!cli->quiet)
		printf("  %-20s %-24s %-10s %-10s %5s %-16s %-20s %s\n",
		    "NAME", "CN", "KEY", "NOT-AFTER", "DAYS", "STATUS",
		    "ISSUER", "SANS");
	for (i = 0; i < n; i++) {
		cm_state_load(cli->dir, ents[i].name, ents[i].has, &st);
		cm_state_check(&cx, cli->dir, &st);
		state_info(&st, &ci);
		isdef = strcmp(def, ents[i].name) == 0;
		if (cli->json) {
			jw_open(&w, NULL, '{');
			jw_str(&w, "name", ents[i].name);
			jw_bool(&w, "default", isdef);
			jw_str(&w, "status", st.status);
			if (st.status != NULL &&
			    strcmp(st.status, "unreadable") == 0)
				jw_str(&w, "error", st.why);
			jw_str(&w, "cn", st.cert ? ci.cn : NULL);
			jw_str(&w, "sans", st.cert ? ci.sans : NULL);
			jw_str(&w, "issuer", st.cert ? ci.issuer : NULL);
			jw_str(&w, "key", ci.key[0] ? ci.key : NULL);
			jw_str(&w, "not_after", st.cert ? ci.not_after : NULL);
			if (st.cert != NULL)
				jw_int(&w, "days_left", ci.days_left);
			jw_bool(&w, "chain", (ents[i].has & CS_HAS_CHAIN) ||
			    sk_X509_num(st.chain) > 0);
			jw_bool(&w, "csr", (ents[i].has & CS_HAS_CSR) != 0);
			state_json(&w, &st);
			if (cli->conf != NULL && cli->conf->nhosts > 0)
				jw_str(&w, "hosts", list_hosts(cli->conf,
				    ents[i].name, def, hosts, sizeof(hosts)));
			jw_close(&w, '}');
		} else if (!cli->quiet) {
			snprintf(na, sizeof(na), "%.10s", ci.not_after);
			snprintf(days, sizeof(days), "%ld", ci.days_left);
			printf("%c %-20s %-24s %-10s %-10s %5s %-16s %-20s %s\n",
			    isdef ? '*' : ' ', ents[i].name,
			    st.cert ? ci.cn : "-", ci.key[0] ? ci.key : "-",
			    st.cert ? na : "-", st.cert ? days : "-",
			    st.status, st.cert ? (ci.issuer_cn[0] ?
			    ci.issuer_cn : ci.issuer) : "-",
			    st.cert ? ci.sans : "-");
			state_note(&st, ents[i].name, 0);
			if (list_hosts(cli->conf, ents[i].name, def, hosts,
			    sizeof(hosts))[0] != '\0')
				printf("    serves: %s\n", hosts);
		}
		cm_state_free(&st);
	}
	if (cli->json)
		jw_close(&w, ']');
	cm_ctx_free(&cx);
	free(ents);
	return CM_OK;
}

int
cm_show(struct cli *cli, const struct cm_args *a)
{
	struct cm_ctx		 cx;
	struct cm_state		 st;
	struct cm_reqinfo	 req;
	struct cs_certinfo	 ci, cc;
	struct jw		 w;
	const char		*name = a->argv[0];
	char			 def[FTPS_CERTNAME_MAX + 1];
	int			 has, i, isdef, rc = CM_OK;

	if ((has = cm_name_files(cli, name, 0)) < 0)
		return CM_FAIL;
	if (cs_default_name(cli->dir, def, sizeof(def), NULL, 0) != 0)
		def[0] = '\0';
	isdef = strcmp(def, name) == 0;
	cm_state_load(cli->dir, name, (unsigned)has, &st);
	memset(&cx, 0, sizeof(cx));
	cm_state_check(&cx, cli->dir, &st);
	cm_ctx_free(&cx);
	state_info(&st, &ci);
	state_request(cli->dir, name, (unsigned)has, &req);
	if (strcmp(st.status, "unreadable") == 0) {
		cm_error("%s", st.why);
		rc = CM_FAIL;
	}
	if (cli->json) {
		memset(&w, 0, sizeof(w));
		jw_open(&w, NULL, '{');
		jw_str(&w, "name", name);
		jw_bool(&w, "default", isdef);
		jw_str(&w, "status", st.status);
		jw_str(&w, "key", ci.key[0] ? ci.key : NULL);
		jw_bool(&w, "csr", (has & CS_HAS_CSR) != 0);
		state_json(&w, &st);
		if (st.cert == NULL && req.subject[0] != '\0') {
			jw_str(&w, "request_subject", req.subject);
			jw_str(&w, "request_sans", req.sans);
		}
		if (st.cert != NULL) {
			jw_str(&w, "subject", ci.subject);
			jw_str(&w, "cn", ci.cn);
			jw_str(&w, "issuer", ci.issuer);
			jw_str(&w, "sans", ci.sans);
			jw_str(&w, "serial", ci.serial);
			jw_str(&w, "not_before", ci.not_before);
			jw_str(&w, "not_after", ci.not_after);
			jw_int(&w, "days_left", ci.days_left);
			jw_str(&w, "signature", ci.sigalg);
			jw_str(&w, "eku", ci.eku);
			jw_str(&w, "sha256", ci.sha256);
			jw_bool(&w, "self_signed", ci.self_signed);
			jw_open(&w, "chain", '[');
			for (i = 0; i < sk_X509_num(st.chain); i++) {
				cs_cert_info(sk_X509_value(st.chain, i), &cc);
				jw_open(&w, NULL, '{');
				jw_str(&w, "subject", cc.subject);
				jw_str(&w, "issuer", cc.issuer);
				jw_str(&w, "not_after", cc.not_after);
				jw_str(&w, "sha256", cc.sha256);
				jw_close(&w, '}');
			}
			jw_close(&w, ']');
		}
		jw_close(&w, '}');
		cm_state_free(&st);
		return rc;
	}
	if (cli->quiet) {
		cm_state_free(&st);
		return rc;
	}
	printf("name:          %s%s\n", name, isdef ? " (default)" : "");
	printf("status:        %s\n", st.status);
	printf("files:        %s%s%s%s\n", (has & CS_HAS_CRT) ? " .crt" : "",
	    (has & CS_HAS_KEY) ? " .key" : "",
	    (has & CS_HAS_CHAIN) ? " .chain" : "",
	    (has & CS_HAS_CSR) ? " .csr" : "");
	printf("key:           %s\n", ci.key[0] ? ci.key : "-");
	state_note(&st, name, 1);
	if (st.cert == NULL && req.subject[0] != '\0') {
		printf("request:       %s\n", req.subject);
		printf("alt names:     %s\n", req.sans[0] ? req.sans : "-");
	}
	if (st.cert != NULL) {
		printf("subject:       %s\n", ci.subject);
		printf("issuer:        %s%s\n", ci.issuer,
		    ci.self_signed ? " (self-signed)" : "");
		printf("alt names:     %s\n", ci.sans[0] ? ci.sans : "-");
		printf("serial:        %s\n", ci.serial);
		printf("not before:    %s\n", ci.not_before);
		printf("not after:     %s (%ld days left)\n", ci.not_after,
		    ci.days_left);
		printf("signature:     %s\n", ci.sigalg);
		printf("ext key usage: %s\n", ci.eku[0] ? ci.eku : "-");
		printf("sha256:        %s\n", ci.sha256);
		if (sk_X509_num(st.chain) == 0)
			printf("chain:         -\n");
		for (i = 0; i < sk_X509_num(st.chain); i++) {
			cs_cert_info(sk_X509_value(st.chain, i), &cc);
			printf("%s %d. %s\n", i ? "              " :
			    "chain:        ", i + 1, cc.subject);
			printf("                 issuer %s, until %s\n",
			    cc.issuer, cc.not_after);
			printf("                 sha256 %s\n", cc.sha256);
		}
	}
	cm_state_free(&st);
	return rc;
}
