/*
 * The command table is the policy: cmd_dispatch() checks login, TLS and
 * argument rules from the row before any handler runs.  Also the commands
 * about the session itself (NOOP SYST FEAT OPTS HELP STAT TYPE MODE STRU).
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "auth.h"
#include "buf.h"
#include "cmd.h"
#include "conf.h"
#include "datachan.h"
#include "err.h"
#include "ftpsd.h"
#include "iopool.h"
#include "listing.h"
#include "metrics.h"
#include "parse.h"
#include "session.h"
#include "vfs.h"

#define CMD_VERB_MAX	8

static const struct ftp_cmd cmds[] = {
	/* name, handler, login, tls, args, perm, flags, fs part (cmd.h) */
	{ "USER", cmd_user, 0, TLS_CTRL, ARG_ANY,  0,          0, NULL },
	{ "PASS", cmd_pass, 0, TLS_CTRL, ARG_OPT,  0,          0, NULL },
	{ "ACCT", cmd_acct, 0, TLS_NONE, ARG_OPT,  0,          0, NULL },
	{ "REIN", cmd_rein, 0, TLS_NONE, ARG_OPT,  0,          0, NULL },
	{ "QUIT", cmd_quit, 0, TLS_NONE, ARG_NONE, 0,          CMD_XFER_OK,
	    NULL },
	{ "AUTH", cmd_auth, 0, TLS_NONE, ARG_WORD, 0,          0, NULL },
	{ "HOST", cmd_host, 0, TLS_NONE, ARG_WORD, 0,          0, NULL },
	{ "PBSZ", cmd_pbsz, 0, TLS_NONE, ARG_WORD, 0,          CMD_AUTH, NULL },
	{ "PROT", cmd_prot, 0, TLS_NONE, ARG_WORD, 0,
	    CMD_AUTH | CMD_PBSZ, NULL },
	{ "CCC",  cmd_ccc,  0, TLS_NONE, ARG_NONE, 0,          0, NULL },
	{ "NOOP", cmd_noop, 0, TLS_NONE, ARG_NONE, 0,          CMD_XFER_OK,
	    NULL },
	{ "SYST", cmd_syst, 0, TLS_NONE, ARG_NONE, 0,          0, NULL },
	{ "FEAT", cmd_feat, 0, TLS_NONE, ARG_NONE, 0,          0, NULL },
	{ "OPTS", cmd_opts, 0, TLS_NONE, ARG_ANY,  0,          0, NULL },
	{ "HELP", cmd_help, 0, TLS_NONE, ARG_OPT,  0,          0, NULL },
	{ "STAT", cmd_stat, 0, TLS_NONE, ARG_OPT,  0,
	    CMD_XFER_OK | CMD_FS_IF_ARG, cmd_stat_fs },
	{ "TYPE", cmd_type, 1, TLS_CTRL, ARG_ANY,  0,          0, NULL },
	{ "MODE", cmd_mode, 1, TLS_CTRL, ARG_WORD, 0,          0, NULL },
	{ "STRU", cmd_stru, 1, TLS_CTRL, ARG_WORD, 0,          0, NULL },
	{ "PWD",  cmd_pwd,  1, TLS_CTRL, ARG_NONE, 0,          0, NULL },
	{ "XPWD", cmd_pwd,  1, TLS_CTRL, ARG_NONE, 0,          0, NULL },
	{ "CWD",  cmd_cwd,  1, TLS_CTRL, ARG_PATH, 0,          0, cmd_cwd_fs },
	{ "XCWD", cmd_cwd,  1, TLS_CTRL, ARG_PATH, 0,          0, cmd_cwd_fs },
	{ "CDUP", cmd_cdup, 1, TLS_CTRL, ARG_NONE, 0,          0, cmd_cdup_fs },
	{ "XCUP", cmd_cdup, 1, TLS_CTRL, ARG_NONE, 0,          0, cmd_cdup_fs },
	{ "MKD",  cmd_mkd,  1, TLS_CTRL, ARG_PATH, PERM_WRITE, 0, cmd_mkd_fs },
	{ "XMKD", cmd_mkd,  1, TLS_CTRL, ARG_PATH, PERM_WRITE, 0, cmd_mkd_fs },
	{ "RMD",  cmd_rmd,  1, TLS_CTRL, ARG_PATH, PERM_WRITE, 0, cmd_rmd_fs },
	{ "XRMD", cmd_rmd,  1, TLS_CTRL, ARG_PATH, PERM_WRITE, 0, cmd_rmd_fs },
	{ "DELE", cmd_dele, 1, TLS_CTRL, ARG_PATH, PERM_WRITE, 0, cmd_dele_fs },
	{ "RNFR", cmd_rnfr, 1, TLS_CTRL, ARG_PATH, PERM_WRITE, 0, cmd_rnfr_fs },
	{ "RNTO", cmd_rnto, 1, TLS_CTRL, ARG_PATH, PERM_WRITE, CMD_RNFR,
	    cmd_rnto_fs },
	{ "SIZE", cmd_size, 1, TLS_CTRL, ARG_PATH, 0,          0,
	    cmd_lookup_fs },
	{ "MDTM", cmd_mdtm, 1, TLS_CTRL, ARG_PATH, 0,          0,
	    cmd_lookup_fs },
	{ "MLST", cmd_mlst, 1, TLS_CTRL, ARG_OPT,  0,          0, cmd_mlst_fs },
	{ "MFMT", cmd_mfmt, 1, TLS_CTRL, ARG_ANY,  PERM_WRITE, 0, cmd_mfmt_fs },
	{ "PASV", cmd_pasv, 1, TLS_CTRL, ARG_NONE, 0,          CMD_NO_EPSV_ALL,
	    NULL },
	{ "EPSV", cmd_epsv, 1, TLS_CTRL, ARG_OPT,  0,          0, NULL },
	{ "PORT", cmd_port, 1, TLS_CTRL, ARG_WORD, 0,          CMD_NO_EPSV_ALL,
	    NULL },
	{ "EPRT", cmd_eprt, 1, TLS_CTRL, ARG_WORD, 0,          CMD_NO_EPSV_ALL,
	    NULL },
	{ "REST", cmd_rest, 1, TLS_CTRL, ARG_WORD, 0,          0, NULL },
	{ "ABOR", cmd_abor, 1, TLS_CTRL, ARG_NONE, 0,          CMD_XFER_OK,
	    NULL },
	{ "ALLO", cmd_allo, 1, TLS_CTRL, ARG_ANY,  0,          0, NULL },
	{ "LIST", cmd_list, 1, TLS_DATA, ARG_OPT,  0,          CMD_DC,
	    cmd_list_fs },
	{ "NLST", cmd_nlst, 1, TLS_DATA, ARG_OPT,  0,          CMD_DC,
	    cmd_nlst_fs },
	{ "MLSD", cmd_mlsd, 1, TLS_DATA, ARG_OPT,  0,          CMD_DC,
	    cmd_mlsd_fs },
	{ "RETR", cmd_retr, 1, TLS_DATA, ARG_PATH, 0,          CMD_DC,
	    cmd_retr_fs },
	{ "STOR", cmd_stor, 1, TLS_DATA, ARG_PATH, PERM_WRITE, CMD_DC,
	    cmd_stor_fs },
	{ "APPE", cmd_appe, 1, TLS_DATA, ARG_PATH, PERM_WRITE, CMD_DC,
	    cmd_appe_fs },
	{ "STOU", cmd_stou, 1, TLS_DATA, ARG_NONE, PERM_WRITE, CMD_DC,
	    cmd_stou_fs },
};

