#!/usr/bin/env python3
"""GNU wget (Debian's 1.21, GnuTLS) against ftpsd under the default
data_session_reuse = required: explicit (ftps:// + AUTH TLS) and implicit
(--ftps-implicit) FTPS, TLS 1.3 and 1.2, a recursive download.  wget saves
the control connection's TLS session once, right after the handshake, and
resumes it on every data connection: over TLS 1.3 that needs the ticket
ftpsd sends after the control handshake (docs/clients.md)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import MiB  # noqa: E402


class Wget(harness.ServerTestCase):

    @classmethod
    def prepare_files(cls, srv):
        cls.want = {}
        os.makedirs(srv.path("tree/sub"))
        for i in range(12):
            rel = "tree/%sf%02d.bin" % ("sub/" if i % 3 == 0 else "", i)
            cls.want[rel] = harness.write_random(srv.path(rel),
                                                 1000 + 7919 * i)
        cls.want["tree/big.bin"] = harness.write_random(
            srv.path("tree/big.bin"), 3 * MiB)

    def setUp(self):
        super().setUp()
        harness.need_program("wget")

    def wget(self, implicit, protocol, out):
        port = self.srv.implicit_port if implicit else self.srv.explicit_port
        url = "ftps://alice:%s@%s:%d/tree/" % (
            self.srv.users["alice"][0], harness.HOST, port)
        argv = ["wget", "--no-verbose", "--tries=1", "--timeout=20",
                "--ca-certificate=" + self.srv.cafile,
                # GnuTLS priorities: the one version asked for, so that
                # TLS 1.2 is really pinned (--secure-protocol=TLSv1_2 is
                # "at least").
                "--ciphers=NORMAL:-VERS-ALL:+VERS-" + protocol,
                "--ftps-implicit" if implicit else "--no-ftps-implicit",
                "--recursive", "--no-parent", "--no-host-directories",
                "--directory-prefix=" + out, url]
        return harness.run(argv)

    def check(self, implicit, protocol):
        out = os.path.join(self.srv.dir, "wget-%s-%s" % (
            "implicit" if implicit else "explicit", protocol))
        before = self.srv.log_text()
        p = self.wget(implicit, protocol, out)
        self.assertEqual(p.returncode, 0, harness.describe(p))
        for rel, sha in self.want.items():
            self.assertEqual(harness.sha256_file(os.path.join(out, rel)),
                             sha, rel)
        log = self.srv.log_text()[len(before):]
        self.assertNotIn("data tls refused", log)
        self.assertNotIn("data tls not resumed", log)
        # 13 files and 2 listings, each over its own data connection.
        self.assertGreaterEqual(log.count(" retr path="), 13)
        version = protocol.replace("TLS1.", "TLSv1.")
        self.assertIn(" tls %s " % version, log)

    def test_explicit_tls13(self):
        self.check(False, "TLS1.3")

    def test_implicit_tls13(self):
        self.check(True, "TLS1.3")

    def test_explicit_tls12(self):
        self.check(False, "TLS1.2")

    def test_implicit_tls12(self):
        self.check(True, "TLS1.2")


if __name__ == "__main__":
    harness.main()
