/*
 * HTTP-01 (RFC 8555 8.3): the CA fetches
 * http://DOMAIN/.well-known/acme-challenge/TOKEN and expects the key
 * authorization.  Either certmgr answers itself (a thread serving the
 * tokens on --http-port, nothing else, one request per connection), or
 * it writes the files into the document root of a web server already
 * on port 80 (--webroot) and removes them afterwards.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acme.h"

#define CHAL_IO_MS	5000	/* one responder connection's time to ask */

/* Reads one request (to the blank line) and answers it. */
static void
chal_serve(struct acme_http01 *h, int fd)
{
	struct pollfd	 p = { fd, POLLIN, 0 };
	char		 req[FTPS_ACME_REQ_MAX + 1], hdr[256];
	const char	*path, *body = NULL;
	size_t		 len = 0, i, plen;
	ssize_t		 n;
	int		 code;
	struct timespec	 t0, now;
	long		 left;

	/*
	 * SECURITY: one deadline for the whole request, not per read: a
	 * peer trickling a byte at a time cannot hold the only thread (and
	 * so the CA's validation) longer than CHAL_IO_MS.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (len < FTPS_ACME_REQ_MAX) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = CHAL_IO_MS - ((now.tv_sec - t0.tv_sec) * 1000 +
		    (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return;
		if ((n = read(fd, req + len, FTPS_ACME_REQ_MAX - len)) <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL ||
		    strstr(req, "\n\n") != NULL)
			break;
	}
	req[len] = '\0';
	if (strncmp(req, "GET ", 4) == 0) {
		path = req + 4;
		plen = strcspn(path, " \r\n");
		for (i = 0; i < h->n && body == NULL; i++)
			if (plen == strlen(ACME_CHALLENGE_PATH) +
			    strlen(h->chal[i].token) &&
			    strncmp(path, ACME_CHALLENGE_PATH,
			    strlen(ACME_CHALLENGE_PATH)) == 0 &&
			    strncmp(path + strlen(ACME_CHALLENGE_PATH),
			    h->chal[i].token, strlen(h->chal[i].token)) == 0)
				body = h->chal[i].keyauth;
	}
	code = body != NULL ? 200 : 404;
	if (body == NULL)
		body = "not found\n";
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	    code, code == 200 ? "OK" : "Not Found", strlen(body));
	/*
	 * Small enough for the socket buffer: one send each; a peer gone
	 * already is no SIGPIPE.
	 */
	if (send(fd, hdr, strlen(hdr), MSG_NOSIGNAL) == (ssize_t)strlen(hdr) &&
	    send(fd, body, strlen(body), MSG_NOSIGNAL) == -1)
		return;
}

static void *
chal_thread(void *arg)
{
	struct acme_http01	*h = arg;
	struct sockaddr_storage	 ss;
	struct pollfd		 p[2];
	socklen_t		 sl;
	int			 fd;

	p[0] = (struct pollfd){ h->stop[0], POLLIN, 0 };
	p[1] = (struct pollfd){ h->lfd, POLLIN, 0 };
	for (;;) {
		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents != 0)
			break;
		if (!(p[1].revents & POLLIN))
			continue;
		sl = sizeof(ss);
		if ((fd = accept4(h->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_CLOEXEC)) == -1)
			continue;
		chal_serve(h, fd);
		close(fd);
	}
	return NULL;
}

