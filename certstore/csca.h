/*
 * libcertstore: a small private CA kept in a folder that `openssl ca`
 * can also use (run it inside the folder with -config openssl.cnf):
 *	ca.crt		the CA certificate (CA:TRUE critical; pathlen 1 for a
 *			root, which may sign intermediates, 0 for those)
 *	ca.key		its key, PKCS#8, mode 0600, AES-256 when encrypted
 *	chain.pem	an intermediate CA's issuers, its own issuer first
 *	index.txt	the database, one tab-separated row per certificate:
 *			status (V, R, E), expiry, revocation[,reason],
 *			serial (hex), file (NAME.crt), subject
 *	index.txt.attr	"unique_subject = no" (renewals repeat subjects)
 *	serial		a fresh random serial for openssl ca (hex)
 *	crlnumber	the next CRL number (hex)
 *	newcerts/	SERIAL.pem, every certificate signed
 *	crl.pem		the last CRL
 *	openssl.cnf	openssl ca settings; [certmgr] crl_url
 *	.lock		flock()ed by every writer
 * Every database file is replaced whole (temporary file, fsync, rename)
 * under the lock, so a writer killed at any point leaves the previous or
 * the next state, never a mix; stale temporary files are removed by the
 * next writer.
 */
#ifndef FTPS_CSCA_H
#define FTPS_CSCA_H

#include <stddef.h>

#include <openssl/x509.h>

#include "csx509.h"

#define CS_CA_SUBDIR		"ca"
/*
 * index.txt is read and written with the same two limits, and a
 * signature that would take the database past either is refused before
 * anything is signed: certmgr can always read back what it wrote (a
 * database it cannot read could no longer revoke or publish a CRL).
 */
#define CS_CA_ROWS_MAX		50000	/* rows of index.txt */
#define CS_CA_DB_MAX		(32 * 1024 * 1024)	/* its bytes */
#define CS_CA_LOCK_WAIT		30	/* seconds before giving up */
#define CS_CRL_DAYS_DEFAULT	30
#define CS_CRL_DAYS_MAX		366

struct cs_dbrow {
	char	 status;		/* 'V', 'R' or 'E' */
	char	 expiry[24];
	char	 revoked[48];		/* "" or "YYMMDDHHMMSSZ[,reason]" */
	char	 serial[64];		/* upper-case hex, even length */
	char	 file[FTPS_NAME_MAX + 1];
	char	 subject[1024];
};

struct cs_db {
	struct cs_dbrow	*rows;
	size_t		 n, cap;
};

/* Parses index.txt text; label names it in err ("FILE:LINE: ..."). */
int	 cs_db_parse(const char *label, const char *text, size_t len,
	    struct cs_db *, char *err, size_t errlen);
/* The text of index.txt; *out is the caller's to free(). */
int	 cs_db_format(const struct cs_db *, char **out, size_t *len);
void	 cs_db_free(struct cs_db *);
/* The row of serial (any case, leading zeros ignored), or NULL. */
struct cs_dbrow	*cs_db_find(struct cs_db *, const char *serial);
/* Normalises a hex serial to openssl's form; 0 or FTPS_EPARSE. */
int	 cs_serial_norm(const char *in, char *out, size_t size);

/* RFC 5280 5.3.1 reason names as openssl ca writes them; -1 if unknown. */
int	 cs_reason_code(const char *name);
/* The name of an RFC 5280 reason code ("unspecified" when unknown). */
const char	*cs_reason_by_code(int code);
/* "unspecified, keyCompromise, ..." for messages. */
const char	*cs_reason_list(void);

struct cs_ca {
	char		 dir[FTPS_PATH_MAX];
	int		 dirfd;
	int		 lockfd;
	X509		*cert;
	STACK_OF(X509)	*chain;		/* chain.pem: its issuers, or NULL */
	EVP_PKEY	*key;		/* NULL until cs_ca_load_key() */
	char		 crl_url[CS_URL_MAX + 1];
};

/*
 * Creates the CA folder dir (refusing one that already holds ca.crt or
 * index.txt): key, self-signed CA certificate, database, openssl.cnf.
 * pass NULL leaves the key unencrypted.
 */
