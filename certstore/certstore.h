/*
 * libcertstore: the only code that reads or writes a certs folder.  A
 * folder holds NAME.crt + NAME.key (+ optional NAME.chain, NAME.csr), and
 * marks its default certificate (what ftpsd loads when its configuration
 * names none).  certmgr and ftpsd both link this library so they agree on
 * what a folder holds.
 *
 * The folder, as written by certmgr:
 *	NAME.key	the private key, PKCS#8 PEM, unencrypted, mode 0600
 *	NAME.crt	the certificate, PEM (more certificates after the
 *			first one are read as chain, like a "fullchain.pem")
 *	NAME.chain	optional intermediates, PEM, leaf's issuer first
 *	NAME.csr	optional request, kept so that the pair can be renewed
 *	.default	optional: one line holding the default NAME, replaced
 *			atomically by cs_set_default().  When there is no
 *			.default and exactly one NAME has both a .crt and a
 *			.key, that pair is the default.
 *	ca/		optional private CA (see csca.h)
 *
 * NAME: 1 to FTPS_CERTNAME_MAX characters from [A-Za-z0-9._-], starting
 * with a letter or digit, no "..".  Files whose name starts with a dot
 * are never pairs (temporary files are ".NAME.ext.XXXXXXXX").
 *
 * Every function returns 0 or a negative FTPS_E* code (err.h).  Functions
 * taking err/errlen write one line there on failure, naming the file and
 * what is wrong; err may be NULL.  Private key material never appears in
 * err.
 */
#ifndef FTPS_CERTSTORE_H
#define FTPS_CERTSTORE_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ftps_limits.h"

#define CS_DEFAULT_FILE		".default"
#define CS_FILE_MAX		(1024 * 1024)	/* bytes read from one input */
#define CS_CHAIN_MAX		16	/* certificates in one file */
#define CS_ERR_MAX		512	/* a comfortable err buffer size */
#define CS_PASS_MAX		1024	/* a passphrase, NUL included */
#define CS_TXN_MAX		8	/* files in one cs_txn */

/*
 * The folder's default NAME into name.  0, FTPS_ENOENT (none marked and
 * not exactly one pair present), or another FTPS_E code; err receives a
 * one-line reason naming the file.
 */
int	 cs_default_name(const char *dir, char *name, size_t len,
	    char *err, size_t errlen);

/*
 * Loads NAME.crt, NAME.key and, when present, NAME.chain from dir (name
 * NULL: the default).  Refuses, with err naming the file and what is
 * wrong, a missing or unreadable file, an encrypted key, a key that does
 * not match the certificate, a key too weak to serve (RSA < 2048, DSA;
 * see csx509.h), or an expired or not-yet-valid certificate.  On success the
 * caller owns *cert, *key and *chain (*chain may be NULL).
 */
int	 cs_load_pair(const char *dir, const char *name, X509 **cert,
	    EVP_PKEY **key, STACK_OF(X509) **chain, char *err, size_t errlen);

