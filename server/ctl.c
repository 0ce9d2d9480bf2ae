/*
 * The control socket and the Prometheus endpoint, across workers
 * (ctl.h).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "addrkey.h"
#include "authpool.h"
#include "ban.h"
#include "buf.h"
#include "conf.h"
#include "ctl.h"
#include "ctlclaim.h"
#include "err.h"
#include "ftpsd.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "privdrop.h"
#include "session.h"
#include "transfer.h"
#include "vhost.h"

#define CTL_TICK_MS	5	/* polling a box or the reload result */
#define CTL_CLAIM_GRACE_MS 1000	/* a claim outlives its asker's wait */
#define CTL_OUT_MAX	(CTL_PAGE_MAX * 4)	/* one answer */

enum ctl_ask { ASK_STATUS = 1, ASK_WHO, ASK_KICK, ASK_METRICS };

/* One serving process's mailbox (shared). */
struct ctl_box {
	_Atomic uint32_t	 req;		/* requests posted */
	_Atomic uint32_t	 done;		/* the last one answered */
	_Atomic uint64_t	 claim;		/* ctlclaim.h; 0: free */
	_Atomic int		 pid;		/* 0: not serving */
	_Atomic uint32_t	 reload_seq;	/* its last reload's */
	_Atomic int		 reload_ok;
	int			 op;		/* enum ctl_ask */
	unsigned long long	 arg;
	int			 result;
	size_t			 len;
	char			 page[CTL_PAGE_MAX];
};

struct ctl_shared {
	size_t			 maplen;
	unsigned		 nboxes;
	unsigned		 nworkers;	/* 0: a single process */
	_Atomic unsigned long long next_id;
	_Atomic uint32_t	 claim_gen;	/* ctlclaim.h */
	_Atomic int		 master_pid;	/* who reloads */
	time_t			 started;
	_Atomic long long	 loaded_at;	/* configuration (re)loaded */
	_Atomic uint32_t	 reload_seq;	/* reloads done by the master */
	_Atomic int		 reload_ok;
	_Atomic long long	 reload_at;
	char			 reload_why[256];
	struct ctl_box		 box[];
};

enum ctl_cmd { CMD_STATUS, CMD_WHO, CMD_KICK, CMD_METRICS, CMD_RELOAD };

struct ctl_conn {
	struct ctl		*ctl;
	struct ftpsd		*ctx;
	struct bufferevent	*bev;
	struct event		*tick;
	struct event		*deadline;	/* the request in time */
	int			 http;
	int			 cmd;		/* enum ctl_cmd; -1: reading */
	unsigned long long	 arg;
	unsigned		 box;		/* the box asked next */
	uint64_t		 claim;		/* our token on box; 0: none */
	uint32_t		 req;
	long long		 until_ms;	/* this box, or the reload */
	uint32_t		 reload_target;
	int			 found;
	int			 sent;		/* the answer is queued */
	struct buf		 out;		/* records gathered */
	TAILQ_ENTRY(ctl_conn)	 entry;
};
TAILQ_HEAD(ctl_connq, ctl_conn);

struct ctl {
	struct ctl_shared	*sh;
	int			 efd[CONF_WORKERS_MAX + 1];
	int			 sock_fd, http_fd;
	int			 owner;		/* bound the socket: unlinks it */
	dev_t			 sock_dev;
	ino_t			 sock_ino;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char			 http_label[80];
	struct event		*wake_ev, *sock_ev, *http_ev;
	struct event		*resume_ev;	/* after EMFILE */
	struct ctl_connq	 conns;
	unsigned		 nconns[2];	/* [http] */
};

static long long
ctl_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct ctl *
ctl_get(struct ftpsd *ctx)
{
	struct ctl	*c;
	unsigned	 i;

	if (ctx->ctl != NULL)
		return ctx->ctl;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sock_fd = c->http_fd = -1;
	for (i = 0; i <= CONF_WORKERS_MAX; i++)
		c->efd[i] = -1;
	TAILQ_INIT(&c->conns);
	ctx->ctl = c;
	return c;
}

/* ------------------------------------------------------------------ */
/* Binding, as root. */

/* 1 when something listens on the socket at path (shorter than sun_path). */
static int
ctl_answers(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, r;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return r == 0;
}

/*
 * A socket file left by a daemon that is gone is removed; one that
 * answers belongs to a running ftpsd.  0, or < 0 with why.
 */
static int
ctl_stale(const char *path, char *why, size_t len)
{
	struct stat		 st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : FTPS_ESYS;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, len, "exists and is not a socket");
		return FTPS_EDENIED;
	}
	if (ctl_answers(path)) {
		snprintf(why, len, "another ftpsd answers there");
		return FTPS_EDENIED;
	}
	if (unlink(path) == -1)
		return FTPS_ESYS;
	return 0;
}

static int
ctl_bind_unix(struct ctl *c, const struct conf *cf, char *why, size_t len)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	uid_t			 uid;
	char			 dir[sizeof(sun.sun_path)], *slash;
	mode_t			 old;
	gid_t			 gid = 0, egid;
	int			 fd, r, e;

	why[0] = '\0';
	if (strlen(cf->control_socket) >= sizeof(sun.sun_path)) {
		snprintf(why, len, "longer than %zu bytes",
		    sizeof(sun.sun_path) - 1);
		return FTPS_ETOOBIG;
	}
	snprintf(c->path, sizeof(c->path), "%s", cf->control_socket);
	/* The runtime directory: systemd makes it, else we do. */
	snprintf(dir, sizeof(dir), "%s", c->path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return FTPS_ESYS;
	}
	if ((r = ctl_stale(c->path, why, len)) != 0)
		return r;
	if (priv_lookup(cf->run_as_user, &uid, &gid) != 0)
		gid = 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return FTPS_ESYS;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->path, strlen(c->path));
	/*
	 * SECURITY: 0660 and run_as_user's group from the first moment: no
	 * window for others.  The group comes from the effective gid at
	 * bind, not chown(), which would need CAP_CHOWN (the unit's
	 * bounding set has CAP_SETGID, not that).
	 */
	egid = getegid();
	if (geteuid() == 0 && gid != egid && setegid(gid) == -1) {
		close(fd);
		return FTPS_ESYS;
	}
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	umask(old);
	if (getegid() != egid && setegid(egid) == -1) {
		/* Cannot happen as root; never go on with another gid. */
		(void)unlink(c->path);
		close(fd);
		return FTPS_ESYS;
	}
	errno = e;
	/*
	 * bind made it 0660 under the umask above; no chmod by path, which
	 * as root would follow a symlink swapped in meanwhile.
	 */
	if (r == 0 && lstat(c->path, &st) == 0 && (!S_ISSOCK(st.st_mode) ||
	    (st.st_mode & 0777) != 0660)) {
		errno = EPERM;
		r = -2;
	}
	if (r != 0 || lstat(c->path, &st) == -1 || listen(fd, 16) == -1) {
		e = errno;
		if (r != -1)
			(void)unlink(c->path);
		close(fd);
		errno = e;
		return FTPS_ESYS;
	}
	c->sock_fd = fd;
	c->owner = 1;
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	return 0;
}

