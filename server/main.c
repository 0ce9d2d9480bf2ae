/*
 * ftpsd: argv, configuration, certificates, users, bind (or take the
 * sockets systemd passed), drop root, daemonize, run the loop.  Signals,
 * reload and shutdown are in ops.c.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "authpool.h"
#include "conf.h"
#include "err.h"
#include "ftps_limits.h"
#include "ftpsd.h"
#include "iopool.h"
#include "listener.h"
#include "load.h"
#include "log.h"
#include "ops.h"
#include "privdrop.h"
#include "sdnotify.h"
#include "session.h"
#include "vhost.h"
#include "worker.h"
#include "xferlog.h"

#define DEFAULT_CONF	FTPS_DEFAULT_CONF
#define MAX_OVERRIDES	64

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ftpsd [-f] [-c FILE] [-o key=value]... [-t] [-V] [-h]\n"
	    "       ftpsd --hash-password    (password on stdin)\n"
	    "  -f        stay in the foreground, log to stderr\n"
	    "  -c FILE   configuration file (default %s)\n"
	    "  -o k=v    override one configuration key (after the file)\n"
	    "  -t        check configuration, users and certificate; "
	    "exit 0 or 2\n"
	    "  -V        print the version\n"
	    "  -h        this help\n", DEFAULT_CONF);
}

static int
hash_password(void)
{
	char	 pw[FTPS_PASS_MAX + 2], out[256];
	size_t	 n;
	int	 r = 1;

	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "ftpsd: no password on stdin\n");
		return 1;
	}
	n = strcspn(pw, "\r\n");
	if (pw[n] == '\0' && n > FTPS_PASS_MAX) {
		fprintf(stderr, "ftpsd: password longer than %d bytes\n",
		    FTPS_PASS_MAX);
		goto out;
	}
	pw[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "ftpsd: empty password\n");
		goto out;
	}
	if (auth_hash_password(pw, out, sizeof(out)) != 0) {
		fprintf(stderr, "ftpsd: cannot hash: %s\n", strerror(errno));
		goto out;
	}
	printf("%s\n", out);
	r = 0;
 out:
	OPENSSL_cleanse(pw, sizeof(pw));
	return r;
}

static int
sweep_user(const struct user *u, unsigned long line, void *arg)
{
	struct vfs_sweep	*sw = arg;

	(void)line;
	/* Read-only accounts cannot upload: nothing of theirs to sweep. */
	if (u->perms & PERM_WRITE)
		(void)vfs_sweep_home(sw, u->home);
	return 0;
}

/*
 * Before the first session: which back end confines paths (logged), and
 * the hidden temporary uploads a killed server left in the homes
 * (docs/vfs.md, "Uploads").
 */
static void
vfs_start(struct ftpsd *ctx)
{
	struct vfs_sweep	*sw;

	vfs_probe();
	if ((sw = calloc(1, sizeof(*sw))) == NULL)
		return;
	(void)auth_users_each(ctx->users, sweep_user, sw);
	if (sw->removed > 0 || sw->truncated)
		log_info("vfs: swept %zu stale temporary upload%s in %zu "
		    "folder%s of %zu home%s%s", sw->removed,
		    sw->removed == 1 ? "" : "s", sw->dirs,
		    sw->dirs == 1 ? "" : "s", sw->homes,
		    sw->homes == 1 ? "" : "s", sw->truncated ?
		    " (stopped at the bound: docs/vfs.md)" : "");
	free(sw);
}

static void
daemonize(void)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1) {
		perror("ftpsd: fork");
		exit(1);
	}
	if (pid > 0)
		_exit(0);
	if (setsid() == -1) {
		perror("ftpsd: setsid");
		exit(1);
	}
	if ((pid = fork()) == -1) {
		perror("ftpsd: fork");
		exit(1);
	}
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		exit(1);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/*
 * Socket activation: the sockets named "explicit" and "implicit"
 * (FileDescriptorName=, or systemd-socket-activate --fdname) serve those
 * ports; unnamed ones are matched by their port against explicit_port
 * and implicit_port.  0, or an error printed to stderr.
 */
