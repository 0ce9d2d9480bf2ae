/*
 * tests/unit/sesstest.h: a real session on a socketpair, for the unit
 * tests of the modules under the command table (datachan, transfer):
 * the control connection is the socketpair, data connections go over
 * 127.0.0.1, and the test plays the client on both, turning the one
 * event loop between its steps (the way libevent's test/regress_ssl.c
 * drives both ends of a TLS connection on one loop).
 */
#ifndef FTPS_SESSTEST_H
#define FTPS_SESSTEST_H

#include <openssl/ssl.h>

#include "ftpsd.h"
#include "session.h"

extern struct ftpsd	 st_ctx;
extern struct session	*st_s;
extern int		 st_peer;	/* the client's end of the control */
extern char		 st_root[64];	/* the user's home, a temp dir */

/*
 * Builds the context (configuration, loop, file pool, and with tls a
 * certificate in a temp certs folder loaded by tls_ctx_new()) and one
 * session from 127.0.0.1 on a socketpair, implicit TLS when tls.  Its
 * local address is 127.0.0.1, so PASV listens there.
 */
void		 st_up(int tls);
void		 st_down(void);
/* Turns the loop a few times without blocking. */
void		 st_turn(void);
/*
 * Turns the loop, waiting a few ms for fd (-1: none) between turns,
 * until done() is true; fails the test naming what after 10 s.
 */
void		 st_wait(int fd, int (*done)(void), const char *what);
/* The plain control connection's output since the last call. */
const char	*st_replies(void);
/*
 * Runs one command line and waits until a file system command is back
 * from the I/O pool (st_s->job): st_dispatch() says nothing, st_run()
 * returns its replies (plain control connection).
 */
void		 st_dispatch(const char *line);
const char	*st_run(const char *line);
/* As after a successful login, into st_root with perms (PERM_*). */
void		 st_login(unsigned perms);

/* A TCP connection to 127.0.0.1:port (non-blocking), or fails the test. */
int		 st_connect(unsigned port);
/*
 * A TLS client handshake on fd, offering sess (NULL: none), with the
 * loop turning in between; fails the test after 10 s.
 */
SSL		*st_tls_client(int fd, SSL_SESSION *sess);
/*
 * The implicit-TLS control connection's handshake and greeting (st_up(1)),
 * as a client that keeps its session: *ctrl is the client's SSL; returns
 * the session to offer on data connections.
 */
SSL_SESSION	*st_control_tls(SSL **ctrl);
/*
 * Reads from ssl (NULL: the plain fd) with the loop turning until want
 * appears in what came, EOF, or 10 s; returns what came (static).
 */
const char	*st_read_until(SSL *ssl, int fd, const char *want);
/*
 * Reads fd (ssl NULL: plain) to its end, the loop turning meanwhile;
 * the byte count.  With TLS the end must be a close_notify.
 */
size_t		 st_drain(SSL *ssl, int fd);

#endif
