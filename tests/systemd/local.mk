# make check-systemd: the shipped units and the Debian package under a
# real systemd 252 in a Debian 12 container (systemd-nspawn -b).  Root
# only; the image is cached in /var/cache/ftpsd-check-systemd.  Not part
# of `make check`: ./scripts/test runs it (docs/testing.md).
check-systemd:
	$(PYTHON3) -B $(srcdir)/tests/systemd/check_systemd.py \
	    --srcdir '$(abs_top_srcdir)' \
	    --workdir '$(abs_top_builddir)/tests/systemd/work'
.PHONY: check-systemd

clean-local: clean-check-systemd
clean-check-systemd:
	rm -rf tests/systemd/work
.PHONY: clean-check-systemd

EXTRA_DIST += tests/systemd/check_systemd.py tests/systemd/container.py \
	tests/systemd/image.py \
	debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/ftpsd.install debian/ftpsd.logrotate \
	debian/ftpsd.postinst debian/ftpsd.postrm debian/ftpsd.prerm \
	debian/ftpsd.sysusers \
	debian/conf/ftpsd.conf
