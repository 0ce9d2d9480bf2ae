/*
 * The raw I/O of a data connection once a transfer drives it itself
 * (transfer.c): non-blocking reads and writes on the socket, or with
 * PROT P on its SSL, and for large PROT P downloads a gathering write BIO
 * that lets one send() carry several TLS records.  Transfer policy (what
 * to send, when to stop, the replies) stays in transfer.c.
 */
#ifndef FTPS_XFERIO_H
#define FTPS_XFERIO_H

#include <stddef.h>

#include <openssl/ssl.h>

/* What one non-blocking read or write on the data connection did. */
enum xio_res {
	XIO_OK,		/* moved > 0 bytes */
	XIO_WANT_READ,	/* retry when the socket is readable */
	XIO_WANT_WRITE,	/* retry when the socket is writable */
	XIO_EOF,	/* clean end: FIN (PROT C) or close_notify (PROT P) */
	XIO_ERR,	/* reset, TLS error, or TLS EOF without close_notify */
};

struct xio {
	int		 sock;		/* the data socket */
	SSL		*ssl;		/* PROT P, or NULL */
	BIO_METHOD	*gmeth;		/* gather: see xio_gather() */
	BIO		*gbio;		/* SSL's write BIO meanwhile */
	BIO		*sockbio;	/* the socket BIO, put back */
	char		*gbuf;		/* records not yet sent */
	size_t		 glen, goff;
	char		 why[160];	/* last TLS error */
};

/* sock, and ssl (NULL: PROT C) on top of it; nothing is allocated. */
void		 xio_init(struct xio *, int sock, SSL *ssl);
/* One non-blocking read of at most n bytes into p; *got what came. */
enum xio_res	 xio_read(struct xio *, char *p, size_t n, size_t *got);
/*
 * One non-blocking write of p (n > 0); *put what went.  With PROT P the
 * SSL must not be in partial-write mode: one SSL_write sends the whole
 * buffer as consecutive records, and a retry after WANT_WRITE passes the
 * same buffer again.  While gathering, WANT_WRITE means the gather
 * buffer is full: xio_flush() it.
 */
enum xio_res	 xio_write(struct xio *, const char *p, size_t n,
		    size_t *put);
/*
 * PROT P downloads: SSL's records collect in a 2 x FTPS_XFER_CHUNK
 * buffer that xio_flush() sends.  0, FTPS_ENOMEM or FTPS_ETLS (then the
 * caller gives up; xio_stop() still cleans up).
 */
int		 xio_gather(struct xio *);
/* Whether xio_gather() is in effect. */
int		 xio_gathering(const struct xio *);
/* Sends what SSL gathered: XIO_OK (all gone), XIO_WANT_WRITE or XIO_ERR. */
enum xio_res	 xio_flush(struct xio *);
/*
 * Downloads: full segments only (several TLS records in one) while the
 * file streams; uncorked at the end so the last bytes leave at once.
 */
void		 xio_cork(struct xio *, int on);
/* Why the last TLS call failed, for the log. */
const char	*xio_tls_why(const struct xio *);
/*
 * Ends gathering: the socket BIO is SSL's write BIO again (close_notify
 * goes to the socket) and the gather buffer is freed.  Idempotent.
 */
void		 xio_stop(struct xio *);

#endif