static const struct {
	const char	*name;
	unsigned	 bit;
} mlst_facts[] = {
	{ "type",	MF_TYPE },
	{ "size",	MF_SIZE },
	{ "modify",	MF_MODIFY },
	{ "perm",	MF_PERM },
	{ "unique",	MF_UNIQUE },
	{ "UNIX.mode",	MF_UNIX_MODE },
};
#define NFACTS	(sizeof(mlst_facts) / sizeof(mlst_facts[0]))

const struct ftp_cmd *
cmd_rows(size_t *n)
{
	*n = sizeof(cmds) / sizeof(cmds[0]);
	return cmds;
}

const struct ftp_cmd *
cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcasecmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

int
cmd_split(char *line, char **verb, char **arg)
{
	char	*p;

	*verb = line;
	*arg = NULL;
	for (p = line; *p != '\0' && *p != ' '; p++) {
		if (!isalpha((unsigned char)*p) || p - line >= CMD_VERB_MAX)
			return FTPS_EPARSE;
		*p = (char)toupper((unsigned char)*p);
	}
	if (p == line)
		return FTPS_EPARSE;
	if (*p == ' ') {
		*p++ = '\0';
		*arg = p;
	}
	return 0;
}

int
cmd_during_xfer(const char *line)
{
	const struct ftp_cmd	*c;
	char			 tmp[CMD_VERB_MAX + 2], *verb, *arg;
	size_t			 n;

	n = strcspn(line, " ");
	if (n > CMD_VERB_MAX)
		return 0;
	memcpy(tmp, line, n);
	tmp[n] = '\0';
	if (cmd_split(tmp, &verb, &arg) != 0 || (c = cmd_find(verb)) == NULL)
		return 0;
	return (c->flags & CMD_XFER_OK) != 0;
}

