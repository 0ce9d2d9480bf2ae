/*
 * Making the running ftpsd reload its certificates: the one place that
 * knows how (SIGHUP today: ftpsd(8) re-reads its configuration and certs
 * folder, sessions already open keep their TLS state).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "parse.h"

#define RELOAD_UNIT	"ftpsd.service"
#define RELOAD_SYSTEMCTL	"systemctl"

/* Runs systemctl with args; its exit status, or -1 when it could not. */
static int
reload_systemctl(const char *const argv[])
{
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* SIGHUP to the ftpsd whose pid the file holds. */
static int
reload_pidfile(const char *path)
{
	unsigned char	*data = NULL;
	unsigned long	 pid;
	char		 err[CS_ERR_MAX], proc[64], comm[32];
	size_t		 len;
	FILE		*f;
	int		 ok;

	if (cs_read_file(path, &data, &len, err, sizeof(err)) != 0) {
		cm_error("--reload: %s", err);
		return -1;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
		data[--len] = '\0';
	ok = parse_uint((char *)data, 2, 4194304, &pid) == 0;
	cs_data_free(data, len);
	if (!ok) {
		cm_error("--reload: %s does not hold a process id", path);
		return -1;
	}
	/* A stale file must not make us signal whatever has the pid now. */
	snprintf(proc, sizeof(proc), "/proc/%lu/comm", pid);
	comm[0] = '\0';
	if ((f = fopen(proc, "r")) != NULL) {
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		(void)fclose(f);
	}
	if (strncmp(comm, "ftpsd", 5) != 0) {
		cm_error("--reload: process %lu of %s is not a running ftpsd",
		    pid, path);
		return -1;
	}
	if (kill((pid_t)pid, SIGHUP) == -1) {
		cm_error("--reload: cannot signal ftpsd (pid %lu): %s", pid,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
cm_reload(const struct cli *cli, const char *pidfile)
{
	static const char *const active[] = { RELOAD_SYSTEMCTL, "is-active",
	    "--quiet", RELOAD_UNIT, NULL };
	static const char *const reload[] = { RELOAD_SYSTEMCTL, "reload",
	    RELOAD_UNIT, NULL };
	int	 r;

	if (pidfile != NULL) {
		if (reload_pidfile(pidfile) != 0)
			return -1;
		cm_info(cli, "ftpsd reloads its certificates (SIGHUP, pid "
		    "file %s)", pidfile);
		return 0;
	}
	/* sd_booted(3): systemd is the service manager. */
	if (access("/run/systemd/system", F_OK) != 0) {
		cm_error("--reload: systemd does not run here: give --pid-file "
		    "FILE, or send ftpsd SIGHUP yourself");
		return -1;
	}
	if ((r = reload_systemctl(active)) == -1 || r == 127) {
		cm_error("--reload: cannot run systemctl is-active %s%s",
		    RELOAD_UNIT, r == 127 ? " (systemctl not found)" : "");
		return -1;
	}
	if (r != 0) {
		cm_info(cli, "%s is not running: nothing to reload",
		    RELOAD_UNIT);
		return 0;
	}
	if ((r = reload_systemctl(reload)) != 0) {
		cm_error("--reload: systemctl reload %s failed (exit %d; see "
		    "journalctl -u %s)", RELOAD_UNIT, r, RELOAD_UNIT);
		return -1;
	}
	cm_info(cli, "ftpsd reloads its certificates (systemctl reload %s)",
	    RELOAD_UNIT);
	return 0;
}
