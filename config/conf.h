/*
 * ftpsd.conf: "key = value" lines, '#' comments, one CONF_KEYS entry per
 * key below.  Every key has a built-in default (conf_init), so ftpsd runs with
 * no file at all.  Unknown keys and bad values are errors reported as
 * "FILE:LINE: message"; nothing is silently ignored.
 */
#ifndef FTPS_CONF_H
#define FTPS_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "ftps_limits.h"

enum conf_tls	{ CONF_TLS_OFF, CONF_TLS_OPTIONAL, CONF_TLS_REQUIRED };
enum conf_reuse	{ CONF_REUSE_OFF, CONF_REUSE_OPTIONAL, CONF_REUSE_REQUIRED };
enum conf_log	{ CONF_LOG_AUTO, CONF_LOG_STDERR, CONF_LOG_SYSLOG };
enum conf_prot	{ CONF_PROT_C, CONF_PROT_P };

#define CONF_LINE_ARG	(~0u)		/* c_line[]: set by "ftpsd -o" */
#define CONF_BAN_FAILURES_MAX	100	/* ban_failures: bounds its memory */
#define CONF_IPV6_PREFIX_MIN	16	/* ipv6_prefix: a shorter one would
					 * group whole networks as one client */
#define CONF_WORKERS_MAX	64	/* workers: processes at most */
#define CONF_WORKERS_AUTO	0	/* workers = auto: one per online CPU */
#define CONF_TIMEOUT_MAX	86400	/* one day, in seconds */
#define CONF_CLIENTS_MAX	100000
#define CONF_THREADS_MAX	64
#define CONF_USER_MAX		32	/* a system user name (useradd's) */
#define CONF_WARN_DAYS_MAX	3650
#define CONF_LOGIN_FAILS_MAX	100
#define CONF_BAN_SECONDS_MAX	(7 * 86400)	/* one week */

/* Flags of a key (the flags column of CONF_KEYS). */
#define CONF_F_UNSET	0x01	/* an empty value restores the unset default */
#define CONF_F_RELATIVE	0x02	/* a relative path is resolved, not refused */
#define CONF_F_ZERO_OFF	0x04	/* 0 means "off" (messages say so) */
#define CONF_F_HOST	0x08	/* may be set in a [host] section too
				 * (docs/vhosts.md) */

/* What a reload (SIGHUP) does with a changed key (server/load.c). */
enum conf_reload {
	CONF_RELOAD,		/* applies the new value */
	CONF_RESTART,		/* keeps the running value, with a warning */
	CONF_RESTART_BIND	/* the same, silent under socket activation
				 * (systemd owns the listening sockets) */
};

/*
 * Every key of ftpsd.conf, declared once (after OpenSSH's servconf.h):
 * this list generates the fields of struct conf, the parser's table and
 * key indices, the defaults (conf_init), conf_free and the keys a reload
 * keeps (conf_key_reload).  One entry per key:
 *
 *	X(ID, "name", field, type, min, max, "default", flags, reload)
 *
 * ID	  the index conf.c's checks name the key by (K_...)
 * type	  how the value is parsed and stored; a token with a
 *	  CONF_DECL_<type> below and a CONF_T_<type> in conf.c:
 *	  uint, umask (octal), bool, workers ("auto" or a number),
 *	  path (absolute, or resolved with CONF_F_RELATIVE), name (a certs
 *	  folder name), user, ipv4, listen (an address list), and the
 *	  enums tls, data_tls, reuse, prot, log
 * min,max  the range of a number, or the length of a name
 * default  spelled as in ftpsd.conf; "" is "unset" (CONF_F_UNSET, for
 *	  string types only)
 * reload   enum conf_reload
 *
 * docs/architecture.md, "Adding a configuration key", says what else a
 * new key needs (its use, the sample file, docs/config.md).
 */
