/* tests/unit/check_auth.c: the users file and the password-check pool. */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <check.h>

#include <event2/event.h>

#include "auth.h"
#include "authpool.h"
#include "err.h"
#include "ftps_limits.h"

Suite		*unit_suite(void);

/* Real hashes of "secret", made once per test by hashes_setup(). */
static char	 h_yes[CRYPT_OUTPUT_SIZE], h_gy[CRYPT_OUTPUT_SIZE];
static char	 h_bcrypt[CRYPT_OUTPUT_SIZE], h_sha512[CRYPT_OUTPUT_SIZE];
static char	 tmpdir[64], upath[128];

static void
mkhash(const char *prefix, unsigned long cost, char *out)
{
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data	*cd;
	const char		*h;

	cd = calloc(1, sizeof(*cd));
	ck_assert_ptr_nonnull(cd);
	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, cost, NULL, 0, salt,
	    sizeof(salt)));
	h = crypt_rn("secret", salt, cd, sizeof(*cd));
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(snprintf(out, CRYPT_OUTPUT_SIZE, "%s", h),
	    (int)strlen(h));
	free(cd);
}

static void
hashes_setup(void)
{
	ck_assert_int_eq(auth_hash_password("secret", h_yes, sizeof(h_yes)),
	    0);
	mkhash("$gy$", 0, h_gy);
	mkhash("$2b$", 4, h_bcrypt);
	mkhash("$6$", 1000, h_sha512);
	ck_assert_int_lt(snprintf(tmpdir, sizeof(tmpdir),
	    "/tmp/check_auth.XXXXXX"), (int)sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(upath, sizeof(upath), "%s/users", tmpdir);
}

static void
hashes_teardown(void)
{
	unlink(upath);
	rmdir(tmpdir);
}

static void
write_file(const char *text, size_t len)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(upath, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Loads upath; the error text goes to *errs (caller frees). */
static struct userdb *
load(char **errs)
{
	struct userdb	*db;
	FILE		*ef;
	size_t		 n;

	ck_assert_ptr_nonnull(ef = open_memstream(errs, &n));
	ck_assert_int_eq(auth_users_load(upath, &db, ef), 0);
	fclose(ef);
	ck_assert_ptr_nonnull(db);
	return db;
}

static size_t
count_lines(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

START_TEST(good_file)
{
	struct userdb		*db;
	const struct user	*u;
	char			*text, *errs;

	ck_assert_int_gt(asprintf(&text,
	    "# ftpsd users\n"
	    "\n"
	    "   \t\n"
	    "  # indented comment\n"
	    "ann:%s:/srv/ftp/ann:rw\n"
	    "bob:%s:/srv/ftp/bob:r:password\n"
	    "c.d_e@example.com:%s:/home/c d:r\r\n"
	    "gus:%s:/srv/ftp/gus:rw\n"
	    "locked:!%s:/srv/ftp/locked:rw\n"
	    "star:*:/srv/ftp/star:r\n"
	    "A-9:%s:/:r",		/* no final newline */
	    h_yes, h_bcrypt, h_sha512, h_gy, h_yes, h_yes), 0);
	write_file(text, strlen(text));
	db = load(&errs);
	ck_assert_str_eq(errs, "");
	ck_assert_uint_eq(auth_users_errors(db), 0);
	ck_assert_uint_eq(auth_users_count(db), 7);

	ck_assert_ptr_nonnull(u = auth_user_find(db, "ann"));
	ck_assert_str_eq(u->name, "ann");
	ck_assert_str_eq(u->hash, h_yes);
	ck_assert_str_eq(u->home, "/srv/ftp/ann");
	ck_assert_uint_eq(u->perms, PERM_READ | PERM_WRITE);
	ck_assert_int_eq(u->disabled, 0);
	ck_assert_int_eq(u->method, AUTH_METHOD_PASSWORD);

	ck_assert_ptr_nonnull(u = auth_user_find(db, "bob"));
	ck_assert_uint_eq(u->perms, PERM_READ);
	ck_assert_str_eq(u->hash, h_bcrypt);

	ck_assert_ptr_nonnull(u = auth_user_find(db, "c.d_e@example.com"));
	ck_assert_str_eq(u->home, "/home/c d");
	ck_assert_str_eq(u->hash, h_sha512);
	ck_assert_uint_eq(u->perms, PERM_READ);

	ck_assert_ptr_nonnull(u = auth_user_find(db, "gus"));
	ck_assert_str_eq(u->hash, h_gy);

	ck_assert_ptr_nonnull(u = auth_user_find(db, "locked"));
	ck_assert_int_eq(u->disabled, 1);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "star"));
	ck_assert_int_eq(u->disabled, 1);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "A-9"));
	ck_assert_str_eq(u->home, "/");

	ck_assert_ptr_null(auth_user_find(db, "Ann"));
	ck_assert_ptr_null(auth_user_find(db, "nobody"));
	ck_assert_ptr_null(auth_user_find(db, ""));
	ck_assert_ptr_null(auth_user_find(NULL, "ann"));
	auth_users_free(db);
	free(errs);
	free(text);
}
END_TEST

