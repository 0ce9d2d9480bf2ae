# The PROXY protocol (docs/scale-out.md): CIDR ranges for proxy_trusted
# (lib/, shared with the config loader), the pure header parsers
# (libvfs.a, beside ftpaddr), the socket side (libserver.a), their unit
# tests, fuzz targets and the multi-node HAProxy test.
lib_libftps_a_SOURCES += lib/cidr.c lib/cidr.h
server_libvfs_a_SOURCES += server/proxy.c server/proxy.h
server_libserver_a_SOURCES += server/proxyconn.c server/proxyconn.h
EXTRA_DIST += docs/scale-out.md

check_PROGRAMS += tests/unit/check_proxy
tests_unit_check_proxy_SOURCES = tests/unit/check_proxy.c tests/unit/runner.c
tests_unit_check_proxy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_proxy_LDADD = server/libvfs.a lib/libftps.a $(UNIT_LDADD)
TESTS += tests/unit/check_proxy

TESTS += tests/integration/test_haproxy.py
EXTRA_DIST += tests/integration/test_haproxy.py

# Fuzz targets of the two header parsers (docs/fuzzing.md): libFuzzer
# with --enable-fuzzing, else the committed corpus replayed by make check.
FUZZ_PROXY = tests/fuzz/fuzz_proxy_v1 tests/fuzz/fuzz_proxy_v2
if FUZZING
noinst_PROGRAMS += $(FUZZ_PROXY)
else
check_PROGRAMS += $(FUZZ_PROXY)
TESTS += $(FUZZ_PROXY)
endif
tests_fuzz_fuzz_proxy_v1_SOURCES = tests/fuzz/fuzz_proxy_v1.c \
	tests/fuzz/proxy_check.c tests/fuzz/proxy_check.h
tests_fuzz_fuzz_proxy_v1_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_proxy_v1_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_proxy_v1_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_proxy_v1_LDADD = $(FUZZ_LIBS) server/libvfs.a lib/libftps.a
tests_fuzz_fuzz_proxy_v2_SOURCES = tests/fuzz/fuzz_proxy_v2.c \
	tests/fuzz/proxy_check.c tests/fuzz/proxy_check.h
tests_fuzz_fuzz_proxy_v2_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_proxy_v2_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_proxy_v2_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_proxy_v2_LDADD = $(FUZZ_LIBS) server/libvfs.a lib/libftps.a