#define CONF_KEYS(X)							\
	/* Where to listen. */						\
	X(K_LISTEN, "listen_addresses", listen, listen, 0, 0,		\
	    "0.0.0.0, ::", 0, CONF_RESTART_BIND)			\
	X(K_EXPLICIT_PORT, "explicit_port", explicit_port, uint, 0,	\
	    65535, "21", CONF_F_ZERO_OFF, CONF_RESTART_BIND)		\
	X(K_IMPLICIT_PORT, "implicit_port", implicit_port, uint, 0,	\
	    65535, "990", CONF_F_ZERO_OFF, CONF_RESTART_BIND)		\
	/* TLS policy; data_tls is never off. */			\
	X(K_TLS, "tls", tls, tls, 0, 0, "required", 0, CONF_RELOAD)	\
	X(K_DATA_TLS, "data_tls", data_tls, data_tls, 0, 0,		\
	    "required", 0, CONF_RELOAD)					\
	X(K_DATA_REUSE, "data_session_reuse", data_session_reuse,	\
	    reuse, 0, 0, "required", CONF_F_HOST, CONF_RELOAD)		\
	/* C after AUTH TLS (RFC 4217); implicit sessions start P. */	\
	X(K_PROT_DEFAULT, "prot_default", prot_default, prot, 0, 0,	\
	    "C", 0, CONF_RELOAD)					\
	X(K_CERTS_DIR, "certs_dir", certs_dir, path, 0, 0,		\
	    FTPS_CERTSDIR, CONF_F_RELATIVE, CONF_RELOAD)		\
	/* Unset: the certs folder's default certificate. */		\
	X(K_CERTIFICATE, "certificate", certificate, name, 1,		\
	    FTPS_CERTNAME_MAX, "", CONF_F_UNSET | CONF_F_HOST,		\
	    CONF_RELOAD)						\
	/* Data channels; pasv_address unset: the control local addr. */ \
	X(K_PASV_MIN, "pasv_min_port", pasv_min_port, uint, 1024,	\
	    65535, "49152", 0, CONF_RELOAD)				\
	X(K_PASV_MAX, "pasv_max_port", pasv_max_port, uint, 1024,	\
	    65535, "65534", 0, CONF_RELOAD)				\
	X(K_PASV_ADDRESS, "pasv_address", pasv_address, ipv4, 0, 0,	\
	    "", CONF_F_UNSET, CONF_RELOAD)				\
	/* Accounts; anonymous_root is required when anonymous is on. */ \
	X(K_USERS_FILE, "users_file", users_file, path, 0, 0,		\
	    FTPS_SYSCONFDIR "/ftpsd/users",				\
	    CONF_F_RELATIVE | CONF_F_HOST, CONF_RELOAD)			\
	X(K_ANONYMOUS, "anonymous", anonymous, bool, 0, 0, "off",	\
	    CONF_F_HOST, CONF_RELOAD)					\
	X(K_ANONYMOUS_ROOT, "anonymous_root", anonymous_root, path,	\
	    0, 0, "", CONF_F_UNSET | CONF_F_HOST, CONF_RELOAD)		\
	/* Limits, seconds and counts; max_login_failures is per	\
	 * connection, ban_failures per address within ban_window;	\
	 * ipv6_prefix is how many bits of an IPv6 client address	\
	 * bans and max_clients_per_ip group. */			\
	X(K_MAX_CLIENTS, "max_clients", max_clients, uint, 1,		\
	    CONF_CLIENTS_MAX, "512", 0, CONF_RELOAD)			\
	X(K_MAX_PER_IP, "max_clients_per_ip", max_clients_per_ip, uint, \
	    1, CONF_CLIENTS_MAX, "32", 0, CONF_RELOAD)			\
	X(K_MAX_LOGIN_FAILS, "max_login_failures", max_login_failures,	\
	    uint, 1, CONF_LOGIN_FAILS_MAX, "5", 0, CONF_RELOAD)		\
	X(K_BAN_FAILURES, "ban_failures", ban_failures, uint, 1,	\
	    CONF_BAN_FAILURES_MAX, "10", 0, CONF_RELOAD)		\
	X(K_BAN_WINDOW, "ban_window", ban_window, uint, 1,		\
	    CONF_TIMEOUT_MAX, "600", 0, CONF_RELOAD)			\
	X(K_BAN_SECONDS, "ban_seconds", ban_seconds, uint, 0,		\
	    CONF_BAN_SECONDS_MAX, "900", CONF_F_ZERO_OFF, CONF_RELOAD)	\
	X(K_IPV6_PREFIX, "ipv6_prefix", ipv6_prefix, uint,		\
	    CONF_IPV6_PREFIX_MIN, 128, "64", 0, CONF_RESTART)		\
	X(K_IDLE_TIMEOUT, "idle_timeout", idle_timeout, uint, 1,	\
	    CONF_TIMEOUT_MAX, "300", 0, CONF_RELOAD)			\
	X(K_LOGIN_TIMEOUT, "login_timeout", login_timeout, uint, 1,	\
	    CONF_TIMEOUT_MAX, "60", 0, CONF_RELOAD)			\
	X(K_DATA_TIMEOUT, "data_timeout", data_timeout, uint, 1,	\
	    CONF_TIMEOUT_MAX, "120", 0, CONF_RELOAD)			\
	X(K_AUTH_THREADS, "auth_threads", auth_threads, uint, 1,	\
	    CONF_THREADS_MAX, CONF_STR(FTPS_AUTH_THREADS), 0,		\
	    CONF_RESTART)						\
	/* docs/users.md */						\
	X(K_LOGIN_CACHE, "login_cache_seconds", login_cache_seconds,	\
	    uint, 0, CONF_TIMEOUT_MAX, "0", CONF_F_ZERO_OFF,		\
	    CONF_RELOAD)						\
	X(K_FILE_UMASK, "file_umask", file_umask, umask, 0, 0777,	\
	    "022", 0, CONF_RELOAD)					\
	/* Logging; auto is stderr with -f, else syslog. */		\
	X(K_LOG, "log", log, log, 0, 0, "auto", 0, CONF_RELOAD)		\
	X(K_LOG_DEBUG, "log_debug", log_debug, bool, 0, 0, "off", 0,	\
	    CONF_RELOAD)						\
	/* Client certificates (docs/mtls.md): PEM files. */		\
	X(K_CLIENT_CERT, "tls_client_cert", tls_client_cert, tls, 0, 0,	\
	    "off", CONF_F_HOST, CONF_RELOAD)				\
	X(K_CLIENT_CA, "tls_client_ca", tls_client_ca, path, 0, 0, "",	\
	    CONF_F_RELATIVE | CONF_F_UNSET | CONF_F_HOST,		\
	    CONF_RELOAD)						\
	X(K_CRL, "tls_crl", tls_crl, path, 0, 0, "",			\
	    CONF_F_RELATIVE | CONF_F_UNSET | CONF_F_HOST,		\
	    CONF_RELOAD)						\
	/* Operations (server/ops.c, server/privdrop.c); allow_root off: \
	 * never serve as uid 0; cert_warn_days 0 = off. */		\
	X(K_RUN_AS_USER, "run_as_user", run_as_user, user, 1,		\
	    CONF_USER_MAX, "ftpsd", 0, CONF_RESTART)			\
	X(K_ALLOW_ROOT, "allow_root", allow_root, bool, 0, 0, "off", 0, \
	    CONF_RESTART)						\
	X(K_SHUTDOWN_TIMEOUT, "shutdown_timeout", shutdown_timeout,	\
	    uint, 0, CONF_TIMEOUT_MAX, "30", 0, CONF_RELOAD)		\
	X(K_XFERLOG_FILE, "xferlog_file", xferlog_file, path, 0, 0, "", \
	    CONF_F_UNSET, CONF_RELOAD)					\
	X(K_CERT_WARN_DAYS, "cert_warn_days", cert_warn_days, uint, 0,	\
	    CONF_WARN_DAYS_MAX, "30", CONF_F_ZERO_OFF, CONF_RELOAD)	\
	X(K_WORKERS, "workers", workers, workers, 1, CONF_WORKERS_MAX,	\
	    "1", 0, CONF_RESTART)

