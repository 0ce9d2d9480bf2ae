/*
 * Accounts: the users file (a hash table of struct user), its reload and
 * lookups, and the hashes it holds.  The password checks run on the pool
 * in authpool.c.
 */
#include "config.h"

#include <sys/queue.h>

#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "err.h"
#include "hash.h"
#include "ftps_limits.h"
#include "log.h"
#include "parse.h"

#define AUTH_FIELDS_MAX	6	/* name:hash:home:perms:method:options */
#define AUTH_FORMAT	"name:hash:home:perms[:method[:options]]"
#define AUTH_NAME_SHOW	(FTPS_USER_MAX * 4 + 4)	/* a log_safe()'d name */

/* AUTH_LINE_MAX in auth.h counts 384 bytes for the hash. */
_Static_assert(CRYPT_OUTPUT_SIZE <= 384, "AUTH_LINE_MAX too small");

/*
 * Users file
 */

struct uentry {
	struct user	 u;
	unsigned long	 line;		/* for duplicate reports */
};

struct userdb {
	struct uentry	**slots;	/* open addressing, linear probing */
	size_t		  nslots;	/* a power of two, load <= 1/2 */
	size_t		  count;
	size_t		  nerrors;
};

struct users_load {
	const char	*path;
	FILE		*errf;
	unsigned long	 line;
	struct userdb	*db;
};

/*
 * Hash forms accepted in a users file.  sumlen is the length of the text
 * after the last '$' (bcrypt: salt and checksum together), which catches
 * a hash cut short by a bad copy and paste.
 */
static const struct {
	const char	*prefix;
	size_t		 sumlen;
} hash_ok[] = {
	{ "$y$",	43 },	/* yescrypt */
	{ "$gy$",	43 },	/* gost-yescrypt */
	{ "$2b$",	53 },	/* bcrypt */
	{ "$2y$",	53 },
	{ "$2a$",	53 },
	{ "$6$",	86 },	/* sha512crypt */
};

/* Forms refused, and why.  Order matters: longer prefixes first. */
static const struct {
	const char	*prefix;
	const char	*why;
} hash_weak[] = {
	{ "$1$",	"MD5-crypt ($1$) is fast to brute-force" },
	{ "$3$",	"NT hash ($3$) is unsalted MD4" },
	{ "$5$",	"sha256crypt ($5$) is refused, libxcrypt marks it "
			"legacy" },
	{ "$md5",	"Sun MD5-crypt is fast to brute-force" },
	{ "$sha1$",	"sha1crypt ($sha1$) is a legacy method" },
	{ "$2x$",	"bcrypt $2x$ hashes come from a known-buggy "
			"implementation" },
	{ "_",		"BSDi extended DES crypt is weak" },
};

