/* tests/unit/testutil.c: helpers shared by the unit test programs. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <check.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "testutil.h"

static int
tu_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == -1 ? -1 : 0;
}

void
tu_rmtree(const char *dir)
{
	struct stat	 st;

	if (nftw(dir, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
	    errno != ENOENT)
		ck_abort_msg("removing %s failed", dir);
	ck_assert_msg(lstat(dir, &st) == -1 && errno == ENOENT,
	    "%s still exists", dir);
}

int
tu_count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

void
tu_selfsigned(EVP_PKEY **keyp, X509 **certp)
{
	EVP_PKEY	*key;
	X509		*x;
	X509_NAME	*n;

	ck_assert_ptr_nonnull(key = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	ck_assert_ptr_nonnull(x = X509_new());
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	ck_assert_int_eq(X509_set_issuer_name(x, n), 1);
	ck_assert_int_eq(X509_set_pubkey(x, key), 1);
	ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
	*keyp = key;
	*certp = x;
}
