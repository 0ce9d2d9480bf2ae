#!/usr/bin/env python3
"""
`make install DESTDIR=...` puts every file in place: the programs, the man
pages, the sample configuration, the systemd units (with the configured
paths, accepted by `systemd-analyze verify`), and `make uninstall` takes
them all away again.  Runs the build tree's own Makefile
($abs_top_builddir, set by `make check`).
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import describe, need_program, run


def builddir():
    d = os.environ.get("abs_top_builddir")
    if not d:
        ftpsd = harness.ftpsd_binary()
        d = os.path.dirname(os.path.dirname(os.path.abspath(ftpsd)))
    if not os.path.exists(os.path.join(d, "Makefile")):
        harness.die("no Makefile in %s: run through `make check` or set "
                    "abs_top_builddir" % d)
    return d


def make(*args):
    """make in the build tree, without the jobserver of a calling make."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR")}
    argv = (os.environ.get("MAKE") or "make").split() + \
        ["-s", "-C", builddir()] + list(args)
    need_program(argv[0])
    return run(argv, env=env, timeout=300)


def make_var(name):
    """The value of a Makefile variable, fully expanded."""
    with tempfile.NamedTemporaryFile("w", suffix=".mk", delete=False) as f:
        f.write("include Makefile\nftpsd-print-var:\n\t@echo $(%s)\n" % name)
        mk = f.name
    try:
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        argv = (os.environ.get("MAKE") or "make").split() + \
            ["-s", "--no-print-directory", "-C", builddir(), "-f", mk,
             "ftpsd-print-var"]
        p = run(argv, env=env)
        if p.returncode != 0:
            raise AssertionError(describe(p))
        return p.stdout.strip()
    finally:
        os.unlink(mk)


class Install(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="ftpsd-install-")
        cls.dirs = {v: make_var(v) for v in (
            "sbindir", "bindir", "mandir", "sysconfdir", "docdir",
            "systemdsystemunitdir", "localstatedir")}
        p = make("install", "DESTDIR=" + cls.dest)
        cls.install = p

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def at(self, var, *rel):
        return os.path.join(self.dest + self.dirs[var], *rel)

    def test_every_file_in_place(self):
        self.assertEqual(self.install.returncode, 0, describe(self.install))
        # DESTDIR: no user, no folders outside it.
        self.assertRegex(self.install.stdout, r"install-user creates")
        want = [
            self.at("sbindir", "ftpsd"),
            self.at("bindir", "certmgr"),
            self.at("sbindir", "ftpsdctl"),
            self.at("mandir", "man8", "ftpsd.8"),
            self.at("mandir", "man8", "ftpsdctl.8"),
            self.at("mandir", "man5", "ftpsd.conf.5"),
            self.at("mandir", "man1", "certmgr.1"),
            self.at("sysconfdir", "ftpsd", "ftpsd.conf.sample"),
            self.at("docdir", "ftpsd.conf.sample"),
            self.at("systemdsystemunitdir", "ftpsd.service"),
            self.at("systemdsystemunitdir", "ftpsd.socket"),
            self.at("systemdsystemunitdir", "ftpsd-implicit.socket"),
        ]
        for path in want:
            self.assertTrue(os.path.isfile(path), "missing " + path)
        for prog in want[:3]:
            self.assertTrue(os.access(prog, os.X_OK), prog)
        p = run([want[0], "-V"])
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertRegex(p.stdout, r"^ftpsd \d")
        # Nothing unexpected: every installed file is one of these.
        found = []
        for root, _, files in os.walk(self.dest):
            found += [os.path.join(root, f) for f in files]
        self.assertEqual(sorted(found), sorted(want))

    def test_unit_names_the_installed_binary(self):
        with open(self.at("systemdsystemunitdir", "ftpsd.service")) as f:
            unit = f.read()
        self.assertNotRegex(unit, r"@[a-zA-Z]+@")
        sbin = self.dirs["sbindir"]
        self.assertRegex(unit, r"(?m)^ExecStart=%s/ftpsd -f$"
                         % re.escape(sbin))
        self.assertRegex(unit, r"(?m)^ExecStartPre=%s/ftpsd -t$"
                         % re.escape(sbin))
        self.assertRegex(unit, r"(?m)^Type=notify$")
        # Reload checks first (a rejected file fails `systemctl reload`),
        # then signals with "+": the bounding set has no CAP_KILL.
        self.assertRegex(unit, r"(?m)^ExecReload=%s/ftpsd -t\n"
                         r"ExecReload=\+/bin/kill -HUP \$MAINPID$"
                         % re.escape(sbin))
        for key in ("ProtectSystem=strict", "NoNewPrivileges=yes",
                    "PrivateTmp=yes", "SystemCallFilter=@system-service",
                    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"):
            self.assertIn("\n" + key + "\n", unit)
        self.assertRegex(unit, r"(?m)^CapabilityBoundingSet=.*"
                         r"CAP_NET_BIND_SERVICE")
        for name, kind in (("ftpsd.socket", "explicit"),
                           ("ftpsd-implicit.socket", "implicit")):
            with open(self.at("systemdsystemunitdir", name)) as f:
                sock = f.read()
            self.assertIn("\nFileDescriptorName=%s\n" % kind, sock)
            self.assertIn("\nService=ftpsd.service\n", sock)

    def test_systemd_analyze_accepts_the_units(self):
        """
        systemd-analyze verify against this host's systemd, with
        ExecStart pointing at the built binary (the installed path lies
        in DESTDIR): every directive must be known and valid.
        """
        prog = need_program("systemd-analyze")
        work = tempfile.mkdtemp(prefix="ftpsd-units-")
        self.addCleanup(shutil.rmtree, work, True)
        names = ("ftpsd.service", "ftpsd.socket", "ftpsd-implicit.socket")
        for name in names:
            with open(self.at("systemdsystemunitdir", name)) as f:
                text = f.read()
            text = text.replace(self.dirs["sbindir"] + "/ftpsd",
                                harness.ftpsd_binary())
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        p = run([prog, "verify", "--man=no"] +
                [os.path.join(work, n) for n in names])
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "", ""),
                         describe(p))

    def test_man_pages_format_cleanly(self):
        groff = need_program("groff")
        for sec, name in (("8", "ftpsd.8"), ("5", "ftpsd.conf.5"),
                          ("1", "certmgr.1"), ("8", "ftpsdctl.8")):
            page = self.at("mandir", "man" + sec, name)
            p = run([groff, "-man", "-ww", "-z", page])
            self.assertEqual((p.returncode, p.stderr), (0, ""), describe(p))
            with open(page) as f:
                text = f.read()
            self.assertNotRegex(text, r"@[a-zA-Z]+@")
        with open(self.at("mandir", "man5", "ftpsd.conf.5")) as f:
            conf5 = f.read()
        # Every key of the sample is in ftpsd.conf(5).
        sample = os.path.join(os.environ.get("top_srcdir") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", ".."),
            "config", "ftpsd.conf.sample")
        with open(sample) as f:
            keys = re.findall(r"(?m)^# ([a-z0-9_]+) =", f.read())
        self.assertGreater(len(keys), 20)
        for key in keys:
            self.assertIn("\\fB%s =" % key, conf5, key)

    def test_uninstall_removes_everything(self):
        dest = tempfile.mkdtemp(prefix="ftpsd-install-")
        self.addCleanup(shutil.rmtree, dest, True)
        p = make("install", "DESTDIR=" + dest)
        self.assertEqual(p.returncode, 0, describe(p))
        p = make("uninstall", "DESTDIR=" + dest)
        self.assertEqual(p.returncode, 0, describe(p))
        left = []
        for root, _, files in os.walk(dest):
            left += [os.path.join(root, f) for f in files]
        self.assertEqual(left, [])


