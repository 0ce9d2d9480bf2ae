# certmgr/: libcertstore (what the server links too) and the certmgr CLI.
noinst_LIBRARIES += certmgr/libcertstore.a
certmgr_libcertstore_a_SOURCES = certmgr/certstore.h certmgr/certstore.c \
	certmgr/cs_decode.c
certmgr_libcertstore_a_SOURCES += certmgr/csx509.h certmgr/csx509.c \
	certmgr/cs_country.c certmgr/csca.h certmgr/cs_ca.c

bin_PROGRAMS += certmgr/certmgr
certmgr_certmgr_SOURCES = certmgr/main.c certmgr/cli.h certmgr/cli.c \
	certmgr/create.c certmgr/list.c certmgr/rename.c \
	certmgr/import.c certmgr/ca.c certmgr/verify.c certmgr/renew.c \
	certmgr/export.c certmgr/state.c certmgr/opts.c
certmgr_certmgr_LDADD = certmgr/libcertstore.a config/libconf.a lib/libftps.a \
	$(OPENSSL_LIBS)

# CLI tests, checked with the openssl command (tests/certmgr/).
TESTS += tests/certmgr/test_cli.sh
EXTRA_DIST += tests/certmgr/test_cli.sh
EXTRA_DIST += docs/certmgr.md
