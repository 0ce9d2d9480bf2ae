/*
 * Virtual hosts: loading the [host NAME] sections, SNI, and the HOST
 * command (RFC 7151).  The contract is in vhost.h; docs/vhosts.md has
 * the admin's side.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth.h"
#include "cmd.h"
#include "conf.h"
#include "err.h"
#include "ftpsd.h"
#include "log.h"
#include "ops.h"
#include "preflight.h"
#include "session.h"
#include "tls.h"
#include "vhost.h"

#define VH_SANS_MAX	512	/* bytes of a certificate's names in a message */

struct vhost_set *
vh_set_ref(struct vhost_set *set)
{
	if (set != NULL)
		set->refs++;
	return set;
}

struct vhost *
vh_ref(struct vhost *h)
{
	if (h != NULL)
		h->refs++;
	return h;
}

void
vh_free(struct vhost *h)
{
	int	 i;

	if (h == NULL || --h->refs > 0)
		return;
	for (i = 0; i < h->nnames; i++)
		free(h->names[i]);
	conf_free(&h->conf);
	SSL_CTX_free(h->ssl_ctx);
	if (h->users != NULL)
		auth_users_free(h->users);
	free(h);
}

void
vh_set_free(struct vhost_set *set)
{
	int	 i;

	if (set == NULL || --set->refs > 0)
		return;
	for (i = 0; i < set->n; i++)
		vh_free(set->hosts[i]);
	free(set);
}

struct vhost *
vh_find(const struct vhost_set *set, const char *name)
{
	char	 norm[FTPS_HOSTNAME_MAX + 1];
	int	 i, j;

	if (set == NULL || conf_host_name(name, norm, sizeof(norm)) != 0)
		return NULL;
	for (i = 0; i < set->n; i++)
		for (j = 0; j < set->hosts[i]->nnames; j++)
			if (strcmp(set->hosts[i]->names[j], norm) == 0)
				return set->hosts[i];
	return NULL;
}

const struct conf *
vh_conf(const struct session *s)
{
	return s->host != NULL ? &s->host->conf : &s->ctx->conf;
}

struct userdb *
vh_users(const struct session *s)
{
	return s->host != NULL ? s->host->users : s->ctx->users;
}

const char *
vh_log_tag(const struct session *s, char *buf, size_t len)
{
	buf[0] = '\0';
	if (s->vhosts != NULL)
		snprintf(buf, len, "host=%s ", s->host != NULL ?
		    s->host->names[0] : "(default)");
	return buf;
}

/* The line of key name in section h, else the section's own line. */
static unsigned
vh_line(const struct conf_host *h, const char *key)
{
	const char	*k;
	size_t		 i;

	for (i = 0; (k = conf_key_name(i)) != NULL; i++)
		if (strcmp(k, key) == 0 && h->set->c_line[i] != 0)
			return h->set->c_line[i];
	return h->line;
}

/*
 * Each line of text as "FILE:LINE: [host NAME]: line", LINE that of the
 * key the line starts with ("tls_crl: ..."), else that of key.
 */
static void
vh_relabel(FILE *errf, const char *file, const struct conf_host *ch,
    const char *key, const char *text)
{
	static const char *const named[] = {
		"tls_client_cert", "tls_client_ca", "tls_crl"
	};
	const char	*p = text, *nl, *k;
	size_t		 i, n;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		k = key;
		for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
			n = strlen(named[i]);
			if (strncmp(p, named[i], n) == 0 &&
			    (p[n] == ':' || p[n] == ' '))
				k = named[i];
		}
		fprintf(errf, "%s:%u: [host %s]: %.*s\n", file, vh_line(ch, k),
		    ch->name, nl != NULL ? (int)(nl - p) : (int)strlen(p), p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/* The DNS names of x's subjectAltName, "a, b" (for messages). */
static const char *
vh_sans(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	const unsigned char	*d;
	char			 raw[FTPS_HOSTNAME_MAX + 1];
	char			 safe[FTPS_HOSTNAME_MAX * 4 + 1];
	size_t			 off = 0;
	int			 i, n;

	buf[0] = '\0';
	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) == NULL) {
		snprintf(buf, len, "none: it has no subjectAltName");
		return buf;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && off < len; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		n = ASN1_STRING_length(g->d.dNSName);
		if (n < 0 || (size_t)n >= sizeof(raw))
			continue;
		memcpy(raw, d, (size_t)n);
		raw[n] = '\0';
		snprintf(buf + off, len - off, "%s%s", off == 0 ? "" : ", ",
		    log_safe(safe, sizeof(safe), raw));
		off = strlen(buf);
	}
	GENERAL_NAMES_free(gens);
	if (buf[0] == '\0')
		snprintf(buf, len, "no DNS names");
	return buf;
}

