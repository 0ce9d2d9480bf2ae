#!/usr/bin/env python3
"""rclone (Debian's 1.60) sync with 4 transfers against ftpsd, explicit
(explicit_tls) and implicit (tls) FTPS: up into an empty folder, down into
another, compared by sha256; the files keep their times (rclone sends
MFMT), so a second sync finds nothing to do.  rclone's
connections share one TLS session cache, so a data connection often
resumes the session of another of its control connections: the account
needs data_session_reuse=optional in the users file, while another account
stays required and gets 522s naming that cause (docs/clients.md)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

NFILES = 48


def tree_files(top):
    """(relative path, path) of every file beneath top, sorted."""
    return sorted((os.path.relpath(os.path.join(d, f), top),
                   os.path.join(d, f))
                  for d, _, files in os.walk(top) for f in files)


def tree_sha(top):
    return {rel: harness.sha256_file(p) for rel, p in tree_files(top)}


class Rclone(harness.ServerTestCase):
    USERS = {
        "alice": ("alice-Pw-7c1f", "rw"),
        "rc": ("rc-Pw-4f0b", "rw", "data_session_reuse=optional"),
    }

    @classmethod
    def prepare_files(cls, srv):
        harness.need_program("rclone")
        cls.src = os.path.join(srv.dir, "src")
        os.makedirs(os.path.join(cls.src, "sub", "deeper"))
        for i in range(NFILES):
            sub = ("", "sub/", "sub/deeper/")[i % 3]
            harness.write_random(os.path.join(cls.src, "%sf%02d.bin"
                                              % (sub, i)), 500 + 4099 * i)
        # Times of their own, years back: kept only if rclone can set them.
        for i, (_, p) in enumerate(tree_files(cls.src)):
            os.utime(p, (1614834367 + 3600 * i, 1614834367 + 3600 * i))
        cls.want = tree_sha(cls.src)

    def rclone(self, user, implicit, *args):
        port = self.srv.implicit_port if implicit else self.srv.explicit_port
        p = harness.run(["rclone", "obscure", self.srv.users[user][0]])
        self.assertEqual(p.returncode, 0, harness.describe(p))
        remote = ":ftp,host=%s,port=%d,user=%s,pass=%s,%s=true:" % (
            harness.HOST, port, user, p.stdout.strip(),
            "tls" if implicit else "explicit_tls")
        argv = ["rclone", "--config", "/dev/null", "--transfers", "4",
                "--checkers", "4", "--retries", "1", "--low-level-retries",
                "1", "--contimeout", "10s", "--timeout", "20s",
                "--stats", "0"]
        argv += [a.replace("REMOTE:", remote) for a in args]
        # Go reads its trusted roots from SSL_CERT_FILE.
        env = dict(os.environ, SSL_CERT_FILE=self.srv.cafile)
        return harness.run(argv, env=env)

    def check(self, implicit):
        name = "implicit" if implicit else "explicit"
        before = len(self.srv.log_text())
        p = self.rclone("rc", implicit, "sync", self.src, "REMOTE:" + name)
        self.assertEqual(p.returncode, 0, harness.describe(p))
        self.assertEqual(tree_sha(self.srv.path(name, "rc")), self.want)
        down = os.path.join(self.srv.dir, "down-" + name)
        p = self.rclone("rc", implicit, "sync", "REMOTE:" + name, down)
        self.assertEqual(p.returncode, 0, harness.describe(p))
        self.assertEqual(tree_sha(down), self.want)
        # rclone keeps times with MFMT: the server's files have the
        # sources' (to the second), so a second sync compares size and
        # time and sends nothing.
        for rel, src in tree_files(self.src):
            got = os.stat(os.path.join(self.srv.path(name, "rc"), rel))
            self.assertEqual(int(got.st_mtime), int(os.stat(src).st_mtime),
                             rel)
        p = self.rclone("rc", implicit, "sync", "-v", self.src,
                        "REMOTE:" + name)
        self.assertEqual(p.returncode, 0, harness.describe(p))
        self.assertIn("There was nothing to transfer", p.stderr)
        self.assertNotIn("SetModTime is not supported", p.stderr)
        log = self.srv.log_text()[before:]
        self.assertNotIn("data tls refused", log)
        self.assertGreaterEqual(log.count(" stor path="), NFILES)

    def test_explicit(self):
        self.check(False)

    def test_implicit(self):
        self.check(True)

    def test_required_account_gets_522_naming_the_cause(self):
        reply, log = harness.REFUSED["foreign"]
        before = len(self.srv.log_text())
        p = self.rclone("alice", False, "sync", self.src, "REMOTE:req")
        self.assertNotEqual(p.returncode, 0, harness.describe(p))
        refusals = re.findall(r"522 [^\n]*", p.stderr)
        self.assertTrue(refusals, harness.describe(p))
        for r in refusals:
            self.assertTrue(r.startswith(reply), r)
        self.assertIn(log, self.srv.log_text()[before:])


if __name__ == "__main__":
    harness.main()
