/*
 * The one loader (server/load.c): start-up (main.c) and SIGHUP (ops.c)
 * build the state ftpsd serves with the same way, into a struct
 * load_state that nothing else sees until it is complete:
 *
 *  1. the configuration: built-in defaults, the file, the -o overrides,
 *     conf_check (messages "FILE:LINE: ...");
 *     a reload keeps the keys only a restart applies (conf_key_reload);
 *  2. the TLS context: certificate, key, chain, client CAs and CRL;
 *  3. the users file (a bad line drops that user), then every [host]
 *     section with its own TLS context and users (vhost.c);
 *  4. at start, priv_check (ftpsd -t also runs pf_check); at a reload,
 *     the transfer log, reopened (at start main.c opens it only after
 *     dropping root).
 *
 * load_swap() then puts the new state in the context and the old one in
 * the load_state, which load_free() releases.  A reload that fails swaps
 * nothing: the running state stays.
 */
#ifndef FTPS_LOAD_H
#define FTPS_LOAD_H

#include <stdio.h>

#include <openssl/ssl.h>

#include "conf.h"

struct ftpsd;
struct userdb;
struct vhost_set;

struct load_state {
	struct conf	 conf;
	SSL_CTX		*ssl_ctx;	/* NULL when tls = off */
	struct userdb	*users;		/* NULL: none loaded */
	int		 users_err;	/* auth_users_load()'s result */
	int		 users_bad;	/* the users file had complaints */
	int		 xferlog_fd;	/* -1: none (or not opened yet) */
	struct vhost_set *vhosts;	/* NULL: no [host] sections */
};

#define LOAD_TEST	0x01	/* ftpsd -t: carry on past a bad
				 * configuration; bad users lines and
				 * pf_check count as problems */
#define LOAD_RELOAD	0x02	/* SIGHUP: against the running state in
				 * ctx; stop at the first failed step */

/*
 * Builds a complete new state in ls (load_free it in any case) from
 * file (NULL: built-in defaults) and the n overrides ov ("key=value").
 * Configuration, TLS and privilege problems are printed to errf, the
 * users file's complaints to usersf.  Returns the number of problems: 0
 * when ls may be swapped in.
 */
int	 load_state(struct ftpsd *, const char *file, const char *const *ov,
	    int n, int flags, struct load_state *ls, FILE *errf,
	    FILE *usersf);
/* Swaps ls with what ctx runs on: ls then holds the old state. */
void	 load_swap(struct ftpsd *, struct load_state *ls);
/* Frees what ls holds and empties it; safe on an empty one. */
void	 load_free(struct load_state *ls);

#endif