/* The C field each type declares. */
#define CONF_DECL_uint(f)	unsigned f;
#define CONF_DECL_umask(f)	unsigned f;
#define CONF_DECL_workers(f)	unsigned f;
#define CONF_DECL_bool(f)	int f;
#define CONF_DECL_path(f)	char *f;	/* owned; NULL: unset */
#define CONF_DECL_name(f)	char *f;
#define CONF_DECL_user(f)	char *f;
#define CONF_DECL_ipv4(f)	char *f;
#define CONF_DECL_listen(f)	char *f[FTPS_LISTEN_MAX]; int n##f;
#define CONF_DECL_tls(f)	enum conf_tls f;
#define CONF_DECL_data_tls(f)	enum conf_tls f;
#define CONF_DECL_reuse(f)	enum conf_reuse f;
#define CONF_DECL_prot(f)	enum conf_prot f;
#define CONF_DECL_log(f)	enum conf_log f;

#define CONF_STR(x)		CONF_STR_(x)
#define CONF_STR_(x)		#x
#define CONF_FIELD_(id, name, field, type, min, max, def, flags, reload) \
	CONF_DECL_##type(field)
#define CONF_ONE_(id, name, field, type, min, max, def, flags, reload) + 1
#define CONF_NKEYS		(0 CONF_KEYS(CONF_ONE_))

