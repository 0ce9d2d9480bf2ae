/*
 * Logging for both programs.  Lines are "key=value" words after a short
 * message; client-supplied text must pass log_safe() first.  Passwords
 * and key material are never given to these functions.
 */
#ifndef FTPS_LOG_H
#define FTPS_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_dest { LOG_DEST_STDERR, LOG_DEST_SYSLOG };

/* ident is used for syslog and as the stderr prefix. */
void	 log_init(const char *ident, enum log_dest, enum log_level max);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* 1 when lines of this level are written: callers skip costly formatting. */
int	 log_enabled(enum log_level);
#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_infox(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debugx(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * Copies src into dst (size dstsize) with every byte outside printable
 * ASCII written as \xHH, truncating with "..." when it does not fit.
 * Returns dst.  Use for any text a client chose.
 */
char	*log_safe(char *dst, size_t dstsize, const char *src);

#endif
