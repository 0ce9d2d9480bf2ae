/*
 * ftpsbench: a load generator for FTPS servers, loopback only.
 *
 * One libevent loop drives every session, so a single process can hold
 * ten thousand logged-in TLS sessions.  It speaks FTPS the way curl does:
 * explicit (AUTH TLS, RFC 4217 section 4) or implicit TLS, PBSZ 0, PROT P,
 * EPSV (RFC 2428) with a PASV fallback, and data channels that resume the
 * TLS session of their own control connection (RFC 4217 section 10.2).
 *
 * Modes (see usage()): download, upload, small-files, logins, idle, and
 * procstat, which sums the memory and CPU of a process tree for
 * scripts/bench.  Every mode is bounded in count and in time
 * (--max-seconds), and the target must be a loopback address.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "parse.h"

#define FB_IOBUF	(256 * 1024)	/* shared data buffer, both ways */
#define FB_LINE_MAX	8192		/* one reply line */
#define FB_CMD_MAX	1024		/* one command */
#define FB_PATH_MAX	512
#define FB_MAX_SESSIONS	100000
#define FB_MAX_COUNT	10000000UL
#define FB_ERRMSG_MAX	10		/* error lines printed in full */
#define FB_READ_BURST	64		/* TLS records per data callback */

enum fb_mode {
	FB_DOWNLOAD, FB_UPLOAD, FB_SMALL, FB_LOGINS, FB_IDLE, FB_PROCSTAT,
	FB_REAPER
};

static const char *const fb_mode_names[] = {
	"download", "upload", "small-files", "logins", "idle", "procstat",
	"reaper"
};

/* Where a control connection is in its dialogue. */
enum fb_cstate {
	CS_OFF,			/* no connection */
	CS_CONNECT,		/* TCP connect in progress */
	CS_GREET,		/* waiting for 220 */
	CS_AUTH,		/* AUTH TLS sent */
	CS_HANDSHAKE,		/* TLS handshake on the control */
	CS_USER,
	CS_PASS,
	CS_PBSZ,
	CS_PROT,
	CS_TYPE,
	CS_NOOP0,		/* NOOP after login: TLS 1.3 tickets are in */
	CS_READY,		/* logged in, nothing outstanding */
	CS_SIZE,
	CS_EPSV,
	CS_PASV,
	CS_XFER,		/* RETR/STOR sent */
	CS_PROBE,		/* probe NOOP outstanding */
	CS_CHECK,		/* idle: final NOOP */
	CS_QUIT
};
#define CS_NSTATES	(CS_QUIT + 1)

/* What was sent in each state, for messages. */
static const char *const fb_cstate_names[CS_NSTATES] = {
	"(closed)", "connect", "greeting", "AUTH TLS", "TLS handshake",
	"USER", "PASS", "PBSZ", "PROT", "TYPE", "NOOP", "(idle)", "SIZE",
	"EPSV", "PASV", "transfer", "NOOP", "NOOP", "QUIT"
};

enum fb_dstate { DS_OFF, DS_CONNECT, DS_HANDSHAKE, DS_XFER, DS_DRAIN };

enum fb_role { ROLE_WORK, ROLE_PROBE };

struct fb_lat {
	double		*v;		/* milliseconds */
	size_t		 n, cap;
};

struct fb_opts {
	enum fb_mode	 mode;
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
	char		 host[INET6_ADDRSTRLEN];
	unsigned	 port;
	int		 implicit;
	const char	*user;
	char		*pass;
	unsigned	 clients;
	unsigned long	 count;
	const char	*path;
	uint64_t	 size;		/* upload size; expected size else */
	int		 have_size;
	double		 hold;		/* idle: seconds to hold */
	double		 max_seconds;
	int		 tls_max;	/* 0: library maximum */
	int		 pasv;		/* PASV instead of EPSV */
	int		 no_reuse;	/* data channels do not resume */
	unsigned	 ramp;		/* idle: connects in flight */
	const char	*ready_file;
	int		 probe;		/* logins: NOOP probe session */
	int		 quiet;
	pid_t		 pid;		/* procstat */
	int		 below;		/* procstat: leave PID itself out */
	char		**argv;		/* reaper: the command */
};

struct fb_bench;

struct fb_sess {
	struct fb_bench	*b;
	unsigned	 id;
	enum fb_role	 role;
	/* Control connection. */
	enum fb_cstate	 cs;
	int		 fd;
	SSL		*ssl;
	struct event	*rev;		/* EV_READ|EV_PERSIST */
	struct event	*wev;		/* EV_WRITE, one-shot */
	char		 rbuf[FB_LINE_MAX];
	size_t		 rlen;
	int		 multi;		/* inside a multi-line reply */
	char		 mcode[4];
	char		 wbuf[FB_CMD_MAX];
	size_t		 wlen, woff;
	int		 hs_want_write;
	int		 use_pasv;
	/* Data connection. */
	enum fb_dstate	 ds;
	int		 dfd;
	SSL		*dssl;
	struct event	*dev;
	short		 dev_what;
	int		 got_final;	/* 226 seen */
	int		 data_done;	/* data channel closed cleanly */
	uint64_t	 dbytes;	/* this transfer */
	uint64_t	 dleft;		/* upload: bytes still to send */
	char		 xcmd[FB_PATH_MAX + 8];	/* RETR/STOR line */
	/* Work. */
	unsigned long	 done;		/* operations completed */
	unsigned long	 target;	/* operations for this session */
	uint64_t	 expect;	/* download: SIZE answer */
	int		 have_expect;
	double		 op_t0;
	int		 established;	/* idle: logged in */
	struct event	*probe_ev;
};

struct fb_bench {
	struct fb_opts	 o;
	struct event_base *base;
	SSL_CTX		*ctx;
	struct fb_sess	**sess;
	unsigned	 nsess;
	struct event	*deadline;
	struct event	*hold_ev;
	struct event	*sig_ev;
	struct event	*usr1_ev;	/* idle: end the hold now */
	int		 release;	/* SIGUSR1 came before the hold */
	/* Progress. */
	unsigned long	 started;	/* logins/idle: cycles started */
	unsigned long	 ok, errors;
	uint64_t	 bytes;
	unsigned	 live;		/* sessions not yet finished */
	unsigned	 connecting;	/* idle: sessions not yet logged in */
	unsigned long	 established;	/* idle: logged in at once, peak */
	unsigned long	 dropped;	/* idle: lost while held */
	unsigned long	 resumed, fresh;
	int		 stopping;	/* deadline or signal */
	int		 timed_out;
	int		 holding;
	int		 probe_up;
	int		 in_check;
	double		 t_start, t_first, t_last, t_ready;
	struct fb_lat	 lat, probe_lat;
	unsigned	 nerrmsg;
	char		 tls_version[32], tls_cipher[64];
	char		 cmdline[2048];
};

static unsigned char fb_iobuf[FB_IOBUF];

static void	 sess_start(struct fb_sess *);
static void	 sess_fail(struct fb_sess *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 ctl_read_cb(evutil_socket_t, short, void *);
static void	 ctl_write_cb(evutil_socket_t, short, void *);
static void	 data_cb(evutil_socket_t, short, void *);
static void	 next_op(struct fb_sess *);
static void	 bench_check_done(struct fb_bench *);

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
lat_add(struct fb_lat *l, double ms)
{
	double	*nv;
	size_t	 ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 1024;
		if ((nv = realloc(l->v, ncap * sizeof(*nv))) == NULL)
			return;		/* a lost sample, not a lost run */
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = ms;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted samples; 0 when empty. */
static double
lat_pct(const struct fb_lat *l, double p)
{
	size_t	 i;

	if (l->n == 0)
		return 0;
	i = (size_t)ceil(p / 100.0 * l->n);
	if (i > 0)
		i--;
	if (i >= l->n)
		i = l->n - 1;
	return l->v[i];
}

static const char *
ssl_errstr(void)
{
	static char	 buf[256];
	unsigned long	 e;

	if ((e = ERR_get_error()) == 0)
		return errno ? strerror(errno) : "connection closed";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* Keeps a reply line printable for messages. */
static void
clean_line(char *s)
{
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s))
			*s = '?';
}

/*
 * Replaces the last run of '#' in pattern by idx, zero-padded to the
 * run's width ("small/f###" -> "small/f007").  No '#': pattern as is.
 */
static int
expand_path(const char *pat, unsigned long idx, char *out, size_t outlen)
{
	const char	*end, *start;
	char		 num[32];
	size_t		 width, nlen, pre, tail;
	int		 n;

	if ((end = strrchr(pat, '#')) == NULL)
		return str_copy(out, outlen, pat);
	start = end;
	while (start > pat && start[-1] == '#')
		start--;
	width = (size_t)(end - start) + 1;
	n = snprintf(num, sizeof(num), "%0*lu", (int)width, idx);
	if (n < 0 || (size_t)n >= sizeof(num))
		return -1;
	nlen = (size_t)n;
	pre = (size_t)(start - pat);
	tail = strlen(end + 1);
	if (pre + nlen + tail + 1 > outlen)
		return -1;
	memcpy(out, pat, pre);
	memcpy(out + pre, num, nlen);
	memcpy(out + pre + nlen, end + 1, tail + 1);
	return 0;
}

/* ---- session bookkeeping ---------------------------------------- */

static void
data_close(struct fb_sess *s)
{
	if (s->dev != NULL) {
		event_free(s->dev);
		s->dev = NULL;
	}
	if (s->dssl != NULL) {
		SSL_free(s->dssl);
		s->dssl = NULL;
	}
	if (s->dfd != -1) {
		close(s->dfd);
		s->dfd = -1;
	}
	s->ds = DS_OFF;
	s->dev_what = 0;
}

static void
ctl_close(struct fb_sess *s)
{
	data_close(s);
	if (s->rev != NULL) {
		event_free(s->rev);
		s->rev = NULL;
	}
	if (s->wev != NULL) {
		event_free(s->wev);
		s->wev = NULL;
	}
	if (s->ssl != NULL) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->probe_ev != NULL)
		event_del(s->probe_ev);
	s->cs = CS_OFF;
	s->rlen = s->wlen = s->woff = 0;
	s->multi = 0;
	s->hs_want_write = 0;
}

