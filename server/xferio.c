/*
 * A data connection's raw I/O (xferio.h): recv/send or SSL_read/SSL_write
 * without blocking, and the gathering write BIO of PROT P downloads.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "err.h"
#include "ftps_limits.h"
#include "xferio.h"

void
xio_init(struct xio *x, int sock, SSL *ssl)
{
	memset(x, 0, sizeof(*x));
	x->sock = sock;
	x->ssl = ssl;
}

const char *
xio_tls_why(const struct xio *x)
{
	return x->why[0] != '\0' ? x->why : "connection reset or closed";
}

static enum xio_res
xio_ssl_result(struct xio *x, int r)
{
	unsigned long	 e;

	switch (SSL_get_error(x->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return XIO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return XIO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return XIO_EOF;
	default:
		if ((e = ERR_peek_last_error()) != 0)
			ERR_error_string_n(e, x->why, sizeof(x->why));
		ERR_clear_error();
		return XIO_ERR;
	}
}

/* One non-blocking read of at most n bytes into p; *got what came. */
enum xio_res
xio_read(struct xio *x, char *p, size_t n, size_t *got)
{
	ssize_t	 r;
	int	 e;

	*got = 0;
	if (n > INT_MAX)
		n = INT_MAX;
	if (x->ssl == NULL) {
		do
			r = recv(x->sock, p, n, 0);
		while (r == -1 && errno == EINTR);
		if (r > 0) {
			*got = (size_t)r;
			return XIO_OK;
		}
		if (r == 0)
			return XIO_EOF;
		return errno == EAGAIN || errno == EWOULDBLOCK ?
		    XIO_WANT_READ : XIO_ERR;
	}
	ERR_clear_error();
	if ((e = SSL_read(x->ssl, p, (int)n)) > 0) {
		*got = (size_t)e;
		return XIO_OK;
	}
	return xio_ssl_result(x, e);
}

/*
 * One non-blocking write of p (n > 0); *put what went.  With PROT P the
 * SSL is not in partial-write mode: one SSL_write sends the whole buffer
 * as consecutive records, and a retry after WANT_WRITE passes the same
 * buffer again (the caller moves on only on success).
 */
enum xio_res
xio_write(struct xio *x, const char *p, size_t n, size_t *put)
{
	ssize_t	 r;
	int	 e;

	*put = 0;
	if (n > INT_MAX)
		n = INT_MAX;
	if (x->ssl == NULL) {
		do
			r = send(x->sock, p, n, MSG_NOSIGNAL);
		while (r == -1 && errno == EINTR);
		if (r > 0) {
			*put = (size_t)r;
			return XIO_OK;
		}
		return r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) ?
		    XIO_WANT_WRITE : XIO_ERR;
	}
	ERR_clear_error();
	if ((e = SSL_write(x->ssl, p, (int)n)) > 0) {
		*put = (size_t)e;
		return XIO_OK;
	}
	return xio_ssl_result(x, e);
}

/*
 * A PROT P download: SSL writes its records into x->gbuf through this
 * BIO, and one send() (xio_flush) carries up to 2 x FTPS_XFER_CHUNK of
 * them, instead of one send() per 16 KiB record.  Full: retry, which
 * SSL_write reports as WANT_WRITE.
 */
static int
xio_gather_write(BIO *b, const char *p, size_t n, size_t *put)
{
	struct xio	*x = BIO_get_data(b);

	*put = 0;
	BIO_clear_retry_flags(b);
	if (n > 2 * FTPS_XFER_CHUNK)
		return 0;
	if (n > 2 * FTPS_XFER_CHUNK - x->glen) {
		BIO_set_retry_write(b);
		return 0;
	}
	memcpy(x->gbuf + x->glen, p, n);
	x->glen += n;
	*put = n;
	return 1;
}

static long
xio_gather_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct xio	*x = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;	/* xio_flush() sends, in its own time */
	case BIO_CTRL_WPENDING:
		return (long)(x->glen - x->goff);
	default:
		return 0;
	}
}

int
xio_gather(struct xio *x)
{
	BIO	*b;

	if ((x->gbuf = malloc(2 * FTPS_XFER_CHUNK)) == NULL ||
	    (x->gmeth = BIO_meth_new(BIO_get_new_index() |
	    BIO_TYPE_SOURCE_SINK, "ftpsd gather")) == NULL ||
	    BIO_meth_set_write_ex(x->gmeth, xio_gather_write) != 1 ||
	    BIO_meth_set_ctrl(x->gmeth, xio_gather_ctrl) != 1 ||
	    (b = BIO_new(x->gmeth)) == NULL)
		return FTPS_ENOMEM;
	BIO_set_data(b, x);
	BIO_set_init(b, 1);
	x->sockbio = SSL_get_wbio(x->ssl);
	if (x->sockbio == NULL || BIO_up_ref(x->sockbio) != 1) {
		x->sockbio = NULL;
		BIO_free(b);
		return FTPS_ETLS;
	}
	SSL_set0_wbio(x->ssl, b);
	x->gbio = b;
	return 0;
}

enum xio_res
xio_flush(struct xio *x)
{
	ssize_t	 r;

	while (x->goff < x->glen) {
		r = send(x->sock, x->gbuf + x->goff, x->glen - x->goff,
		    MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    XIO_WANT_WRITE : XIO_ERR;
		x->goff += (size_t)r;
	}
	x->glen = x->goff = 0;
	return XIO_OK;
}

void
xio_cork(struct xio *x, int on)
{
	(void)setsockopt(x->sock, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

int
xio_gathering(const struct xio *x)
{
	return x->gbio != NULL;
}

void
xio_stop(struct xio *x)
{
	if (x->gbio != NULL) {
		/* Frees gbio; close_notify goes to the socket again. */
		SSL_set0_wbio(x->ssl, x->sockbio);
		x->gbio = NULL;
		x->sockbio = NULL;
	}
	if (x->gmeth != NULL) {
		BIO_meth_free(x->gmeth);
		x->gmeth = NULL;
	}
	free(x->gbuf);
	x->gbuf = NULL;
	x->glen = x->goff = 0;
}