static int
cmd_blank(const char *arg)
{
	if (arg == NULL)
		return 1;
	for (; *arg != '\0'; arg++)
		if (*arg != ' ' && *arg != '\t')
			return 0;
	return 1;
}

/* A transfer command refused by the gate still uses up the REST offset. */
static void
cmd_refuse_xfer(struct session *s, const struct ftp_cmd *c)
{
	if (c->flags & CMD_DC)
		s->rest = 0;
}

/*
 * The row's CMD_* and permission preconditions, after login, TLS and
 * arguments passed: 1 when the handler may run, else 0 and the one reply
 * was sent.
 */
static int
cmd_check_row(struct session *s, const struct ftp_cmd *c)
{
	int	 rnfr = (s->flags & SF_RNFR) != 0;

	/* RFC 959 4.1.3: RNTO must come right after RNFR. */
	s->flags &= ~SF_RNFR;
	if ((c->flags & CMD_RNFR) && !rnfr) {
		sess_reply(s, 503, "RNFR required first.");
		return 0;
	}
	/* RFC 2428 4: after EPSV ALL only EPSV sets up a data connection. */
	if ((c->flags & CMD_NO_EPSV_ALL) && (s->flags & SF_EPSV_ALL)) {
		sess_reply(s, 503, "EPSV ALL in effect: use EPSV.");
		return 0;
	}
	/* RFC 4217 8 and 9, RFC 2228: AUTH, then PBSZ, then PROT. */
	if ((c->flags & CMD_AUTH) && !(s->flags & SF_TLS)) {
		sess_reply(s, 503, "%s needs AUTH TLS first.", c->name);
		return 0;
	}
	if ((c->flags & CMD_PBSZ) && !(s->flags & SF_PBSZ)) {
		sess_reply(s, 503, "%s needs PBSZ first.", c->name);
		return 0;
	}
	if ((s->perms & c->perm) != c->perm) {
		cmd_refuse_xfer(s, c);
		sess_reply(s, 550, "Permission denied.");
		return 0;
	}
	if ((c->flags & CMD_DC) && !dc_configured(s)) {
		cmd_refuse_xfer(s, c);
		sess_reply(s, 425, DC_NOT_SET_UP);
		return 0;
	}
	return 1;
}

void
cmd_job_fail(struct cmd_job *j, int code, int r, const char *path)
{
	j->err = errno;
	j->code = code;
	j->r = r;
	j->path = path;
}

void
cmd_job_refuse(struct cmd_job *j, int code, const char *msg)
{
	j->code = code;
	j->msg = msg;
}

/* On the loop: what the job held (the home's reference, a file...). */
static void
cmd_job_free(struct cmd_job *j)
{
	vfs_close(&j->vfs);
	vpath_free(&j->vp);
	vpath_free(&j->vp2);
	if (j->fd != -1)
		close(j->fd);
	ls_close(j->ls);
	buf_free(&j->text);
	free(j->rnfr);
	free(j->arg);
	free(j);
}

static void
cmd_job_run(struct io_job *io)
{
	struct cmd_job	*j = io->arg;

	j->cmd->fs(j);
}

