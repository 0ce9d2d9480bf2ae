# scripts/: systemd units, the service user, and what `make install`
# puts in place besides the programs (docs/operations.md).

# Configured paths in the generated files (units, man pages).
ftpsd_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@certsdir[@]|$(certsdir)|g' \
	-e 's|@rundir[@]|$(rundir)|g' \
	-e 's|@VERSION[@]|$(VERSION)|g'

if HAVE_SYSTEMD_UNITS
systemdsystemunit_DATA = scripts/systemd/ftpsd.service \
	scripts/systemd/ftpsd.socket scripts/systemd/ftpsd-implicit.socket
endif
CLEANFILES += scripts/systemd/ftpsd.service
EXTRA_DIST += scripts/systemd/ftpsd.service.in scripts/systemd/ftpsd.socket \
	scripts/systemd/ftpsd-implicit.socket

scripts/systemd/ftpsd.service: scripts/systemd/ftpsd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) scripts/systemd && \
	$(ftpsd_edit) $(srcdir)/scripts/systemd/ftpsd.service.in > $@.tmp && \
	mv $@.tmp $@

# The sample configuration beside the real one.
ftpsdconfdir = $(sysconfdir)/ftpsd
ftpsdconf_DATA = config/installed/ftpsd.conf.sample

# The service user and its folders: created on a real install as root
# (not with DESTDIR, which packagers use; not with --disable-install-user).
install-data-hook:
	@if test -z "$(DESTDIR)" && test "$(INSTALL_USER)" = yes && \
	    test "`id -u`" = 0; then \
		$(SHELL) $(srcdir)/scripts/install-user ftpsd \
		    '$(certsdir)' '$(localstatedir)/log/ftpsd'; \
	else \
		echo "note: as root, $(srcdir)/scripts/install-user creates" \
		    "the ftpsd user and its folders (docs/operations.md)"; \
	fi

EXTRA_DIST += scripts/install-user scripts/build scripts/deps scripts/demo \
	scripts/test docs/operations.md certs/README.md

# distcheck installs below its own prefix and must not create users.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir='$${dc_install_base}/lib/systemd/system' \
	--disable-install-user
