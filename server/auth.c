/*
 * Accounts: the users file (a hash table of struct user) and password
 * checks on a small thread pool that completes back on the event loop.
 */
#include "config.h"

#include <sys/queue.h>

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth.h"
#include "authcache.h"
#include "err.h"
#include "hash.h"
#include "ftps_limits.h"
#include "log.h"
#include "parse.h"
#include "pool.h"

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

/*
 * Password checks
 *
 * Jobs move queue -> a worker -> done, all under pool->mtx.  The loop
 * thread alone frees jobs and counts them (npending), so a cancelled job
 * that a worker is running is simply skipped when it reaches done.
 *
 * SECURITY: login floods: the queue is one queue per client address
 * (flow), not one first-come first-served line.  A free worker takes
 * the oldest job of the flow that used the fewest checks lately (a count
 * halved every AUTH_FLOW_HALFLIFE_MS), so an address that sends wrong
 * passwords without pause only delays itself and others like it: a
 * login from a quiet address waits for at most the checks already
 * running.  Flows are remembered while idle (that is what "lately"
 * needs), at most AUTH_FLOWS_MAX of them; the least recently used idle
 * one makes room.
 */

#define AUTH_FLOWS_MAX		4096	/* addresses remembered */
#define AUTH_FLOW_BUCKETS	1024	/* hash buckets, power of 2 */
#define AUTH_FLOW_HALFLIFE_MS	10000	/* usage halves in this time */

/* Every flow with a queued job must fit, plus idle ones to evict. */
_Static_assert(AUTH_FLOWS_MAX > FTPS_AUTH_QUEUE_MAX, "AUTH_FLOWS_MAX");
_Static_assert((AUTH_FLOW_BUCKETS & (AUTH_FLOW_BUCKETS - 1)) == 0,
    "AUTH_FLOW_BUCKETS: a power of 2");

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct auth_flow;

struct auth_job {
	TAILQ_ENTRY(auth_job)	 entry;
	struct auth_pool	*pool;
	struct auth_flow	*flow;		/* while queued */
	unsigned long long	 seq;		/* arrival order */
	enum job_state		 state;
	int			 cancelled;
	int			 dummy;		/* check the dummy, fail */
	int			 ok;
	int			 tagged;	/* tag is for cache_gen */
	unsigned long		 cache_gen;
	struct auth_cache_tag	 tag;
	auth_done_cb		 cb;
	void			*arg;
	char			 hash[CRYPT_OUTPUT_SIZE];
	char			 pass[FTPS_PASS_MAX + 1];
};
TAILQ_HEAD(job_list, auth_job);

/* One client address's checks (all fields under pool->mtx). */
struct auth_flow {
	struct auth_flow	*next;		/* hash chain */
	TAILQ_ENTRY(auth_flow)	 entry;		/* active, or idle LRU */
	struct job_list		 jobs;		/* queued, oldest first */
	unsigned char		 key[AUTH_FLOW_LEN];
	uint64_t		 used;		/* checks << 10, decayed */
	int64_t			 used_ms;	/* when used was computed */
};
TAILQ_HEAD(flow_list, auth_flow);

struct auth_worker {
	struct auth_pool	*pool;
	pthread_t		 tid;
	struct crypt_data	 cd;
};

struct auth_pool {
	struct event_base	*base;
	struct event		*ev;
	int			 efd;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv;
	struct flow_list	 active;	/* mtx: flows with jobs */
	struct flow_list	 idle;		/* mtx: LRU first */
	struct auth_flow	*flowtab[AUTH_FLOW_BUCKETS];	/* mtx */
	size_t			 nflows;	/* mtx */
	size_t			 nqueued;	/* mtx */
	unsigned long long	 seq;		/* mtx */
	unsigned char		 seed[16];	/* flow hash */
	struct job_list		 done;		/* mtx */
	int			 stopping;	/* mtx */
	size_t			 npending;	/* loop thread only */
	struct auth_worker	*workers;
	unsigned		 nworkers;	/* started */
	char			 dummy[CRYPT_OUTPUT_SIZE];
	/* The login cache: loop thread only. */
	struct auth_cache	*cache;		/* NULL: off */
	unsigned long		 cache_gen;	/* bumped by set_cache */
	int64_t			 cache_ms;	/* entry lifetime */
	unsigned long		 cache_hits;
};

static void
job_free(struct auth_job *job)
{
	job->pool->npending--;
	OPENSSL_cleanse(job, sizeof(*job));
	free(job);
}