struct conf_host;

struct conf {
	CONF_KEYS(CONF_FIELD_)

	/*
	 * Where each key (in table order, see conf_key_name) was last set:
	 * 0 built-in default, CONF_LINE_ARG from -o, else the line number.
	 * conf_check uses it to point its messages at a line.
	 */
	unsigned	 c_line[CONF_NKEYS];

	/* [host NAME] sections, in file order (docs/vhosts.md). */
	struct conf_host *hosts;		/* owned, nhosts entries */
	int		 nhosts;
};

/*
 * One "[host NAME]" section: the names it answers to and the keys it
 * sets.  Everything outside the sections is the default host; a key a
 * section leaves out is the default host's.  Only the keys for which
 * conf_host_key() says yes may appear in a section.
 */
struct conf_host {
	char		*name;		/* owned, lower case */
	char		*aliases[FTPS_HOST_ALIASES_MAX];	/* owned */
	int		 naliases;
	unsigned	 line;		/* of "[host NAME]" */
	unsigned	 aliases_line;	/* 0: no aliases key */
	struct conf	*set;		/* owned: the keys set in the section,
					 * set->c_line[i] != 0 (the rest
					 * zero); never holds hosts */
};

/*
 * Fills in every built-in default: 0, FTPS_ENOMEM, or FTPS_EPARSE for a
 * CONF_KEYS entry whose default does not parse (caught by check_conf).
 */
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
/*
 * A host name as the sections, SNI and HOST compare it: a DNS name of
 * letters, digits and '-' in labels of 1 to 63 bytes (no '-' at either
 * end), at most FTPS_HOSTNAME_MAX bytes, one trailing '.' dropped,
 * lower-cased into out (len > FTPS_HOSTNAME_MAX).  0 or FTPS_EPARSE.
 */
int	 conf_host_name(const char *in, char *out, size_t len);
/* 1 when key i may be set in a [host] section. */
int	 conf_host_key(size_t i);
/* The section that answers to name (a conf_host_name() form), or NULL. */
const struct conf_host *conf_host_find(const struct conf *,
	    const char *name);
/*
 * The configuration host h runs under: a deep copy of def with the keys
 * h sets laid over it (c_line[] of those keys pointing into the section),
 * no hosts of its own.  0 or FTPS_ENOMEM (out then zeroed).
 */
int	 conf_host_conf(const struct conf *def, const struct conf_host *h,
	    struct conf *out);
/* A deep copy of src without its hosts; 0 or FTPS_ENOMEM. */
int	 conf_copy(struct conf *dst, const struct conf *src);
/* Frees what conf owns and zeroes it; safe on a zeroed conf. */
void	 conf_free(struct conf *);
/* Name of key i of the table, or NULL for i >= CONF_NKEYS. */
const char	*conf_key_name(size_t i);
/* Index of the key called name (len bytes), or -1. */
int		 conf_key_find(const char *name, size_t len);
/* What a reload does with key i (CONF_RELOAD for a bad i). */
enum conf_reload conf_key_reload(size_t i);
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