static void	 users_err(struct users_load *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
users_err(struct users_load *ld, const char *fmt, ...)
{
	va_list	 ap;

	ld->db->nerrors++;
	if (ld->errf == NULL)
		return;
	fprintf(ld->errf, "%s:%lu: ", ld->path, ld->line);
	va_start(ap, fmt);
	vfprintf(ld->errf, fmt, ap);
	va_end(ap);
	fputc('\n', ld->errf);
}

/* FNV-1a: users_file names are chosen by the admin, not by clients. */
static size_t
users_hash(const char *s)
{
	return (size_t)hash_fnv1a(HASH_FNV1A_INIT, s, strlen(s));
}

static struct uentry **
users_slot(const struct userdb *db, const char *name)
{
	size_t	 i, mask = db->nslots - 1;

	for (i = users_hash(name) & mask; db->slots[i] != NULL;
	    i = (i + 1) & mask)
		if (strcmp(db->slots[i]->u.name, name) == 0)
			break;
	return &db->slots[i];
}

static int
users_grow(struct userdb *db)
{
	struct uentry	**old = db->slots;
	size_t		  i, oldn = db->nslots;

	db->nslots = oldn ? oldn * 2 : 64;
	/* An array of pointers: each slot holds a struct uentry *. */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	if ((db->slots = calloc(db->nslots, sizeof(*db->slots))) == NULL) {
		db->slots = old;
		db->nslots = oldn;
		return FTPS_ENOMEM;
	}
	for (i = 0; i < oldn; i++)
		if (old[i] != NULL)
			*users_slot(db, old[i]->u.name) = old[i];
	free(old);
	return 0;
}

static void
user_clear(struct user *u)
{
	if (u->hash != NULL) {
		OPENSSL_cleanse(u->hash, strlen(u->hash));
		free(u->hash);
	}
	free(u->name);
	free(u->home);
	memset(u, 0, sizeof(*u));
}

/* 1..FTPS_USER_MAX of [A-Za-z0-9._@-], not starting with '-' or '.'. */
static int
users_name_ok(const char *s)
{
	return parse_user_name(s);
}

/*
 * NULL when hash is an accepted form, else why not.  Only static text
 * comes back: SECURITY: a hash is never echoed into logs or errors, where
 * it could be collected for offline cracking.
 */
static const char *
users_hash_check(const char *h, int *disabled)
{
	const char	*p, *sum;
	size_t		 i, n;

	*disabled = 0;
	if (*h == '\0')
		return "empty password hash (use '!' to disable an account)";
	for (p = h; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "hash contains blanks or non-ASCII bytes";
	if (h[0] == '!' || h[0] == '*') {
		*disabled = 1;
		return NULL;
	}
	for (i = 0; i < sizeof(hash_weak) / sizeof(hash_weak[0]); i++)
		if (strncmp(h, hash_weak[i].prefix,
		    strlen(hash_weak[i].prefix)) == 0)
			return hash_weak[i].why;
	if (h[0] != '$') {
		if (strlen(h) == 13)
			return "traditional DES crypt is weak (8-character "
			    "passwords, 56-bit key)";
		return "unknown hash form (expected yescrypt $y$, "
		    "gost-yescrypt $gy$, bcrypt $2b$ or sha512crypt $6$)";
	}
	for (i = 0; i < sizeof(hash_ok) / sizeof(hash_ok[0]); i++)
		if (strncmp(h, hash_ok[i].prefix,
		    strlen(hash_ok[i].prefix)) == 0)
			break;
	if (i == sizeof(hash_ok) / sizeof(hash_ok[0]))
		return "unsupported hash method (expected yescrypt $y$, "
		    "gost-yescrypt $gy$, bcrypt $2b$ or sha512crypt $6$)";
	sum = strrchr(h, '$') + 1;
	n = strlen(sum);
	if (n != hash_ok[i].sumlen || strspn(sum, "./0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != n)
		return "malformed hash (truncated or damaged?)";
	if (crypt_checksalt(h) != CRYPT_SALT_OK)
		return "malformed hash parameters";
	return NULL;
}

static char *
users_dupstr(const char *s, int *r)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		*r = FTPS_ENOMEM;
	return d;
}

static const struct {
	const char	*name;
	enum auth_method method;
} methods[] = {
	{ "password",		AUTH_METHOD_PASSWORD },
	{ "cert",		AUTH_METHOD_CERT },
	{ "cert+password",	AUTH_METHOD_CERT_PASSWORD },
};

int
auth_method_parse(const char *s, enum auth_method *m)
{
	size_t	 i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(s, methods[i].name) == 0) {
			*m = methods[i].method;
			return 0;
		}
	return FTPS_EPARSE;
}

const char *
auth_method_name(enum auth_method m)
{
	size_t	 i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].method == m)
			return methods[i].name;
	return "invalid";
}

/*
 * The certificate rules of docs/mtls.md, in order:
 * 1. a verified client certificate names one account, its CN: any other
 *    USER (anonymous included) is refused at once, whatever it names;
 * 2. without a certificate, cert and cert+password accounts cannot log
 *    in, but USER still answers 331 and PASS fails like a wrong
 *    password, so names cannot be probed (user enumeration);
 * 3. with a matching certificate, cert logs in at USER (232), the others
 *    go on to their password.
 */
enum auth_cert_action
auth_cert_decide(const struct user *u, const char *name, int has_cert,
    const char *cert_name)
{
	if (has_cert && (cert_name == NULL || strcmp(cert_name, name) != 0))
		return AUTH_CERT_MISMATCH;
	if (u == NULL || u->method == AUTH_METHOD_PASSWORD)
		return AUTH_CERT_PASSWORD;
	if (!has_cert || u->disabled)
		return AUTH_CERT_REFUSE;
	if (u->method == AUTH_METHOD_CERT)
		return AUTH_CERT_LOGIN;
	return AUTH_CERT_PASSWORD;
}

/*
 * Field 6: "key=value" settings separated by commas, each a ftpsd.conf
 * key this account overrides (conf_policy_set: data_tls,
 * data_session_reuse); empty sets none.
 * 0, or -1 with the error reported.
 */
static int
users_options(struct users_load *ld, const char *show, char *opts,
    struct conf_policy *pol)
{
	char	*item, *eq, *next, why[256];

	conf_policy_unset(pol);
	if (opts[0] == '\0')
		return 0;
	for (item = opts; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(item, '=')) == NULL) {
			users_err(ld, "user %s: field 6 (options): \"%s\" is "
			    "not key=value (e.g. data_session_reuse=optional)",
			    show, log_safe(why, sizeof(why), item));
			return -1;
		}
		*eq++ = '\0';
		if (conf_policy_set(pol, item, eq, why, sizeof(why)) != 0) {
			users_err(ld, "user %s: field 6 (options): %s", show,
			    why);
			return -1;
		}
	}
	return 0;
}