/* 1 when the password matches job->hash; cleanses the password. */
static int
job_verify(struct auth_job *job, struct crypt_data *cd)
{
	const char	*setting, *out;
	size_t		 n;
	int		 ok = 0;

	setting = job->dummy ? job->pool->dummy : job->hash;
	out = crypt_rn(job->pass, setting, cd, sizeof(*cd));
	if (out != NULL && !job->dummy && out[0] != '*') {
		n = strlen(job->hash);
		/* SECURITY: constant time, no early exit on a prefix. */
		if (strlen(out) == n && CRYPTO_memcmp(out, job->hash, n) == 0)
			ok = 1;
	}
	OPENSSL_cleanse(job->pass, sizeof(job->pass));
	OPENSSL_cleanse(cd, sizeof(*cd));
	return ok;
}

static int64_t
pool_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
flow_bucket(const struct auth_pool *pool, const unsigned char *key)
{
	uint64_t	 h;

	h = hash_fnv1a(HASH_FNV1A_INIT, pool->seed, sizeof(pool->seed));
	return (size_t)hash_fnv1a(h, key, AUTH_FLOW_LEN) &
	    (AUTH_FLOW_BUCKETS - 1);
}

/*
 * The flow's usage now, decayed since it was last computed: halved per
 * whole half-life, linear within one (no libm needed).
 */
static uint64_t
flow_usage(const struct auth_flow *f, int64_t now)
{
	int64_t		 dt = now - f->used_ms, k;
	uint64_t	 u = f->used;

	if (u == 0 || dt <= 0)
		return u;
	if ((k = dt / AUTH_FLOW_HALFLIFE_MS) >= 64)
		return 0;
	u >>= k;
	dt %= AUTH_FLOW_HALFLIFE_MS;
	return u - u * (uint64_t)dt / (2 * AUTH_FLOW_HALFLIFE_MS);
}