static int
ctl_bind_http(struct ctl *c, const struct conf *cf, FILE *errf)
{
	struct sockaddr_storage	 ss;
	unsigned		 sl;
	int			 fd, one = 1;

	if (parse_addrport(cf->metrics_listen, &ss, &sl) != 0) {
		fprintf(errf, "ftpsd: metrics_listen: %s: not ADDR:PORT\n",
		    cf->metrics_listen);
		return FTPS_EPARSE;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, 16) == -1) {
		fprintf(errf, "ftpsd: metrics_listen: cannot listen on %s: "
		    "%s\n", cf->metrics_listen, strerror(errno));
		if (fd != -1)
			close(fd);
		return FTPS_ESYS;
	}
	c->http_fd = fd;
	snprintf(c->http_label, sizeof(c->http_label), "%s",
	    cf->metrics_listen);
	return 0;
}

int
ctl_bind(struct ftpsd *ctx, FILE *errf)
{
	const struct conf	*cf = &ctx->conf;
	struct ctl		*c;
	char			 why[128];
	int			 r;

	if (cf->control_socket == NULL && cf->metrics_listen == NULL)
		return 0;
	if ((c = ctl_get(ctx)) == NULL)
		return FTPS_ENOMEM;
	if (cf->control_socket != NULL &&
	    (r = ctl_bind_unix(c, cf, why, sizeof(why))) != 0) {
		if (why[0] == '\0')
			snprintf(why, sizeof(why), "%s", strerror(errno));
		/* The default place may not exist outside the service. */
		if (strcmp(cf->control_socket, FTPS_CONTROL_SOCKET) == 0)
			fprintf(errf, "ftpsd: warning: control_socket %s: %s; "
			    "running without it (ftpsdctl will not reach this "
			    "server)\n", cf->control_socket, why);
		else {
			fprintf(errf, "ftpsd: control_socket %s: %s\n",
			    cf->control_socket, why);
			return r;
		}
	}
	if (cf->metrics_listen != NULL && (r = ctl_bind_http(c, cf,
	    errf)) != 0)
		return r;
	return 0;
}