static int
adopt_sockets(struct ftpsd *ctx, struct sdn_socket *socks, int n)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	unsigned		 port;
	int			 i, implicit, r;

	for (i = 0; i < n; i++) {
		memset(&ss, 0, sizeof(ss));
		sl = sizeof(ss);
		port = 0;
		if (getsockname(socks[i].fd, (struct sockaddr *)&ss, &sl) == 0)
			port = ntohs(ss.ss_family == AF_INET6 ?
			    ((struct sockaddr_in6 *)&ss)->sin6_port :
			    ((struct sockaddr_in *)&ss)->sin_port);
		/* The name decides; an unnamed socket goes by its port. */
		if (strcmp(socks[i].name, "explicit") == 0 ||
		    strcmp(socks[i].name, "implicit") == 0)
			implicit = strcmp(socks[i].name, "implicit") == 0;
		else if (port != 0 && (port == ctx->conf.explicit_port ||
		    port == ctx->conf.implicit_port))
			implicit = port == ctx->conf.implicit_port;
		else {
			fprintf(stderr, "ftpsd: passed socket %d (%s, port "
			    "%u): name it explicit or implicit "
			    "(FileDescriptorName=), or set explicit_port or "
			    "implicit_port to its port\n", socks[i].fd,
			    socks[i].name[0] ? socks[i].name : "unnamed",
			    port);
			return FTPS_EPARSE;
		}
		if (implicit && ctx->ssl_ctx == NULL) {
			fprintf(stderr, "ftpsd: passed implicit socket %d not "
			    "used: tls = off\n", socks[i].fd);
			close(socks[i].fd);
			continue;
		}
		if ((r = lst_adopt(ctx, socks[i].fd, implicit, stderr)) != 0)
			return r;
	}
	if (TAILQ_EMPTY(&ctx->listeners)) {
		fprintf(stderr, "ftpsd: no usable socket was passed\n");
		return FTPS_EPARSE;
	}
	return 0;
}

static void
ftpsd_free(struct ftpsd *ctx)
{
	while (!TAILQ_EMPTY(&ctx->sessions))
		sess_free(TAILQ_FIRST(&ctx->sessions));
	/* After the sessions: frees the transfers that waited for a job. */
	iopool_free(ctx->io);
	lst_free_all(ctx);
	dc_linger_free_all(ctx);
	if (ctx->auth != NULL)
		auth_pool_free(ctx->auth);
	if (ctx->users != NULL)
		auth_users_free(ctx->users);
	if (ctx->sigint_ev != NULL)
		event_free(ctx->sigint_ev);
	if (ctx->sigterm_ev != NULL)
		event_free(ctx->sigterm_ev);
	if (ctx->stop_ev != NULL)
		event_free(ctx->stop_ev);
	ops_free(ctx);
	wk_free(ctx);
	lst_admit_free(ctx);
	/* bufferevents are finalized by the loop: let it run them. */
	if (ctx->base != NULL) {
		event_base_loop(ctx->base, EVLOOP_NONBLOCK);
		event_base_loop(ctx->base, EVLOOP_NONBLOCK);
	}
	SSL_CTX_free(ctx->ssl_ctx);
	vh_set_free(ctx->vhosts);
	if (ctx->base != NULL)
		event_base_free(ctx->base);
	conf_free(&ctx->conf);
}

/*
 * One process's event loop: the only process with workers = 1, else
 * each worker (worker.c forked it).  Returns the exit code.
 */
