/*
 * certmgr default / rename / delete: managing the names of a folder.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"

/* Options of commands that take nothing but the common ones (and --yes). */
static int
simple_opts(struct cli *cli, const struct cm_cmd *cmd, int argc, char **argv,
    int *yes)
{
	static const struct option longopts[] = {
		CM_COMMON_LONGOPTS,
		{ "yes", no_argument, NULL, OPT_YES },
		{ NULL, 0, NULL, 0 },
	};
	int	 c, h;

	while ((c = getopt_long(argc, argv, CM_SHORTOPTS "y", longopts,
	    NULL)) != -1) {
		if ((c == OPT_YES || c == 'y') && yes != NULL) {
			*yes = 1;
			continue;
		}
		if ((h = cm_common_opt(cli, cmd, c, optarg)) != 1)
			return h < 0 ? -1 : CM_USAGE;
	}
	return 0;
}

int
cm_default(struct cli *cli, int argc, char **argv)
{
	const struct cm_cmd	*cmd = cm_lookup(argv[0]);
	struct jw		 w;
	char			 err[CS_ERR_MAX];
	char			 name[FTPS_CERTNAME_MAX + 1];
	char			 mark[FTPS_CERTNAME_MAX + 1];
	int			 r;

	if ((r = simple_opts(cli, cmd, argc, argv, NULL)) != 0)
		return r < 0 ? CM_OK : r;
	if (argc - optind > 1)
		return cm_usage(cmd);
	if (argc - optind == 1) {
		if (cs_set_default(cli->dir, argv[optind], err,
		    sizeof(err)) != 0) {
			cm_error("%s", err);
			return CM_FAIL;
		}
		cm_info(cli, "%s is now the default certificate of %s",
		    argv[optind], cli->dir);
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
cm_rename(struct cli *cli, int argc, char **argv)
{
	const struct cm_cmd	*cmd = cm_lookup(argv[0]);
	char			 err[CS_ERR_MAX];
	int			 r;

	if ((r = simple_opts(cli, cmd, argc, argv, NULL)) != 0)
		return r < 0 ? CM_OK : r;
	if (argc - optind != 2)
		return cm_usage(cmd);
	if (cs_name_check(argv[optind], err, sizeof(err)) != 0 ||
	    cs_rename(cli->dir, argv[optind], argv[optind + 1], err,
	    sizeof(err)) != 0) {
		cm_error("%s", err);
		return CM_FAIL;
	}
	cm_info(cli, "renamed %s to %s in %s", argv[optind], argv[optind + 1],
	    cli->dir);
	return CM_OK;
}

int
cm_delete(struct cli *cli, int argc, char **argv)
{
	const struct cm_cmd	*cmd = cm_lookup(argv[0]);
	char			 err[CS_ERR_MAX], q[FTPS_PATH_MAX + 128];
	const char		*name;
	int			 r, has, yes = 0;

	if ((r = simple_opts(cli, cmd, argc, argv, &yes)) != 0)
		return r < 0 ? CM_OK : r;
	if (argc - optind != 1)
		return cm_usage(cmd);
	name = argv[optind];
	if ((has = cs_files(cli->dir, name, err, sizeof(err))) < 0) {
		cm_error("%s", err);
		return CM_FAIL;
	}
	if (has == 0) {
		cm_error("%s/%s: no such certificate name (certmgr list shows "
		    "them)", cli->dir, name);
		return CM_FAIL;
	}
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
	return CM_OK;
}
