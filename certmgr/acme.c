/*
 * certmgr acme register|issue|renew: certificates from an ACME CA
 * (RFC 8555), HTTP-01 validation.  What it keeps, in the certs folder's
 * acme/ (owned like the folder, 0700):
 *	account.key	the account key, EC P-256 (ES256), PKCS#8, 0600
 *	account.json	{ server, url, email, ca_file }
 *	NAME.json	{ domains, http_port | webroot, key }: what renew
 *			orders again for NAME
 * The certificate itself is NAME.key/NAME.crt/NAME.chain of the folder,
 * written in one cs_txn only once the CA has issued it: a failed order
 * changes nothing and can simply be run again.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "acme.h"
#include "cli.h"
#include "err.h"
#include "parse.h"

#define ACME_KEY_DEFAULT	"ec:P-256"
#define ACME_RECORD_EXT		".json"
#define ACME_RENEW_DAYS		30

/* What one certificate is ordered with (acme/NAME.json). */
struct acme_spec {
	const char	*domains[FTPS_ACME_DOMAINS];
	size_t		 ndomains;
	int		 port;
	const char	*webroot;		/* NULL: the responder */
	const char	*key;			/* cs_keygen() spec */
};

/*
 * DIR/acme, created 0700.  SECURITY: root's renewal (the timer) trusts
 * what acme/ holds (server URL, CA file, webroot, account key), so acme/
 * is never given to the certs folder's owner (the service user, whom a
 * compromised ftpsd runs as), and as root one that another user owns or
 * may write is refused.
 */
static int
acme_dir(const struct cli *cli, char *out, size_t size, int create)
{
	struct stat	 st;

	if ((size_t)snprintf(out, size, "%s/%s", cli->dir, ACME_SUBDIR) >=
	    size) {
		cm_error("%s: path too long", cli->dir);
		return -1;
	}
	if (create) {
		if (cm_ensure_dir(cli, cli->dir) != 0)
			return -1;
		if (mkdir(out, 0700) == -1 && errno != EEXIST) {
			cm_error("%s: cannot create the folder: %s", out,
			    strerror(errno));
			return -1;
		}
	}
	if (lstat(out, &st) == -1)
		return 0;	/* not there: the reader says so */
	if (!S_ISDIR(st.st_mode)) {
		cm_error("%s: not a folder", out);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		cm_error("%s: owned by uid %u with mode %03o: it must be the "
		    "running user's (uid %u) and writable only by it, as what "
		    "it holds is trusted (chown %u %s; chmod 700 %s)", out,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777),
		    (unsigned)geteuid(), (unsigned)geteuid(), out, out);
		return -1;
	}
	return 0;
}

/*
 * One certmgr acme at a time per folder (the timer's renew and an admin's
 * issue would order twice and fight over the HTTP-01 port): an flock on
 * acme/, held until the process ends.
 */
static int
acme_lock(const char *dir)
{
	static int	 fd = -1;

	if (fd != -1)
		return 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		cm_error("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			cm_error("%s: another certmgr acme is running on this "
			    "folder; try again when it is done", dir);
		else
			cm_error("%s: cannot lock it: %s", dir,
			    strerror(errno));
		close(fd);
		fd = -1;
		return -1;
	}
	return 0;
}

