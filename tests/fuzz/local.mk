# tests/fuzz/: libFuzzer targets, one fuzz_<name>.c each, and their seed
# corpora in tests/fuzz/corpus/<name>/ (docs/fuzzing.md).
# ./configure --enable-fuzzing links each target with libFuzzer, for
# scripts/fuzz.  Any other build links the same code with replay.c, and
# `make check` replays the committed corpus through it, so CI runs every
# regression input in the normal and the ASan build without clang.
noinst_LIBRARIES += tests/fuzz/libfuzz.a
tests_fuzz_libfuzz_a_SOURCES = tests/fuzz/fuzz.h tests/fuzz/fuzz_util.c
tests_fuzz_libfuzz_a_CFLAGS = $(FUZZ_CFLAGS)

FUZZ_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/fuzz
FUZZ_LIBS = tests/fuzz/libfuzz.a
if FUZZING
# The harness itself (invariant checks, reference parsers) reports no
# coverage: only the code under test guides libFuzzer.
FUZZ_CFLAGS = $(AM_CFLAGS) -fno-sanitize=fuzzer-no-link
FUZZ_LINK = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
noinst_PROGRAMS += tests/fuzz/fuzz_conf tests/fuzz/fuzz_users \
	tests/fuzz/fuzz_ftpaddr tests/fuzz/fuzz_path tests/fuzz/fuzz_import \
	tests/fuzz/fuzz_cmd tests/fuzz/fuzz_log
else
FUZZ_CFLAGS = $(AM_CFLAGS)
noinst_LIBRARIES += tests/fuzz/libreplay.a
tests_fuzz_libreplay_a_SOURCES = tests/fuzz/replay.c
tests_fuzz_libreplay_a_CPPFLAGS = $(FUZZ_CPPFLAGS) \
	-DFUZZ_CORPUS_ROOT='"$(abs_top_srcdir)/tests/fuzz/corpus"'
FUZZ_LINK = $(AM_LDFLAGS)
FUZZ_LIBS += tests/fuzz/libreplay.a
check_PROGRAMS += tests/fuzz/fuzz_conf tests/fuzz/fuzz_users \
	tests/fuzz/fuzz_ftpaddr tests/fuzz/fuzz_path tests/fuzz/fuzz_import \
	tests/fuzz/fuzz_cmd tests/fuzz/fuzz_log
TESTS += tests/fuzz/fuzz_conf tests/fuzz/fuzz_users \
	tests/fuzz/fuzz_ftpaddr tests/fuzz/fuzz_path tests/fuzz/fuzz_import \
	tests/fuzz/fuzz_cmd tests/fuzz/fuzz_log
endif

tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c
tests_fuzz_fuzz_conf_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_conf_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_conf_LDADD = $(FUZZ_LIBS) config/libconf.a lib/libftps.a

tests_fuzz_fuzz_users_SOURCES = tests/fuzz/fuzz_users.c
tests_fuzz_fuzz_users_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_users_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_users_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_users_LDADD = $(FUZZ_LIBS) server/libauth.a config/libconf.a \
	lib/libftps.a \
	$(OPENSSL_LIBS) $(LIBEVENT_LIBS) $(LIBCRYPT_LIBS) $(PTHREAD_LIBS)

tests_fuzz_fuzz_ftpaddr_SOURCES = tests/fuzz/fuzz_ftpaddr.c
tests_fuzz_fuzz_ftpaddr_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_ftpaddr_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_ftpaddr_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_ftpaddr_LDADD = $(FUZZ_LIBS) server/libvfs.a lib/libftps.a

tests_fuzz_fuzz_path_SOURCES = tests/fuzz/fuzz_path.c
tests_fuzz_fuzz_path_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_path_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_path_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_path_LDADD = $(FUZZ_LIBS) server/libvfs.a lib/libftps.a

tests_fuzz_fuzz_import_SOURCES = tests/fuzz/fuzz_import.c
tests_fuzz_fuzz_import_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_import_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_import_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_import_LDADD = $(FUZZ_LIBS) certstore/libcertstore.a \
	lib/libftps.a $(OPENSSL_LIBS)

tests_fuzz_fuzz_cmd_SOURCES = tests/fuzz/fuzz_cmd.c
tests_fuzz_fuzz_cmd_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_cmd_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_cmd_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_cmd_LDADD = $(FUZZ_LIBS) server/libserver.a server/libvfs.a \
	server/libauth.a config/libconf.a certstore/libcertstore.a \
	lib/libftps.a $(OPENSSL_LIBS) $(LIBEVENT_LIBS) $(LIBCRYPT_LIBS) \
	$(PTHREAD_LIBS)

tests_fuzz_fuzz_log_SOURCES = tests/fuzz/fuzz_log.c
tests_fuzz_fuzz_log_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_log_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_log_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_log_LDADD = $(FUZZ_LIBS) lib/libftps.a

EXTRA_DIST += docs/fuzzing.md scripts/fuzz tests/fuzz/corpus tests/fuzz/dict
