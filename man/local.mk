# man/: ftpsd(8), ftpsd.conf(5), certmgr(1), ftpsdctl(8), with the configured
# paths.
# The KEYS section of ftpsd.conf(5) is made from the sample config, so it
# lists exactly the keys the sample (checked against the code) documents.
man_MANS = man/ftpsd.8 man/ftpsd.conf.5 man/certmgr.1 man/ftpsdctl.8
CLEANFILES += $(man_MANS)
EXTRA_DIST += man/ftpsd.8.in man/ftpsd.conf.5.in man/certmgr.1.in \
	man/ftpsdctl.8.in \
	man/conf2man.awk man/synopsis.awk

man/ftpsd.8: man/ftpsd.8.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(ftpsd_edit) $(srcdir)/man/ftpsd.8.in > $@.tmp && mv $@.tmp $@

man/ftpsdctl.8: man/ftpsdctl.8.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(ftpsd_edit) $(srcdir)/man/ftpsdctl.8.in > $@.tmp && mv $@.tmp $@

# The SUBCOMMANDS synopses come from certmgr's option tables: every
# "@SYNOPSIS NAME@" line is replaced by `certmgr --roff-synopsis`'s line
# for NAME, and a subcommand without its line fails the build.
man/certmgr.1: man/certmgr.1.in man/synopsis.awk certmgr/certmgr$(EXEEXT) \
    Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	certmgr/certmgr$(EXEEXT) --roff-synopsis > $@.syn && \
	$(ftpsd_edit) $(srcdir)/man/certmgr.1.in | \
	    $(AWK) -v syn=$@.syn -f $(srcdir)/man/synopsis.awk > $@.tmp && \
	rm -f $@.syn && mv $@.tmp $@

man/ftpsd.conf.5: man/ftpsd.conf.5.in man/conf2man.awk \
    config/installed/ftpsd.conf.sample Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(AWK) -f $(srcdir)/man/conf2man.awk \
	    config/installed/ftpsd.conf.sample > $@.keys && \
	$(ftpsd_edit) $(srcdir)/man/ftpsd.conf.5.in | \
	    sed -e '/^@KEYS@$$/{' -e 'r $@.keys' -e 'd' -e '}' > $@.tmp && \
	rm -f $@.keys && mv $@.tmp $@
