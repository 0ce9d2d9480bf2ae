/*
 * ftpsd.conf parser.  One row per key, generated from CONF_KEYS in
 * conf.h, says how its value is parsed, where it is stored, what range it
 * may take and its default; conf_check() then looks at the keys together.
 * No state lives outside struct conf, so the daemon can hold the running
 * configuration and a reloaded one at once.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "conf.h"
#include "conf_int.h"
#include "err.h"
#include "log.h"
#include "parse.h"

#ifndef FTPS_CERTSDIR
#error "FTPS_CERTSDIR must come from AM_CPPFLAGS"
#endif
#ifndef FTPS_SYSCONFDIR
#error "FTPS_SYSCONFDIR must come from AM_CPPFLAGS"
#endif

#define CONF_SUGGEST_MAX 64	/* longest unknown key we look for a match */

struct conf_word {
	const char	*w_name;
	int		 w_val;
};

/* How a value is stored: conf_free frees strings and address lists. */
enum conf_store {
	CS_NUM,		/* a number or an enum */
	CS_STR,		/* an owned string */
	CS_LIST,	/* owned strings (listen_addresses) */
	CS_INLINE	/* a fixed array inside struct conf (proxy_trusted) */
};

struct conf_key {
	const char		*k_name;
	int			(*k_set)(struct conf *, const struct conf_key *,
				    const char *, const struct conf_src *,
				    FILE *);
	const struct conf_word	*k_words;	/* enums, NULL-terminated */
	enum conf_store		 k_store;
	size_t			 k_off;		/* of the field in conf */
	unsigned long		 k_min, k_max;	/* numbers */
	const char		*k_def;		/* as ftpsd.conf spells it */
	int			 k_flags;	/* CONF_F_* */
	enum conf_reload	 k_reload;
};

/* Indices into keys[]; conf_check names keys through them. */
#define CONF_ID_(id, name, field, type, min, max, def, flags, reload) id,
enum {
	CONF_KEYS(CONF_ID_)
	K_COUNT
};

static int	set_uint(struct conf *, const struct conf_key *, const char *,
		    const struct conf_src *, FILE *);
static int	set_umask(struct conf *, const struct conf_key *,
		    const char *, const struct conf_src *, FILE *);
static int	set_bool(struct conf *, const struct conf_key *, const char *,
		    const struct conf_src *, FILE *);
static int	set_enum(struct conf *, const struct conf_key *, const char *,
		    const struct conf_src *, FILE *);
static int	set_path(struct conf *, const struct conf_key *, const char *,
		    const struct conf_src *, FILE *);
static int	set_name(struct conf *, const struct conf_key *, const char *,
		    const struct conf_src *, FILE *);
static int	set_ipv4(struct conf *, const struct conf_key *, const char *,
		    const struct conf_src *, FILE *);
static int	set_listen(struct conf *, const struct conf_key *,
		    const char *, const struct conf_src *, FILE *);
static int	set_user(struct conf *, const struct conf_key *, const char *,
		    const struct conf_src *, FILE *);
static int	set_workers(struct conf *, const struct conf_key *,
		    const char *, const struct conf_src *, FILE *);
static int	set_cidrs(struct conf *, const struct conf_key *,
		    const char *, const struct conf_src *, FILE *);
static int	set_addrport(struct conf *, const struct conf_key *,
		    const char *, const struct conf_src *, FILE *);

static const struct conf_word tls_words[] = {
	{ "required", CONF_TLS_REQUIRED },
	{ "optional", CONF_TLS_OPTIONAL },
	{ "off", CONF_TLS_OFF },
	{ NULL, 0 }
};
/* Clear data is "optional"; an "off" that forbade PROT P makes no sense. */
static const struct conf_word data_tls_words[] = {
	{ "required", CONF_TLS_REQUIRED },
	{ "optional", CONF_TLS_OPTIONAL },
	{ NULL, 0 }
};
static const struct conf_word reuse_words[] = {
	{ "required", CONF_REUSE_REQUIRED },
	{ "optional", CONF_REUSE_OPTIONAL },
	{ "off", CONF_REUSE_OFF },
	{ NULL, 0 }
};
static const struct conf_word prot_words[] = {
	{ "C", CONF_PROT_C },
	{ "P", CONF_PROT_P },
	{ NULL, 0 }
};
static const struct conf_word log_words[] = {
	{ "auto", CONF_LOG_AUTO },
	{ "stderr", CONF_LOG_STDERR },
	{ "syslog", CONF_LOG_SYSLOG },
	{ NULL, 0 }
};

static const struct conf_word proxy_words[] = {
	{ "off", CONF_PROXY_OFF },
	{ "v1", CONF_PROXY_V1 },
	{ "v2", CONF_PROXY_V2 },
	{ "any", CONF_PROXY_ANY },
	{ NULL, 0 }
};
static const struct conf_word pdata_words[] = {
	{ "header", CONF_PDATA_HEADER },
	{ "trust", CONF_PDATA_TRUST },
	{ NULL, 0 }
};

/* Each type of CONF_KEYS: its parser, its words, how it is stored. */
#define CONF_T_uint	set_uint, NULL, CS_NUM
#define CONF_T_umask	set_umask, NULL, CS_NUM
#define CONF_T_workers	set_workers, NULL, CS_NUM
#define CONF_T_bool	set_bool, NULL, CS_NUM
#define CONF_T_path	set_path, NULL, CS_STR
#define CONF_T_name	set_name, NULL, CS_STR
#define CONF_T_user	set_user, NULL, CS_STR
#define CONF_T_ipv4	set_ipv4, NULL, CS_STR
#define CONF_T_addrport	set_addrport, NULL, CS_STR
#define CONF_T_listen	set_listen, NULL, CS_LIST
#define CONF_T_tls	set_enum, tls_words, CS_NUM
#define CONF_T_data_tls	set_enum, data_tls_words, CS_NUM
#define CONF_T_reuse	set_enum, reuse_words, CS_NUM
#define CONF_T_prot	set_enum, prot_words, CS_NUM
#define CONF_T_log	set_enum, log_words, CS_NUM
#define CONF_T_proxy	set_enum, proxy_words, CS_NUM
#define CONF_T_pdata	set_enum, pdata_words, CS_NUM
#define CONF_T_cidrs	set_cidrs, NULL, CS_INLINE

#define CONF_ROW_(id, name, field, type, min, max, def, flags, reload) \
	[id] = { name, CONF_T_##type, offsetof(struct conf, field),	\
	    min, max, def, flags, reload },

static const struct conf_key keys[] = {
	CONF_KEYS(CONF_ROW_)
};

_Static_assert(sizeof(keys) / sizeof(keys[0]) == K_COUNT,
    "every key index has a row");
