# Check unit tests: one program per module, each tests/unit/check_<module>.c
# plus the shared runner.c whose main() runs the module's unit_suite().
# Fragments for each owner's tests are included below.
UNIT_LDADD = $(CHECK_LIBS) $(OPENSSL_LIBS) $(LIBEVENT_LIBS) $(LIBCRYPT_LIBS) $(PTHREAD_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
# Helpers shared by the test programs (tree removal, descriptor count).
TESTUTIL = tests/unit/testutil.c tests/unit/testutil.h

check_PROGRAMS += tests/unit/check_lib
tests_unit_check_lib_SOURCES = tests/unit/check_lib.c tests/unit/runner.c
tests_unit_check_lib_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_lib_LDADD = lib/libftps.a $(UNIT_LDADD)
TESTS += tests/unit/check_lib

include tests/unit/conf.mk
include tests/unit/mod.mk
include tests/unit/auth.mk
include tests/unit/cert.mk
include tests/unit/server.mk