/* Formats err (may be NULL) and returns r. */
int	 cs_err(char *err, size_t errlen, int r, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/*
 * The same, followed by ": " and the reason of OpenSSL's last queued
 * error (when there is one); clears OpenSSL's error queue.
 */
int	 cs_err_ssl(char *err, size_t errlen, int r, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* 0 when name follows the NAME rules above, else FTPS_EPARSE with err. */
int	 cs_name_check(const char *name, char *err, size_t errlen);

/*
 * Reads a whole regular file (following symlinks) of at most CS_FILE_MAX
 * bytes.  *data (NUL-terminated, *len excludes the NUL) is the caller's
 * to free with cs_data_free(), which zeroes it first.  FTPS_ENOENT when
 * the file does not exist.  cs_read_at() reads fname inside dirfd, and
 * names it "label/fname" in err; cs_read_at_max() with another limit
 * (the CA database's, which writers keep to as well).
 */
int	 cs_read_file(const char *path, unsigned char **data, size_t *len,
	    char *err, size_t errlen);
int	 cs_read_at(int dirfd, const char *label, const char *fname,
	    unsigned char **data, size_t *len, char *err, size_t errlen);
int	 cs_read_at_max(int dirfd, const char *label, const char *fname,
	    size_t max, unsigned char **data, size_t *len, char *err,
	    size_t errlen);
void	 cs_data_free(unsigned char *, size_t);

/*
 * Where passphrases come from.  get() writes a NUL-terminated passphrase
 * for the object named what into buf (size bytes) and returns its length,
 * or -1 (none available: err is then the caller's business).  verify
 * asks for a new passphrase to be typed twice.  The library copies it
 * only into buffers it cleanses.
 */
struct cs_pass {
	int	(*get)(void *arg, const char *what, int verify, char *buf,
		    size_t size);
	void	*arg;
};

/* What one input file held. */
struct cs_bundle {
	EVP_PKEY	*key;		/* NULL: none */
	STACK_OF(X509)	*certs;		/* never NULL after cs_decode; order kept */
	X509_REQ	*csr;		/* NULL: none */
	int		 encrypted;	/* a passphrase was needed */
	int		 pkcs12;	/* the input was PKCS#12 */
};

/*
 * Decodes label's contents: PEM (any number of certificates, one private
 * key in PKCS#8, encrypted PKCS#8 or traditional form, legacy-encrypted
 * or not, one CSR), DER (one certificate, key or CSR) or PKCS#12.  pass
 * NULL refuses an encrypted input with FTPS_EDENIED.  Truncated or
 * corrupt input, a wrong passphrase, two keys, or nothing usable: err
 * names label and the problem.  cs_bundle_free() frees a zeroed or
 * decoded bundle.
 */
int	 cs_decode(const char *label, const unsigned char *data, size_t len,
	    const struct cs_pass *pass, struct cs_bundle *b, char *err,
	    size_t errlen);
int	 cs_decode_file(const char *path, const struct cs_pass *pass,
	    struct cs_bundle *b, char *err, size_t errlen);
void	 cs_bundle_free(struct cs_bundle *);

/* 1 when key is the private half of cert's public key, else 0. */
int	 cs_pair_matches(X509 *cert, EVP_PKEY *key);

/* One NAME of a folder, with the files it has. */
#define CS_HAS_CRT	0x01
#define CS_HAS_KEY	0x02
#define CS_HAS_CHAIN	0x04
#define CS_HAS_CSR	0x08
struct cs_entry {
	char		 name[FTPS_CERTNAME_MAX + 1];
	unsigned	 has;		/* CS_HAS_* */
};

/*
 * Every NAME of dir that has at least one of the four files, sorted by
 * name.  *ents is the caller's to free().
 */
int	 cs_list(const char *dir, struct cs_entry **ents, size_t *n,
	    char *err, size_t errlen);
/* Which of NAME's files exist (CS_HAS_*), or a negative FTPS_E code. */
int	 cs_files(const char *dir, const char *name, char *err, size_t errlen);

/* Marks name (which must have a .crt) as dir's default, atomically. */
int	 cs_set_default(const char *dir, const char *name, char *err,
	    size_t errlen);
/* The marked default into name ("" when none is marked). */
int	 cs_marked_default(const char *dir, char *name, size_t len,
	    char *err, size_t errlen);
/*
 * Renames every file of OLD to NEW (refusing when any NEW file exists)
 * and moves the default mark along.  On failure nothing was renamed.
 */
int	 cs_rename(const char *dir, const char *from, const char *to,
	    char *err, size_t errlen);
/* Removes every file of name and its default mark. */
int	 cs_delete(const char *dir, const char *name, char *err,
	    size_t errlen);

/*
 * An all-or-nothing write of up to CS_TXN_MAX files in one folder.  Each
 * cs_txn_put() writes a temporary ".FILE.XXXXXXXX" beside the target
 * with O_CREAT|O_EXCL|O_NOFOLLOW (secret: mode 0600 from the first
 * byte, whatever the umask) and fsyncs it; cs_txn_commit() renames them
 * over their targets (renameat(): a symlink planted at a target is
 * replaced, never followed), removes the files given to
 * cs_txn_unlink(), and fsyncs the folder.  Without replace, commit
 * refuses with FTPS_EEXIST when any target exists and no target is
 * touched.  cs_txn_end() removes whatever temporary file is left and
 * must always be called.
 *
 * Run as root in a folder that belongs to another user (the service
 * user's certs_dir), every file is given to the folder's owner and group
 * before it is renamed into place (keys keep mode 0600), so that the
 * service can read it at its next reload; the first commit that does so
 * in a process says it once on stderr.
 */
struct cs_txn {
	int		 dirfd;
	int		 chown;			/* give files to owner:group */
	uid_t		 owner;
	gid_t		 group;
	const char	*label;			/* the folder, for err */
	int		 n, nunlink;
	struct {
		char	 tmp[FTPS_NAME_MAX + 1];
		char	 dst[FTPS_NAME_MAX + 1];
		int	 done;
	}		 f[CS_TXN_MAX];
	char		 unlink[CS_TXN_MAX][FTPS_NAME_MAX + 1];
};
int	 cs_txn_begin(struct cs_txn *, const char *dir, char *err,
	    size_t errlen);
int	 cs_txn_put(struct cs_txn *, const char *fname, const void *data,
	    size_t len, int secret, char *err, size_t errlen);
int	 cs_txn_unlink(struct cs_txn *, const char *fname);
int	 cs_txn_commit(struct cs_txn *, int replace, char *err,
	    size_t errlen);
void	 cs_txn_end(struct cs_txn *);

#endif
