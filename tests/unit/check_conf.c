/* tests/unit/check_conf.c: the ftpsd.conf parser. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

#include "conf.h"
#include "err.h"
#include "ftps_limits.h"

#ifndef SRCDIR
#error "SRCDIR must name the source tree"
#endif
#define SAMPLE	SRCDIR "/config/ftpsd.conf.sample"

Suite	*unit_suite(void);

/* Per-test scratch folder (each test runs in its own forked child). */
static char	 tmpdir[] = "/tmp/check_conf.XXXXXX";
static char	 tmpfile_path[PATH_MAX];
static struct conf	 conf;

/* Captured error output. */
static char	*errtext;
static size_t	 errlen;
static FILE	*errf;

static void
setup(void)
{
	strcpy(tmpdir, "/tmp/check_conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/ftpsd.conf", tmpdir);
	ck_assert_int_eq(conf_init(&conf), 0);
	errtext = NULL;
	errlen = 0;
	errf = open_memstream(&errtext, &errlen);
	ck_assert_ptr_nonnull(errf);
}

static void
teardown(void)
{
	conf_free(&conf);
	if (errf != NULL)
		fclose(errf);
	free(errtext);
	unlink(tmpfile_path);
	rmdir(tmpdir);
}

/* Everything printed to errf so far. */
static const char *
errors(void)
{
	fflush(errf);
	return errtext != NULL ? errtext : "";
}

static void
reset_errors(void)
{
	fclose(errf);
	free(errtext);
	errtext = NULL;
	errlen = 0;
	errf = open_memstream(&errtext, &errlen);
	ck_assert_ptr_nonnull(errf);
}

static void
write_file(const char *path, const void *text, size_t len)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Writes text to the scratch ftpsd.conf and loads it. */
static int
load_text(const char *text)
{
	write_file(tmpfile_path, text, strlen(text));
	return conf_load(&conf, tmpfile_path, errf);
}

static int
key_index(const char *key)
{
	size_t	 i;

	for (i = 0; conf_key_name(i) != NULL; i++)
		if (strcmp(conf_key_name(i), key) == 0)
			return (int)i;
	ck_abort_msg("no key %s", key);
	return -1;
}

static const char *
value_of(const struct conf *c, const char *key)
{
	static char	 buf[1024];

	ck_assert_int_eq(conf_value(c, (size_t)key_index(key), buf,
	    sizeof(buf)), 0);
	return buf;
}

START_TEST(defaults)
{
	size_t	 i;

	ck_assert_int_eq(conf.nlisten, 2);
	ck_assert_str_eq(conf.listen[0], "0.0.0.0");
	ck_assert_str_eq(conf.listen[1], "::");
	ck_assert_uint_eq(conf.explicit_port, 21);
	ck_assert_uint_eq(conf.implicit_port, 990);
	ck_assert_int_eq(conf.tls, CONF_TLS_REQUIRED);
	ck_assert_int_eq(conf.data_tls, CONF_TLS_REQUIRED);
	ck_assert_int_eq(conf.data_session_reuse, CONF_REUSE_REQUIRED);
	ck_assert_int_eq(conf.prot_default, CONF_PROT_C);
	ck_assert_str_eq(conf.certs_dir, FTPS_CERTSDIR);
	ck_assert_ptr_null(conf.certificate);
	ck_assert_uint_eq(conf.pasv_min_port, 49152);
	ck_assert_uint_eq(conf.pasv_max_port, 65534);
	ck_assert_ptr_null(conf.pasv_address);
	ck_assert_str_eq(conf.users_file, FTPS_SYSCONFDIR "/ftpsd/users");
	ck_assert_int_eq(conf.anonymous, 0);
	ck_assert_ptr_null(conf.anonymous_root);
	ck_assert_uint_eq(conf.max_clients, 512);
	ck_assert_uint_eq(conf.max_clients_per_ip, 32);
	ck_assert_uint_eq(conf.ipv6_prefix, 64);
	ck_assert_uint_eq(conf.idle_timeout, 300);
	ck_assert_uint_eq(conf.login_timeout, 60);
	ck_assert_uint_eq(conf.data_timeout, 120);
	ck_assert_uint_eq(conf.auth_threads, FTPS_AUTH_THREADS);
	ck_assert_uint_eq(conf.file_umask, 022);
	ck_assert_int_eq(conf.log, CONF_LOG_AUTO);
	ck_assert_int_eq(conf.log_debug, 0);
	ck_assert_int_eq(conf.tls_client_cert, CONF_TLS_OFF);
	ck_assert_ptr_null(conf.tls_client_ca);
	ck_assert_ptr_null(conf.tls_crl);
	for (i = 0; i < CONF_NKEYS; i++)
		ck_assert_uint_eq(conf.c_line[i], 0);
	ck_assert_ptr_nonnull(conf_key_name(CONF_NKEYS - 1));
	ck_assert_ptr_null(conf_key_name(CONF_NKEYS));
	/* The built-in defaults pass the cross-key checks. */
	ck_assert_int_eq(conf_check(&conf, "x.conf", errf), 0);
	ck_assert_str_eq(errors(), "");
}
END_TEST

