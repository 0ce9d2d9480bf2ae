/*
 * certmgr: the certificate tool of ftpsd.  main() reads the global
 * options and runs one row of the subcommand table (git's commands[]).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "conf.h"

#define CM_DEFAULT_CONF	FTPS_SYSCONFDIR "/ftpsd/ftpsd.conf"

static const struct cm_optuse create_opts[] = {
	{ OPT_CN, 1, "common name: a server's host name or address (also "
	    "put in\nits subjectAltName), a client's user name" },
	{ OPT_SERVER, 0, NULL }, { OPT_CLIENT, 0, NULL }, CM_SUBJECT_OPTS,
	{ OPT_DAYS, 0, NULL }, { OPT_FORCE, 0, "replace an existing NAME" },
	{ 0, 0, NULL },
};
static const struct cm_optuse csr_opts[] = {
	{ OPT_CN, 1, "common name: a server's host name or address (also "
	    "put in\nits subjectAltName), a client's user name" },
	{ OPT_SERVER, 0, NULL }, { OPT_CLIENT, 0, NULL }, CM_SUBJECT_OPTS,
	{ OPT_FORCE, 0, "replace an existing NAME" }, { 0, 0, NULL },
};
static const struct cm_optuse import_opts[] = {
	{ OPT_NAME, 0, "the NAME to import as" }, { OPT_PASSIN, 0, NULL },
	{ OPT_FORCE, 0, "replace an existing NAME" }, { 0, 0, NULL },
};
static const struct cm_optuse delete_opts[] = {
	{ OPT_YES, 0, NULL }, { 0, 0, NULL },
};
static const struct cm_optuse verify_opts[] = {
	{ OPT_CA, 0, NULL }, { OPT_CRL, 0, NULL }, { OPT_HOST, 0, NULL },
	{ OPT_PURPOSE, 0, NULL }, { 0, 0, NULL },
};
static const struct cm_optuse renew_opts[] = {
	{ OPT_DAYS, 0, NULL },
	{ OPT_PASSIN, 0, "the CA key's passphrase source" }, { 0, 0, NULL },
};
static const struct cm_optuse export_opts[] = {
	{ OPT_PKCS12, 1, NULL },
	{ OPT_PASSOUT, 0, "its passphrase: file:PATH, fd:N, stdin or prompt\n"
	    "(default: asked twice on the terminal)" },
	{ OPT_FORCE, 0, "replace FILE" }, { 0, 0, NULL },
};

static const struct cm_cmd cmds[] = {
	{ "create", cm_create, "NAME", 1, 1, create_opts,
	  "Creates NAME.key (0600), NAME.csr and a self-signed NAME.crt\n"
	  "(SHA-256, critical CA:FALSE, serverAuth or with --client\n"
	  "clientAuth).  A client certificate's CN is the user name it logs\n"
	  "in as; a server lists its .crt in tls_client_ca to trust it.\n" },
	{ "csr", cm_csr, "NAME", 1, 1, csr_opts,
	  "Creates NAME.key (0600) and NAME.csr to send to a CA; import the\n"
	  "CA's answer with: certmgr import ANSWER.crt\n" },
	{ "import", cm_import, "CERT [KEY]", 1, 2, import_opts,
	  "Imports a certificate and its key into the folder as NAME.crt +\n"
	  "NAME.key (+ NAME.chain for intermediates).  CERT and KEY may be\n"
	  "PEM or DER, keys PKCS#8 (encrypted or not) or traditional, CERT a\n"
	  "combined key+certificate PEM or a PKCS#12 (.p12/.pfx) file.  With\n"
	  "no key given, a key already in the folder that matches is used.\n"
	  "NAME is --name, else that key's name, else CERT's base name.  The\n"
	  "CA's answer for a key made by create replaces its self-signed\n"
	  "certificate.  A file of CA certificates only, with --name NAME,\n"
	  "becomes NAME.chain (the issuers a leaf was imported without).\n" },
	{ "list", cm_list, "", 0, 0, NULL,
	  "Lists every NAME: subject CN, SANs, issuer, key (the .key's own),\n"
	  "not-after, days left, status and the default (*).  Statuses:\n"
	  CM_STATUSES ".\n" },
	{ "show", cm_show, "NAME", 1, 1, NULL,
	  "Shows NAME in full: status (with a revocation's date and reason,\n"
	  "or the missing issuer), subject, issuer, SANs, key, serial,\n"
	  "validity, SHA-256 fingerprint, extended key usage and chain; for\n"
	  "a pending request its subject and names.\n" },
	{ "default", cm_default, "[NAME]", 0, 1, NULL,
	  "Marks NAME as the folder's default certificate (what ftpsd loads\n"
	  "when its configuration names none); without NAME, prints it.\n" },
	{ "rename", cm_rename, "OLD NEW", 2, 2, NULL,
	  "Renames every file of OLD (and its default mark) to NEW.\n" },
	{ "delete", cm_delete, "NAME", 1, 1, delete_opts,
	  "Deletes NAME's .crt, .key, .chain and .csr after asking.\n" },
	{ "verify", cm_verify, "NAME", 1, 1, verify_opts,
	  "Verifies NAME's chain (NAME.chain as intermediates) against --ca,\n"
	  "else the folder's CA and the system's trusted roots, and its key.\n"
	  "A certificate of the folder's CA is checked against its database\n"
	  "and its CRL.  Prints OpenSSL's reason on failure.\n" },
	{ "ca", NULL, "init|renew|sign|issue|revoke|crl|list ...", 0, 0, NULL,
	  "The folder's private CA (ca/ in the certs folder, or --ca-dir).\n"
	  "Run certmgr ca SUBCOMMAND --help for each.\n" },
	{ "renew", cm_renew, "NAME", 1, 1, renew_opts,
	  "Renews NAME with the same key: re-signs its CSR with the folder's\n"
	  "CA (revoking the old serial as superseded), or re-creates a\n"
	  "self-signed certificate (whoever trusts the old one directly must\n"
	  "be given the new one).\n" },
	{ "export", cm_export, "NAME", 1, 1, export_opts,
	  "Writes NAME's key, certificate and chain as a PKCS#12 file\n"
	  "(AES-256, mode 0600) for clients such as FileZilla or WinSCP.\n" },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

const struct cm_cmd *
cm_lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	for (i = 0; i < cm_ca_ncmds; i++)
		if (strcmp(cm_ca_cmds[i].name, name) == 0)
			return &cm_ca_cmds[i];
	return NULL;
}

/* certmgr ca [--help]: the ca subcommands. */
static int
ca_usage(FILE *f, int rc)
{
	size_t	 i;

	fprintf(f, "usage: certmgr [-q] [-c FILE | -d DIR] [--json] ca "
	    "SUBCOMMAND [ARGS...]\n\n%s\nSubcommands:\n",
	    cm_lookup("ca")->help);
	for (i = 0; i < cm_ca_ncmds; i++)
		cm_synopsis(f, "  certmgr ", &cm_ca_cmds[i]);
	return rc;
}