static void
flow_unlink(struct auth_pool *pool, struct auth_flow *f)
{
	struct auth_flow	**pp;

	for (pp = &pool->flowtab[flow_bucket(pool, f->key)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	pool->nflows--;
}

/*
 * The flow of key, made active (with mtx held); NULL when out of
 * memory.  A new flow may evict the least recently used idle one.
 */
static struct auth_flow *
flow_get(struct auth_pool *pool, const unsigned char *key)
{
	struct auth_flow	*f;
	size_t			 b = flow_bucket(pool, key);

	for (f = pool->flowtab[b]; f != NULL; f = f->next)
		if (memcmp(f->key, key, AUTH_FLOW_LEN) == 0)
			break;
	if (f != NULL) {
		if (TAILQ_EMPTY(&f->jobs)) {
			TAILQ_REMOVE(&pool->idle, f, entry);
			TAILQ_INSERT_TAIL(&pool->active, f, entry);
		}
		return f;
	}
	if (pool->nflows >= AUTH_FLOWS_MAX &&
	    (f = TAILQ_FIRST(&pool->idle)) != NULL) {
		TAILQ_REMOVE(&pool->idle, f, entry);
		flow_unlink(pool, f);
	} else if ((f = malloc(sizeof(*f))) == NULL)
		return NULL;
	memset(f, 0, sizeof(*f));
	memcpy(f->key, key, AUTH_FLOW_LEN);
	TAILQ_INIT(&f->jobs);
	f->next = pool->flowtab[b];
	pool->flowtab[b] = f;
	pool->nflows++;
	TAILQ_INSERT_TAIL(&pool->active, f, entry);
	return f;
}

/* Takes job off its flow's queue (mtx held). */
static void
flow_take(struct auth_pool *pool, struct auth_job *job)
{
	struct auth_flow	*f = job->flow;

	TAILQ_REMOVE(&f->jobs, job, entry);
	job->flow = NULL;
	pool->nqueued--;
	if (TAILQ_EMPTY(&f->jobs)) {
		TAILQ_REMOVE(&pool->active, f, entry);
		TAILQ_INSERT_TAIL(&pool->idle, f, entry);
	}
}

/*
 * The next job to run (mtx held): the oldest job of the flow with the
 * least usage, which is charged one check; NULL when none is queued.
 */
static struct auth_job *
flow_next(struct auth_pool *pool)
{
	struct auth_flow	*f, *best;
	struct auth_job		*job;
	uint64_t		 u, bestu;
	int64_t			 now = pool_now_ms();

	if ((best = TAILQ_FIRST(&pool->active)) == NULL)
		return NULL;
	bestu = flow_usage(best, now);
	for (f = TAILQ_NEXT(best, entry); f != NULL; f = TAILQ_NEXT(f, entry)) {
		u = flow_usage(f, now);
		if (u < bestu || (u == bestu && TAILQ_FIRST(&f->jobs)->seq <
		    TAILQ_FIRST(&best->jobs)->seq)) {
			best = f;
			bestu = u;
		}
	}
	best->used = bestu + 1024;
	best->used_ms = now;
	job = TAILQ_FIRST(&best->jobs);
	flow_take(pool, job);
	return job;
}

static void
flow_free_all(struct auth_pool *pool)
{
	struct auth_flow	*f;

	while ((f = TAILQ_FIRST(&pool->idle)) != NULL) {
		TAILQ_REMOVE(&pool->idle, f, entry);
		free(f);
	}
	while ((f = TAILQ_FIRST(&pool->active)) != NULL) {
		TAILQ_REMOVE(&pool->active, f, entry);
		free(f);
	}
	memset(pool->flowtab, 0, sizeof(pool->flowtab));
	pool->nflows = 0;
}

/* A full check of a tagged job succeeded: remember it. */
static void
pool_cache_put(struct auth_pool *pool, struct auth_job *job)
{
	if (pool->cache == NULL || !job->tagged ||
	    job->cache_gen != pool->cache_gen)
		return;
	if (auth_cache_insert(pool->cache, &job->tag,
	    (time_t)(pool_now_ms() + pool->cache_ms)) != 0)
		log_warnx("auth: login cache: out of memory");
}


static void *
auth_worker_main(void *arg)
{
	struct auth_worker	*w = arg;
	struct auth_pool	*pool = w->pool;
	struct auth_job		*job;
	int			 ok;

	pthread_mutex_lock(&pool->mtx);
	for (;;) {
		while (!pool->stopping && pool->nqueued == 0)
			pthread_cond_wait(&pool->cv, &pool->mtx);
		if (pool->stopping)
			break;
		if ((job = flow_next(pool)) == NULL) {
			/* nqueued and the flows disagree: trust the flows. */
			pool->nqueued = 0;
			continue;
		}
		job->state = JOB_RUNNING;
		pthread_mutex_unlock(&pool->mtx);

		/* The job stays allocated: only the loop frees DONE jobs. */
		ok = job_verify(job, &w->cd);

		pthread_mutex_lock(&pool->mtx);
		job->ok = ok;
		job->state = JOB_DONE;
		TAILQ_INSERT_TAIL(&pool->done, job, entry);
		pthread_mutex_unlock(&pool->mtx);
		pool_wake_post(pool->efd);
		pthread_mutex_lock(&pool->mtx);
	}
	pthread_mutex_unlock(&pool->mtx);
	return NULL;
}

/*
 * Delivers at most one callback per call and re-activates itself while
 * more are done: the pool is not touched after a callback, which may
 * cancel other jobs or free the session that owned it.
 */
static void
auth_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct auth_pool	*pool = arg;
	struct auth_job		*job;
	auth_done_cb		 cb;
	void			*cbarg;
	uint64_t		 v;
	int			 ok, more;

	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		log_warn("auth: eventfd read");
	for (;;) {
		pthread_mutex_lock(&pool->mtx);
		if ((job = TAILQ_FIRST(&pool->done)) != NULL)
			TAILQ_REMOVE(&pool->done, job, entry);
		more = !TAILQ_EMPTY(&pool->done);
		pthread_mutex_unlock(&pool->mtx);
		if (job == NULL)
			return;
		if (job->cancelled) {
			job_free(job);
			continue;
		}
		cb = job->cb;
		cbarg = job->arg;
		ok = job->ok;
		if (ok)
			pool_cache_put(pool, job);
		job_free(job);
		if (more)
			event_active(pool->ev, EV_READ, 0);
		cb(ok, cbarg);
		return;
	}
}

/* Stops and joins the started workers; jobs still queued are freed. */
static void
pool_stop(struct auth_pool *pool)
{
	struct auth_flow	*f;
	struct auth_job		*job;
	unsigned		 i;

	pthread_mutex_lock(&pool->mtx);
	pool->stopping = 1;
	while ((f = TAILQ_FIRST(&pool->active)) != NULL) {
		TAILQ_REMOVE(&pool->active, f, entry);
		while ((job = TAILQ_FIRST(&f->jobs)) != NULL) {
			TAILQ_REMOVE(&f->jobs, job, entry);
			job_free(job);
		}
		TAILQ_INSERT_TAIL(&pool->idle, f, entry);
	}
	pool->nqueued = 0;
	flow_free_all(pool);
	pthread_cond_broadcast(&pool->cv);
	pthread_mutex_unlock(&pool->mtx);
	for (i = 0; i < pool->nworkers; i++)
		pthread_join(pool->workers[i].tid, NULL);
	pool->nworkers = 0;
	while ((job = TAILQ_FIRST(&pool->done)) != NULL) {
		TAILQ_REMOVE(&pool->done, job, entry);
		job_free(job);
	}
}

/* The dummy hash for unknown users: default yescrypt cost. */
static int
pool_dummy(struct auth_pool *pool, struct crypt_data *cd)
{
	char		 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	unsigned char	 rnd[16];
	char		 pw[sizeof(rnd) * 2 + 1];
	const char	*out;
	size_t		 i;
	int		 r = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return FTPS_ETLS;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(pw + i * 2, 3, "%02x", rnd[i]);
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL ||
	    (out = crypt_rn(pw, salt, cd, sizeof(*cd))) == NULL ||
	    out[0] == '*')
		r = FTPS_ESYS;
	else
		r = str_copy(pool->dummy, sizeof(pool->dummy), out);
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(rnd, sizeof(rnd));
	OPENSSL_cleanse(cd, sizeof(*cd));
	return r;
}