/* Accepted values, and how conf_value spells them back. */
static const struct {
	const char	*key, *in, *want;
} valid[] = {
	{ "listen_addresses",	"127.0.0.1",		"127.0.0.1" },
	{ "listen_addresses",	"127.0.0.1 ::1",	"127.0.0.1, ::1" },
	{ "listen_addresses",	"127.0.0.1,::1",	"127.0.0.1, ::1" },
	{ "listen_addresses",	" 10.0.0.1 , , ::1\t",	"10.0.0.1, ::1" },
	{ "listen_addresses",	"0:0:0:0:0:0:0:0001",	"::1" },
	{ "listen_addresses",	"::ffff:192.0.2.1",	"::ffff:192.0.2.1" },
	{ "listen_addresses",	"1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 "
	    "1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9 1.1.1.10 1.1.1.11 1.1.1.12 "
	    "1.1.1.13 1.1.1.14 1.1.1.15 1.1.1.16", "1.1.1.1, 1.1.1.2, "
	    "1.1.1.3, 1.1.1.4, 1.1.1.5, 1.1.1.6, 1.1.1.7, 1.1.1.8, 1.1.1.9, "
	    "1.1.1.10, 1.1.1.11, 1.1.1.12, 1.1.1.13, 1.1.1.14, 1.1.1.15, "
	    "1.1.1.16" },
	{ "explicit_port",	"0",		"0" },
	{ "explicit_port",	"2121",		"2121" },
	{ "explicit_port",	"65535",	"65535" },
	{ "implicit_port",	"0",		"0" },
	{ "implicit_port",	"9900",		"9900" },
	{ "tls",		"required",	"required" },
	{ "tls",		"optional",	"optional" },
	{ "tls",		"OFF",		"off" },
	{ "data_tls",		"optional",	"optional" },
	{ "data_tls",		"Required",	"required" },
	{ "data_session_reuse",	"required",	"required" },
	{ "data_session_reuse",	"optional",	"optional" },
	{ "data_session_reuse",	"off",		"off" },
	{ "prot_default",	"p",		"P" },
	{ "prot_default",	"C",		"C" },
	{ "certs_dir",		"/etc/ftpsd/certs",	"/etc/ftpsd/certs" },
	{ "certs_dir",		"//a//b/./c/.",		"/a/b/c" },
	{ "certs_dir",		"/a/../b/",		"/a/../b" },
	{ "certs_dir",		"/",			"/" },
	{ "certificate",	"localhost",	"localhost" },
	{ "certificate",	"www.example-2_x", "www.example-2_x" },
	{ "certificate",	"",		"" },
	{ "pasv_min_port",	"1024",		"1024" },
	{ "pasv_max_port",	"65535",	"65535" },
	{ "pasv_address",	"203.0.113.7",	"203.0.113.7" },
	{ "pasv_address",	"",		"" },
	{ "users_file",		"/etc/ftpsd/users",	"/etc/ftpsd/users" },
	{ "anonymous",		"on",		"on" },
	{ "anonymous",		"yes",		"on" },
	{ "anonymous",		"off",		"off" },
	{ "anonymous_root",	"/srv/ftp",	"/srv/ftp" },
	{ "anonymous_root",	"/srv/my ftp",	"/srv/my ftp" },
	{ "anonymous_root",	"",		"" },
	{ "max_clients",	"1",		"1" },
	{ "max_clients",	"100000",	"100000" },
	{ "max_clients_per_ip",	"1",		"1" },
	{ "ipv6_prefix",	"16",		"16" },
	{ "ipv6_prefix",	"56",		"56" },
	{ "ipv6_prefix",	"128",		"128" },
	{ "idle_timeout",	"1",		"1" },
	{ "idle_timeout",	"86400",	"86400" },
	{ "login_timeout",	"30",		"30" },
	{ "data_timeout",	"86400",	"86400" },
	{ "auth_threads",	"1",		"1" },
	{ "auth_threads",	"64",		"64" },
	{ "file_umask",		"022",		"022" },
	{ "file_umask",		"0022",		"022" },
	{ "file_umask",		"0",		"000" },
	{ "file_umask",		"777",		"777" },
	{ "file_umask",		"0077",		"077" },
	{ "log",		"auto",		"auto" },
	{ "log",		"stderr",	"stderr" },
	{ "log",		"syslog",	"syslog" },
	{ "log_debug",		"on",		"on" },
	{ "log_debug",		"0",		"off" },
	{ "tls_client_cert",	"off",		"off" },
	{ "tls_client_cert",	"Optional",	"optional" },
	{ "tls_client_cert",	"required",	"required" },
	{ "tls_client_ca",	"/etc/ftpsd/clients.pem", "/etc/ftpsd/clients.pem" },
	{ "tls_client_ca",	"",		"" },
	{ "tls_crl",		"/etc/ftpsd/certs/ca/crl.pem",
	    "/etc/ftpsd/certs/ca/crl.pem" },
	{ "tls_crl",		"//x/./crl.pem",	"/x/crl.pem" },
	{ "tls_crl",		"",		"" },
};

START_TEST(valid_value)
{
	int	 i = key_index(valid[_i].key);

	ck_assert_int_eq(conf_set(&conf, valid[_i].key, valid[_i].in,
	    "t.conf", 7, errf), 0);
	ck_assert_str_eq(errors(), "");
	ck_assert_str_eq(value_of(&conf, valid[_i].key), valid[_i].want);
	ck_assert_uint_eq(conf.c_line[i], 7);
}
END_TEST