int	 cs_ca_init(const char *dir, const struct cs_subject *,
	    const char *keyspec, unsigned days, const char *crl_url,
	    const char *pass, size_t passlen, X509 **out, char *err,
	    size_t errlen);
/*
 * The same for an intermediate CA: its certificate is signed by parent
 * (open, key loaded), recorded in parent's database, and parent's
 * certificate and chain become chain.pem.
 */
int	 cs_ca_init_sub(const char *dir, const struct cs_subject *,
	    const char *keyspec, unsigned days, const char *crl_url,
	    const char *pass, size_t passlen, struct cs_ca *parent, X509 **out,
	    char *err, size_t errlen);
/*
 * A new certificate for the CA's own key, subject and extensions:
 * self-signed for a root (parent NULL; ca's key loaded), else signed by
 * parent (its key loaded) and recorded there.  Certificates the CA signed before keep
 * verifying: same name, same key.  Replaces ca.crt (and chain.pem).
 */
int	 cs_ca_renew(struct cs_ca *, struct cs_ca *parent, unsigned days,
	    X509 **out, char *err, size_t errlen);
/* Opens dir and reads ca.crt and openssl.cnf (no key, no lock). */
int	 cs_ca_open(struct cs_ca *, const char *dir, char *err, size_t errlen);
/* 1 for a self-signed (root) CA, 0 for an intermediate. */
int	 cs_ca_is_root(const struct cs_ca *);
/* Reads ca.key (asking pass when encrypted) and checks it fits ca.crt. */
int	 cs_ca_load_key(struct cs_ca *, const struct cs_pass *pass, char *err,
	    size_t errlen);
/* Refuses an expired or not yet valid CA certificate. */
int	 cs_ca_usable(struct cs_ca *, char *err, size_t errlen);
void	 cs_ca_close(struct cs_ca *);

/* The exclusive lock, waiting at most CS_CA_LOCK_WAIT seconds. */
int	 cs_ca_lock(struct cs_ca *, char *err, size_t errlen);
void	 cs_ca_unlock(struct cs_ca *);
int	 cs_ca_db_read(struct cs_ca *, struct cs_db *, char *err,
	    size_t errlen);
/* Under the lock: replaces index.txt atomically. */
int	 cs_ca_db_write(struct cs_ca *, const struct cs_db *, char *err,
	    size_t errlen);

/* One certificate to sign. */
struct cs_signreq {
	X509_NAME	*subject;
	EVP_PKEY	*pubkey;
	GENERAL_NAMES	*san;
	enum cs_purpose	 purpose;
	unsigned	 days;
	const char	*file;		/* NAME.crt, recorded in index.txt */
	const char	*supersedes;	/* serial revoked in the same update */
	int		 ca;		/* an intermediate CA, not a leaf */
	struct cs_txn	*txn;		/* NULL, or the certs folder's write */
	int		 replace;	/* cs_txn_commit()'s replace */
	int		 clamped;	/* out: cut to the CA's notAfter */
};

/*
 * Signs under the lock with a serial that is random and unused, then
 * records it: newcerts/SERIAL.pem, index.txt (with the superseded row
 * revoked), serial.  The key must be loaded.  Everything that can refuse
 * (validity, subject and file name fit a row, room in the database) is
 * checked before the signature.  With txn, the certificate is put into
 * it as file and the transaction committed once the database holds the
 * row; when that commit fails the row and newcerts file are taken back.
 * A refused or failed call leaves the CA folder as it was.
 */
int	 cs_ca_sign(struct cs_ca *, struct cs_signreq *, X509 **out,
	    char *err, size_t errlen);
/* Marks serial revoked with reason (NULL: unspecified). */
int	 cs_ca_revoke(struct cs_ca *, const char *serial, const char *reason,
	    char *err, size_t errlen);
/* Writes crl.pem (valid days) listing every revoked serial. */
int	 cs_ca_crl(struct cs_ca *, unsigned days, X509_CRL **out, char *err,
	    size_t errlen);

#endif