_Static_assert(K_COUNT == CONF_NKEYS, "CONF_NKEYS matches the table");
/* set_enum stores through an int *. */
_Static_assert(sizeof(enum conf_tls) == sizeof(int) &&
    sizeof(enum conf_reuse) == sizeof(int) &&
    sizeof(enum conf_prot) == sizeof(int) &&
    sizeof(enum conf_log) == sizeof(int) &&
    sizeof(enum conf_proxy) == sizeof(int) &&
    sizeof(enum conf_pdata) == sizeof(int), "enums are int-sized");

#define FIELD(c, k, type)	((type *)(void *)((char *)(c) + (k)->k_off))
#define CFIELD(c, k, type)	\
	((const type *)(const void *)((const char *)(c) + (k)->k_off))

void
conf_err(FILE *errf, const char *file, unsigned line, const char *fmt, ...)
{
	va_list	 ap;

	if (errf == NULL)
		return;
	if (file == NULL)
		file = "configuration";
	if (line == 0 || line == CONF_LINE_ARG)
		fprintf(errf, "%s: ", file);
	else
		fprintf(errf, "%s:%u: ", file, line);
	va_start(ap, fmt);
	vfprintf(errf, fmt, ap);
	va_end(ap);
	fputc('\n', errf);
}

/* A value as it may appear in a message: bounded, control bytes escaped. */
static const char *
show(char *dst, size_t len, const char *s)
{
	return log_safe(dst, len, s);
}

const char *
conf_show(char *dst, size_t len, const char *s)
{
	return show(dst, len, s);
}

/* Levenshtein distance, ASCII case folded; SIZE_MAX for long strings. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, d, sub;
	size_t	 prev[CONF_SUGGEST_MAX + 1], cur[CONF_SUGGEST_MAX + 1];
	int	 ca, cb;

	if (la > CONF_SUGGEST_MAX || lb > CONF_SUGGEST_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		ca = (unsigned char)a[i - 1];
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		for (j = 1; j <= lb; j++) {
			cb = (unsigned char)b[j - 1];
			sub = prev[j - 1] + (ca != cb);
			d = prev[j] + 1 < cur[j - 1] + 1 ? prev[j] + 1 :
			    cur[j - 1] + 1;
			cur[j] = d < sub ? d : sub;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

/*
 * The known key an unknown one most likely meant, or NULL:
 * 1. the nearest by edit distance, if within a typo's reach: one edit,
 *    or one per four characters for long keys ("foo" is not "log");
 * 2. else the only key that contains it ("umask" -> "file_umask"), or
 *    of several, the only one that starts with it ("listen" ->
 *    "listen_addresses", not "metrics_listen").
 */
static const char *
conf_suggest(const char *key)
{
	const char	*best = NULL, *sub = NULL, *pre = NULL;
	size_t		 i, d, bestd = SIZE_MAX, len = strlen(key), nsub = 0;
	size_t		 npre = 0;

	for (i = 0; i < K_COUNT; i++) {
		d = edit_distance(key, keys[i].k_name);
		if (d < bestd) {
			bestd = d;
			best = keys[i].k_name;
		}
		if (len >= 4 && strstr(keys[i].k_name, key) != NULL) {
			sub = keys[i].k_name;
			nsub++;
		}
		if (len >= 4 && strncmp(keys[i].k_name, key, len) == 0) {
			pre = keys[i].k_name;
			npre++;
		}
	}
	if (bestd <= 1 || (bestd != SIZE_MAX && bestd <= len / 4))
		return best;
	if (nsub == 1)
		return sub;
	return npre == 1 ? pre : NULL;
}

int
conf_find(const char *key)
{
	return conf_key_find(key, strlen(key));
}

int
conf_key_find(const char *name, size_t len)
{
	int	 i;

	for (i = 0; i < K_COUNT; i++)
		if (strlen(keys[i].k_name) == len &&
		    strncmp(keys[i].k_name, name, len) == 0)
			return i;
	return -1;
}

const char *
conf_key_name(size_t i)
{
	return i < K_COUNT ? keys[i].k_name : NULL;
}

enum conf_reload
conf_key_reload(size_t i)
{
	return i < K_COUNT ? keys[i].k_reload : CONF_RELOAD;
}

int
conf_value(const struct conf *c, size_t i, char *buf, size_t len)
{
	const struct conf_key	*k;
	const struct conf_word	*w;
	const char		*str = NULL;
	size_t			 off = 0;
	int			 j, n = 0;

	if (len == 0)
		return FTPS_ETOOBIG;
	buf[0] = '\0';
	if (i >= K_COUNT)
		return FTPS_EPARSE;
	k = &keys[i];
	if (k->k_set == set_listen) {
		for (j = 0; j < c->nlisten; j++) {
			n = snprintf(buf + off, len - off, "%s%s",
			    j == 0 ? "" : ", ", c->listen[j]);
			if (n < 0 || (size_t)n >= len - off) {
				buf[0] = '\0';
				return FTPS_ETOOBIG;
			}
			off += (size_t)n;
		}
		return 0;
	} else if (k->k_set == set_cidrs) {
		for (j = 0; j < c->nproxy_trusted; j++) {
			if (off + 2 >= len)
				goto toobig;
			if (j > 0) {
				memcpy(buf + off, ", ", 3);
				off += 2;
			}
			if (cidr_format(&c->proxy_trusted[j], buf + off,
			    len - off) != 0)
				goto toobig;
			off += strlen(buf + off);
		}
		return 0;
	} else if (k->k_set == set_uint)
		n = snprintf(buf, len, "%u", *CFIELD(c, k, unsigned));
	else if (k->k_set == set_workers) {
		if (*CFIELD(c, k, unsigned) == CONF_WORKERS_AUTO)
			n = snprintf(buf, len, "auto");
		else
			n = snprintf(buf, len, "%u", *CFIELD(c, k, unsigned));
	}
	else if (k->k_set == set_umask)
		n = snprintf(buf, len, "%03o", *CFIELD(c, k, unsigned));
	else if (k->k_set == set_bool)
		n = snprintf(buf, len, "%s", *CFIELD(c, k, int) ? "on" : "off");
	else if (k->k_set == set_enum) {
		for (w = k->k_words; w->w_name != NULL; w++)
			if (w->w_val == *CFIELD(c, k, int))
				str = w->w_name;
		n = snprintf(buf, len, "%s", str != NULL ? str : "invalid");
	} else {
		str = *CFIELD(c, k, char *);
		n = snprintf(buf, len, "%s", str != NULL ? str : "");
	}
	if (n < 0 || (size_t)n >= len)
		goto toobig;
	return 0;
 toobig:
	buf[0] = '\0';
	return FTPS_ETOOBIG;
}