/* The session is over for good: nothing more will be started on it. */
static void
sess_finish(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;

	ctl_close(s);
	if (s->role == ROLE_PROBE)
		b->probe_up = 0;
	if (b->live > 0)
		b->live--;
	bench_check_done(b);
}

static void	 sess_error_msg(struct fb_sess *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
sess_error_msg(struct fb_sess *s, const char *fmt, va_list ap)
{
	struct fb_bench	*b = s->b;

	if (b->nerrmsg++ >= FB_ERRMSG_MAX) {
		if (b->nerrmsg == FB_ERRMSG_MAX + 1)
			fprintf(stderr, "ftpsbench: further errors not "
			    "shown\n");
		return;
	}
	fprintf(stderr, "ftpsbench: session %u: ", s->id);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Which modes start a new cycle on a session after a failed one. */
static int
mode_cycles(const struct fb_bench *b)
{
	return b->o.mode == FB_LOGINS;
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	sess_start(arg);
}

/*
 * One operation (transfer, login cycle, idle session) failed.  The
 * session ends; in logins mode the worker goes on with the next cycle.
 */
static void
sess_fail(struct fb_sess *s, const char *fmt, ...)
{
	struct fb_bench	*b = s->b;
	va_list		 ap;

	va_start(ap, fmt);
	sess_error_msg(s, fmt, ap);
	va_end(ap);
	if (s->role == ROLE_PROBE) {
		b->errors++;
		/* Failed before the workers started: nothing else will run. */
		if (!b->probe_up)
			b->live = 1;
		sess_finish(s);
		return;
	}
	b->errors++;
	if (b->o.mode == FB_IDLE) {
		if (s->established) {
			b->dropped++;
			s->established = 0;
		} else if (b->connecting > 0)
			b->connecting--;
	}
	if (mode_cycles(b) && !b->stopping) {
		struct timeval	 zero = { 0, 0 };

		/* Later, from the loop: a failing connect must not recurse. */
		ctl_close(s);
		if (event_base_once(b->base, -1, EV_TIMEOUT, restart_cb, s,
		    &zero) == 0)
			return;
	}
	sess_finish(s);
}

/* ---- control connection I/O -------------------------------------- */

static int
tcp_connect(struct fb_bench *b, unsigned port)
{
	struct sockaddr_storage	 ss = b->o.addr;
	int			 fd, one = 1;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, b->o.addrlen) == -1 &&
	    errno != EINPROGRESS) {
		int	 saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void
ctl_want_write(struct fb_sess *s)
{
	if (s->wev != NULL)
		event_add(s->wev, NULL);
}

/* Writes what wbuf holds; 0 when all of it went (or is queued), -1. */
static int
ctl_flush(struct fb_sess *s)
{
	ssize_t	 n;
	int	 r, e;

	while (s->woff < s->wlen) {
		if (s->ssl != NULL && s->cs != CS_AUTH) {
			ERR_clear_error();
			r = SSL_write(s->ssl, s->wbuf + s->woff,
			    (int)(s->wlen - s->woff));
			if (r <= 0) {
				e = SSL_get_error(s->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE) {
					ctl_want_write(s);
					return 0;
				}
				if (e == SSL_ERROR_WANT_READ)
					return 0;
				sess_fail(s, "control write: %s",
				    ssl_errstr());
				return -1;
			}
			s->woff += (size_t)r;
		} else {
			n = write(s->fd, s->wbuf + s->woff,
			    s->wlen - s->woff);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR) {
					ctl_want_write(s);
					return 0;
				}
				sess_fail(s, "control write: %s",
				    strerror(errno));
				return -1;
			}
			s->woff += (size_t)n;
		}
	}
	s->woff = s->wlen = 0;
	return 0;
}

static int	 ctl_send(struct fb_sess *, enum fb_cstate, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Sends one command and moves to state next; -1 if the session ended. */
static int
ctl_send(struct fb_sess *s, enum fb_cstate next, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (s->wlen != 0) {
		sess_fail(s, "internal: command queued twice");
		return -1;
	}
	va_start(ap, fmt);
	n = vsnprintf(s->wbuf, sizeof(s->wbuf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s->wbuf) - 2) {
		sess_fail(s, "command too long");
		return -1;
	}
	memcpy(s->wbuf + n, "\r\n", 2);
	s->wlen = (size_t)n + 2;
	s->woff = 0;
	s->cs = next;
	return ctl_flush(s);
}

static void
record_tls(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;

	if (b->tls_version[0] != '\0')
		return;
	str_copy(b->tls_version, sizeof(b->tls_version),
	    SSL_get_version(s->ssl));
	str_copy(b->tls_cipher, sizeof(b->tls_cipher),
	    SSL_get_cipher_name(s->ssl));
}

static int	 ctl_reply(struct fb_sess *, int, char *);

/* Drives the control TLS handshake; -1 if the session ended. */
static int
ctl_handshake(struct fb_sess *s)
{
	int	 r, e;

	ERR_clear_error();
	s->hs_want_write = 0;
	if ((r = SSL_connect(s->ssl)) == 1) {
		record_tls(s);
		if (s->b->o.implicit) {
			s->cs = CS_GREET;
			return 0;
		}
		return ctl_send(s, CS_USER, "USER %s", s->b->o.user);
	}
	e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return 0;
	if (e == SSL_ERROR_WANT_WRITE) {
		s->hs_want_write = 1;
		ctl_want_write(s);
		return 0;
	}
	sess_fail(s, "control TLS handshake: %s", ssl_errstr());
	return -1;
}

static int
ctl_start_tls(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;

	if ((s->ssl = SSL_new(b->ctx)) == NULL ||
	    SSL_set_fd(s->ssl, s->fd) != 1) {
		sess_fail(s, "SSL_new: %s", ssl_errstr());
		return -1;
	}
	SSL_set_mode(s->ssl, SSL_MODE_RELEASE_BUFFERS);
	s->cs = CS_HANDSHAKE;
	/* Nothing the server sent in clear after 234 is taken. */
	s->rlen = 0;
	s->multi = 0;
	return ctl_handshake(s);
}

/*
 * Splits rbuf into lines and hands each complete reply (the last line
 * of a multi-line one, RFC 959 section 4.2) to ctl_reply.  -1 if the
 * session ended or restarted.
 */
static int
ctl_parse(struct fb_sess *s)
{
	char	*nl, *line;
	size_t	 used;
	int	 code;

	for (;;) {
		if ((nl = memchr(s->rbuf, '\n', s->rlen)) == NULL) {
			if (s->rlen == sizeof(s->rbuf)) {
				sess_fail(s, "reply line over %zu bytes",
				    sizeof(s->rbuf));
				return -1;
			}
			return 0;
		}
		*nl = '\0';
		if (nl > s->rbuf && nl[-1] == '\r')
			nl[-1] = '\0';
		line = s->rbuf;
		used = (size_t)(nl - s->rbuf) + 1;
		code = -1;
		if (strlen(line) >= 3 && isdigit((unsigned char)line[0]) &&
		    isdigit((unsigned char)line[1]) &&
		    isdigit((unsigned char)line[2])) {
			if (s->multi) {
				if (memcmp(line, s->mcode, 3) == 0 &&
				    line[3] == ' ')
					code = (line[0] - '0') * 100 +
					    (line[1] - '0') * 10 +
					    (line[2] - '0');
			} else if (line[3] == '-') {
				s->multi = 1;
				memcpy(s->mcode, line, 3);
				s->mcode[3] = '\0';
			} else if (line[3] == ' ' || line[3] == '\0')
				code = (line[0] - '0') * 100 +
				    (line[1] - '0') * 10 + (line[2] - '0');
		} else if (!s->multi) {
			clean_line(line);
			sess_fail(s, "malformed reply \"%.80s\"", line);
			return -1;
		}
		if (code >= 0) {
			char	 copy[FB_LINE_MAX];

			s->multi = 0;
			memcpy(copy, line, strlen(line) + 1);
			memmove(s->rbuf, s->rbuf + used, s->rlen - used);
			s->rlen -= used;
			if (ctl_reply(s, code, copy) != 0)
				return -1;
			/* AUTH TLS restarted the reader: stop here. */
			if (s->cs == CS_HANDSHAKE)
				return 0;
			continue;
		}
		memmove(s->rbuf, s->rbuf + used, s->rlen - used);
		s->rlen -= used;
	}
}

static void
ctl_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_sess	*s = arg;
	ssize_t		 n;
	int		 r, e;

	if (s->cs == CS_CONNECT)
		return;		/* the write event reports the connect */
	if (s->cs == CS_HANDSHAKE) {
		if (ctl_handshake(s) != 0 || s->cs == CS_HANDSHAKE)
			return;
	}
	if (s->wlen != 0 && ctl_flush(s) != 0)
		return;
	for (;;) {
		if (s->rlen == sizeof(s->rbuf)) {
			sess_fail(s, "reply line over %zu bytes",
			    sizeof(s->rbuf));
			return;
		}
		if (s->ssl != NULL && s->cs != CS_AUTH) {
			ERR_clear_error();
			r = SSL_read(s->ssl, s->rbuf + s->rlen,
			    (int)(sizeof(s->rbuf) - s->rlen));
			if (r <= 0) {
				e = SSL_get_error(s->ssl, r);
				if (e == SSL_ERROR_WANT_READ)
					return;
				if (e == SSL_ERROR_WANT_WRITE) {
					ctl_want_write(s);
					return;
				}
				if (e == SSL_ERROR_ZERO_RETURN)
					goto eof;
				sess_fail(s, "control read: %s", ssl_errstr());
				return;
			}
			n = r;
		} else {
			n = read(fd, s->rbuf + s->rlen,
			    sizeof(s->rbuf) - s->rlen);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				sess_fail(s, "control read: %s",
				    strerror(errno));
				return;
			}
			if (n == 0)
				goto eof;
		}
		s->rlen += (size_t)n;
		if (ctl_parse(s) != 0)
			return;
		if (s->cs == CS_HANDSHAKE) {
			ctl_handshake(s);
			return;
		}
	}
 eof:
	if (s->cs == CS_QUIT) {
		/* Closed right after 221: fine. */
		ctl_close(s);
		return;
	}
	sess_fail(s, "server closed the control connection (after %s)",
	    fb_cstate_names[s->cs]);
}

