#!/usr/bin/env python3
"""Apache Commons Net's FTPSClient (Debian's libcommons-net-java, Java 17)
against ftpsd: a small client (clients/FtpsCheck.java) compiled here with
javac; explicit and implicit FTPS, TLS 1.3 and 1.2; upload, list,
download, rename, delete.  JSSE keys its session cache by host and port,
so data connections (other ports) never resume the control session: the
account needs data_session_reuse=optional in the users file, while
another account stays required and gets a 522 naming the cause
(docs/clients.md)."""

import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "clients", "FtpsCheck.java")
STOREPASS = "ftpsd-test"


def commons_net_jar():
    for path in ["/usr/share/java/commons-net.jar"] + \
            sorted(glob.glob("/usr/share/java/commons-net*.jar")):
        if os.path.exists(path):
            return path
    harness.die("Apache Commons Net not found in /usr/share/java "
                "(apt-get install libcommons-net-java)")


class CommonsNet(harness.ServerTestCase):
    USERS = {
        "alice": ("alice-Pw-7c1f", "rw"),
        "java": ("java-Pw-6d2c", "rw", "data_session_reuse=optional"),
    }

    @classmethod
    def prepare_files(cls, srv):
        for prog in ("javac", "java", "keytool"):
            harness.need_program(prog)
        cls.jar = commons_net_jar()
        cls.classes = os.path.join(srv.dir, "classes")
        p = harness.run(["javac", "-d", cls.classes, "-cp", cls.jar,
                         SOURCE])
        if p.returncode != 0:
            raise AssertionError("javac failed\n" + harness.describe(p))
        cls.trust = os.path.join(srv.dir, "trust.p12")
        p = harness.run(["keytool", "-importcert", "-noprompt", "-alias",
                         "ftpsd", "-file", srv.cafile, "-keystore",
                         cls.trust, "-storetype", "PKCS12", "-storepass",
                         STOREPASS])
        if p.returncode != 0:
            raise AssertionError("keytool failed\n" + harness.describe(p))

    def java(self, user, mode, tls12=False):
        port = self.srv.explicit_port if mode == "explicit" else \
            self.srv.implicit_port
        src = os.path.join(self.srv.dir, "java-%s-%s.bin" % (user, mode))
        sha = harness.write_random(src, 900 * 1024 + 3)
        argv = ["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1"]
        if tls12:
            argv.append("-Djdk.tls.client.protocols=TLSv1.2")
        argv += ["-cp", self.jar + ":" + self.classes, "FtpsCheck", mode,
                 harness.HOST, str(port), user, self.srv.users[user][0],
                 self.trust, STOREPASS, src, "j.bin", "P"]
        return harness.run(argv), src, sha

    def check(self, mode, tls12=False):
        before = len(self.srv.log_text())
        p, src, sha = self.java("java", mode, tls12)
        self.assertEqual((p.returncode, p.stdout), (0, "ok\n"),
                         harness.describe(p))
        self.assertEqual(harness.sha256_file(src + ".back"), sha)
        log = self.srv.log_text()[before:]
        self.assertIn(" tls %s " % ("TLSv1.2" if tls12 else "TLSv1.3"), log)
        self.assertNotIn("data tls refused", log)
        self.assertEqual(log.count("data tls not resumed"), 1, log)

    def test_explicit_tls13(self):
        self.check("explicit")

    def test_implicit_tls13(self):
        self.check("implicit")

    def test_tls12(self):
        self.check("explicit", tls12=True)

    def test_required_account_gets_522_naming_the_cause(self):
        reply, log = harness.REFUSED["none"]
        p, _, _ = self.java("alice", "explicit")
        self.assertEqual(p.returncode, 1, harness.describe(p))
        self.assertTrue(p.stdout.startswith("STOR failed: " + reply),
                        p.stdout)
        self.srv.wait_log(re.escape(log))


if __name__ == "__main__":
    harness.main()