/*
 * SECURITY: a client checks the certificate against the name it asked
 * for; a host whose certificate does not cover one of its names would
 * fail every client that uses that name, so it is refused at load.
 */
static int
vh_check_names(const struct vhost *h, const struct conf_host *ch,
    const char *file, FILE *errf)
{
	char	 sans[VH_SANS_MAX], nm[FTPS_CERTNAME_MAX + 1];
	X509	*x;
	int	 i, errors = 0;

	if (h->ssl_ctx == NULL ||
	    (x = SSL_CTX_get0_certificate(h->ssl_ctx)) == NULL)
		return 0;
	for (i = 0; i < h->nnames; i++) {
		if (X509_check_host(x, h->names[i], 0, 0, NULL) == 1)
			continue;
		fprintf(errf, "%s:%u: [host %s]: certificate %s does not "
		    "cover \"%s\" (its names: %s); make one that does "
		    "(certmgr create NAME --cn %s) and set certificate = "
		    "NAME in the section\n", file,
		    vh_line(ch, "certificate"), h->names[0],
		    tls_cert_name(&h->conf, nm, sizeof(nm)) != NULL ?
		    tls_cert_name(&h->conf, nm, sizeof(nm)) :
		    "(the folder's default)", h->names[i],
		    vh_sans(x, sans, sizeof(sans)), h->names[i]);
		errors++;
	}
	return errors;
}

/* One host; 0 or the count of problems (printed). */
static int
vh_load_one(const struct conf *cf, const struct conf_host *ch,
    const char *file, struct vhost **out, FILE *errf, FILE *uerrf)
{
	struct vhost	*h;
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*mf;
	int		 i, errors = 0, r;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto nomem;
	h->refs = 1;
	if ((h->names[h->nnames++] = strdup(ch->name)) == NULL)
		goto nomem;
	for (i = 0; i < ch->naliases; i++)
		if ((h->names[h->nnames++] = strdup(ch->aliases[i])) == NULL)
			goto nomem;
	if (conf_host_conf(cf, ch, &h->conf) != 0)
		goto nomem;
	if ((mf = open_memstream(&text, &len)) == NULL)
		goto nomem;
	if (h->conf.tls != CONF_TLS_OFF &&
	    tls_ctx_new(&h->conf, &h->ssl_ctx, mf) != 0)
		errors++;
	(void)fclose(mf);		/* a memory stream: nothing to lose */
	/* Failures, and warnings (a CRL past its next update) alike. */
	if (len > 0)
		vh_relabel(errf, file, ch, "certificate", text);
	free(text);
	text = NULL;
	len = 0;
	errors += vh_check_names(h, ch, file, errf);
	if ((mf = open_memstream(&text, &len)) == NULL)
		goto nomem;
	r = auth_users_load(h->conf.users_file, &h->users, mf);
	(void)fclose(mf);
	if (len > 0)
		vh_relabel(uerrf, file, ch, "users_file", text);
	free(text);
	/* As for the default host: anonymous alone needs no users. */
	if (r != 0 && !h->conf.anonymous)
		errors++;
	if (errors > 0) {
		vh_free(h);
		return errors;
	}
	*out = h;
	return 0;
 nomem:
	fprintf(errf, "%s:%u: [host %s]: out of memory\n", file, ch->line,
	    ch->name);
	vh_free(h);
	return 1;
}

int
vh_load(const struct conf *cf, const char *file, struct vhost_set **out,
    FILE *errf, FILE *uerrf)
{
	struct vhost_set	*set;
	int			 i, errors = 0;

	*out = NULL;
	if (cf->nhosts == 0)
		return 0;
	if (file == NULL)
		file = "-o";
	if ((set = calloc(1, sizeof(*set))) == NULL) {
		fprintf(errf, "%s: out of memory\n", file);
		return -1;
	}
	set->refs = 1;
	for (i = 0; i < cf->nhosts && i < FTPS_HOSTS_MAX; i++) {
		errors += vh_load_one(cf, &cf->hosts[i], file,
		    &set->hosts[set->n], errf, uerrf);
		if (set->hosts[set->n] != NULL)
			set->n++;
	}
	if (errors > 0) {
		vh_set_free(set);
		return -errors;
	}
	*out = set;
	return 0;
}

int
vh_preflight(const struct vhost_set *set, FILE *errf)
{
	struct conf	 hc;
	int		 i, problems = 0;

	for (i = 0; set != NULL && i < set->n; i++) {
		if (conf_copy(&hc, &set->hosts[i]->conf) != 0) {
			fprintf(errf, "ftpsd: out of memory\n");
			return problems + 1;
		}
		/* Checked once, with the default host. */
		free(hc.xferlog_file);
		hc.xferlog_file = NULL;
		problems += pf_check(&hc, NULL, set->hosts[i]->users, errf);
		conf_free(&hc);
	}
	return problems;
}

