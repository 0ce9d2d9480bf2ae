# libcertstore unit tests.
check_PROGRAMS += tests/unit/check_certstore
tests_unit_check_certstore_SOURCES = tests/unit/check_certstore.c \
	tests/unit/runner.c
tests_unit_check_certstore_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_certstore_LDADD = certmgr/libcertstore.a lib/libftps.a \
	$(UNIT_LDADD)
TESTS += tests/unit/check_certstore
