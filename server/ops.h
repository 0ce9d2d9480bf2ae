/*
 * Operations (server/ops.c): signals, reload without dropping sessions,
 * graceful shutdown, certificate expiry warnings.
 *
 * SIGHUP builds a complete new state (configuration file and -o
 * overrides, users file, SSL_CTX with certificate, key, CA and CRL,
 * transfer log) and swaps it in only when every part of it loaded; else
 * the reasons are logged and the old state stays.  A session keeps the
 * SSL_CTX it was accepted with (a reference), its copy of its user and
 * its root, so sessions and transfers in flight go on untouched; new
 * connections get the new certificate and settings.  Keys that need a
 * restart (CONF_RESTART in conf.h's CONF_KEYS: listen_addresses, the
 * ports, run_as_user, allow_root, auth_threads, workers, ipv6_prefix)
 * keep their running value, with a warning.  The loading itself is
 * load.c's, shared with start-up.
 *
 * SIGTERM/SIGINT: stop accepting; idle sessions get 421 at once;
 * transfers in flight may finish within shutdown_timeout (then 426 and
 * 421); a second signal ends them at once.  The process then exits 0.
 */
#ifndef FTPS_OPS_H
#define FTPS_OPS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "log.h"

struct ftpsd;

#define FTPS_DEFAULT_CONF	FTPS_SYSCONFDIR "/ftpsd/ftpsd.conf"

/*
 * Remembers how the running configuration was built, for reloads: the
 * -c file as an absolute path (NULL: the default file when it exists)
 * and each -o as "key=value" holding the value the key ended up with, so
 * a relative path stays what it meant in the directory ftpsd started in.
 * Call after the configuration loaded.  0 or FTPS_ENOMEM/FTPS_ESYS.
 */
int	 ops_remember(struct ftpsd *, const char *conffile,
	    const char *const *overrides, int n);
/* The configuration file a (re)load reads: -c, else the default if any. */
const char *ops_conffile(const struct ftpsd *);
/*
 * Watches SIGINT, SIGTERM and SIGHUP; arms the daily expiry check; sets
 * the sessions' hooks (a transfer ending during shutdown closes its
 * session).
 */
int	 ops_start(struct ftpsd *);
/* SIGHUP: the reload described above.  0, or FTPS_EPARSE when it failed. */
int	 ops_reload(struct ftpsd *);
/* SIGTERM/SIGINT: the shutdown described above. */
void	 ops_shutdown(struct ftpsd *, int sig);
/*
 * "subject=/CN=x sha256=AB:..:EF notAfter=\"DATE\"" of the served
 * certificate, for the log; "none (tls = off)" for NULL.
 */
const char *ops_cert_text(SSL_CTX *, char *buf, size_t len);
/*
 * Warns when a served certificate (the default host's, each [host]'s)
 * expires within cert_warn_days.
 */
void	 ops_certwarn(struct ftpsd *);
/*
 * After the loop ended: lets finished data connections drain (bounded
 * by their own linger timers), so a download's last bytes are not cut
 * by a reset.
 */
void	 ops_drain(struct ftpsd *);
/* Where the log goes: syslog, or stderr (log = stderr, or -f). */
enum log_dest ops_log_dest(const struct ftpsd *);
/* Frees what ops added to the context. */
void	 ops_free(struct ftpsd *);

#endif