static void
ctl_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_sess	*s = arg;
	socklen_t	 len;
	int		 err = 0;

	if (s->cs == CS_CONNECT) {
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			sess_fail(s, "connect: %s", strerror(err));
			return;
		}
		if (s->b->o.implicit)
			ctl_start_tls(s);
		else
			s->cs = CS_GREET;
		return;
	}
	if (s->cs == CS_HANDSHAKE) {
		ctl_handshake(s);
		return;
	}
	if (s->wlen != 0)
		ctl_flush(s);
}

/* ---- starting sessions and operations ----------------------------- */

static void
sess_start(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;

	if (b->stopping) {
		sess_finish(s);
		return;
	}
	if (b->o.mode == FB_LOGINS && s->role == ROLE_WORK) {
		if (b->started >= b->o.count) {
			sess_finish(s);
			return;
		}
		b->started++;
		if (b->t_first == 0)
			b->t_first = now();
	}
	s->op_t0 = now();
	s->established = 0;
	s->use_pasv = b->o.pasv;
	if ((s->fd = tcp_connect(b, b->o.port)) == -1) {
		sess_fail(s, "connect: %s", strerror(errno));
		return;
	}
	s->rev = event_new(b->base, s->fd, EV_READ | EV_PERSIST,
	    ctl_read_cb, s);
	s->wev = event_new(b->base, s->fd, EV_WRITE, ctl_write_cb, s);
	if (s->rev == NULL || s->wev == NULL ||
	    event_add(s->rev, NULL) != 0 || event_add(s->wev, NULL) != 0) {
		sess_fail(s, "event_new failed");
		return;
	}
	s->cs = CS_CONNECT;
}

static void
op_complete(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;
	double		 t = now();

	data_close(s);
	b->ok++;
	b->t_last = t;
	lat_add(&b->lat, (t - s->op_t0) * 1000.0);
	s->done++;
	s->cs = CS_READY;
	next_op(s);
}

static void
data_fail(struct fb_sess *s, const char *what)
{
	data_close(s);
	sess_fail(s, "data channel %s: %s", what, ssl_errstr());
}

static void
data_arm(struct fb_sess *s, short what)
{
	if (s->dev_what == what)
		return;
	if (s->dev != NULL)
		event_free(s->dev);
	s->dev = event_new(s->b->base, s->dfd, what | EV_PERSIST, data_cb, s);
	s->dev_what = what;
	if (s->dev == NULL || event_add(s->dev, NULL) != 0)
		data_fail(s, "event_new");
}

/* After a data SSL call failed with e: wait for what it wants, or fail. */
static void
data_retry(struct fb_sess *s, int e, const char *op)
{
	if (e == SSL_ERROR_WANT_READ)
		data_arm(s, EV_READ);
	else if (e == SSL_ERROR_WANT_WRITE)
		data_arm(s, EV_WRITE);
	else
		data_fail(s, op);
}

/*
 * Both halves of a transfer are in: the data channel closed and the
 * control said 226.  The byte count is judged only then, so a refusal
 * (522, 425) is reported with the server's own words.
 */
static void
xfer_done(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;
	uint64_t	 want = 0;
	int		 check = 0;

	if (b->o.mode == FB_DOWNLOAD && s->have_expect) {
		want = s->expect;
		check = 1;
	} else if (b->o.mode == FB_SMALL && b->o.have_size) {
		want = b->o.size;
		check = 1;
	}
	if (check && s->dbytes != want) {
		sess_fail(s, "%s: got %llu bytes, expected %llu", s->xcmd,
		    (unsigned long long)s->dbytes, (unsigned long long)want);
		return;
	}
	op_complete(s);
}

/* The data channel reached its end; the transfer ends with 226 too. */
static void
data_finished(struct fb_sess *s)
{
	data_close(s);
	s->data_done = 1;
	if (s->got_final)
		xfer_done(s);
}

static void
data_xfer(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;
	size_t		 len;
	int		 r, e, i;

	if (b->o.mode != FB_UPLOAD) {
		for (i = 0; i < FB_READ_BURST; i++) {
			ERR_clear_error();
			r = SSL_read(s->dssl, fb_iobuf, sizeof(fb_iobuf));
			if (r > 0) {
				s->dbytes += (uint64_t)r;
				b->bytes += (uint64_t)r;
				continue;
			}
			e = SSL_get_error(s->dssl, r);
			if (e == SSL_ERROR_ZERO_RETURN) {
				/*
				 * Our close_notify back, as curl sends it:
				 * an SSL freed without one marks its session
				 * not resumable, and under TLS 1.2 that
				 * session is the control connection's own,
				 * so the next data channel could not resume.
				 */
				ERR_clear_error();
				(void)SSL_shutdown(s->dssl);
				data_finished(s);
				return;
			}
			data_retry(s, e, "read");
			return;
		}
		return;		/* more next time round the loop */
	}
	for (i = 0; i < FB_READ_BURST && s->dleft > 0; i++) {
		len = s->dleft < sizeof(fb_iobuf) ? (size_t)s->dleft :
		    sizeof(fb_iobuf);
		ERR_clear_error();
		r = SSL_write(s->dssl, fb_iobuf, (int)len);
		if (r > 0) {
			s->dleft -= (uint64_t)r;
			s->dbytes += (uint64_t)r;
			b->bytes += (uint64_t)r;
			continue;
		}
		data_retry(s, SSL_get_error(s->dssl, r), "write");
		return;
	}
	if (s->dleft > 0)
		return;
	/*
	 * All sent: close_notify, then half-close and read to EOF, so no
	 * unread byte (a late TLS 1.3 ticket) turns our close into a RST
	 * that would cut the upload short at the server.
	 */
	ERR_clear_error();
	r = SSL_shutdown(s->dssl);
	if (r < 0) {
		data_retry(s, SSL_get_error(s->dssl, r), "close_notify");
		return;
	}
	shutdown(s->dfd, SHUT_WR);
	s->ds = DS_DRAIN;
	data_arm(s, EV_READ);
}

static void
data_drain(struct fb_sess *s)
{
	ssize_t	 n;
	int	 r, e, i;

	for (i = 0; i < FB_READ_BURST; i++) {
		ERR_clear_error();
		r = SSL_read(s->dssl, fb_iobuf, sizeof(fb_iobuf));
		if (r > 0)
			continue;
		e = SSL_get_error(s->dssl, r);
		if (e == SSL_ERROR_WANT_READ)
			return;
		if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ||
		    e == SSL_ERROR_SSL) {
			/* Upload delivered; drain the socket itself. */
			while ((n = read(s->dfd, fb_iobuf,
			    sizeof(fb_iobuf))) > 0)
				;
			if (n == -1 && errno == EAGAIN) {
				/* Wait for the FIN on a raw read. */
				SSL_free(s->dssl);
				s->dssl = NULL;
				return;
			}
			ERR_clear_error();
			data_finished(s);
			return;
		}
		return;
	}
}

