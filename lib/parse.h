/* Strict parsers for untrusted text.  No sscanf, atoi or strcpy anywhere. */
#ifndef FTPS_PARSE_H
#define FTPS_PARSE_H

#include <stddef.h>

/* Whole string, digits only, min <= value <= max; 0 or FTPS_EPARSE. */
int		 parse_uint(const char *, unsigned long min,
		    unsigned long max, unsigned long *out);
/* "on/yes/true/1" or "off/no/false/0"; 0 or FTPS_EPARSE. */
int		 parse_bool(const char *, int *out);
/*
 * Copies at most dstsize-1 bytes and NUL-terminates; returns
 * FTPS_ETOOBIG (dst left empty) rather than truncating.
 */
int		 str_copy(char *dst, size_t dstsize, const char *src);
/* Trims ASCII blanks in place at both ends; returns the new start. */
char		*str_trim(char *);
/*
 * 1 when s is a user name the users file accepts (and a client
 * certificate's CN can log in as): PARSE_USER_RULE.
 */
int		 parse_user_name(const char *s);
#define PARSE_USER_RULE	"1 to 64 of A-Z a-z 0-9 . _ @ -, not starting with " \
	"'.' or '-'"
/*
 * "ADDR:PORT" or "[ADDR6]:PORT" with a numeric address and a port of
 * 1..65535 into ss (len: the address's size).  0 or FTPS_EPARSE.
 */
struct sockaddr_storage;
int		 parse_addrport(const char *, struct sockaddr_storage *ss,
		    unsigned *len);
/* ASCII case-insensitive equality. */
int		 str_ieq(const char *, const char *);

#endif
