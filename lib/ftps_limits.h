/*
 * Every fixed bound of ftpsd and certmgr lives here, so that a reviewer
 * can see at one glance how much memory and time a hostile peer may cost.
 */
#ifndef FTPS_LIMITS_H
#define FTPS_LIMITS_H

#define FTPS_LINE_MAX		4096	/* one control line, CRLF included */
#define FTPS_PATH_MAX		4096	/* a normalised virtual path */
#define FTPS_NAME_MAX		255	/* one path component */
#define FTPS_USER_MAX		64	/* a login name */
#define FTPS_PASS_MAX		256	/* a password */
#define FTPS_REPLY_MAX		8192	/* one formatted reply */
#define FTPS_LISTEN_MAX		16	/* listen_addresses entries */
#define FTPS_CONF_LINE_MAX	4096	/* one ftpsd.conf line */
#define FTPS_USERS_MAX		100000	/* users_file entries */
#define FTPS_LISTING_MAX	(64u * 1024 * 1024)	/* ls_format(): a whole listing */
#define FTPS_XFER_CHUNK		(128u * 1024)	/* bytes read from a file at once */
#define FTPS_XFER_HIWAT		(512u * 1024)	/* output queued before pausing */
#define FTPS_AUTH_THREADS	2	/* password hashing workers */
#define FTPS_AUTH_QUEUE_MAX	1024	/* pending password checks */
#define FTPS_CERTNAME_MAX	64	/* a certs folder NAME */
#define FTPS_HOSTS_MAX		64	/* [host NAME] sections */
#define FTPS_HOST_ALIASES_MAX	16	/* aliases of one [host] */
#define FTPS_HOSTNAME_MAX	253	/* a DNS name (RFC 1035 2.3.4) */

#endif
