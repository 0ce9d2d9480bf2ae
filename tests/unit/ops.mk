# tests/unit/ops.mk: xferlog lines, the sd_notify and LISTEN_FDS protocols,
# user lookup (server/xferlog.c, sdnotify.c, privdrop.c).
check_PROGRAMS += tests/unit/check_ops
tests_unit_check_ops_SOURCES = tests/unit/check_ops.c tests/unit/runner.c \
	$(TESTUTIL)
tests_unit_check_ops_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_ops_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_ops
