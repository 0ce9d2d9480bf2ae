/*
 * A byte string that never grows past the limit given to buf_init().
 * Always NUL-terminated for logging; b_len is authoritative.
 * Use the functions, not the fields.
 */
#ifndef FTPS_BUF_H
#define FTPS_BUF_H

#include <stddef.h>

struct buf {
	char	*b_ptr;		/* owned */
	size_t	 b_len;		/* used, excluding the NUL */
	size_t	 b_cap;		/* allocated */
	size_t	 b_max;		/* hard limit, excluding the NUL */
};

/* No allocation happens until the first add. */
void		 buf_init(struct buf *, size_t max);
/* 0, FTPS_ETOOBIG (nothing added) or FTPS_ENOMEM. */
int		 buf_add(struct buf *, const void *, size_t);
int		 buf_addf(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* Never NULL: "" for an empty buffer. */
const char	*buf_str(const struct buf *);
size_t		 buf_len(const struct buf *);
void		 buf_reset(struct buf *);
/* Cuts the contents back to len bytes (no-op when not longer). */
void		 buf_truncate(struct buf *, size_t len);
/* Overwrites the contents with zeros before freeing (passwords). */
void		 buf_free(struct buf *);

#endif
