/*
 * The data connection of one session (RFC 959 3.2, RFC 2428): a passive
 * listener (PASV/EPSV) or an active target (PORT/EPRT), then one connected
 * socket, checked against the control peer, and with PROT P a TLS server
 * handshake that must resume this control connection's TLS session
 * (RFC 4217 10.2).
 */
#ifndef FTPS_DATACHAN_H
#define FTPS_DATACHAN_H

#include <sys/socket.h>

/*
 * A PROT P data connection's TLS record read buffer: with read_ahead one
 * recv() takes in several 16 KiB records (kept here, not in lib/'s
 * ftps_limits.h, which this module does not own).
 */
#define DC_RBUF_LEN	(64u * 1024)

struct bufferevent;
struct session;

enum dc_event {
	DC_EV_CONNECTED,	/* TCP up: time for the 150 reply */
	DC_EV_READY,		/* TLS (if any) done: bev is usable */
	DC_EV_FAIL,		/* code and text say why; reply them */
};

typedef void	(*dc_cb)(struct session *, enum dc_event,
		    struct bufferevent *bev, int code, const char *text);

/*
 * PASV/EPSV: listens on a random port in pasv_min_port..pasv_max_port on
 * the control connection's local address; *port receives it.
 * 0 or FTPS_ESYS.
 */
int		 dc_passive(struct session *, unsigned *port);
/* PORT/EPRT: remembers the (already policy-checked) target. */
void		 dc_active(struct session *, const struct sockaddr_storage *);
/*
 * A PASV/EPSV/PORT/EPRT is in effect.  The command gate refuses a transfer
 * command without one: 425 DC_NOT_SET_UP.
 */
int		 dc_configured(const struct session *);
#define DC_NOT_SET_UP	"Use PORT, EPRT, PASV or EPSV first."
/*
 * Makes the connection for a transfer command and reports through cb:
 * CONNECTED, then READY or FAIL; or FAIL directly (425: no connection,
 * foreign peer, timeout; 522: TLS session not resumed).
 */
void		 dc_open(struct session *, dc_cb);
/*
 * Ends the data connection.  graceful: a TLS close_notify first, then a
 * half-close and a short drain so the peer reads everything (no RST).
 */
void		 dc_close(struct session *, int graceful);

#endif