void
vh_log_hosts(const struct vhost_set *set)
{
	char	 cert[512], names[FTPS_HOSTNAME_MAX * 2];
	size_t	 off;
	int	 i, j;

	for (i = 0; set != NULL && i < set->n; i++) {
		names[0] = '\0';
		for (j = 1, off = 0; j < set->hosts[i]->nnames; j++) {
			snprintf(names + off, sizeof(names) - off, "%s%s",
			    off == 0 ? "" : ",", set->hosts[i]->names[j]);
			off = strlen(names);
			if (off >= sizeof(names) - 1)
				break;
		}
		log_info("host=%s aliases=%s users=%zu certificate: %s",
		    set->hosts[i]->names[0], names[0] ? names : "none",
		    set->hosts[i]->users != NULL ?
		    auth_users_count(set->hosts[i]->users) : 0,
		    ops_cert_text(set->hosts[i]->ssl_ctx, cert,
		    sizeof(cert)));
	}
}

/*
 * The SNI host_name of a ClientHello (RFC 6066 3) into name; 0 when
 * there is none or it is not a host name.
 */
static int
vh_sni(SSL *ssl, char *name, size_t len)
{
	const unsigned char	*p;
	size_t			 rem, n;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p,
	    &rem) || rem < 2)
		return 0;
	n = ((size_t)p[0] << 8) | p[1];
	p += 2;
	rem -= 2;
	if (n != rem)
		return 0;
	while (rem >= 3) {
		n = ((size_t)p[1] << 8) | p[2];
		if (n > rem - 3)
			return 0;
		if (p[0] == TLSEXT_NAMETYPE_host_name) {
			char	 raw[FTPS_HOSTNAME_MAX + 2];

			if (n == 0 || n >= sizeof(raw) ||
			    memchr(p + 3, '\0', n) != NULL)
				return 0;
			memcpy(raw, p + 3, n);
			raw[n] = '\0';
			return conf_host_name(raw, name, len) == 0;
		}
		rem -= 3 + n;
		p += 3 + n;
	}
	return 0;
}

/*
 * Moves ssl to host h's context: the certificate, and the client
 * certificate policy, which SSL_set_SSL_CTX() leaves as SSL_new() took
 * it from the first context (verify mode, CA names, CRL flags).
 */
static int
vh_switch(SSL *ssl, struct vhost *h)
{
	SSL_CTX			*hc = h->ssl_ctx;
	STACK_OF(X509_NAME)	*cas, *dup = NULL;
	X509_VERIFY_PARAM	*param;

	if (hc == NULL || SSL_set_SSL_CTX(ssl, hc) != hc)
		return 0;
	SSL_set_verify(ssl, SSL_CTX_get_verify_mode(hc),
	    SSL_CTX_get_verify_callback(hc));
	if ((cas = SSL_CTX_get_client_CA_list(hc)) != NULL &&
	    sk_X509_NAME_num(cas) > 0 && (dup = SSL_dup_CA_list(cas)) == NULL)
		return 0;
	SSL_set_client_CA_list(ssl, dup);
	/* The host's verify store carries its own CRL flags. */
	if ((param = SSL_get0_param(ssl)) == NULL ||
	    !X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL) ||
	    !X509_VERIFY_PARAM_set_flags(param,
	    X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(hc)) &
	    (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)))
		return 0;
	return 1;
}

/* s now runs on host h (NULL: the default); references swapped. */
static void
vh_select(struct session *s, struct vhost *h)
{
	if (s->host == h)
		return;
	vh_free(s->host);
	s->host = vh_ref(h);
	/* The data policy starts from the host's ftpsd.conf level. */
	conf_policy_of(vh_conf(s), &s->policy);
}

int
vh_tls_hello(SSL *ssl, struct session *s, int data, int *alert)
{
	struct vhost	*h;
	char		 name[FTPS_HOSTNAME_MAX + 1];

	if (s->vhosts == NULL)
		return 1;
	if (!data && vh_sni(ssl, name, sizeof(name))) {
		h = vh_find(s->vhosts, name);
		/*
		 * SECURITY: the host is fixed once HOST chose it (RFC 7151
		 * 3.2.2: HOST and SNI must agree) or USER was looked up in
		 * its users file: AUTH TLS after USER or login must not move
		 * the session to another host's users, anonymous setting or
		 * data policy.  An unknown name keeps the host.
		 */
		if (h != NULL && h != s->host && ((s->vh_flags & VH_HOST) ||
		    (s->flags & (SF_USER_SENT | SF_LOGGED_IN)))) {
			sess_log(s, LOG_LVL_WARN, "tls refused: server name "
			    "%s is not the host chosen by %s (%s)", name,
			    (s->vh_flags & VH_HOST) ? "HOST" : "USER",
			    s->host != NULL ? s->host->names[0] :
			    "(default)");
			*alert = SSL_AD_UNRECOGNIZED_NAME;
			return 0;
		}
		if (h != NULL) {
			s->vh_flags |= VH_SNI;
			vh_select(s, h);
		} else
			sess_log(s, LOG_LVL_DEBUG, "tls server name %s: no "
			    "such host, the default serves", name);
	}
	/*
	 * A data connection gets the control connection's certificate and
	 * client CAs, even after a HOST that came later (clients compare
	 * the two certificates).
	 */
	if (!data && s->tls_host != s->host) {
		vh_free(s->tls_host);
		s->tls_host = vh_ref(s->host);
	}
	if (s->tls_host != NULL && !vh_switch(ssl, s->tls_host)) {
		sess_log(s, LOG_LVL_ERR, "tls: cannot switch to the context "
		    "of host %s", s->tls_host->names[0]);
		*alert = SSL_AD_INTERNAL_ERROR;
		return 0;
	}
	return 1;
}