int
auth_pool_new(struct event_base *base, unsigned nthreads,
    struct auth_pool **poolp)
{
	struct auth_pool	*pool;
	unsigned		 i;
	int			 r = 0, e;

	*poolp = NULL;
	if (nthreads == 0)
		nthreads = FTPS_AUTH_THREADS;
	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return FTPS_ENOMEM;
	pool->base = base;
	pool->efd = -1;
	TAILQ_INIT(&pool->active);
	TAILQ_INIT(&pool->idle);
	TAILQ_INIT(&pool->done);
	if (RAND_bytes(pool->seed, sizeof(pool->seed)) != 1) {
		free(pool);
		return FTPS_ETLS;
	}
	if ((e = pthread_mutex_init(&pool->mtx, NULL)) != 0) {
		free(pool);
		errno = e;
		return FTPS_ESYS;
	}
	if ((e = pthread_cond_init(&pool->cv, NULL)) != 0) {
		pthread_mutex_destroy(&pool->mtx);
		free(pool);
		errno = e;
		return FTPS_ESYS;
	}
	if ((pool->workers = calloc(nthreads,
	    sizeof(*pool->workers))) == NULL) {
		r = FTPS_ENOMEM;
		goto out;
	}
	if ((r = pool_dummy(pool, &pool->workers[0].cd)) != 0)
		goto out;
	if ((r = pool_wake_new(base, auth_wake_cb, pool, &pool->efd,
	    &pool->ev)) != 0)
		goto out;
	for (i = 0; i < nthreads; i++) {
		pool->workers[i].pool = pool;
		if ((e = pool_thread_start(&pool->workers[i].tid,
		    auth_worker_main, &pool->workers[i])) != 0) {
			errno = e;
			r = FTPS_ESYS;
			break;
		}
		pool->nworkers++;
	}
 out:
	if (r != 0) {
		e = errno;
		auth_pool_free(pool);
		errno = e;
		return r;
	}
	*poolp = pool;
	return 0;
}

void
auth_pool_free(struct auth_pool *pool)
{
	if (pool == NULL)
		return;
	pool_stop(pool);
	auth_cache_free(pool->cache);
	if (pool->ev != NULL)
		event_free(pool->ev);
	if (pool->efd != -1)
		close(pool->efd);
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mtx);
	if (pool->workers != NULL) {
		OPENSSL_cleanse(pool->workers, sizeof(*pool->workers));
		free(pool->workers);
	}
	OPENSSL_cleanse(pool->dummy, sizeof(pool->dummy));
	free(pool);
}

int
auth_check(struct auth_pool *pool, const char *hash, const char *password,
    auth_done_cb cb, void *arg, struct auth_job **jobp)
{
	return auth_check_user(pool, NULL, hash, password, cb, arg, jobp);
}

/*
 * The job passed a lookup in the login cache: it is done already, and is
 * delivered by auth_wake_cb like any other (never from inside the
 * caller's auth_check_user).
 */