static void
data_handshake(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;
	int		 r;

	ERR_clear_error();
	if ((r = SSL_connect(s->dssl)) == 1) {
		if (SSL_session_reused(s->dssl))
			b->resumed++;
		else
			b->fresh++;
		s->ds = DS_XFER;
		data_arm(s, b->o.mode == FB_UPLOAD ? EV_WRITE : EV_READ);
		if (s->ds == DS_XFER)
			data_xfer(s);
		return;
	}
	data_retry(s, SSL_get_error(s->dssl, r), "TLS handshake");
}

/* Data connection is up: send the command, start TLS. */
static void
data_connected(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;
	SSL_SESSION	*sess;

	if ((s->dssl = SSL_new(b->ctx)) == NULL ||
	    SSL_set_fd(s->dssl, s->dfd) != 1) {
		data_fail(s, "SSL_new");
		return;
	}
	SSL_set_read_ahead(s->dssl, 1);
	SSL_set_default_read_buffer_len(s->dssl, 64 * 1024);
	/*
	 * RFC 4217 section 10.2: the data channel resumes the session of
	 * its own control connection.  Taken anew each time so the newest
	 * TLS 1.3 ticket is used.
	 */
	if (!b->o.no_reuse && (sess = SSL_get1_session(s->ssl)) != NULL) {
		SSL_set_session(s->dssl, sess);
		SSL_SESSION_free(sess);
	}
	s->ds = DS_HANDSHAKE;
	if (ctl_send(s, CS_XFER, "%s", s->xcmd) != 0)
		return;
	data_handshake(s);
}

static void
data_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_sess	*s = arg;
	socklen_t	 len;
	ssize_t		 n;
	int		 err = 0;

	switch (s->ds) {
	case DS_CONNECT:
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			data_close(s);
			sess_fail(s, "data connect: %s", strerror(err));
			return;
		}
		data_connected(s);
		break;
	case DS_HANDSHAKE:
		data_handshake(s);
		break;
	case DS_XFER:
		data_xfer(s);
		break;
	case DS_DRAIN:
		if (s->dssl != NULL) {
			data_drain(s);
			break;
		}
		while ((n = read(fd, fb_iobuf, sizeof(fb_iobuf))) > 0)
			;
		if (n == -1 && errno == EAGAIN)
			break;
		data_finished(s);
		break;
	case DS_OFF:
		break;
	}
}

static void
data_open(struct fb_sess *s, unsigned port)
{
	s->got_final = s->data_done = 0;
	s->dbytes = 0;
	if ((s->dfd = tcp_connect(s->b, port)) == -1) {
		sess_fail(s, "data connect: %s", strerror(errno));
		return;
	}
	s->ds = DS_CONNECT;
	data_arm(s, EV_WRITE);
}

/* Starts the next operation of a logged-in session, or ends it. */
static void
next_op(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;
	unsigned long	 idx;
	char		 path[FB_PATH_MAX];

	if (b->stopping || s->done >= s->target) {
		ctl_send(s, CS_QUIT, "QUIT");
		return;
	}
	s->op_t0 = now();
	if (b->t_first == 0)
		b->t_first = s->op_t0;
	switch (b->o.mode) {
	case FB_DOWNLOAD:
		idx = s->done;
		break;
	case FB_UPLOAD:
		idx = (unsigned long)s->id * s->target + s->done;
		break;
	case FB_SMALL:
		idx = s->done;
		break;
	default:
		sess_fail(s, "internal: no operation in this mode");
		return;
	}
	if (expand_path(b->o.path, idx, path, sizeof(path)) != 0) {
		sess_fail(s, "path too long");
		return;
	}
	snprintf(s->xcmd, sizeof(s->xcmd), "%s %s",
	    b->o.mode == FB_UPLOAD ? "STOR" : "RETR", path);
	if (b->o.mode == FB_UPLOAD)
		s->dleft = b->o.size;
	if (b->o.mode == FB_DOWNLOAD) {
		ctl_send(s, CS_SIZE, "SIZE %s", path);
		return;
	}
	if (s->use_pasv)
		ctl_send(s, CS_PASV, "PASV");
	else
		ctl_send(s, CS_EPSV, "EPSV");
}

/* "229 Entering Extended Passive Mode (|||6446|)", RFC 2428 section 3. */
static int
parse_epsv(const char *line, unsigned *port)
{
	const char	*p, *q;
	char		 num[8];
	unsigned long	 v;
	char		 d;

	if ((p = strchr(line, '(')) == NULL || p[1] == '\0')
		return -1;
	d = p[1];
	if (p[2] != d || p[3] != d)
		return -1;
	p += 4;
	if ((q = strchr(p, d)) == NULL || q == p ||
	    (size_t)(q - p) >= sizeof(num))
		return -1;
	memcpy(num, p, (size_t)(q - p));
	num[q - p] = '\0';
	if (parse_uint(num, 1, 65535, &v) != 0)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/*
 * "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)".  The address is
 * ignored: the data connection goes to the control's address, like
 * curl's default (--ftp-skip-pasv-ip).
 */
static int
parse_pasv(const char *line, unsigned *port)
{
	const char	*p;
	unsigned long	 v[6];
	char		 num[8];
	size_t		 k;
	int		 i;

	for (p = line + 4; *p != '\0' && !isdigit((unsigned char)*p); p++)
		;
	for (i = 0; i < 6; i++) {
		for (k = 0; isdigit((unsigned char)p[k]) && k < 4; k++)
			num[k] = p[k];
		num[k] = '\0';
		if (k == 0 || parse_uint(num, 0, 255, &v[i]) != 0)
			return -1;
		p += k;
		if (i < 5 && *p++ != ',')
			return -1;
	}
	*port = (unsigned)(v[4] * 256 + v[5]);
	return *port == 0 ? -1 : 0;
}

static void
probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_sess	*s = arg;

	if (s->cs != CS_READY)
		return;
	s->op_t0 = now();
	ctl_send(s, CS_PROBE, "NOOP");
}

static void	 bench_start_workers(struct fb_bench *);

/* Logged in, PBSZ/PROT/TYPE/NOOP done. */
static void
sess_ready(struct fb_sess *s)
{
	struct fb_bench	*b = s->b;
	struct timeval	 tv = { 0, 20000 };

	s->cs = CS_READY;
	if (s->role == ROLE_PROBE) {
		if (!b->probe_up) {
			b->probe_up = 1;
			bench_start_workers(b);
		}
		if (b->live <= 1 && b->started >= b->o.count) {
			ctl_send(s, CS_QUIT, "QUIT");
			return;
		}
		event_add(s->probe_ev, &tv);
		return;
	}
	if (b->o.mode == FB_IDLE) {
		if (!s->established) {
			s->established = 1;
			lat_add(&b->lat, (now() - s->op_t0) * 1000.0);
			b->ok++;
			if (b->connecting > 0)
				b->connecting--;
			bench_check_done(b);
		}
		return;
	}
	next_op(s);
}

/*
 * One complete reply.  Returns -1 when the session ended or restarted
 * (s's connection is gone), else 0.
 */