/* Refused values: the exact message after "t.conf:7: ". */
static const struct {
	const char	*key, *in, *msg;
} invalid[] = {
	{ "listen_addresses", "localhost",
	    "listen_addresses: \"localhost\" is not a numeric IPv4 or IPv6 "
	    "address" },
	{ "listen_addresses", "[::1]",
	    "listen_addresses: \"[::1]\" is not a numeric IPv4 or IPv6 "
	    "address" },
	{ "listen_addresses", "fe80::1%eth0",
	    "listen_addresses: \"fe80::1%eth0\" is not a numeric IPv4 or "
	    "IPv6 address" },
	{ "listen_addresses", "127.0.0.1 256.0.0.1",
	    "listen_addresses: \"256.0.0.1\" is not a numeric IPv4 or IPv6 "
	    "address" },
	{ "listen_addresses", "127.0.0.1; ::1",
	    "listen_addresses: \"127.0.0.1;\" is not a numeric IPv4 or IPv6 "
	    "address" },
	{ "listen_addresses", "::1 0:0::1",
	    "listen_addresses: \"0:0::1\" is listed twice" },
	{ "listen_addresses", " , ",
	    "listen_addresses: no address given" },
	{ "listen_addresses", "1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 "
	    "1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9 1.1.1.10 1.1.1.11 1.1.1.12 "
	    "1.1.1.13 1.1.1.14 1.1.1.15 1.1.1.16 1.1.1.17",
	    "listen_addresses: more than 16 addresses" },
	{ "listen_addresses", "",
	    "listen_addresses: missing value" },
	{ "explicit_port", "65536",
	    "explicit_port: \"65536\" is not a number from 1 to 65535, or 0 "
	    "for off" },
	{ "explicit_port", "-1",
	    "explicit_port: \"-1\" is not a number from 1 to 65535, or 0 for "
	    "off" },
	{ "implicit_port", "ftps",
	    "implicit_port: \"ftps\" is not a number from 1 to 65535, or 0 "
	    "for off" },
	{ "tls", "yes",
	    "tls: \"yes\" is not one of: required, optional, off" },
	{ "data_tls", "off",
	    "data_tls: \"off\" is not one of: required, optional" },
	{ "data_session_reuse", "always",
	    "data_session_reuse: \"always\" is not one of: required, "
	    "optional, off" },
	{ "prot_default", "S",
	    "prot_default: \"S\" is not one of: C, P" },
	{ "certs_dir", "",
	    "certs_dir: missing value" },
	{ "certificate", "../etc/passwd",
	    "certificate: \"../etc/passwd\" is not a certificate name (1 to "
	    "64 letters, digits, '_', and '.' or '-' after the first)" },
	{ "certificate", ".hidden",
	    "certificate: \".hidden\" is not a certificate name (1 to 64 "
	    "letters, digits, '_', and '.' or '-' after the first)" },
	{ "certificate", "-rf",
	    "certificate: \"-rf\" is not a certificate name (1 to 64 "
	    "letters, digits, '_', and '.' or '-' after the first)" },
	{ "certificate", "a b",
	    "certificate: \"a b\" is not a certificate name (1 to 64 "
	    "letters, digits, '_', and '.' or '-' after the first)" },
	{ "certificate",
	    "a12345678901234567890123456789012345678901234567890123456789012345",
	    "certificate: \"a1234567890123456789012345678901234567890123456"
	    "7890123456789012345\" is not a certificate name (1 to 64 "
	    "letters, digits, '_', and '.' or '-' after the first)" },
	{ "pasv_min_port", "1023",
	    "pasv_min_port: \"1023\" is not a number from 1024 to 65535" },
	{ "pasv_max_port", "0",
	    "pasv_max_port: \"0\" is not a number from 1024 to 65535" },
	{ "pasv_address", "::1",
	    "pasv_address: \"::1\" is not a numeric IPv4 address" },
	{ "pasv_address", "example.com",
	    "pasv_address: \"example.com\" is not a numeric IPv4 address" },
	{ "pasv_address", "10.0.0",
	    "pasv_address: \"10.0.0\" is not a numeric IPv4 address" },
	{ "users_file", "",
	    "users_file: missing value" },
	{ "anonymous", "maybe",
	    "anonymous: \"maybe\" is not on or off" },
	{ "anonymous_root", "srv/ftp",
	    "anonymous_root: \"srv/ftp\" is not an absolute path" },
	{ "anonymous_root", "\"/srv/ftp\"",
	    "anonymous_root: \"\\x22/srv/ftp\\x22\" is not an absolute "
	    "path" },
	{ "max_clients", "0",
	    "max_clients: \"0\" is not a number from 1 to 100000" },
	{ "max_clients", "100001",
	    "max_clients: \"100001\" is not a number from 1 to 100000" },
	{ "max_clients_per_ip", "1e3",
	    "max_clients_per_ip: \"1e3\" is not a number from 1 to 100000" },
	{ "ipv6_prefix", "0",
	    "ipv6_prefix: \"0\" is not a number from 16 to 128" },
	{ "ipv6_prefix", "129",
	    "ipv6_prefix: \"129\" is not a number from 16 to 128" },
	{ "ipv6_prefix", "/64",
	    "ipv6_prefix: \"/64\" is not a number from 16 to 128" },
	{ "idle_timeout", "abc",
	    "idle_timeout: \"abc\" is not a number from 1 to 86400" },
	{ "idle_timeout", "0",
	    "idle_timeout: \"0\" is not a number from 1 to 86400" },
	{ "idle_timeout", "86401",
	    "idle_timeout: \"86401\" is not a number from 1 to 86400" },
	{ "idle_timeout", "99999999999999999999999",
	    "idle_timeout: \"99999999999999999999999\" is not a number from "
	    "1 to 86400" },
	{ "login_timeout", "5s",
	    "login_timeout: \"5s\" is not a number from 1 to 86400" },
	{ "data_timeout", "+5",
	    "data_timeout: \"+5\" is not a number from 1 to 86400" },
	{ "auth_threads", "65",
	    "auth_threads: \"65\" is not a number from 1 to 64" },
	{ "file_umask", "088",
	    "file_umask: \"088\" is not an octal mask from 000 to 777" },
	{ "file_umask", "1777",
	    "file_umask: \"1777\" is not an octal mask from 000 to 777" },
	{ "file_umask", "0x12",
	    "file_umask: \"0x12\" is not an octal mask from 000 to 777" },
	{ "log", "file",
	    "log: \"file\" is not one of: auto, stderr, syslog" },
	{ "log_debug", "2",
	    "log_debug: \"2\" is not on or off" },
	{ "log_debug", "o\033[2Jn",
	    "log_debug: \"o\\x1b[2Jn\" is not on or off" },
	{ "idle_timeout", "",
	    "idle_timeout: missing value" },
	{ "tls_client_cert", "yes",
	    "tls_client_cert: \"yes\" is not one of: required, optional, "
	    "off" },
	{ "tls_client_cert", "",
	    "tls_client_cert: missing value" },
};

START_TEST(invalid_value)
{
	char	 before[1024], want[1024];
	int	 i = key_index(invalid[_i].key);

	ck_assert_int_eq(conf_value(&conf, (size_t)i, before,
	    sizeof(before)), 0);
	ck_assert_int_eq(conf_set(&conf, invalid[_i].key, invalid[_i].in,
	    "t.conf", 7, errf), FTPS_EPARSE);
	snprintf(want, sizeof(want), "t.conf:7: %s\n", invalid[_i].msg);
	ck_assert_str_eq(errors(), want);
	/* A refused value leaves the old one in place. */
	ck_assert_str_eq(value_of(&conf, invalid[_i].key), before);
	ck_assert_uint_eq(conf.c_line[i], 0);
}
END_TEST

START_TEST(brief_example)
{
	ck_assert_int_eq(conf_set(&conf, "idle_timeout", "abc",
	    "ftpsd.conf", 12, errf), FTPS_EPARSE);
	ck_assert_str_eq(errors(), "ftpsd.conf:12: idle_timeout: \"abc\" is "
	    "not a number from 1 to 86400\n");
}
END_TEST

static const struct {
	const char	*key, *msg;
} unknown[] = {
	{ "foo",		"unknown key \"foo\"" },
	{ "idle_timout",	"unknown key \"idle_timout\" (did you mean "
	    "\"idle_timeout\"?)" },
	{ "Idle_Timeout",	"unknown key \"Idle_Timeout\" (did you mean "
	    "\"idle_timeout\"?)" },
	{ "idle-timeout",	"unknown key \"idle-timeout\" (did you mean "
	    "\"idle_timeout\"?)" },
	{ "umask",		"unknown key \"umask\" (did you mean "
	    "\"file_umask\"?)" },
	{ "listen",		"unknown key \"listen\" (did you mean "
	    "\"listen_addresses\"?)" },
	{ "pasv_min",		"unknown key \"pasv_min\" (did you mean "
	    "\"pasv_min_port\"?)" },
	{ "timeout",		"unknown key \"timeout\"" },
	{ "ssl",		"unknown key \"ssl\"" },
	{ "anonymus",		"unknown key \"anonymus\" (did you mean "
	    "\"anonymous\"?)" },
	{ "explicit_prot",	"unknown key \"explicit_prot\" (did you mean "
	    "\"explicit_port\"?)" },
	{ "certs",		"unknown key \"certs\" (did you mean "
	    "\"certs_dir\"?)" },
	{ "bad\001key",		"unknown key \"bad\\x01key\"" },
};

START_TEST(unknown_key)
{
	char	 want[512];

	ck_assert_int_eq(conf_set(&conf, unknown[_i].key, "1", "t.conf", 3,
	    errf), FTPS_EPARSE);
	snprintf(want, sizeof(want), "t.conf:3: %s\n", unknown[_i].msg);
	ck_assert_str_eq(errors(), want);
}
END_TEST

