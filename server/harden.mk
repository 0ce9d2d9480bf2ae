# server/harden.mk: hardening (docs/security.md): the failed-login table
# and bans, TLS session-ticket keys, their tests, and the static analysis
# (make lint) and TLS scan (make tls-scan) targets.
server_libserver_a_SOURCES += server/ban.c server/ban.h

check_PROGRAMS += tests/unit/check_ban
tests_unit_check_ban_SOURCES = tests/unit/check_ban.c tests/unit/runner.c
tests_unit_check_ban_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_ban_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_ban