/* Reads acme/FNAME as JSON; NULL after a message (quiet on ENOENT). */
static json_t *
acme_read_json(const char *dir, const char *fname, int quiet_enoent)
{
	unsigned char	*data = NULL;
	char		 err[CS_ERR_MAX], path[FTPS_PATH_MAX];
	size_t		 len;
	json_error_t	 je;
	json_t		*j;
	int		 r;

	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	if ((r = cs_read_file(path, &data, &len, err, sizeof(err))) != 0) {
		if (r != FTPS_ENOENT || !quiet_enoent)
			cm_error("%s", err);
		return NULL;
	}
	j = json_loadb((char *)data, len, 0, &je);
	cs_data_free(data, len);
	if (!json_is_object(j)) {
		cm_error("%s:%d: not the JSON object certmgr wrote: %s", path,
		    je.line, j == NULL ? je.text : "not an object");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Adds acme/FNAME holding j (0600: it may name local paths) to t. */
static int
acme_put_json(struct cs_txn *t, const char *fname, json_t *j)
{
	char	 err[CS_ERR_MAX], *s;
	int	 r;

	if ((s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		cm_error("out of memory");
		return -1;
	}
	r = cs_txn_put(t, fname, s, strlen(s), 1, err, sizeof(err));
	free(s);
	if (r != 0)
		cm_error("%s", err);
	return r == 0 ? 0 : -1;
}

/* The account key of acme/, or NULL after a message. */
static EVP_PKEY *
acme_account_key(const char *dir)
{
	struct cs_bundle b;
	char		 err[CS_ERR_MAX], path[FTPS_PATH_MAX];
	EVP_PKEY	*k;

	snprintf(path, sizeof(path), "%s/%s", dir, ACME_ACCOUNT_KEY);
	memset(&b, 0, sizeof(b));
	err[0] = '\0';
	if (cs_decode_file(path, NULL, &b, err, sizeof(err)) != 0 ||
	    b.key == NULL) {
		cm_error("%s", b.key == NULL && err[0] == '\0' ? "no key in "
		    "the account key file" : err);
		cs_bundle_free(&b);
		return NULL;
	}
	k = b.key;
	b.key = NULL;
	cs_bundle_free(&b);
	return k;
}

/* Opens the registered account: its server, key and URL. */
static int
acme_account_open(const struct cli *cli, struct acme *a, json_t **rec)
{
	char		 dir[FTPS_PATH_MAX];
	const char	*server, *url, *cafile;
	EVP_PKEY	*key = NULL;

	*rec = NULL;
	if (acme_dir(cli, dir, sizeof(dir), 0) != 0)
		return -1;
	if ((*rec = acme_read_json(dir, ACME_ACCOUNT_FILE, 1)) == NULL) {
		if (access(dir, F_OK) == -1 || errno == ENOENT)
			cm_error("%s has no ACME account: certmgr acme "
			    "register --server URL --email ADDR first", dir);
		return -1;
	}
	if (acme_lock(dir) != 0)
		goto fail;
	server = acme_str(*rec, "server");
	url = acme_str(*rec, "url");
	cafile = acme_str(*rec, "ca_file");
	if (server == NULL || url == NULL ||
	    strlen(url) >= sizeof(a->kid)) {
		cm_error("%s/%s: no server or account url in it (certmgr acme "
		    "register again)", dir, ACME_ACCOUNT_FILE);
		goto fail;
	}
	if ((key = acme_account_key(dir)) == NULL)
		goto fail;
	if (acme_open(a, server, cafile) != 0 || acme_set_key(a, key) != 0) {
		cm_error("%s", a->err);
		acme_close(a);
		goto fail;
	}
	snprintf(a->kid, sizeof(a->kid), "%s", url);
	return 0;
 fail:
	EVP_PKEY_free(key);
	json_decref(*rec);
	*rec = NULL;
	return -1;
}

static void
acme_account_close(struct acme *a, json_t *rec)
{
	EVP_PKEY_free(a->key);
	a->key = NULL;
	acme_close(a);
	json_decref(rec);
}

/* An e-mail address fit for a mailto: contact. */
static int
acme_email_ok(const char *s)
{
	const char	*at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') ||
	    strlen(s) > 254)
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 127 || strchr(",;<>\"()[]\\", *s))
			return 0;
	return 1;
}

int
cm_acme_managed(const struct cli *cli, const char *name)
{
	char	 p[FTPS_PATH_MAX + FTPS_NAME_MAX];

	snprintf(p, sizeof(p), "%s/%s/%s%s", cli->dir, ACME_SUBDIR, name,
	    ACME_RECORD_EXT);
	return access(p, F_OK) == 0;
}

int
cm_acme_follow(const struct cli *cli, const char *name, const char *to)
{
	char	 dir[FTPS_PATH_MAX], from[FTPS_PATH_MAX + FTPS_NAME_MAX];
	char	 dst[FTPS_PATH_MAX + FTPS_NAME_MAX];

	if (acme_dir(cli, dir, sizeof(dir), 0) != 0)
		return -1;
	snprintf(from, sizeof(from), "%s/%s%s", dir, name, ACME_RECORD_EXT);
	if (access(from, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (to == NULL) {
		if (unlink(from) == 0 || errno == ENOENT)
			return 0;
		cm_error("%s: %s (acme renew would issue it again: remove it)",
		    from, strerror(errno));
		return -1;
	}
	snprintf(dst, sizeof(dst), "%s/%s%s", dir, to, ACME_RECORD_EXT);
	if (rename(from, dst) == 0)
		return 0;
	cm_error("%s: cannot rename it to %s: %s (acme renew would issue "
	    "the old name again)", from, dst, strerror(errno));
	return -1;
}

static int
acme_register(struct cli *cli, const struct cm_args *args)
{
	const char	*server = CM_ARG(args, OPT_ACMESERVER);
	const char	*email = CM_ARG(args, OPT_EMAIL);
	const char	*cafile = CM_ARG(args, OPT_CAFILE);
	char		 dir[FTPS_PATH_MAX], ca[PATH_MAX], err[CS_ERR_MAX];
	char		 mailto[300], path[FTPS_PATH_MAX + 32];
	struct acme	 a;
	struct acme_resp r;
	struct cs_txn	 t;
	EVP_PKEY	*key = NULL;
	json_t		*req = NULL, *rec = NULL;
	int		 rc = CM_FAIL, newkey = 0, txn = 0, opened = 0;

	memset(&r, 0, sizeof(r));
	if (!acme_email_ok(email)) {
		cm_error("--email \"%.64s\": not an e-mail address", email);
		return CM_USAGE;
	}
	if (cafile != NULL && realpath(cafile, ca) == NULL) {
		cm_error("--ca-file %s: %s", cafile, strerror(errno));
		return CM_USAGE;
	}
	if (acme_dir(cli, dir, sizeof(dir), 1) != 0 || acme_lock(dir) != 0)
		return CM_FAIL;
	/* One key per account: a second register reuses it. */
	snprintf(path, sizeof(path), "%s/%s", dir, ACME_ACCOUNT_KEY);
	if (access(path, F_OK) == 0) {
		if ((key = acme_account_key(dir)) == NULL)
			goto out;
	} else if (cs_keygen(ACME_KEY_DEFAULT, &key, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	} else
		newkey = 1;
	if (acme_open(&a, server, cafile != NULL ? ca : NULL) != 0) {
		cm_error("%s", a.err);
		acme_close(&a);
		goto out;
	}
	opened = 1;
	if (a.terms[0] != '\0' && !CM_FLAG(args, OPT_AGREETOS)) {
		cm_error("the CA's terms of service must be agreed to: read "
		    "%s, then add --agree-tos", a.terms);
		goto out;
	}
	if (acme_set_key(&a, key) != 0) {
		cm_error("%s", a.err);
		goto out;
	}
	snprintf(mailto, sizeof(mailto), "mailto:%s", email);
	if ((req = json_pack("{s:b, s:[s]}", "termsOfServiceAgreed",
	    CM_FLAG(args, OPT_AGREETOS), "contact", mailto)) == NULL) {
		cm_error("out of memory");
		goto out;
	}
	if (acme_post(&a, a.new_account, req, "account registration",
	    &r) != 0) {
		cm_error("%s", a.err);
		goto out;
	}
	if (r.location[0] == '\0') {
		cm_error("%s: no account URL (Location) in the answer", server);
		goto out;
	}
	if ((rec = json_pack("{s:s, s:s, s:s, s:s?}", "server", server, "url",
	    r.location, "email", email, "ca_file", cafile != NULL ? ca :
	    NULL)) == NULL) {
		cm_error("out of memory");
		goto out;
	}
	if (cs_txn_begin(&t, dir, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	txn = 1;
	if (newkey && cs_txn_put_key(&t, ACME_ACCOUNT_KEY, key, NULL, 0,
	    err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	if (acme_put_json(&t, ACME_ACCOUNT_FILE, rec) != 0)
		goto out;
	if (cs_txn_commit(&t, 1, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	if (cli->json) {
		struct jw	 w;

		memset(&w, 0, sizeof(w));
		jw_open(&w, NULL, '{');
		jw_str(&w, "action", r.status == 201 ? "registered" :
		    "existing");
		jw_str(&w, "account", r.location);
		jw_str(&w, "server", server);
		jw_close(&w, '}');
	} else if (r.status == 201)
		cm_info(cli, "registered account %s at %s (key %s/%s)",
		    r.location, server, dir, ACME_ACCOUNT_KEY);
	else
		cm_info(cli, "account %s already registered at %s (key %s/%s)",
		    r.location, server, dir, ACME_ACCOUNT_KEY);
	rc = CM_OK;
 out:
	if (txn)
		cs_txn_end(&t);
	acme_resp_free(&r);
	if (opened)
		acme_close(&a);
	json_decref(req);
	json_decref(rec);
	EVP_PKEY_free(key);
	return rc;
}

/* A token fit for a URL path and a file name (base64url, RFC 8555 8.1). */
static int
acme_token_ok(const char *s)
{
	size_t	 n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
	    "uvwxyz0123456789-_");

	return n > 0 && n < sizeof(((struct acme_chal *)0)->token) &&
	    s[n] == '\0';
}

/* The http-01 challenge of an authorization, or NULL. */
static json_t *
acme_http01_of(json_t *authz)
{
	json_t	*c;
	size_t	 i;

	json_array_foreach(json_object_get(authz, "challenges"), i, c)
		if (acme_str(c, "type") != NULL &&
		    strcmp(acme_str(c, "type"), "http-01") == 0)
			return c;
	return NULL;
}

/*
 * Proves control of every name of the order (its authorizations) by
 * HTTP-01.  The responder runs (or the webroot files exist) only while
 * the CA validates.
 */
static int
acme_authorize(struct acme *a, json_t *order, const struct acme_spec *s)
{
	struct acme_chal	 chal[FTPS_ACME_DOMAINS];
	const char		*curl[FTPS_ACME_DOMAINS];
	const char		*aurl[FTPS_ACME_DOMAINS];	/* pending */
	const char		*dom[FTPS_ACME_DOMAINS];
	json_t			*authzs[FTPS_ACME_DOMAINS];
	struct acme_http01	 h;
	struct acme_resp	 r;
	json_t			*list, *v, *c, *empty = NULL;
	const char		*st, *tok;
	char			 what[320];
	size_t			 i, n = 0, na = 0;
	int			 rc = -1, started = 0;

	memset(&r, 0, sizeof(r));
	memset(authzs, 0, sizeof(authzs));
	list = json_object_get(order, "authorizations");
	if (!json_is_array(list) || json_array_size(list) >
	    FTPS_ACME_DOMAINS) {
		snprintf(a->err, sizeof(a->err), "the order has no usable "
		    "authorizations list");
		return -1;
	}
	json_array_foreach(list, i, v) {
		if (!json_is_string(v)) {
			snprintf(a->err, sizeof(a->err), "the order's "
			    "authorizations are not URLs");
			goto out;
		}
		if (acme_post(a, json_string_value(v), NULL, "authorization",
		    &r) != 0)
			goto out;
		authzs[na++] = json_incref(r.json);
		aurl[n] = json_string_value(v);	/* the order keeps it */
		v = json_object_get(r.json, "identifier");
		st = acme_str(r.json, "status");
		snprintf(what, sizeof(what), "%.200s", acme_str(v, "value") ?
		    acme_str(v, "value") : "?");
		if (st != NULL && strcmp(st, "valid") == 0)
			continue;	/* proven recently: nothing to do */
		if (st == NULL || strcmp(st, "pending") != 0) {
			snprintf(a->err, sizeof(a->err), "%s: the CA's "
			    "authorization is %s; run the command again for a "
			    "new order", what, st != NULL ? st : "unknown");
			goto out;
		}
		if ((c = acme_http01_of(r.json)) == NULL ||
		    (tok = acme_str(c, "token")) == NULL ||
		    acme_str(c, "url") == NULL || !acme_token_ok(tok)) {
			snprintf(a->err, sizeof(a->err), "%s: the CA offers "
			    "no usable http-01 challenge (a wildcard name "
			    "needs DNS-01, which certmgr does not do)", what);
			goto out;
		}
		snprintf(chal[n].token, sizeof(chal[n].token), "%s", tok);
		if ((size_t)snprintf(chal[n].keyauth, sizeof(chal[n].keyauth),
		    "%s.%s", tok, a->thumb) >= sizeof(chal[n].keyauth)) {
			snprintf(a->err, sizeof(a->err), "%s: token too long",
			    what);
			goto out;
		}
		/* authzs[] keeps these strings alive */
		curl[n] = acme_str(c, "url");
		dom[n] = acme_str(v, "value");
		n++;
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	memset(&h, 0, sizeof(h));
	h.port = s->port;
	h.webroot = s->webroot;
	h.chal = chal;
	h.n = n;
	if (acme_http01_start(&h, a->err, sizeof(a->err)) != 0)
		goto out;
	started = 1;
	if ((empty = json_object()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "the http-01 challenge of %.200s",
		    dom[i] != NULL ? dom[i] : "?");
		if (acme_post(a, curl[i], empty, what, &r) != 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "validation of %.200s",
		    dom[i] != NULL ? dom[i] : "?");
		if (acme_poll(a, aurl[i], "pending", what, &r) != 0)
			goto out;
		st = acme_str(r.json, "status");
		if (strcmp(st, "valid") != 0) {
			c = acme_http01_of(r.json);
			if (json_is_object(json_object_get(c, "error")))
				acme_problem(a, json_object_get(c, "error"),
				    what, -1);
			else
				snprintf(a->err, sizeof(a->err), "%s failed: "
				    "the authorization is %s", what, st);
			goto out;
		}
	}
	rc = 0;
 out:
	if (started)
		acme_http01_stop(&h);
	json_decref(empty);
	acme_resp_free(&r);
	for (i = 0; i < na; i++)
		json_decref(authzs[i]);
	return rc;
}

/*
 * One order, start to end: the new order, HTTP-01 for its names, a new
 * key and request, finalize, and the certificate chain.  On success
 * *key, *leaf and *chain (maybe empty) are the caller's.
 */
static int
acme_order(const struct cli *cli, struct acme *a, const struct acme_spec *s,
    EVP_PKEY **key, X509 **leaf, STACK_OF(X509) **chain)
{
	struct cm_subjopts	 o;
	struct acme_resp	 r;
	struct cs_bundle	 b;
	X509_NAME		*subj = NULL;
	GENERAL_NAMES		*san = NULL;
	X509_REQ		*csr = NULL;
	json_t			*req = NULL, *ids = NULL;
	unsigned char		*der = NULL;
	char			 orderurl[FTPS_ACME_URL_MAX], sanlist[4096];
	char			 url[FTPS_ACME_URL_MAX];
	char			 err[CS_ERR_MAX], *csr64 = NULL;
	const char		*st;
	size_t			 i, off = 0;
	int			 derlen, rc = -1;

	*key = NULL;
	*leaf = NULL;
	*chain = NULL;
	memset(&r, 0, sizeof(r));
	memset(&b, 0, sizeof(b));
	if ((ids = json_array()) == NULL)
		goto nomem;
	sanlist[0] = '\0';
	for (i = 0; i < s->ndomains; i++) {
		if (json_array_append_new(ids, json_pack("{s:s, s:s}",
		    "type", "dns", "value", s->domains[i])) != 0)
			goto nomem;
		if (i > 0)
			off += (size_t)snprintf(sanlist + off, sizeof(sanlist) -
			    off, "%sDNS:%s", i > 1 ? "," : "", s->domains[i]);
		if (off >= sizeof(sanlist))
			goto nomem;
	}
	if ((req = json_pack("{s:O}", "identifiers", ids)) == NULL)
		goto nomem;
	if (acme_post(a, a->new_order, req, "new order", &r) != 0)
		goto fail;
	if (r.location[0] == '\0' || r.json == NULL) {
		snprintf(a->err, sizeof(a->err), "new order: no order URL in "
		    "the CA's answer");
		goto fail;
	}
	snprintf(orderurl, sizeof(orderurl), "%s", r.location);
	if (s->ndomains > 1)
		cm_info(cli, "order %s for %s and %zu more", orderurl,
		    s->domains[0], s->ndomains - 1);
	else
		cm_info(cli, "order %s for %s", orderurl, s->domains[0]);
	if (acme_authorize(a, r.json, s) != 0)
		goto fail;
	/* Every name proven: the order becomes ready. */
	if (acme_poll(a, orderurl, "pending", "the order", &r) != 0)
		goto fail;
	st = acme_str(r.json, "status");
	if (strcmp(st, "ready") != 0 && strcmp(st, "valid") != 0) {
		snprintf(a->err, sizeof(a->err), "the order is %s, not ready; "
		    "run the command again for a new one", st);
		goto fail;
	}
	if (strcmp(st, "ready") == 0) {
		memset(&o, 0, sizeof(o));
		o.subj.cn = s->domains[0];
		o.san = sanlist[0] != '\0' ? sanlist : NULL;
		o.key = s->key;
		if (cm_build_request(&o, CS_SERVER, key, &subj, &san,
		    &csr) != 0) {
			snprintf(a->err, sizeof(a->err), "the request could "
			    "not be made (see above)");
			goto fail;
		}
		if ((derlen = i2d_X509_REQ(csr, &der)) <= 0 ||
		    (csr64 = malloc((size_t)derlen * 2 + 4)) == NULL ||
		    acme_b64url(der, (size_t)derlen, csr64, (size_t)derlen *
		    2 + 4) != 0)
			goto nomem;
		json_decref(req);
		if ((req = json_pack("{s:s}", "csr", csr64)) == NULL ||
		    acme_str(r.json, "finalize") == NULL)
			goto nomem;
		/* r's next answer replaces what the URL points into. */
		snprintf(url, sizeof(url), "%s", acme_str(r.json, "finalize"));
		if (acme_post(a, url, req, "finalize", &r) != 0)
			goto fail;
		if (acme_poll(a, orderurl, "ready|processing", "the order",
		    &r) != 0)
			goto fail;
		st = acme_str(r.json, "status");
	}
	if (*key == NULL || strcmp(st, "valid") != 0 ||
	    acme_str(r.json, "certificate") == NULL) {
		if (json_is_object(json_object_get(r.json, "error")))
			acme_problem(a, json_object_get(r.json, "error"),
			    "the order", -1);
		else
			snprintf(a->err, sizeof(a->err), "the order ended %s "
			    "without a certificate; run the command again",
			    st);
		goto fail;
	}
	snprintf(url, sizeof(url), "%s", acme_str(r.json, "certificate"));
	if (acme_post(a, url, NULL, "the certificate download", &r) != 0)
		goto fail;
	if (cs_decode("the CA's certificate", (unsigned char *)buf_str(
	    &r.body), buf_len(&r.body), NULL, &b, err, sizeof(err)) != 0 ||
	    sk_X509_num(b.certs) < 1 || b.key != NULL) {
		snprintf(a->err, sizeof(a->err), "%s", sk_X509_num(b.certs) < 1
		    ? "the CA's answer holds no certificate" : err);
		goto fail;
	}
	*leaf = sk_X509_shift(b.certs);
	if (!cs_pair_matches(*leaf, *key)) {
		snprintf(a->err, sizeof(a->err), "the CA's certificate is not "
		    "for the key just sent");
		goto fail;
	}
	*chain = b.certs;
	b.certs = NULL;
	rc = 0;
	goto out;
 nomem:
	snprintf(a->err, sizeof(a->err), "out of memory");
 fail:
	EVP_PKEY_free(*key);
	X509_free(*leaf);
	*key = NULL;
	*leaf = NULL;
 out:
	cs_bundle_free(&b);
	acme_resp_free(&r);
	json_decref(req);
	json_decref(ids);
	X509_REQ_free(csr);
	X509_NAME_free(subj);
	GENERAL_NAMES_free(san);
	OPENSSL_free(der);
	free(csr64);
	return rc;
}

/* The record of a spec, for acme/NAME.json. */
static json_t *
acme_spec_json(const struct acme_spec *s)
{
	json_t	*j, *d;
	size_t	 i;

	if ((d = json_array()) == NULL)
		return NULL;
	for (i = 0; i < s->ndomains; i++)
		json_array_append_new(d, json_string(s->domains[i]));
	if (s->webroot != NULL)
		j = json_pack("{s:o, s:s, s:s}", "domains", d, "webroot",
		    s->webroot, "key", s->key);
	else
		j = json_pack("{s:o, s:i, s:s}", "domains", d, "http_port",
		    s->port, "key", s->key);
	return j;
}

/* The spec of acme/NAME.json (its strings live as long as j). */
static int
acme_spec_read(json_t *j, const char *label, struct acme_spec *s)
{
	json_t		*d, *v;
	json_int_t	 port;
	size_t		 i;

	memset(s, 0, sizeof(*s));
	d = json_object_get(j, "domains");
	s->webroot = acme_str(j, "webroot");
	s->key = acme_str(j, "key");
	port = json_integer_value(json_object_get(j, "http_port"));
	if (!json_is_array(d) || json_array_size(d) == 0 ||
	    json_array_size(d) > FTPS_ACME_DOMAINS || s->key == NULL ||
	    (s->webroot == NULL && (port < 1 || port > 65535))) {
		cm_error("%s: not the renewal record certmgr acme issue "
		    "wrote (issue the name again)", label);
		return -1;
	}
	json_array_foreach(d, i, v) {
		if (!json_is_string(v) || !cs_dns_valid(json_string_value(v),
		    0)) {
			cm_error("%s: domain %zu is not a DNS name", label, i + 1);
			return -1;
		}
		s->domains[s->ndomains++] = json_string_value(v);
	}
	s->port = (int)port;
	return 0;
}

/*
 * Orders NAME's certificate and, once the CA has issued it, writes
 * NAME.key, NAME.crt, NAME.chain and acme/NAME.json.  -1 after a
 * message; nothing changed then.
 */
static int
acme_obtain(const struct cli *cli, struct acme *a, const char *name,
    const struct acme_spec *s, const char *verb)
{
	char		 f[3][FTPS_NAME_MAX + 1], dir[FTPS_PATH_MAX];
	char		 err[CS_ERR_MAX], files[3 * FTPS_NAME_MAX + 8];
	struct cs_txn	 t;
	EVP_PKEY	*key = NULL;
	X509		*leaf = NULL;
	STACK_OF(X509)	*chain = NULL;
	json_t		*rec = NULL;
	int		 rc = -1, txn = 0;

	if (acme_order(cli, a, s, &key, &leaf, &chain) != 0) {
		cm_error("%s: %s", name, a->err);
		return -1;
	}
	if ((rec = acme_spec_json(s)) == NULL) {
		cm_error("out of memory");
		goto out;
	}
	snprintf(f[0], sizeof(f[0]), "%s.key", name);
	snprintf(f[1], sizeof(f[1]), "%s.crt", name);
	snprintf(f[2], sizeof(f[2]), "%s.chain", name);
	if (cs_txn_begin(&t, cli->dir, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	txn = 1;
	if (cs_txn_put_key(&t, f[0], key, NULL, 0, err, sizeof(err)) != 0 ||
	    cs_txn_put_certs(&t, f[1], leaf, NULL, err, sizeof(err)) != 0 ||
	    (sk_X509_num(chain) > 0 && cs_txn_put_certs(&t, f[2],
	    sk_X509_value(chain, 0), chain, err, sizeof(err)) != 0)) {
		cm_error("%s", err);
		goto out;
	}
	if (sk_X509_num(chain) == 0)
		(void)cs_txn_unlink(&t, f[2]);
	/* A request of an earlier key would be misleading. */
	snprintf(files, sizeof(files), "%s.csr", name);
	(void)cs_txn_unlink(&t, files);
	if (cs_txn_commit(&t, 1, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	cs_txn_end(&t);
	txn = 0;
	/* The record follows: without it renew would skip the name. */
	snprintf(files, sizeof(files), "%s%s", name, ACME_RECORD_EXT);
	if (acme_dir(cli, dir, sizeof(dir), 1) != 0 ||
	    cs_txn_begin(&t, dir, err, sizeof(err)) != 0) {
		if (err[0] != '\0')
			cm_error("%s", err);
		goto out;
	}
	txn = 1;
	if (acme_put_json(&t, files, rec) != 0)
		goto out;
	if (cs_txn_commit(&t, 1, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		goto out;
	}
	snprintf(files, sizeof(files), "%s, %s%s%s", f[0], f[1],
	    sk_X509_num(chain) > 0 ? ", " : "", sk_X509_num(chain) > 0 ?
	    f[2] : "");
	cm_print_written(cli, verb, name, leaf, key, files);
	rc = 0;
 out:
	if (txn)
		cs_txn_end(&t);
	json_decref(rec);
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

static int
acme_issue(struct cli *cli, const struct cm_args *args)
{
	const char	*name = args->argv[0];
	const char	*port = CM_ARG(args, OPT_HTTPPORT);
	const char	*webroot = CM_ARG(args, OPT_WEBROOT);
	char		 err[CS_ERR_MAX], root[PATH_MAX], dir[FTPS_PATH_MAX];
	char		 rname[FTPS_NAME_MAX + 1];
	struct acme_spec s;
	struct acme	 a;
	unsigned long	 p = 80;
	json_t		*acct = NULL, *old;
	char		 lower[FTPS_ACME_DOMAINS][256];
	int		 i, j, managed, rc;

	memset(&s, 0, sizeof(s));
	if (cs_name_check(name, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return CM_USAGE;
	}
	for (i = 0; i < args->nrep; i++) {
		if (!cs_dns_valid(args->rep[i], 0)) {
			cm_error("--domain \"%.64s\": not a DNS name (HTTP-01 "
			    "cannot prove a wildcard or an IP address)",
			    args->rep[i]);
			return CM_USAGE;
		}
		for (j = 0; j < i; j++)
			if (strcasecmp(args->rep[i], args->rep[j]) == 0) {
				cm_error("--domain %s is given twice",
				    args->rep[i]);
				return CM_USAGE;
			}
		/* As the CA writes them back: lower case (RFC 8555 7.1.4). */
		if (strlen(args->rep[i]) >= sizeof(lower[i])) {
			cm_error("--domain \"%.64s...\": too long",
			    args->rep[i]);
			return CM_USAGE;
		}
		for (j = 0; args->rep[i][j] != '\0'; j++)
			lower[i][j] = (char)tolower((unsigned char)
			    args->rep[i][j]);
		lower[i][j] = '\0';
		s.domains[s.ndomains++] = lower[i];
	}
	if (port != NULL && webroot != NULL) {
		cm_error("--http-port and --webroot: one or the other");
		return CM_USAGE;
	}
	if (port != NULL && parse_uint(port, 1, 65535, &p) != 0) {
		cm_error("--http-port \"%.20s\": a port number, 1 to 65535",
		    port);
		return CM_USAGE;
	}
	if (webroot != NULL && realpath(webroot, root) == NULL) {
		cm_error("--webroot %s: %s", webroot, strerror(errno));
		return CM_USAGE;
	}
	s.port = (int)p;
	s.webroot = webroot != NULL ? root : NULL;
	s.key = CM_ARG(args, OPT_KEY) != NULL ? CM_ARG(args, OPT_KEY) :
	    ACME_KEY_DEFAULT;
	/* A pair of another origin is replaced only when asked to. */
	snprintf(rname, sizeof(rname), "%s%s", name, ACME_RECORD_EXT);
	if (acme_dir(cli, dir, sizeof(dir), 0) != 0)
		return CM_FAIL;
	old = acme_read_json(dir, rname, 1);
	managed = old != NULL;
	json_decref(old);
	if (!managed && cm_refuse_existing(cli, name,
	    CM_FLAG(args, OPT_FORCE)) != 0)
		return CM_FAIL;
	if (acme_account_open(cli, &a, &acct) != 0)
		return CM_FAIL;
	rc = acme_obtain(cli, &a, name, &s, "issued") == 0 ? CM_OK : CM_FAIL;
	acme_account_close(&a, acct);
	return rc;
}

/* 1 when NAME.crt is missing or ends within days. */
static int
acme_due(const struct cli *cli, const char *name, unsigned days,
    char *left, size_t size)
{
	struct cm_state	 st;
	time_t		 limit = time(NULL) + (time_t)days * 86400;
	int		 due, pday, psec;

	cm_state_load(cli->dir, name, CS_HAS_CRT, &st);
	if (st.cert == NULL) {
		snprintf(left, size, "no certificate");
		cm_state_free(&st);
		return 1;
	}
	due = X509_cmp_time(X509_get0_notAfter(st.cert), &limit) < 0;
	if (ASN1_TIME_diff(&pday, &psec, NULL, X509_get0_notAfter(st.cert)))
		snprintf(left, size, "%d days left", pday);
	else
		snprintf(left, size, "expiry unknown");
	cm_state_free(&st);
	return due;
}

static int
acme_renew(struct cli *cli, const struct cm_args *args)
{
	char		 dir[FTPS_PATH_MAX], name[FTPS_NAME_MAX + 1];
	char		 label[FTPS_PATH_MAX + FTPS_NAME_MAX], left[64];
	char		 err[CS_ERR_MAX];
	struct acme_spec s;
	struct acme	 a;
	struct dirent	*de;
	struct jw	 w;
	unsigned	 days;
	size_t		 len;
	json_t		*acct = NULL, *rec;
	DIR		*d;
	struct cli	 sub = *cli;
	int		 opened = 0, changed = 0, failed = 0, due, ok = 0;

	if (cm_days(CM_ARG(args, OPT_DAYS), ACME_RENEW_DAYS, 3650,
	    "renewal windows", &days) != 0)
		return CM_USAGE;
	if (CM_FLAG(args, OPT_PIDFILE) && !CM_FLAG(args, OPT_RELOAD)) {
		cm_error("--pid-file goes with --reload");
		return CM_USAGE;
	}
	if (acme_dir(cli, dir, sizeof(dir), 0) != 0)
		return CM_FAIL;
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT) {
			cm_error("%s: %s", dir, strerror(errno));
			return CM_FAIL;
		}
		cm_info(cli, "no ACME certificates in %s", cli->dir);
		return CM_OK;
	}
	/* --json: one array, the steps' own output silenced. */
	if (cli->json) {
		sub.json = 0;
		sub.quiet = 1;
		memset(&w, 0, sizeof(w));
		jw_open(&w, NULL, '[');
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= strlen(ACME_RECORD_EXT) || strcmp(de->d_name + len -
		    strlen(ACME_RECORD_EXT), ACME_RECORD_EXT) != 0 ||
		    strcmp(de->d_name, ACME_ACCOUNT_FILE) == 0 ||
		    len - strlen(ACME_RECORD_EXT) >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len -
		    strlen(ACME_RECORD_EXT)), de->d_name);
		if (cs_name_check(name, err, sizeof(err)) != 0)
			continue;
		snprintf(label, sizeof(label), "%s/%s", dir, de->d_name);
		if ((rec = acme_read_json(dir, de->d_name, 0)) == NULL) {
			failed++;
			continue;
		}
		if (acme_spec_read(rec, label, &s) != 0) {
			json_decref(rec);
			failed++;
			continue;
		}
		due = acme_due(cli, name, days, left, sizeof(left));
		if (due && !opened) {
			if (acme_account_open(&sub, &a, &acct) != 0) {
				json_decref(rec);
				failed++;
				break;
			}
			opened = 1;
		}
		if (!due)
			cm_info(cli, "%s: not due (%s)", name, left);
		else {
			ok = acme_obtain(&sub, &a, name, &s, "renewed") == 0;
			if (ok)
				changed++;
			else
				failed++;
		}
		if (cli->json) {
			jw_open(&w, NULL, '{');
			jw_str(&w, "name", name);
			jw_str(&w, "before", left);
			jw_str(&w, "result", !due ? "not-due" : ok ? "renewed" :
			    "failed");
			jw_close(&w, '}');
		}
		json_decref(rec);
	}
	closedir(d);
	if (cli->json)
		jw_close(&w, ']');
	if (opened)
		acme_account_close(&a, acct);
	if (changed > 0 && CM_FLAG(args, OPT_RELOAD) &&
	    cm_reload(cli, CM_ARG(args, OPT_PIDFILE)) != 0)
		failed++;
	return failed > 0 ? CM_FAIL : CM_OK;
}

static const struct cm_optuse register_opts[] = {
	{ OPT_ACMESERVER, 1, NULL },
	{ OPT_EMAIL, 1, "the account's contact address (expiry warnings)" },
	{ OPT_CAFILE, 0, NULL }, { OPT_AGREETOS, 0, NULL }, { 0, 0, NULL },
};
static const struct cm_optuse issue_opts[] = {
	{ OPT_DOMAIN, 1, NULL }, { OPT_HTTPPORT, 0, NULL },
	{ OPT_WEBROOT, 0, NULL },
	{ OPT_KEY, 0, NULL },
	{ OPT_FORCE, 0, "replace a NAME that certmgr acme did not issue" },
	{ 0, 0, NULL },
};
static const struct cm_optuse renew_opts[] = {
	{ OPT_DAYS, 0, "renew what expires within N days (default 30)" },
	{ OPT_RELOAD, 0, NULL }, { OPT_PIDFILE, 0, NULL }, { 0, 0, NULL },
};

const struct cm_cmd cm_acme_cmds[] = {
	{ "acme register", acme_register, "", 0, 0, register_opts,
	  "Registers an account with the ACME CA at --server (Let's\n"
	  "Encrypt: https://acme-v02.api.letsencrypt.org/directory) and\n"
	  "keeps it in acme/ of the certs folder: account.key (EC P-256,\n"
	  "0600; a second register reuses it) and account.json.\n" },
	{ "acme issue", acme_issue, "NAME", 1, 1, issue_opts,
	  "Orders a certificate for the --domain names, proves them by\n"
	  "HTTP-01 (certmgr's own responder on --http-port, default 80, or\n"
	  "files in --webroot), and writes NAME.key (new, 0600), NAME.crt\n"
	  "and NAME.chain at once when the CA has issued it; acme/NAME.json\n"
	  "records how, for renew.  A failed order changes nothing.\n" },
	{ "acme renew", acme_renew, "", 0, 0, renew_opts,
	  "Orders again every certificate of acme/ that expires within\n"
	  "--days (new key, same names and HTTP-01 method).  With --reload,\n"
	  "the running ftpsd reloads when one was renewed.  The\n"
	  "certmgr-acme.timer runs it twice a day.\n" },
};
const size_t	cm_acme_ncmds = sizeof(cm_acme_cmds) / sizeof(cm_acme_cmds[0]);
