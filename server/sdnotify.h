/*
 * The service manager's two protocols, spoken without libsystemd (both
 * are small, stable and documented: sd_notify(3), sd_listen_fds(3)):
 *
 * - state notifications: one datagram per message, "READY=1",
 *   "RELOADING=1", "STOPPING=1"..., on the AF_UNIX socket named by
 *   $NOTIFY_SOCKET ('@' starts an abstract name);
 * - socket activation: $LISTEN_PID is our pid, $LISTEN_FDS sockets start
 *   at fd 3, $LISTEN_FDNAMES names them ("explicit:implicit", from
 *   FileDescriptorName= or systemd-socket-activate --fdname).
 *
 * Without a service manager both are no-ops.
 */
#ifndef FTPS_SDNOTIFY_H
#define FTPS_SDNOTIFY_H

#include <stdio.h>

#define SDN_LISTEN_FDS_START	3
#define SDN_LISTEN_MAX		64	/* passed sockets accepted */
#define SDN_NAME_MAX		255	/* FileDescriptorName= limit */

/*
 * Connects a datagram socket to $NOTIFY_SOCKET and unsets the variable,
 * so later sends work whatever the process's uid becomes.  *fd is -1
 * when there is no $NOTIFY_SOCKET.  0, or FTPS_EPARSE/FTPS_ESYS after
 * printing why to errf.
 */
int	 sdn_open(int *fd, FILE *errf);
/*
 * Sends one notification ("READY=1", "STOPPING=1", several assignments
 * separated by '\n').  A no-op for fd -1.  0 or FTPS_ESYS (errno).
 */
int	 sdn_send(int fd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* CLOCK_MONOTONIC in microseconds, for "MONOTONIC_USEC=". */
unsigned long long sdn_monotonic_usec(void);

struct sdn_socket {
	int	 fd;
	char	 name[SDN_NAME_MAX + 1];	/* "" when unnamed */
};

/*
 * The listening sockets passed by the service manager, when $LISTEN_PID
 * is this process: fds made close-on-exec, checked to be listening
 * stream sockets, names from $LISTEN_FDNAMES.  The three variables are
 * unset.  *n is 0 when nothing was passed.  0, or FTPS_EPARSE
 * (malformed variables) / FTPS_EDENIED (a passed fd is not a listening
 * stream socket) after printing why to errf.
 */
int	 sdn_listen_fds(struct sdn_socket *, int max, int *n, FILE *errf);

#endif
