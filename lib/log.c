#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

/*
 * The only process-wide state of the libraries: where log lines go.  It is
 * written once at start (and on reload) before any worker runs.
 */
static const char	*log_ident = "ftpsd";
static enum log_dest	 log_dest = LOG_DEST_STDERR;
static enum log_level	 log_max = LOG_LVL_INFO;

void
log_init(const char *ident, enum log_dest dest, enum log_level max)
{
	log_ident = ident;
	log_dest = dest;
	log_max = max;
	if (dest == LOG_DEST_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_enabled(enum log_level lvl)
{
	return lvl <= log_max;
}

void
log_vformat(char *buf, size_t n, int err, const char *fmt, va_list ap)
{
	int	 len;

	len = vsnprintf(buf, n, fmt, ap);
	if (err != -1 && len >= 0 && (size_t)len < n)
		snprintf(buf + len, n - (size_t)len, ": %s", strerror(err));
}

/* Writes one finished line at lvl. */
static void
log_line(enum log_level lvl, const char *line)
{
	static const int	 prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
				    LOG_DEBUG };
	static const char	*name[] = { "error", "warning", "info",
				    "debug" };
	char			 when[32];
	struct timespec		 ts;
	struct tm		 tm;

	if (log_dest == LOG_DEST_SYSLOG) {
		syslog(prio[lvl], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", when, ts.tv_nsec / 1000000,
	    log_ident, name[lvl], line);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char	 line[LOG_LINE_MAX];
	va_list	 ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	log_vformat(line, sizeof(line), -1, fmt, ap);
	va_end(ap);
	log_line(lvl, line);
}

void
log_msg_errno(enum log_level lvl, const char *fmt, ...)
{
	char	 line[LOG_LINE_MAX];
	va_list	 ap;
	int	 err = errno;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	log_vformat(line, sizeof(line), err, fmt, ap);
	va_end(ap);
	log_line(lvl, line);
	errno = err;
}

/* c as itself, or as \xHH (4 bytes). */
static int
log_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
}

/* The length of src escaped. */
static size_t
log_escaped_len(const char *src)
{
	size_t	 n = 0;

	for (; *src != '\0'; src++)
		n += log_plain((unsigned char)*src) ? 1 : 4;
	return n;
}

/*
 * Escapes src into dst from *o on while it fits below room (whole
 * escapes only); 0 when all of src was written, else -1.
 */
static int
log_escape(char *dst, size_t room, size_t *o, const char *src)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 c;

	for (; *src != '\0'; src++) {
		c = (unsigned char)*src;
		if (log_plain(c)) {
			if (*o + 1 >= room)
				return -1;
			dst[(*o)++] = (char)c;
			continue;
		}
		if (*o + 4 >= room)
			return -1;
		dst[(*o)++] = '\\';
		dst[(*o)++] = 'x';
		dst[(*o)++] = hex[c >> 4];
		dst[(*o)++] = hex[c & 15];
	}
	return 0;
}

char *
log_safe(char *dst, size_t dstsize, const char *src)
{
	size_t	 o = 0;

	if (dstsize == 0)
		return dst;
	if (log_escaped_len(src) < dstsize) {
		(void)log_escape(dst, dstsize, &o, src);
		dst[o] = '\0';
	} else if (dstsize >= 4) {
		/* Cut between escapes, "..." and the NUL after. */
		(void)log_escape(dst, dstsize - 3, &o, src);
		memcpy(dst + o, "...", 4);
	} else
		dst[0] = '\0';
	return dst;
}

static int
log_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("._@/+:,~-",
	    c) != NULL);
}

int
log_is_word(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0' && log_word_char((unsigned char)*p); p++)
		;
	return *p == '\0' && p != s;
}

char *
log_quote(char *dst, size_t dstsize, const char *src)
{
	size_t	 n, o = 0;

	if (dstsize < 8) {
		if (dstsize > 0)
			dst[0] = '\0';
		return dst;
	}
	if (log_is_word(src) && (n = strlen(src)) < dstsize) {
		memcpy(dst, src, n + 1);
		return dst;
	}
	dst[o++] = '"';
	if (log_escaped_len(src) + 3 <= dstsize) {
		(void)log_escape(dst, dstsize, &o, src);
		dst[o++] = '"';
		dst[o] = '\0';
	} else {
		/* Cut between escapes; '..."' and the NUL after. */
		(void)log_escape(dst, dstsize - 4, &o, src);
		memcpy(dst + o, "...\"", 5);
	}
	return dst;
}
