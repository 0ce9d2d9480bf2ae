#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addrkey.h"
#include "err.h"
#include "ftps_limits.h"
#include "parse.h"

int
parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long	 v = 0;
	const char	*p;

	*out = 0;
	if (s == NULL || *s == '\0')
		return FTPS_EPARSE;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return FTPS_EPARSE;
		/* SECURITY: refuse before v * 10 + d could wrap. */
		if (v > (ULONG_MAX - (unsigned long)(*p - '0')) / 10)
			return FTPS_EPARSE;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return FTPS_EPARSE;
	}
	if (v < min)
		return FTPS_EPARSE;
	*out = v;
	return 0;
}

int
parse_bool(const char *s, int *out)
{
	*out = 0;
	if (str_ieq(s, "on") || str_ieq(s, "yes") || str_ieq(s, "true") ||
	    strcmp(s, "1") == 0) {
		*out = 1;
		return 0;
	}
	if (str_ieq(s, "off") || str_ieq(s, "no") || str_ieq(s, "false") ||
	    strcmp(s, "0") == 0)
		return 0;
	return FTPS_EPARSE;
}

int
str_copy(char *dst, size_t dstsize, const char *src)
{
	size_t	 n = strlen(src);

	if (dstsize == 0)
		return FTPS_ETOOBIG;
	if (n >= dstsize) {
		dst[0] = '\0';
		return FTPS_ETOOBIG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

char *
str_trim(char *s)
{
	size_t	 n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

int
str_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int
parse_user_name(const char *s)
{
	size_t	 n;

	if (s[0] == '-' || s[0] == '.')
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= FTPS_USER_MAX)
			return 0;
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') ||
		    s[n] == '.' || s[n] == '_' || s[n] == '@' || s[n] == '-'))
			return 0;
	}
	return n > 0;
}

int
parse_addrport(const char *s, struct sockaddr_storage *ss, unsigned *len)
{
	char		 host[INET6_ADDRSTRLEN + 1];
	const char	*colon, *h = s;
	unsigned long	 port;
	socklen_t	 sl;
	size_t		 hl;

	memset(ss, 0, sizeof(*ss));
	*len = 0;
	if ((colon = strrchr(s, ':')) == NULL)
		return FTPS_EPARSE;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 2 || s[hl - 1] != ']')
			return FTPS_EPARSE;
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host) ||
	    parse_uint(colon + 1, 1, 65535, &port) != 0)
		return FTPS_EPARSE;
	memcpy(host, h, hl);
	host[hl] = '\0';
	/* IPv6 in brackets (RFC 3986), IPv4 without. */
	if (addr_parse(host, (unsigned)port, ss, &sl) != 0 ||
	    (ss->ss_family == AF_INET6) != (s[0] == '[')) {
		memset(ss, 0, sizeof(*ss));
		return FTPS_EPARSE;
	}
	*len = (unsigned)sl;
	return 0;
}
