/*
 * certmgr's options, declared once: the table below gives each option's
 * name, argument and help; a subcommand's row (main.c, ca.c) lists the
 * options it takes.  From that list come getopt's long options, the
 * usage line, --help and the SUBCOMMANDS synopses of certmgr(1)
 * (certmgr --roff-synopsis, run by make).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	int		 code;
	const char	*name;
	const char	*arg;		/* NULL: a flag */
	const char	*help;
} opttab[] = {
	{ OPT_CN, "cn", "CN", "common name" },
	{ OPT_SERVER, "server", NULL, "a server certificate (the default)" },
	{ OPT_CLIENT, "client", NULL, "a client certificate: the CN is the "
	    "user name it logs in as\n(no DNS name is made of it)" },
	{ OPT_SAN, "san", "LIST", "more names: DNS:x,IP:y,email:z,URI:u,"
	    "UPN:u@d" },
	{ OPT_UPN, "upn", "U@DOMAIN", "a user principal name SAN (Windows "
	    "logon)" },
	{ OPT_KEY, "key", "TYPE", "rsa:2048 rsa:3072 rsa:4096 ec:P-256 "
	    "ec:P-384 ed25519\n(default ec:P-256)" },
	{ OPT_DAYS, "days", "N", "validity, 1 to 825 days (default 365)" },
	{ OPT_COUNTRY, "country", "CC", "ISO 3166-1 two-letter code (DE, GB, "
	    "...)" },
	{ OPT_STATE, "state", "S", "state or province" },
	{ OPT_LOCALITY, "locality", "L", "city" },
	{ OPT_ORG, "org", "O", "organization" },
	{ OPT_OU, "ou", "U", "organizational unit" },
	{ OPT_EMAIL, "email", "E", "e-mail address (subject; a client's SAN "
	    "too)" },
	{ OPT_NAME, "name", "NEW", "the NAME to write" },
	{ OPT_PASSIN, "passin", "SRC", "passphrase: file:PATH, fd:N, stdin or "
	    "prompt (default:\nasked on the terminal when needed)" },
	{ OPT_PASSOUT, "passout", "SRC", "new passphrase: file:PATH, fd:N, "
	    "stdin or prompt" },
	{ OPT_CA, "ca", "FILE", "trusted CA certificate(s), PEM or DER" },
	{ OPT_CRL, "crl", "FILE", "check revocation against this CRL (PEM "
	    "or DER)" },
	{ OPT_HOST, "host", "HOST", "the certificate must name this host or "
	    "address" },
	{ OPT_PURPOSE, "purpose", "P", "server (default) or client" },
	{ OPT_REASON, "reason", "R", "unspecified keyCompromise CACompromise "
	    "affiliationChanged\nsuperseded cessationOfOperation "
	    "certificateHold removeFromCRL" },
	{ OPT_CRLURL, "crl-url", "URL", "every certificate signed carries "
	    "this CRL distribution\npoint (http:// or https://)" },
	{ OPT_INTERMEDIATE, "intermediate", "ROOTDIR", "the root CA folder "
	    "that signs this intermediate CA" },
	{ OPT_PKCS12, "pkcs12", "FILE", "the PKCS#12 file to write" },
	{ OPT_FORCE, "force", NULL, "replace what exists" },
	{ OPT_YES, "yes", NULL, "do not ask" },
	{ OPT_CADIR, "ca-dir", "DIR", "the CA folder (default: ca/ in the "
	    "certs folder)" },
	{ OPT_ACMESERVER, "server", "URL", "the ACME server's directory URL "
	    "(https://)" },
	{ OPT_CAFILE, "ca-file", "FILE", "the CA certificate(s) the ACME "
	    "server's HTTPS certificate\nchains to (default: the system's "
	    "roots)" },
	{ OPT_AGREETOS, "agree-tos", NULL, "agree to the ACME CA's terms of "
	    "service" },
	{ OPT_DOMAIN, "domain", "D", "a DNS name of the certificate (repeat "
	    "for more; the first\nis the subject CN)" },
	{ OPT_HTTPPORT, "http-port", "PORT", "answer HTTP-01 on this port "
	    "(default 80; the CA\nconnects to port 80, so another port "
	    "needs a forward)" },
	{ OPT_WEBROOT, "webroot", "DIR", "instead, write the answers to "
	    "DIR/.well-known/acme-challenge/\nof a web server already on "
	    "port 80" },
	{ OPT_RELOAD, "reload", NULL, "when a certificate was renewed, make "
	    "the running ftpsd\nreload (systemctl reload ftpsd, or "
	    "--pid-file)" },
	{ OPT_PIDFILE, "pid-file", "FILE", "with --reload: SIGHUP the ftpsd "
	    "whose pid FILE holds\n(where systemd does not run it)" },
};
#define NOPTS	(sizeof(opttab) / sizeof(opttab[0]))

