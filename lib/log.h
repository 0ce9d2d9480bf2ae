/*
 * Logging for both programs.  Lines are "key=value" words after a short
 * message; a value a client chose must pass log_quote() (or log_safe()
 * between quotes) first.  Passwords and key material are never given to
 * these functions.
 */
#ifndef FTPS_LOG_H
#define FTPS_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_dest { LOG_DEST_STDERR, LOG_DEST_SYSLOG };

/* ident is used for syslog and as the stderr prefix. */
void	 log_init(const char *ident, enum log_dest, enum log_level max);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* The same with ": strerror(errno)" (errno as on entry) appended. */
void	 log_msg_errno(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * The line's text (fmt, ap) and, when err is not -1, ": strerror(err)",
 * into buf (size n; cut when longer).  For wrappers that add a prefix.
 */
void	 log_vformat(char *buf, size_t n, int err, const char *fmt,
	    va_list ap) __attribute__((format(printf, 4, 0)));
/* 1 when lines of this level are written: callers skip costly formatting. */
int	 log_enabled(enum log_level);
/*
 * As in OpenSMTPD: log_warn appends strerror(errno), log_warnx does not;
 * info and debug lines never carry errno.  log_err never appends it
 * (log_msg_errno(LOG_LVL_ERR, ...) does).  A session's lines go through
 * sess_log()/sess_log_errno() (server/session.h), which add sess= and ip=.
 */
#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg_errno(LOG_LVL_WARN, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * Copies src into dst (size dstsize) with every byte outside printable
 * ASCII, and '\\' and '"', written as \xHH, truncating with "..." when it
 * does not fit.  Returns dst.  Use for any text a client chose that is
 * shown whole (a reply, a message): the result may sit between double
 * quotes in a log line without ending them.
 */
char	*log_safe(char *dst, size_t dstsize, const char *src);

/* A log line's text, cut when longer. */
#define LOG_LINE_MAX		2048
/* A quoted value in a log line: longer ones are cut (log lines are 2 KiB). */
#define LOG_VALUE_MAX		1024
/* 1 when s is a non-empty word of [A-Za-z0-9._@/+:,~-]: bare in a log. */
int	 log_is_word(const char *s);
/* Room log_quote() needs for a value of n bytes, quotes and NUL included. */
#define LOG_QUOTE_SIZE(n)	((n) * 4 + 3)
/*
 * src as one log field value in dst (size dstsize, at least 8): written
 * bare when it is a non-empty word of [A-Za-z0-9._@/+:,~-], else between
 * double quotes with log_safe()'s escapes (so no value can hold a blank,
 * '=', a quote or a line end outside quotes), truncated to "...\"" when
 * it does not fit.  Returns dst.  Every value a client chose goes
 * through it: user=%s with "alice result=ok" logs
 * user="alice result=ok", one field, never two.
 */
char	*log_quote(char *dst, size_t dstsize, const char *src);

#endif