class ConfiguredPaths(unittest.TestCase):
    """
    A package build (--prefix=/usr --sysconfdir=/etc) installs a sample
    configuration and ftpsd.conf(5) that show /etc/ftpsd, not the
    /usr/local of the default prefix; configure says no warning.  Only the
    data is built and installed (no compiling), in a DESTDIR.
    """

    def test_sample_and_manual_show_sysconfdir(self):
        top = os.environ.get("top_srcdir") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..")
        top = os.path.abspath(top)
        work = tempfile.mkdtemp(prefix="ftpsd-paths-")
        self.addCleanup(shutil.rmtree, work, True)
        bdir, dest = os.path.join(work, "b"), os.path.join(work, "d")
        os.mkdir(bdir)
        p = run([os.path.join(top, "configure"), "-q", "--prefix=/usr",
                 "--sysconfdir=/etc", "--localstatedir=/var",
                 "--disable-install-user",
                 "--with-systemdsystemunitdir=no"], cwd=bdir, timeout=300)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertNotRegex(p.stdout + p.stderr, r"(?i)warning",
                            describe(p))
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR")}
        p = run((os.environ.get("MAKE") or "make").split() +
                ["-s", "-C", bdir, "install-data", "DESTDIR=" + dest],
                env=env, timeout=300)
        self.assertEqual(p.returncode, 0, describe(p))
        for sample in (dest + "/etc/ftpsd/ftpsd.conf.sample",
                       dest + "/usr/share/doc/ftpsd/ftpsd.conf.sample"):
            with open(sample) as f:
                text = f.read()
            self.assertIn("\n# certs_dir = /etc/ftpsd/certs\n", text)
            self.assertIn("\n# users_file = /etc/ftpsd/users\n", text)
            self.assertNotIn("/usr/local", text)
            self.assertNotIn("default ./configure prefix", text)
        with open(dest + "/usr/share/man/man5/ftpsd.conf.5") as f:
            man = f.read()
        self.assertNotIn("/usr/local", man)
        self.assertIn("/etc/ftpsd/ftpsd.conf.sample", man)
        self.assertRegex(man, r"certs_dir = /etc/ftpsd/certs")
        self.assertRegex(man, r"users_file = /etc/ftpsd/users")
        for page in ("man8/ftpsd.8", "man1/certmgr.1", "man8/ftpsdctl.8"):
            with open(dest + "/usr/share/man/" + page) as f:
                self.assertNotIn("/usr/local", f.read(), page)


if __name__ == "__main__":
    harness.main()
