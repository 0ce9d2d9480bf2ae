# Config parser tests; SRCDIR locates config/ftpsd.conf.sample.
check_PROGRAMS += tests/unit/check_conf
tests_unit_check_conf_SOURCES = tests/unit/check_conf.c tests/unit/runner.c
tests_unit_check_conf_CPPFLAGS = $(AM_CPPFLAGS) -DSRCDIR='"$(abs_top_srcdir)"'
tests_unit_check_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_conf_LDADD = config/libconf.a lib/libftps.a $(UNIT_LDADD)
TESTS += tests/unit/check_conf
