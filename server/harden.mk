# server/harden.mk: hardening (docs/security.md): the failed-login table
# and bans, TLS session-ticket keys, their tests, and the static analysis
# (make lint) and TLS scan (make tls-scan) targets.
server_libserver_a_SOURCES += server/ban.c server/ban.h \
	server/tlskeys.c server/tlskeys.h

check_PROGRAMS += tests/unit/check_ban
tests_unit_check_ban_SOURCES = tests/unit/check_ban.c tests/unit/runner.c
tests_unit_check_ban_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_ban_LDADD = $(SERVER_TEST_LDADD)
TESTS += tests/unit/check_ban

check_PROGRAMS += tests/unit/check_tlskeys
tests_unit_check_tlskeys_SOURCES = tests/unit/check_tlskeys.c \
	tests/unit/runner.c $(TESTUTIL)
tests_unit_check_tlskeys_CFLAGS = $(UNIT_CFLAGS)
# tlskeys.c stands alone in libserver.a: no other archive is needed.
tests_unit_check_tlskeys_LDADD = server/libserver.a lib/libftps.a \
	$(UNIT_LDADD)
TESTS += tests/unit/check_tlskeys

# Integration tests: hostile clients, floods, disk faults, kill -9.
TESTS += tests/integration/test_hardening.py
EXTRA_DIST += tests/integration/test_hardening.py \
	tests/integration/faultshim.c
AM_TESTS_ENVIRONMENT += \
	FAULTSHIM='$(abs_top_builddir)/tests/integration/faultshim.so'; \
	export FAULTSHIM;
# The LD_PRELOAD fault injector of test_hardening.py (never installed).
check_SCRIPTS += tests/integration/faultshim.so
CLEANFILES += tests/integration/faultshim.so
tests/integration/faultshim.so: $(srcdir)/tests/integration/faultshim.c
	$(AM_V_CC)$(MKDIR_P) tests/integration && \
	$(CC) -shared -fPIC -O2 -Wall -o $@ \
	    $(srcdir)/tests/integration/faultshim.c -ldl

# Static analysis: cppcheck and clang-tidy over lib/ config/ server/
# certstore/ certmgr/ (scripts/lint; .clang-tidy, .cppcheck-suppressions).
lint:
	$(top_srcdir)/scripts/lint $(abs_top_builddir)

# testssl.sh against both ports of a real ftpsd (tests/tls-scan); the
# scanner comes from `scripts/deps tls-scan`.
tls-scan: all
	FTPSD='$(abs_top_builddir)/server/ftpsd' \
	CERTMGR='$(abs_top_builddir)/certmgr/certmgr' \
	    $(PYTHON3) $(top_srcdir)/tests/tls-scan

.PHONY: lint tls-scan
EXTRA_DIST += scripts/lint tests/tls-scan .clang-tidy \
	.cppcheck-suppressions docs/security.md
