/*
 * certmgr's command-line plumbing shared by the subcommands: options,
 * messages, passphrase sources, JSON output, prompts.
 */
#ifndef FTPS_CLI_H
#define FTPS_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "certstore.h"
#include "csca.h"
#include "csx509.h"

#define CM_OK		0
#define CM_FAIL		1
#define CM_USAGE	2

/* What every subcommand gets. */
struct cli {
	const char	*dir;		/* the certs folder */
	int		 json;		/* --json */
	int		 quiet;		/* -q */
};

/* One subcommand: the table row of main.c. */
struct cm_cmd {
	const char	*name;
	int		(*fn)(struct cli *, int argc, char **argv);
	const char	*usage;		/* "NAME --cn CN [...]" */
	const char	*help;		/* the options, one per line */
};

/* The subcommands, one file each. */
int	 cm_create(struct cli *, int, char **);
int	 cm_csr(struct cli *, int, char **);
int	 cm_import(struct cli *, int, char **);
int	 cm_list(struct cli *, int, char **);
int	 cm_show(struct cli *, int, char **);
int	 cm_default(struct cli *, int, char **);
int	 cm_rename(struct cli *, int, char **);
int	 cm_delete(struct cli *, int, char **);
int	 cm_verify(struct cli *, int, char **);
int	 cm_ca(struct cli *, int, char **);
int	 cm_renew(struct cli *, int, char **);
int	 cm_export(struct cli *, int, char **);

/* The row for name ("ca sign" included), or NULL. */
const struct cm_cmd	*cm_lookup(const char *name);

/*
 * Long options every subcommand accepts too, and their codes.  A
 * subcommand's option loop hands unknown codes to cm_common_opt(),
 * which returns 1 (handled), -1 (--help printed: exit 0) or 0 (usage
 * error, printed).
 */
enum {
	OPT_JSON = 1000, OPT_HELP, OPT_CN, OPT_SAN, OPT_KEY, OPT_DAYS,
	OPT_COUNTRY, OPT_STATE, OPT_LOCALITY, OPT_ORG, OPT_OU, OPT_EMAIL,
	OPT_FORCE, OPT_NAME, OPT_PASSIN, OPT_PASSOUT, OPT_YES, OPT_CA,
	OPT_CRL, OPT_HOST, OPT_PURPOSE, OPT_CADIR, OPT_CRLURL, OPT_SERVER,
	OPT_CLIENT, OPT_REASON, OPT_PKCS12, OPT_UPN, OPT_INTERMEDIATE,
};
#define CM_COMMON_LONGOPTS \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "dir", required_argument, NULL, 'd' }, \
	{ "help", no_argument, NULL, OPT_HELP }
#define CM_SUBJECT_LONGOPTS \
	{ "cn", required_argument, NULL, OPT_CN }, \
	{ "san", required_argument, NULL, OPT_SAN }, \
	{ "key", required_argument, NULL, OPT_KEY }, \
	{ "days", required_argument, NULL, OPT_DAYS }, \
	{ "country", required_argument, NULL, OPT_COUNTRY }, \
	{ "state", required_argument, NULL, OPT_STATE }, \
	{ "locality", required_argument, NULL, OPT_LOCALITY }, \
	{ "org", required_argument, NULL, OPT_ORG }, \
	{ "ou", required_argument, NULL, OPT_OU }, \
	{ "email", required_argument, NULL, OPT_EMAIL }, \
	{ "upn", required_argument, NULL, OPT_UPN }
#define CM_SHORTOPTS	"qd:"

int	 cm_common_opt(struct cli *, const struct cm_cmd *, int c,
	    const char *arg);
/* Usage line to stderr; returns CM_USAGE. */
int	 cm_usage(const struct cm_cmd *);
/* Full help for a subcommand to stdout. */
void	 cm_help(const struct cm_cmd *);

/* Subject, SAN, key and validity options of create, csr and ca issue. */
struct cm_subjopts {
	struct cs_subject	 subj;
	const char		*san;
	const char		*upn;		/* client: UPN SAN */
	const char		*key;
	const char		*days;
};
/* 1 handled, 0 not a subject option. */
int	 cm_subject_opt(struct cm_subjopts *, int c, const char *arg);
/* Parses --days: 1..max, default def; message on error. */
int	 cm_days(const char *arg, unsigned def, unsigned max, const char *what,
	    unsigned *out);

