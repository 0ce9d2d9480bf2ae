/*
 * Data connection and transfer commands: PASV PORT (RFC 959 4.1.2), EPSV
 * EPRT (RFC 2428), LIST NLST RETR STOR APPE STOU REST ABOR (RFC 959
 * 4.1.3), MLSD (RFC 3659 7), REST STREAM (RFC 3659 5).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "auth.h"
#include "buf.h"
#include "cmd.h"
#include "datachan.h"
#include "err.h"
#include "ftpaddr.h"
#include "ftpsd.h"
#include "listing.h"
#include "parse.h"
#include "proxyconn.h"
#include "session.h"
#include "tls.h"
#include "transfer.h"
#include "vfs.h"

#define STOU_TRIES	16

static int
cmd_is_v6(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	return ss->ss_family == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr);
}

/* PASV (RFC 959 4.1.2): IPv4 only; pasv_address replaces ours for NAT. */
void
cmd_pasv(struct session *s, const char *arg)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	char			 text[64];
	unsigned		 port;

	memset(&ss, 0, sizeof(ss));
	/*
	 * Before pasv_address: its IPv4 address would send a client on an
	 * IPv6 control connection to a port that listens on IPv6 only.
	 */
	if (cmd_is_v6(&s->local)) {
		sess_reply(s, 425, "PASV is IPv4 only: use EPSV on this "
		    "connection.");
		return;
	}
	if (s->ctx->conf.pasv_address != NULL) {
		sin->sin_family = AF_INET;
		if (inet_pton(AF_INET, s->ctx->conf.pasv_address,
		    &sin->sin_addr) != 1) {
			sess_reply(s, 425, "pasv_address is not an IPv4 "
			    "address.");
			return;
		}
	} else
		ss = s->local;
	if (dc_passive(s, &port) != 0) {
		sess_reply(s, 425, "Cannot open a passive data port.");
		return;
	}
	if (ss.ss_family == AF_INET)
		sin->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	if (fa_format_pasv(&ss, text, sizeof(text)) != 0) {
		dc_close(s, 0);
		sess_reply(s, 425, "Cannot express this address in PASV.");
		return;
	}
	tls_refresh_ticket(s);
	sess_reply(s, 227, "Entering Passive Mode (%s).", text);
}

/* EPSV (RFC 2428 3): "EPSV", "EPSV 1|2", "EPSV ALL". */
void
cmd_epsv(struct session *s, const char *arg)
{
	unsigned	 port;
	int		 v6 = cmd_is_v6(&s->local);

	if (str_ieq(arg, "ALL")) {
		s->flags |= SF_EPSV_ALL;
		sess_reply(s, 200, "EPSV ALL ok.");
		return;
	}
	if (*arg != '\0' && !(strcmp(arg, "1") == 0 && !v6) &&
	    !(strcmp(arg, "2") == 0 && v6)) {
		if (strcmp(arg, "1") == 0 || strcmp(arg, "2") == 0)
			sess_reply(s, 522, "Network protocol not supported, "
			    "use (%d)", v6 ? 2 : 1);
		else
			sess_reply(s, 501, "Bad EPSV argument.");
		return;
	}
	if (dc_passive(s, &port) != 0) {
		sess_reply(s, 425, "Cannot open a passive data port.");
		return;
	}
	tls_refresh_ticket(s);
	sess_reply(s, 229, "Entering Extended Passive Mode (|||%u|)", port);
}

static void
cmd_active(struct session *s, const struct sockaddr_storage *ss,
    const char *verb)
{
	/* The balancer forwards connections to us, not from us. */
	if (proxy_no_active(s)) {
		sess_reply(s, 502, "Active mode (%s) is not available through "
		    "the load balancer; use PASV or EPSV.", verb);
		return;
	}
	/* SECURITY: FTP bounce (RFC 2577 3): only to ourselves, >= 1024. */
	if (fa_check_active(&s->peer, ss) != 0) {
		sess_log(s, LOG_LVL_WARN, "active data target refused "
		    "(bounce)");
		sess_reply(s, 504, "Refused: active data connections go only "
		    "to your own address and a port >= 1024 (RFC 2577).");
		return;
	}
	dc_active(s, ss);
	tls_refresh_ticket(s);
	sess_reply(s, 200, "%s command successful.", verb);
}

/* PORT (RFC 959 4.1.2). */
void
cmd_port(struct session *s, const char *arg)
{
	struct sockaddr_storage	 ss;

	if (fa_parse_port(arg, &ss) != 0) {
		sess_reply(s, 501, "Bad PORT argument.");
		return;
	}
	cmd_active(s, &ss, "PORT");
}