static int
set_uint(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char		 sv[CONF_SHOW_MAX];
	unsigned long	 n;

	if (parse_uint(v, k->k_min, k->k_max, &n) != 0) {
		if (k->k_flags & CONF_F_ZERO_OFF)
			conf_err(errf, src->file, src->line,
			    "%s: \"%s\" is not a number from 1 to %lu, "
			    "or 0 for off", k->k_name,
			    show(sv, sizeof(sv), v), k->k_max);
		else
			conf_err(errf, src->file, src->line,
			    "%s: \"%s\" is not a number from %lu to %lu",
			    k->k_name, show(sv, sizeof(sv), v), k->k_min,
			    k->k_max);
		return FTPS_EPARSE;
	}
	*FIELD(c, k, unsigned) = (unsigned)n;
	return 0;
}

/* "auto" (CONF_WORKERS_AUTO: one per online CPU) or 1..k_max. */
static int
set_workers(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char		 sv[CONF_SHOW_MAX];
	unsigned long	 n;

	if (strcmp(v, "auto") == 0) {
		*FIELD(c, k, unsigned) = CONF_WORKERS_AUTO;
		return 0;
	}
	if (parse_uint(v, k->k_min, k->k_max, &n) != 0) {
		conf_err(errf, src->file, src->line,
		    "%s: \"%s\" is not \"auto\" or a number from %lu to %lu",
		    k->k_name, show(sv, sizeof(sv), v), k->k_min, k->k_max);
		return FTPS_EPARSE;
	}
	*FIELD(c, k, unsigned) = (unsigned)n;
	return 0;
}

/* Always octal, as umask(1) reads it: "022", "0022" and "22" agree. */
static int
set_umask(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char		 sv[CONF_SHOW_MAX];
	unsigned long	 n = 0;
	const char	*p;

	for (p = v; *p >= '0' && *p <= '7' && p - v < 5; p++)
		n = n * 8 + (unsigned long)(*p - '0');
	if (*p != '\0' || p == v || n > k->k_max) {
		conf_err(errf, src->file, src->line,
		    "%s: \"%s\" is not an octal mask from 000 to 777",
		    k->k_name, show(sv, sizeof(sv), v));
		return FTPS_EPARSE;
	}
	*FIELD(c, k, unsigned) = (unsigned)n;
	return 0;
}

static int
set_bool(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char	 sv[CONF_SHOW_MAX];
	int	 b;

	if (parse_bool(v, &b) != 0) {
		conf_err(errf, src->file, src->line,
		    "%s: \"%s\" is not on or off", k->k_name,
		    show(sv, sizeof(sv), v));
		return FTPS_EPARSE;
	}
	*FIELD(c, k, int) = b;
	return 0;
}

/* The word of k's list that v spells (any case), or NULL. */
static const struct conf_word *
enum_find(const struct conf_key *k, const char *v)
{
	const struct conf_word	*w;

	for (w = k->k_words; w->w_name != NULL; w++)
		if (str_ieq(w->w_name, v))
			return w;
	return NULL;
}

/* "k: "v" is not one of: a, b, c" into msg. */
static void
enum_why(const struct conf_key *k, const char *v, char *msg, size_t len)
{
	const struct conf_word	*w;
	char			 sv[CONF_SHOW_MAX], list[CONF_SHOW_MAX];
	size_t			 off = 0;

	list[0] = '\0';
	for (w = k->k_words; w->w_name != NULL; w++) {
		snprintf(list + off, sizeof(list) - off, "%s%s",
		    off == 0 ? "" : ", ", w->w_name);
		off = strlen(list);
	}
	snprintf(msg, len, "%s: \"%s\" is not one of: %s", k->k_name,
	    show(sv, sizeof(sv), v), list);
}

static int
set_enum(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	const struct conf_word	*w;
	char			 msg[CONF_SHOW_MAX * 3];

	if ((w = enum_find(k, v)) != NULL) {
		*FIELD(c, k, int) = w->w_val;
		return 0;
	}
	enum_why(k, v, msg, sizeof(msg));
	conf_err(errf, src->file, src->line, "%s", msg);
	return FTPS_EPARSE;
}

/*
 * Lexical clean-up of an absolute path: "//" becomes "/", "/./" goes,
 * a trailing "/" goes.  ".." is kept: removing it lexically would be
 * wrong when the component before it is a symlink.
 */
static void
path_clean(char *p)
{
	char	*r = p, *w = p;

	while (*r != '\0') {
		if (*r == '/') {
			while (r[1] == '/')
				r++;
			if (r[1] == '.' && (r[2] == '/' || r[2] == '\0')) {
				r += 2;
				continue;
			}
		}
		*w++ = *r++;
	}
	if (w > p + 1 && w[-1] == '/')
		w--;
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

/*
 * A relative path is taken relative to the directory of the file that
 * set it (so a config folder can be moved as a whole), or to the current
 * directory for -o; either way it is stored absolute, because the daemon
 * changes directory later.
 */
static int
path_resolve(const char *v, const struct conf_src *src, char *out,
    size_t len)
{
	char		 cwd[PATH_MAX];
	const char	*slash = NULL;
	int		 n, dirlen = 0;

	if (v[0] == '/')
		n = snprintf(out, len, "%s", v);
	else {
		if (src->in_file && (slash = strrchr(src->file, '/')) != NULL) {
			if (slash - src->file > INT_MAX)
				return FTPS_ETOOBIG;
			dirlen = (int)(slash - src->file);
		}
		if (slash != NULL && src->file[0] == '/')
			n = snprintf(out, len, "/%.*s/%s", dirlen,
			    src->file, v);
		else {
			if (getcwd(cwd, sizeof(cwd)) == NULL)
				return FTPS_ESYS;
			if (slash != NULL)
				n = snprintf(out, len, "%s/%.*s/%s", cwd,
				    dirlen, src->file, v);
			else
				n = snprintf(out, len, "%s/%s", cwd, v);
		}
	}
	if (n < 0 || (size_t)n >= len)
		return FTPS_ETOOBIG;
	path_clean(out);
	return 0;
}

/* Stores a copy of v as key k's string (the old one freed). */
static int
store_str(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char	*dup, **field;

	if ((dup = strdup(v)) == NULL) {
		conf_err(errf, src->file, src->line, "%s: out of memory",
		    k->k_name);
		return FTPS_ENOMEM;
	}
	field = FIELD(c, k, char *);
	free(*field);
	*field = dup;
	return 0;
}

/*
 * A certs folder NAME or a system user name: letters, digits, '_', and
 * '.' or '-' after the first; its length within the key's range.
 */
static int
name_shape_ok(const struct conf_key *k, const char *v)
{
	const char	*p;
	size_t		 len = strlen(v);

	for (p = v; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' ||
		    (p != v && (*p == '.' || *p == '-'))))
			return 0;
	return len >= k->k_min && len <= k->k_max;
}