/* "certmgr: ..." on stderr. */
void	 cm_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 cm_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* On stdout unless -q (or --json, whose output is the JSON). */
void	 cm_info(const struct cli *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* The folder, created 0700 when missing (for commands that write). */
int	 cm_ensure_dir(const struct cli *, const char *dir);

/*
 * A passphrase source: "file:PATH", "fd:N", "stdin", "prompt" (or NULL:
 * ask on /dev/tty when a passphrase turns out to be needed).  Read at
 * most once, cleansed by cm_pass_clear().
 */
struct cm_pass {
	const char	*spec;
	const char	*opt;		/* "--passin", for messages */
	int		 newpass;	/* ask twice, at least 4 characters */
	char		 buf[CS_PASS_MAX];
	int		 len;		/* -1: not read yet */
	int		 failed;	/* reading it failed: why says why */
	char		 why[CS_ERR_MAX];
	struct cs_pass	 cs;		/* hand &cs to libcertstore */
};
/* 0, or CM_USAGE after saying why spec is refused ("pass:" in argv). */
int	 cm_pass_init(struct cm_pass *, const char *spec, const char *opt,
	    int newpass);
/*
 * The message for a libcertstore failure err: why the passphrase could
 * not be read when that was the cause, else err.
 */
const char	*cm_pass_err(const struct cm_pass *, const char *err);
/* Reads the passphrase now (--passout); 0 or -1 after a message. */
int	 cm_pass_read(struct cm_pass *, const char *what);
void	 cm_pass_clear(struct cm_pass *);

/* Asks "question [y/N]" on /dev/tty; 1 for yes. */
int	 cm_confirm(const char *question);

/* A minimal JSON writer on stdout. */
struct jw {
	int	 depth;
	int	 count[16];
};
void	 jw_open(struct jw *, const char *key, char bracket);
void	 jw_close(struct jw *, char bracket);
void	 jw_str(struct jw *, const char *key, const char *value);
void	 jw_int(struct jw *, const char *key, long value);
void	 jw_bool(struct jw *, const char *key, int value);

/*
 * Shared steps of the subcommands that write pairs (create.c): a key,
 * subject, SANs (CN and, for clients, e-mail added) and request from
 * the options; refusing an existing NAME without --force; the summary
 * of what was written.  Errors are printed; -1 returned.
 */
int	 cm_build_request(const struct cm_subjopts *, enum cs_purpose,
	    EVP_PKEY **, X509_NAME **, GENERAL_NAMES **, X509_REQ **);
int	 cm_refuse_existing(const struct cli *, const char *name, int force);
void	 cm_print_written(const struct cli *, const char *what,
	    const char *name, X509 *, EVP_PKEY *, const char *files);

/*
 * What list and show find for one NAME (list.c).  status: "ok",
 * "expiring" (< 30 days), "expired", "key-mismatch", "missing-key",
 * "self-signed", "pending" (key and request, no certificate yet),
 * "missing-cert", "key-encrypted", "unreadable"; cm_state_check() adds
 * "revoked" and "incomplete-chain".
 */
#define CM_EXPIRING_DAYS	30
#define CM_STATUSES \
	"ok, expiring (fewer than 30 days left), expired, revoked (by the " \
	"folder's CA),\nincomplete-chain (an issuer is missing), " \
	"key-mismatch, missing-key,\nself-signed, pending (key and request, " \
	"no certificate yet), missing-cert,\nkey-encrypted, unreadable"
struct cm_state {
	X509		*cert;		/* NULL: none or unreadable */
	STACK_OF(X509)	*chain;		/* after the leaf, then NAME.chain */
	EVP_PKEY	*key;
	unsigned	 has;		/* CS_HAS_* */
	const char	*status;
	char		 why[CS_ERR_MAX];	/* for unreadable */
	/* cm_state_check(): */
	int		 rev_db;	/* revoked in the CA's index.txt */
	int		 rev_crl;	/* listed in its crl.pem */
	char		 rev_date[48], rev_reason[32];
	char		 missing[512];	/* incomplete-chain: the issuer */
};
void	 cm_state_load(const char *dir, const char *name, unsigned has,
	    struct cm_state *);
void	 cm_state_free(struct cm_state *);

/* The folder's CA, database and CRL, read once for many names. */
struct cm_ctx {
	int		 loaded, have_ca, have_db;
	struct cs_ca	 ca;
	struct cs_db	 db;
	X509_CRL	*crl;
	X509_STORE	*roots;		/* the system's, for chain checks */
};
/* Adds "revoked" and "incomplete-chain" to a loaded state (state.c). */
void	 cm_state_check(struct cm_ctx *, const char *dir, struct cm_state *);
/* 1 when the folder's CA signed x. */
int	 cm_ctx_issued(struct cm_ctx *, const char *dir, X509 *x);
void	 cm_ctx_free(struct cm_ctx *);

/*
 * renew's link to ca.c: 1 when the folder's CA issued x (then ca is
 * open with its key loaded), 0 when not, -1 after an error message.
 */
int	 cm_ca_for(const struct cli *, X509 *x, struct cs_ca *ca,
	    struct cm_pass *pass);

/*
 * The shared end of ca sign, ca issue and renew: signs req with ca and,
 * in the step that records it in the CA, writes NAME.crt (+ NAME.key
 * and NAME.csr when given; NAME.chain when ca is an intermediate, else
 * an old NAME.chain is removed).  A refusal or failure is printed and
 * leaves neither the folder nor the CA changed; -1.
 */
struct cs_signreq;
int	 cm_ca_sign_write(const struct cli *, struct cs_ca *,
	    struct cs_signreq *, const char *name, EVP_PKEY *key,
	    X509_REQ *csr, int replace, X509 **out);

/* base name of a path without a known extension, as a NAME candidate. */
int	 cm_basename(const char *path, char *out, size_t size);

#endif