/* The table's row of code (every OPT_* of a row is in it). */
static size_t
opt_row(int code)
{
	size_t	 i;

	for (i = 0; i < NOPTS; i++)
		if (opttab[i].code == code)
			break;
	return i;
}

/* What a row's synopsis says of one option, in plain text. */
static int
opt_text(const struct cm_optuse *u, char *out, size_t size)
{
	size_t	 i = opt_row(u->code);

	if (i == NOPTS)
		return snprintf(out, size, "?");
	return snprintf(out, size, "%s--%s%s%s%s", u->required ? "" : "[",
	    opttab[i].name, opttab[i].arg ? " " : "",
	    opttab[i].arg ? opttab[i].arg : "", u->required ? "" : "]");
}

/* "PREFIXcreate NAME --cn CN [--san LIST] ...", wrapped at 78 columns. */
void
cm_synopsis(FILE *f, const char *prefix, const struct cm_cmd *cmd)
{
	const struct cm_optuse	*u;
	char			 word[96];
	int			 col, n;

	col = fprintf(f, "%s%s%s%s", prefix, cmd->name, cmd->args[0] ? " " : "",
	    cmd->args);
	for (u = cmd->opts; u != NULL && u->code != 0; u++) {
		n = opt_text(u, word, sizeof(word));
		if (col + 1 + n > 78) {
			fprintf(f, "\n      ");
			col = 6;
		}
		col += fprintf(f, " %s", word);
	}
	fprintf(f, "\n");
}

#define USAGE_PREFIX	"usage: certmgr [-q] [-c FILE | -d DIR] [--json] "

int
cm_usage(const struct cm_cmd *cmd)
{
	cm_synopsis(stderr, USAGE_PREFIX, cmd);
	fprintf(stderr, "       certmgr %s --help\n", cmd->name);
	return CM_USAGE;
}

/* Prints help indented under a 21-column option column. */
static void
help_text(const char *head, const char *help)
{
	const char	*nl;
	int		 col;

	col = printf("  %s", head);
	for (;;) {
		if (col > 20) {
			printf("\n");
			col = 0;
		}
		printf("%*s", 21 - col, "");
		nl = strchr(help, '\n');
		printf("%.*s\n", nl ? (int)(nl - help) : (int)strlen(help),
		    help);
		if (nl == NULL)
			break;
		help = nl + 1;
		col = 0;
	}
}

void
cm_help(const struct cm_cmd *cmd)
{
	const struct cm_optuse	*u;
	char			 head[64];
	size_t			 i;

	cm_synopsis(stdout, USAGE_PREFIX, cmd);
	printf("\n%s", cmd->help);
	if (cmd->opts != NULL && cmd->opts[0].code != 0)
		printf("\nOptions:\n");
	for (u = cmd->opts; u != NULL && u->code != 0; u++) {
		if ((i = opt_row(u->code)) == NOPTS)
			continue;
		snprintf(head, sizeof(head), "--%s%s%s", opttab[i].name,
		    opttab[i].arg ? " " : "", opttab[i].arg ? opttab[i].arg :
		    "");
		help_text(head, u->help != NULL ? u->help : opttab[i].help);
	}
	printf("\nCommon options:\n"
	    "  -d, --dir DIR      certs folder (default: certs_dir of -c FILE,\n"
	    "                     $FTPSD_CERTS_DIR, certs_dir of the default\n"
	    "                     ftpsd config, or %s)\n"
	    "  -c, --config FILE  ftpsd config whose certs_dir to use\n"
	    "  --json             machine-readable output\n"
	    "  -q, --quiet        no output on success\n"
	    "  --help             this text\n"
	    "Exit status: 0 ok, 1 failure, 2 usage error.\n", FTPS_CERTSDIR);
}

/* A word for roff: its hyphens as \-. */
static void
roff_word(const char *w)
{
	for (; *w != '\0'; w++) {
		if (*w == '-')
			putchar('\\');
		putchar(*w);
	}
}

/* certmgr(1)'s synopsis of one subcommand: "NAME<TAB>roff line". */
void
cm_roff_synopsis(const struct cm_cmd *cmd)
{
	const struct cm_optuse	*u;
	const char		*p;
	size_t			 i;

	printf("%s\t\\fB", cmd->name);
	roff_word(cmd->name);
	printf("\\fR");
	/* Arguments: upper-case words in italics, the rest as they are. */
	if (cmd->args[0] != '\0') {
		printf(" ");
		for (p = cmd->args; *p != '\0'; p++) {
			if (*p >= 'A' && *p <= 'Z' && (p == cmd->args ||
			    !(p[-1] >= 'A' && p[-1] <= 'Z')))
				printf("\\fI");
			putchar(*p);
			if (*p >= 'A' && *p <= 'Z' && !(p[1] >= 'A' &&
			    p[1] <= 'Z'))
				printf("\\fR");
		}
	}
	for (u = cmd->opts; u != NULL && u->code != 0; u++) {
		if ((i = opt_row(u->code)) == NOPTS)
			continue;
		printf(" %s\\fB\\-\\-", u->required ? "" : "[");
		roff_word(opttab[i].name);
		printf("\\fR");
		if (opttab[i].arg != NULL)
			printf(" \\fI%s\\fR", opttab[i].arg);
		if (!u->required)
			printf("]");
	}
	printf("\n");
}

