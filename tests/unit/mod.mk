# Unit tests of server/libvfs.a: one program per module.
check_PROGRAMS += tests/unit/check_vfs
tests_unit_check_vfs_SOURCES = tests/unit/check_vfs.c tests/unit/runner.c \
	$(TESTUTIL)
tests_unit_check_vfs_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vfs_LDADD = server/libvfs.a lib/libftps.a $(UNIT_LDADD)
TESTS += tests/unit/check_vfs

check_PROGRAMS += tests/unit/check_listing
tests_unit_check_listing_SOURCES = tests/unit/check_listing.c tests/unit/runner.c \
	$(TESTUTIL)
tests_unit_check_listing_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_listing_LDADD = server/libvfs.a lib/libftps.a $(UNIT_LDADD)
TESTS += tests/unit/check_listing

check_PROGRAMS += tests/unit/check_ftpaddr
tests_unit_check_ftpaddr_SOURCES = tests/unit/check_ftpaddr.c tests/unit/runner.c
tests_unit_check_ftpaddr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_ftpaddr_LDADD = server/libvfs.a lib/libftps.a $(UNIT_LDADD)
TESTS += tests/unit/check_ftpaddr
