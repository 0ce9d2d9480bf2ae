# libcertstore unit tests.
check_PROGRAMS += tests/unit/check_certstore
tests_unit_check_certstore_SOURCES = tests/unit/check_certstore.c \
	tests/unit/runner.c \
	$(TESTUTIL)
tests_unit_check_certstore_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_certstore_LDADD = certstore/libcertstore.a lib/libftps.a \
	$(UNIT_LDADD)
TESTS += tests/unit/check_certstore

check_PROGRAMS += tests/unit/check_csx509
tests_unit_check_csx509_SOURCES = tests/unit/check_csx509.c \
	tests/unit/runner.c
tests_unit_check_csx509_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_csx509_LDADD = certstore/libcertstore.a lib/libftps.a \
	$(UNIT_LDADD)
TESTS += tests/unit/check_csx509

check_PROGRAMS += tests/unit/check_csca
tests_unit_check_csca_SOURCES = tests/unit/check_csca.c tests/unit/runner.c \
	$(TESTUTIL)
tests_unit_check_csca_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_csca_LDADD = certstore/libcertstore.a lib/libftps.a \
	$(UNIT_LDADD)
TESTS += tests/unit/check_csca
