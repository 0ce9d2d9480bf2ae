/*
 * proxy_protocol on the wire: reading a PROXY header off a new control
 * or passive data connection before anything else (the 220 greeting, the
 * implicit port's ClientHello, the data connection's TLS handshake),
 * within login_timeout; refusing headers from untrusted addresses.  The
 * parsers are server/proxy.c's.  docs/scale-out.md.
 */
#ifndef FTPS_PROXYCONN_H
#define FTPS_PROXYCONN_H

#include <sys/socket.h>

struct ftpsd;
struct listener;
struct session;
struct conf;

/* 1 when addr is in proxy_trusted. */
int	 proxy_is_trusted(const struct conf *, const struct sockaddr_storage *);
/*
 * A new control connection while proxy_protocol is on.  From a trusted
 * address: reads the header, then lst_serve()s the client it names; a
 * header without a client address (v2 LOCAL, a health check; v2 PROXY
 * with no TCP address; v1 UNKNOWN) serves the connection's real peer,
 * the balancer, as the client (proxy-protocol.txt 2.1, 2.2).  From any
 * other address on the implicit port: refuses one
 * that starts with a PROXY header, else admits it as it is; on the
 * explicit port it is admitted at once (proxy_sess_input() watches its
 * first bytes).  Every refusal is one log line and a close.
 */
void	 proxy_accept(struct listener *, int fd,
	    const struct sockaddr_storage *peer);
/*
 * sess_new()'s flags for client through via (NULL: direct): SF_BALANCER
 * | SF_QUIET when the client is the balancer itself, else 0.
 */
unsigned proxy_sess_flags(const struct sockaddr_storage *client,
	    const struct sockaddr_storage *via);
/*
 * After sess_new(): sets via and marks a session proxied (SF_PROXIED:
 * via names another client), or to be sniffed (direct, explicit port).
 */
void	 proxy_sess_init(struct session *, const struct sockaddr_storage *via);
/*
 * SF_PROXY_SNIFF: looks at the first bytes the client sent.  1 when the
 * session must not read commands now (a PROXY header: it is closing; or
 * too few bytes to tell), else 0.
 */
int	 proxy_sess_input(struct session *);
/* Control connections still sending their header: closed and freed. */
void	 proxy_conn_free_all(struct ftpsd *);

/*
 * A passive data connection accepted for a session that came through a
 * balancer (SF_PROXIED or SF_BALANCER), from a trusted address.
 * proxy_data = trust: done(s, fd, NULL) at once when it comes from the
 * balancer that carried the control connection (s->via).  header: reads
 * its PROXY header; done(s, fd, NULL) when it names the control
 * connection's client (a header without an address names the
 * connection's real peer).  Else done(s, -1, 425-text reason) after
 * closing fd and logging.  Returns the pending reader for
 * proxy_dc_cancel (NULL when done already ran).
 */
struct proxy_conn;
typedef void	(*proxy_dc_cb)(struct session *, int fd, const char *why);
struct proxy_conn *proxy_dc_accept(struct session *, int fd,
	    const struct sockaddr_storage *peer, proxy_dc_cb done);
/* Stops a pending data header read and closes its connection. */
void	 proxy_dc_cancel(struct proxy_conn *);
/* 1 when active mode (PORT/EPRT) cannot work: the session is proxied. */
int	 proxy_no_active(const struct session *);

#endif