START_TEST(login_methods)
{
	struct userdb		*db;
	const struct user	*u;
	char			*text, *errs;

	ck_assert_int_gt(asprintf(&text,
	    "pw:%s:/srv/pw:rw:password\n"
	    "crt::/srv/crt:rw:cert\n"
	    "both:%s:/srv/both:r:cert+password\n"
	    "off:!:/srv/off:r:cert\n"
	    "off2:*:/srv/off2:r:cert\n"
	    "offb:!%s:/srv/offb:r:cert+password\n"
	    "dflt:%s:/srv/dflt:r\r\n"
	    "crlf::/srv/crlf:r:cert\r\n",
	    h_yes, h_bcrypt, h_yes, h_sha512), 0);
	write_file(text, strlen(text));
	db = load(&errs);
	ck_assert_str_eq(errs, "");
	ck_assert_uint_eq(auth_users_count(db), 8);

	ck_assert_ptr_nonnull(u = auth_user_find(db, "pw"));
	ck_assert_int_eq(u->method, AUTH_METHOD_PASSWORD);
	ck_assert_int_eq(u->disabled, 0);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "crt"));
	ck_assert_int_eq(u->method, AUTH_METHOD_CERT);
	ck_assert_int_eq(u->disabled, 0);
	ck_assert_str_eq(u->hash, "");
	ck_assert_ptr_nonnull(u = auth_user_find(db, "both"));
	ck_assert_int_eq(u->method, AUTH_METHOD_CERT_PASSWORD);
	ck_assert_str_eq(u->hash, h_bcrypt);
	ck_assert_uint_eq(u->perms, PERM_READ);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "off"));
	ck_assert_int_eq(u->method, AUTH_METHOD_CERT);
	ck_assert_int_eq(u->disabled, 1);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "off2"));
	ck_assert_int_eq(u->disabled, 1);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "offb"));
	ck_assert_int_eq(u->method, AUTH_METHOD_CERT_PASSWORD);
	ck_assert_int_eq(u->disabled, 1);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "dflt"));
	ck_assert_int_eq(u->method, AUTH_METHOD_PASSWORD);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "crlf"));
	ck_assert_int_eq(u->method, AUTH_METHOD_CERT);
	ck_assert_str_eq(u->home, "/srv/crlf");
	auth_users_free(db);
	free(errs);
	free(text);
}
END_TEST

START_TEST(policy_options)
{
	struct userdb		*db;
	const struct user	*u;
	struct user		*d;
	char			*text, *errs;

	ck_assert_int_gt(asprintf(&text,
	    "opt:%s:/srv/opt:rw::data_session_reuse=optional\n"
	    "both:%s:/srv/both:r:password:data_tls=optional,"
	    "data_session_reuse=OFF\r\n"
	    "crt::/srv/crt:rw:cert:data_tls=required\n"
	    "none:%s:/srv/none:rw::\n"
	    "dflt:%s:/srv/dflt:rw\n",
	    h_yes, h_yes, h_yes, h_yes), 0);
	write_file(text, strlen(text));
	db = load(&errs);
	ck_assert_str_eq(errs, "");
	ck_assert_uint_eq(auth_users_count(db), 5);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "opt"));
	ck_assert_int_eq(u->method, AUTH_METHOD_PASSWORD);
	ck_assert_int_eq(u->policy.data_session_reuse, CONF_REUSE_OPTIONAL);
	ck_assert_int_eq(u->policy.data_tls, CONF_POLICY_UNSET);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "both"));
	ck_assert_int_eq(u->policy.data_tls, CONF_TLS_OPTIONAL);
	ck_assert_int_eq(u->policy.data_session_reuse, CONF_REUSE_OFF);
	ck_assert_ptr_nonnull(d = auth_user_dup(u));
	ck_assert_int_eq(d->policy.data_session_reuse, CONF_REUSE_OFF);
	auth_user_free(d);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "crt"));
	ck_assert_int_eq(u->method, AUTH_METHOD_CERT);
	ck_assert_int_eq(u->policy.data_tls, CONF_TLS_REQUIRED);
	ck_assert_int_eq(u->policy.data_session_reuse, CONF_POLICY_UNSET);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "none"));
	ck_assert_int_eq(u->policy.data_tls, CONF_POLICY_UNSET);
	ck_assert_int_eq(u->policy.data_session_reuse, CONF_POLICY_UNSET);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "dflt"));
	ck_assert_int_eq(u->policy.data_tls, CONF_POLICY_UNSET);
	ck_assert_int_eq(u->policy.data_session_reuse, CONF_POLICY_UNSET);
	auth_users_free(db);
	free(errs);
	free(text);
}
END_TEST

START_TEST(method_names)
{
	enum auth_method	 m = AUTH_METHOD_CERT;

	ck_assert_int_eq(auth_method_parse("password", &m), 0);
	ck_assert_int_eq(m, AUTH_METHOD_PASSWORD);
	ck_assert_int_eq(auth_method_parse("cert", &m), 0);
	ck_assert_int_eq(m, AUTH_METHOD_CERT);
	ck_assert_int_eq(auth_method_parse("cert+password", &m), 0);
	ck_assert_int_eq(m, AUTH_METHOD_CERT_PASSWORD);
	ck_assert_int_eq(auth_method_parse("", &m), FTPS_EPARSE);
	ck_assert_int_eq(auth_method_parse("CERT", &m), FTPS_EPARSE);
	ck_assert_int_eq(m, AUTH_METHOD_CERT_PASSWORD);	/* unchanged */
	ck_assert_str_eq(auth_method_name(AUTH_METHOD_PASSWORD), "password");
	ck_assert_str_eq(auth_method_name(AUTH_METHOD_CERT), "cert");
	ck_assert_str_eq(auth_method_name(AUTH_METHOD_CERT_PASSWORD),
	    "cert+password");
}
END_TEST

/*
 * USER with a client certificate: account (method, disabled), the name
 * sent, whether a verified certificate came and its CN -> the action.
 */
