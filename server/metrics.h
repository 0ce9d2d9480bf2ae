/*
 * Counters for ftpsdctl and the Prometheus endpoint (server/metrics.c).
 *
 * Every series is one slot of a fixed array (enum mt_series).  The array
 * lives in memory shared by the master and the workers, mapped before
 * they fork: each process adds only to its own row with relaxed atomics
 * (one add, no lock), and whoever answers a scrape sums the rows.
 * Gauges (sessions open, passive ports listening) go up and down in the
 * same row; the master zeroes the gauges of a worker that died.  The
 * families (name, type, HELP) and their series (labels) are declared
 * once, in the two lists below.
 */
#ifndef FTPS_METRICS_H
#define FTPS_METRICS_H

#include <stdint.h>

#include <openssl/ssl.h>

struct buf;
struct ftpsd;
struct session;

/* F(ID, name, type, help) */
#define MT_FAMILY_LIST(F)						\
	F(SESSIONS, "ftpsd_sessions", "gauge",				\
	    "Control connections open now, by the port they came to.")	\
	F(SESSIONS_TOTAL, "ftpsd_sessions_total", "counter",		\
	    "Control connections accepted, by port.")			\
	F(LOGINS, "ftpsd_logins_total", "counter",			\
	    "Logins by result and method.")				\
	F(TLS_HS, "ftpsd_tls_handshakes_total", "counter",		\
	    "TLS handshakes completed, by channel and protocol version.") \
	F(TLS_FAIL, "ftpsd_tls_handshake_failures_total", "counter",	\
	    "TLS handshakes that failed, by channel and reason.")	\
	F(DATA_REFUSED, "ftpsd_data_connections_refused_total", "counter", \
	    "Data connections refused, by reason.")			\
	F(XFERS, "ftpsd_transfers_total", "counter",			\
	    "File transfers ended, by direction and result.")		\
	F(XFER_BYTES, "ftpsd_transfer_bytes_total", "counter",		\
	    "Bytes of file transfers, by direction and result.")	\
	F(PASV_OPEN, "ftpsd_passive_ports_in_use", "gauge",		\
	    "Passive (PASV/EPSV) ports listening now.")			\
	F(PASV_EXHAUSTED, "ftpsd_passive_port_exhaustion_total", "counter", \
	    "PASV/EPSV refused because no port of the range was free.")	\
	F(RELOADS, "ftpsd_reloads_total", "counter",			\
	    "Reloads (SIGHUP or ftpsdctl reload), by result.")		\
	F(RESTARTS, "ftpsd_worker_restarts_total", "counter",		\
	    "Worker processes that died and were started again.")	\
	F(AUTH_QUEUE, "ftpsd_password_queue_length", "gauge",		\
	    "Password checks waiting for a thread of the password pool.")

#define MT_CTL_	"channel=\"control\","
#define MT_DATA_ "channel=\"data\","
#define MT_DOWN_ "direction=\"download\","
#define MT_UP_	"direction=\"upload\","