/* The folder part of path into dir ("." for a bare name, "/" at the top). */
static void
ctl_dirname(const char *path, char *dir, size_t len)
{
	char	*slash;

	snprintf(dir, len, "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, len, ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
}

/* NULL when dir is a folder this process may create files in, else why. */
static const char *
ctl_dir_unusable(const char *dir)
{
	struct stat	 st;

	if (stat(dir, &st) == -1)
		return strerror(errno);
	if (!S_ISDIR(st.st_mode))
		return "not a folder";
	if (access(dir, W_OK | X_OK) == -1)
		return strerror(errno);
	return NULL;
}

/*
 * Whether control_socket's folder can hold the socket ctl_bind_unix()
 * makes there (it makes the folder itself, not its parent), and nothing
 * else is in its place.  Only looks.  0, or FTPS_EDENIED with why.
 */
static int
ctl_check_unix(const char *path, char *why, size_t len)
{
	struct stat	 st;
	char		 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char		 parent[sizeof(dir)];
	const char	*bad;

	if (strlen(path) >= sizeof(dir)) {
		snprintf(why, len, "longer than %zu bytes", sizeof(dir) - 1);
		return FTPS_EDENIED;
	}
	ctl_dirname(path, dir, sizeof(dir));
	if (stat(dir, &st) == -1 && errno == ENOENT) {
		ctl_dirname(dir, parent, sizeof(parent));
		if ((bad = ctl_dir_unusable(parent)) != NULL) {
			snprintf(why, len, "its folder %s does not exist and "
			    "cannot be made in %s: %s", dir, parent, bad);
			return FTPS_EDENIED;
		}
		return 0;
	}
	if ((bad = ctl_dir_unusable(dir)) != NULL) {
		snprintf(why, len, "its folder %s: %s", dir, bad);
		return FTPS_EDENIED;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(why, len, "exists and is not a socket");
		return FTPS_EDENIED;
	}
	return 0;
}

/*
 * 1 when an ftpsd serves its metrics at ss (the wildcard address asked
 * on loopback): GET /metrics answered 200 with ftpsd_ families, within
 * 2 s.  Tells the running daemon's own metrics_listen from a port some
 * other program holds.
 */
static int
ctl_serves_metrics(const struct sockaddr_storage *where, unsigned sl)
{
	static const char	 req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct sockaddr_storage	 ss = *where;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct timeval		 tv = { 2, 0 };
	char			 got[4096];
	size_t			 n = 0;
	ssize_t			 r;
	int			 fd, ok;

	if (ss.ss_family == AF_INET && sin->sin_addr.s_addr == INADDR_ANY)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
		sin6->sin6_addr = in6addr_loopback;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		close(fd);
		return 0;
	}
	while (n < sizeof(got) - 1 &&
	    (r = read(fd, got + n, sizeof(got) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	got[n] = '\0';
	ok = strncmp(got, "HTTP/1.", 7) == 0 && strncmp(got + 8, " 200", 4) ==
	    0 && strstr(got, "\n# HELP ftpsd_") != NULL;
	return ok;
}

/*
 * Whether metrics_listen can be bound: bound and closed again, never
 * listened on.  In use by a running ftpsd that answers on control_socket
 * and serves its metrics there is that ftpsd's own (the check a reload
 * runs); in use by anything else is an error.  Problems counted.
 */
static int
ctl_check_http(const struct conf *cf, FILE *errf)
{
	struct sockaddr_storage	 ss;
	unsigned		 sl;
	int			 fd, e, one = 1;

	if (parse_addrport(cf->metrics_listen, &ss, &sl) != 0) {
		fprintf(errf, "ftpsd: metrics_listen: %s: not ADDR:PORT\n",
		    cf->metrics_listen);
		return 1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 || bind(fd, (struct sockaddr *)&ss, sl) == -1)
		e = errno;
	else
		e = 0;
	if (fd != -1)
		close(fd);
	if (e == 0)
		return 0;
	if (e == EADDRINUSE && cf->control_socket != NULL &&
	    strlen(cf->control_socket) <
	    sizeof(((struct sockaddr_un *)0)->sun_path) &&
	    ctl_answers(cf->control_socket) && ctl_serves_metrics(&ss, sl))
		return 0;
	if (e == EACCES && geteuid() != 0) {
		fprintf(errf, "ftpsd: warning: metrics_listen %s: cannot bind: "
		    "%s (ftpsd binds it as root; this ftpsd -t is not)\n",
		    cf->metrics_listen, strerror(e));
		return 0;
	}
	fprintf(errf, "ftpsd: metrics_listen %s: cannot bind: %s\n",
	    cf->metrics_listen, strerror(e));
	return 1;
}

int
ctl_check(const struct conf *cf, FILE *errf)
{
	char	 why[PATH_MAX + 128];
	int	 problems = 0;

	if (cf->control_socket != NULL &&
	    ctl_check_unix(cf->control_socket, why, sizeof(why)) != 0) {
		/* As at start: the built-in default may be missing. */
		if (strcmp(cf->control_socket, FTPS_CONTROL_SOCKET) == 0)
			fprintf(errf, "ftpsd: warning: control_socket %s: %s; "
			    "ftpsd would run without it\n", cf->control_socket,
			    why);
		else {
			fprintf(errf, "ftpsd: control_socket %s: %s\n",
			    cf->control_socket, why);
			problems++;
		}
	}
	if (cf->metrics_listen != NULL)
		problems += ctl_check_http(cf, errf);
	return problems;
}

int
ctl_prepare(struct ftpsd *ctx, unsigned nworkers)
{
	struct ctl		*c;
	struct ctl_shared	*sh;
	unsigned		 i, nboxes = nworkers > 1 ? nworkers + 1 : 1;
	size_t			 len;
	int			 r;

	if ((r = mt_new(nboxes, &ctx->mt)) != 0)
		return r;
	if ((c = ctl_get(ctx)) == NULL)
		return FTPS_ENOMEM;
	len = sizeof(*sh) + nboxes * sizeof(sh->box[0]);
	sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return FTPS_ESYS;
	c->sh = sh;
	sh->maplen = len;
	sh->nboxes = nboxes;
	sh->nworkers = nworkers > 1 ? nworkers : 0;
	sh->master_pid = getpid();
	sh->started = time(NULL);
	sh->loaded_at = (long long)sh->started;
	for (i = 0; i < nboxes; i++)
		if ((c->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			return FTPS_ESYS;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The worker's side of a box. */

/* A value of a record: backslash, tab, newline escaped (ctl.h). */
static int
ctl_value(struct buf *b, const char *key, const char *v, int last)
{
	int	 r;

	if ((r = buf_addf(b, "%s=", key)) != 0)
		return r;
	for (; *v != '\0' && r == 0; v++)
		r = *v == '\\' ? buf_add(b, "\\\\", 2) :
		    *v == '\t' ? buf_add(b, "\\t", 2) :
		    *v == '\n' ? buf_add(b, "\\n", 2) :
		    *v == '\r' ? buf_add(b, "\\r", 2) : buf_add(b, v, 1);
	return r != 0 ? r : buf_add(b, last ? "\n" : "\t", 1);
}

static int
ctl_who_one(struct session *s, struct buf *b, time_t now)
{
	struct xfer_info	 xi;
	SSL			*ssl = sess_ssl(s);
	const char		*st;
	int			 r;

	st = s->state == SESS_CLOSING ? "closing" :
	    (s->flags & SF_LOGGED_IN) ? (s->xfer != NULL ? "transfer" :
	    "ready") : "login";
	if ((r = buf_addf(b, "id=%llu\tworker=%u\t", s->id,
	    s->ctx->worker)) != 0 ||
	    (r = ctl_value(b, "user", (s->flags & SF_LOGGED_IN) ?
	    s->username : "", 0)) != 0 ||
	    (r = ctl_value(b, "addr", s->ip, 0)) != 0 ||
	    (r = ctl_value(b, "host", s->host != NULL ? s->host->names[0] :
	    "", 0)) != 0 ||
	    (r = buf_addf(b, "port=%s\tstate=%s\ttls=%s\tcipher=%s\t"
	    "idle=%lld\t", (s->flags & SF_IMPLICIT) ? "implicit" : "explicit",
	    st, ssl != NULL && (s->flags & SF_TLS) ? SSL_get_version(ssl) :
	    "none", ssl != NULL && (s->flags & SF_TLS) ?
	    SSL_get_cipher_name(ssl) : "", (long long)(now -
	    s->active_at))) != 0)
		return r;
	if (s->xfer == NULL)
		return buf_addf(b, "xfer=\tpath=\tbytes=0\tsecs=0\trate=0\n");
	xfer_info(s->xfer, &xi);
	if ((r = buf_addf(b, "xfer=%s\t", xi.verb)) != 0 ||
	    (r = ctl_value(b, "path", xi.path, 0)) != 0)
		return r;
	return buf_addf(b, "bytes=%llu\tsecs=%.1f\trate=%.0f\n", xi.bytes,
	    xi.secs, xi.secs > 0.001 ? (double)xi.bytes / xi.secs : 0.0);
}

static void
ctl_kick_now(struct session *s)
{
	if (s->state == SESS_CLOSING)
		return;
	sess_reply(s, 421, "Disconnected by the administrator.");
	sess_close(s, "kicked by ftpsdctl");
}

static void
ctl_kick(struct ftpsd *ctx, unsigned long long id, int *result)
{
	struct session	*s;

	*result = 0;
	for (s = TAILQ_FIRST(&ctx->sessions); s != NULL && s->id != id;
	    s = TAILQ_NEXT(s, entry))
		;
	if (s == NULL)
		return;
	*result = 1;
	if (s->state == SESS_CLOSING)
		return;
	sess_log(s, LOG_LVL_INFO, "kicked by ftpsdctl");
	/*
	 * A transfer already ending waits for its file job, which a hung
	 * file system may never return: the admin's kick does not wait (the
	 * job frees the transfer when it is back).
	 */
	if (s->xfer != NULL && xfer_ending(s->xfer)) {
		ctl_kick_now(s);
		return;
	}
	/* 426 for a transfer (once its file job returns), then 421. */
	xfer_abort(s, "ftpsdctl kick", ctl_kick_now);
}

/* Answers what the box holds, in the page the asker reads. */
static void
ctl_answer(struct ftpsd *ctx, struct ctl_box *bx)
{
	struct session	*s;
	struct buf	 b;
	struct timespec	 ts;
	int		 r = 0;

	buf_init(&b, CTL_PAGE_MAX - 1);
	bx->result = 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	switch (bx->op) {
	case ASK_STATUS:
		r = buf_addf(&b, "worker=%u\tpid=%ld\tsessions=%u\n",
		    ctx->worker, (long)getpid(), ctx->nsessions);
		break;
	case ASK_WHO:
		for (s = TAILQ_FIRST(&ctx->sessions); s != NULL && r == 0;
		    s = TAILQ_NEXT(s, entry))
			r = ctl_who_one(s, &b, ts.tv_sec);
		if (r != 0) {
			buf_reset(&b);
			r = buf_addf(&b, "note=worker %u: too many sessions to "
			    "list\n", ctx->worker);
		}
		break;
	case ASK_KICK:
		ctl_kick(ctx, bx->arg, &bx->result);
		break;
	case ASK_METRICS:
		mt_set(ctx->mt, ctx->worker, MT_AUTH_QUEUE, ctx->auth != NULL ?
		    (int64_t)auth_pool_pending(ctx->auth) : 0);
		break;
	}
	bx->len = r == 0 ? buf_len(&b) : 0;
	if (bx->len > 0)
		memcpy(bx->page, buf_str(&b), bx->len);
	buf_free(&b);
}

static void
ctl_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ftpsd	*ctx = arg;
	struct ctl_box	*bx = &ctx->ctl->sh->box[ctx->worker];
	uint64_t	 v;
	uint32_t	 req;

	(void)what;
	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	req = atomic_load_explicit(&bx->req, memory_order_acquire);
	if (req == atomic_load_explicit(&bx->done, memory_order_relaxed))
		return;
	ctl_answer(ctx, bx);
	atomic_store_explicit(&bx->done, req, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Connections: reading a request, asking the boxes, answering. */

static void	ctl_conn_free(struct ctl_conn *);
static void	ctl_step(struct ctl_conn *);

static void
ctl_send(struct ctl_conn *cc, const char *head, const char *body,
    size_t blen)
{
	struct evbuffer	*out = bufferevent_get_output(cc->bev);

	if (cc->tick != NULL)
		evtimer_del(cc->tick);
	cc->sent = 1;
	bufferevent_disable(cc->bev, EV_READ);
	evbuffer_add(out, head, strlen(head));
	if (blen > 0)
		evbuffer_add(out, body, blen);
	/* Free once written (the write callback). */
	bufferevent_enable(cc->bev, EV_WRITE);
}

static void
ctl_errf(struct ctl_conn *cc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
ctl_errf(struct ctl_conn *cc, const char *fmt, ...)
{
	char	 msg[300], line[700];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cc->http)
		snprintf(line, sizeof(line), "HTTP/1.0 %s\r\nContent-Type: "
		    "text/plain\r\nConnection: close\r\n\r\n%s\n", msg, msg);
	else
		snprintf(line, sizeof(line), "ERR %s\n", msg);
	ctl_send(cc, line, NULL, 0);
}

static void
ctl_tick(struct ctl_conn *cc)
{
	struct timeval	 tv = { 0, CTL_TICK_MS * 1000 };

	evtimer_add(cc->tick, &tv);
}

static int
ctl_ban_cb(const unsigned char *key, unsigned left, void *arg)
{
	struct ctl_conn	*cc = arg;
	char		 a[INET6_ADDRSTRLEN + 8];

	return buf_addf(&cc->out, "addr=%s\tleft=%u\n",
	    addr_key_text(key, cc->ctx->conf.ipv6_prefix, a, sizeof(a)), left);
}

static void
ctl_ban(struct ctl_conn *cc, const char *args)
{
	struct sockaddr_storage	 ss;
	char			 a[INET6_ADDRSTRLEN + 1];
	size_t			 n;

	if (strcmp(args, "list") == 0) {
		if (ban_each(cc->ctx, ctl_ban_cb, cc) != 0) {
			ctl_errf(cc, "too many bans to list");
			return;
		}
		ctl_send(cc, "OK\n", buf_str(&cc->out), buf_len(&cc->out));
		return;
	}
	if (strncmp(args, "remove ", 7) != 0) {
		ctl_errf(cc, "usage: ban list | ban remove ADDR");
		return;
	}
	args += 7;
	/* "2001:db8::/64", as ban list prints it, names the group. */
	n = strcspn(args, "/");
	if (n < sizeof(a)) {
		memcpy(a, args, n);
		a[n] = '\0';
	} else
		a[0] = '\0';
	if (addr_parse(a, 0, &ss, NULL) != 0) {
		ctl_errf(cc, "ban remove: %.*s is not a numeric IPv4 or IPv6 "
		    "address", 64, args);
		return;
	}
	if (ban_lift(cc->ctx, &ss) != 0) {
		ctl_errf(cc, "ban remove: %s is not banned", a);
		return;
	}
	log_info("ftpsdctl: ban of %s lifted", a);
	ctl_send(cc, "OK\n", "removed=", 8);
	evbuffer_add_printf(bufferevent_get_output(cc->bev), "%s\n", a);
}

static void
ctl_status(struct ctl_conn *cc)
{
	struct ctl_shared	*sh = cc->ctl->sh;
	struct buf		 head;
	time_t			 now = time(NULL);
	uint32_t		 seq = atomic_load(&sh->reload_seq);
	int64_t			 n;

	n = mt_sum(cc->ctx->mt, MT_SESS_EXPLICIT) +
	    mt_sum(cc->ctx->mt, MT_SESS_IMPLICIT);
	buf_init(&head, 2048);
	if (buf_addf(&head, "OK\nversion=%s\tpid=%d\tstarted=%lld\t"
	    "uptime=%lld\tworkers=%u\tsessions=%lld\tconfig_loaded=%lld\t"
	    "reloads=%u\treload=%s\treload_at=%lld\t", PACKAGE_VERSION,
	    atomic_load(&sh->master_pid), (long long)sh->started,
	    (long long)(now - sh->started), sh->nworkers ? sh->nworkers : 1,
	    (long long)n, atomic_load(&sh->loaded_at), seq,
	    seq == 0 ? "none" : atomic_load(&sh->reload_ok) ? "ok" : "fail",
	    atomic_load(&sh->reload_at)) != 0 ||
	    ctl_value(&head, "reload_detail", seq == 0 ? "" : sh->reload_why,
	    1) != 0) {
		buf_free(&head);
		ctl_errf(cc, "out of memory");
		return;
	}
	ctl_send(cc, buf_str(&head), buf_str(&cc->out), buf_len(&cc->out));
	buf_free(&head);
}

static int
ctl_count_cb(const unsigned char *key, unsigned left, void *arg)
{
	(void)key;
	(void)left;
	(*(int64_t *)arg)++;
	return 0;
}

static void
ctl_metrics(struct ctl_conn *cc)
{
	struct mt_extra	 x;
	struct buf	 head;
	int		 r;

	buf_reset(&cc->out);
	memset(&x, 0, sizeof(x));
	x.ssl_ctx = cc->ctx->ssl_ctx;
	x.hosts = cc->ctx->vhosts;
	x.bans = 0;
	(void)ban_each(cc->ctx, ctl_count_cb, &x.bans);
	if ((r = mt_render(cc->ctx->mt, &x, &cc->out)) != 0) {
		ctl_errf(cc, cc->http ? "500 Internal Server Error" :
		    "metrics: %s", ftps_strerror(r));
		return;
	}
	if (!cc->http) {
		ctl_send(cc, "OK\n", buf_str(&cc->out), buf_len(&cc->out));
		return;
	}
	buf_init(&head, 256);
	if (buf_addf(&head, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", buf_len(&cc->out)) != 0)
		ctl_errf(cc, "500 Internal Server Error");
	else
		ctl_send(cc, buf_str(&head), buf_str(&cc->out),
		    buf_len(&cc->out));
	buf_free(&head);
}

/* All boxes asked (or the one that had the session): the answer. */
static void
ctl_finish(struct ctl_conn *cc)
{
	char	 line[64];

	switch (cc->cmd) {
	case CMD_STATUS:
		ctl_status(cc);
		break;
	case CMD_WHO:
		ctl_send(cc, "OK\n", buf_str(&cc->out), buf_len(&cc->out));
		break;
	case CMD_KICK:
		if (!cc->found) {
			ctl_errf(cc, "kick: no session %llu", cc->arg);
			break;
		}
		snprintf(line, sizeof(line), "OK\nkicked=%llu\n", cc->arg);
		ctl_send(cc, line, NULL, 0);
		break;
	case CMD_METRICS:
		ctl_metrics(cc);
		break;
	}
}

static struct ctl_box *
ctl_box(struct ctl_conn *cc, unsigned i)
{
	return &cc->ctl->sh->box[i];
}

/*
 * Takes the box's answer into out and lets the box go.  The answer
 * counts only if our claim held the box from before the read to after
 * it (else another asker may be rewriting the page: it is dropped).
 */
static void
ctl_collect(struct ctl_conn *cc, struct ctl_box *bx, int answered)
{
	size_t	 mark = buf_len(&cc->out);
	int	 found = 0;

	if (answered && ctl_claim_held(&bx->claim, cc->claim)) {
		if (bx->len > 0 && buf_add(&cc->out, bx->page, bx->len) != 0)
			(void)buf_addf(&cc->out, "note=answer cut at %u bytes\n",
			    CTL_OUT_MAX);
		found = cc->cmd == CMD_KICK && bx->result == 1;
		/* The page reads above happen before the check below. */
		atomic_thread_fence(memory_order_acquire);
		if (!ctl_claim_held(&bx->claim, cc->claim)) {
			buf_truncate(&cc->out, mark);
			answered = 0;
		}
	} else
		answered = 0;
	if (answered)
		cc->found |= found;
	else
		(void)buf_addf(&cc->out, "note=worker %u did not answer "
		    "within %d ms\n", cc->box, CTL_ASK_MS);
	ctl_claim_drop(&bx->claim, cc->claim);
	cc->claim = 0;
	cc->box++;
}

/*
 * One step of asking the boxes in turn: claim the next serving one,
 * post the request and wake its loop, then poll until it answered.
 */
static void
ctl_step(struct ctl_conn *cc)
{
	struct ctl_shared	*sh = cc->ctl->sh;
	struct ctl_box		*bx;
	long long		 now = ctl_now_ms();
	uint64_t		 one = 1;

	for (;;) {
		if (cc->claim != 0) {
			bx = ctl_box(cc, cc->box);
			if (atomic_load_explicit(&bx->done,
			    memory_order_acquire) == cc->req)
				ctl_collect(cc, bx, 1);
			/* Lost (its worker died): it is not answering us. */
			else if (now >= cc->until_ms ||
			    atomic_load(&bx->pid) == 0 ||
			    !ctl_claim_held(&bx->claim, cc->claim))
				ctl_collect(cc, bx, 0);
			else {
				ctl_tick(cc);
				return;
			}
			if (cc->cmd == CMD_KICK && cc->found)
				break;
			continue;
		}
		while (cc->box < sh->nboxes &&
		    atomic_load(&ctl_box(cc, cc->box)->pid) == 0)
			cc->box++;
		if (cc->box >= sh->nboxes)
			break;
		bx = ctl_box(cc, cc->box);
		/*
		 * Held past our wait, so a live asker always drops its claim
		 * before another may take it over.
		 */
		cc->claim = ctl_claim_take(&bx->claim, &sh->claim_gen, now,
		    now + CTL_ASK_MS + CTL_CLAIM_GRACE_MS);
		/*
		 * The worker still answering an earlier asker that gave up on
		 * it (a slow worker): op and arg must not change under it, so
		 * the box counts as busy until it is done.
		 */
		if (cc->claim != 0 && atomic_load_explicit(&bx->done,
		    memory_order_acquire) != atomic_load_explicit(&bx->req,
		    memory_order_acquire)) {
			ctl_claim_drop(&bx->claim, cc->claim);
			cc->claim = 0;
		}
		if (cc->claim == 0) {
			/* Another ftpsdctl is asking this box: wait a tick. */
			if (cc->until_ms == 0)
				cc->until_ms = now + CTL_ASK_MS;
			if (now >= cc->until_ms) {
				(void)buf_addf(&cc->out, "note=worker %u busy\n",
				    cc->box);
				cc->box++;
				cc->until_ms = 0;
				continue;
			}
			ctl_tick(cc);
			return;
		}
		bx->op = cc->cmd == CMD_STATUS ? ASK_STATUS :
		    cc->cmd == CMD_WHO ? ASK_WHO :
		    cc->cmd == CMD_KICK ? ASK_KICK : ASK_METRICS;
		bx->arg = cc->arg;
		bx->len = 0;
		cc->req = atomic_fetch_add_explicit(&bx->req, 1,
		    memory_order_acq_rel) + 1;
		cc->until_ms = now + CTL_ASK_MS;
		if (write(cc->ctl->efd[cc->box], &one, sizeof(one)) == -1 &&
		    errno != EAGAIN)
			log_warn("ftpsdctl: waking worker %u", cc->box);
	}
	ctl_finish(cc);
}

/* reload: every serving process has this reload's result. */
static void
ctl_reload_step(struct ctl_conn *cc)
{
	struct ctl_shared	*sh = cc->ctl->sh;
	struct ctl_box		*bx;
	char			 line[400];
	unsigned		 i, bad = 0;

	if ((int32_t)(atomic_load(&sh->reload_seq) - cc->reload_target) < 0)
		goto wait;
	for (i = 1; i < sh->nboxes; i++) {
		bx = ctl_box(cc, i);
		if (atomic_load(&bx->pid) == 0)
			continue;
		if ((int32_t)(atomic_load(&bx->reload_seq) -
		    cc->reload_target) < 0)
			goto wait;
		if (!atomic_load(&bx->reload_ok))
			bad++;
	}
	if (!atomic_load(&sh->reload_ok))
		ctl_errf(cc, "reload failed: %s; the running configuration "
		    "stays", sh->reload_why);
	else if (bad > 0)
		ctl_errf(cc, "reload: %u worker%s failed to reload (see the "
		    "log)", bad, bad == 1 ? "" : "s");
	else {
		snprintf(line, sizeof(line), "OK\nresult=ok\t");
		buf_reset(&cc->out);
		(void)ctl_value(&cc->out, "detail", sh->reload_why, 1);
		ctl_send(cc, line, buf_str(&cc->out), buf_len(&cc->out));
	}
	return;
 wait:
	if (ctl_now_ms() >= cc->until_ms) {
		ctl_errf(cc, "reload: no result within %d s (see the log)",
		    CTL_RELOAD_MS / 1000);
		return;
	}
	ctl_tick(cc);
}

static void
ctl_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn	*cc = arg;

	(void)fd;
	(void)what;
	if (cc->cmd == CMD_RELOAD)
		ctl_reload_step(cc);
	else if (cc->cmd >= 0)
		ctl_step(cc);
}

static void
ctl_reload(struct ctl_conn *cc)
{
	struct ctl_shared	*sh = cc->ctl->sh;
	pid_t			 pid = (pid_t)atomic_load(&sh->master_pid);

	cc->reload_target = atomic_load(&sh->reload_seq) + 1;
	cc->until_ms = ctl_now_ms() + CTL_RELOAD_MS;
	log_info("ftpsdctl: reload requested");
	if (kill(pid, SIGHUP) == -1) {
		ctl_errf(cc, "reload: cannot signal pid %ld: %s", (long)pid,
		    strerror(errno));
		return;
	}
	ctl_reload_step(cc);
}

static void
ctl_request(struct ctl_conn *cc, char *line)
{
	unsigned long	 id;

	if (cc->ctl->sh == NULL) {
		ctl_errf(cc, "not ready");
		return;
	}
	if (strcmp(line, "status") == 0)
		cc->cmd = CMD_STATUS;
	else if (strcmp(line, "who") == 0)
		cc->cmd = CMD_WHO;
	else if (strcmp(line, "metrics") == 0)
		cc->cmd = CMD_METRICS;
	else if (strcmp(line, "reload") == 0) {
		cc->cmd = CMD_RELOAD;
		ctl_reload(cc);
		return;
	} else if (strncmp(line, "kick ", 5) == 0) {
		if (parse_uint(line + 5, 1, ULONG_MAX, &id) != 0) {
			ctl_errf(cc, "kick: %.64s is not a session id (a "
			    "number, as who shows)", line + 5);
			return;
		}
		cc->cmd = CMD_KICK;
		cc->arg = id;
	} else if (strncmp(line, "ban ", 4) == 0) {
		ctl_ban(cc, line + 4);
		return;
	} else {
		ctl_errf(cc, "unknown command: %.64s (status, who, kick ID, "
		    "ban list, ban remove ADDR, reload, metrics)", line);
		return;
	}
	ctl_step(cc);
}

/* HTTP/1.0: "GET /metrics" and nothing else. */
static void
ctl_http(struct ctl_conn *cc, char *req)
{
	char	*sp, *path, *ver;

	if ((sp = strchr(req, ' ')) == NULL) {
		ctl_errf(cc, "400 Bad Request");
		return;
	}
	*sp = '\0';
	path = sp + 1;
	if ((sp = strchr(path, ' ')) == NULL) {
		ctl_errf(cc, "400 Bad Request");
		return;
	}
	*sp = '\0';
	ver = sp + 1;
	if (strncmp(ver, "HTTP/1.", 7) != 0) {
		ctl_errf(cc, "400 Bad Request");
		return;
	}
	if (strcmp(req, "GET") != 0) {
		ctl_errf(cc, "405 Method Not Allowed");
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (strcmp(path, "/metrics") != 0) {
		ctl_errf(cc, "404 Not Found");
		return;
	}
	cc->cmd = CMD_METRICS;
	ctl_step(cc);
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*cc = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct evbuffer_ptr end;
	char		*line;
	size_t		 n;

	if (cc->cmd >= 0 || cc->sent)
		return;
	if (cc->http) {
		end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos == -1)
			end = evbuffer_search(in, "\n\n", 2, NULL);
		if (end.pos == -1) {
			if (evbuffer_get_length(in) > CTL_HTTP_MAX)
				ctl_errf(cc, "431 Request Header Fields Too "
				    "Large");
			return;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	} else {
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		if (line == NULL) {
			if (evbuffer_get_length(in) > CTL_LINE_MAX)
				ctl_errf(cc, "request line longer than %d "
				    "bytes", CTL_LINE_MAX);
			return;
		}
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
	}
	if (line == NULL) {
		ctl_errf(cc, cc->http ? "500 Internal Server Error" :
		    "out of memory");
		return;
	}
	/* One request per connection; asking may outlast the read timeout. */
	bufferevent_disable(bev, EV_READ);
	if (n > (cc->http ? CTL_HTTP_MAX : CTL_LINE_MAX) ||
	    strlen(line) != n)
		ctl_errf(cc, cc->http ? "400 Bad Request" : "bad request line");
	else if (cc->http)
		ctl_http(cc, line);
	else
		ctl_request(cc, line);
	free(line);
}

static void
ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*cc = arg;

	/* The answer is out: done. */
	if (cc->sent && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		ctl_conn_free(cc);
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn	*cc = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) && !cc->sent && cc->cmd == -1) {
		ctl_errf(cc, cc->http ? "408 Request Timeout" :
		    "no request within %d ms", CTL_READ_MS);
		return;
	}
	ctl_conn_free(cc);
}

static void
ctl_conn_free(struct ctl_conn *cc)
{
	struct ctl	*c = cc->ctl;

	if (cc->claim != 0)
		ctl_claim_drop(&ctl_box(cc, cc->box)->claim, cc->claim);
	TAILQ_REMOVE(&c->conns, cc, entry);
	c->nconns[cc->http]--;
	if (cc->tick != NULL)
		event_free(cc->tick);
	if (cc->deadline != NULL)
		event_free(cc->deadline);
	bufferevent_free(cc->bev);
	buf_free(&cc->out);
	free(cc);
}

/* The whole request within CTL_READ_MS, however it trickles in. */
static void
ctl_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn	*cc = arg;

	(void)fd;
	(void)what;
	if (!cc->sent && cc->cmd == -1)
		ctl_errf(cc, cc->http ? "408 Request Timeout" :
		    "no request within %d ms", CTL_READ_MS);
}

static void
ctl_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl	*c = arg;

	(void)fd;
	(void)what;
	if (c->sock_ev != NULL)
		(void)event_add(c->sock_ev, NULL);
	if (c->http_ev != NULL)
		(void)event_add(c->http_ev, NULL);
}

/*
 * Out of descriptors: the connection stays queued and the socket
 * readable, so accepting again at once would spin the loop.  Both
 * listeners pause for CTL_PAUSE_MS (as the session listeners do).
 */
static void
ctl_pause(struct ftpsd *ctx)
{
	struct ctl	*c = ctx->ctl;
	struct timeval	 tv = { CTL_PAUSE_MS / 1000,
			    (CTL_PAUSE_MS % 1000) * 1000 };

	if (c->resume_ev == NULL && (c->resume_ev = evtimer_new(ctx->base,
	    ctl_resume_cb, c)) == NULL)
		return;
	if (evtimer_pending(c->resume_ev, NULL))
		return;
	log_warn("control: accept; pausing %d ms", CTL_PAUSE_MS);
	if (c->sock_ev != NULL)
		(void)event_del(c->sock_ev);
	if (c->http_ev != NULL)
		(void)event_del(c->http_ev);
	(void)evtimer_add(c->resume_ev, &tv);
}

static void
ctl_accept(struct ftpsd *ctx, int lfd, int http)
{
	struct ctl	*c = ctx->ctl;
	struct ctl_conn	*cc;
	struct timeval	 tv = { CTL_READ_MS / 1000, 0 };
	struct sockaddr_storage ss;
	socklen_t	 sl = sizeof(ss);
	int		 fd;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			ctl_pause(ctx);
		return;
	}
	/*
	 * SECURITY: HTTP (anyone who reaches metrics_listen) and the
	 * control socket are counted apart: a scrape flood cannot lock the
	 * administrator out of ftpsdctl.
	 */
	cc = c->nconns[http != 0] < CTL_CONNS_MAX ? calloc(1, sizeof(*cc)) :
	    NULL;
	if (cc == NULL) {
		close(fd);
		return;
	}
	cc->ctl = c;
	cc->ctx = ctx;
	cc->http = http != 0;
	cc->cmd = -1;
	buf_init(&cc->out, CTL_OUT_MAX);
	if ((cc->bev = bufferevent_socket_new(ctx->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    (cc->tick = evtimer_new(ctx->base, ctl_tick_cb, cc)) == NULL ||
	    (cc->deadline = evtimer_new(ctx->base, ctl_deadline_cb, cc)) ==
	    NULL || evtimer_add(cc->deadline, &tv) != 0) {
		if (cc->tick != NULL)
			event_free(cc->tick);
		if (cc->deadline != NULL)
			event_free(cc->deadline);
		if (cc->bev != NULL)
			bufferevent_free(cc->bev);
		else
			close(fd);
		free(cc);
		return;
	}
	TAILQ_INSERT_TAIL(&c->conns, cc, entry);
	c->nconns[cc->http]++;
	/*
	 * SECURITY: slowloris: the whole request within CTL_READ_MS (the
	 * deadline above; the bufferevent's timeouts restart on every
	 * byte), and at most CTL_HTTP_MAX of it.
	 */
	bufferevent_setwatermark(cc->bev, EV_READ, 0, CTL_HTTP_MAX + 1);
	bufferevent_set_timeouts(cc->bev, &tv, &tv);
	bufferevent_setcb(cc->bev, ctl_read_cb, ctl_write_cb, ctl_event_cb,
	    cc);
	bufferevent_enable(cc->bev, EV_READ);
}

static void
ctl_sock_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	ctl_accept(arg, fd, 0);
}

static void
ctl_http_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	ctl_accept(arg, fd, 1);
}

int
ctl_start(struct ftpsd *ctx)
{
	struct ctl	*c = ctx->ctl;

	if (c == NULL || c->sh == NULL)
		return 0;
	if ((c->wake_ev = event_new(ctx->base, c->efd[ctx->worker],
	    EV_READ | EV_PERSIST, ctl_wake_cb, ctx)) == NULL ||
	    event_add(c->wake_ev, NULL) != 0)
		return FTPS_ENOMEM;
	if (c->sock_fd != -1 && ((c->sock_ev = event_new(ctx->base,
	    c->sock_fd, EV_READ | EV_PERSIST, ctl_sock_cb, ctx)) == NULL ||
	    event_add(c->sock_ev, NULL) != 0))
		return FTPS_ENOMEM;
	if (c->http_fd != -1 && ((c->http_ev = event_new(ctx->base,
	    c->http_fd, EV_READ | EV_PERSIST, ctl_http_cb, ctx)) == NULL ||
	    event_add(c->http_ev, NULL) != 0))
		return FTPS_ENOMEM;
	/* A worker (re)started now runs the master's current state. */
	atomic_store(&c->sh->box[ctx->worker].reload_ok, 1);
	atomic_store(&c->sh->box[ctx->worker].reload_seq,
	    atomic_load(&c->sh->reload_seq));
	/* Nothing is pending for a new worker (one that died left req). */
	atomic_store(&c->sh->box[ctx->worker].done,
	    atomic_load(&c->sh->box[ctx->worker].req));
	atomic_store(&c->sh->box[ctx->worker].pid, (int)getpid());
	if (ctx->worker == 0 || ctx->worker == 1) {
		if (c->sock_fd != -1)
			log_info("control socket %s", c->path);
		if (c->http_fd != -1)
			log_info("metrics on http://%s/metrics",
			    c->http_label);
	}
	return 0;
}

void
ctl_free(struct ftpsd *ctx)
{
	struct ctl	*c = ctx->ctl;
	struct ctl_conn	*cc, *next;
	struct stat	 st;
	unsigned	 i;

	if (c == NULL)
		return;
	for (cc = TAILQ_FIRST(&c->conns); cc != NULL; cc = next) {
		next = TAILQ_NEXT(cc, entry);
		ctl_conn_free(cc);
	}
	if (c->wake_ev != NULL)
		event_free(c->wake_ev);
	if (c->sock_ev != NULL)
		event_free(c->sock_ev);
	if (c->http_ev != NULL)
		event_free(c->http_ev);
	if (c->resume_ev != NULL)
		event_free(c->resume_ev);
	if (c->sh != NULL && ctx->worker < c->sh->nboxes && ctx->master ==
	    NULL)
		atomic_store(&c->sh->box[ctx->worker].pid, 0);
	/* The binder (single process or master) removes its own socket. */
	if (c->owner && ctx->worker == 0 && c->sock_fd != -1 &&
	    lstat(c->path, &st) == 0 && st.st_dev == c->sock_dev &&
	    st.st_ino == c->sock_ino)
		(void)unlink(c->path);
	if (c->sock_fd != -1)
		close(c->sock_fd);
	if (c->http_fd != -1)
		close(c->http_fd);
	for (i = 0; i <= CONF_WORKERS_MAX; i++)
		if (c->efd[i] != -1)
			close(c->efd[i]);
	if (c->sh != NULL)
		munmap(c->sh, c->sh->maplen);
	free(c);
	ctx->ctl = NULL;
	mt_free(ctx->mt);
	ctx->mt = NULL;
}

unsigned long long
ctl_next_id(struct ftpsd *ctx)
{
	if (ctx->ctl != NULL && ctx->ctl->sh != NULL)
		return atomic_fetch_add(&ctx->ctl->sh->next_id, 1) + 1;
	return ++ctx->next_id;
}

void
ctl_reloaded(struct ftpsd *ctx, int ok, const char *why)
{
	struct ctl_shared	*sh;
	struct ctl_box		*bx;

	if (ctx->ctl == NULL || (sh = ctx->ctl->sh) == NULL)
		return;
	if (ctx->worker > 0) {
		/* The master counted this reload before it signalled us. */
		bx = &sh->box[ctx->worker];
		atomic_store(&bx->reload_ok, ok);
		atomic_store(&bx->reload_seq, atomic_load(&sh->reload_seq));
		return;
	}
	mt_inc(ctx, ok ? MT_RELOAD_OK : MT_RELOAD_FAIL);
	snprintf(sh->reload_why, sizeof(sh->reload_why), "%s",
	    why != NULL ? why : "");
	atomic_store(&sh->reload_ok, ok);
	atomic_store(&sh->reload_at, (long long)time(NULL));
	if (ok)
		atomic_store(&sh->loaded_at, (long long)time(NULL));
	atomic_fetch_add(&sh->reload_seq, 1);
}

void
ctl_worker_gone(struct ftpsd *ctx, unsigned w)
{
	struct ctl_shared	*sh;

	if (ctx->ctl == NULL || (sh = ctx->ctl->sh) == NULL ||
	    w >= sh->nboxes)
		return;
	atomic_store(&sh->box[w].pid, 0);
	atomic_store(&sh->box[w].claim, 0);
	mt_zero_gauges(ctx->mt, w);
}