static const struct {
	int			 exists;
	enum auth_method	 method;
	int			 disabled;
	const char		*name;
	int			 has_cert;
	const char		*cn;
	enum auth_cert_action	 want;
} decide[] = {
	/* No certificate: password accounts as ever, cert ones refused. */
	{ 1, AUTH_METHOD_PASSWORD, 0, "ann", 0, NULL, AUTH_CERT_PASSWORD },
	{ 1, AUTH_METHOD_PASSWORD, 1, "ann", 0, NULL, AUTH_CERT_PASSWORD },
	{ 0, AUTH_METHOD_PASSWORD, 0, "nobody", 0, NULL, AUTH_CERT_PASSWORD },
	{ 1, AUTH_METHOD_CERT, 0, "ann", 0, NULL, AUTH_CERT_REFUSE },
	{ 1, AUTH_METHOD_CERT_PASSWORD, 0, "ann", 0, NULL, AUTH_CERT_REFUSE },
	/* A matching certificate. */
	{ 1, AUTH_METHOD_CERT, 0, "ann", 1, "ann", AUTH_CERT_LOGIN },
	{ 1, AUTH_METHOD_CERT, 1, "ann", 1, "ann", AUTH_CERT_REFUSE },
	{ 1, AUTH_METHOD_CERT_PASSWORD, 0, "ann", 1, "ann",
	    AUTH_CERT_PASSWORD },
	{ 1, AUTH_METHOD_CERT_PASSWORD, 1, "ann", 1, "ann",
	    AUTH_CERT_REFUSE },
	{ 1, AUTH_METHOD_PASSWORD, 0, "ann", 1, "ann", AUTH_CERT_PASSWORD },
	{ 0, AUTH_METHOD_PASSWORD, 0, "ann", 1, "ann", AUTH_CERT_PASSWORD },
	/* A certificate for someone else: refused whatever the account. */
	{ 1, AUTH_METHOD_CERT, 0, "bob", 1, "ann", AUTH_CERT_MISMATCH },
	{ 1, AUTH_METHOD_PASSWORD, 0, "bob", 1, "ann", AUTH_CERT_MISMATCH },
	{ 1, AUTH_METHOD_CERT_PASSWORD, 0, "bob", 1, "ann",
	    AUTH_CERT_MISMATCH },
	{ 0, AUTH_METHOD_PASSWORD, 0, "anonymous", 1, "ann",
	    AUTH_CERT_MISMATCH },
	/* Case matters, as for user names. */
	{ 1, AUTH_METHOD_CERT, 0, "Ann", 1, "ann", AUTH_CERT_MISMATCH },
	{ 1, AUTH_METHOD_CERT, 0, "ann", 1, "ann ", AUTH_CERT_MISMATCH },
	/* A certificate without a usable CN names nobody. */
	{ 1, AUTH_METHOD_CERT, 0, "ann", 1, NULL, AUTH_CERT_MISMATCH },
	{ 1, AUTH_METHOD_PASSWORD, 0, "ann", 1, NULL, AUTH_CERT_MISMATCH },
};

START_TEST(cert_decide)
{
	struct user	 u;

	memset(&u, 0, sizeof(u));
	u.name = (char *)"ann";
	u.method = decide[_i].method;
	u.disabled = decide[_i].disabled;
	ck_assert_int_eq(auth_cert_decide(decide[_i].exists ? &u : NULL,
	    decide[_i].name, decide[_i].has_cert, decide[_i].cn),
	    decide[_i].want);
}
END_TEST

