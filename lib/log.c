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

char *
log_safe(char *dst, size_t dstsize, const char *src)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 o = 0;
	unsigned char		 c;

	if (dstsize == 0)
		return dst;
	for (; *src != '\0'; src++) {
		c = (unsigned char)*src;
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstsize)
				goto trunc;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstsize)
				goto trunc;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
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
