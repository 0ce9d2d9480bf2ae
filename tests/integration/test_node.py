#!/usr/bin/env python3
"""basic-ftp, the Node.js FTP client most Node projects use, against
ftpsd (clients/basicftp.js; scripts/deps installs the package pinned in
clients/package.json): explicit and implicit FTPS with the certificate
verified, TLS 1.3 and 1.2; upload, list, SIZE, MDTM, download, rename,
nested MKD, recursive removal, delete.  basic-ftp resumes the control
connection's TLS session on every data connection, so it works with the
default data_session_reuse = required: the log must show no data
connection refused."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "clients", "basicftp.js")


class BasicFtp(harness.ServerTestCase):

    @classmethod
    def prepare_files(cls, srv):
        cls.node_path = os.path.dirname(harness.node_module("basic-ftp"))

    def check(self, mode, tls="TLSv1.3"):
        port = self.srv.explicit_port if mode == "explicit" else \
            self.srv.implicit_port
        src = os.path.join(self.srv.dir, "node-%s-%s.bin" % (mode, tls))
        sha = harness.write_random(src, 700 * 1024 + 5)
        before = len(self.srv.log_text())
        env = dict(os.environ, NODE_PATH=self.node_path)
        p = harness.run(["node", SCRIPT, mode, harness.HOST, str(port),
                         "alice", self.srv.users["alice"][0],
                         self.srv.cafile, tls, src], env=env)
        self.assertEqual((p.returncode, p.stdout), (0, "ok\n"),
                         harness.describe(p))
        self.assertEqual(harness.sha256_file(src + ".back"), sha)
        log = self.srv.log_text()[before:]
        self.assertIn(" tls %s " % tls, log)
        self.assertNotIn("data tls refused", log)
        self.assertNotIn("data tls not resumed", log)
        self.assertEqual(os.listdir(self.srv.home("alice")), [])

    def test_explicit_tls13(self):
        self.check("explicit")

    def test_implicit_tls13(self):
        self.check("implicit")

    def test_explicit_tls12(self):
        self.check("explicit", "TLSv1.2")

    def test_implicit_tls12(self):
        self.check("implicit", "TLSv1.2")


if __name__ == "__main__":
    harness.main()
