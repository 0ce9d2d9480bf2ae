/*
 * ftpsd.conf: "key = value" lines, '#' comments, one table row per key in
 * conf.c.  Every key has a built-in default (conf_init), so ftpsd runs with
 * no file at all.  Unknown keys and bad values are errors reported as
 * "FILE:LINE: message"; nothing is silently ignored.
 */
#ifndef FTPS_CONF_H
#define FTPS_CONF_H

#include <stdio.h>

#include "ftps_limits.h"

enum conf_tls	{ CONF_TLS_OFF, CONF_TLS_OPTIONAL, CONF_TLS_REQUIRED };
enum conf_reuse	{ CONF_REUSE_OFF, CONF_REUSE_OPTIONAL, CONF_REUSE_REQUIRED };
enum conf_log	{ CONF_LOG_AUTO, CONF_LOG_STDERR, CONF_LOG_SYSLOG };

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
	char		*certs_dir;		/* FTPS_CERTSDIR */
	char		*certificate;		/* NULL: the folder's default */

	/* Data channels. */
	unsigned	 pasv_min_port;		/* 49152 */
	unsigned	 pasv_max_port;		/* 65534 */
	char		*pasv_address;		/* NULL: the control local addr */

	/* Accounts. */
	char		*users_file;		/* FTPS_SYSCONFDIR/ftpsd/users */
	int		 anonymous;		/* off */
	char		*anonymous_root;	/* NULL; required when on */

	/* Limits, seconds and counts. */
	unsigned	 max_clients;		/* 512 */
	unsigned	 max_clients_per_ip;	/* 32 */
	unsigned	 idle_timeout;		/* 300 */
	unsigned	 login_timeout;		/* 60 */
	unsigned	 data_timeout;		/* 120 */
	unsigned	 auth_threads;		/* FTPS_AUTH_THREADS */
	unsigned	 file_umask;		/* 022 */

	/* Logging. */
	enum conf_log	 log;			/* auto: stderr with -f */
	int		 log_debug;		/* off */
};

/* Fills in every built-in default; 0 or FTPS_ENOMEM. */
int	 conf_init(struct conf *);
/*
 * Applies one "key", "value" pair.  file and line only label errors
 * ("-o" for command-line overrides).  Prints "FILE:LINE: message" to
 * errf and returns FTPS_EPARSE for an unknown key or bad value.
 */
int	 conf_set(struct conf *, const char *key, const char *value,
	    const char *file, unsigned line, FILE *errf);
/* "key=value" from the command line (ftpsd -o). */
int	 conf_set_arg(struct conf *, const char *kv, FILE *errf);
/*
 * Reads a whole file on top of what conf holds.  Every bad line is
 * reported (not only the first); returns 0 or the negative count of
 * errors (FTPS_ESYS when the file cannot be opened, after printing why).
 */
int	 conf_load(struct conf *, const char *path, FILE *errf);
/* Cross-key checks (pasv range order, anonymous_root set...). */
int	 conf_check(const struct conf *, const char *file, FILE *errf);
void	 conf_free(struct conf *);

#endif
