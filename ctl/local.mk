# ctl/: ftpsdctl, the admin's client of ftpsd's control socket
# (server/ctl.c).  It links libconf to find control_socket in ftpsd.conf.
sbin_PROGRAMS += ctl/ftpsdctl
ctl_ftpsdctl_SOURCES = ctl/ftpsdctl.c
ctl_ftpsdctl_LDADD = config/libconf.a lib/libftps.a

TESTS += tests/integration/test_ctl.py
EXTRA_DIST += tests/integration/test_ctl.py