static int
set_path(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char	 sv[CONF_SHOW_MAX], path[PATH_MAX];
	int	 r;

	if (v[0] != '/' && !(k->k_flags & CONF_F_RELATIVE)) {
		conf_err(errf, src->file, src->line,
		    "%s: \"%s\" is not an absolute path", k->k_name,
		    show(sv, sizeof(sv), v));
		return FTPS_EPARSE;
	}
	if ((r = path_resolve(v, src, path, sizeof(path))) != 0) {
		conf_err(errf, src->file, src->line, "%s: \"%s\": %s",
		    k->k_name, show(sv, sizeof(sv), v),
		    r == FTPS_ETOOBIG ? "path is too long" :
		    ftps_strerror(r));
		return r == FTPS_ETOOBIG ? FTPS_EPARSE : r;
	}
	return store_str(c, k, path, src, errf);
}

/*
 * "127.0.0.1:9100" or "[::1]:9100": a numeric address (no name lookup:
 * it is bound as root before anything else) and a port.
 */
static int
set_addrport(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	struct sockaddr_storage	 ss;
	char			 sv[CONF_SHOW_MAX];
	unsigned		 sl;

	if (parse_addrport(v, &ss, &sl) != 0) {
		conf_err(errf, src->file, src->line, "%s: \"%s\" is not "
		    "ADDR:PORT (a numeric IPv4 address, or an IPv6 one in "
		    "brackets, and a port of 1 to 65535: 127.0.0.1:9100, "
		    "[::1]:9100)", k->k_name, show(sv, sizeof(sv), v));
		return FTPS_EPARSE;
	}
	return store_str(c, k, v, src, errf);
}

/*
 * A certs folder NAME: it becomes NAME.crt/NAME.key beside other files,
 * so no '/', no leading '.' or '-', printable and short.
 */
static int
set_name(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char		 sv[CONF_SHOW_MAX];

	if (!name_shape_ok(k, v)) {
		conf_err(errf, src->file, src->line,
		    "%s: \"%s\" is not a certificate name (1 to %lu "
		    "letters, digits, '_', and '.' or '-' after the first)",
		    k->k_name, show(sv, sizeof(sv), v), k->k_max);
		return FTPS_EPARSE;
	}
	return store_str(c, k, v, src, errf);
}

/*
 * A system user name, as useradd accepts it: letters, digits, '_', and
 * '.' or '-' after the first, at most CONF_USER_MAX bytes.  Whether the
 * user exists is checked when ftpsd switches to it.
 */
static int
set_user(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char		 sv[CONF_SHOW_MAX];

	if (!name_shape_ok(k, v)) {
		conf_err(errf, src->file, src->line,
		    "%s: \"%s\" is not a user name (1 to %lu letters, "
		    "digits, '_', and '.' or '-' after the first)",
		    k->k_name, show(sv, sizeof(sv), v), k->k_max);
		return FTPS_EPARSE;
	}
	return store_str(c, k, v, src, errf);
}

static int
set_ipv4(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char		 sv[CONF_SHOW_MAX], text[INET_ADDRSTRLEN];
	struct in_addr	 a;

	if (inet_pton(AF_INET, v, &a) != 1 ||
	    inet_ntop(AF_INET, &a, text, sizeof(text)) == NULL) {
		conf_err(errf, src->file, src->line,
		    "%s: \"%s\" is not a numeric IPv4 address", k->k_name,
		    show(sv, sizeof(sv), v));
		return FTPS_EPARSE;
	}
	return store_str(c, k, text, src, errf);
}

/* A numeric address in canonical text form; 0 or FTPS_EPARSE. */
static int
addr_canon(const char *s, char *out, size_t len, unsigned char bin[17])
{
	memset(bin, 0, 17);
	if (inet_pton(AF_INET, s, bin + 1) == 1) {
		bin[0] = 4;
		if (inet_ntop(AF_INET, bin + 1, out, (socklen_t)len) == NULL)
			return FTPS_EPARSE;
		return 0;
	}
	if (inet_pton(AF_INET6, s, bin + 1) == 1) {
		bin[0] = 6;
		if (inet_ntop(AF_INET6, bin + 1, out, (socklen_t)len) == NULL)
			return FTPS_EPARSE;
		return 0;
	}
	return FTPS_EPARSE;
}

/*
 * The next item of a list value: commas and/or blanks separate.  1 with
 * the item in tok, 0 at the end, -1 when it does not fit (tok holds its
 * start, for the message).
 */
static int
list_next(const char **pp, char *tok, size_t toklen)
{
	static const char	 sep[] = ", \t";
	const char		*p = *pp;
	size_t			 len;

	p += strspn(p, sep);
	if (*p == '\0')
		return 0;
	len = strcspn(p, sep);
	if (len >= toklen) {
		memcpy(tok, p, toklen - 1);
		tok[toklen - 1] = '\0';
		return -1;
	}
	memcpy(tok, p, len);
	tok[len] = '\0';
	*pp = p + len;
	return 1;
}

/* "0.0.0.0, ::" or "127.0.0.1 ::1": commas and/or blanks separate. */
static int
set_listen(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	char			*list[FTPS_LISTEN_MAX];
	unsigned char		 bin[FTPS_LISTEN_MAX][17];
	char			 tok[INET6_ADDRSTRLEN + 1], sv[CONF_SHOW_MAX];
	char			 text[INET6_ADDRSTRLEN];
	const char		*p = v;
	int			 n = 0, i, t, r = FTPS_EPARSE;

	while ((t = list_next(&p, tok, sizeof(tok))) != 0) {
		if (t == -1) {
			/* Longer than any numeric address. */
			conf_err(errf, src->file, src->line,
			    "%s: \"%s...\" is not a numeric IPv4 or IPv6 "
			    "address", k->k_name, show(sv, sizeof(sv), tok));
			goto out;
		}
		if (n == FTPS_LISTEN_MAX) {
			conf_err(errf, src->file, src->line,
			    "%s: more than %d addresses", k->k_name,
			    FTPS_LISTEN_MAX);
			goto out;
		}
		if (addr_canon(tok, text, sizeof(text), bin[n]) != 0) {
			conf_err(errf, src->file, src->line,
			    "%s: \"%s\" is not a numeric IPv4 or IPv6 address",
			    k->k_name, show(sv, sizeof(sv), tok));
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (memcmp(bin[i], bin[n], sizeof(bin[n])) == 0)
				break;
		}
		if (i < n) {
			conf_err(errf, src->file, src->line,
			    "%s: \"%s\" is listed twice", k->k_name,
			    show(sv, sizeof(sv), tok));
			goto out;
		}
		if ((list[n] = strdup(text)) == NULL) {
			conf_err(errf, src->file, src->line,
			    "%s: out of memory", k->k_name);
			r = FTPS_ENOMEM;
			goto out;
		}
		n++;
	}
	if (n == 0) {
		conf_err(errf, src->file, src->line,
		    "%s: no address given", k->k_name);
		goto out;
	}
	for (i = 0; i < c->nlisten; i++)
		free(c->listen[i]);
	memcpy(c->listen, list, (size_t)n * sizeof(list[0]));
	for (i = n; i < FTPS_LISTEN_MAX; i++)
		c->listen[i] = NULL;
	c->nlisten = n;
	return 0;
 out:
	for (i = 0; i < n; i++)
		free(list[i]);
	return r;
}

