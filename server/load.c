/*
 * The one loader: start-up and reload build their state here, the same
 * way (the contract is in load.h).
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "ctl.h"
#include "err.h"
#include "ftpsd.h"
#include "load.h"
#include "log.h"
#include "preflight.h"
#include "privdrop.h"
#include "tls.h"
#include "vhost.h"
#include "xferlog.h"

#define LOAD_VALUE_MAX	(PATH_MAX + 64)

/*
 * Keys that only a restart can apply keep the running value in nc; each
 * change is reported.  0 or FTPS_ENOMEM.
 */
static int
load_keep_restart_keys(const struct ftpsd *ctx, struct conf *nc)
{
	char		 was[LOAD_VALUE_MAX], now[LOAD_VALUE_MAX];
	const char	*name;
	size_t		 i;

	for (i = 0; (name = conf_key_name(i)) != NULL; i++) {
		if (conf_key_reload(i) == CONF_RELOAD ||
		    conf_value(&ctx->conf, i, was, sizeof(was)) != 0 ||
		    conf_value(nc, i, now, sizeof(now)) != 0 ||
		    strcmp(was, now) == 0)
			continue;
		/* With socket activation systemd owns the listeners. */
		if (!(ctx->activated &&
		    conf_key_reload(i) == CONF_RESTART_BIND))
			log_warnx("reload: %s changed (%s -> %s): only a "
			    "restart applies it; keeping %s", name, was, now,
			    was);
		if (conf_set(nc, name, was, "-o", 0, NULL) != 0)
			return FTPS_ENOMEM;
	}
	return 0;
}

/* 1. The configuration; the number of problems. */
static int
load_conf(struct ftpsd *ctx, const char *file, const char *const *ov,
    int n, int flags, struct conf *nc, FILE *errf)
{
	int	 i, r, problems = 0;

	if ((r = conf_init(nc)) != 0) {
		fprintf(errf, "built-in defaults: %s\n", ftps_strerror(r));
		return 1;
	}
	if (file != NULL && conf_load(nc, file, errf) != 0)
		problems++;
	for (i = 0; i < n; i++)
		if (conf_set_arg(nc, ov[i], errf) != 0)
			problems++;
	if (conf_check(nc, file != NULL ? file : "-o", errf) != 0)
		problems++;
	if (problems > 0 || !(flags & LOAD_RELOAD))
		return problems;
	if ((nc->tls == CONF_TLS_OFF) != (ctx->conf.tls == CONF_TLS_OFF)) {
		fprintf(errf, "tls: switching to or from off needs a "
		    "restart\n");
		return 1;
	}
	if (load_keep_restart_keys(ctx, nc) != 0) {
		fprintf(errf, "out of memory\n");
		return 1;
	}
	return 0;
}

/* 3. The users file; its complaints go to usersf. */
static int
load_users(struct load_state *ls, FILE *usersf)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*mf;

	if ((mf = open_memstream(&text, &len)) == NULL)
		return FTPS_ENOMEM;
	ls->users_err = auth_users_load(ls->conf.users_file, &ls->users, mf);
	if (fclose(mf) != 0) {
		free(text);
		return FTPS_ENOMEM;
	}
	if (len > 0) {
		fputs(text, usersf);
		ls->users_bad = 1;
	}
	free(text);
	return 0;
}

int
load_state(struct ftpsd *ctx, const char *file, const char *const *ov,
    int n, int flags, struct load_state *ls, FILE *errf, FILE *usersf)
{
	int	 problems;

	memset(ls, 0, sizeof(*ls));
	ls->xferlog_fd = -1;
	problems = load_conf(ctx, file, ov, n, flags, &ls->conf, errf);
	if (problems > 0 && !(flags & LOAD_TEST))
		return problems;
	/* 2. The TLS context: certificate, key, chain, CA and CRL. */
	if (ls->conf.tls != CONF_TLS_OFF &&
	    tls_ctx_new(&ls->conf, &ls->ssl_ctx, errf) != 0) {
		problems++;
		if (flags & LOAD_RELOAD)
			return problems;
	}
	/* 3. The users: none at all is fatal unless anonymous is on. */
	if (load_users(ls, usersf) != 0) {
		fprintf(errf, "out of memory\n");
		return problems + 1;
	}
	if (ls->users_err != 0 && !ls->conf.anonymous) {
		problems++;
		if (flags & LOAD_RELOAD)
			return problems;
	} else if (ls->users_err != 0 && flags == 0)
		fprintf(errf, "ftpsd: %s: no users loaded, anonymous only\n",
		    ls->conf.users_file);
	/* 3b. Every [host] section, each checked as a whole. */
	if (vh_load(&ls->conf, file, &ls->vhosts, errf, usersf) != 0) {
		problems++;
		if (flags & LOAD_RELOAD)
			return problems;
	}
	if (flags & LOAD_RELOAD) {
		/* 4. The transfer log, reopened (logrotate moved it). */
		if (ls->conf.xferlog_file != NULL &&
		    xlog_open(ls->conf.xferlog_file, &ls->xferlog_fd) != 0) {
			fprintf(errf, "xferlog_file: %s: %s\n",
			    ls->conf.xferlog_file, strerror(errno));
			problems++;
		}
		return problems;
	}
	/* 4. What dropping root would refuse. */
	if (priv_check(&ls->conf, errf) != 0)
		problems++;
	if (flags & LOAD_TEST) {
		problems += ls->users_bad;
		/* What a reload or a login would trip on, as run_as_user. */
		problems += pf_check(&ls->conf, file, ls->users, errf);
		problems += vh_preflight(ls->vhosts, errf);
		problems += ctl_check(&ls->conf, errf);
	}
	return problems;
}

#define LOAD_SWAP(type, a, b) do {					\
	type	 t_ = (a);						\
	(a) = (b);							\
	(b) = t_;							\
} while (0)

void
load_swap(struct ftpsd *ctx, struct load_state *ls)
{
	LOAD_SWAP(struct conf, ctx->conf, ls->conf);
	LOAD_SWAP(SSL_CTX *, ctx->ssl_ctx, ls->ssl_ctx);
	LOAD_SWAP(struct userdb *, ctx->users, ls->users);
	LOAD_SWAP(int, ctx->xferlog_fd, ls->xferlog_fd);
	LOAD_SWAP(struct vhost_set *, ctx->vhosts, ls->vhosts);
}

void
load_free(struct load_state *ls)
{
	conf_free(&ls->conf);
	SSL_CTX_free(ls->ssl_ctx);
	if (ls->users != NULL)
		auth_users_free(ls->users);
	if (ls->xferlog_fd != -1)
		close(ls->xferlog_fd);
	vh_set_free(ls->vhosts);
	memset(ls, 0, sizeof(*ls));
	ls->xferlog_fd = -1;
}
