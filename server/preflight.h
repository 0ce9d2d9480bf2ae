/*
 * ftpsd -t beyond parsing: what the running daemon would trip on once it
 * is run_as_user.  A reload (SIGHUP) re-reads the configuration, the
 * users file, the certificate and key as that user, and every login
 * opens a home as that user; a file only root can read passes a check
 * run as root and fails the next reload.
 */
#ifndef FTPS_PREFLIGHT_H
#define FTPS_PREFLIGHT_H

#include <stdio.h>

struct conf;
struct userdb;

/*
 * Checks, as run_as_user, that conffile (may be NULL), users_file,
 * certs_dir with the certificate's .crt/.key (.chain when present),
 * tls_client_ca and tls_crl can be read, that xferlog_file (or, while it
 * does not exist, its folder) is writable, and that each user's home (and
 * anonymous_root) exists and can be opened and listed.  Run as root,
 * the checks run in a child process that drops to run_as_user exactly as
 * the daemon does (privdrop.c) and opens each file for real; run as any
 * other user (or with run_as_user root), only the homes and the transfer
 * log are checked, by this process (the rest was just read by it).  A
 * missing home is reported as "USERS_FILE:LINE: ...".  Files already
 * missing for root are not reported again.  Each problem is one line on errf naming the
 * file and the fix; a read-write home that is not writable is a warning.
 * Returns the number of problems (warnings not counted).
 */
int	 pf_check(const struct conf *, const char *conffile,
	    const struct userdb *, FILE *errf);

#endif
