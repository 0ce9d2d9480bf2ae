/*
 * Virtual hosts (server/vhost.c, docs/vhosts.md): the [host NAME]
 * sections of ftpsd.conf, each with its own certificate, users, client
 * CAs and CRL, picked per session by TLS SNI or the HOST command
 * (RFC 7151).  Everything outside the sections is the default host,
 * which stays in struct ftpsd (conf, ssl_ctx, users) as without
 * sections; a session whose s->host is NULL is on the default host.
 *
 * TLS: every SSL is made from the default host's SSL_CTX (the session's
 * s->ssl_ctx), which keeps the ticket keys, the ticket callbacks and the
 * TLS 1.2 session cache, so the data-channel binding (tls.c) works the
 * same for every host; the ClientHello callback only moves the SSL to
 * its host's context for the certificate and the client-certificate
 * policy (vh_tls_hello).
 *
 * Lifetime: a set and its hosts are reference counted; a session holds
 * the set it was accepted with and its host, so a reload (which builds a
 * whole new set) leaves it what it started with.
 */
#ifndef FTPS_VHOST_H
#define FTPS_VHOST_H

#include <stdio.h>

#include <openssl/ssl.h>

#include "conf.h"

struct session;
struct userdb;

struct vhost {
	unsigned	 refs;
	char		*names[1 + FTPS_HOST_ALIASES_MAX];	/* [0] the name */
	int		 nnames;
	struct conf	 conf;		/* the default's with the section's
					 * keys laid over (conf_host_conf) */
	SSL_CTX		*ssl_ctx;	/* NULL when tls = off */
	struct userdb	*users;		/* NULL: anonymous only */
};

struct vhost_set {
	unsigned	 refs;
	int		 n;
	struct vhost	*hosts[FTPS_HOSTS_MAX];
};

/* s->vh_flags */
#define VH_SNI		0x01	/* the control handshake named a host */
#define VH_HOST		0x02	/* a HOST command chose s->host */

/*
 * Builds every host of cf->hosts: its configuration, SSL_CTX (with a
 * check that the certificate covers each of its names, by SAN) and users
 * file.  Problems go to errf as "FILE:LINE: [host NAME]: message" (file
 * labels them; the users file's own complaints go to uerrf).  *out is
 * NULL when cf has no sections.  0, or the negative count of problems
 * (nothing is kept then).
 */
int		 vh_load(const struct conf *cf, const char *file,
		    struct vhost_set **out, FILE *errf, FILE *uerrf);
/* Takes a reference; NULL-safe. */
struct vhost_set *vh_set_ref(struct vhost_set *);
/* Drops a reference, freeing on the last; NULL-safe. */
void		 vh_set_free(struct vhost_set *);
struct vhost	*vh_ref(struct vhost *);
void		 vh_free(struct vhost *);
/* The host answering to name (any case, a trailing dot), or NULL. */
struct vhost	*vh_find(const struct vhost_set *, const char *name);

/* What session s runs under: its host's, else the default host's. */
const struct conf *vh_conf(const struct session *);
struct userdb	*vh_users(const struct session *);
/* "host=NAME " for log lines ("" without sections). */
const char	*vh_log_tag(const struct session *, char *, size_t);

/*
 * The ClientHello callback's part (tls.c): on a control handshake the
 * SNI name picks the host (an unknown or absent name: the host chosen so
 * far, else the default); a name other than a HOST given before AUTH
 * TLS is refused (0, *alert set).  The control handshake then serves
 * its host's context, and every data handshake the same one (a HOST
 * after TLS changes the users, not the certificate).  1 to go on, 0 to
 * abort.
 */
int		 vh_tls_hello(SSL *, struct session *, int data, int *alert);
/*
 * ftpsd -t: pf_check() for each host's own files (certificate, users
 * file and homes, client CAs and CRL) as run_as_user; the daemon-wide
 * ones were checked with the default host.  Returns the problems.
 */
int		 vh_preflight(const struct vhost_set *, FILE *errf);
/* One line per host for the start and reload logs. */
void		 vh_log_hosts(const struct vhost_set *);
/* Each host's certificate expiry warning (ops_certwarn). */
void		 vh_certwarn(const struct vhost_set *);

#endif