/* EPRT (RFC 2428 2). */
void
cmd_eprt(struct session *s, const char *arg)
{
	struct sockaddr_storage	 ss;
	int			 r;

	if ((r = fa_parse_eprt(arg, &ss)) == FTPS_EDENIED) {
		sess_reply(s, 522, "Network protocol not supported, use (1,2)");
		return;
	} else if (r != 0) {
		sess_reply(s, 501, "Bad EPRT argument.");
		return;
	}
	cmd_active(s, &ss, "EPRT");
}

/* REST (RFC 3659 5): a byte offset for the next RETR, STOR or APPE. */
void
cmd_rest(struct session *s, const char *arg)
{
	unsigned long	 v;

	if (parse_uint(arg, 0, LLONG_MAX, &v) != 0) {
		sess_reply(s, 501, "Bad REST offset.");
		return;
	}
	s->rest = v;
	sess_reply(s, 350, "Restarting at %lu. Send STORE or RETRIEVE.", v);
}

static void
cmd_abor_ok(struct session *s)
{
	sess_reply(s, 226, "ABOR successful.");
}

/*
 * ABOR (RFC 959 4.1.3): 426 for the transfer (226 if its commit was
 * already made), then 226 for ABOR.
 */
void
cmd_abor(struct session *s, const char *arg)
{
	if (s->xfer != NULL) {
		xfer_abort(s, "ABOR", cmd_abor_ok);
		return;
	}
	dc_close(s, 0);
	sess_reply(s, 226, "No transfer to abort.");
}

/*
 * LIST, NLST, MLSD, RETR, STOR, APPE, STOU are two halves (cmd.h): the fs
 * part on the I/O pool resolves the path and opens the file or folder
 * (or checks an upload's target), the handler on the loop starts the
 * transfer with what it found.
 */
static void
cmd_listing_fs(struct cmd_job *j, enum ls_style style)
{
	const char	*path;
	int		 r;

	path = style == LS_MLSD ? j->arg : ls_skip_options(j->arg);
	if (cmd_job_resolve(j, *path ? path : ".", &j->vp, 550) != 0)
		return;
	r = ls_open(&j->vfs, &j->vp, style, (j->perms & PERM_WRITE) != 0,
	    j->facts, &j->ls);
	if (r == FTPS_EPARSE && style == LS_MLSD)
		cmd_job_refuse(j, 501, "MLSD needs a directory.");
	else if (r != 0)
		cmd_job_fail(j, 550, r, j->vp.display);
}

static void
cmd_listing(struct session *s, const char *verb)
{
	struct xfer	*x;

	if ((x = xfer_new(XFER_LIST, verb, &s->job->vp)) == NULL) {
		sess_reply(s, 451, "Out of memory.");
		return;
	}
	xfer_set_listing(x, s->job->ls);
	s->job->ls = NULL;
	xfer_start(s, x);
}

void
cmd_list_fs(struct cmd_job *j)
{
	cmd_listing_fs(j, LS_LIST);
}

void
cmd_nlst_fs(struct cmd_job *j)
{
	cmd_listing_fs(j, LS_NLST);
}

void
cmd_mlsd_fs(struct cmd_job *j)
{
	cmd_listing_fs(j, LS_MLSD);
}

/* LIST (RFC 959 4.1.3): `ls -l` lines. */
void
cmd_list(struct session *s, const char *arg)
{
	cmd_listing(s, "list");
}

/* NLST (RFC 959 4.1.3): names only. */
void
cmd_nlst(struct session *s, const char *arg)
{
	cmd_listing(s, "nlst");
}

/* MLSD (RFC 3659 7). */
void
cmd_mlsd(struct session *s, const char *arg)
{
	cmd_listing(s, "mlsd");
}

void
cmd_retr_fs(struct cmd_job *j)
{
	int	 r;

	if (cmd_job_resolve(j, j->arg, &j->vp, 550) != 0)
		return;
	/* SECURITY: O_NONBLOCK: a FIFO or a device never blocks. */
	if ((r = vfs_open(&j->vfs, &j->vp, O_RDONLY | O_NONBLOCK | O_CLOEXEC,
	    0, &j->fd)) != 0)
		cmd_job_fail(j, 550, r, j->vp.display);
	else if (fstat(j->fd, &j->st) == -1)
		cmd_job_fail(j, 550, FTPS_ESYS, j->vp.display);
	else if (!S_ISREG(j->st.st_mode))
		cmd_job_refuse(j, 550, "Not a regular file.");
}