/* 1 when cmd takes the option. */
static int
cm_takes(const struct cm_cmd *cmd, int code)
{
	const struct cm_optuse	*u;

	for (u = cmd->opts; u != NULL && u->code != 0; u++)
		if (u->code == code)
			return 1;
	return 0;
}

int
cm_parse(struct cli *cli, const struct cm_cmd *cmd, int argc, char **argv,
    struct cm_args *a)
{
	struct option		 lo[NOPTS + 5];
	const struct cm_optuse	*u;
	const char		*glued = NULL;
	size_t			 i, n = 0;
	int			 c;

	memset(a, 0, sizeof(*a));
	memset(lo, 0, sizeof(lo));
	lo[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	lo[n++] = (struct option){ "quiet", no_argument, NULL, 'q' };
	lo[n++] = (struct option){ "dir", required_argument, NULL, 'd' };
	lo[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	for (u = cmd->opts; u != NULL && u->code != 0 && n < NOPTS + 4; u++)
		if ((i = opt_row(u->code)) < NOPTS)
			lo[n++] = (struct option){ opttab[i].name,
			    opttab[i].arg ? required_argument : no_argument,
			    NULL, opttab[i].code };
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qd:y", lo, NULL)) != -1) {
		if (c == 'y' && cm_takes(cmd, OPT_YES))
			c = OPT_YES;
		else if (c == 'y') {
			optopt = 'y';
			c = '?';
		}
		switch (c) {
		case 'd':
			cli->dir = optarg;
			/* "-dash" is -d ash: say so if a NAME goes missing. */
			glued = strncmp(argv[optind - 1], "-d", 2) == 0 &&
			    argv[optind - 1][2] != '\0' ? argv[optind - 1] :
			    NULL;
			continue;
		case 'q':
			cli->quiet = 1;
			continue;
		case OPT_JSON:
			cli->json = 1;
			continue;
		case OPT_HELP:
			cm_help(cmd);
			return -1;
		case ':':
			cm_error("%s: option %s needs an argument", cmd->name,
			    argv[optind - 1]);
			return cm_usage(cmd);
		case '?':
			if (optopt != 0)
				cm_error("%s: unknown option -%c", cmd->name,
				    optopt);
			else
				cm_error("%s: unknown option %.64s", cmd->name,
				    argv[optind - 1]);
			return cm_usage(cmd);
		}
		if (c == OPT_DOMAIN && a->nrep == CM_REPEAT_MAX) {
			cm_error("%s: more than %d --%s", cmd->name,
			    CM_REPEAT_MAX, opttab[opt_row(c)].name);
			return cm_usage(cmd);
		}
		if (c == OPT_DOMAIN)
			a->rep[a->nrep++] = optarg;
		if (c >= OPT_BASE && c < OPT_MAX)
			a->v[c - OPT_BASE] = optarg != NULL ? optarg : "";
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	if (a->argc < cmd->min) {
		if (glued != NULL)
			cm_error("%s: %s missing (\"%.64s\" was read as -d "
			    "%.64s, the certs folder)", cmd->name, cmd->args,
			    glued, glued + 2);
		else
			cm_error("%s: %s missing", cmd->name, cmd->args);
		return cm_usage(cmd);
	}
	if (a->argc > cmd->max) {
		cm_error("%s: unexpected argument \"%.64s\"", cmd->name,
		    a->argv[cmd->max]);
		return cm_usage(cmd);
	}
	for (u = cmd->opts; u != NULL && u->code != 0; u++)
		if (u->required && a->v[u->code - OPT_BASE] == NULL &&
		    (i = opt_row(u->code)) < NOPTS) {
			cm_error("%s: --%s %s is required", cmd->name,
			    opttab[i].name, opttab[i].arg ? opttab[i].arg : "");
			return cm_usage(cmd);
		}
	return 0;
}

void
cm_subjopts_get(const struct cm_args *a, struct cm_subjopts *o)
{
	memset(o, 0, sizeof(*o));
	o->subj.cn = CM_ARG(a, OPT_CN);
	o->subj.country = CM_ARG(a, OPT_COUNTRY);
	o->subj.state = CM_ARG(a, OPT_STATE);
	o->subj.locality = CM_ARG(a, OPT_LOCALITY);
	o->subj.org = CM_ARG(a, OPT_ORG);
	o->subj.ou = CM_ARG(a, OPT_OU);
	o->subj.email = CM_ARG(a, OPT_EMAIL);
	o->san = CM_ARG(a, OPT_SAN);
	o->upn = CM_ARG(a, OPT_UPN);
	o->key = CM_ARG(a, OPT_KEY);
	o->days = CM_ARG(a, OPT_DAYS);
}