/* S(ID, family ID, labels) */
#define MT_SERIES_LIST(S)						\
	S(SESS_EXPLICIT, SESSIONS, "port=\"explicit\"")			\
	S(SESS_IMPLICIT, SESSIONS, "port=\"implicit\"")			\
	S(ACCEPT_EXPLICIT, SESSIONS_TOTAL, "port=\"explicit\"")		\
	S(ACCEPT_IMPLICIT, SESSIONS_TOTAL, "port=\"implicit\"")		\
	S(LOGIN_OK_PASSWORD, LOGINS, "result=\"ok\",method=\"password\"") \
	S(LOGIN_OK_CERT, LOGINS, "result=\"ok\",method=\"cert\"")	\
	S(LOGIN_OK_CERT_PASSWORD, LOGINS,				\
	    "result=\"ok\",method=\"cert+password\"")			\
	S(LOGIN_OK_ANONYMOUS, LOGINS, "result=\"ok\",method=\"anonymous\"") \
	S(LOGIN_FAIL_PASSWORD, LOGINS,					\
	    "result=\"fail\",method=\"password\"")			\
	S(LOGIN_FAIL_CERT, LOGINS, "result=\"fail\",method=\"cert\"")	\
	S(LOGIN_FAIL_CERT_PASSWORD, LOGINS,				\
	    "result=\"fail\",method=\"cert+password\"")			\
	S(LOGIN_FAIL_ANONYMOUS, LOGINS,					\
	    "result=\"fail\",method=\"anonymous\"")			\
	S(HS_CTRL_12, TLS_HS, MT_CTL_ "version=\"TLSv1.2\"")		\
	S(HS_CTRL_13, TLS_HS, MT_CTL_ "version=\"TLSv1.3\"")		\
	S(HS_DATA_12, TLS_HS, MT_DATA_ "version=\"TLSv1.2\"")		\
	S(HS_DATA_13, TLS_HS, MT_DATA_ "version=\"TLSv1.3\"")		\
	S(HSF_CTRL_PROTOCOL, TLS_FAIL, MT_CTL_ "reason=\"protocol_version\"") \
	S(HSF_CTRL_CIPHER, TLS_FAIL, MT_CTL_ "reason=\"no_shared_cipher\"") \
	S(HSF_CTRL_CERT, TLS_FAIL, MT_CTL_ "reason=\"client_certificate\"") \
	S(HSF_CTRL_NOT_TLS, TLS_FAIL, MT_CTL_ "reason=\"not_tls\"")	\
	S(HSF_CTRL_TIMEOUT, TLS_FAIL, MT_CTL_ "reason=\"timeout\"")	\
	S(HSF_CTRL_CLOSED, TLS_FAIL, MT_CTL_ "reason=\"closed\"")	\
	S(HSF_CTRL_OTHER, TLS_FAIL, MT_CTL_ "reason=\"other\"")		\
	S(HSF_DATA_PROTOCOL, TLS_FAIL, MT_DATA_ "reason=\"protocol_version\"") \
	S(HSF_DATA_CIPHER, TLS_FAIL, MT_DATA_ "reason=\"no_shared_cipher\"") \
	S(HSF_DATA_CERT, TLS_FAIL, MT_DATA_ "reason=\"client_certificate\"") \
	S(HSF_DATA_NOT_TLS, TLS_FAIL, MT_DATA_ "reason=\"not_tls\"")	\
	S(HSF_DATA_TIMEOUT, TLS_FAIL, MT_DATA_ "reason=\"timeout\"")	\
	S(HSF_DATA_CLOSED, TLS_FAIL, MT_DATA_ "reason=\"closed\"")	\
	S(HSF_DATA_OTHER, TLS_FAIL, MT_DATA_ "reason=\"other\"")	\
	S(REFUSED_NOT_RESUMED, DATA_REFUSED, "reason=\"not_resumed\"")	\
	S(REFUSED_FOREIGN_SESSION, DATA_REFUSED,			\
	    "reason=\"foreign_session\"")				\
	S(REFUSED_WRONG_PEER, DATA_REFUSED, "reason=\"wrong_peer\"")	\
	S(REFUSED_NO_PROT_P, DATA_REFUSED, "reason=\"no_prot_p\"")	\
	S(XFER_DOWN_OK, XFERS, MT_DOWN_ "result=\"ok\"")		\
	S(XFER_DOWN_ABORTED, XFERS, MT_DOWN_ "result=\"aborted\"")	\
	S(XFER_DOWN_FAIL, XFERS, MT_DOWN_ "result=\"fail\"")		\
	S(XFER_UP_OK, XFERS, MT_UP_ "result=\"ok\"")			\
	S(XFER_UP_ABORTED, XFERS, MT_UP_ "result=\"aborted\"")		\
	S(XFER_UP_FAIL, XFERS, MT_UP_ "result=\"fail\"")		\
	S(BYTES_DOWN_OK, XFER_BYTES, MT_DOWN_ "result=\"ok\"")		\
	S(BYTES_DOWN_ABORTED, XFER_BYTES, MT_DOWN_ "result=\"aborted\"") \
	S(BYTES_DOWN_FAIL, XFER_BYTES, MT_DOWN_ "result=\"fail\"")	\
	S(BYTES_UP_OK, XFER_BYTES, MT_UP_ "result=\"ok\"")		\
	S(BYTES_UP_ABORTED, XFER_BYTES, MT_UP_ "result=\"aborted\"")	\
	S(BYTES_UP_FAIL, XFER_BYTES, MT_UP_ "result=\"fail\"")		\
	S(PASV_OPEN, PASV_OPEN, "")					\
	S(PASV_EXHAUSTED, PASV_EXHAUSTED, "")				\
	S(RELOAD_OK, RELOADS, "result=\"ok\"")				\
	S(RELOAD_FAIL, RELOADS, "result=\"fail\"")			\
	S(RESTARTS, RESTARTS, "")					\
	S(AUTH_QUEUE, AUTH_QUEUE, "")