/*
 * proxy_trusted: "127.0.0.1, 10.0.0.0/8 fd00::/8"; commas and/or
 * blanks separate; empty unsets.
 */
static int
set_cidrs(struct conf *c, const struct conf_key *k, const char *v,
    const struct conf_src *src, FILE *errf)
{
	struct cidr		 list[FTPS_PROXY_TRUSTED_MAX];
	char			 tok[CIDR_TEXT_MAX + 1], sv[CONF_SHOW_MAX];
	const char		*p = v, *why;
	int			 n = 0, i, t;

	memset(list, 0, sizeof(list));
	while ((t = list_next(&p, tok, sizeof(tok))) != 0) {
		if (t == -1) {
			conf_err(errf, src->file, src->line, "%s: \"%s...\" "
			    "is not an address or ADDRESS/BITS range",
			    k->k_name, show(sv, sizeof(sv), tok));
			return FTPS_EPARSE;
		}
		if (n == FTPS_PROXY_TRUSTED_MAX) {
			conf_err(errf, src->file, src->line,
			    "%s: more than %d ranges", k->k_name,
			    FTPS_PROXY_TRUSTED_MAX);
			return FTPS_EPARSE;
		}
		if (cidr_parse(tok, &list[n], &why) != 0) {
			conf_err(errf, src->file, src->line, "%s: \"%s\": %s",
			    k->k_name, show(sv, sizeof(sv), tok), why);
			return FTPS_EPARSE;
		}
		for (i = 0; i < n; i++)
			if (memcmp(&list[i], &list[n], sizeof(list[n])) == 0)
				break;
		if (i < n) {
			conf_err(errf, src->file, src->line,
			    "%s: \"%s\" is listed twice", k->k_name,
			    show(sv, sizeof(sv), tok));
			return FTPS_EPARSE;
		}
		n++;
	}
	memcpy(c->proxy_trusted, list, sizeof(list));
	c->nproxy_trusted = n;
	return 0;
}

/*
 * Sets key i (index into keys[]); every error is printed, labelled with
 * src.
 */
static int
conf_apply_key(struct conf *c, int i, const char *value,
    const struct conf_src *src, FILE *errf)
{
	const struct conf_key	*k = &keys[i];
	char			**field;
	int			 r;

	/* An empty list is a list: set_cidrs takes it. */
	if (*value == '\0' && k->k_set != set_cidrs) {
		if (!(k->k_flags & CONF_F_UNSET)) {
			conf_err(errf, src->file, src->line,
			    "%s: missing value", k->k_name);
			return FTPS_EPARSE;
		}
		field = FIELD(c, k, char *);
		free(*field);
		*field = NULL;
	} else if ((r = k->k_set(c, k, value, src, errf)) != 0)
		return r;
	c->c_line[i] = src->line;
	return 0;
}

/* Every key's default, parsed as the file would spell it. */
int
conf_init(struct conf *c)
{
	struct conf_src	 src = { "built-in default", 0, 0 };
	int		 i, r;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < K_COUNT; i++) {
		/* A CONF_KEYS entry that cannot work fails every start. */
		if ((keys[i].k_flags & CONF_F_UNSET) &&
		    keys[i].k_store != CS_STR)
			r = FTPS_EPARSE;
		else
			r = conf_apply_key(c, i, keys[i].k_def, &src, NULL);
		if (r != 0) {
			conf_free(c);
			return r;
		}
	}
	return 0;
}

void
conf_free(struct conf *c)
{
	const struct conf_key	*k;
	int			 i, j;

	for (i = 0; i < K_COUNT; i++) {
		k = &keys[i];
		if (k->k_store == CS_STR)
			free(*FIELD(c, k, char *));
		else if (k->k_store == CS_LIST)
			for (j = 0; j < FTPS_LISTEN_MAX; j++)
				free(FIELD(c, k, char *)[j]);
	}
	conf_hosts_free(c);
	memset(c, 0, sizeof(*c));
}

int
conf_apply(struct conf *c, const char *key, const char *value,
    const struct conf_src *src, FILE *errf)
{
	const char	*hint;
	char		 sk[CONF_SHOW_MAX];
	int		 i;

	if ((i = conf_find(key)) == -1) {
		if ((hint = conf_suggest(key)) != NULL)
			conf_err(errf, src->file, src->line,
			    "unknown key \"%s\" (did you mean \"%s\"?)",
			    show(sk, sizeof(sk), key), hint);
		else
			conf_err(errf, src->file, src->line,
			    "unknown key \"%s\"", show(sk, sizeof(sk), key));
		return FTPS_EPARSE;
	}
	return conf_apply_key(c, i, value, src, errf);
}

int
conf_set(struct conf *c, const char *key, const char *value,
    const char *file, unsigned line, FILE *errf)
{
	struct conf_src	 src;

	src.in_file = file != NULL && strcmp(file, "-o") != 0;
	src.file = file != NULL ? file : "-o";
	src.line = src.in_file ? line : CONF_LINE_ARG;
	return conf_apply(c, key, value, &src, errf);
}

int
conf_set_arg(struct conf *c, const char *kv, FILE *errf)
{
	struct conf_src	 src = { "-o", CONF_LINE_ARG, 0 };
	char		*dup, *eq, *key, sv[CONF_SHOW_MAX];
	int		 r;

	if ((dup = strdup(kv)) == NULL) {
		conf_err(errf, src.file, src.line, "out of memory");
		return FTPS_ENOMEM;
	}
	if ((eq = strchr(dup, '=')) == NULL) {
		conf_err(errf, src.file, src.line,
		    "\"%s\" is not key=value", show(sv, sizeof(sv), kv));
		r = FTPS_EPARSE;
		goto out;
	}
	*eq = '\0';
	key = str_trim(dup);
	r = conf_apply(c, key, str_trim(eq + 1), &src, errf);
 out:
	free(dup);
	return r;
}

int
conf_host_key(size_t i)
{
	return i < K_COUNT && (keys[i].k_flags & CONF_F_HOST) != 0;
}

/* Fields of dst that hold what src owns, cleared (not freed). */
static void
conf_unshare(struct conf *dst)
{
	const struct conf_key	*k;
	int			 i, j;

	for (i = 0; i < K_COUNT; i++) {
		k = &keys[i];
		if (k->k_store == CS_STR)
			*FIELD(dst, k, char *) = NULL;
		else if (k->k_store == CS_LIST)
			for (j = 0; j < FTPS_LISTEN_MAX; j++)
				FIELD(dst, k, char *)[j] = NULL;
	}
	dst->hosts = NULL;
	dst->nhosts = 0;
}

/* *dst = a copy of src (NULL stays NULL); 0 or FTPS_ENOMEM. */
static int
conf_strdup(char **dst, const char *src)
{
	*dst = NULL;
	return src != NULL && (*dst = strdup(src)) == NULL ? FTPS_ENOMEM : 0;
}