/*
 * One line, NUL-terminated and without its newline.  0 on success,
 * FTPS_ENOMEM, or a line error already reported (the user is skipped).
 */
static int
users_line(struct users_load *ld, char *line)
{
	struct userdb	*db = ld->db;
	struct uentry	*e, **slot;
	char		*f[AUTH_FIELDS_MAX + 1], *p, show[AUTH_NAME_SHOW];
	const char	*why;
	size_t		 nf, len;
	enum auth_method method = AUTH_METHOD_PASSWORD;
	struct conf_policy policy;
	int		 disabled, r = 0;

	/* CRLF files: the CR is not part of the last field. */
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0' || *p == '#')
		return 0;

	nf = 0;
	for (p = line; nf < AUTH_FIELDS_MAX + 1; nf++) {
		f[nf] = p;
		if ((p = strchr(p, ':')) == NULL) {
			nf++;
			break;
		}
		*p++ = '\0';
	}
	if (p != NULL || nf > AUTH_FIELDS_MAX) {
		users_err(ld, "too many fields (at most %d: " AUTH_FORMAT ")",
		    AUTH_FIELDS_MAX);
		return 0;
	}
	if (nf < 4) {
		users_err(ld, "too few fields (%zu, want " AUTH_FORMAT ")",
		    nf);
		return 0;
	}
	if (!users_name_ok(f[0])) {
		users_err(ld, "bad user name \"%s\" (1 to %d of A-Z a-z 0-9 "
		    ". _ @ -, not starting with '.' or '-')",
		    log_safe(show, sizeof(show), f[0]), FTPS_USER_MAX);
		return 0;
	}
	log_safe(show, sizeof(show), f[0]);
	/* An empty method before options is the default one. */
	if (nf >= 5 && !(nf == 6 && f[4][0] == '\0') &&
	    auth_method_parse(f[4], &method) != 0) {
		users_err(ld, "user %s: unknown login method in field 5 "
		    "(method): use password, cert or cert+password", show);
		return 0;
	}
	if (method == AUTH_METHOD_CERT) {
		/* No password: empty, or '!'/'*' to disable the account. */
		disabled = f[1][0] == '!' || f[1][0] == '*';
		if (f[1][0] != '\0' && !disabled) {
			users_err(ld, "user %s: method cert takes no password: "
			    "leave the hash field empty (or '!' to disable "
			    "the account)", show);
			return 0;
		}
	} else if ((why = users_hash_check(f[1], &disabled)) != NULL) {
		users_err(ld, "user %s: %s; make a hash with "
		    "ftpsd --hash-password", show, why);
		return 0;
	}
	if (f[2][0] != '/') {
		users_err(ld, "user %s: home must be an absolute path", show);
		return 0;
	}
	if (strlen(f[2]) >= FTPS_PATH_MAX) {
		users_err(ld, "user %s: home longer than %d bytes", show,
		    FTPS_PATH_MAX - 1);
		return 0;
	}
	for (p = f[2]; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			users_err(ld, "user %s: home contains control "
			    "characters", show);
			return 0;
		}
	if (strcmp(f[3], "r") != 0 && strcmp(f[3], "rw") != 0) {
		users_err(ld, "user %s: perms must be \"r\" or \"rw\"", show);
		return 0;
	}
	conf_policy_unset(&policy);
	if (nf == 6 && users_options(ld, show, f[5], &policy) != 0)
		return 0;

	if (db->count >= FTPS_USERS_MAX) {
		users_err(ld, "user %s: too many users (at most %d)", show,
		    FTPS_USERS_MAX);
		return 0;
	}
	if ((db->count + 1) * 2 > db->nslots && (r = users_grow(db)) != 0)
		return r;
	slot = users_slot(db, f[0]);
	if (*slot != NULL) {
		users_err(ld, "user %s: duplicate, already defined on line "
		    "%lu", show, (*slot)->line);
		return 0;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return FTPS_ENOMEM;
	e->line = ld->line;
	e->u.name = users_dupstr(f[0], &r);
	e->u.hash = users_dupstr(f[1], &r);
	e->u.home = users_dupstr(f[2], &r);
	e->u.perms = PERM_READ | (f[3][1] == 'w' ? PERM_WRITE : 0);
	e->u.disabled = disabled;
	e->u.method = method;
	e->u.policy = policy;
	if (r != 0) {
		user_clear(&e->u);
		free(e);
		return r;
	}
	*slot = e;
	db->count++;
	return 0;
}

/*
 * Reads one line into buf (size AUTH_LINE_MAX + 1) without the newline.
 * 1: a line; 0: end of file; FTPS_ETOOBIG: overlong, skipped to its end;
 * FTPS_EPARSE: contains a NUL byte; FTPS_ESYS: read error.
 */
static int
users_getline(FILE *fp, char *buf)
{
	size_t	 n = 0;
	int	 c, r = 1;

	while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
		if (c == '\0' && r == 1)
			r = FTPS_EPARSE;
		if (n < AUTH_LINE_MAX)
			buf[n++] = (char)c;
		else
			r = FTPS_ETOOBIG;
	}
	buf[n] = '\0';
	if (ferror(fp))
		return FTPS_ESYS;
	if (c == EOF && n == 0 && r == 1)
		return 0;
	return r;
}

