/*
 * ftpsd.conf: "key = value" lines, '#' comments, one table row per key in
 * conf.c.  Every key has a built-in default (conf_init), so ftpsd runs with
 * no file at all.  Unknown keys and bad values are errors reported as
 * "FILE:LINE: message"; nothing is silently ignored.
 */
#ifndef FTPS_CONF_H
#define FTPS_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "cidr.h"
#include "ftps_limits.h"

enum conf_tls	{ CONF_TLS_OFF, CONF_TLS_OPTIONAL, CONF_TLS_REQUIRED };
enum conf_reuse	{ CONF_REUSE_OFF, CONF_REUSE_OPTIONAL, CONF_REUSE_REQUIRED };
enum conf_log	{ CONF_LOG_AUTO, CONF_LOG_STDERR, CONF_LOG_SYSLOG };
enum conf_prot	{ CONF_PROT_C, CONF_PROT_P };
enum conf_proxy	{ CONF_PROXY_OFF, CONF_PROXY_V1, CONF_PROXY_V2, CONF_PROXY_ANY };
enum conf_pdata	{ CONF_PDATA_HEADER, CONF_PDATA_TRUST };

#define CONF_NKEYS	42		/* rows of the key table in conf.c */
#define CONF_LINE_ARG	(~0u)		/* c_line[]: set by "ftpsd -o" */
#define CONF_BAN_FAILURES_MAX	100	/* ban_failures: bounds its memory */
#define CONF_IPV6_PREFIX_MIN	16	/* ipv6_prefix: a shorter one would
					 * group whole networks as one client */
#define CONF_WORKERS_MAX	64	/* workers: processes at most */
#define CONF_WORKERS_AUTO	0	/* workers = auto: one per online CPU */

struct conf {
	/* Where to listen. */
	char		*listen[FTPS_LISTEN_MAX];	/* owned, numeric addrs */
	int		 nlisten;		/* default: "0.0.0.0", "::" */
	unsigned	 explicit_port;		/* 21; 0 = off */
	unsigned	 implicit_port;		/* 990; 0 = off */

	/* TLS policy. */
	enum conf_tls	 tls;			/* required */
	enum conf_tls	 data_tls;		/* required (never OFF) */
	enum conf_reuse	 data_session_reuse;	/* required */
	enum conf_prot	 prot_default;		/* C after AUTH TLS (RFC 4217);
						 * implicit sessions start P */
	char		*certs_dir;		/* FTPS_CERTSDIR */
	char		*certificate;		/* NULL: the folder's default */

	/* Client certificates (mutual TLS, docs/mtls.md). */
	enum conf_tls	 tls_client_cert;	/* off */
	char		*tls_client_ca;		/* NULL; PEM roots+intermediates */
	char		*tls_crl;		/* NULL; PEM CRLs */

	/* Data channels. */
	unsigned	 pasv_min_port;		/* 49152 */
	unsigned	 pasv_max_port;		/* 65534 */
	char		*pasv_address;		/* NULL: the control local addr */

	/* Load balancers (docs/scale-out.md). */
	enum conf_proxy	 proxy_protocol;	/* off */
	struct cidr	 proxy_trusted[FTPS_PROXY_TRUSTED_MAX];
	int		 nproxy_trusted;	/* 0: none */
	enum conf_pdata	 proxy_data;		/* header */

	/* Accounts. */
	char		*users_file;		/* FTPS_SYSCONFDIR/ftpsd/users */
	int		 anonymous;		/* off */
	char		*anonymous_root;	/* NULL; required when on */

	/* Limits, seconds and counts. */
	unsigned	 max_clients;		/* 512 */
	unsigned	 max_clients_per_ip;	/* 32 */
	unsigned	 max_login_failures;	/* 5, per connection */
	unsigned	 ban_failures;		/* 10 failed logins per address */
	unsigned	 ban_window;		/* within 600 s */
	unsigned	 ban_seconds;		/* ban 900 s; 0 = no bans */
	unsigned	 ipv6_prefix;		/* 64: bits of an IPv6 client
						 * address that bans and
						 * max_clients_per_ip group */
	unsigned	 idle_timeout;		/* 300 */
	unsigned	 login_timeout;		/* 60 */
	unsigned	 data_timeout;		/* 120 */
	unsigned	 auth_threads;		/* FTPS_AUTH_THREADS */
	unsigned	 login_cache_seconds;	/* 0 = off (docs/users.md) */
	unsigned	 file_umask;		/* 022 */

	/* Logging. */
	enum conf_log	 log;			/* auto: stderr with -f */
	int		 log_debug;		/* off */