/*
 * Back on the loop: the reply, then the session reads on.  A session
 * that ended (or is closing) gets nothing; the job only lets go.
 */
static void
cmd_job_done(struct io_job *io)
{
	struct cmd_job	*j = io->arg;
	struct session	*s = j->s;

	if (s == NULL || s->state == SESS_CLOSING) {
		if (s != NULL)
			s->job = NULL;
		cmd_job_free(j);
		return;
	}
	if (io->cancelled)
		sess_reply(s, 451, "Server stopping; try again later.");
	else if (j->msg != NULL)
		sess_reply(s, j->code, "%s", j->msg);
	else if (j->r != 0) {
		errno = j->err;
		cmd_fs_fail(s, j->verb, j->path != NULL ? j->path : "",
		    j->code, j->r);
	} else
		j->cmd->handler(s, j->arg);
	s->job = NULL;
	cmd_job_free(j);
	sess_resume(s);
}

/*
 * A row with an fs part: what it needs is set aside and it goes to the
 * I/O pool; the session reads no further command until it is answered
 * (sess_input() is paused while s->job is set).
 */
static void
cmd_job_start(struct session *s, const struct ftp_cmd *c, const char *arg)
{
	struct cmd_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto nomem;
	j->fd = -1;
	j->vp.dirfd = j->vp2.dirfd = -1;
	j->vfs.rootfd = -1;
	buf_init(&j->text, 0);
	j->cmd = c;
	j->verb = c->name;
	j->perms = s->perms;
	j->facts = s->mlst_facts;
	j->umask = (mode_t)s->ctx->conf.file_umask;
	if ((j->arg = strdup(arg)) == NULL ||
	    ((c->flags & CMD_RNFR) && s->rnfr != NULL &&
	    (j->rnfr = strdup(s->rnfr)) == NULL) ||
	    vfs_hold(&j->vfs, &s->vfs) != 0) {
		cmd_job_free(j);
		goto nomem;
	}
	if (c->flags & CMD_DC) {
		j->rest = s->rest;
		s->rest = 0;
	}
	j->s = s;
	j->io.run = cmd_job_run;
	j->io.done = cmd_job_done;
	j->io.arg = j;
	/* Shared fairly with other homes' jobs (iopool.h). */
	j->io.owner = s->io_owner;
	s->job = j;
	iopool_submit(s->ctx->io, &j->io);
	return;
 nomem:
	cmd_refuse_xfer(s, c);
	sess_reply(s, 451, "Out of memory; try again later.");
}

void
cmd_dispatch(struct session *s, char *line)
{
	const struct ftp_cmd	*c;
	struct conf		*cf = &s->ctx->conf;
	char			*verb, *arg, safe[LOG_QUOTE_SIZE(128)];

	if (cmd_split(line, &verb, &arg) != 0) {
		log_quote(safe, sizeof(safe), line);
		sess_log(s, LOG_LVL_DEBUG, "bad command line=%s", safe);
		sess_reply(s, 500, "Syntax error, command unrecognized.");
		return;
	}
	if (strcmp(verb, "PASS") == 0)
		sess_log(s, LOG_LVL_DEBUG, "cmd PASS ****");
	else if (log_enabled(LOG_LVL_DEBUG)) {
		if (arg != NULL)
			log_quote(safe, sizeof(safe), arg);
		sess_log(s, LOG_LVL_DEBUG, "cmd %s%s%s", verb,
		    arg != NULL ? " " : "", arg != NULL ? safe : "");
	}

	if ((c = cmd_find(verb)) == NULL) {
		sess_reply(s, 500, "Unknown command %s.", verb);
		return;
	}
	if (c->login && !(s->flags & SF_LOGGED_IN)) {
		sess_reply(s, 530, "Please login with USER and PASS.");
		return;
	}
	if (c->tls != TLS_NONE && cf->tls == CONF_TLS_REQUIRED &&
	    !(s->flags & SF_TLS)) {
		sess_reply(s, 534, "TLS required on the control connection: "
		    "send AUTH TLS first.");
		return;
	}
	if (c->tls == TLS_DATA && s->policy.data_tls == CONF_TLS_REQUIRED &&
	    !(s->flags & SF_PROT_P)) {
		sess_reply(s, 521, "Data connections must be encrypted "
		    "(PROT P)");
		mt_inc(s->ctx, MT_REFUSED_NO_PROT_P);
		return;
	}
	switch (c->args) {
	case ARG_NONE:
		if (!cmd_blank(arg)) {
			sess_reply(s, 501, "%s takes no argument.", c->name);
			return;
		}
		arg = NULL;
		break;
	case ARG_WORD:
		if (arg == NULL || cmd_blank(arg) ||
		    strchr(arg, ' ') != NULL) {
			sess_reply(s, 501, "%s needs one argument.", c->name);
			return;
		}
		break;
	case ARG_ANY:
	case ARG_PATH:
		if (cmd_blank(arg)) {
			sess_reply(s, 501, "%s needs an argument.", c->name);
			return;
		}
		break;
	case ARG_OPT:
		break;
	}
	if (!cmd_check_row(s, c))
		return;
	/* STAT's status (no argument) is the session's: at once, no job. */
	if (c->fs != NULL && ((c->flags & CMD_FS_IF_ARG) == 0 ||
	    (arg != NULL && *arg != '\0')))
		cmd_job_start(s, c, arg != NULL ? arg : "");
	else
		c->handler(s, arg != NULL ? arg : "");
}

