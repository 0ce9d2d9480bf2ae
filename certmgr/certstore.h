/*
 * libcertstore: the only code that reads or writes a certs folder.  A
 * folder holds NAME.crt + NAME.key (+ optional NAME.chain, NAME.csr), and
 * marks its default certificate (what ftpsd loads when its configuration
 * names none).  certmgr and ftpsd both link this library so they agree on
 * what a folder holds.
 */
#ifndef FTPS_CERTSTORE_H
#define FTPS_CERTSTORE_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

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
 * wrong, a missing or unreadable file, a key that does not match the
 * certificate, or an expired or not-yet-valid certificate.  On success the
 * caller owns *cert, *key and *chain (*chain may be NULL).
 */
int	 cs_load_pair(const char *dir, const char *name, X509 **cert,
	    EVP_PKEY **key, STACK_OF(X509) **chain, char *err, size_t errlen);

#endif