/* RETR (RFC 959 4.1.3), from the REST offset if one was given. */
void
cmd_retr(struct session *s, const char *arg)
{
	struct cmd_job	*j = s->job;
	struct xfer	*x;

	if (j->rest > (unsigned long long)j->st.st_size)
		sess_reply(s, 554, "REST offset %llu is beyond the end of the "
		    "file.", j->rest);
	else if ((x = xfer_new(XFER_RETR, "retr", &j->vp)) == NULL)
		sess_reply(s, 451, "Out of memory.");
	else {
		xfer_set_file(x, j->fd, j->st.st_size, (off_t)j->rest);
		j->fd = -1;
		xfer_start(s, x);
	}
}

static void
cmd_upload_fs(struct cmd_job *j)
{
	int	 r;

	size_t	 n = strlen(j->arg);

	if (cmd_job_resolve(j, j->arg, &j->vp, 553) != 0)
		return;
	/* "new/" names a folder: never made into a file "new". */
	if (strcmp(j->vp.name, ".") == 0 || strcmp(j->vp.path, "/") == 0 ||
	    (n > 0 && j->arg[n - 1] == '/')) {
		cmd_job_refuse(j, 553, "Not a valid file name.");
		return;
	}
	/* Resolved beneath the root: a symlink cannot reach outside. */
	if ((r = vfs_stat(&j->vfs, &j->vp, &j->st)) == 0) {
		j->found = 1;
		if (S_ISDIR(j->st.st_mode))
			cmd_job_refuse(j, 553, "Is a directory.");
		/* A FIFO, device or socket: opening it could block. */
		else if (!S_ISREG(j->st.st_mode))
			cmd_job_refuse(j, 550, "Not a regular file.");
	} else if (r != FTPS_ENOENT)
		cmd_job_fail(j, 553, r, j->vp.display);
	else if (j->rest == 0)
		(void)cmd_job_new_name(j, &j->vp);
}

void
cmd_stor_fs(struct cmd_job *j)
{
	cmd_upload_fs(j);
}

void
cmd_appe_fs(struct cmd_job *j)
{
	cmd_upload_fs(j);
}

static void
cmd_upload(struct session *s, enum xfer_kind kind, const char *verb)
{
	struct cmd_job		*j = s->job;
	struct xfer		*x;
	unsigned long long	 off = j->rest;

	/* A new file has no byte to start from; STOR not past the end. */
	if (off > 0 && (!j->found || (kind == XFER_STOR &&
	    off > (unsigned long long)j->st.st_size))) {
		sess_reply(s, 554, "REST offset %llu is beyond the end of the "
		    "file.", off);
		return;
	}
	if (kind == XFER_STOR && off > 0)
		kind = XFER_STOR_AT;
	if ((x = xfer_new(kind, verb, &j->vp)) == NULL) {
		sess_reply(s, 451, "Out of memory.");
		return;
	}
	xfer_set_offset(x, (off_t)off);
	/* The target is opened on the pool once the data connection is up. */
	xfer_set_root(x, &j->vfs);
	xfer_start(s, x);
}

/* STOR (RFC 959 4.1.3); with REST it writes in place from the offset. */
void
cmd_stor(struct session *s, const char *arg)
{
	cmd_upload(s, XFER_STOR, "stor");
}

/* APPE (RFC 959 4.1.3). */
void
cmd_appe(struct session *s, const char *arg)
{
	cmd_upload(s, XFER_APPE, "appe");
}

void
cmd_stou_fs(struct cmd_job *j)
{
	unsigned char	 rnd[6];
	char		 name[32];
	struct stat	 st;
	int		 i;

	for (i = 0; i < STOU_TRIES; i++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			break;
		snprintf(name, sizeof(name), "ftpsd.%02x%02x%02x%02x%02x%02x",
		    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		if (cmd_job_resolve(j, name, &j->vp, 553) != 0)
			return;
		if (vfs_lstat(&j->vp, &st) == FTPS_ENOENT)
			return;
		vpath_free(&j->vp);
	}
	cmd_job_refuse(j, 553, "Cannot find a unique file name.");
}

/* STOU (RFC 959 4.1.3, RFC 1123 4.1.2.9): a fresh name in the cwd. */
void
cmd_stou(struct session *s, const char *arg)
{
	struct xfer	*x;

	if ((x = xfer_new(XFER_STOU, "stou", &s->job->vp)) == NULL)
		sess_reply(s, 451, "Out of memory.");
	else
		xfer_start(s, x);
}
