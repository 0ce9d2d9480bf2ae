/*
 * certmgr's command-line plumbing shared by the subcommands: options,
 * messages, passphrase sources, JSON output, prompts.
 */
#ifndef FTPS_CLI_H
#define FTPS_CLI_H

#include <stdio.h>

#include "certstore.h"
#include "csca.h"
#include "csx509.h"

#define CM_OK		0
#define CM_FAIL		1
#define CM_USAGE	2

/* What every subcommand gets. */
struct conf;

struct cli {
	const char	*dir;		/* the certs folder */
	const struct conf *conf;	/* ftpsd.conf when dir came from it,
					 * else NULL (list: which host uses
					 * each certificate) */
	int		 json;		/* --json */
	int		 quiet;		/* -q */
};

/*
 * Options, declared once in opts.c (name, argument, help).  OPT_JSON and
 * OPT_HELP (with -q and -d) every subcommand takes.
 */
enum {
	OPT_BASE = 1000,
	OPT_JSON = OPT_BASE, OPT_HELP, OPT_CN, OPT_SAN, OPT_KEY, OPT_DAYS,
	OPT_COUNTRY, OPT_STATE, OPT_LOCALITY, OPT_ORG, OPT_OU, OPT_EMAIL,
	OPT_FORCE, OPT_NAME, OPT_PASSIN, OPT_PASSOUT, OPT_YES, OPT_CA,
	OPT_CRL, OPT_HOST, OPT_PURPOSE, OPT_CADIR, OPT_CRLURL, OPT_SERVER,
	OPT_CLIENT, OPT_REASON, OPT_PKCS12, OPT_UPN, OPT_INTERMEDIATE,
	OPT_MAX
};

/* One option of a subcommand: help NULL is the table's. */
struct cm_optuse {
	int		 code;
	int		 required;
	const char	*help;
};
/* The subject options of create, csr and ca issue, in that order. */
#define CM_SUBJECT_OPTS \
	{ OPT_SAN, 0, NULL }, { OPT_UPN, 0, NULL }, { OPT_KEY, 0, NULL }, \
	{ OPT_COUNTRY, 0, NULL }, { OPT_STATE, 0, NULL }, \
	{ OPT_LOCALITY, 0, NULL }, { OPT_ORG, 0, NULL }, { OPT_OU, 0, NULL }, \
	{ OPT_EMAIL, 0, NULL }

/* What the command line said: option values by code, the arguments. */
struct cm_args {
	const char	*v[OPT_MAX - OPT_BASE];	/* NULL: absent; "" flag */
	int		 argc;
	char		**argv;
};
#define CM_ARG(a, c)	((a)->v[(c) - OPT_BASE])
#define CM_FLAG(a, c)	(CM_ARG(a, c) != NULL)

/* One subcommand: a row of main.c's table (ca.c's for "ca init" ...). */
struct cm_cmd {
	const char		*name;
	int			(*fn)(struct cli *, const struct cm_args *);
	const char		*args;		/* "NAME", "CERT [KEY]" */
	int			 min, max;	/* how many arguments */
	const struct cm_optuse	*opts;		/* { 0 } ends */
	const char		*help;		/* what it does */
};

/* The subcommands, one file each. */
int	 cm_create(struct cli *, const struct cm_args *);
int	 cm_csr(struct cli *, const struct cm_args *);
int	 cm_import(struct cli *, const struct cm_args *);
int	 cm_list(struct cli *, const struct cm_args *);
int	 cm_show(struct cli *, const struct cm_args *);
int	 cm_default(struct cli *, const struct cm_args *);
int	 cm_rename(struct cli *, const struct cm_args *);
int	 cm_delete(struct cli *, const struct cm_args *);
int	 cm_verify(struct cli *, const struct cm_args *);
int	 cm_renew(struct cli *, const struct cm_args *);
int	 cm_export(struct cli *, const struct cm_args *);

/* ca.c's rows ("ca init", ...) and how many. */
extern const struct cm_cmd	cm_ca_cmds[];
extern const size_t		cm_ca_ncmds;

/* The row for name ("ca sign" included), or NULL. */
const struct cm_cmd	*cm_lookup(const char *name);

/*
 * Parses argv (argv[0] is the subcommand) by cmd's options into a.  0:
 * run it; -1: --help was printed (exit 0); CM_USAGE: an error line and
 * the usage were printed.
 */
int	 cm_parse(struct cli *, const struct cm_cmd *, int argc, char **argv,
	    struct cm_args *a);
/* Usage line to stderr; returns CM_USAGE. */
int	 cm_usage(const struct cm_cmd *);
/* Full help for a subcommand to stdout. */
void	 cm_help(const struct cm_cmd *);
/* "PREFIXname args [--opt ARG]...", wrapped, to f. */
void	 cm_synopsis(FILE *f, const char *prefix, const struct cm_cmd *);
/* Its certmgr(1) synopsis line, "NAME<TAB>roff", to stdout. */
void	 cm_roff_synopsis(const struct cm_cmd *);

/* Subject, SAN, key and validity options of create, csr and ca issue. */
struct cm_subjopts {
	struct cs_subject	 subj;
	const char		*san;
	const char		*upn;		/* UPN SAN */
	const char		*key;
	const char		*days;
};
void	 cm_subjopts_get(const struct cm_args *, struct cm_subjopts *);
/* Parses --days: 1..max, default def; message on error. */
int	 cm_days(const char *arg, unsigned def, unsigned max, const char *what,
	    unsigned *out);

/* "certmgr: ..." on stderr. */
void	 cm_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 cm_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* On stdout unless -q (or --json, whose output is the JSON). */
void	 cm_info(const struct cli *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The files NAME has (CS_HAS_*), which must include need (0: any file;
 * CS_HAS_CRT: a certificate); -1 after a message saying what is
 * missing.
 */
int	 cm_name_files(const struct cli *, const char *name, unsigned need);

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