static int
ctl_reply(struct fb_sess *s, int code, char *line)
{
	struct fb_bench	*b = s->b;
	unsigned	 port;

	clean_line(line);
	switch (s->cs) {
	case CS_GREET:
		if (code == 120)
			return 0;
		if (code != 220)
			goto bad;
		if (b->o.implicit)
			return ctl_send(s, CS_USER, "USER %s", b->o.user);
		return ctl_send(s, CS_AUTH, "AUTH TLS");
	case CS_AUTH:
		if (code != 234)
			goto bad;
		return ctl_start_tls(s);
	case CS_USER:
		if (code == 230)
			goto logged_in;
		if (code != 331)
			goto bad;
		return ctl_send(s, CS_PASS, "PASS %s", b->o.pass);
	case CS_PASS:
		if (code != 230)
			goto bad;
 logged_in:
		if (b->o.mode == FB_LOGINS && s->role == ROLE_WORK)
			return ctl_send(s, CS_QUIT, "QUIT");
		return ctl_send(s, CS_PBSZ, "PBSZ 0");
	case CS_PBSZ:
		if (code != 200)
			goto bad;
		return ctl_send(s, CS_PROT, "PROT P");
	case CS_PROT:
		if (code != 200)
			goto bad;
		return ctl_send(s, CS_TYPE, "TYPE I");
	case CS_TYPE:
		if (code != 200)
			goto bad;
		/*
		 * A TLS 1.3 server sends its session tickets after the
		 * handshake; a round trip here makes sure they were read
		 * before a data channel wants to resume the session.
		 */
		return ctl_send(s, CS_NOOP0, "NOOP");
	case CS_NOOP0:
		if (code != 200)
			goto bad;
		sess_ready(s);
		return s->fd == -1 ? -1 : 0;
	case CS_SIZE:
		s->have_expect = 0;
		if (code == 213) {
			unsigned long	 v;
			char		 num[24];
			const char	*p = line + 4;
			size_t		 k;

			for (k = 0; k < sizeof(num) - 1 &&
			    isdigit((unsigned char)p[k]); k++)
				num[k] = p[k];
			num[k] = '\0';
			if (parse_uint(num, 0, ULONG_MAX, &v) != 0)
				goto bad;
			s->expect = v;
			s->have_expect = 1;
		}
		/* Some servers refuse SIZE: the transfer goes on unchecked. */
		s->cs = CS_READY;
		s->op_t0 = now();
		if (s->use_pasv)
			return ctl_send(s, CS_PASV, "PASV");
		return ctl_send(s, CS_EPSV, "EPSV");
	case CS_EPSV:
		if (code >= 500 && code != 229) {
			s->use_pasv = 1;
			return ctl_send(s, CS_PASV, "PASV");
		}
		if (code != 229 || parse_epsv(line, &port) != 0)
			goto bad;
		data_open(s, port);
		return s->fd == -1 ? -1 : 0;
	case CS_PASV:
		if (code != 227 || parse_pasv(line, &port) != 0)
			goto bad;
		data_open(s, port);
		return s->fd == -1 ? -1 : 0;
	case CS_XFER:
		if (code == 150 || code == 125)
			return 0;
		if (code != 226 && code != 250)
			goto bad;
		s->got_final = 1;
		if (s->data_done) {
			xfer_done(s);
			return s->fd == -1 ? -1 : 0;
		}
		return 0;
	case CS_PROBE:
		if (code != 200)
			goto bad;
		lat_add(&b->probe_lat, (now() - s->op_t0) * 1000.0);
		sess_ready(s);
		return s->fd == -1 ? -1 : 0;
	case CS_CHECK:
		if (code != 200)
			goto bad;
		s->established = 0;
		return ctl_send(s, CS_QUIT, "QUIT");
	case CS_QUIT:
		if (code != 221)
			goto bad;
		if (b->o.mode == FB_LOGINS && s->role == ROLE_WORK) {
			double	 t = now();

			b->ok++;
			b->t_last = t;
			lat_add(&b->lat, (t - s->op_t0) * 1000.0);
			ctl_close(s);
			sess_start(s);
			return -1;
		}
		sess_finish(s);
		return -1;
	case CS_READY:
		/* An unsolicited reply: 421 before a timeout close. */
		goto bad;
	default:
		goto bad;
	}
 bad:
	sess_fail(s, "unexpected reply to %s: \"%.120s\"",
	    s->cs == CS_XFER ? s->xcmd : fb_cstate_names[s->cs], line);
	return -1;
}

/* ---- the run as a whole ----------------------------------------- */

static void
bench_stop(struct fb_bench *b)
{
	unsigned	 i;

	b->stopping = 1;
	for (i = 0; i < b->nsess; i++) {
		struct fb_sess	*s = b->sess[i];

		if (s->cs == CS_OFF)
			continue;
		/* Counted: each unfinished operation is an error. */
		if (b->o.mode != FB_IDLE || !s->established)
			b->errors++;
		ctl_close(s);
	}
	b->live = 0;
	event_base_loopexit(b->base, NULL);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_bench	*b = arg;

	fprintf(stderr, "ftpsbench: --max-seconds %.0f reached, "
	    "stopping\n", b->o.max_seconds);
	b->timed_out = 1;
	bench_stop(b);
}

static void
sig_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_bench	*b = arg;

	fprintf(stderr, "ftpsbench: interrupted, stopping\n");
	bench_stop(b);
}

static void	 hold_cb(evutil_socket_t, short, void *);

/*
 * SIGUSR1 ends the idle hold early: scripts/bench holds the sessions for
 * as long as it takes to measure the server, then lets them go.
 */
static void
usr1_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_bench	*b = arg;

	if (b->holding) {
		event_del(b->hold_ev);
		hold_cb(-1, EV_TIMEOUT, b);
	} else
		b->release = 1;
}

/* Idle: the hold time is over; check each session answers, then QUIT. */
static void
hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fb_bench	*b = arg;
	unsigned	 i;

	b->holding = 0;
	for (i = 0; i < b->nsess; i++) {
		struct fb_sess	*s = b->sess[i];

		if (s->cs == CS_READY && s->established)
			ctl_send(s, CS_CHECK, "NOOP");
	}
}

static void
write_ready_file(struct fb_bench *b)
{
	char	 tmp[PATH_MAX];
	FILE	*f;

	if (b->o.ready_file == NULL)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", b->o.ready_file) >=
	    (int)sizeof(tmp)) {
		fprintf(stderr, "ftpsbench: --ready-file path too long\n");
		return;
	}
	if ((f = fopen(tmp, "w")) == NULL) {
		fprintf(stderr, "ftpsbench: %s: %s\n", tmp, strerror(errno));
		return;
	}
	fprintf(f, "established=%lu errors=%lu\n", b->established,
	    b->errors);
	if (fclose(f) != 0 || rename(tmp, b->o.ready_file) != 0)
		fprintf(stderr, "ftpsbench: %s: %s\n", b->o.ready_file,
		    strerror(errno));
}

static void
bench_check_done(struct fb_bench *b)
{
	unsigned	 i;

	/* A session failing at once inside the ramp comes back here. */
	if (b->in_check)
		return;
	b->in_check = 1;
	if (b->o.mode == FB_IDLE && !b->stopping) {
		/* Ramp: keep up to --ramp logins in flight. */
		while (b->connecting < b->o.ramp && b->started < b->nsess) {
			struct fb_sess	*s = b->sess[b->started++];

			b->connecting++;
			sess_start(s);
		}
		if (b->connecting == 0 && b->started == b->nsess &&
		    b->t_ready == 0) {
			struct timeval	 tv;

			b->t_ready = now();
			b->established = 0;
			for (i = 0; i < b->nsess; i++)
				if (b->sess[i]->established)
					b->established++;
			if (!b->o.quiet)
				fprintf(stderr, "ftpsbench: idle: %lu "
				    "sessions logged in after %.1f s, "
				    "holding %.0f s\n", b->established,
				    b->t_ready - b->t_start, b->o.hold);
			write_ready_file(b);
			if (b->established == 0)
				goto probe;
			tv.tv_sec = (time_t)b->o.hold;
			tv.tv_usec = (suseconds_t)((b->o.hold -
			    (double)tv.tv_sec) * 1e6);
			if (b->release)
				tv.tv_sec = tv.tv_usec = 0;
			b->holding = 1;
			event_add(b->hold_ev, &tv);
		}
	}
 probe:
	if (b->o.mode == FB_LOGINS && b->probe_up) {
		/* Only the probe left: let it go. */
		for (i = 0; i < b->nsess; i++) {
			struct fb_sess	*s = b->sess[i];

			if (s->role == ROLE_PROBE && b->live == 1 &&
			    b->started >= b->o.count && s->cs == CS_READY) {
				event_del(s->probe_ev);
				ctl_send(s, CS_QUIT, "QUIT");
			}
		}
	}
	b->in_check = 0;
	if (b->live == 0)
		event_base_loopexit(b->base, NULL);
}

static void
bench_start_workers(struct fb_bench *b)
{
	unsigned	 i;

	for (i = 0; i < b->nsess; i++)
		if (b->sess[i]->role == ROLE_WORK)
			sess_start(b->sess[i]);
}

static struct fb_sess *
sess_new(struct fb_bench *b, unsigned id, enum fb_role role)
{
	struct fb_sess	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->b = b;
	s->id = id;
	s->role = role;
	s->fd = s->dfd = -1;
	s->cs = CS_OFF;
	s->ds = DS_OFF;
	if (role == ROLE_PROBE &&
	    (s->probe_ev = evtimer_new(b->base, probe_cb, s)) == NULL) {
		free(s);
		return NULL;
	}
	switch (b->o.mode) {
	case FB_DOWNLOAD:
	case FB_UPLOAD:
	case FB_SMALL:
		s->target = b->o.count;
		break;
	default:
		s->target = 0;
		break;
	}
	return s;
}

/* ---- procstat: memory and CPU of a process tree ------------------- */

struct ps_proc {
	pid_t	 pid, ppid;
	double	 cpu;		/* utime + stime + cutime + cstime, s */
	double	 cpu_children;	/* cutime + cstime, s */
};

static int
ps_read_stat(pid_t pid, struct ps_proc *p)
{
	char		 path[64], buf[2048], *q, *f[64];
	long		 tck = sysconf(_SC_CLK_TCK);
	ssize_t		 n;
	int		 fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The name may hold blanks and ')': fields start after the last ')'. */
	if ((q = strrchr(buf, ')')) == NULL)
		return -1;
	q++;
	for (i = 0; i < 64 && (q = strtok(i == 0 ? q : NULL, " ")) != NULL;
	    i++)
		f[i] = q;
	/* f[0] is field 3 (state); ppid 4, utime 14 .. cstime 17. */
	if (i < 15)
		return -1;
	p->pid = pid;
	p->ppid = (pid_t)strtol(f[1], NULL, 10);
	p->cpu_children = (strtod(f[13], NULL) + strtod(f[14], NULL)) /
	    (double)tck;
	p->cpu = (strtod(f[11], NULL) + strtod(f[12], NULL)) / (double)tck +
	    p->cpu_children;
	return 0;
}