int
conf_copy(struct conf *dst, const struct conf *src)
{
	const struct conf_key	*k;
	int			 i, j;

	*dst = *src;
	conf_unshare(dst);
	for (i = 0; i < K_COUNT; i++) {
		k = &keys[i];
		if (k->k_store == CS_STR) {
			if (conf_strdup(FIELD(dst, k, char *),
			    *CFIELD(src, k, char *)) != 0)
				goto fail;
		} else if (k->k_store == CS_LIST)
			for (j = 0; j < FTPS_LISTEN_MAX; j++)
				if (conf_strdup(&FIELD(dst, k, char *)[j],
				    CFIELD(src, k, char *)[j]) != 0)
					goto fail;
	}
	return 0;
 fail:
	conf_free(dst);
	return FTPS_ENOMEM;
}

int
conf_host_conf(const struct conf *def, const struct conf_host *h,
    struct conf *out)
{
	const struct conf_key	*k;
	char			**f;
	int			 i;

	if (conf_copy(out, def) != 0)
		return FTPS_ENOMEM;
	for (i = 0; i < K_COUNT; i++) {
		if (h->set->c_line[i] == 0)
			continue;
		k = &keys[i];
		out->c_line[i] = h->set->c_line[i];
		if (k->k_store == CS_NUM) {
			/* Numbers, switches and enums: all int-sized. */
			memcpy((char *)out + k->k_off,
			    (const char *)h->set + k->k_off, sizeof(int));
			continue;
		}
		/* CS_STR: CONF_F_HOST is never set on an address list. */
		f = FIELD(out, k, char *);
		free(*f);
		if (conf_strdup(f, *CFIELD(h->set, k, char *)) != 0) {
			conf_free(out);
			return FTPS_ENOMEM;
		}
	}
	return 0;
}

/*
 * Strips a comment: '#' at the start of the line, or '#' after a blank.
 * A '#' glued to other text ("/srv/ftp#2") is part of the value.
 */
static void
strip_comment(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++) {
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

/* One line of a file, already known to fit; 0 or FTPS_EPARSE. */
static int
conf_line(struct conf *c, char *s, const struct conf_src *src,
    unsigned seen[CONF_NKEYS], int *section, FILE *errf)
{
	char		 sv[CONF_SHOW_MAX], *eq, *key, *value;
	const char	*p;
	int		 i;

	s = str_trim(s);
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			conf_err(errf, src->file, src->line,
			    "line holds control character 0x%02x",
			    (unsigned)(unsigned char)*p);
			return FTPS_EPARSE;
		}
		if (*p == 0x7f) {
			conf_err(errf, src->file, src->line,
			    "line holds control character 0x7f");
			return FTPS_EPARSE;
		}
	}
	strip_comment(s);
	s = str_trim(s);
	if (*s == '\0')
		return 0;
	if (*s == '[')
		return conf_section(c, s, src, section, errf);
	if ((eq = strchr(s, '=')) == NULL) {
		conf_err(errf, src->file, src->line,
		    "expected \"key = value\", not \"%s\"",
		    show(sv, sizeof(sv), s));
		return FTPS_EPARSE;
	}
	*eq = '\0';
	key = str_trim(s);
	value = str_trim(eq + 1);
	if (*key == '\0') {
		conf_err(errf, src->file, src->line,
		    "missing key before \"=\"");
		return FTPS_EPARSE;
	}
	/* A refused [host] line: its keys are not the default host's. */
	if (*section == CONF_SECTION_BAD)
		return 0;
	if (*section >= 0)
		return conf_section_set(c, *section, key, value, src, errf);
	if ((i = conf_find(key)) != -1) {
		if (seen[i] != 0) {
			conf_err(errf, src->file, src->line,
			    "duplicate key \"%s\" (first set on line %u)",
			    keys[i].k_name, seen[i]);
			return FTPS_EPARSE;
		}
		seen[i] = src->line;
	}
	return conf_apply(c, key, value, src, errf);
}

int
conf_load(struct conf *c, const char *path, FILE *errf)
{
	struct conf_src	 src;
	struct stat	 st;
	FILE		*fp;
	char		 line[FTPS_CONF_LINE_MAX + 1];
	unsigned	 seen[CONF_NKEYS];
	size_t		 n;
	int		 ch, errors = 0, toolong, nul, serrno;
	int		 section = CONF_SECTION_NONE;

	if ((fp = fopen(path, "re")) == NULL) {
		conf_err(errf, path, 0, "cannot open: %s", strerror(errno));
		return FTPS_ESYS;
	}
	/* A FIFO or /dev/zero would never end. */
	if (fstat(fileno(fp), &st) == -1) {
		serrno = errno;
		conf_err(errf, path, 0, "cannot read: %s", strerror(serrno));
		(void)fclose(fp);	/* read only */
		errno = serrno;
		return FTPS_ESYS;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_err(errf, path, 0, "cannot read: %s",
		    S_ISDIR(st.st_mode) ? "is a directory" :
		    "not a regular file");
		(void)fclose(fp);	/* read only */
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return FTPS_ESYS;
	}
	memset(seen, 0, sizeof(seen));
	src.file = path;
	src.line = 0;
	src.in_file = 1;
	for (;;) {
		n = 0;
		toolong = nul = 0;
		while ((ch = getc(fp)) != EOF && ch != '\n') {
			if (ch == '\0')
				nul = 1;
			if (n < FTPS_CONF_LINE_MAX)
				line[n++] = (char)ch;
			else
				toolong = 1;
		}
		if (ch == EOF && n == 0)
			break;
		line[n] = '\0';
		/* CONF_LINE_ARG is reserved; such a file is absurd anyway. */
		if (++src.line == CONF_LINE_ARG) {
			conf_err(errf, path, 0, "too many lines");
			errors++;
			break;
		}
		if (toolong) {
			conf_err(errf, src.file, src.line,
			    "line is longer than %d bytes", FTPS_CONF_LINE_MAX);
			errors++;
		} else if (nul) {
			conf_err(errf, src.file, src.line,
			    "line holds a NUL byte");
			errors++;
		} else if (conf_line(c, line, &src, seen, &section,
		    errf) != 0)
			errors++;
		if (ch == EOF)
			break;
	}
	if (ferror(fp)) {
		conf_err(errf, path, 0, "read error: %s", strerror(errno));
		errors++;
	}
	(void)fclose(fp);	/* read only */
	return errors > 0 ? -errors : 0;
}

/* The line to blame for a problem between keys a and b (-1: none). */
static unsigned
conf_where(const struct conf *c, int a, int b)
{
	unsigned	 la = c->c_line[a], lb = b >= 0 ? c->c_line[b] : 0;

	if (la == CONF_LINE_ARG || lb == CONF_LINE_ARG)
		return CONF_LINE_ARG;
	return la > lb ? la : lb;
}

