/*
 * xferlog(5) lines.  The format predates quoting, so every field must be
 * one blank-free word: the only free text, the file name, is escaped.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "ftps_limits.h"
#include "xferlog.h"

int
xlog_open(const char *path, int *fd)
{
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0640);
	return *fd == -1 ? FTPS_ESYS : 0;
}

/*
 * SECURITY: log injection: a file name holding a newline or blanks
 * would forge lines or shift the fields analyzers read.  Blanks become
 * '_', control bytes, DEL and '\' become \xHH; UTF-8 stays readable.
 */
static int
xlog_word(char *out, size_t len, const char *in)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p;
	size_t			 o = 0;

	if (*in == '\0')
		in = "-";
	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		if (o + 5 >= len)
			return FTPS_ETOOBIG;
		if (*p == ' ')
			out[o++] = '_';
		else if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
	return 0;
}

int
xlog_format(const struct xlog_rec *r, char *buf, size_t len)
{
	char		 when[64], path[FTPS_PATH_MAX * 4 + 8];
	char		 user[FTPS_USER_MAX * 4 + 8], host[128];
	struct tm	 tm;
	unsigned long	 secs;
	int		 n;

	if (localtime_r(&r->when, &tm) == NULL ||
	    strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		return FTPS_EPARSE;
	if (xlog_word(path, sizeof(path), r->path) != 0 ||
	    xlog_word(user, sizeof(user), r->user) != 0 ||
	    xlog_word(host, sizeof(host), r->host) != 0)
		return FTPS_ETOOBIG;
	/* Whole seconds, at least 1: analyzers divide by it. */
	secs = r->secs < 1.0 ? 1 : (unsigned long)(r->secs + 0.5);
	n = snprintf(buf, len, "%s %lu %s %llu %s %c _ %c %c %s ftp 0 * %c\n",
	    when, secs, host, r->bytes, path, r->ascii ? 'a' : 'b',
	    r->incoming ? 'i' : 'o', r->anonymous ? 'a' : 'r', user,
	    r->complete ? 'c' : 'i');
	if (n < 0 || (size_t)n >= len)
		return FTPS_ETOOBIG;
	return n;
}

int
xlog_write(int fd, const struct xlog_rec *r)
{
	char	 line[XLOG_LINE_MAX];
	ssize_t	 w;
	int	 n;

	if (fd == -1)
		return 0;
	if ((n = xlog_format(r, line, sizeof(line))) < 0)
		return n;
	do
		w = write(fd, line, (size_t)n);
	while (w == -1 && errno == EINTR);
	if (w == -1)
		return FTPS_ESYS;
	if (w != n) {
		errno = EIO;	/* a partial line: the disk is full */
		return FTPS_ESYS;
	}
	return 0;
}
