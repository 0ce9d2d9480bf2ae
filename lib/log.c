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
log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const int	 prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
				    LOG_DEBUG };
	static const char	*name[] = { "error", "warning", "info",
				    "debug" };
	char			 line[2048], when[32];
	struct timespec		 ts;
	struct tm		 tm;
	va_list			 ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
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

/* Appends c to dst as itself or as \xHH; 0, or -1 when room < need. */
static int
log_put(char *dst, size_t room, size_t *o, unsigned char c)
{
	static const char	 hex[] = "0123456789abcdef";

	if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
		if (*o + 1 >= room)
			return -1;
		dst[(*o)++] = (char)c;
		return 0;
	}
	if (*o + 4 >= room)
		return -1;
	dst[(*o)++] = '\\';
	dst[(*o)++] = 'x';
	dst[(*o)++] = hex[c >> 4];
	dst[(*o)++] = hex[c & 15];
	return 0;
}

char *
log_safe(char *dst, size_t dstsize, const char *src)
{
	size_t	 o = 0;

	if (dstsize == 0)
		return dst;
	for (; *src != '\0'; src++)
		if (log_put(dst, dstsize, &o, (unsigned char)*src) != 0)
			goto trunc;
	dst[o] = '\0';
	return dst;
 trunc:
	if (dstsize >= 4) {
		o = o < dstsize - 4 ? o : dstsize - 4;
		memcpy(dst + o, "...", 4);
	} else
		dst[0] = '\0';
	return dst;
}

static int
log_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("._@/+:,~-", c) != NULL;
}

char *
log_quote(char *dst, size_t dstsize, const char *src)
{
	const unsigned char	*p;
	size_t			 o = 0;

	if (dstsize < 8) {
		if (dstsize > 0)
			dst[0] = '\0';
		return dst;
	}
	for (p = (const unsigned char *)src; *p != '\0' && log_word_char(*p);
	    p++)
		;
	if (*p == '\0' && p != (const unsigned char *)src &&
	    (size_t)(p - (const unsigned char *)src) < dstsize) {
		memcpy(dst, src, (size_t)(p - (const unsigned char *)src) + 1);
		return dst;
	}
	dst[o++] = '"';
	/* Room for the closing quote and the NUL stays free. */
	for (p = (const unsigned char *)src; *p != '\0'; p++)
		if (log_put(dst, dstsize - 1, &o, *p) != 0) {
			o = o < dstsize - 5 ? o : dstsize - 5;
			memcpy(dst + o, "...\"", 5);
			return dst;
		}
	dst[o++] = '"';
	dst[o] = '\0';
	return dst;
}