/* NOOP (RFC 959 4.1.3). */
void
cmd_noop(struct session *s, const char *arg)
{
	sess_reply(s, 200, "NOOP ok.");
}

/*
 * ALLO (RFC 959 4.1.3): files need no space reserved in advance; RFC 1123
 * 4.1.2.13 asks servers to accept it as a no-op.
 */
void
cmd_allo(struct session *s, const char *arg)
{
	char		 size[32];
	const char	*rec;
	size_t		 len;
	unsigned long	 n;

	/* "ALLO n" or "ALLO n R m" (record size). */
	rec = strstr(arg, " R ");
	len = rec != NULL ? (size_t)(rec - arg) : strlen(arg);
	if (len >= sizeof(size)) {
		sess_reply(s, 501, "ALLO needs a byte count.");
		return;
	}
	memcpy(size, arg, len);
	size[len] = '\0';
	if (parse_uint(size, 0, ULONG_MAX, &n) != 0 ||
	    (rec != NULL && parse_uint(rec + 3, 0, ULONG_MAX, &n) != 0)) {
		sess_reply(s, 501, "ALLO needs a byte count.");
		return;
	}
	sess_reply(s, 202, "No storage allocation necessary.");
}

/* SYST (RFC 959 4.1.3): the usual answer every client parses. */
void
cmd_syst(struct session *s, const char *arg)
{
	sess_reply(s, 215, "UNIX Type: L8");
}

static void
cmd_mlst_feat(unsigned mask, struct buf *b)
{
	size_t	 i;

	buf_addf(b, " MLST ");
	for (i = 0; i < NFACTS; i++)
		buf_addf(b, "%s%s;", mlst_facts[i].name,
		    (mask & mlst_facts[i].bit) ? "*" : "");
	buf_addf(b, "\r\n");
}

/* FEAT (RFC 2389 3): exactly what is implemented. */
void
cmd_feat(struct session *s, const char *arg)
{
	struct buf	 b;

	buf_init(&b, FTPS_REPLY_MAX);
	buf_addf(&b, "211-Features:\r\n");
	if (s->ctx->ssl_ctx != NULL)
		buf_addf(&b, " AUTH SSL\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n");
	buf_addf(&b, " EPRT\r\n EPSV\r\n");
	/* RFC 7151 3.3: only where there are hosts to choose. */
	if (s->vhosts != NULL)
		buf_addf(&b, " HOST\r\n");
	buf_addf(&b, " MDTM\r\n MFMT\r\n");
	cmd_mlst_feat(s->mlst_facts, &b);
	buf_addf(&b, " REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n");
	buf_addf(&b, "211 End\r\n");
	sess_reply_raw(s, buf_str(&b), buf_len(&b));
	buf_free(&b);
}

