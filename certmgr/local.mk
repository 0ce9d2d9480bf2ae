# certmgr/: the certmgr CLI over libcertstore (certstore/).
bin_PROGRAMS += certmgr/certmgr
certmgr_certmgr_SOURCES = certmgr/main.c certmgr/cli.h certmgr/cli.c \
	certmgr/create.c certmgr/list.c certmgr/rename.c \
	certmgr/import.c certmgr/ca.c certmgr/verify.c certmgr/renew.c \
	certmgr/export.c certmgr/state.c certmgr/opts.c certmgr/reload.c \
	certmgr/acme.h certmgr/acme.c certmgr/acmehttp.c certmgr/acmechal.c
certmgr_certmgr_LDADD = certstore/libcertstore.a config/libconf.a lib/libftps.a \
	$(OPENSSL_LIBS) $(LIBCURL_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS)

# CLI tests, checked with the openssl command (tests/certmgr/).
TESTS += tests/certmgr/test_cli.sh
EXTRA_DIST += tests/certmgr/test_cli.sh
EXTRA_DIST += docs/certmgr.md
