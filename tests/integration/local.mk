# Integration tests: a real ftpsd on free loopback ports driven by real
# clients (curl, lftp, Python ftplib, openssl s_client).  Each file is one
# TESTS entry, runnable alone:
#   make check TESTS=tests/integration/test_curl.py
#   FTPSD=build/server/ftpsd python3 tests/integration/test_curl.py -v
# See docs/testing.md.
PYTHON3 = python3
TEST_EXTENSIONS += .py
PY_LOG_COMPILER = $(PYTHON3)
AM_PY_LOG_FLAGS = -B
AM_TESTS_ENVIRONMENT += \
	FTPSD='$(abs_top_builddir)/server/ftpsd'; export FTPSD; \
	CERTMGR='$(abs_top_builddir)/certmgr/certmgr'; export CERTMGR; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	PYTHONDONTWRITEBYTECODE=1; export PYTHONDONTWRITEBYTECODE;

INTEGRATION_TESTS = \
	tests/integration/test_config.py \
	tests/integration/test_limits.py \
	tests/integration/test_security.py \
	tests/integration/test_transfer.py \
	tests/integration/test_curl.py \
	tests/integration/test_lftp.py \
	tests/integration/test_ftplib.py \
	tests/integration/test_commands.py \
	tests/integration/test_certmgr_e2e.py \
	tests/integration/test_acme.py \
	tests/integration/test_tls_binding.py \
	tests/integration/test_mtls.py \
	tests/integration/test_vhost.py \
	tests/integration/test_login_perf.py \
	tests/integration/test_logins.py \
	tests/integration/test_idle.py \
	tests/integration/test_data_policy.py \
	tests/integration/test_wget.py \
	tests/integration/test_perl_ftp.py \
	tests/integration/test_commons_net.py \
	tests/integration/test_node.py \
	tests/integration/test_rclone.py \
	tests/integration/test_vfs.py \
	tests/integration/test_loop.py

TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/harness.py \
	tests/integration/clients/netftp.pl \
	tests/integration/clients/FtpsCheck.java \
	tests/integration/clients/basicftp.js \
	tests/integration/clients/package.json docs/testing.md docs/clients.md

# denysys: the seccomp wrapper that answers chosen system calls with an
# errno (openat2 with ENOSYS, as systemd's RestrictSUIDSGID= and old
# kernels do).  harness.py starts ftpsd under it when FTPS_DENY_OPENAT2=1
# or a test asks (deny=...).  Never installed.
check_PROGRAMS += tests/integration/denysys
tests_integration_denysys_SOURCES = tests/integration/denysys.c \
	tests/integration/denysys.h
AM_TESTS_ENVIRONMENT += \
	DENYSYS='$(abs_top_builddir)/tests/integration/denysys'; \
	export DENYSYS;

# The integration tests again with openat2 answering ENOSYS: the vfs's
# component walk then confines every path (scripts/test runs it in CI).
check-no-openat2:
	FTPS_DENY_OPENAT2=1 $(MAKE) $(AM_MAKEFLAGS) check \
	    TESTS="$(filter %.py,$(TESTS))"
.PHONY: check-no-openat2

# The install walk-throughs of README.md ("Run as a service") and
# docs/operations.md, run as written in a throwaway root (overlay, mount,
# network and PID namespaces; needs root): test_docs.py, about a minute
# per walk-through (each builds and installs).  Not in TESTS: scripts/test
# runs it once (FTPS_DOCS=1, the default in CI).
check-docs:
	FTPSD='$(abs_top_builddir)/server/ftpsd' \
	top_srcdir='$(abs_top_srcdir)' PYTHONDONTWRITEBYTECODE=1 \
	    $(PYTHON3) -B $(abs_top_srcdir)/tests/integration/test_docs.py
.PHONY: check-docs
EXTRA_DIST += tests/integration/test_docs.py
