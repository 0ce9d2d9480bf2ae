/*
 * The FTP command table and its one gate.  Every command a client may send
 * has one row: its name, handler, whether it needs a login, its TLS policy,
 * its argument policy, the permission it needs and its other preconditions
 * (CMD_* flags).  cmd_dispatch() checks the row before any handler runs; a
 * handler does one job and replies exactly once.
 */
#ifndef FTPS_CMD_H
#define FTPS_CMD_H

#include <stddef.h>

struct session;

enum cmd_tls {
	TLS_NONE,	/* allowed on a plaintext control connection */
	TLS_CTRL,	/* tls = required: control must be TLS (534) */
	TLS_DATA,	/* also data_tls = required: PROT P first (521) */
};

enum cmd_arg {
	ARG_NONE,	/* no argument (501 if one is given) */
	ARG_OPT,	/* optional */
	ARG_WORD,	/* required, one word */
	ARG_ANY,	/* required, any text */
	ARG_PATH,	/* required path name */
};

/*
 * A row's preconditions beyond login, TLS and arguments, checked in this
 * order once those passed.  Every command but RNTO ends a pending RNFR.
 */
#define CMD_RNFR	0x01	/* takes the pending RNFR (503 without one) */
#define CMD_NO_EPSV_ALL	0x02	/* refused after EPSV ALL (503) */
#define CMD_AUTH	0x04	/* needs AUTH TLS first (503) */
#define CMD_PBSZ	0x08	/* needs a successful PBSZ first (503) */
#define CMD_DC		0x10	/* needs PORT/EPRT/PASV/EPSV first (425) */
#define CMD_XFER_OK	0x20	/* runs at once while a transfer runs */

typedef void	(*cmd_handler)(struct session *, const char *arg);

struct ftp_cmd {
	const char	*name;
	cmd_handler	 handler;
	int		 login;
	enum cmd_tls	 tls;
	enum cmd_arg	 args;
	unsigned	 perm;	/* PERM_* bits the account needs (550) */
	unsigned	 flags;	/* CMD_* */
};

/* Runs one command line (already stripped of CRLF and Telnet codes). */
void		 cmd_dispatch(struct session *, char *line);
/* The row for an upper- or lower-case name, or NULL. */
const struct ftp_cmd *cmd_find(const char *name);
/* The whole table, *n rows (the tests walk it). */
const struct ftp_cmd *cmd_rows(size_t *n);
/*
 * 1 when line's command runs at once while a transfer runs (its row has
 * CMD_XFER_OK: ABOR, QUIT, STAT, NOOP); any other line waits.
 */
int		 cmd_during_xfer(const char *line);
/*
 * Splits "VERB arg" in place: *verb is upper-cased, *arg points after the
 * first space or is NULL.  0, or FTPS_EPARSE for a malformed verb.
 */
int		 cmd_split(char *line, char **verb, char **arg);

/* cmd_auth.c */
void	cmd_user(struct session *, const char *);
void	cmd_pass(struct session *, const char *);
void	cmd_acct(struct session *, const char *);
void	cmd_rein(struct session *, const char *);
void	cmd_quit(struct session *, const char *);
void	cmd_auth(struct session *, const char *);
/* vhost.c: HOST (RFC 7151). */
void	cmd_host(struct session *, const char *);
void	cmd_pbsz(struct session *, const char *);
void	cmd_prot(struct session *, const char *);
void	cmd_ccc(struct session *, const char *);

/* cmd.c: about the session itself */
void	cmd_noop(struct session *, const char *);
void	cmd_allo(struct session *, const char *);
void	cmd_syst(struct session *, const char *);
void	cmd_feat(struct session *, const char *);
void	cmd_opts(struct session *, const char *);
void	cmd_help(struct session *, const char *);
void	cmd_stat(struct session *, const char *);
void	cmd_type(struct session *, const char *);
void	cmd_mode(struct session *, const char *);
void	cmd_stru(struct session *, const char *);

/* cmd_fs.c */
struct vpath;
/*
 * The reply (code) for a file command (verb) on path (as vpath.display
 * shows it: log_safe'd) that failed with err,
 * an FTPS_E code.  A cause the client cannot bring about by itself (not a
 * missing, existing, forbidden or wrong-type object, nor a bad name: an
 * I/O error, ENOSYS, EPERM, a full disk...) is also logged as one warning
 * naming the command, the path and strerror.
 */
void	cmd_fs_fail(struct session *, const char *verb, const char *path,
	    int code, int err);
/*
 * A name the client is about to create: 1 when allowed, else 553 is
 * replied (a control character in it) and 0 returned.
 */
int	cmd_new_name_ok(struct session *, const struct vpath *);
void	cmd_pwd(struct session *, const char *);
void	cmd_cwd(struct session *, const char *);
void	cmd_cdup(struct session *, const char *);
void	cmd_mkd(struct session *, const char *);
void	cmd_rmd(struct session *, const char *);
void	cmd_dele(struct session *, const char *);
void	cmd_rnfr(struct session *, const char *);
void	cmd_rnto(struct session *, const char *);
void	cmd_size(struct session *, const char *);
void	cmd_mdtm(struct session *, const char *);
void	cmd_mlst(struct session *, const char *);

/* cmd_xfer.c */
void	cmd_pasv(struct session *, const char *);
void	cmd_epsv(struct session *, const char *);
void	cmd_port(struct session *, const char *);
void	cmd_eprt(struct session *, const char *);
void	cmd_list(struct session *, const char *);
void	cmd_nlst(struct session *, const char *);
void	cmd_mlsd(struct session *, const char *);
void	cmd_retr(struct session *, const char *);
void	cmd_stor(struct session *, const char *);
void	cmd_appe(struct session *, const char *);
void	cmd_stou(struct session *, const char *);
void	cmd_rest(struct session *, const char *);
void	cmd_abor(struct session *, const char *);

#endif