static int
serve(struct ftpsd *ctx)
{
	char	 idx;
	int	 r;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    evthread_use_pthreads() != 0 ||
	    (ctx->base = sess_base_new()) == NULL) {
		log_err("cannot create the event loop");
		return 1;
	}
	if ((r = auth_pool_new(ctx->base, ctx->conf.auth_threads,
	    &ctx->auth)) != 0 || (r = auth_pool_set_cache(ctx->auth,
	    ctx->conf.login_cache_seconds, 0)) != 0) {
		log_err("cannot start the password pool: %s",
		    ftps_strerror(r));
		return 1;
	}
	if ((r = iopool_new(ctx->base, 0, &ctx->io)) != 0) {
		log_err("cannot start the file I/O pool: %s",
		    ftps_strerror(r));
		return 1;
	}
	if (ops_start(ctx) != 0) {
		log_err("cannot watch signals");
		return 1;
	}
	if (lst_start_all(ctx) != 0)
		return 1;
	log_info("ready");
	sdn_send(ctx->notify_fd, "READY=1\nSTATUS=Ready");
	if (ctx->ready_fd != -1) {
		/* The master counts its workers up (worker.c). */
		idx = (char)(ctx->worker - 1);
		if (write(ctx->ready_fd, &idx, 1) != 1)
			log_warn("cannot tell the master");
		close(ctx->ready_fd);
		ctx->ready_fd = -1;
	}
	event_base_dispatch(ctx->base);
	ops_drain(ctx);
	log_info("stopped");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct ftpsd	 ctx;
	struct sdn_socket socks[SDN_LISTEN_MAX];
	const char	*conffile = NULL, *overrides[MAX_OVERRIDES];
	char		 note[256], cert[512];
	struct load_state ls;
	int		 test = 0, noverrides = 0, problems = 0;
	int		 nsocks = 0;
	unsigned	 nworkers;
	int		 ch, r, rc = 1;
	enum log_dest	 dest;

	if (argc == 2 && strcmp(argv[1], "--hash-password") == 0)
		return hash_password();

	memset(&ctx, 0, sizeof(ctx));
	TAILQ_INIT(&ctx.listeners);
	TAILQ_INIT(&ctx.sessions);
	TAILQ_INIT(&ctx.reaps);
	ctx.notify_fd = ctx.xferlog_fd = ctx.ready_fd = -1;
	snprintf(ctx.log_ident, sizeof(ctx.log_ident), "ftpsd");

	while ((ch = getopt(argc, argv, "fc:o:tVh")) != -1) {
		switch (ch) {
		case 'f':
			ctx.foreground = 1;
			break;
		case 'c':
			conffile = optarg;
			break;
		case 'o':
			if (noverrides == MAX_OVERRIDES) {
				fprintf(stderr, "ftpsd: too many -o options "
				    "(at most %d)\n", MAX_OVERRIDES);
				return 1;
			}
			overrides[noverrides++] = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("ftpsd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	log_init("ftpsd", LOG_DEST_STDERR, LOG_LVL_INFO);

	if ((r = ops_remember(&ctx, conffile, NULL, 0)) != 0) {
		fprintf(stderr, "ftpsd: %s\n", ftps_strerror(r));
		goto out;
	}
	if (conffile == NULL)
		conffile = ops_conffile(&ctx);
	problems = load_state(&ctx, conffile, overrides, noverrides,
	    test ? LOAD_TEST : 0, &ls, stderr, stderr);
	load_swap(&ctx, &ls);
	load_free(&ls);
	if (problems > 0 && !test) {
		fprintf(stderr, "ftpsd: not started\n");
		goto out;
	}
	/* A reload builds the configuration again the same way. */
	if ((r = ops_remember(&ctx, NULL, overrides, noverrides)) != 0) {
		fprintf(stderr, "ftpsd: %s\n", ftps_strerror(r));
		goto out;
	}
	if (test) {
		/* A warning only: the exit status stays 0. */
		ops_certwarn(&ctx);
		if (problems == 0)
			printf("ftpsd: configuration %s ok\n",
			    conffile ? conffile : "(built-in defaults)");
		rc = problems == 0 ? 0 : 2;
		goto out;
	}
	if (sdn_listen_fds(socks, SDN_LISTEN_MAX, &nsocks, stderr) != 0) {
		fprintf(stderr, "ftpsd: not started\n");
		goto out;
	}
	nworkers = wk_count(&ctx.conf);
	if (nsocks > 0) {
		ctx.activated = 1;
		r = adopt_sockets(&ctx, socks, nsocks);
	} else if (nworkers == 1)
		r = lst_bind_all(&ctx, stderr);
	else
		r = 0;
	/* Workers: one socket set each, or the passed sockets shared. */
	if (r == 0 && nworkers > 1)
		r = wk_prepare(&ctx, nworkers, stderr);
	if (r != 0 || sdn_open(&ctx.notify_fd, stderr) != 0) {
		fprintf(stderr, "ftpsd: not started\n");
		goto out;
	}
	/*
	 * Ports bound, certificate, key and users read: root is no longer
	 * needed.  The transfer log is opened as run_as_user, as a reload
	 * will reopen it.
	 */
	if (priv_drop(&ctx.conf, note, sizeof(note), stderr) != 0) {
		fprintf(stderr, "ftpsd: not started\n");
		goto out;
	}
	if (ctx.conf.xferlog_file != NULL &&
	    xlog_open(ctx.conf.xferlog_file, &ctx.xferlog_fd) != 0) {
		fprintf(stderr, "ftpsd: xferlog_file: %s: %s (it is opened "
		    "as run_as_user)\nftpsd: not started\n",
		    ctx.conf.xferlog_file, strerror(errno));
		goto out;
	}

	if (ctx.conf.log == CONF_LOG_SYSLOG ||
	    (ctx.conf.log == CONF_LOG_AUTO && !ctx.foreground))
		dest = LOG_DEST_SYSLOG;
	else
		dest = LOG_DEST_STDERR;
	if (!ctx.foreground)
		daemonize();
	log_init(ctx.log_ident, dest, ctx.conf.log_debug ? LOG_LVL_DEBUG :
	    LOG_LVL_INFO);
	log_info("configuration: %s", conffile ? conffile :
	    "built-in defaults (no " DEFAULT_CONF ")");
	log_info("%s", note);
	if (ctx.activated)
		log_info("socket activation: %d socket%s from the service "
		    "manager (listen_addresses and the ports are not used)",
		    nsocks, nsocks == 1 ? "" : "s");
	if (ctx.ssl_ctx != NULL)
		log_info("certificate: %s", ops_cert_text(ctx.ssl_ctx, cert,
		    sizeof(cert)));
	vh_log_hosts(ctx.vhosts);

	/* Every file and directory a client creates gets this umask. */
	umask((mode_t)ctx.conf.file_umask);
	vfs_start(&ctx);
	/* The master returns here only when it is done (worker.c). */
	if (nworkers > 1 && wk_run(&ctx, &rc) != 0)
		goto out;
	rc = serve(&ctx);
 out:
	ftpsd_free(&ctx);
	libevent_global_shutdown();
	return rc;
}