static int
vh_str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* 1 when a and b check client certificates alike (same files). */
static int
vh_same_mtls(const struct conf *a, const struct conf *b)
{
	return a->tls_client_cert == b->tls_client_cert &&
	    (a->tls_client_cert == CONF_TLS_OFF ||
	    (vh_str_eq(a->tls_client_ca, b->tls_client_ca) &&
	    vh_str_eq(a->tls_crl, b->tls_crl)));
}

/* An IP literal (RFC 7151 3: a client that knows no name sends one). */
static int
vh_is_literal(const char *arg)
{
	unsigned char	 bin[sizeof(struct in6_addr)];
	char		 tmp[INET6_ADDRSTRLEN + 2];
	size_t		 n = strlen(arg);

	if (inet_pton(AF_INET, arg, bin) == 1)
		return 1;
	if (n < 3 || n - 2 >= sizeof(tmp) || arg[0] != '[' ||
	    arg[n - 1] != ']')
		return 0;
	memcpy(tmp, arg + 1, n - 2);
	tmp[n - 2] = '\0';
	return inet_pton(AF_INET6, tmp, bin) == 1;
}

/*
 * HOST (RFC 7151): picks the virtual host before login.  Before AUTH
 * TLS it decides the certificate of the handshake to come; after a
 * handshake that named a host (SNI) it may only confirm that host.
 */
void
cmd_host(struct session *s, const char *arg)
{
	struct vhost	*h = NULL;
	char		 safe[LOG_QUOTE_SIZE(FTPS_HOSTNAME_MAX)];
	char		 norm[FTPS_HOSTNAME_MAX + 1];
	const char	*cur;

	if (s->vhosts == NULL) {
		sess_reply(s, 502, "HOST not available: this server has no "
		    "virtual hosts.");
		return;
	}
	if (s->flags & (SF_LOGGED_IN | SF_USER_SENT)) {
		/* RFC 7151 3: HOST comes before USER. */
		sess_reply(s, 503, "HOST must come before login.");
		return;
	}
	log_quote(safe, sizeof(safe), arg);
	if (!vh_is_literal(arg) &&
	    conf_host_name(arg, norm, sizeof(norm)) != 0) {
		sess_reply(s, 501, "Not a host name.");
		return;
	}
	if (!vh_is_literal(arg) && (h = vh_find(s->vhosts, arg)) == NULL) {
		sess_log(s, LOG_LVL_INFO, "host unknown name=%s", safe);
		sess_reply(s, 504, "Unknown host.");
		return;
	}
	cur = s->host != NULL ? s->host->names[0] : "the default host";
	if ((s->flags & SF_TLS) && h != s->host) {
		if (s->vh_flags & VH_SNI) {
			/* RFC 7151 3.2.2: SNI chose; HOST cannot differ. */
			sess_log(s, LOG_LVL_WARN, "host refused name=%s: the "
			    "TLS server name chose %s", safe, cur);
			sess_reply(s, 504, "HOST differs from the TLS server "
			    "name (%s).", cur);
			return;
		}
		/*
		 * SECURITY: the handshake was checked against the client
		 * certificate policy of the host it served; another host's
		 * CAs or CRL were never applied.
		 */
		if (!vh_same_mtls(vh_conf(s), h != NULL ? &h->conf :
		    &s->ctx->conf)) {
			sess_log(s, LOG_LVL_WARN, "host refused name=%s: its "
			    "client certificate policy differs from the "
			    "handshake's", safe);
			sess_reply(s, 503, "Send HOST before AUTH TLS (or use "
			    "TLS SNI) for this host.");
			return;
		}
	}
	vh_select(s, h);
	s->vh_flags |= VH_HOST;
	sess_log(s, LOG_LVL_INFO, "host selected name=%s", safe);
	sess_reply(s, 220, "Host %s ready.", s->host != NULL ?
	    s->host->names[0] : "(default)");
}
