/*
 * Session-ticket keys that rotate (server/tlskeys.c).
 *
 * OpenSSL seals every session ticket with one random key made when the
 * SSL_CTX is made and kept for the life of the process: whoever reads
 * that key from a server that has run for months can decrypt every
 * session resumed with a ticket since (no forward secrecy).  Here a new
 * key seals tickets every TK_ROTATE seconds and each key is wiped once
 * the last ticket it sealed has expired (TK_ROTATE + the ticket
 * lifetime, FTPS_TICKET_LIFETIME).  Tickets are AES-256-CBC plus
 * HMAC-SHA256 over the whole, as OpenSSL's own are.
 */
#ifndef FTPS_TLSKEYS_H
#define FTPS_TLSKEYS_H

#include <time.h>

#include <openssl/ssl.h>

#define TK_ROTATE	(12 * 3600)	/* a new sealing key twice a day */
#define TK_KEYS		3	/* sealing key + two that still open */

/* Installs the ticket key callback and a first key; 0 or FTPS_ETLS. */
int	 tk_install(SSL_CTX *);
/*
 * Rotates as of now (CLOCK_MONOTONIC seconds): a new sealing key when
 * the current one is TK_ROTATE old, and keys past their use wiped.  The
 * callback calls it with the clock; tests call it with a later time.
 * 0 or FTPS_ETLS.
 */
int	 tk_rotate(SSL_CTX *, time_t now);
/* Keys held right now (tests). */
int	 tk_count(SSL_CTX *);

#endif