/* Every synopsis, for man/certmgr.1 (make runs this). */
static void
roff_synopses(void)
{
	size_t	 i;

	for (i = 0; i < NCMDS; i++)
		if (cmds[i].fn != NULL)
			cm_roff_synopsis(&cmds[i]);
	for (i = 0; i < cm_ca_ncmds; i++)
		cm_roff_synopsis(&cm_ca_cmds[i]);
}

static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: certmgr [-q] [-c FILE | -d DIR] [--json] SUBCOMMAND "
	    "[ARGS...]\n\nSubcommands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].args);
	fprintf(f, "\nOptions:\n"
	    "  -d, --dir DIR   certs folder (default: certs_dir of -c FILE, else\n"
	    "                  $FTPSD_CERTS_DIR, else certs_dir of the default\n"
	    "                  ftpsd config, else %s)\n"
	    "  -c, --config FILE  ftpsd config whose certs_dir to use\n"
	    "                  (default %s if it exists)\n"
	    "  --json          machine-readable output\n"
	    "  -q, --quiet     no output on success\n"
	    "  --help          this text; certmgr SUBCOMMAND --help for one\n"
	    "  --version       certmgr's version\n"
	    "Exit status: 0 ok, 1 failure, 2 usage error.\n", FTPS_CERTSDIR,
	    CM_DEFAULT_CONF);
}

