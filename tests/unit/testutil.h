/*
 * tests/unit/testutil.h: helpers every unit test program may link
 * (tests/unit/testutil.c), so no test carries its own copy.
 */
#ifndef FTPS_TESTUTIL_H
#define FTPS_TESTUTIL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * Removes dir and everything beneath it, never following a symlink;
 * a missing dir is not an error.  Fails the test when something stays.
 */
void	 tu_rmtree(const char *dir);
/* Open descriptors of this process, to prove none is leaked. */
int	 tu_count_fds(void);

/*
 * A fresh P-256 key and a self-signed certificate for it (CN localhost,
 * valid from a minute ago for an hour).  The caller frees both.
 */
void	 tu_selfsigned(EVP_PKEY **, X509 **);

#endif
