#!/usr/bin/env python3
"""Perl Net::FTP (Debian's libnet, with IO::Socket::SSL) against ftpsd:
explicit (starttls, PBSZ/PROT P) and implicit (SSL => 1, which sends no
PBSZ/PROT at all: ftpsd starts implicit sessions in PROT P), TLS 1.3 and
1.2; upload, list, download, rename, delete.  Net::FTP's data connections
never resume the control session with ftpsd, so its account needs
data_session_reuse=optional in the users file, while another account
stays required and gets a 522 naming the cause (docs/clients.md)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients",
                      "netftp.pl")


class NetFTP(harness.ServerTestCase):
    CONF = {"log_debug": "on"}
    USERS = {
        "alice": ("alice-Pw-7c1f", "rw"),
        "perl": ("perl-Pw-92b4", "rw", "data_session_reuse=optional"),
    }

    def setUp(self):
        super().setUp()
        harness.need_program("perl")
        p = harness.run(["perl", "-MNet::FTP", "-MIO::Socket::SSL", "-e",
                         "1"])
        if p.returncode != 0:
            harness.die("Perl Net::FTP with IO::Socket::SSL is missing "
                        "(apt-get install libio-socket-ssl-perl)\n"
                        + p.stderr)

    def netftp(self, user, mode, version=None):
        port = self.srv.explicit_port if mode == "explicit" else \
            self.srv.implicit_port
        src = os.path.join(self.srv.dir, "perl-%s-%s.bin" % (user, mode))
        sha = harness.write_random(src, 700 * 1024 + 11)
        argv = ["perl", SCRIPT, mode, harness.HOST, str(port), user,
                self.srv.users[user][0], self.srv.cafile, src, "p.bin"]
        if version:
            argv.append(version)
        return harness.run(argv), src, sha

    def check(self, mode, version=None):
        before = len(self.srv.log_text())
        p, src, sha = self.netftp("perl", mode, version)
        self.assertEqual((p.returncode, p.stdout), (0, "ok\n"),
                         harness.describe(p))
        self.assertEqual(harness.sha256_file(src + ".back"), sha)
        self.assertFalse(os.path.exists(self.srv.path("p.bin", "perl")))
        log = self.srv.log_text()[before:]
        self.assertIn(" tls %s " % (version or "TLSv1_3").replace("_", "."),
                      log)
        self.assertNotIn("data tls refused", log)
        # STOR, NLST, RETR: one "not resumed" line for the session.
        self.assertEqual(log.count("data tls not resumed"), 1, log)
        return log

    def test_explicit(self):
        self.check("explicit")

    def test_implicit_without_pbsz_prot(self):
        log = self.check("implicit")
        self.assertNotRegex(log, r"cmd (PBSZ|PROT)\b")
        self.assertRegex(log, r"retr path=/p\.bin bytes=716811 .*result=ok")

    def test_tls12(self):
        self.check("explicit", "TLSv1_2")
        self.check("implicit", "TLSv1_2")

    def test_required_account_gets_522_naming_the_cause(self):
        reply, log = harness.REFUSED["none"]
        for mode in ("explicit", "implicit"):
            p, _, _ = self.netftp("alice", mode)
            self.assertNotEqual(p.returncode, 0, harness.describe(p))
            self.assertIn("put: " + reply, p.stderr)
        self.assertEqual(len(re.findall(re.escape(log),
                                        self.srv.log_text())), 2)


if __name__ == "__main__":
    harness.main()
