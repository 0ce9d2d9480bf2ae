/*
 * The FTP command table and its one gate.  Every command a client may send
 * has one row: its name, handler, whether it needs a login, its TLS policy,
 * its argument policy, the permission it needs and its other preconditions
 * (CMD_* flags).  cmd_dispatch() checks the row before any handler runs; a
 * handler does one job and replies exactly once.
 */
#ifndef FTPS_CMD_H
#define FTPS_CMD_H

#include <sys/types.h>
#include <sys/stat.h>
#include <stddef.h>

#include "buf.h"
#include "iopool.h"
#include "vfs.h"

struct session;
struct ls_iter;

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
#define CMD_FS_IF_ARG	0x40	/* the fs part only with an argument */

typedef void	(*cmd_handler)(struct session *, const char *arg);
struct cmd_job;
typedef void	(*cmd_fs_part)(struct cmd_job *);

/*
 * A row whose fs column is set does file system work: the gate hands its
 * fs part to the I/O pool (a slow disk waits there, never on the loop)
 * and the session reads no further command; once it is back, the loop
 * replies: a failure or refusal the fs part recorded (cmd_job_fail,
 * cmd_job_refuse) generically, else through the handler, which finds
 * the results in s->job and applies them to the session (cwd, RNFR...).
 */
struct ftp_cmd {
	const char	*name;
	cmd_handler	 handler;
	int		 login;
	enum cmd_tls	 tls;
	enum cmd_arg	 args;
	unsigned	 perm;	/* PERM_* bits the account needs (550) */
	unsigned	 flags;	/* CMD_* */
	cmd_fs_part	 fs;	/* NULL, or its part on the I/O pool */
};

/*
 * One file system command in flight.  The fs part, on a pool thread,
 * touches only this: what the gate set aside from the session (copies,
 * and a reference on the home that keeps its descriptor open), and the
 * results.  A session that ends meanwhile leaves the job to finish and
 * free itself (s = NULL), as transfer.c's jobs do.
 */
struct cmd_job {
	struct io_job		 io;
	struct session		*s;		/* NULL: the session ended */
	const struct ftp_cmd	*cmd;
	/* Set aside by the gate. */
	char			*arg;		/* the argument, "" for none */
	struct vfs		 vfs;		/* root held, cwd copied */
	char			*rnfr;		/* CMD_RNFR: the RNFR path */
	unsigned		 perms;		/* PERM_* */
	unsigned		 facts;		/* MF_* (OPTS MLST) */
	mode_t			 umask;		/* file_umask */
	unsigned long long	 rest;		/* CMD_DC: the REST offset,
						 * used up by this command */
	/* Results. */
	const char		*verb;		/* a failure's, else the row's */
	int			 code;		/* a failure's or refusal's */
	int			 r;		/* 0 or an FTPS_E code */
	int			 err;		/* errno, with FTPS_ESYS */
	const char		*msg;		/* a refusal's text (static) */
	const char		*path;		/* a failure's path (display) */
	struct vpath		 vp, vp2;	/* vp2: RNTO's target */
	struct stat		 st;
	int			 found;		/* st is valid */
	int			 fd;		/* RETR's file, or -1 */
	struct ls_iter		*ls;		/* a listing to send */
	struct buf		 text;		/* MLST, STAT: what to send */
	int			 complete;	/* STAT: text holds it all */
};

/*
 * For fs parts (on the pool): a failure the loop answers with code and
 * r's text through cmd_fs_fail() (errno is kept now, path shown), or a
 * refusal answered "code msg".
 */
void	cmd_job_fail(struct cmd_job *, int code, int r, const char *path);
void	cmd_job_refuse(struct cmd_job *, int code, const char *msg);

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
 * fs parts: a name the client is about to create: 1 when allowed, else
 * 553 is the answer (a control character in it) and 0 returned.
 */
int	cmd_job_new_name(struct cmd_job *, const struct vpath *);
/* fs parts: arg resolved into vp; 0, or the failure recorded (code). */
int	cmd_job_resolve(struct cmd_job *, const char *arg, struct vpath *,
	    int code);
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
void	cmd_mfmt(struct session *, const char *);
void	cmd_cwd_fs(struct cmd_job *);
void	cmd_cdup_fs(struct cmd_job *);
void	cmd_mkd_fs(struct cmd_job *);
void	cmd_rmd_fs(struct cmd_job *);
void	cmd_dele_fs(struct cmd_job *);
void	cmd_rnfr_fs(struct cmd_job *);
void	cmd_rnto_fs(struct cmd_job *);
void	cmd_stat_fs(struct cmd_job *);
/* SIZE, MDTM: the path resolved and stat(2)ed. */
void	cmd_lookup_fs(struct cmd_job *);
void	cmd_mlst_fs(struct cmd_job *);
void	cmd_mfmt_fs(struct cmd_job *);

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
void	cmd_list_fs(struct cmd_job *);
void	cmd_nlst_fs(struct cmd_job *);
void	cmd_mlsd_fs(struct cmd_job *);
void	cmd_retr_fs(struct cmd_job *);
void	cmd_stor_fs(struct cmd_job *);
void	cmd_appe_fs(struct cmd_job *);
void	cmd_stou_fs(struct cmd_job *);

#endif