/*
 * The certs folder the server uses: certs_dir of its configuration (the
 * file given with -c, else the default one when it exists), so that
 * certmgr and ftpsd agree without repeating the path.  Errors in the file
 * are printed as FILE:LINE and fail the command.
 */
static int
cm_dir_from_conf(const char *path, struct conf *conf)
{
	struct stat	 st;

	if (conf_init(conf) != 0) {
		fprintf(stderr, "certmgr: out of memory\n");
		return -1;
	}
	if (path == NULL) {
		if (stat(CM_DEFAULT_CONF, &st) == -1 && errno == ENOENT)
			return 0;
		path = CM_DEFAULT_CONF;
	}
	if (conf_load(conf, path, stderr) != 0) {
		fprintf(stderr, "certmgr: %s: cannot take certs_dir from it "
		    "(use -d DIR)\n", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "roff-synopsis", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cm_cmd	*cmd;
	struct cm_args		 args;
	char			 sub[32];
	struct cli		 cli;
	const char		*env, *conf_path = NULL;
	struct conf		 conf;
	int			 c, r;

	memset(&cli, 0, sizeof(cli));
	memset(&conf, 0, sizeof(conf));
	while ((c = getopt_long(argc, argv, "+qc:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf_path = optarg;
			break;
		case 'd':
			cli.dir = optarg;
			break;
		case 'q':
			cli.quiet = 1;
			break;
		case OPT_JSON:
			cli.json = 1;
			break;
		case 'h':
			usage(stdout);
			return CM_OK;
		case 'V':
			printf("certmgr (%s) %s\n", PACKAGE_NAME,
			    PACKAGE_VERSION);
			return CM_OK;
		case 'R':
			roff_synopses();
			return CM_OK;
		default:
			usage(stderr);
			return CM_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return CM_USAGE;
	}
	if ((cmd = cm_lookup(argv[0])) == NULL) {
		fprintf(stderr, "certmgr: unknown subcommand \"%.40s\"\n",
		    argv[0]);
		usage(stderr);
		return CM_USAGE;
	}
	/* "ca SUB": the row of "ca SUB", whose options follow SUB. */
	if (cmd->fn == NULL) {
		if (argc < 2) {
			fprintf(stderr, "certmgr: ca: which subcommand?\n");
			return ca_usage(stderr, CM_USAGE);
		}
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)
			return ca_usage(stdout, CM_OK);
		snprintf(sub, sizeof(sub), "ca %.20s", argv[1]);
		if ((cmd = cm_lookup(sub)) == NULL) {
			fprintf(stderr, "certmgr: ca: unknown subcommand "
			    "\"%.40s\"\n", argv[1]);
			return ca_usage(stderr, CM_USAGE);
		}
		argc--;
		argv++;
	}
	if ((r = cm_parse(&cli, cmd, argc, argv, &args)) != 0)
		return r < 0 ? CM_OK : r;
	/* -d, then -c FILE, then $FTPSD_CERTS_DIR, then the default config. */
	if (cli.dir == NULL && conf_path == NULL &&
	    (env = getenv("FTPSD_CERTS_DIR")) != NULL && *env != '\0')
		cli.dir = env;
	if (cli.dir == NULL) {
		if (cm_dir_from_conf(conf_path, &conf) != 0) {
			conf_free(&conf);
			return CM_FAIL;
		}
		cli.dir = conf.certs_dir;
		cli.conf = &conf;
	}
	if (*cli.dir == '\0') {
		fprintf(stderr, "certmgr: empty certs folder name\n");
		r = CM_USAGE;
		goto out;
	}
	r = cmd->fn(&cli, &args);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "certmgr: writing the output failed\n");
		r = CM_FAIL;
	}
 out:
	conf_free(&conf);
	return r;
}
