#!/usr/bin/env python3
"""lftp (GnuTLS) against ftpsd: ftp:ssl-force + ftp:ssl-protect-data,
implicit ftps://, TLS 1.2 and 1.3, mirror of many files both ways in one
session, resume, listing and file management."""

import filecmp
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import MiB, describe  # noqa: E402

TLS12 = 'set ssl:priority "NORMAL:-VERS-ALL:+VERS-TLS1.2"'
TLS13 = 'set ssl:priority "NORMAL:-VERS-ALL:+VERS-TLS1.3"'


class Lftp(harness.ServerTestCase):

    @classmethod
    def prepare_files(cls, srv):
        cls.big_sha = harness.write_random(srv.path("big.bin"), 10 * MiB)
        os.makedirs(srv.path("tree/sub"))
        for i in range(20):
            sub = "sub/" if i % 4 == 0 else ""
            with open(srv.path("tree/%sm%02d.bin" % (sub, i)), "wb") as f:
                f.write(os.urandom(500 + 4093 * i))
        cls.local = os.path.join(srv.dir, "local")
        os.makedirs(cls.local)

    def lpath(self, name):
        return os.path.join(self.local, name)

    def lftp_ok(self, script, **kw):
        p = self.srv.lftp(script, **kw)
        self.assertEqual(p.returncode, 0, describe(p))
        return p

    def roundtrip(self, implicit, prio, tag):
        out = self.lpath("down-" + tag)
        src = self.lpath("src-" + tag)
        sha = harness.write_random(src, 10 * MiB)
        self.lftp_ok("get big.bin -o %s\nput %s -o up-%s.bin"
                     % (out, src, tag),
                     implicit=implicit, settings=[prio])
        self.assertEqual(harness.sha256_file(out), self.big_sha)
        self.assertEqual(harness.sha256_file(self.srv.path("up-%s.bin"
                                                           % tag)), sha)

    def test_explicit_tls13(self):
        self.roundtrip(False, TLS13, "e13")

    def test_explicit_tls12(self):
        self.roundtrip(False, TLS12, "e12")

    def test_implicit_tls13(self):
        self.roundtrip(True, TLS13, "i13")

    def test_implicit_tls12(self):
        self.roundtrip(True, TLS12, "i12")

    def mirror_both_ways(self, prio, tag):
        down = self.lpath("mirror-" + tag)
        # Parallel 1: every file goes over the one control connection.
        self.lftp_ok("set mirror:parallel-transfer-count 1\n"
                     "mirror tree %s\nmirror -R %s tree-back-%s"
                     % (down, down, tag), settings=[prio])
        cmp = filecmp.dircmp(self.srv.path("tree"), down)
        self.assert_same_tree(cmp)
        cmp = filecmp.dircmp(self.srv.path("tree"),
                             self.srv.path("tree-back-" + tag))
        self.assert_same_tree(cmp)

    def assert_same_tree(self, cmp):
        self.assertEqual(cmp.left_only, [], cmp.left)
        self.assertEqual(cmp.right_only, [], cmp.right)
        # dircmp compares shallowly by default: compare contents.
        match, mismatch, errors = filecmp.cmpfiles(
            cmp.left, cmp.right, cmp.common_files, shallow=False)
        self.assertEqual((mismatch, errors), ([], []), cmp.left)
        for sub in cmp.subdirs.values():
            self.assert_same_tree(sub)

    def test_mirror_tls13(self):
        self.mirror_both_ways(TLS13, "13")

    def test_mirror_tls12(self):
        self.mirror_both_ways(TLS12, "12")

    def test_resume_get_and_put(self):
        part = self.lpath("part.bin")
        with open(self.srv.path("big.bin"), "rb") as f, open(part, "wb") as g:
            g.write(f.read(4 * MiB + 5))
        src = self.lpath("cont-src.bin")
        sha = harness.write_random(src, 5 * MiB)
        with open(src, "rb") as f, \
                open(self.srv.path("cont.bin"), "wb") as g:
            g.write(f.read(MiB + 9))
        p = self.lftp_ok("debug 5\nget -c big.bin -o %s\nput -c %s -o "
                         "cont.bin" % (part, src))
        self.assertEqual(harness.sha256_file(part), self.big_sha)
        self.assertEqual(harness.sha256_file(self.srv.path("cont.bin")), sha)
        self.assertIn("REST %d" % (4 * MiB + 5), p.stdout + p.stderr)

    def test_ls_and_file_management(self):
        with open(self.srv.path("lf-a.txt"), "w") as f:
            f.write("12345")
        p = self.lftp_ok("cls -1 tree\nls tree")
        out = p.stdout.splitlines()
        names = set(os.listdir(self.srv.path("tree")))
        self.assertTrue(names <= set(o.rstrip("/").rsplit("/", 1)[-1]
                                     for o in out), p.stdout)
        self.assertTrue(any(re.match(r"^d[-rwx]{9}\s.*\ssub$", l)
                            for l in out), p.stdout)
        self.lftp_ok("mkdir lf-dir\nmv lf-a.txt lf-dir/lf-b.txt")
        with open(self.srv.path("lf-dir/lf-b.txt")) as f:
            self.assertEqual(f.read(), "12345")
        self.assertFalse(os.path.exists(self.srv.path("lf-a.txt")))
        self.lftp_ok("rm lf-dir/lf-b.txt\nrmdir lf-dir")
        self.assertFalse(os.path.exists(self.srv.path("lf-dir")))

    def test_read_only_user_cannot_put(self):
        src = self.lpath("ro.txt")
        with open(src, "w") as f:
            f.write("x")
        p = self.srv.lftp("put %s -o ro.txt" % src, user="bob")
        self.assertNotEqual(p.returncode, 0, describe(p))
        self.assertFalse(os.path.exists(self.srv.path("ro.txt", "bob")))


if __name__ == "__main__":
    harness.main()
