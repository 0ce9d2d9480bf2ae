/*
 * certmgr default / rename / delete: managing the names of a folder.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"

int
cm_default(struct cli *cli, const struct cm_args *a)
{
	struct jw		 w;
	char			 err[CS_ERR_MAX];
	char			 name[FTPS_CERTNAME_MAX + 1];
	char			 mark[FTPS_CERTNAME_MAX + 1];

	if (a->argc == 1) {
		if (cs_set_default(cli->dir, a->argv[0], err,
		    sizeof(err)) != 0) {
			cm_error("%s", err);
			return CM_FAIL;
		}
		cm_info(cli, "%s is now the default certificate of %s",
		    a->argv[0], cli->dir);
		return CM_OK;
	}
	if (cs_marked_default(cli->dir, mark, sizeof(mark), err,
	    sizeof(err)) != 0 ||
	    cs_default_name(cli->dir, name, sizeof(name), err,
	    sizeof(err)) != 0) {
		cm_error("%s", err);
		return CM_FAIL;
	}
	if (cli->json) {
		memset(&w, 0, sizeof(w));
		jw_open(&w, NULL, '{');
		jw_str(&w, "default", name);
		jw_bool(&w, "marked", mark[0] != '\0');
		jw_close(&w, '}');
	} else if (!cli->quiet)
		printf("%s%s\n", name, mark[0] != '\0' ? "" :
		    " (the only pair; not marked)");
	return CM_OK;
}

int
cm_rename(struct cli *cli, const struct cm_args *a)
{
	char			 err[CS_ERR_MAX];

	if (cs_name_check(a->argv[0], err, sizeof(err)) != 0 ||
	    cs_rename(cli->dir, a->argv[0], a->argv[1], err,
	    sizeof(err)) != 0) {
		cm_error("%s", err);
		return CM_FAIL;
	}
	cm_info(cli, "renamed %s to %s in %s", a->argv[0], a->argv[1],
	    cli->dir);
	return cm_acme_follow(cli, a->argv[0], a->argv[1]) == 0 ? CM_OK :
	    CM_FAIL;
}

int
cm_delete(struct cli *cli, const struct cm_args *a)
{
	char			 err[CS_ERR_MAX], q[FTPS_PATH_MAX + 128];
	const char		*name = a->argv[0];
	int			 has, yes = CM_FLAG(a, OPT_YES);

	if ((has = cm_name_files(cli, name, 0)) < 0)
		return CM_FAIL;
	if (!yes) {
		snprintf(q, sizeof(q), "Delete %s/%s (%s%s%s%s)?", cli->dir,
		    name, (has & CS_HAS_CRT) ? " .crt" : "",
		    (has & CS_HAS_KEY) ? " .key" : "",
		    (has & CS_HAS_CHAIN) ? " .chain" : "",
		    (has & CS_HAS_CSR) ? " .csr" : "");
		if (!cm_confirm(q)) {
			cm_error("%s: not deleted (confirm on a terminal, or "
			    "give --yes)", name);
			return CM_FAIL;
		}
	}
	if (cs_delete(cli->dir, name, err, sizeof(err)) != 0) {
		cm_error("%s", err);
		return CM_FAIL;
	}
	cm_info(cli, "deleted %s from %s", name, cli->dir);
	return cm_acme_follow(cli, name, NULL) == 0 ? CM_OK : CM_FAIL;
}