	/* Operations (server/ops.c, server/privdrop.c). */
	char		*run_as_user;		/* "ftpsd": switched to as root */
	int		 allow_root;		/* off: never serve as uid 0 */
	unsigned	 shutdown_timeout;	/* 30 s for transfers at stop */
	char		*xferlog_file;		/* NULL: no transfer log */
	unsigned	 cert_warn_days;	/* 30; 0 = off */
	unsigned	 workers;		/* 1; CONF_WORKERS_AUTO = auto */

	/*
	 * Where each key (in table order, see conf_key_name) was last set:
	 * 0 built-in default, CONF_LINE_ARG from -o, else the line number.
	 * conf_check uses it to point its messages at a line.
	 */
	unsigned	 c_line[CONF_NKEYS];
};

/* Fills in every built-in default; 0 or FTPS_ENOMEM. */
int	 conf_init(struct conf *);
/*
 * Applies one "key", "value" pair (value already trimmed).  file and
 * line label errors ("-o" or NULL for command-line overrides); a
 * relative certs_dir or users_file is resolved against the directory of
 * file (the current directory for "-o") and stored absolute.  An empty
 * value unsets the keys whose default is "unset" (certificate,
 * pasv_address, anonymous_root, xferlog_file) and is an error for the
 * others.  Prints
 * "FILE:LINE: message" to errf (may be NULL) and returns FTPS_EPARSE for
 * an unknown key or bad value (the field is then left as it was), or
 * FTPS_ENOMEM.
 */
int	 conf_set(struct conf *, const char *key, const char *value,
	    const char *file, unsigned line, FILE *errf);
/*
 * "key=value" from the command line (ftpsd -o); blanks around '=' are
 * allowed.  Errors read "-o: message".  Apply these after conf_load so
 * that they override the file.
 */
int	 conf_set_arg(struct conf *, const char *kv, FILE *errf);
/*
 * Reads a whole file on top of what conf holds.  Every bad line is
 * reported (not only the first): unknown key, bad value, a key set twice
 * in the file, a line over FTPS_CONF_LINE_MAX bytes, control bytes.
 * Returns 0 or the negative count of errors (FTPS_ESYS when the file
 * cannot be opened or is not a regular file, after printing why; the
 * count and the codes overlap, so treat any non-zero as failure).  After
 * a failure conf holds a mix of old and new values: discard it.
 */
int	 conf_load(struct conf *, const char *path, FILE *errf);
/*
 * Cross-key checks (pasv range order, anonymous_root set...) and a
 * re-check of every field, so a conf filled in by code is held to the
 * same rules.  Reports every problem; 0 or the negative count.
 */
int	 conf_check(const struct conf *, const char *file, FILE *errf);
/* Frees what conf owns and zeroes it; safe on a zeroed conf. */
void	 conf_free(struct conf *);
/* Name of key i of the table, or NULL for i >= CONF_NKEYS. */
const char	*conf_key_name(size_t i);
/*
 * The value of key i as the file would spell it ("022", "on", "0.0.0.0,
 * ::", "" when unset), so conf_set(key, buf) reproduces it.  0,
 * FTPS_ETOOBIG (buf left empty) or FTPS_EPARSE for a bad i.
 */
int	 conf_value(const struct conf *, size_t i, char *buf, size_t len);

/*
 * The data-channel policy one session runs under.  ftpsd.conf sets it for
 * every session; a users-file entry may override fields for its account
 * (and a [host] section, between the two).  Each field is an enum of the
 * ftpsd.conf key of the same name, or CONF_POLICY_UNSET in an override
 * that leaves it to the level below.
 */
#define CONF_POLICY_UNSET	(-1)
#define CONF_POLICY_STR_MAX	64	/* conf_policy_str() output */
struct conf_policy {
	int		 data_tls;		/* enum conf_tls */
	int		 data_session_reuse;	/* enum conf_reuse */
};

/* An override that sets nothing. */
void	 conf_policy_unset(struct conf_policy *);
/* The global level: ftpsd.conf's values. */
void	 conf_policy_of(const struct conf *, struct conf_policy *);
/* Lays the fields over sets over p (a more specific level wins). */
void	 conf_policy_merge(struct conf_policy *p,
	    const struct conf_policy *over);
/*
 * Sets one field of an override from its ftpsd.conf key name and value
 * (the same words as in ftpsd.conf).  0, or FTPS_EPARSE with why filled
 * in ("unknown setting ...", "... is not one of: ...", "... given
 * twice" when p already sets it) for the caller's FILE:LINE.
 */
int	 conf_policy_set(struct conf_policy *, const char *key,
	    const char *value, char *why, size_t whylen);
/* "data_tls=required data_session_reuse=optional"; unset fields left out. */
const char	*conf_policy_str(const struct conf_policy *, char *, size_t);

#endif