int
auth_users_load(const char *path, struct userdb **dbp, FILE *errf)
{
	struct users_load	 ld;
	FILE			*fp = NULL;
	char			*line = NULL;
	int			 r, saved;

	*dbp = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.errf = errf;
	if ((ld.db = calloc(1, sizeof(*ld.db))) == NULL ||
	    (line = malloc(AUTH_LINE_MAX + 1)) == NULL ||
	    users_grow(ld.db) != 0) {
		r = FTPS_ENOMEM;
		goto out;
	}
	if ((fp = fopen(path, "re")) == NULL) {
		r = FTPS_ESYS;
		goto out;
	}
	for (;;) {
		ld.line++;
		r = users_getline(fp, line);
		if (r == 0 || r == FTPS_ESYS)
			break;
		if (r == FTPS_ETOOBIG)
			users_err(&ld, "line longer than %d bytes",
			    AUTH_LINE_MAX);
		else if (r == FTPS_EPARSE)
			users_err(&ld, "line contains a NUL byte");
		else if ((r = users_line(&ld, line)) != 0)
			goto out;
	}
 out:
	saved = errno;
	if (r == FTPS_ESYS && errf != NULL)
		fprintf(errf, "%s: %s\n", path, strerror(saved));
	if (fp != NULL)
		(void)fclose(fp);	/* read only */
	if (line != NULL) {
		OPENSSL_cleanse(line, AUTH_LINE_MAX + 1);
		free(line);
	}
	if (r != 0)
		auth_users_free(ld.db);
	else
		*dbp = ld.db;
	errno = saved;
	return r;
}

const struct user *
auth_user_find(const struct userdb *db, const char *name)
{
	struct uentry	*e;

	if (db == NULL || name == NULL || strlen(name) > FTPS_USER_MAX)
		return NULL;
	e = *users_slot(db, name);
	return e != NULL ? &e->u : NULL;
}

size_t
auth_users_count(const struct userdb *db)
{
	return db != NULL ? db->count : 0;
}

int
auth_users_each(const struct userdb *db,
    int (*fn)(const struct user *, unsigned long, void *), void *arg)
{
	size_t	 i;
	int	 r;

	for (i = 0; db != NULL && i < db->nslots; i++)
		if (db->slots[i] != NULL &&
		    (r = fn(&db->slots[i]->u, db->slots[i]->line, arg)) != 0)
			return r;
	return 0;
}

size_t
auth_users_errors(const struct userdb *db)
{
	return db != NULL ? db->nerrors : 0;
}

void
auth_users_free(struct userdb *db)
{
	size_t	 i;

	if (db == NULL)
		return;
	for (i = 0; i < db->nslots; i++)
		if (db->slots[i] != NULL) {
			user_clear(&db->slots[i]->u);
			free(db->slots[i]);
		}
	free(db->slots);
	free(db);
}

struct user *
auth_user_dup(const struct user *u)
{
	struct user	*d;
	int		 r = 0;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->name = users_dupstr(u->name, &r);
	d->hash = users_dupstr(u->hash, &r);
	d->home = users_dupstr(u->home, &r);
	d->perms = u->perms;
	d->disabled = u->disabled;
	d->method = u->method;
	d->policy = u->policy;
	if (r != 0) {
		auth_user_free(d);
		return NULL;
	}
	return d;
}

void
auth_user_free(struct user *u)
{
	if (u == NULL)
		return;
	user_clear(u);
	free(u);
}

int
auth_hash_password(const char *password, char *out, size_t outlen)
{
	struct crypt_data	*cd;
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char		*h;
	int			 r;

	if (outlen > 0)
		out[0] = '\0';
	if (password[0] == '\0')
		return FTPS_EPARSE;
	if (strlen(password) > FTPS_PASS_MAX)
		return FTPS_ETOOBIG;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return FTPS_ENOMEM;
	/* count 0: libxcrypt's default cost; NULL: it draws the salt. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL ||
	    (h = crypt_rn(password, salt, cd, sizeof(*cd))) == NULL ||
	    h[0] == '*') {
		if (errno == 0)
			errno = EINVAL;
		r = FTPS_ESYS;
	} else
		r = str_copy(out, outlen, h);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return r;
}