START_TEST(load_file)
{
	char	 want[PATH_MAX + 64];

	ck_assert_int_eq(load_text(
	    "# a comment\n"
	    "\n"
	    "   \t\n"
	    "\t# indented comment\n"
	    "listen_addresses = 127.0.0.1, ::1\n"
	    "explicit_port=2121\n"
	    "implicit_port\t=\t9900   # trailing comment\n"
	    "anonymous_root = /srv/ftp#2 # the # glued to text is kept\n"
	    "anonymous = on\r\n"
	    "certificate = localhost\n"
	    "tls = optional # comment = with equals\n"
	    "certs_dir = certs\n"
	    "users_file = ../etc/./users\n"
	    "log_debug = on"), 0);
	ck_assert_str_eq(errors(), "");
	ck_assert_int_eq(conf.nlisten, 2);
	ck_assert_str_eq(conf.listen[0], "127.0.0.1");
	ck_assert_str_eq(conf.listen[1], "::1");
	ck_assert_ptr_null(conf.listen[2]);
	ck_assert_uint_eq(conf.explicit_port, 2121);
	ck_assert_uint_eq(conf.implicit_port, 9900);
	ck_assert_str_eq(conf.anonymous_root, "/srv/ftp#2");
	ck_assert_int_eq(conf.anonymous, 1);
	ck_assert_str_eq(conf.certificate, "localhost");
	ck_assert_int_eq(conf.tls, CONF_TLS_OPTIONAL);
	ck_assert_int_eq(conf.log_debug, 1);
	/* Relative paths: beside the file, stored absolute. */
	snprintf(want, sizeof(want), "%s/certs", tmpdir);
	ck_assert_str_eq(conf.certs_dir, want);
	snprintf(want, sizeof(want), "%s/../etc/users", tmpdir);
	ck_assert_str_eq(conf.users_file, want);
	/* Where each key was set, for conf_check's messages. */
	ck_assert_uint_eq(conf.c_line[key_index("listen_addresses")], 5);
	ck_assert_uint_eq(conf.c_line[key_index("log_debug")], 14);
	ck_assert_uint_eq(conf.c_line[key_index("idle_timeout")], 0);
	ck_assert_int_eq(conf_check(&conf, tmpfile_path, errf), 0);
	ck_assert_str_eq(errors(), "");
}
END_TEST

/* A relative config path gets an absolute base too. */
START_TEST(relative_config_path)
{
	char	 cwd[PATH_MAX], want[PATH_MAX + 64];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/tmp"), 0);
	write_file(tmpfile_path, "certs_dir = certs\n", 18);
	ck_assert_int_eq(conf_load(&conf, tmpfile_path + strlen("/tmp/"),
	    errf), 0);
	snprintf(want, sizeof(want), "%s/certs", tmpdir);
	ck_assert_str_eq(conf.certs_dir, want);
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_int_eq(conf_load(&conf, "ftpsd.conf", errf), 0);
	ck_assert_str_eq(conf.certs_dir, want);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_str_eq(errors(), "");
}
END_TEST

START_TEST(every_error_reported)
{
	char	 want[3 * PATH_MAX];
	int	 n;

	n = snprintf(want, sizeof(want),
	    "%s:2: idle_timeout: \"abc\" is not a number from 1 to 86400\n"
	    "%s:4: unknown key \"foo\"\n"
	    "%s:6: expected \"key = value\", not \"anonymous on\"\n",
	    tmpfile_path, tmpfile_path, tmpfile_path);
	ck_assert_int_lt(n, (int)sizeof(want));
	ck_assert_int_eq(load_text(
	    "explicit_port = 2121\n"
	    "idle_timeout = abc\n"
	    "# fine\n"
	    "foo = 1\n"
	    "login_timeout = 10\n"
	    "anonymous on\n"
	    "data_timeout = 20\n"), -3);
	ck_assert_str_eq(errors(), want);
	/* The good lines around the bad ones still apply. */
	ck_assert_uint_eq(conf.explicit_port, 2121);
	ck_assert_uint_eq(conf.login_timeout, 10);
	ck_assert_uint_eq(conf.data_timeout, 20);
}
END_TEST

START_TEST(duplicate_key)
{
	char	 want[PATH_MAX + 128];

	ck_assert_int_eq(load_text(
	    "idle_timeout = 10\n"
	    "login_timeout = 10\n"
	    "idle_timeout = 20\n"), -1);
	snprintf(want, sizeof(want), "%s:3: duplicate key \"idle_timeout\" "
	    "(first set on line 1)\n", tmpfile_path);
	ck_assert_str_eq(errors(), want);
	ck_assert_uint_eq(conf.idle_timeout, 10);
	/* A second load is a new file: the same key is no duplicate. */
	reset_errors();
	ck_assert_int_eq(load_text("idle_timeout = 30\n"), 0);
	ck_assert_uint_eq(conf.idle_timeout, 30);
}
END_TEST

START_TEST(syntax_errors)
{
	static const char	 text[] =
	    " = 5\n"
	    "tls = off\033\n"
	    "tls = o\0ff\n"
	    "just words # and = in a comment\n";
	char			 want[4 * PATH_MAX];
	int			 n;

	n = snprintf(want, sizeof(want),
	    "%s:1: missing key before \"=\"\n"
	    "%s:2: line holds control character 0x1b\n"
	    "%s:3: line holds a NUL byte\n"
	    "%s:4: expected \"key = value\", not \"just words\"\n",
	    tmpfile_path, tmpfile_path, tmpfile_path, tmpfile_path);
	ck_assert_int_lt(n, (int)sizeof(want));
	write_file(tmpfile_path, text, sizeof(text) - 1);
	ck_assert_int_eq(conf_load(&conf, tmpfile_path, errf), -4);
	ck_assert_str_eq(errors(), want);
	ck_assert_int_eq(conf.tls, CONF_TLS_REQUIRED);
}
END_TEST

START_TEST(overlong_line)
{
	char	*text, want[PATH_MAX + 128];
	size_t	 pre = strlen("anonymous_root = /");

	/* Exactly FTPS_CONF_LINE_MAX bytes before the newline: accepted. */
	text = malloc(2 * FTPS_CONF_LINE_MAX + 64);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "anonymous_root = /", pre);
	memset(text + pre, 'a', FTPS_CONF_LINE_MAX - pre);
	strcpy(text + FTPS_CONF_LINE_MAX, "\n");
	ck_assert_int_eq(load_text(text), 0);
	ck_assert_uint_eq(strlen(conf.anonymous_root),
	    FTPS_CONF_LINE_MAX - pre + 1);

	/* One more byte: an error, not a truncated value. */
	conf_free(&conf);
	ck_assert_int_eq(conf_init(&conf), 0);
	strcpy(text, "# first\n");
	memcpy(text + 8, "anonymous_root = /", pre);
	memset(text + 8 + pre, 'a', FTPS_CONF_LINE_MAX + 1 - pre);
	strcpy(text + 8 + FTPS_CONF_LINE_MAX + 1, "\nidle_timeout = 7\n");
	ck_assert_int_eq(load_text(text), -1);
	snprintf(want, sizeof(want), "%s:2: line is longer than %d bytes\n",
	    tmpfile_path, FTPS_CONF_LINE_MAX);
	ck_assert_str_eq(errors(), want);
	ck_assert_ptr_null(conf.anonymous_root);
	/* The parser resynchronises on the next line. */
	ck_assert_uint_eq(conf.idle_timeout, 7);
	free(text);
}
END_TEST