#define MT_FAMILY_ENUM_(id, name, type, help)	MTF_##id,
enum mt_family { MT_FAMILY_LIST(MT_FAMILY_ENUM_) MT_NFAMILIES };
#define MT_SERIES_ENUM_(id, fam, labels)	MT_##id,
enum mt_series { MT_SERIES_LIST(MT_SERIES_ENUM_) MT_NSERIES };

/* Why a TLS handshake failed: an offset from the channel's first reason. */
enum mt_tls_why {
	MT_WHY_PROTOCOL, MT_WHY_CIPHER, MT_WHY_CERT, MT_WHY_NOT_TLS,
	MT_WHY_TIMEOUT, MT_WHY_CLOSED, MT_WHY_OTHER
};

/*
 * The table: one row per process that counts (row 0: a single process or
 * the master; row w: worker w), mapped shared.  0 or FTPS_ESYS.
 */
struct mt_table;
int	 mt_new(unsigned nrows, struct mt_table **);
void	 mt_free(struct mt_table *);

/* Adds n to series i of row (the caller's own row only). */
void	 mt_add(struct mt_table *, unsigned row, enum mt_series i, int64_t n);
/* Sets series i of row to v (a gauge read when a scrape asks). */
void	 mt_set(struct mt_table *, unsigned row, enum mt_series i, int64_t v);
/* The sum of series i over all rows. */
int64_t	 mt_sum(const struct mt_table *, enum mt_series i);
/* The master, after a worker died: its gauges go back to 0. */
void	 mt_zero_gauges(struct mt_table *, unsigned row);

/*
 * The counting points, each one call where the event happens; they
 * find the table and row in the context and do nothing without one.
 */
void	 mt_inc(struct ftpsd *, enum mt_series);
void	 mt_dec(struct ftpsd *, enum mt_series);
/* ok: logged in, else refused; cert/anonymous by how the account logs in. */
void	 mt_login(struct session *, int ok);
/* A completed handshake (data: a data connection's) and its version. */
void	 mt_tls_ok(struct session *, int data, SSL *);
/*
 * A failed handshake: the OpenSSL error e (0: none), or a timeout or
 * an EOF; cert: a client certificate was refused.
 */
void	 mt_tls_fail(struct session *, int data, unsigned long e,
	    int timeout, int cert);
/* A refused data connection: an enum tls_offer cause. */
void	 mt_refused_offer(struct session *, int offer);
/* A transfer's end: upload or download, result "ok", "aborted", other. */
void	 mt_xfer(struct session *, int upload, const char *result,
	    unsigned long long bytes);

/* What a scrape adds to the table: the state of the answering worker. */
struct mt_extra {
	int64_t		 bans;		/* addresses banned now */
	SSL_CTX		*ssl_ctx;	/* certificates' expiry; NULL: none */
};
/*
 * The whole scrape in the Prometheus text format (0.0.4), every family
 * with its HELP and TYPE.  0 or FTPS_ETOOBIG.
 */
int	 mt_render(const struct mt_table *, const struct mt_extra *,
	    struct buf *);

#endif