/* A listening socket on port: dual-stack [::], else 0.0.0.0. */
static int
chal_listen(int family, int port, char *err, size_t errlen)
{
	struct sockaddr_in6	 s6;
	struct sockaddr_in	 s4;
	int			 fd, on = 1, off = 0, r;

	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -2;	/* no such family here */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
		    sizeof(off));
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons((unsigned short)port);
		s6.sin6_addr = in6addr_any;
		r = bind(fd, (struct sockaddr *)&s6, sizeof(s6));
	} else {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_port = htons((unsigned short)port);
		s4.sin_addr.s_addr = htonl(INADDR_ANY);
		r = bind(fd, (struct sockaddr *)&s4, sizeof(s4));
	}
	if (r == -1 && family == AF_INET6 && (errno == EADDRNOTAVAIL ||
	    errno == EAFNOSUPPORT)) {
		close(fd);
		return -2;	/* IPv6 off: IPv4 alone */
	}
	if (r == -1 || listen(fd, 16) == -1) {
		snprintf(err, errlen, "the HTTP-01 responder cannot listen "
		    "on port %d: %s (another web server there? use --webroot "
		    "DIR, or --http-port)", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* DIR/.well-known/acme-challenge, created like mkdir -p (0755). */
static int
chal_webroot_dir(const char *root, char *out, size_t size, char *err,
    size_t errlen)
{
	char	*s;

	if ((size_t)snprintf(out, size, "%s%s", root, ACME_CHALLENGE_PATH) >=
	    size) {
		snprintf(err, errlen, "--webroot %.200s: path too long", root);
		return -1;
	}
	for (s = out + strlen(root) + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		/* The web server reads it, whatever certmgr's umask. */
		if (mkdir(out, 0755) == 0 ? chmod(out, 0755) == -1 :
		    errno != EEXIST) {
			snprintf(err, errlen, "--webroot: cannot create %.300s:"
			    " %s", out, strerror(errno));
			return -1;
		}
		*s = '/';
	}
	return 0;
}

/* Writes DIR/TOKEN (0644, complete before it appears). */
static int
chal_webroot_put(const char *dir, const struct acme_chal *c, char *err,
    size_t errlen)
{
	char	 tmp[FTPS_PATH_MAX + 160], dst[FTPS_PATH_MAX + 160];
	size_t	 len = strlen(c->keyauth);
	int	 fd, e, closed = 0;

	snprintf(dst, sizeof(dst), "%s%s", dir, c->token);
	snprintf(tmp, sizeof(tmp), "%s.%s.tmp", dir, c->token);
	(void)unlink(tmp);	/* a leftover of a killed run */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1 || fchmod(fd, 0644) == -1 ||
	    write(fd, c->keyauth, len) != (ssize_t)len ||
	    (closed = 1, close(fd)) == -1 || rename(tmp, dst) == -1) {
		e = errno;
		if (fd != -1) {
			if (!closed)
				(void)close(fd);
			(void)unlink(tmp);
		}
		snprintf(err, errlen, "--webroot: cannot write %.300s: %s",
		    dst, strerror(e));
		return -1;
	}
	return 0;
}

int
acme_http01_start(struct acme_http01 *h, char *err, size_t errlen)
{
	char	 dir[FTPS_PATH_MAX];
	int	 r;

	h->lfd = h->stop[0] = h->stop[1] = -1;
	h->running = 0;
	h->written = 0;
	if (h->webroot != NULL) {
		if (chal_webroot_dir(h->webroot, dir, sizeof(dir), err,
		    errlen) != 0)
			return -1;
		for (; h->written < h->n; h->written++)
			if (chal_webroot_put(dir, &h->chal[h->written], err,
			    errlen) != 0) {
				acme_http01_stop(h);
				return -1;
			}
		return 0;
	}
	if ((h->lfd = chal_listen(AF_INET6, h->port, err, errlen)) == -2)
		h->lfd = chal_listen(AF_INET, h->port, err, errlen);
	if (h->lfd < 0) {
		h->lfd = -1;
		return -1;
	}
	if (pipe2(h->stop, O_CLOEXEC) == -1)
		r = errno;
	else
		r = pthread_create(&h->thread, NULL, chal_thread, h);
	if (r != 0) {
		snprintf(err, errlen, "the HTTP-01 responder cannot start: %s",
		    strerror(r));
		acme_http01_stop(h);
		return -1;
	}
	h->running = 1;
	return 0;
}

void
acme_http01_stop(struct acme_http01 *h)
{
	char	 p[FTPS_PATH_MAX];
	size_t	 i;

	if (h->running) {
		close(h->stop[1]);
		h->stop[1] = -1;
		pthread_join(h->thread, NULL);
		h->running = 0;
	}
	if (h->lfd != -1)
		close(h->lfd);
	h->lfd = -1;
	for (i = 0; i < 2; i++) {
		if (h->stop[i] != -1)
			close(h->stop[i]);
		h->stop[i] = -1;
	}
	if (h->webroot != NULL)
		for (i = 0; i < h->written; i++) {
			snprintf(p, sizeof(p), "%s%s%s", h->webroot,
			    ACME_CHALLENGE_PATH, h->chal[i].token);
			(void)unlink(p);
		}
	h->written = 0;
}