/* "Pss:" and "Rss:" of /proc/PID/smaps_rollup, KiB. */
static void
ps_read_mem(pid_t pid, unsigned long long *pss, unsigned long long *rss)
{
	char		 path[64], line[256];
	FILE		*f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Pss:", 4) == 0)
			*pss += strtoull(line + 4, NULL, 10);
		else if (strncmp(line, "Rss:", 4) == 0)
			*rss += strtoull(line + 4, NULL, 10);
	}
	fclose(f);
}

static unsigned long
ps_count_fds(pid_t pid)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;
	unsigned long	 n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Prints "procs= pss_kib= rss_kib= cpu_s= fds=" for pid and all its
 * descendants.  CPU counts each live process's own time plus what its
 * reaped children used (cutime/cstime), so sessions that came and went
 * are in the sum as long as their parent in the tree reaped them.
 */
static int
procstat(pid_t root, int below)
{
	struct ps_proc		*all = NULL, *nv;
	size_t			 n = 0, cap = 0, i, pidmax;
	unsigned char		*in;
	DIR			*d;
	struct dirent		*de;
	unsigned long		 v, procs = 0, fds = 0;
	unsigned long long	 pss = 0, rss = 0;
	double			 cpu = 0;
	int			 changed;

	if ((d = opendir("/proc")) == NULL) {
		fprintf(stderr, "ftpsbench: /proc: %s\n", strerror(errno));
		return 2;
	}
	while ((de = readdir(d)) != NULL) {
		if (parse_uint(de->d_name, 1, INT_MAX, &v) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nv = realloc(all, cap * sizeof(*all))) == NULL) {
				closedir(d);
				free(all);
				fprintf(stderr, "ftpsbench: out of memory\n");
				return 2;
			}
			all = nv;
		}
		if (ps_read_stat((pid_t)v, &all[n]) == 0)
			n++;
	}
	closedir(d);
	/* in[pid]: pid is root or below it. */
	pidmax = 4194304;	/* PID_MAX_LIMIT of 64-bit Linux */
	if ((in = calloc(pidmax + 1, 1)) == NULL) {
		free(all);
		fprintf(stderr, "ftpsbench: out of memory\n");
		return 2;
	}
	if ((size_t)root <= pidmax)
		in[root] = 1;
	/* One pass per tree level until nothing changes. */
	do {
		changed = 0;
		for (i = 0; i < n; i++)
			if ((size_t)all[i].pid <= pidmax &&
			    (size_t)all[i].ppid <= pidmax &&
			    all[i].ppid > 0 && !in[all[i].pid] &&
			    in[all[i].ppid]) {
				in[all[i].pid] = 1;
				changed = 1;
			}
	} while (changed);
	for (i = 0; i < n; i++) {
		if ((size_t)all[i].pid > pidmax || !in[all[i].pid])
			continue;
		if (below && all[i].pid == root) {
			/* The reaper: only what its reaped children used. */
			cpu += all[i].cpu_children;
			continue;
		}
		procs++;
		cpu += all[i].cpu;
		ps_read_mem(all[i].pid, &pss, &rss);
		fds += ps_count_fds(all[i].pid);
	}
	free(in);
	free(all);
	if (procs == 0 && !below) {
		fprintf(stderr, "ftpsbench: procstat: no process %d\n",
		    (int)root);
		return 1;
	}
	printf("procs=%lu pss_kib=%llu rss_kib=%llu cpu_s=%.2f fds=%lu\n",
	    procs, pss, rss, cpu, fds);
	return 0;
}

/* ---- reaper: a parent that keeps every descendant's CPU ------------ */

static volatile sig_atomic_t reaper_sig;

static void
reaper_on_sig(int sig)
{
	reaper_sig = sig;
}

/*
 * Runs argv as a child and becomes the subreaper of everything below it
 * (PR_SET_CHILD_SUBREAPER): a session process whose parent exited first
 * is reparented here instead of to init, and reaped here, so its CPU time
 * lands in this process's cutime/cstime.  "procstat --below" of this PID
 * is then the whole cost of a forking server, dead processes included.
 * SIGTERM, SIGINT and SIGHUP are passed to the child.  Exits with the
 * child's status once no descendant is left.
 */
static int
reaper(char **argv)
{
	struct sigaction	 sa;
	pid_t			 child, p;
	int			 status, rc = 1, child_done = 0;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		fprintf(stderr, "ftpsbench: reaper: PR_SET_CHILD_SUBREAPER: "
		    "%s\n", strerror(errno));
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = reaper_on_sig;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: waitpid returns EINTR and the signal is passed on. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if ((child = fork()) == -1) {
		fprintf(stderr, "ftpsbench: reaper: fork: %s\n",
		    strerror(errno));
		return 2;
	}
	if (child == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "ftpsbench: reaper: %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	for (;;) {
		if (reaper_sig != 0) {
			if (!child_done)
				kill(child, reaper_sig);
			reaper_sig = 0;
		}
		p = waitpid(-1, &status, 0);
		if (p == -1) {
			if (errno == EINTR)
				continue;
			break;		/* ECHILD: nothing left below */
		}
		if (p == child) {
			child_done = 1;
			rc = WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
		}
	}
	return rc;
}

/* ---- command line ------------------------------------------------ */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: ftpsbench MODE [options]\n"
"       ftpsbench procstat [--below] PID\n"
"       ftpsbench reaper [--] COMMAND [ARG...]\n"
"MODE is one of:\n"
"  download     N clients (-c) each RETR the file -f, -n times\n"
"  upload       N clients each STOR -s bytes to -f, -n times\n"
"  small-files  N sessions each RETR -n files named by -f (### = index)\n"
"  logins       -n cycles of connect+TLS+USER/PASS+QUIT, -c in parallel\n"
"  idle         hold -n logged-in TLS sessions for -t seconds\n"
"  procstat     print procs, PSS, RSS, CPU and fds of PID and children\n"
"               (--below: of its descendants only, plus the CPU of the\n"
"               children it reaped)\n"
"  reaper       run COMMAND below a subreaper that reaps every orphaned\n"
"               descendant, so procstat --below counts their CPU\n"
"options:\n"
"  -H, --host ADDR        loopback address only (default 127.0.0.1)\n"
"  -p, --port PORT        control port (default 21)\n"
"      --implicit         TLS from the first byte (default: AUTH TLS)\n"
"  -u, --user NAME        user name (default: ftpsbench)\n"
"      --password-file F  first line of F is the password; else the\n"
"                         FTPSBENCH_PASSWORD environment variable\n"
"  -c, --clients N        parallel sessions (default 1)\n"
"  -n, --count N          transfers per client, files, logins or idle\n"
"                         sessions (default 1, 100 files, 100 logins,\n"
"                         100 sessions)\n"
"  -f, --file PATH        remote path; a run of '#' becomes the index\n"
"  -s, --size BYTES       upload size, or expected size of small files\n"
"                         (suffixes K, M, G: powers of 1024)\n"
"  -t, --hold SECONDS     idle: how long to hold the sessions (10)\n"
"      --ramp N           idle: logins in flight at once (64)\n"
"      --ready-file F     idle: write F once every session is up;\n"
"                         SIGUSR1 ends the hold early\n"
"      --probe            logins: one more session sends NOOP every\n"
"                         20 ms and reports its reply latency\n"
"      --max-seconds S    hard stop for the whole run (default 300)\n"
"      --tls-max 1.2|1.3  highest TLS version offered\n"
"      --pasv             PASV instead of EPSV\n"
"      --no-reuse         data channels do not resume the control's\n"
"                         TLS session (servers requiring reuse refuse)\n"
"  -q, --quiet            only the result line on stdout\n");
}

static int
parse_size(const char *arg, uint64_t *out)
{
	char		 num[32];
	size_t		 len = strlen(arg);
	unsigned long	 v, mul = 1;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, arg, len + 1);
	switch (num[len - 1]) {
	case 'K': case 'k':
		mul = 1024UL;
		break;
	case 'M': case 'm':
		mul = 1024UL * 1024;
		break;
	case 'G': case 'g':
		mul = 1024UL * 1024 * 1024;
		break;
	}
	if (mul != 1)
		num[len - 1] = '\0';
	if (parse_uint(num, 0, ULONG_MAX / mul, &v) != 0)
		return -1;
	*out = (uint64_t)v * mul;
	return 0;
}

static int
parse_seconds(const char *arg, double min, double max, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v >= min) ||
	    !(v <= max))
		return -1;
	*out = v;
	return 0;
}

