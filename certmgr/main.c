/*
 * certmgr: the certificate tool of ftpsd.  main() reads the global
 * options and runs one row of the subcommand table (git's commands[]).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"

#define SUBJECT_HELP \
	"  --cn CN            common name (required); a host name or address\n" \
	"                     is also put in the subjectAltName\n" \
	"  --san LIST         more names: DNS:x,IP:y,email:z,URI:u\n" \
	"  --key TYPE         rsa:2048 rsa:3072 rsa:4096 ec:P-256 ec:P-384\n" \
	"                     ed25519 (default ec:P-256)\n" \
	"  --country CC       ISO 3166-1 two-letter code (e.g. DE, GB)\n" \
	"  --state S  --locality L  --org O  --ou U  --email E\n"

static const struct cm_cmd cmds[] = {
	{ "create", cm_create,
	  "NAME --cn CN [--san LIST] [--key TYPE] [--days N] [subject...] "
	  "[--force]",
	  "Creates NAME.key (0600), NAME.csr and a self-signed NAME.crt\n"
	  "(SHA-256, serverAuth, critical CA:FALSE, subjectAltName).\n\n"
	  SUBJECT_HELP
	  "  --days N           validity, 1 to 825 days (default 365)\n"
	  "  --force            replace an existing NAME\n" },
	{ "csr", cm_csr,
	  "NAME --cn CN [--san LIST] [--key TYPE] [subject...] [--force]",
	  "Creates NAME.key (0600) and NAME.csr to send to a CA; import the\n"
	  "CA's answer with: certmgr import ANSWER.crt --name NAME\n\n"
	  SUBJECT_HELP
	  "  --force            replace an existing NAME\n" },
	{ "list", cm_list, "",
	  "Lists every NAME: subject CN, SANs, issuer, key, not-after, days\n"
	  "left, status (ok, expiring, expired, key-mismatch, missing-key,\n"
	  "self-signed, pending, unreadable) and the default (*).\n" },
	{ "show", cm_show, "NAME",
	  "Shows NAME in full: subject, issuer, SANs, key, serial, validity,\n"
	  "SHA-256 fingerprint, extended key usage and chain.\n" },
	{ "default", cm_default, "[NAME]",
	  "Marks NAME as the folder's default certificate (what ftpsd loads\n"
	  "when its configuration names none); without NAME, prints it.\n" },
	{ "rename", cm_rename, "OLD NEW",
	  "Renames every file of OLD (and its default mark) to NEW.\n" },
	{ "delete", cm_delete, "NAME [--yes]",
	  "Deletes NAME's .crt, .key, .chain and .csr after asking.\n\n"
	  "  --yes              do not ask\n" },
};

const struct cm_cmd *
cm_lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: certmgr [-q] [-d DIR] [--json] SUBCOMMAND "
	    "[ARGS...]\n\nSubcommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].usage);
	fprintf(f, "\nOptions:\n"
	    "  -d, --dir DIR   certs folder (default: $FTPSD_CERTS_DIR or "
	    "%s)\n"
	    "  --json          machine-readable output\n"
	    "  -q, --quiet     no output on success\n"
	    "  --help          this text; certmgr SUBCOMMAND --help for one\n"
	    "  --version       certmgr's version\n"
	    "Exit status: 0 ok, 1 failure, 2 usage error.\n", FTPS_CERTSDIR);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cm_cmd	*cmd;
	struct cli		 cli;
	const char		*env;
	int			 c, r;

	memset(&cli, 0, sizeof(cli));
	env = getenv("FTPSD_CERTS_DIR");
	cli.dir = env != NULL && *env != '\0' ? env : FTPS_CERTSDIR;
	while ((c = getopt_long(argc, argv, "+qd:h", longopts, NULL)) != -1) {
		switch (c) {
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
	if (*cli.dir == '\0') {
		fprintf(stderr, "certmgr: empty certs folder name\n");
		return CM_USAGE;
	}
	/* Subcommands parse their own options from argv[0] on. */
	optind = 0;
	r = cmd->fn(&cli, argc, argv);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "certmgr: writing the output failed\n");
		r = CM_FAIL;
	}
	return r;
}
