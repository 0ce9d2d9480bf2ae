#!/usr/bin/env python3
"""certmgr and ftpsd together (issue 3, end to end): a certificate made by
`certmgr create` and one signed by `certmgr ca` are served by ftpsd and
accepted by curl with --cacert; the folder's default (`certmgr default`)
is what ftpsd loads when its config names no certificate; a pair that
certmgr would refuse is refused by ftpsd at start, naming the file."""

import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import describe  # noqa: E402


def certmgr_binary():
    path = os.environ.get("CERTMGR")
    if not path or not os.access(path, os.X_OK):
        harness.die("CERTMGR=%r is not an executable (run through "
                    "`make check`)" % path)
    return path


class CertmgrServed(unittest.TestCase):

    def setUp(self):
        self.cm = certmgr_binary()
        # No harness-made certificate: every certificate here is certmgr's.
        self.srv = harness.Ftpsd(cert=False, conf={"certificate": None})
        self.addCleanup(self.srv.cleanup)
        with open(self.srv.path("hello.txt"), "w") as f:
            f.write("served over a certmgr certificate\n")

    def certmgr(self, *args):
        p = harness.run([self.cm, "-q", "-d", self.srv.certs_dir] +
                        list(args))
        self.assertEqual(p.returncode, 0, describe(p))
        return p

    def fetch(self, cafile, implicit=False):
        """curl verifying the server against cafile; returns the process."""
        if implicit:
            url = "ftps://localhost:%d/hello.txt" % self.srv.implicit_port
        else:
            url = "ftp://localhost:%d/hello.txt" % self.srv.explicit_port
        pw = self.srv.users["alice"][0]
        argv = ["curl", "--silent", "--show-error", "--cacert", cafile,
                "--connect-timeout", "10", "--max-time", "30",
                "--resolve", "localhost:%d:127.0.0.1"
                % (self.srv.implicit_port if implicit
                   else self.srv.explicit_port),
                "-u", "alice:" + pw, url]
        if not implicit:
            argv.insert(1, "--ssl-reqd")
        return harness.run(argv)

    def assert_served(self, cafile):
        for implicit in (False, True):
            p = self.fetch(cafile, implicit)
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertEqual(p.stdout, "served over a certmgr certificate\n")

    def test_self_signed_from_certmgr_create(self):
        self.certmgr("create", "web", "--cn", "localhost",
                     "--san", "DNS:localhost,IP:127.0.0.1")
        self.srv.extra_conf["certificate"] = "web"
        with self.srv:
            self.assert_served(os.path.join(self.srv.certs_dir, "web.crt"))

    def test_ca_signed_from_certmgr_ca(self):
        self.certmgr("ca", "init", "--cn", "ftpsd test CA")
        self.certmgr("ca", "issue", "srv", "--server", "--cn", "localhost",
                     "--san", "IP:127.0.0.1")
        self.certmgr("create", "other", "--cn", "localhost")
        self.srv.extra_conf["certificate"] = "srv"
        ca = os.path.join(self.srv.certs_dir, "ca", "ca.crt")
        with self.srv:
            self.assert_served(ca)
            # It really is the CA-signed one: a different trust anchor fails.
            p = self.fetch(os.path.join(self.srv.certs_dir, "other.crt"))
            self.assertNotEqual(p.returncode, 0, describe(p))
            self.assertIn("certificate", p.stderr.lower(), describe(p))

    def test_folder_default_is_loaded(self):
        self.certmgr("create", "first", "--cn", "first.invalid")
        self.certmgr("create", "second", "--cn", "localhost")
        self.certmgr("default", "second")
        with self.srv:
            self.assert_served(os.path.join(self.srv.certs_dir,
                                            "second.crt"))

    def test_mismatched_pair_refused_at_start(self):
        self.certmgr("create", "a", "--cn", "localhost")
        self.certmgr("create", "b", "--cn", "localhost")
        d = self.srv.certs_dir
        shutil.copyfile(os.path.join(d, "b.key"), os.path.join(d, "a.key"))
        self.srv.extra_conf["certificate"] = "a"
        rc, log = self.srv.start_expect_failure()
        self.assertNotEqual(rc, 0, log)
        self.assertIn("a.key", log)
        self.assertIn("does not match", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
