# server/: the ftpsd daemon.  libserver.a holds everything but main(), so
# the unit tests drive sessions and the command table without a network.
noinst_LIBRARIES += server/libserver.a
server_libserver_a_SOURCES = server/ftpsd.h \
	server/session.c server/session.h \
	server/cmd.c server/cmd.h server/cmd_auth.c server/cmd_fs.c \
	server/cmd_xfer.c \
	server/datachan.c server/datachan.h \
	server/transfer.c server/transfer.h server/xferio.c server/xferio.h \
	server/iopool.c server/iopool.h \
	server/tls.c server/tls.h server/mtls.c server/mtls.h \
	server/vhost.c server/vhost.h \
	server/listener.c server/listener.h \
	server/load.c server/load.h \
	server/ops.c server/ops.h \
	server/privdrop.c server/privdrop.h \
	server/preflight.c server/preflight.h \
	server/sdnotify.c server/sdnotify.h \
	server/xferlog.c server/xferlog.h \
	server/shm.c server/shm.h \
	server/worker.c server/worker.h \
	server/ctl.c server/ctl.h server/ctlclaim.c server/ctlclaim.h \
	server/metrics.c server/metrics.h

FTPSD_LDADD = server/libserver.a server/libvfs.a server/libauth.a \
	config/libconf.a certstore/libcertstore.a lib/libftps.a \
	$(OPENSSL_LIBS) $(LIBEVENT_LIBS) $(LIBCRYPT_LIBS) $(PTHREAD_LIBS)

sbin_PROGRAMS += server/ftpsd
server_ftpsd_SOURCES = server/main.c
server_ftpsd_LDADD = $(FTPSD_LDADD)
EXTRA_DIST += docs/server.md docs/mtls.md docs/vhosts.md

# Worker processes (server/worker.c, server/shm.c).
TESTS += tests/integration/test_workers.py
EXTRA_DIST += tests/integration/test_workers.py

check_PROGRAMS += tests/unit/check_shm
tests_unit_check_shm_SOURCES = tests/unit/check_shm.c tests/unit/runner.c
tests_unit_check_shm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_shm_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_shm

check_PROGRAMS += tests/unit/check_ctlclaim
tests_unit_check_ctlclaim_SOURCES = tests/unit/check_ctlclaim.c \
	tests/unit/runner.c
tests_unit_check_ctlclaim_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_ctlclaim_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_ctlclaim
