# config/: the ftpsd.conf parser and the sample configuration.
noinst_LIBRARIES += config/libconf.a
config_libconf_a_SOURCES = config/conf.c config/conf.h

ftpsdsampledir = $(docdir)
dist_ftpsdsample_DATA = config/ftpsd.conf.sample
EXTRA_DIST += docs/config.md