/* tmpl with every "%s" replaced by hash; the caller frees. */
static char *
expand(const char *tmpl, const char *hash)
{
	char	*out, *o;
	size_t	 n = strlen(tmpl) + 1;
	const char *p;

	for (p = tmpl; (p = strstr(p, "%s")) != NULL; p += 2)
		n += strlen(hash);
	ck_assert_ptr_nonnull(out = malloc(n));
	for (o = out, p = tmpl; *p != '\0'; ) {
		if (p[0] == '%' && p[1] == 's') {
			o = stpcpy(o, hash);
			p += 2;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/*
 * Each bad line sits on line 3 between two good users.  %s in line is
 * replaced by a real yescrypt hash; want is part of the message.
 */
static const struct {
	const char	*line, *want;
} bad[] = {
	{ "eve:%s:/srv/eve",		"too few fields" },
	{ "eve",			"too few fields" },
	{ "eve:%s:/srv/eve:rw:password:x:y", "too many fields" },
	{ "eve:%s:/a:r:password:::",	"too many fields" },
	{ "eve:%s:/srv/eve:rw:password:x", "field 6 (options): \"x\" is not "
					"key=value" },
	{ "eve:%s:/srv/eve:rw::data_session_reuse=maybe",
	    "field 6 (options): data_session_reuse: \"maybe\" is not one of: "
	    "required, optional, off" },
	{ "eve:%s:/srv/eve:rw::data_tls=off", "data_tls: \"off\" is not one "
					"of: required, optional" },
	{ "eve:%s:/srv/eve:rw::tls=optional", "unknown setting \"tls\" (one "
					"of: data_tls, data_session_reuse)" },
	{ "eve:%s:/srv/eve:rw::data_tls=optional,", "\"\" is not key=value" },
	{ "eve:%s:/srv/eve:rw::data_tls=optional,data_tls=required",
					"data_tls given twice" },
	{ "eve:%s:/srv/eve:rw:crt:data_tls=optional",
					"unknown login method in field 5" },
	{ ":%s:/srv/eve:rw",		"bad user name" },
	{ "-eve:%s:/srv/eve:rw",	"bad user name" },
	{ ".eve:%s:/srv/eve:rw",	"bad user name" },
	{ "e ve:%s:/srv/eve:rw",	"bad user name" },
	{ " eve:%s:/srv/eve:rw",	"bad user name" },
	{ "e/ve:%s:/srv/eve:rw",	"bad user name" },
	{ "\xc3\xa9ve:%s:/srv/eve:rw",	"bad user name \"\\xc3\\xa9ve\"" },
	{ "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	    ":%s:/srv/eve:rw",		"bad user name" },	/* 65 */
	{ "eve::/srv/eve:rw",		"empty password hash" },
	{ "eve:abJnggxhB/yWI:/srv/eve:rw", "traditional DES" },
	{ "eve:$1$66IaMamt$EAU3TQqKya5HMYX22KEaf0:/srv/eve:rw", "MD5-crypt" },
	{ "eve:$5$h2sMtU8z9FGSD/yR$BbjpX.TPz5Pn6fKGWYBQf0S.TsstxzHi6X4dLff8K58"
	    ":/srv/eve:rw",		"sha256crypt" },
	{ "eve:$3$$8cc19b6a8cfeac299c2871c86b38de28:/srv/eve:rw", "NT hash" },
	{ "eve:_J9..qm24GYqhcazDARk:/srv/eve:rw", "BSDi" },
	{ "eve:$2x$05$AiyDg0YvnHJSQMJV.v8iH.QfCA6LSQKNaf3uRj0nH/TbK9pfyuN16"
	    ":/srv/eve:rw",		"buggy" },
	{ "eve:$7$CU..../....GXxVXSl5OrRSLwTPxEH5z1$xBn9p3jHZHfGKLTHYiKvbf6"
	    "7LEbRfGBlEJjBejH4a3B:/srv/eve:rw", "unsupported hash method" },
	{ "eve:plaintext:/srv/eve:rw",	"unknown hash form" },
	{ "eve:$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o:/srv/eve:rw",
					"truncated" },
	{ "eve:$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC."
	    "5i5rd.RhAt%7:/srv/eve:rw", "truncated or damaged" },
	{ "eve:$2b$05$AiyDg0YvnHJSQMJV.v8iH.QfCA6LSQKNaf3uRj0nH/TbK9pfyuN1"
	    ":/srv/eve:rw",		"truncated" },
	{ "eve:%s:srv/eve:rw",		"home must be an absolute path" },
	{ "eve:%s::rw",			"home must be an absolute path" },
	{ "eve:%s:~eve:rw",		"home must be an absolute path" },
	{ "eve:%s:/srv/\teve:rw",	"control characters" },
	{ "eve:%s:/srv/eve:w",		"perms must be" },
	{ "eve:%s:/srv/eve:rwx",	"perms must be" },
	{ "eve:%s:/srv/eve:",		"perms must be" },
	{ "eve:%s:/srv/eve:rw ",	"perms must be" },
	{ "eve:%s:/srv/eve:rw:certificate", "unknown login method in field 5" },
	{ "eve:%s:/srv/eve:rw:",	"unknown login method in field 5" },
	{ "eve:%s:/srv/eve:rw:Password", "unknown login method" },
	{ "eve:%s:/srv/eve:rw:Cert",	"use password, cert or cert+password" },
	{ "eve:%s:/srv/eve:rw:password+cert", "unknown login method" },
	{ "eve:%s:/srv/eve:rw:cert ",	"unknown login method" },
	{ "eve:%s:/srv/eve:rw:cert",	"method cert takes no password: leave "
					"the hash field empty" },
	{ "eve::/srv/eve:rw:cert+password", "empty password hash" },
	{ "eve::/srv/eve:rw:password",	"empty password hash" },
	{ "eve:$1$66IaMamt$EAU3TQqKya5HMYX22KEaf0:/srv/eve:rw:cert+password",
					"MD5-crypt" },
	{ "eve::/srv/eve:rx:cert",	"perms must be" },
	{ "ann:%s:/srv/other:r",	"duplicate, already defined on line 1" },
};

START_TEST(bad_line)
{
	struct userdb		*db;
	const struct user	*u;
	char			*line, *text, *errs, *prefix, *hash, *end;

	line = expand(bad[_i].line, h_yes);
	ck_assert_int_gt(asprintf(&text,
	    "ann:%s:/srv/ann:rw\n# comment\n%s\nzed:%s:/srv/zed:r\n",
	    h_yes, line, h_bcrypt), 0);
	write_file(text, strlen(text));
	db = load(&errs);

	ck_assert_int_gt(asprintf(&prefix, "%s:3: ", upath), 0);
	ck_assert_msg(strncmp(errs, prefix, strlen(prefix)) == 0,
	    "want %s..., got %s", prefix, errs);
	ck_assert_msg(strstr(errs, bad[_i].want) != NULL,
	    "want \"%s\" in %s", bad[_i].want, errs);
	ck_assert_uint_eq(count_lines(errs), 1);
	ck_assert_uint_eq(auth_users_errors(db), 1);
	/* SECURITY: no hash ever reaches an error message. */
	if ((hash = strchr(line, ':')) != NULL &&
	    (end = strchr(++hash, ':')) != NULL && end - hash >= 8) {
		*end = '\0';
		ck_assert_ptr_null(strstr(errs, hash));
	}

	ck_assert_uint_eq(auth_users_count(db), 2);
	ck_assert_ptr_null(auth_user_find(db, "eve"));
	ck_assert_ptr_nonnull(u = auth_user_find(db, "ann"));
	ck_assert_str_eq(u->home, "/srv/ann");	/* the first one wins */
	ck_assert_ptr_nonnull(auth_user_find(db, "zed"));
	auth_users_free(db);
	free(prefix);
	free(errs);
	free(text);
	free(line);
}
END_TEST

START_TEST(overlong_and_nul)
{
	struct userdb	*db;
	char		*text, *errs, *p, *want;
	size_t		 len, n;

	/* Line 2 is AUTH_LINE_MAX + 1 bytes, line 4 holds a NUL byte. */
	len = 3 * 200 + AUTH_LINE_MAX + 1 + 4;
	ck_assert_ptr_nonnull(text = malloc(len + 1));
	p = text;
	p += sprintf(p, "ann:%s:/srv/ann:rw\n", h_bcrypt);
	p += sprintf(p, "long:%s:/", h_bcrypt);
	n = AUTH_LINE_MAX + 1 - (size_t)(p - strchr(text, '\n') - 1) - 3;
	memset(p, 'x', n);
	p += n;
	p += sprintf(p, ":rw\n");
	p += sprintf(p, "bob:%s:/srv/bob:r\n", h_bcrypt);
	p += sprintf(p, "nul:%s:/srv/n", h_bcrypt);
	*p++ = '\0';
	p += sprintf(p, "ul:r\n");
	p += sprintf(p, "cat:%s:/srv/cat:r", h_bcrypt);
	ck_assert_uint_le((size_t)(p - text), len);
	write_file(text, (size_t)(p - text));
	db = load(&errs);

	ck_assert_int_gt(asprintf(&want, "%s:2: line longer than %d bytes\n"
	    "%s:4: line contains a NUL byte\n", upath, AUTH_LINE_MAX, upath),
	    0);
	ck_assert_str_eq(errs, want);
	ck_assert_uint_eq(auth_users_count(db), 3);
	ck_assert_ptr_nonnull(auth_user_find(db, "ann"));
	ck_assert_ptr_nonnull(auth_user_find(db, "bob"));
	ck_assert_ptr_nonnull(auth_user_find(db, "cat"));
	ck_assert_ptr_null(auth_user_find(db, "long"));
	ck_assert_ptr_null(auth_user_find(db, "nul"));
	auth_users_free(db);
	free(want);
	free(errs);
	free(text);
}
END_TEST

START_TEST(longest_line_loads)
{
	struct userdb		*db;
	const struct user	*u;
	char			*text, *errs, *home;
	char			 name[FTPS_USER_MAX + 1];

	/* The longest name, hash, home and the method field still fit. */
	memset(name, 'n', FTPS_USER_MAX);
	name[FTPS_USER_MAX] = '\0';
	ck_assert_ptr_nonnull(home = malloc(FTPS_PATH_MAX));
	home[0] = '/';
	memset(home + 1, 'h', FTPS_PATH_MAX - 2);
	home[FTPS_PATH_MAX - 1] = '\0';
	ck_assert_int_gt(asprintf(&text, "%s:%s:%s:rw:password\n", name,
	    h_sha512, home), 0);
	ck_assert_uint_le(strlen(text) - 1, AUTH_LINE_MAX);
	write_file(text, strlen(text));
	db = load(&errs);
	ck_assert_str_eq(errs, "");
	ck_assert_ptr_nonnull(u = auth_user_find(db, name));
	ck_assert_str_eq(u->home, home);
	auth_users_free(db);
	free(errs);
	free(text);
	free(home);
}
END_TEST

START_TEST(missing_file)
{
	struct userdb	*db = (struct userdb *)1;
	char		*errs, *want;
	size_t		 n;
	FILE		*ef;

	ck_assert_ptr_nonnull(ef = open_memstream(&errs, &n));
	ck_assert_int_eq(auth_users_load(upath, &db, ef), FTPS_ESYS);
	ck_assert_int_eq(errno, ENOENT);
	fclose(ef);
	ck_assert_ptr_null(db);
	ck_assert_int_gt(asprintf(&want, "%s: %s\n", upath, strerror(ENOENT)),
	    0);
	ck_assert_str_eq(errs, want);
	free(want);
	free(errs);

	/* A folder opens but cannot be read. */
	ck_assert_int_eq(auth_users_load(tmpdir, &db, NULL), FTPS_ESYS);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_ptr_null(db);
}
END_TEST

/* Writes n users "uN"; returns the db. */
static struct userdb *
load_many(size_t n, char **errs)
{
	FILE	*fp;
	size_t	 i;

	ck_assert_ptr_nonnull(fp = fopen(upath, "w"));
	for (i = 0; i < n; i++)
		fprintf(fp, "u%zu:%s:/srv/u%zu:%s\n", i, h_yes, i,
		    i % 2 ? "r" : "rw");
	ck_assert_int_eq(fclose(fp), 0);
	return load(errs);
}

START_TEST(large_file)
{
	struct userdb		*db;
	const struct user	*u;
	char			*errs, name[32], home[32];
	size_t			 i;

	db = load_many(10000, &errs);
	ck_assert_str_eq(errs, "");
	ck_assert_uint_eq(auth_users_count(db), 10000);
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "u%zu", i);
		snprintf(home, sizeof(home), "/srv/u%zu", i);
		u = auth_user_find(db, name);
		ck_assert_ptr_nonnull(u);
		ck_assert_str_eq(u->home, home);
		ck_assert_uint_eq(u->perms,
		    i % 2 ? PERM_READ : PERM_READ | PERM_WRITE);
		snprintf(name, sizeof(name), "v%zu", i);
		ck_assert_ptr_null(auth_user_find(db, name));
	}
	auth_users_free(db);
	free(errs);
}
END_TEST

START_TEST(users_max)
{
	struct userdb	*db;
	char		*errs, *want;

	db = load_many(FTPS_USERS_MAX + 1, &errs);
	ck_assert_int_gt(asprintf(&want, "%s:%d: user u%d: too many users "
	    "(at most %d)\n", upath, FTPS_USERS_MAX + 1, FTPS_USERS_MAX,
	    FTPS_USERS_MAX), 0);
	ck_assert_str_eq(errs, want);
	ck_assert_uint_eq(auth_users_count(db), FTPS_USERS_MAX);
	ck_assert_ptr_nonnull(auth_user_find(db, "u99999"));
	ck_assert_ptr_null(auth_user_find(db, "u100000"));
	auth_users_free(db);
	free(want);
	free(errs);
}
END_TEST

START_TEST(user_dup)
{
	struct userdb		*db;
	const struct user	*u;
	struct user		*d;
	char			*text, *errs;

	ck_assert_int_gt(asprintf(&text, "ann:!%s:/srv/ann:r\n", h_yes), 0);
	write_file(text, strlen(text));
	db = load(&errs);
	ck_assert_ptr_nonnull(u = auth_user_find(db, "ann"));
	ck_assert_ptr_nonnull(d = auth_user_dup(u));
	ck_assert_ptr_ne(d->name, u->name);
	ck_assert_ptr_ne(d->hash, u->hash);
	ck_assert_ptr_ne(d->home, u->home);
	auth_users_free(db);	/* the copy outlives a reload */
	ck_assert_str_eq(d->name, "ann");
	ck_assert_str_eq(d->hash + 1, h_yes);
	ck_assert_str_eq(d->home, "/srv/ann");
	ck_assert_uint_eq(d->perms, PERM_READ);
	ck_assert_int_eq(d->disabled, 1);
	auth_user_free(d);
	auth_user_free(NULL);
	free(errs);
	free(text);
}
END_TEST

/*
 * Password checks
 */

struct result {
	int		 calls;
	int		 ok;
	int		 want;
	pthread_t	 thread;
};

static struct event_base	*base;
static struct auth_pool		*pool;

static void
pool_setup(void)
{
	hashes_setup();
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_int_eq(auth_pool_new(base, 2, &pool), 0);
}

static void
pool_teardown(void)
{
	auth_pool_free(pool);
	event_base_free(base);
	hashes_teardown();
}

static void
done_cb(int ok, void *arg)
{
	struct result	*res = arg;

	res->calls++;
	res->ok = ok;
	res->thread = pthread_self();
}

static void
never_cb(int ok, void *arg)
{
	ck_abort_msg("callback of a cancelled job ran");
}

/*
 * Waits (without running the loop, so no callback is delivered) until a
 * worker has checked job; at most 10 s.
 */
static void
wait_checked(struct auth_job *job)
{
	struct timespec	 pause = { 0, 1000000 };
	int		 i;

	for (i = 0; i < 10000 && !auth_job_checked(job); i++)
		nanosleep(&pause, NULL);
	ck_assert_msg(auth_job_checked(job), "no worker checked the job "
	    "within 10 s");
}

/* Runs the loop until the pool has nothing left in flight. */
static void
run_idle(void)
{
	while (auth_pool_pending(pool) > 0)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
}

static int
check_one(const char *hash, const char *pw)
{
	struct result	 res = { 0, -1, 0, 0 };
	struct auth_job	*job;

	ck_assert_int_eq(auth_check(pool, hash, pw, done_cb, &res, &job), 0);
	ck_assert_ptr_nonnull(job);
	run_idle();
	ck_assert_int_eq(res.calls, 1);
	/* Completion comes back on the loop thread. */
	ck_assert(pthread_equal(res.thread, pthread_self()));
	return res.ok;
}

START_TEST(check_passwords)
{
	char	 locked[CRYPT_OUTPUT_SIZE + 1], *longpw;

	ck_assert_int_eq(check_one(h_yes, "secret"), 1);
	ck_assert_int_eq(check_one(h_yes, "Secret"), 0);
	ck_assert_int_eq(check_one(h_yes, ""), 0);
	ck_assert_int_eq(check_one(h_gy, "secret"), 1);
	ck_assert_int_eq(check_one(h_bcrypt, "secret"), 1);
	ck_assert_int_eq(check_one(h_bcrypt, "secreT"), 0);
	ck_assert_int_eq(check_one(h_sha512, "secret"), 1);
	ck_assert_int_eq(check_one(h_sha512, "secret "), 0);
	ck_assert_int_eq(check_one(NULL, "secret"), 0);		/* unknown */
	ck_assert_int_eq(check_one(NULL, ""), 0);
	snprintf(locked, sizeof(locked), "!%s", h_yes);
	ck_assert_int_eq(check_one(locked, "secret"), 0);	/* disabled */
	ck_assert_int_eq(check_one("*", "secret"), 0);
	ck_assert_int_eq(check_one("garbage", "secret"), 0);
	ck_assert_int_eq(check_one("", "secret"), 0);		/* cert only */
	ck_assert_int_eq(check_one("", ""), 0);

	/* Beyond FTPS_PASS_MAX never matches, even with a correct prefix. */
	ck_assert_ptr_nonnull(longpw = malloc(FTPS_PASS_MAX + 2));
	memset(longpw, 'p', FTPS_PASS_MAX + 1);
	longpw[FTPS_PASS_MAX + 1] = '\0';
	ck_assert_int_eq(check_one(h_yes, longpw), 0);
	free(longpw);
}
END_TEST

START_TEST(cancel_never_calls)
{
	struct auth_job	*jobs[6];
	size_t		 i;

	for (i = 0; i < 6; i++)
		ck_assert_int_eq(auth_check(pool, i % 2 ? h_yes : NULL,
		    "secret", never_cb, NULL, &jobs[i]), 0);
	/* Some done, some running, some queued when they are cancelled. */
	wait_checked(jobs[0]);
	for (i = 0; i < 6; i++)
		auth_cancel(jobs[i]);
	auth_cancel(NULL);
	run_idle();
	ck_assert_uint_eq(auth_pool_pending(pool), 0);
}
END_TEST

START_TEST(cancel_done_job)
{
	struct auth_job	*job;

	/* Finished and waiting on the loop: cancel still wins. */
	ck_assert_int_eq(auth_check(pool, h_bcrypt, "secret", never_cb, NULL,
	    &job), 0);
	wait_checked(job);
	ck_assert_uint_eq(auth_pool_pending(pool), 1);
	auth_cancel(job);
	/* Freed by the loop's delivery, never_cb not called. */
	run_idle();
	ck_assert_uint_eq(auth_pool_pending(pool), 0);
}
END_TEST

struct canceller {
	struct auth_job	*victim;
	int		 calls;
};

static void
cancel_other_cb(int ok, void *arg)
{
	struct canceller	*c = arg;

	c->calls++;
	auth_cancel(c->victim);
}

START_TEST(cancel_from_callback)
{
	struct canceller	 c = { NULL, 0 };
	struct auth_job		*first;

	/*
	 * A session freed by another's callback cancels its own job.  One
	 * worker: jobs finish in the order queued.
	 */
	auth_pool_free(pool);
	ck_assert_int_eq(auth_pool_new(base, 1, &pool), 0);
	ck_assert_int_eq(auth_check(pool, h_bcrypt, "x", cancel_other_cb, &c,
	    &first), 0);
	ck_assert_int_eq(auth_check(pool, h_bcrypt, "secret", never_cb, NULL,
	    &c.victim), 0);
	/* Both done before the first callback runs. */
	wait_checked(c.victim);
	run_idle();
	ck_assert_int_eq(c.calls, 1);
}
END_TEST

START_TEST(many_concurrent)
{
	struct result	 res[50];
	struct auth_job	*job;
	const char	*hash, *pw;
	size_t		 i;

	memset(res, 0, sizeof(res));
	for (i = 0; i < 50; i++) {
		switch (i % 4) {
		case 0:
			hash = h_yes, pw = "secret", res[i].want = 1;
			break;
		case 1:
			hash = h_yes, pw = "wrong", res[i].want = 0;
			break;
		case 2:
			hash = NULL, pw = "secret", res[i].want = 0;
			break;
		default:
			hash = h_bcrypt, pw = "secret", res[i].want = 1;
			break;
		}
		res[i].ok = -1;
		ck_assert_int_eq(auth_check(pool, hash, pw, done_cb, &res[i],
		    &job), 0);
	}
	ck_assert_uint_eq(auth_pool_pending(pool), 50);
	run_idle();
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(res[i].calls, 1);
		ck_assert_int_eq(res[i].ok, res[i].want);
	}
}
END_TEST

START_TEST(queue_full)
{
	struct auth_job	*jobs[FTPS_AUTH_QUEUE_MAX], *extra;
	struct result	 res = { 0, -1, 0, 0 };
	size_t		 i;

	for (i = 0; i < FTPS_AUTH_QUEUE_MAX; i++)
		ck_assert_int_eq(auth_check(pool, NULL, "x", never_cb, NULL,
		    &jobs[i]), 0);
	extra = (struct auth_job *)1;
	ck_assert_int_eq(auth_check(pool, NULL, "x", never_cb, NULL, &extra),
	    FTPS_ETOOBIG);
	ck_assert_ptr_null(extra);
	for (i = 0; i < FTPS_AUTH_QUEUE_MAX; i++)
		auth_cancel(jobs[i]);
	run_idle();

	/* Room again once the cancelled jobs are gone. */
	ck_assert_int_eq(auth_check(pool, h_bcrypt, "secret", done_cb, &res,
	    &extra), 0);
	run_idle();
	ck_assert_int_eq(res.calls, 1);
	ck_assert_int_eq(res.ok, 1);
}
END_TEST

START_TEST(free_with_pending)
{
	struct auth_job	*job, *first = NULL;
	size_t		 i;

	/* Jobs queued, running and done: all freed, no callback (leaks?). */
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(auth_check(pool, i % 2 ? h_bcrypt : NULL,
		    "secret", never_cb, NULL, i == 0 ? &first : &job), 0);
	wait_checked(first);
	auth_pool_free(pool);
	pool = NULL;
	ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
}
END_TEST

/* Completion order of flow checks: rank[i] is 1 for the first done. */
struct ranked {
	int		*next;
	int		 rank;
};

static void
rank_cb(int ok, void *arg)
{
	struct ranked	*r = arg;

	r->rank = ++*r->next;
}

static void
flow_key(unsigned char *key, unsigned char id)
{
	memset(key, 0, AUTH_FLOW_LEN);
	key[0] = 4;
	key[4] = id;
}

/* Queues n wrong-password checks in flow key, ranked through next. */
static void
queue_ranked(const unsigned char *key, struct ranked *r, int n, int *next)
{
	struct auth_job	*job;
	int		 i;

	for (i = 0; i < n; i++) {
		r[i].next = next;
		ck_assert_int_eq(auth_check_from(pool, key, NULL, h_yes, "no",
		    rank_cb, &r[i], &job), 0);
	}
}

/*
 * SECURITY: login floods: checks queue per address.  FIFO ran 40 checks
 * of one address before the 41st, another address's.
 */
START_TEST(flood_waits_in_its_own_flow)
{
	struct ranked	 a[40], b, c;
	unsigned char	 ka[AUTH_FLOW_LEN], kb[AUTH_FLOW_LEN];
	unsigned char	 kc[AUTH_FLOW_LEN];
	int		 next = 0, i, a_first10 = 0;

	flow_key(ka, 1);
	flow_key(kb, 2);
	flow_key(kc, 3);
	queue_ranked(ka, a, 40, &next);
	queue_ranked(kb, &b, 1, &next);
	run_idle();
	/*
	 * Only the checks already running (2 workers; a few more when this
	 * thread was slow to queue on a loaded machine) go first.
	 */
	ck_assert_int_le(b.rank, 10);

	/*
	 * Usage is remembered while a flow is idle: a new address c goes
	 * before the flooder's next checks, queued first.
	 */
	next = 0;
	queue_ranked(ka, a, 30, &next);
	queue_ranked(kc, &c, 1, &next);
	run_idle();
	ck_assert_int_le(c.rank, 10);

	/* Two busy flows share the workers about equally. */
	next = 0;
	queue_ranked(kb, a, 10, &next);
	queue_ranked(kc, a + 10, 10, &next);
	run_idle();
	for (i = 0; i < 10; i++)
		a_first10 += a[i].rank <= 10;
	ck_assert_msg(a_first10 >= 3 && a_first10 <= 7,
	    "%d of the first 10 checks from one of two flows", a_first10);
}
END_TEST

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

START_TEST(unknown_user_timing)
{
	double	 t, known = 1e9, unknown = 1e9;
	int	 i;

	/*
	 * The dummy hash has the default yescrypt cost, like h_yes: the
	 * fastest of a few runs each must agree within a generous 3x.
	 */
	for (i = 0; i < 5; i++) {
		t = now_ms();
		ck_assert_int_eq(check_one(h_yes, "wrong"), 0);
		t = now_ms() - t;
		known = t < known ? t : known;
		t = now_ms();
		ck_assert_int_eq(check_one(NULL, "wrong"), 0);
		t = now_ms() - t;
		unknown = t < unknown ? t : unknown;
	}
	ck_assert_msg(unknown < 3 * known && known < 3 * unknown,
	    "known %.1f ms, unknown %.1f ms", known, unknown);
}
END_TEST

START_TEST(hash_password)
{
	struct crypt_data	*cd;
	char			 h1[CRYPT_OUTPUT_SIZE], h2[CRYPT_OUTPUT_SIZE];
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	char			 small[16], *longpw;
	const char		*out, *p;

	ck_assert_int_eq(auth_hash_password("pa:ss word", h1, sizeof(h1)), 0);
	ck_assert_int_eq(strncmp(h1, "$y$", 3), 0);
	ck_assert_int_eq(auth_hash_password("pa:ss word", h2, sizeof(h2)), 0);
	ck_assert_str_ne(h1, h2);	/* random salt */

	ck_assert_ptr_nonnull(cd = calloc(1, sizeof(*cd)));
	ck_assert_ptr_nonnull(out = crypt_rn("pa:ss word", h1, cd,
	    sizeof(*cd)));
	ck_assert_str_eq(out, h1);
	ck_assert_ptr_nonnull(out = crypt_rn("pa:ss words", h1, cd,
	    sizeof(*cd)));
	ck_assert_str_ne(out, h1);
	free(cd);
	/*
	 * libxcrypt's default yescrypt cost, which the dummy hash for
	 * unknown users uses too: "$y$" PARAMS "$".
	 */
	ck_assert_ptr_nonnull(crypt_gensalt_rn("$y$", 0, NULL, 0, salt,
	    sizeof(salt)));
	ck_assert_ptr_nonnull(p = strchr(salt + 3, '$'));
	ck_assert_int_eq(strncmp(h1, salt, (size_t)(p - salt) + 1), 0);

	ck_assert_int_eq(auth_hash_password("", h1, sizeof(h1)), FTPS_EPARSE);
	ck_assert_int_eq(auth_hash_password("x", small, sizeof(small)),
	    FTPS_ETOOBIG);
	ck_assert_ptr_nonnull(longpw = malloc(FTPS_PASS_MAX + 2));
	memset(longpw, 'p', FTPS_PASS_MAX + 1);
	longpw[FTPS_PASS_MAX + 1] = '\0';
	ck_assert_int_eq(auth_hash_password(longpw, h1, sizeof(h1)),
	    FTPS_ETOOBIG);
	longpw[FTPS_PASS_MAX] = '\0';
	ck_assert_int_eq(auth_hash_password(longpw, h1, sizeof(h1)), 0);
	ck_assert_int_eq(check_one(h1, longpw), 1);
	free(longpw);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("auth");
	TCase	*tc;

	tc = tcase_create("users");
	tcase_add_checked_fixture(tc, hashes_setup, hashes_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, good_file);
	tcase_add_loop_test(tc, bad_line, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, overlong_and_nul);
	tcase_add_test(tc, longest_line_loads);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, large_file);
	tcase_add_test(tc, users_max);
	tcase_add_test(tc, user_dup);
	tcase_add_test(tc, login_methods);
	tcase_add_test(tc, policy_options);
	suite_add_tcase(s, tc);

	tc = tcase_create("methods");
	tcase_add_test(tc, method_names);
	tcase_add_loop_test(tc, cert_decide, 0, sizeof(decide) /
	    sizeof(decide[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, check_passwords);
	tcase_add_test(tc, cancel_never_calls);
	tcase_add_test(tc, cancel_done_job);
	tcase_add_test(tc, cancel_from_callback);
	tcase_add_test(tc, many_concurrent);
	tcase_add_test(tc, queue_full);
	tcase_add_test(tc, free_with_pending);
	tcase_add_test(tc, unknown_user_timing);
	tcase_add_test(tc, flood_waits_in_its_own_flow);
	tcase_add_test(tc, hash_password);
	suite_add_tcase(s, tc);
	return s;
}