static void
pool_cache_hit(struct auth_pool *pool, struct auth_job *job)
{
	OPENSSL_cleanse(job->pass, sizeof(job->pass));
	job->tagged = 0;
	job->ok = 1;
	job->state = JOB_DONE;
	pool->cache_hits++;
	log_debug("auth: password verified by the login cache");
	pool->npending++;
	pthread_mutex_lock(&pool->mtx);
	TAILQ_INSERT_TAIL(&pool->done, job, entry);
	pthread_mutex_unlock(&pool->mtx);
	event_active(pool->ev, EV_READ, 0);
}

int
auth_check_user(struct auth_pool *pool, const char *name, const char *hash,
    const char *password, auth_done_cb cb, void *arg, struct auth_job **jobp)
{
	return auth_check_from(pool, NULL, name, hash, password, cb, arg,
	    jobp);
}

int
auth_check_from(struct auth_pool *pool, const unsigned char *flow,
    const char *name, const char *hash, const char *password,
    auth_done_cb cb, void *arg, struct auth_job **jobp)
{
	static const unsigned char	 noflow[AUTH_FLOW_LEN];
	struct auth_job			*job;
	int				 r;

	*jobp = NULL;
	if (pool->npending >= FTPS_AUTH_QUEUE_MAX)
		return FTPS_ETOOBIG;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return FTPS_ENOMEM;
	job->pool = pool;
	job->cb = cb;
	job->arg = arg;
	job->state = JOB_QUEUED;
	/*
	 * SECURITY: every failure path still costs one hash of the dummy's
	 * cost, so the reply time does not reveal unknown or disabled
	 * accounts (user enumeration).
	 */
	if (str_copy(job->pass, sizeof(job->pass), password) != 0)
		job->dummy = 1;
	if (hash == NULL || hash[0] == '\0' || hash[0] == '!' ||
	    hash[0] == '*' ||
	    str_copy(job->hash, sizeof(job->hash), hash) != 0)
		job->dummy = 1;
	/*
	 * SECURITY: the cache only ever says yes: a miss, whatever its
	 * cause (a wrong password included), takes the full check below,
	 * so failures cost what they cost without the cache.
	 */
	if (pool->cache != NULL && name != NULL && !job->dummy) {
		r = auth_cache_lookup(pool->cache, name, job->hash, job->pass,
		    (time_t)pool_now_ms(), &job->tag);
		if (r == 1) {
			pool_cache_hit(pool, job);
			*jobp = job;
			return 0;
		}
		job->tagged = r == 0;
		job->cache_gen = pool->cache_gen;
	}
	pthread_mutex_lock(&pool->mtx);
	if ((job->flow = flow_get(pool, flow != NULL ? flow : noflow)) ==
	    NULL) {
		pthread_mutex_unlock(&pool->mtx);
		OPENSSL_cleanse(job, sizeof(*job));
		free(job);
		return FTPS_ENOMEM;
	}
	job->seq = pool->seq++;
	TAILQ_INSERT_TAIL(&job->flow->jobs, job, entry);
	pool->nqueued++;
	pool->npending++;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mtx);
	*jobp = job;
	return 0;
}

int
auth_pool_set_cache(struct auth_pool *pool, unsigned seconds, size_t max)
{
	int	 r = 0;

	/* SECURITY: the old key and entries are wiped, not kept around. */
	auth_cache_free(pool->cache);
	pool->cache = NULL;
	pool->cache_gen++;
	pool->cache_hits = 0;
	pool->cache_ms = (int64_t)seconds * 1000;
	if (seconds > 0 && (r = auth_cache_new(max, &pool->cache)) != 0)
		pool->cache = NULL;
	return r;
}

void
auth_pool_cache_stats(const struct auth_pool *pool, size_t *entries,
    unsigned long *hits)
{
	*entries = auth_cache_count(pool->cache);
	*hits = pool->cache_hits;
}

void
auth_cancel(struct auth_job *job)
{
	struct auth_pool	*pool;
	int			 queued;

	if (job == NULL)
		return;
	pool = job->pool;
	pthread_mutex_lock(&pool->mtx);
	queued = job->state == JOB_QUEUED;
	if (queued)
		flow_take(pool, job);
	job->cancelled = 1;
	job->cb = NULL;
	job->arg = NULL;
	pthread_mutex_unlock(&pool->mtx);
	if (queued)
		job_free(job);
}

size_t
auth_pool_pending(const struct auth_pool *pool)
{
	return pool->npending;
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
