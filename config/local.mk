# config/: the ftpsd.conf parser and the sample configuration.
noinst_LIBRARIES += config/libconf.a
config_libconf_a_SOURCES = config/conf.c config/conf.h config/conf_int.h \
	config/host.c

# The sample in the source shows the default ./configure paths (and the
# unit test uncomments it against the built-in defaults); the installed
# copies (docdir and sysconfdir/ftpsd, scripts/local.mk) and the KEYS of
# ftpsd.conf(5) show this build's certsdir and sysconfdir.
ftpsdsampledir = $(docdir)
ftpsdsample_DATA = config/installed/ftpsd.conf.sample
CLEANFILES += config/installed/ftpsd.conf.sample
EXTRA_DIST += docs/config.md config/ftpsd.conf.sample

config/installed/ftpsd.conf.sample: config/ftpsd.conf.sample Makefile
	$(AM_V_GEN)$(MKDIR_P) config/installed && \
	sed -e 's|/usr/local/etc/ftpsd/certs|$(certsdir)|g' \
	    -e 's|/usr/local/etc/|$(sysconfdir)/|g' \
	    -e 's|shown here for the default ./configure prefix|shown here as installed|g' \
	    $(srcdir)/config/ftpsd.conf.sample > $@.tmp && mv $@.tmp $@