static const char *
conf_label(const struct conf *c, const char *file, int a, int b)
{
	return conf_where(c, a, b) == CONF_LINE_ARG ? "-o" : file;
}

#define CHECK_ERR(a, b, ...) do {					\
	conf_err(errf, conf_label(c, file, (a), (b)),			\
	    conf_where(c, (a), (b)), __VA_ARGS__);			\
	errors++;							\
} while (0)

/* Client certificates: the keys that only make sense together. */
static int
conf_check_mtls(const struct conf *c, const char *file, FILE *errf)
{
	int	 errors = 0;

	if (c->tls_client_cert != CONF_TLS_OFF &&
	    c->tls_client_cert != CONF_TLS_OPTIONAL &&
	    c->tls_client_cert != CONF_TLS_REQUIRED) {
		CHECK_ERR(K_CLIENT_CERT, -1, "tls_client_cert: invalid value "
		    "%d", (int)c->tls_client_cert);
		return errors;
	}
	if (c->tls_client_ca != NULL && c->tls_client_ca[0] != '/')
		CHECK_ERR(K_CLIENT_CA, -1, "tls_client_ca: must be an "
		    "absolute path");
	if (c->tls_crl != NULL && c->tls_crl[0] != '/')
		CHECK_ERR(K_CRL, -1, "tls_crl: must be an absolute path");
	/* Off: tls_client_ca and tls_crl are kept but not read. */
	if (c->tls_client_cert == CONF_TLS_OFF)
		return errors;
	if (c->tls_client_ca == NULL)
		CHECK_ERR(K_CLIENT_CERT, K_CLIENT_CA, "tls_client_cert = %s "
		    "needs tls_client_ca (the CAs whose client certificates "
		    "are trusted; nothing is trusted by default)",
		    c->tls_client_cert == CONF_TLS_REQUIRED ? "required" :
		    "optional");
	if (c->tls == CONF_TLS_OFF)
		CHECK_ERR(K_CLIENT_CERT, K_TLS, "tls_client_cert = %s "
		    "contradicts tls = off", c->tls_client_cert ==
		    CONF_TLS_REQUIRED ? "required" : "optional");
	else if (c->tls_client_cert == CONF_TLS_REQUIRED &&
	    c->tls != CONF_TLS_REQUIRED)
		CHECK_ERR(K_CLIENT_CERT, K_TLS, "tls_client_cert = required "
		    "needs tls = required: a plain-text session carries no "
		    "certificate");
	return errors;
}

/* Load balancers: a header is believed only from proxy_trusted. */
static int
conf_check_proxy(const struct conf *c, const char *file, FILE *errf)
{
	int	 errors = 0;

	if (c->proxy_protocol != CONF_PROXY_OFF &&
	    c->proxy_protocol != CONF_PROXY_V1 &&
	    c->proxy_protocol != CONF_PROXY_V2 &&
	    c->proxy_protocol != CONF_PROXY_ANY)
		CHECK_ERR(K_PROXY_PROTOCOL, -1, "proxy_protocol: invalid "
		    "value %d", (int)c->proxy_protocol);
	else if (c->proxy_protocol != CONF_PROXY_OFF &&
	    c->nproxy_trusted == 0)
		CHECK_ERR(K_PROXY_PROTOCOL, K_PROXY_TRUSTED, "proxy_protocol "
		    "is on but proxy_trusted is empty: name the load "
		    "balancers' addresses (a PROXY header is believed from "
		    "them only)");
	if (c->nproxy_trusted < 0 ||
	    c->nproxy_trusted > FTPS_PROXY_TRUSTED_MAX)
		CHECK_ERR(K_PROXY_TRUSTED, -1, "proxy_trusted: needs 0 to %d "
		    "ranges", FTPS_PROXY_TRUSTED_MAX);
	if (c->proxy_data != CONF_PDATA_HEADER &&
	    c->proxy_data != CONF_PDATA_TRUST)
		CHECK_ERR(K_PROXY_DATA, -1, "proxy_data: invalid value %d",
		    (int)c->proxy_data);
	return errors;
}

int
conf_check(const struct conf *c, const char *file, FILE *errf)
{
	int	 r;

	/* A host's problem is looked for once the default host is sound. */
	if ((r = conf_check_one(c, file, errf)) != 0)
		return r;
	return conf_hosts_check(c, file, errf);
}