START_TEST(missing_file)
{
	char	 path[PATH_MAX + 16], want[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/nope.conf", tmpdir);
	ck_assert_int_eq(conf_load(&conf, path, errf), FTPS_ESYS);
	snprintf(want, sizeof(want), "%s: cannot open: %s\n", path,
	    strerror(ENOENT));
	ck_assert_str_eq(errors(), want);

	reset_errors();
	ck_assert_int_eq(conf_load(&conf, tmpdir, errf), FTPS_ESYS);
	snprintf(want, sizeof(want), "%s: cannot read: is a directory\n",
	    tmpdir);
	ck_assert_str_eq(errors(), want);

	reset_errors();
	ck_assert_int_eq(conf_load(&conf, "/dev/zero", errf), FTPS_ESYS);
	ck_assert_str_eq(errors(),
	    "/dev/zero: cannot read: not a regular file\n");
}
END_TEST

START_TEST(empty_file)
{
	ck_assert_int_eq(load_text(""), 0);
	ck_assert_int_eq(load_text("\n\n# only comments\n"), 0);
	ck_assert_str_eq(errors(), "");
}
END_TEST

START_TEST(arg_overrides)
{
	char	 cwd[PATH_MAX], want[PATH_MAX + 64];

	ck_assert_int_eq(load_text("idle_timeout = 100\n"
	    "certs_dir = /etc/certs\n"), 0);
	ck_assert_int_eq(conf_set_arg(&conf, "idle_timeout=200", errf), 0);
	ck_assert_uint_eq(conf.idle_timeout, 200);
	ck_assert_uint_eq(conf.c_line[key_index("idle_timeout")],
	    CONF_LINE_ARG);
	ck_assert_int_eq(conf_set_arg(&conf, " tls = optional ", errf), 0);
	ck_assert_int_eq(conf.tls, CONF_TLS_OPTIONAL);
	ck_assert_int_eq(conf_set_arg(&conf, "certificate=", errf), 0);
	ck_assert_ptr_null(conf.certificate);
	/* A relative path from -o is relative to the current directory. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(conf_set_arg(&conf, "certs_dir=certs", errf), 0);
	snprintf(want, sizeof(want), "%s/certs", cwd);
	ck_assert_str_eq(conf.certs_dir, want);
	ck_assert_str_eq(errors(), "");

	ck_assert_int_eq(conf_set_arg(&conf, "idle_timeout=abc", errf),
	    FTPS_EPARSE);
	ck_assert_int_eq(conf_set_arg(&conf, "idle_timeout", errf),
	    FTPS_EPARSE);
	ck_assert_int_eq(conf_set_arg(&conf, "idel_timeout=5", errf),
	    FTPS_EPARSE);
	ck_assert_int_eq(conf_set(&conf, "max_clients", "0", NULL, 0, errf),
	    FTPS_EPARSE);
	ck_assert_str_eq(errors(),
	    "-o: idle_timeout: \"abc\" is not a number from 1 to 86400\n"
	    "-o: \"idle_timeout\" is not key=value\n"
	    "-o: unknown key \"idel_timeout\" (did you mean "
	    "\"idle_timeout\"?)\n"
	    "-o: max_clients: \"0\" is not a number from 1 to 100000\n");
	ck_assert_uint_eq(conf.idle_timeout, 200);
}
END_TEST

/* Cross-key checks: file text, expected message after "FILE:". */
static const struct {
	const char	*text, *msg;
} cross[] = {
	{ "pasv_min_port = 60000\npasv_max_port = 50000\n",
	    "2: pasv_min_port (60000) is greater than pasv_max_port (50000)" },
	{ "pasv_max_port = 49000\n",
	    "1: pasv_min_port (49152) is greater than pasv_max_port (49000)" },
	{ "explicit_port = 990\n",
	    "1: explicit_port and implicit_port are both 990" },
	{ "implicit_port = 0\n# x\nexplicit_port = 0\n",
	    "3: explicit_port and implicit_port are both 0 (off): no port to "
	    "listen on" },
	{ "anonymous = on\n",
	    "1: anonymous = on needs anonymous_root (the folder anonymous "
	    "users see)" },
	{ "tls = off\n",
	    "1: tls = off contradicts data_tls = required: without TLS on the "
	    "control channel no data channel can be encrypted (set data_tls "
	    "= optional)" },
	{ "data_tls = required\n\ntls = off\n",
	    "3: tls = off contradicts data_tls = required: without TLS on the "
	    "control channel no data channel can be encrypted (set data_tls "
	    "= optional)" },
	{ "tls_client_cert = required\n",
	    "1: tls_client_cert = required needs tls_client_ca (the CAs whose "
	    "client certificates are trusted; nothing is trusted by "
	    "default)" },
	{ "tls_crl = /x/crl.pem\ntls_client_cert = optional\n",
	    "2: tls_client_cert = optional needs tls_client_ca (the CAs whose "
	    "client certificates are trusted; nothing is trusted by "
	    "default)" },
	{ "tls_client_ca = /x/ca.pem\ntls_client_cert = required\n"
	    "tls = optional\n",
	    "3: tls_client_cert = required needs tls = required: a plain-text "
	    "session carries no certificate" },
	{ "tls_client_ca = /x/ca.pem\ntls_client_cert = optional\n"
	    "tls = off\ndata_tls = optional\n",
	    "3: tls_client_cert = optional contradicts tls = off" },
};

START_TEST(cross_check)
{
	char	 want[PATH_MAX + 512];

	ck_assert_int_eq(load_text(cross[_i].text), 0);
	ck_assert_int_eq(conf_check(&conf, tmpfile_path, errf), -1);
	snprintf(want, sizeof(want), "%s:%s\n", tmpfile_path, cross[_i].msg);
	ck_assert_str_eq(errors(), want);
}
END_TEST

START_TEST(cross_check_ok)
{
	ck_assert_int_eq(load_text(
	    "tls = off\n"
	    "data_tls = optional\n"
	    "explicit_port = 0\n"
	    "implicit_port = 0990\n"
	    "pasv_min_port = 50000\n"
	    "pasv_max_port = 50000\n"
	    "anonymous = on\n"
	    "anonymous_root = /srv/ftp\n"), 0);
	ck_assert_int_eq(conf_check(&conf, tmpfile_path, errf), 0);
	ck_assert_str_eq(errors(), "");
}
END_TEST

START_TEST(cross_check_mtls_ok)
{
	char	 want[PATH_MAX];

	/* optional works with tls = optional; off ignores the files. */
	ck_assert_int_eq(load_text(
	    "tls = optional\n"
	    "tls_client_cert = optional\n"
	    "tls_client_ca = ca.pem\n"
	    "tls_crl = crl.pem\n"), 0);
	ck_assert_int_eq(conf_check(&conf, tmpfile_path, errf), 0);
	ck_assert_str_eq(errors(), "");
	/* Relative paths are beside the file, stored absolute. */
	snprintf(want, sizeof(want), "%s/ca.pem", tmpdir);
	ck_assert_str_eq(conf.tls_client_ca, want);
	snprintf(want, sizeof(want), "%s/crl.pem", tmpdir);
	ck_assert_str_eq(conf.tls_crl, want);
	ck_assert_int_eq(conf_set_arg(&conf, "tls_client_cert=off", errf), 0);
	ck_assert_int_eq(conf_set_arg(&conf, "tls_client_ca=", errf), 0);
	ck_assert_ptr_null(conf.tls_client_ca);
	ck_assert_int_eq(conf_check(&conf, tmpfile_path, errf), 0);
	ck_assert_str_eq(errors(), "");
}
END_TEST

START_TEST(cross_check_arg)
{
	ck_assert_int_eq(load_text("explicit_port = 2121\n"), 0);
	ck_assert_int_eq(conf_set_arg(&conf, "implicit_port=2121", errf), 0);
	ck_assert_int_eq(conf_check(&conf, tmpfile_path, errf), -1);
	ck_assert_str_eq(errors(),
	    "-o: explicit_port and implicit_port are both 2121\n");
}
END_TEST

/* A conf filled in by code is held to the same rules; all are reported. */
START_TEST(cross_check_fields)
{
	free(conf.listen[1]);
	conf.listen[1] = strdup("localhost");
	ck_assert_ptr_nonnull(conf.listen[1]);
	conf.data_tls = CONF_TLS_OFF;
	conf.idle_timeout = 0;
	conf.file_umask = 01777;
	conf.pasv_min_port = 80;
	free(conf.users_file);
	conf.users_file = strdup("users");
	ck_assert_ptr_nonnull(conf.users_file);
	conf.pasv_address = strdup("::1");
	ck_assert_ptr_nonnull(conf.pasv_address);
	ck_assert_int_eq(conf_check(&conf, NULL, errf), -7);
	ck_assert_str_eq(errors(),
	    "configuration: pasv_min_port: 80 is not from 1024 to 65535\n"
	    "configuration: idle_timeout: 0 is not from 1 to 86400\n"
	    "configuration: file_umask: 1777 is not an octal mask from 000 "
	    "to 777\n"
	    "configuration: listen_addresses: entry 2 is not a numeric "
	    "address\n"
	    "configuration: data_tls cannot be off: use required or "
	    "optional\n"
	    "configuration: users_file: must be an absolute path\n"
	    "configuration: pasv_address: not a numeric IPv4 address\n");
}
END_TEST

/*
 * The sample documents every key as "# key = default".  Uncommenting
 * those lines must parse with no error and give exactly the built-in
 * defaults, so the documentation cannot drift from the code.
 */
START_TEST(sample_file)
{
	struct conf	 def;
	FILE		*in, *out;
	char		 line[FTPS_CONF_LINE_MAX + 2], got[1024], want[1024];
	const char	*name;
	unsigned	 count[CONF_NKEYS];
	size_t		 i, len;

	/* As shipped, all commented out: parses to the defaults. */
	ck_assert_int_eq(conf_load(&conf, SAMPLE, errf), 0);
	ck_assert_str_eq(errors(), "");

	memset(count, 0, sizeof(count));
	ck_assert_ptr_nonnull(in = fopen(SAMPLE, "r"));
	ck_assert_ptr_nonnull(out = fopen(tmpfile_path, "w"));
	while (fgets(line, sizeof(line), in) != NULL) {
		for (i = 0; (name = conf_key_name(i)) != NULL; i++) {
			len = strlen(name);
			if (strncmp(line, "# ", 2) == 0 &&
			    strncmp(line + 2, name, len) == 0 &&
			    strncmp(line + 2 + len, " =", 2) == 0)
				break;
		}
		if (name != NULL) {
			count[i]++;
			fputs(line + 2, out);
		} else
			fputs(line, out);
	}
	ck_assert_int_eq(ferror(in), 0);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
	for (i = 0; i < CONF_NKEYS; i++)
		ck_assert_msg(count[i] == 1, "sample has %u \"# %s = \" lines",
		    count[i], conf_key_name(i));

	ck_assert_int_eq(conf_load(&conf, tmpfile_path, errf), 0);
	ck_assert_str_eq(errors(), "");
	ck_assert_int_eq(conf_check(&conf, tmpfile_path, errf), 0);
	ck_assert_int_eq(conf_init(&def), 0);
	for (i = 0; i < CONF_NKEYS; i++) {
		ck_assert_uint_gt(conf.c_line[i], 0);
		ck_assert_int_eq(conf_value(&conf, i, got, sizeof(got)), 0);
		ck_assert_int_eq(conf_value(&def, i, want, sizeof(want)), 0);
		/* The path defaults follow ./configure's prefix. */
		if ((strcmp(conf_key_name(i), "certs_dir") == 0 ||
		    strcmp(conf_key_name(i), "users_file") == 0) &&
		    strcmp(FTPS_SYSCONFDIR, "/usr/local/etc") != 0)
			continue;
		ck_assert_msg(strcmp(got, want) == 0, "sample says %s = %s, "
		    "built-in default is %s", conf_key_name(i), got, want);
	}
	conf_free(&def);
}
END_TEST

/* conf_value spells every key so that conf_set reads it back. */
START_TEST(value_round_trip)
{
	struct conf	 copy;
	char		 a[1024], b[1024];
	size_t		 i;

	ck_assert_int_eq(load_text(
	    "listen_addresses = 127.0.0.1 ::1\n"
	    "explicit_port = 0\n"
	    "tls = optional\n"
	    "data_tls = optional\n"
	    "data_session_reuse = off\n"
	    "prot_default = P\n"
	    "certificate = srv\n"
	    "pasv_address = 192.0.2.1\n"
	    "anonymous = on\n"
	    "anonymous_root = /srv/ftp\n"
	    "file_umask = 7\n"
	    "log = syslog\n"), 0);
	ck_assert_int_eq(conf_init(&copy), 0);
	for (i = 0; i < CONF_NKEYS; i++) {
		ck_assert_int_eq(conf_value(&conf, i, a, sizeof(a)), 0);
		ck_assert_int_eq(conf_set(&copy, conf_key_name(i), a, "-o", 0,
		    errf), 0);
		ck_assert_int_eq(conf_value(&copy, i, b, sizeof(b)), 0);
		ck_assert_str_eq(a, b);
	}
	ck_assert_str_eq(errors(), "");
	ck_assert_int_eq(conf_value(&conf, 0, a, 4), FTPS_ETOOBIG);
	ck_assert_str_eq(a, "");
	ck_assert_int_eq(conf_value(&conf, CONF_NKEYS, a, sizeof(a)),
	    FTPS_EPARSE);
	conf_free(&copy);
}
END_TEST

/* A users-file override over ftpsd.conf's data policy. */
START_TEST(policy_levels)
{
	struct conf_policy	 eff, over;
	char			 why[256], str[CONF_POLICY_STR_MAX];

	ck_assert_int_eq(load_text("data_tls = optional\n"), 0);
	conf_policy_of(&conf, &eff);
	ck_assert_int_eq(eff.data_tls, CONF_TLS_OPTIONAL);
	ck_assert_int_eq(eff.data_session_reuse, CONF_REUSE_REQUIRED);
	ck_assert_str_eq(conf_policy_str(&eff, str, sizeof(str)),
	    "data_tls=optional data_session_reuse=required");

	conf_policy_unset(&over);
	ck_assert_str_eq(conf_policy_str(&over, str, sizeof(str)), "");
	ck_assert_int_eq(conf_policy_set(&over, "data_session_reuse",
	    "Optional", why, sizeof(why)), 0);
	ck_assert_int_eq(over.data_tls, CONF_POLICY_UNSET);
	conf_policy_merge(&eff, &over);
	ck_assert_int_eq(eff.data_tls, CONF_TLS_OPTIONAL);	/* kept */
	ck_assert_int_eq(eff.data_session_reuse, CONF_REUSE_OPTIONAL);
	ck_assert_str_eq(conf_policy_str(&eff, str, sizeof(str)),
	    "data_tls=optional data_session_reuse=optional");

	ck_assert_int_eq(conf_policy_set(&over, "data_session_reuse", "off",
	    why, sizeof(why)), FTPS_EPARSE);
	ck_assert_str_eq(why, "data_session_reuse given twice");
	ck_assert_int_eq(conf_policy_set(&over, "data_tls", "off", why,
	    sizeof(why)), FTPS_EPARSE);
	ck_assert_str_eq(why, "data_tls: \"off\" is not one of: required, "
	    "optional");
	ck_assert_int_eq(conf_policy_set(&over, "idle_timeout", "1", why,
	    sizeof(why)), FTPS_EPARSE);
	ck_assert_str_eq(why, "unknown setting \"idle_timeout\" (one of: "
	    "data_tls, data_session_reuse)");
	ck_assert_int_eq(over.data_tls, CONF_POLICY_UNSET);
	/* A short buffer truncates, never overruns. */
	ck_assert_uint_eq(strlen(conf_policy_str(&eff, str, 10)), 9);
}
END_TEST

/*
 * The reload column of CONF_KEYS: the keys a reload keeps (and, for the
 * listening ones, keeps silently under socket activation).
 */
START_TEST(reload_column)
{
	static const char *const restart[] = {
		"run_as_user", "allow_root", "auth_threads", "workers",
		"ipv6_prefix"
	};
	static const char *const bind[] = {
		"listen_addresses", "explicit_port", "implicit_port"
	};
	size_t		 i, j, nrestart = 0;
	enum conf_reload want;

	for (i = 0; i < CONF_NKEYS; i++) {
		want = CONF_RELOAD;
		for (j = 0; j < sizeof(restart) / sizeof(restart[0]); j++)
			if (strcmp(conf_key_name(i), restart[j]) == 0)
				want = CONF_RESTART;
		for (j = 0; j < sizeof(bind) / sizeof(bind[0]); j++)
			if (strcmp(conf_key_name(i), bind[j]) == 0)
				want = CONF_RESTART_BIND;
		ck_assert_msg(conf_key_reload(i) == want, "%s: reload %d, "
		    "want %d", conf_key_name(i), (int)conf_key_reload(i),
		    (int)want);
		nrestart += want != CONF_RELOAD;
	}
	ck_assert_uint_eq(nrestart, 8);
	ck_assert_int_eq(conf_key_reload(CONF_NKEYS), CONF_RELOAD);
	/* conf_key_find takes a length: "workers=4" names "workers". */
	ck_assert_int_eq(conf_key_find("workers=4", 7), key_index("workers"));
	ck_assert_int_eq(conf_key_find("work", 4), -1);
	ck_assert_int_eq(conf_key_find("tls_crl", 3), key_index("tls"));
}
END_TEST

/* Two confs side by side (a reload) share nothing. */
START_TEST(two_confs)
{
	struct conf	 other;

	ck_assert_int_eq(conf_init(&other), 0);
	ck_assert_int_eq(conf_set(&other, "certs_dir", "/x", "-o", 0, errf),
	    0);
	ck_assert_int_eq(conf_set(&other, "listen_addresses", "::1", "-o", 0,
	    errf), 0);
	ck_assert_str_eq(conf.certs_dir, FTPS_CERTSDIR);
	ck_assert_int_eq(conf.nlisten, 2);
	conf_free(&other);
	conf_free(&other);	/* safe on a zeroed conf */
	ck_assert_int_eq(other.nlisten, 0);
}
END_TEST


/* [host NAME] sections. */
START_TEST(hosts_parse)
{
	const struct conf_host	*h;
	struct conf		 hc;

	ck_assert_int_eq(load_text(
	    "users_file = /etc/u0\n"
	    "anonymous_root = /srv/anon\n"
	    "\n"
	    "[host FTP.Example.COM.]\n"
	    "aliases = example.com ,Www.example.com\n"
	    "users_file = /etc/u1   # the host's own\n"
	    "anonymous = on\n"
	    "data_session_reuse = optional\n"
	    "[ host x ]\n"
	    "[host partner.example]\n"
	    "certificate = partner\n"), -1);
	ck_assert_int_eq(conf.nhosts, 2);
	/* The section's keys are not the default host's. */
	ck_assert_str_eq(conf.users_file, "/etc/u0");
	ck_assert_int_eq(conf.anonymous, 0);
	ck_assert_int_eq(conf.data_session_reuse, CONF_REUSE_REQUIRED);
	h = &conf.hosts[0];
	ck_assert_str_eq(h->name, "ftp.example.com");
	ck_assert_int_eq(h->naliases, 2);
	ck_assert_str_eq(h->aliases[0], "example.com");
	ck_assert_str_eq(h->aliases[1], "www.example.com");
	ck_assert_uint_eq(h->line, 4);
	ck_assert_ptr_eq(conf_host_find(&conf, "www.example.com"), h);
	ck_assert_ptr_eq(conf_host_find(&conf, "partner.example"),
	    &conf.hosts[1]);
	ck_assert_ptr_null(conf_host_find(&conf, "x"));

	/* Resolved: the default's keys with the section's laid over. */
	ck_assert_int_eq(conf_host_conf(&conf, h, &hc), 0);
	ck_assert_str_eq(hc.users_file, "/etc/u1");
	ck_assert_str_eq(hc.anonymous_root, "/srv/anon");
	ck_assert_int_eq(hc.anonymous, 1);
	ck_assert_int_eq(hc.data_session_reuse, CONF_REUSE_OPTIONAL);
	ck_assert_uint_eq(hc.c_line[key_index("users_file")], 6);
	ck_assert_uint_eq(hc.c_line[key_index("anonymous_root")], 2);
	ck_assert_int_eq(hc.nhosts, 0);
	ck_assert_ptr_null(hc.certificate);
	conf_free(&hc);
	ck_assert_int_eq(conf_host_conf(&conf, &conf.hosts[1], &hc), 0);
	ck_assert_str_eq(hc.certificate, "partner");
	ck_assert_str_eq(hc.users_file, "/etc/u0");
	conf_free(&hc);
	ck_assert_int_eq(conf_check(&conf, tmpfile_path, errf), 0);
}
END_TEST

static const struct {
	const char	*in, *want;	/* want NULL: not a host name */
} host_names[] = {
	{ "ftp.example.com", "ftp.example.com" },
	{ "FTP.Example.Com.", "ftp.example.com" },
	{ "localhost", "localhost" },
	{ "a-b.c9", "a-b.c9" },
	{ "", NULL },
	{ ".", NULL },
	{ "a..b", NULL },
	{ ".a", NULL },
	{ "-a.b", NULL },
	{ "a-.b", NULL },
	{ "a.b-", NULL },
	{ "a_b.c", NULL },
	{ "*.example.com", NULL },
	{ "a b", NULL },
	{ "127.0.0.1x!", NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "a.b", NULL },		/* a 64-byte label */
};

START_TEST(host_name)
{
	char	 out[FTPS_HOSTNAME_MAX + 1];
	int	 r;

	r = conf_host_name(host_names[_i].in, out, sizeof(out));
	if (host_names[_i].want == NULL)
		ck_assert_int_eq(r, FTPS_EPARSE);
	else {
		ck_assert_int_eq(r, 0);
		ck_assert_str_eq(out, host_names[_i].want);
	}
}
END_TEST

static const struct {
	const char	*text;		/* the file */
	const char	*msg;		/* after "FILE:" */
} host_errs[] = {
	{ "[host a.test]\nlisten_addresses = ::1\n",
	  "2: listen_addresses cannot be set in [host a.test]: it applies to "
	  "the whole daemon" },
	{ "[host a.test]\ncertificat = x\n",
	  "2: unknown key \"certificat\" (did you mean \"certificate\"?)" },
	{ "[host a.test]\nusers_file = /u\nusers_file = /v\n",
	  "3: duplicate key \"users_file\" in [host a.test] (first set on "
	  "line 2)" },
	{ "[host a.test]\n[host A.TEST]\n",
	  "2: host name \"a.test\" is already used by [host a.test] on "
	  "line 1" },
	{ "[host a.test]\naliases = b.test\n[host c.test]\naliases = B.test\n",
	  "4: host name \"b.test\" is already used by [host a.test] on "
	  "line 1" },
	{ "[host a.test]\naliases = b.test, a.test\n",
	  "2: host name \"a.test\" given twice in [host a.test]" },
	{ "[host a.test]\naliases = b.test\naliases = c.test\n",
	  "3: duplicate key \"aliases\" in [host a.test] (first set on "
	  "line 2)" },
	{ "[host a.test]\naliases = b..test\n",
	  "2: aliases: \"b..test\" is not a host name" },
	{ "[host a.test]\naliases = ,\n",
	  "2: aliases: missing value" },
	{ "[server a.test]\n",
	  "1: expected \"[host NAME]\", not \"[server a.test]\"" },
	{ "[host]\n",
	  "1: expected \"[host NAME]\", not \"[host]\"" },
	{ "[host a b]\n",
	  "1: [host a b]: not a host name" },
	{ "[host a.test\n",
	  "1: expected \"[host NAME]\", not \"[host a.test\"" },
};

START_TEST(host_error)
{
	char	 want[PATH_MAX + 256];

	ck_assert_int_lt(load_text(host_errs[_i].text), 0);
	snprintf(want, sizeof(want), "%s:%s", tmpfile_path,
	    host_errs[_i].msg);
	ck_assert_msg(strncmp(errors(), want, strlen(want)) == 0,
	    "got \"%s\", want \"%s...\"", errors(), want);
}
END_TEST

START_TEST(host_bad_header_keeps_keys_out)
{
	/* The keys under a refused header are not the default host's. */
	ck_assert_int_eq(load_text("[hots a.test]\nusers_file = /x\n"), -1);
	ck_assert_str_eq(conf.users_file, FTPS_SYSCONFDIR "/ftpsd/users");
	ck_assert_int_eq(conf.nhosts, 0);
}
END_TEST

START_TEST(host_check)
{
	char	 want[PATH_MAX + 256];

	/* Checked resolved: the host's line, not the default's. */
	ck_assert_int_eq(load_text(
	    "tls_client_ca = /etc/ca.pem\n"
	    "[host a.test]\n"
	    "tls_client_cert = required\n"
	    "[host b.test]\n"
	    "anonymous = on\n"), 0);
	ck_assert_int_eq(conf_check(&conf, tmpfile_path, errf), -1);
	snprintf(want, sizeof(want), "%s:5: anonymous = on needs "
	    "anonymous_root (the folder anonymous users see)\n",
	    tmpfile_path);
	ck_assert_str_eq(errors(), want);
}
END_TEST

Suite *
unit_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, reload_column);
	tcase_add_loop_test(tc, valid_value, 0, sizeof(valid) /
	    sizeof(valid[0]));
	tcase_add_loop_test(tc, invalid_value, 0, sizeof(invalid) /
	    sizeof(invalid[0]));
	tcase_add_test(tc, brief_example);
	tcase_add_loop_test(tc, unknown_key, 0, sizeof(unknown) /
	    sizeof(unknown[0]));
	tcase_add_test(tc, value_round_trip);
	tcase_add_test(tc, two_confs);
	tcase_add_test(tc, policy_levels);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, load_file);
	tcase_add_test(tc, relative_config_path);
	tcase_add_test(tc, every_error_reported);
	tcase_add_test(tc, duplicate_key);
	tcase_add_test(tc, syntax_errors);
	tcase_add_test(tc, overlong_line);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, arg_overrides);
	tcase_add_test(tc, sample_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, cross_check, 0, sizeof(cross) /
	    sizeof(cross[0]));
	tcase_add_test(tc, cross_check_ok);
	tcase_add_test(tc, cross_check_mtls_ok);
	tcase_add_test(tc, cross_check_arg);
	tcase_add_test(tc, cross_check_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("hosts");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hosts_parse);
	tcase_add_loop_test(tc, host_name, 0, sizeof(host_names) /
	    sizeof(host_names[0]));
	tcase_add_loop_test(tc, host_error, 0, sizeof(host_errs) /
	    sizeof(host_errs[0]));
	tcase_add_test(tc, host_bad_header_keeps_keys_out);
	tcase_add_test(tc, host_check);
	suite_add_tcase(s, tc);
	return s;
}
