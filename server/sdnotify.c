/*
 * sd_notify(3) and sd_listen_fds(3) without libsystemd: the protocols
 * are a datagram of "KEY=VALUE" lines and three environment variables,
 * and implementing them here keeps the daemon free of a dependency that
 * would pull in much more than these few lines need.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "parse.h"
#include "sdnotify.h"

#define SDN_MSG_MAX	512

int
sdn_open(int *fdp, FILE *errf)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 sl;
	size_t			 len;
	int			 fd;

	*fdp = -1;
	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return 0;
	len = strlen(path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((path[0] != '/' && path[0] != '@') ||
	    len >= sizeof(sun.sun_path)) {
		fprintf(errf, "NOTIFY_SOCKET: \"%.*s\" is not an AF_UNIX "
		    "socket path or @abstract name\n", 108, path);
		return FTPS_EPARSE;
	}
	memcpy(sun.sun_path, path, len);
	/* "@name": the abstract namespace, no NUL at the end. */
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '@' ? 0 : 1));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(errf, "NOTIFY_SOCKET: socket: %s\n", strerror(errno));
		return FTPS_ESYS;
	}
	/* Connected now, so a later send needs no access to the path. */
	if (connect(fd, (struct sockaddr *)&sun, sl) == -1) {
		fprintf(errf, "NOTIFY_SOCKET %s: %s\n", path, strerror(errno));
		close(fd);
		return FTPS_ESYS;
	}
	unsetenv("NOTIFY_SOCKET");
	*fdp = fd;
	return 0;
}

int
sdn_send(int fd, const char *fmt, ...)
{
	char	 msg[SDN_MSG_MAX];
	va_list	 ap;
	int	 n;

	if (fd == -1)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return FTPS_ETOOBIG;
	if (send(fd, msg, (size_t)n, MSG_NOSIGNAL) == -1)
		return FTPS_ESYS;
	return 0;
}

unsigned long long
sdn_monotonic_usec(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL;
}

static void
sdn_unsetenv(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

int
sdn_listen_fds(struct sdn_socket *out, int max, int *n, FILE *errf)
{
	const char	*pid, *nfds, *names, *p;
	unsigned long	 v, count;
	socklen_t	 sl;
	size_t		 len;
	int		 i, fd, type, acc, r = 0;

	*n = 0;
	pid = getenv("LISTEN_PID");
	nfds = getenv("LISTEN_FDS");
	names = getenv("LISTEN_FDNAMES");
	if (pid == NULL || nfds == NULL)
		return 0;
	if (parse_uint(pid, 1, 0x7fffffffUL, &v) != 0) {
		fprintf(errf, "LISTEN_PID: \"%.20s\" is not a process id\n",
		    pid);
		r = FTPS_EPARSE;
		goto out;
	}
	/* Meant for another process (a parent that did not unset them). */
	if ((pid_t)v != getpid())
		goto out;
	if (parse_uint(nfds, 0, (unsigned long)max, &count) != 0) {
		fprintf(errf, "LISTEN_FDS: \"%.20s\" is not a number from 0 "
		    "to %d\n", nfds, max);
		r = FTPS_EPARSE;
		goto out;
	}
	p = names;
	for (i = 0; i < (int)count; i++) {
		fd = SDN_LISTEN_FDS_START + i;
		out[i].fd = fd;
		out[i].name[0] = '\0';
		if (p != NULL) {
			len = strcspn(p, ":");
			if (len > SDN_NAME_MAX) {
				fprintf(errf, "LISTEN_FDNAMES: name %d is "
				    "longer than %d bytes\n", i + 1,
				    SDN_NAME_MAX);
				r = FTPS_EPARSE;
				goto out;
			}
			memcpy(out[i].name, p, len);
			out[i].name[len] = '\0';
			p = p[len] == ':' ? p + len + 1 : NULL;
		}
		sl = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == -1 ||
		    type != SOCK_STREAM) {
			fprintf(errf, "passed fd %d (%s) is not a stream "
			    "socket\n", fd, out[i].name[0] ? out[i].name :
			    "unnamed");
			r = FTPS_EDENIED;
			goto out;
		}
		sl = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc,
		    &sl) == -1 || !acc) {
			fprintf(errf, "passed fd %d (%s) is not listening\n",
			    fd, out[i].name[0] ? out[i].name : "unnamed");
			r = FTPS_EDENIED;
			goto out;
		}
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			fprintf(errf, "passed fd %d: %s\n", fd,
			    strerror(errno));
			r = FTPS_ESYS;
			goto out;
		}
	}
	*n = (int)count;
 out:
	sdn_unsetenv();
	return r;
}