int
conf_check_one(const struct conf *c, const char *file, FILE *errf)
{
	const struct conf_key	*k;
	unsigned char		 bin[17];
	char			 text[INET6_ADDRSTRLEN];
	struct in_addr		 a4;
	struct sockaddr_storage	 ss;
	unsigned		 v, sl;
	int			 i, errors = 0;

	/* Every field again: code may have filled in a conf by hand. */
	for (i = 0; i < K_COUNT; i++) {
		k = &keys[i];
		if (k->k_set != set_uint && k->k_set != set_umask)
			continue;
		v = *CFIELD(c, k, unsigned);
		if (k->k_set == set_umask && v > k->k_max)
			CHECK_ERR(i, -1, "%s: %o is not an octal mask from "
			    "000 to %03lo", k->k_name, v, k->k_max);
		else if (v < k->k_min || v > k->k_max)
			CHECK_ERR(i, -1, "%s: %u is not from %lu to %lu",
			    k->k_name, v, k->k_min, k->k_max);
	}
	if (c->nlisten < 1 || c->nlisten > FTPS_LISTEN_MAX)
		CHECK_ERR(K_LISTEN, -1, "listen_addresses: needs 1 to %d "
		    "addresses", FTPS_LISTEN_MAX);
	else
		for (i = 0; i < c->nlisten; i++)
			if (c->listen[i] == NULL || addr_canon(c->listen[i],
			    text, sizeof(text), bin) != 0)
				CHECK_ERR(K_LISTEN, -1, "listen_addresses: "
				    "entry %d is not a numeric address", i + 1);
	if (c->explicit_port == 0 && c->implicit_port == 0)
		CHECK_ERR(K_EXPLICIT_PORT, K_IMPLICIT_PORT,
		    "explicit_port and implicit_port are both 0 (off): "
		    "no port to listen on");
	else if (c->explicit_port == c->implicit_port)
		CHECK_ERR(K_EXPLICIT_PORT, K_IMPLICIT_PORT,
		    "explicit_port and implicit_port are both %u",
		    c->explicit_port);
	if (c->pasv_min_port > c->pasv_max_port)
		CHECK_ERR(K_PASV_MIN, K_PASV_MAX, "pasv_min_port (%u) is "
		    "greater than pasv_max_port (%u)", c->pasv_min_port,
		    c->pasv_max_port);
	if (c->tls != CONF_TLS_OFF && c->tls != CONF_TLS_OPTIONAL &&
	    c->tls != CONF_TLS_REQUIRED)
		CHECK_ERR(K_TLS, -1, "tls: invalid value %d", (int)c->tls);
	if (c->data_tls != CONF_TLS_OPTIONAL &&
	    c->data_tls != CONF_TLS_REQUIRED)
		CHECK_ERR(K_DATA_TLS, -1, "data_tls cannot be off: use "
		    "required or optional");
	else if (c->tls == CONF_TLS_OFF && c->data_tls == CONF_TLS_REQUIRED)
		CHECK_ERR(K_TLS, K_DATA_TLS, "tls = off contradicts "
		    "data_tls = required: without TLS on the control "
		    "channel no data channel can be encrypted (set "
		    "data_tls = optional)");
	if (c->data_session_reuse != CONF_REUSE_OFF &&
	    c->data_session_reuse != CONF_REUSE_OPTIONAL &&
	    c->data_session_reuse != CONF_REUSE_REQUIRED)
		CHECK_ERR(K_DATA_REUSE, -1, "data_session_reuse: invalid "
		    "value %d", (int)c->data_session_reuse);
	if (c->prot_default != CONF_PROT_C && c->prot_default != CONF_PROT_P)
		CHECK_ERR(K_PROT_DEFAULT, -1, "prot_default: invalid value %d",
		    (int)c->prot_default);
	if (c->log != CONF_LOG_AUTO && c->log != CONF_LOG_STDERR &&
	    c->log != CONF_LOG_SYSLOG)
		CHECK_ERR(K_LOG, -1, "log: invalid value %d", (int)c->log);
	if (c->certs_dir == NULL || c->certs_dir[0] != '/')
		CHECK_ERR(K_CERTS_DIR, -1, "certs_dir: must be an absolute "
		    "path");
	if (c->users_file == NULL || c->users_file[0] != '/')
		CHECK_ERR(K_USERS_FILE, -1, "users_file: must be an absolute "
		    "path");
	if (c->anonymous_root != NULL && c->anonymous_root[0] != '/')
		CHECK_ERR(K_ANONYMOUS_ROOT, -1, "anonymous_root: must be an "
		    "absolute path");
	if (c->xferlog_file != NULL && c->xferlog_file[0] != '/')
		CHECK_ERR(K_XFERLOG_FILE, -1, "xferlog_file: must be an "
		    "absolute path");
	if (c->run_as_user == NULL || c->run_as_user[0] == '\0')
		CHECK_ERR(K_RUN_AS_USER, -1, "run_as_user: must name a user");
	if (c->anonymous && c->anonymous_root == NULL)
		CHECK_ERR(K_ANONYMOUS, K_ANONYMOUS_ROOT, "anonymous = on "
		    "needs anonymous_root (the folder anonymous users see)");
	if (c->pasv_address != NULL &&
	    inet_pton(AF_INET, c->pasv_address, &a4) != 1)
		CHECK_ERR(K_PASV_ADDRESS, -1, "pasv_address: not a numeric "
		    "IPv4 address");
	if (c->control_socket != NULL && c->control_socket[0] != '/')
		CHECK_ERR(K_CONTROL_SOCKET, -1, "control_socket: must be an "
		    "absolute path");
	if (c->metrics_listen != NULL &&
	    parse_addrport(c->metrics_listen, &ss, &sl) != 0)
		CHECK_ERR(K_METRICS_LISTEN, -1, "metrics_listen: not "
		    "ADDR:PORT");
	errors += conf_check_mtls(c, file, errf);
	errors += conf_check_proxy(c, file, errf);
	return errors > 0 ? -errors : 0;
}

/*
 * Per-account (and per-host) policy: the keys an override may set, each
 * parsed by its ftpsd.conf row so that both spell values alike.
 */
static const struct {
	int		 key;		/* K_*, a set_enum row */
	size_t		 off;		/* of the field in conf_policy */
} policy_keys[] = {
	{ K_DATA_TLS, offsetof(struct conf_policy, data_tls) },
	{ K_DATA_REUSE, offsetof(struct conf_policy, data_session_reuse) },
};
#define NPOLICY	(sizeof(policy_keys) / sizeof(policy_keys[0]))
#define PFIELD(p, i)	((int *)(void *)((char *)(p) + policy_keys[i].off))
#define CPFIELD(p, i)	\
	((const int *)(const void *)((const char *)(p) + policy_keys[i].off))

void
conf_policy_unset(struct conf_policy *p)
{
	size_t	 i;

	for (i = 0; i < NPOLICY; i++)
		*PFIELD(p, i) = CONF_POLICY_UNSET;
}

void
conf_policy_of(const struct conf *c, struct conf_policy *p)
{
	size_t	 i;

	for (i = 0; i < NPOLICY; i++)
		*PFIELD(p, i) = *CFIELD(c, &keys[policy_keys[i].key], int);
}

void
conf_policy_merge(struct conf_policy *p, const struct conf_policy *over)
{
	size_t	 i;

	for (i = 0; i < NPOLICY; i++)
		if (*CPFIELD(over, i) != CONF_POLICY_UNSET)
			*PFIELD(p, i) = *CPFIELD(over, i);
}

int
conf_policy_set(struct conf_policy *p, const char *key, const char *value,
    char *why, size_t whylen)
{
	const struct conf_key	*k;
	const struct conf_word	*w;
	char			 sk[CONF_SHOW_MAX], list[CONF_SHOW_MAX];
	size_t			 i, off;

	for (i = 0; i < NPOLICY; i++) {
		k = &keys[policy_keys[i].key];
		if (strcmp(k->k_name, key) != 0)
			continue;
		if (*PFIELD(p, i) != CONF_POLICY_UNSET) {
			snprintf(why, whylen, "%s given twice", k->k_name);
			return FTPS_EPARSE;
		}
		if ((w = enum_find(k, value)) == NULL) {
			enum_why(k, value, why, whylen);
			return FTPS_EPARSE;
		}
		*PFIELD(p, i) = w->w_val;
		return 0;
	}
	list[0] = '\0';
	for (i = 0, off = 0; i < NPOLICY; i++) {
		snprintf(list + off, sizeof(list) - off, "%s%s",
		    off == 0 ? "" : ", ", keys[policy_keys[i].key].k_name);
		off = strlen(list);
	}
	snprintf(why, whylen, "unknown setting \"%s\" (one of: %s)",
	    show(sk, sizeof(sk), key), list);
	return FTPS_EPARSE;
}

const char *
conf_policy_str(const struct conf_policy *p, char *buf, size_t len)
{
	const struct conf_key	*k;
	const struct conf_word	*w;
	size_t			 i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < NPOLICY && off < len; i++) {
		k = &keys[policy_keys[i].key];
		for (w = k->k_words; w->w_name != NULL; w++)
			if (w->w_val == *CPFIELD(p, i))
				break;
		if (w->w_name == NULL)
			continue;
		snprintf(buf + off, len - off, "%s%s=%s", off == 0 ? "" : " ",
		    k->k_name, w->w_name);
		off = strlen(buf);
	}
	return buf;
}