/* SECURITY: a load generator must never be aimed at someone else. */
static int
set_host(struct fb_opts *o, const char *host)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&o->addr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&o->addr;

	memset(&o->addr, 0, sizeof(o->addr));
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
			fprintf(stderr, "ftpsbench: %s is not a loopback "
			    "address (127.0.0.0/8 or ::1 only)\n", host);
			return -1;
		}
		sin->sin_family = AF_INET;
		o->addrlen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
			fprintf(stderr, "ftpsbench: %s is not a loopback "
			    "address (127.0.0.0/8 or ::1 only)\n", host);
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		o->addrlen = sizeof(*sin6);
	} else {
		fprintf(stderr, "ftpsbench: --host %s: not a numeric address "
		    "(127.0.0.1, ::1 or localhost)\n", host);
		return -1;
	}
	return str_copy(o->host, sizeof(o->host), host);
}

static int
read_password(struct fb_opts *o, const char *file)
{
	char	 line[1024];
	FILE	*f;
	size_t	 len;
	const char *env;

	if (file != NULL) {
		if ((f = fopen(file, "r")) == NULL) {
			fprintf(stderr, "ftpsbench: --password-file %s: %s\n",
			    file, strerror(errno));
			return -1;
		}
		if (fgets(line, sizeof(line), f) == NULL) {
			fclose(f);
			fprintf(stderr, "ftpsbench: --password-file %s: "
			    "empty\n", file);
			return -1;
		}
		fclose(f);
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		o->pass = strdup(line);
	} else if ((env = getenv("FTPSBENCH_PASSWORD")) != NULL)
		o->pass = strdup(env);
	else {
		fprintf(stderr, "ftpsbench: no password: use --password-file "
		    "or FTPSBENCH_PASSWORD\n");
		return -1;
	}
	if (o->pass == NULL) {
		fprintf(stderr, "ftpsbench: out of memory\n");
		return -1;
	}
	if (strpbrk(o->pass, "\r\n") != NULL || o->pass[0] == '\0') {
		fprintf(stderr, "ftpsbench: the password is empty or holds "
		    "a line break\n");
		return -1;
	}
	return 0;
}

static int
parse_count(const char *opt, const char *arg, unsigned long max,
    unsigned long *out)
{
	if (parse_uint(arg, 1, max, out) != 0) {
		fprintf(stderr, "ftpsbench: %s %s: want a whole number from 1 "
		    "to %lu\n", opt, arg, max);
		return -1;
	}
	return 0;
}

