# tests/unit/server.mk: the daemon's line reader, command table and
# handlers, driven over socketpairs without a network.
SERVER_TEST_LDADD = server/libserver.a server/libvfs.a server/libauth.a \
	config/libconf.a certstore/libcertstore.a lib/libftps.a $(UNIT_LDADD)

check_PROGRAMS += tests/unit/check_session
tests_unit_check_session_SOURCES = tests/unit/check_session.c tests/unit/runner.c
tests_unit_check_session_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_session_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_session

check_PROGRAMS += tests/unit/check_cmd
tests_unit_check_cmd_SOURCES = tests/unit/check_cmd.c tests/unit/runner.c \
	$(TESTUTIL)
tests_unit_check_cmd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cmd_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_cmd

check_PROGRAMS += tests/unit/check_mtls
tests_unit_check_mtls_SOURCES = tests/unit/check_mtls.c tests/unit/runner.c
tests_unit_check_mtls_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_mtls_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_mtls

# datachan.c and transfer.c on a session whose control connection is a
# socketpair and whose data connections go over 127.0.0.1 (sesstest.c).
SESSTEST = tests/unit/sesstest.c tests/unit/sesstest.h $(TESTUTIL)

check_PROGRAMS += tests/unit/check_datachan
tests_unit_check_datachan_SOURCES = tests/unit/check_datachan.c \
	tests/unit/runner.c $(SESSTEST)
tests_unit_check_datachan_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_datachan_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_datachan

check_PROGRAMS += tests/unit/check_transfer
tests_unit_check_transfer_SOURCES = tests/unit/check_transfer.c \
	tests/unit/runner.c $(SESSTEST)
tests_unit_check_transfer_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_transfer_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_transfer

# The file I/O pool's fair share between owners (iopool.c).
check_PROGRAMS += tests/unit/check_iopool
tests_unit_check_iopool_SOURCES = tests/unit/check_iopool.c tests/unit/runner.c
tests_unit_check_iopool_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_iopool_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_iopool
