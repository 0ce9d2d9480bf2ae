#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "err.h"

void
buf_init(struct buf *b, size_t max)
{
	b->b_ptr = NULL;
	b->b_len = 0;
	b->b_cap = 0;
	b->b_max = max;
}

static int
buf_reserve(struct buf *b, size_t add)
{
	size_t	 need, ncap;
	char	*p;

	/* SECURITY: overflow-checked before any arithmetic is trusted. */
	if (add > b->b_max || b->b_len > b->b_max - add)
		return FTPS_ETOOBIG;
	need = b->b_len + add + 1;
	if (need <= b->b_cap)
		return 0;
	ncap = b->b_cap ? b->b_cap : 64;
	while (ncap < need)
		ncap = ncap > (b->b_max + 1) / 2 ? b->b_max + 1 : ncap * 2;
	if ((p = realloc(b->b_ptr, ncap)) == NULL)
		return FTPS_ENOMEM;
	b->b_ptr = p;
	b->b_cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *data, size_t len)
{
	int	 r;

	if ((r = buf_reserve(b, len)) != 0)
		return r;
	if (len > 0)
		memcpy(b->b_ptr + b->b_len, data, len);
	b->b_len += len;
	b->b_ptr[b->b_len] = '\0';
	return 0;
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 small[256];
	int	 n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return FTPS_EPARSE;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	if ((r = buf_reserve(b, (size_t)n)) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->b_ptr + b->b_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->b_len += (size_t)n;
	return 0;
}

const char *
buf_str(const struct buf *b)
{
	return b->b_ptr ? b->b_ptr : "";
}

size_t
buf_len(const struct buf *b)
{
	return b->b_len;
}

void
buf_reset(struct buf *b)
{
	b->b_len = 0;
	if (b->b_ptr)
		b->b_ptr[0] = '\0';
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len >= b->b_len)
		return;
	b->b_len = len;
	b->b_ptr[len] = '\0';
}

void
buf_free(struct buf *b)
{
	if (b->b_ptr) {
		OPENSSL_cleanse(b->b_ptr, b->b_cap);
		free(b->b_ptr);
	}
	buf_init(b, b->b_max);
}