static int
cmd_opts_mlst(struct session *s, const char *list)
{
	char		 tmp[256], *p, *tok;
	unsigned	 mask = 0;
	size_t		 i;
	struct buf	 b;

	if (str_copy(tmp, sizeof(tmp), list) != 0)
		return FTPS_EPARSE;
	for (p = tmp; (tok = strsep(&p, ";")) != NULL;) {
		if (*tok == '\0')
			continue;
		/* RFC 3659 7.9: unknown facts are ignored. */
		for (i = 0; i < NFACTS; i++)
			if (strcasecmp(tok, mlst_facts[i].name) == 0)
				mask |= mlst_facts[i].bit;
	}
	s->mlst_facts = mask;
	buf_init(&b, 256);
	for (i = 0; i < NFACTS; i++)
		if (mask & mlst_facts[i].bit)
			buf_addf(&b, "%s;", mlst_facts[i].name);
	sess_reply(s, 200, "MLST OPTS %s", buf_str(&b));
	buf_free(&b);
	return 0;
}

/* OPTS (RFC 2389 4): UTF8 (RFC 2640) and MLST (RFC 3659 7.9). */
void
cmd_opts(struct session *s, const char *arg)
{
	char	 opt[16];
	size_t	 i;

	for (i = 0; arg[i] != '\0' && arg[i] != ' ' && i < sizeof(opt) - 1;
	    i++)
		opt[i] = arg[i];
	opt[i] = '\0';
	while (arg[i] == ' ')
		i++;
	if (strcasecmp(opt, "UTF8") == 0) {
		if (arg[i] == '\0' || strcasecmp(arg + i, "ON") == 0)
			sess_reply(s, 200, "UTF8 is always on.");
		else
			sess_reply(s, 504, "UTF8 cannot be turned off.");
	} else if (strcasecmp(opt, "MLST") == 0) {
		if (cmd_opts_mlst(s, arg + i) != 0)
			sess_reply(s, 501, "Bad MLST fact list.");
	} else
		sess_reply(s, 501, "Option not understood.");
}

/* HELP (RFC 959 4.1.3). */
void
cmd_help(struct session *s, const char *arg)
{
	const struct ftp_cmd	*c;
	struct buf		 b;
	size_t			 i;

	if (*arg != '\0') {
		if ((c = cmd_find(arg)) != NULL)
			sess_reply(s, 214, "%s is supported.", c->name);
		else
			sess_reply(s, 502, "Unknown command.");
		return;
	}
	buf_init(&b, FTPS_REPLY_MAX);
	buf_addf(&b, "214-The following commands are recognized:\r\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		buf_addf(&b, "%s%-5s%s", i % 8 == 0 ? " " : "", cmds[i].name,
		    i % 8 == 7 ? "\r\n" : "");
	if (i % 8 != 0)
		buf_addf(&b, "\r\n");
	buf_addf(&b, "214 Help OK.\r\n");
	sess_reply_raw(s, buf_str(&b), buf_len(&b));
	buf_free(&b);
}

/*
 * STAT (RFC 959 4.1.3): without an argument the status of the session
 * (211); with a path its LIST output over the control connection (213),
 * at most CMD_STAT_ENTRIES entries or CMD_STAT_BYTES (then a line says
 * the listing was cut): the control connection is no bulk channel.
 * Every listing line is indented so none can look like a reply code.
 * The listing is made on the I/O pool (cmd_stat_fs), the reply here.
 */
#define CMD_STAT_ENTRIES	1000
#define CMD_STAT_BYTES		(128u * 1024)

void
cmd_stat_fs(struct cmd_job *j)
{
	struct ls_iter	*it;
	const char	*path;
	int		 r;

	/* The session's status, or not logged in (no root): no files. */
	if (*j->arg == '\0' || j->vfs.rootfd == -1)
		return;
	path = ls_skip_options(j->arg);
	if (cmd_job_resolve(j, *path ? path : ".", &j->vp, 550) != 0)
		return;
	buf_init(&j->text, CMD_STAT_BYTES + FTPS_REPLY_MAX);
	if ((r = ls_open(&j->vfs, &j->vp, LS_LIST,
	    (j->perms & PERM_WRITE) != 0, 0, &it)) == 0) {
		r = ls_next(it, &j->text, CMD_STAT_BYTES, CMD_STAT_ENTRIES);
		ls_close(it);
	}
	if (r < 0)
		cmd_job_fail(j, 550, r, j->vp.display);
	j->complete = r == 1;
}