static int
parse_opts(struct fb_bench *b, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host",	  required_argument, NULL, 'H' },
		{ "port",	  required_argument, NULL, 'p' },
		{ "implicit",	  no_argument,	     NULL, 'I' },
		{ "user",	  required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "clients",	  required_argument, NULL, 'c' },
		{ "count",	  required_argument, NULL, 'n' },
		{ "file",	  required_argument, NULL, 'f' },
		{ "size",	  required_argument, NULL, 's' },
		{ "hold",	  required_argument, NULL, 't' },
		{ "ramp",	  required_argument, NULL, 'R' },
		{ "ready-file",	  required_argument, NULL, 'r' },
		{ "probe",	  no_argument,	     NULL, 'B' },
		{ "max-seconds",  required_argument, NULL, 'M' },
		{ "tls-max",	  required_argument, NULL, 'T' },
		{ "pasv",	  no_argument,	     NULL, 'A' },
		{ "no-reuse",	  no_argument,	     NULL, 'N' },
		{ "quiet",	  no_argument,	     NULL, 'q' },
		{ "help",	  no_argument,	     NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct fb_opts	*o = &b->o;
	const char	*pwfile = NULL, *host = "127.0.0.1";
	unsigned long	 v;
	size_t		 i, off = 0;
	int		 ch, have_count = 0;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		exit(argc < 2 ? 2 : 0);
	}
	for (i = 0; i < sizeof(fb_mode_names) / sizeof(fb_mode_names[0]);
	    i++)
		if (strcmp(argv[1], fb_mode_names[i]) == 0)
			break;
	if (i == sizeof(fb_mode_names) / sizeof(fb_mode_names[0])) {
		fprintf(stderr, "ftpsbench: unknown mode \"%s\"\n", argv[1]);
		usage(stderr);
		return -1;
	}
	o->mode = (enum fb_mode)i;
	if (o->mode == FB_PROCSTAT) {
		i = 2;
		if (argc == 4 && strcmp(argv[2], "--below") == 0) {
			o->below = 1;
			i = 3;
		}
		if ((size_t)argc != i + 1 ||
		    parse_uint(argv[i], 1, INT_MAX, &v) != 0) {
			fprintf(stderr, "ftpsbench: procstat wants [--below] "
			    "PID\n");
			return -1;
		}
		o->pid = (pid_t)v;
		return 0;
	}
	if (o->mode == FB_REAPER) {
		i = (argc > 2 && strcmp(argv[2], "--") == 0) ? 3 : 2;
		if ((size_t)argc <= i) {
			fprintf(stderr, "ftpsbench: reaper wants a command\n");
			return -1;
		}
		o->argv = argv + i;
		return 0;
	}
	o->port = 21;
	o->user = "ftpsbench";
	o->clients = 1;
	o->count = 1;
	o->max_seconds = 300;
	o->hold = 10;
	o->ramp = 64;
	for (i = 0; i < (size_t)argc && off < sizeof(b->cmdline) - 1; i++)
		off += (size_t)snprintf(b->cmdline + off,
		    sizeof(b->cmdline) - off, "%s%s", i ? " " : "", argv[i]);
	optind = 2;
	while ((ch = getopt_long(argc, argv, "H:p:u:c:n:f:s:t:qh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			if (parse_count("--port", optarg, 65535, &v) != 0)
				return -1;
			o->port = (unsigned)v;
			break;
		case 'I':
			o->implicit = 1;
			break;
		case 'u':
			if (optarg[0] == '\0' ||
			    strpbrk(optarg, "\r\n") != NULL) {
				fprintf(stderr, "ftpsbench: --user: empty or "
				    "holds a line break\n");
				return -1;
			}
			o->user = optarg;
			break;
		case 'P':
			pwfile = optarg;
			break;
		case 'c':
			if (parse_count("--clients", optarg, FB_MAX_SESSIONS,
			    &v) != 0)
				return -1;
			o->clients = (unsigned)v;
			break;
		case 'n':
			if (parse_count("--count", optarg, FB_MAX_COUNT,
			    &o->count) != 0)
				return -1;
			have_count = 1;
			break;
		case 'f':
			if (optarg[0] == '\0' || strlen(optarg) >= FB_PATH_MAX ||
			    strpbrk(optarg, "\r\n") != NULL) {
				fprintf(stderr, "ftpsbench: --file: empty, "
				    "too long or holds a line break\n");
				return -1;
			}
			o->path = optarg;
			break;
		case 's':
			if (parse_size(optarg, &o->size) != 0) {
				fprintf(stderr, "ftpsbench: --size %s: want "
				    "bytes with an optional K, M or G\n",
				    optarg);
				return -1;
			}
			o->have_size = 1;
			break;
		case 't':
			if (parse_seconds(optarg, 0, 86400, &o->hold) != 0) {
				fprintf(stderr, "ftpsbench: --hold %s: want "
				    "seconds from 0 to 86400\n", optarg);
				return -1;
			}
			break;
		case 'R':
			if (parse_count("--ramp", optarg, 10000, &v) != 0)
				return -1;
			o->ramp = (unsigned)v;
			break;
		case 'r':
			o->ready_file = optarg;
			break;
		case 'B':
			o->probe = 1;
			break;
		case 'M':
			if (parse_seconds(optarg, 1, 86400,
			    &o->max_seconds) != 0) {
				fprintf(stderr, "ftpsbench: --max-seconds %s: "
				    "want seconds from 1 to 86400\n", optarg);
				return -1;
			}
			break;
		case 'T':
			if (strcmp(optarg, "1.2") == 0)
				o->tls_max = TLS1_2_VERSION;
			else if (strcmp(optarg, "1.3") == 0)
				o->tls_max = TLS1_3_VERSION;
			else {
				fprintf(stderr, "ftpsbench: --tls-max %s: want "
				    "1.2 or 1.3\n", optarg);
				return -1;
			}
			break;
		case 'A':
			o->pasv = 1;
			break;
		case 'N':
			o->no_reuse = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ftpsbench: unexpected argument \"%s\"\n",
		    argv[optind]);
		return -1;
	}
	if (set_host(o, host) != 0)
		return -1;
	if (!have_count && (o->mode == FB_SMALL || o->mode == FB_LOGINS ||
	    o->mode == FB_IDLE))
		o->count = 100;
	switch (o->mode) {
	case FB_DOWNLOAD:
	case FB_SMALL:
		if (o->path == NULL) {
			fprintf(stderr, "ftpsbench: %s needs --file\n",
			    fb_mode_names[o->mode]);
			return -1;
		}
		break;
	case FB_UPLOAD:
		if (o->path == NULL)
			o->path = "ftpsbench-upload-####.bin";
		if (!o->have_size) {
			fprintf(stderr, "ftpsbench: upload needs --size\n");
			return -1;
		}
		break;
	case FB_IDLE:
		if (o->count > FB_MAX_SESSIONS) {
			fprintf(stderr, "ftpsbench: idle: at most %d "
			    "sessions\n", FB_MAX_SESSIONS);
			return -1;
		}
		break;
	default:
		break;
	}
	if (o->probe && o->mode != FB_LOGINS) {
		fprintf(stderr, "ftpsbench: --probe is for logins mode\n");
		return -1;
	}
	return read_password(o, pwfile);
}

/* Room for every session's control and data descriptor. */
static int
raise_nofile(unsigned long need)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need) {
		rl.rlim_max = need;	/* works as root */
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return 0;
		getrlimit(RLIMIT_NOFILE, &rl);
		fprintf(stderr, "ftpsbench: need %lu file descriptors, the "
		    "hard limit is %llu (raise it: ulimit -Hn)\n", need,
		    (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static SSL_CTX *
make_ctx(const struct fb_opts *o)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (o->tls_max != 0)
		SSL_CTX_set_max_proto_version(ctx, o->tls_max);
	/*
	 * No peer verification: the target is a loopback server with a
	 * self-signed benchmark certificate.  Sessions are kept by hand
	 * (control -> data), not in a cache.
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

static void
report(struct fb_bench *b, double elapsed)
{
	const struct fb_opts	*o = &b->o;
	double			 span, rate, mbps = 0;
	const char		*unit;

	if (b->lat.n > 0)
		qsort(b->lat.v, b->lat.n, sizeof(double), dbl_cmp);
	if (b->probe_lat.n > 0)
		qsort(b->probe_lat.v, b->probe_lat.n, sizeof(double), dbl_cmp);
	span = b->t_last > b->t_first ? b->t_last - b->t_first : 0;
	if (o->mode == FB_IDLE)
		span = b->t_ready > b->t_start ? b->t_ready - b->t_start : 0;
	rate = span > 0 ? (double)b->ok / span : 0;
	if (o->mode == FB_DOWNLOAD || o->mode == FB_UPLOAD ||
	    o->mode == FB_SMALL)
		mbps = span > 0 ? (double)b->bytes / span / 1e6 : 0;
	switch (o->mode) {
	case FB_DOWNLOAD:
	case FB_UPLOAD:
		unit = "transfers";
		break;
	case FB_SMALL:
		unit = "files";
		break;
	case FB_LOGINS:
		unit = "logins";
		break;
	default:
		unit = "sessions";
		break;
	}
	if (!o->quiet) {
		printf("command: %s\n", b->cmdline);
		printf("target:  %s FTPS %s port %u, %s %s\n",
		    o->implicit ? "implicit" : "explicit", o->host, o->port,
		    b->tls_version[0] ? b->tls_version : "no TLS",
		    b->tls_cipher);
		printf("%-10s %lu ok, %lu errors%s\n", unit, b->ok,
		    b->errors, b->timed_out ? " (--max-seconds reached)" :
		    "");
		if (mbps > 0 || o->mode == FB_DOWNLOAD ||
		    o->mode == FB_UPLOAD)
			printf("bytes      %llu in %.3f s = %.1f MB/s "
			    "(%.1f MiB/s)\n", (unsigned long long)b->bytes,
			    span, mbps, mbps * 1e6 / 1048576.0);
		if (o->mode == FB_IDLE)
			printf("held       %lu sessions at once (%lu lost "
			    "while held), logged in within %.2f s\n",
			    b->established, b->dropped, span);
		else
			printf("rate       %.1f %s/s over %.3f s\n", rate,
			    unit, span);
		printf("latency    p50 %.2f ms, p99 %.2f ms, max %.2f ms "
		    "(%s)\n", lat_pct(&b->lat, 50), lat_pct(&b->lat, 99),
		    lat_pct(&b->lat, 100), o->mode == FB_IDLE ?
		    "connect to logged in" : o->mode == FB_LOGINS ?
		    "connect to 221" : "EPSV to 226");
		if (o->probe)
			printf("probe      %zu NOOPs while logging in: p50 "
			    "%.2f ms, p99 %.2f ms, max %.2f ms\n",
			    b->probe_lat.n, lat_pct(&b->probe_lat, 50),
			    lat_pct(&b->probe_lat, 99),
			    lat_pct(&b->probe_lat, 100));
		if (b->resumed + b->fresh > 0)
			printf("data TLS   %lu resumed, %lu full handshakes\n",
			    b->resumed, b->fresh);
		printf("elapsed    %.3f s\n", elapsed);
	}
	printf("result mode=%s ok=%lu errors=%lu bytes=%llu seconds=%.3f "
	    "rate=%.2f mbps=%.1f p50_ms=%.3f p99_ms=%.3f held=%lu "
	    "dropped=%lu probe_p99_ms=%.3f resumed=%lu fresh=%lu\n",
	    fb_mode_names[o->mode], b->ok, b->errors,
	    (unsigned long long)b->bytes, span, rate, mbps,
	    lat_pct(&b->lat, 50), lat_pct(&b->lat, 99), b->established,
	    b->dropped, lat_pct(&b->probe_lat, 99), b->resumed, b->fresh);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct fb_bench	 b;
	struct timeval	 tv;
	unsigned	 i, n;
	unsigned long	 need;
	uint64_t	 x = 0x9e3779b97f4a7c15ULL;
	int		 rc = 1;

	memset(&b, 0, sizeof(b));
	if (parse_opts(&b, argc, argv) != 0)
		return 2;
	if (b.o.mode == FB_PROCSTAT)
		return procstat(b.o.pid, b.o.below);
	if (b.o.mode == FB_REAPER)
		return reaper(b.o.argv);
	signal(SIGPIPE, SIG_IGN);

	/* Incompressible payload for uploads (xorshift64). */
	for (i = 0; i < sizeof(fb_iobuf); i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(fb_iobuf + i, &x, 8);
	}
	switch (b.o.mode) {
	case FB_IDLE:
		n = (unsigned)b.o.count;
		break;
	case FB_LOGINS:
		n = b.o.clients;
		if (n > b.o.count)
			n = (unsigned)b.o.count;
		break;
	default:
		n = b.o.clients;
		break;
	}
	/* A control descriptor per session, plus a data one when moving files. */
	need = (unsigned long)n * (b.o.mode == FB_IDLE ||
	    b.o.mode == FB_LOGINS ? 1 : 2) + 64;
	if (raise_nofile(need) != 0)
		goto out;
	if ((b.base = event_base_new()) == NULL ||
	    (b.ctx = make_ctx(&b.o)) == NULL) {
		fprintf(stderr, "ftpsbench: setup failed: %s\n",
		    ssl_errstr());
		goto out;
	}
	if ((b.sess = calloc(n + 1, sizeof(*b.sess))) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if ((b.sess[b.nsess++] = sess_new(&b, i, ROLE_WORK)) == NULL)
			goto out;
	if (b.o.probe &&
	    (b.sess[b.nsess++] = sess_new(&b, n, ROLE_PROBE)) == NULL)
		goto out;
	b.live = b.nsess;

	b.deadline = evtimer_new(b.base, deadline_cb, &b);
	b.hold_ev = evtimer_new(b.base, hold_cb, &b);
	b.sig_ev = evsignal_new(b.base, SIGINT, sig_cb, &b);
	b.usr1_ev = evsignal_new(b.base, SIGUSR1, usr1_cb, &b);
	if (b.deadline == NULL || b.hold_ev == NULL || b.sig_ev == NULL ||
	    b.usr1_ev == NULL)
		goto out;
	tv.tv_sec = (time_t)b.o.max_seconds;
	tv.tv_usec = (suseconds_t)((b.o.max_seconds - (double)tv.tv_sec) *
	    1e6);
	evtimer_add(b.deadline, &tv);
	evsignal_add(b.sig_ev, NULL);
	evsignal_add(b.usr1_ev, NULL);

	b.t_start = now();
	if (b.o.mode == FB_IDLE)
		bench_check_done(&b);	/* starts the ramp */
	else if (b.o.probe)
		sess_start(b.sess[b.nsess - 1]);
	else
		bench_start_workers(&b);
	event_base_dispatch(b.base);

	report(&b, now() - b.t_start);
	rc = (b.errors == 0 && b.ok > 0 && !b.timed_out) ? 0 : 1;
 out:
	if (b.sess != NULL) {
		for (i = 0; i < b.nsess; i++) {
			if (b.sess[i] == NULL)
				continue;
			ctl_close(b.sess[i]);
			if (b.sess[i]->probe_ev != NULL)
				event_free(b.sess[i]->probe_ev);
			free(b.sess[i]);
		}
		free(b.sess);
	}
	if (b.deadline != NULL)
		event_free(b.deadline);
	if (b.hold_ev != NULL)
		event_free(b.hold_ev);
	if (b.sig_ev != NULL)
		event_free(b.sig_ev);
	if (b.usr1_ev != NULL)
		event_free(b.usr1_ev);
	if (b.ctx != NULL)
		SSL_CTX_free(b.ctx);
	if (b.base != NULL)
		event_base_free(b.base);
	free(b.lat.v);
	free(b.probe_lat.v);
	free(b.o.pass);
	return rc;
}
