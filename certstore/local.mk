# certstore/: libcertstore, the only code that reads or writes a certs
# folder; certmgr and the server link it, so they agree on what it holds.
#   store.c    the folder: NAME files, default mark, atomic writes
#   decode.c   every key and certificate format certmgr imports
#   x509.c     the X.509 policy: keys, names, signing (csx509.h)
#   country.c  ISO 3166-1 country codes
#   ca.c       the private CA and its openssl-ca database (csca.h)
noinst_LIBRARIES += certstore/libcertstore.a
certstore_libcertstore_a_SOURCES = certstore/certstore.h certstore/store.c \
	certstore/decode.c certstore/csx509.h certstore/x509.c \
	certstore/country.c certstore/csca.h certstore/ca.c