void
cmd_stat(struct session *s, const char *arg)
{
	struct buf	 b;
	const char	*p, *nl;
	SSL		*ssl;

	buf_init(&b, 2 * (CMD_STAT_BYTES + FTPS_REPLY_MAX));
	if (*arg == '\0') {
		ssl = sess_ssl(s);
		buf_addf(&b, "211-ftpsd status:\r\n");
		buf_addf(&b, " Connected from %s\r\n", s->ip);
		if (s->flags & SF_LOGGED_IN)
			buf_addf(&b, " Logged in as %s\r\n",
			    (s->flags & SF_ANON) ? "anonymous" : s->username);
		else
			buf_addf(&b, " Not logged in\r\n");
		buf_addf(&b, " Control connection: %s\r\n",
		    ssl ? SSL_get_version(ssl) : "plaintext");
		buf_addf(&b, " Data connections: %s\r\n",
		    (s->flags & SF_PROT_P) ? "TLS (PROT P)" :
		    "plaintext (PROT C)");
		buf_addf(&b, " TYPE: %s, STRU: F, MODE: S\r\n",
		    (s->flags & SF_TYPE_A) ? "ASCII" : "BINARY");
		buf_addf(&b, " %s\r\n", s->xfer ? "A transfer is running" :
		    "No transfer running");
		buf_addf(&b, "211 End of status\r\n");
	} else if (!(s->flags & SF_LOGGED_IN)) {
		sess_reply(s, 530, "Please login with USER and PASS.");
		goto out;
	} else {
		buf_addf(&b, "213-Status of %s:\r\n", s->job->vp.display);
		for (p = buf_str(&s->job->text); *p != '\0'; p = nl + 1) {
			if ((nl = strchr(p, '\n')) == NULL)
				break;
			buf_add(&b, " ", 1);
			buf_add(&b, p, (size_t)(nl - p + 1));
		}
		if (!s->job->complete)
			buf_addf(&b, " (listing cut after %zu entries or %u "
			    "KiB: use LIST or MLSD for the whole directory)"
			    "\r\n", (size_t)CMD_STAT_ENTRIES,
			    CMD_STAT_BYTES / 1024);
		buf_addf(&b, "213 End of status\r\n");
	}
	sess_reply_raw(s, buf_str(&b), buf_len(&b));
 out:
	buf_free(&b);
}

/* TYPE (RFC 959 4.1.2): A, A N, I and L 8. */
void
cmd_type(struct session *s, const char *arg)
{
	if (str_ieq(arg, "A") || str_ieq(arg, "A N")) {
		s->flags |= SF_TYPE_A;
		sess_reply(s, 200, "Type set to A.");
	} else if (str_ieq(arg, "I") || str_ieq(arg, "L 8") ||
	    str_ieq(arg, "L8")) {
		s->flags &= ~SF_TYPE_A;
		sess_reply(s, 200, "Type set to I.");
	} else if (toupper((unsigned char)arg[0]) == 'A' ||
	    toupper((unsigned char)arg[0]) == 'E' ||
	    toupper((unsigned char)arg[0]) == 'L')
		sess_reply(s, 504, "Type not supported; use A or I.");
	else
		sess_reply(s, 501, "Unknown TYPE.");
}

/* MODE (RFC 959 4.1.2): stream only. */
void
cmd_mode(struct session *s, const char *arg)
{
	if (str_ieq(arg, "S"))
		sess_reply(s, 200, "Mode set to S.");
	else if (str_ieq(arg, "B") || str_ieq(arg, "C") || str_ieq(arg, "Z"))
		sess_reply(s, 504, "Only MODE S is supported.");
	else
		sess_reply(s, 501, "Unknown MODE.");
}

/* STRU (RFC 959 4.1.2): file structure only. */
void
cmd_stru(struct session *s, const char *arg)
{
	if (str_ieq(arg, "F"))
		sess_reply(s, 200, "Structure set to F.");
	else if (str_ieq(arg, "R") || str_ieq(arg, "P"))
		sess_reply(s, 504, "Only STRU F is supported.");
	else
		sess_reply(s, 501, "Unknown STRU.");
}
