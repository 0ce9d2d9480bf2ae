#!/usr/bin/env python3
"""curl against ftpsd: explicit (--ssl-reqd) and implicit (ftps://) FTPS,
TLS 1.2 and 1.3, many transfers on one connection, resume, listings and
quoted commands, passive and active data channels."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import MiB, describe  # noqa: E402


class Curl(harness.ServerTestCase):

    @classmethod
    def prepare_files(cls, srv):
        cls.big_sha = harness.write_random(srv.path("big.bin"), 10 * MiB)
        os.makedirs(srv.path("many"))
        cls.many = {}
        for i in range(20):
            name = "f%02d.bin" % i
            data = os.urandom(2000 + 1009 * i)
            with open(srv.path("many/" + name), "wb") as f:
                f.write(data)
            cls.many[name] = data
        os.makedirs(srv.path("updir"))
        cls.local = os.path.join(srv.dir, "local")
        os.makedirs(cls.local)

    def lpath(self, name):
        return os.path.join(self.local, name)

    def curl_ok(self, *args):
        p = self.srv.curl(*args)
        self.assertEqual(p.returncode, 0, describe(p))
        return p

    def tls_version(self, p):
        m = re.search(r"SSL connection using (TLSv1\.\d)", p.stderr)
        self.assertIsNotNone(m, describe(p))
        return m.group(1)

    def roundtrip(self, implicit, tls_args, want_version):
        url = self.srv.url("big.bin", implicit=implicit)
        out = self.lpath("down-%s-%s" % (implicit, want_version))
        args = ["-v"] + tls_args
        if not implicit:
            args.append("--ssl-reqd")
        p = self.curl_ok(*(args + ["-o", out, url]))
        self.assertEqual(self.tls_version(p), want_version)
        self.assertEqual(harness.sha256_file(out), self.big_sha)
        src = self.lpath("src-%s-%s" % (implicit, want_version))
        sha = harness.write_random(src, 10 * MiB)
        name = "up-%s-%s.bin" % (implicit, want_version)
        p = self.curl_ok(*(args + ["-T", src,
                                   self.srv.url(name, implicit=implicit)]))
        self.assertEqual(self.tls_version(p), want_version)
        self.assertEqual(harness.sha256_file(self.srv.path(name)), sha)

    def test_explicit_tls13(self):
        self.roundtrip(False, ["--tlsv1.3"], "TLSv1.3")

    def test_explicit_tls12(self):
        self.roundtrip(False, ["--tls-max", "1.2"], "TLSv1.2")

    def test_implicit_tls13(self):
        self.roundtrip(True, ["--tlsv1.3"], "TLSv1.3")

    def test_implicit_tls12(self):
        self.roundtrip(True, ["--tls-max", "1.2"], "TLSv1.2")

    def many_downloads(self, extra, count):
        args = ["--ssl-reqd", "-w", "%{num_connects}\n"] + extra
        names = sorted(self.many)[:count]
        for name in names:
            args += [self.srv.url("many/" + name),
                     "-o", self.lpath("m-%s" % name)]
        p = self.curl_ok(*args)
        # One control connection for all twenty transfers: num_connects
        # counts the control and the data connection for the first, then
        # only the new data connection of each later one.
        self.assertEqual(p.stdout.split(), ["2"] + ["1"] * (len(names) - 1),
                         describe(p))
        for name in names:
            with open(self.lpath("m-%s" % name), "rb") as f:
                self.assertEqual(f.read(), self.many[name], name)

    def many_uploads(self, extra, tag, count):
        srcs = []
        for i in range(count):
            p = self.lpath("u%s%02d.bin" % (tag, i))
            with open(p, "wb") as f:
                f.write(os.urandom(30000 + 977 * i))
            srcs.append(p)
        glob = "{" + ",".join(srcs) + "}"
        p = self.curl_ok("--ssl-reqd", "-w", "%{num_connects}\n",
                         *extra, "-T", glob, self.srv.url("updir/"))
        self.assertEqual(p.stdout.split(), ["2"] + ["1"] * (count - 1),
                         describe(p))
        for src in srcs:
            dst = self.srv.path("updir/" + os.path.basename(src))
            self.assertEqual(harness.sha256_file(dst),
                             harness.sha256_file(src), dst)

    # curl sends its ClientHello on a data connection before the
    # RETR/STOR that makes the server answer it, and then polls with
    # 200 ms..1 s waits, so each curl transfer here costs that much:
    # the counts keep the file well under a minute.
    def test_many_transfers_one_session_tls13(self):
        self.many_downloads(["--tlsv1.3"], 20)
        self.many_uploads(["--tlsv1.3"], "a", 8)

    def test_many_transfers_one_session_tls12(self):
        self.many_downloads(["--tls-max", "1.2"], 10)
        self.many_uploads(["--tls-max", "1.2"], "b", 5)

    def test_resume_download(self):
        full = os.path.join(self.srv.home(), "big.bin")
        part = self.lpath("resume-down.bin")
        with open(full, "rb") as f, open(part, "wb") as g:
            g.write(f.read(3 * MiB + 123))
        p = self.curl_ok("--ssl-reqd", "-v", "-C", "-", "-o", part,
                         self.srv.url("big.bin"))
        self.assertRegex(p.stderr, r"REST %d" % (3 * MiB + 123))
        self.assertEqual(harness.sha256_file(part), self.big_sha)

    def test_resume_upload(self):
        src = self.lpath("resume-up.bin")
        sha = harness.write_random(src, 6 * MiB)
        with open(src, "rb") as f, \
                open(self.srv.path("resume-up.bin"), "wb") as g:
            g.write(f.read(2 * MiB + 77))
        self.curl_ok("--ssl-reqd", "-C", "-", "-T", src,
                     self.srv.url("resume-up.bin"))
        self.assertEqual(harness.sha256_file(self.srv.path("resume-up.bin")),
                         sha)

    def test_list_and_nlst(self):
        p = self.curl_ok("--ssl-reqd", self.srv.url("many/"))
        lines = [l for l in p.stdout.splitlines() if l]
        self.assertEqual(len(lines), len(self.many), p.stdout)
        for line in lines:
            m = re.match(r"^-[-rwxsStT]{9}\s+\d+\s+\S+\s+\S+\s+(\d+)\s+"
                         r"\w{3}\s+\d{1,2}\s+(\d\d:\d\d|\d{4})\s+(\S.*)$",
                         line)
            self.assertIsNotNone(m, "not ls -l form: %r" % line)
            self.assertEqual(int(m.group(1)), len(self.many[m.group(3)]))
        p = self.curl_ok("--ssl-reqd", "--list-only", self.srv.url("many/"))
        self.assertEqual(sorted(p.stdout.split()), sorted(self.many))

    def test_quote_mkdir_rename_delete(self):
        with open(self.srv.path("ren-a.txt"), "w") as f:
            f.write("a")
        with open(self.srv.path("del.txt"), "w") as f:
            f.write("d")
        self.curl_ok("--ssl-reqd", "-Q", "MKD qdir", "-Q", "RNFR ren-a.txt",
                     "-Q", "RNTO ren-b.txt", "-Q", "DELE del.txt",
                     "--list-only", self.srv.url(""))
        self.assertTrue(os.path.isdir(self.srv.path("qdir")))
        self.assertFalse(os.path.exists(self.srv.path("ren-a.txt")))
        self.assertTrue(os.path.exists(self.srv.path("ren-b.txt")))
        self.assertFalse(os.path.exists(self.srv.path("del.txt")))
        self.curl_ok("--ssl-reqd", "-Q", "RMD qdir", "--list-only",
                     self.srv.url(""))
        self.assertFalse(os.path.exists(self.srv.path("qdir")))
        # Uploading into a folder that does not exist yet.
        src = self.lpath("deep.txt")
        with open(src, "w") as f:
            f.write("deep\n")
        self.curl_ok("--ssl-reqd", "--ftp-create-dirs", "-T", src,
                     self.srv.url("n1/n2/deep.txt"))
        with open(self.srv.path("n1/n2/deep.txt")) as f:
            self.assertEqual(f.read(), "deep\n")

    def test_pasv_and_epsv(self):
        # Active mode is covered with ftplib (test_ftplib.py): curl 7.87
        # to 7.88 never start TLS on an active data connection (curl
        # issue 10666, fixed in 8.0), and Debian 12 ships 7.88.
        want = self.many["f03.bin"]
        for extra, cmd in ((["--disable-epsv"], "PASV"),
                           ([], "EPSV")):
            out = self.lpath("mode-%s" % cmd)
            p = self.curl_ok("--ssl-reqd", "-v", *extra, "-o", out,
                             self.srv.url("many/f03.bin"))
            self.assertRegex(p.stderr, r"> %s" % cmd, describe(p))
            with open(out, "rb") as f:
                self.assertEqual(f.read(), want, cmd)

    def test_missing_file_fails(self):
        p = self.srv.curl("--ssl-reqd", "-o", self.lpath("nope"),
                          self.srv.url("no-such-file"))
        self.assertEqual(p.returncode, 78, describe(p))  # REMOTE_FILE_NOT_FOUND

    def test_bad_password(self):
        url = "ftp://alice:wrong@%s:%d/" % (harness.HOST,
                                            self.srv.explicit_port)
        p = self.srv.curl("--ssl-reqd", "-v", url)
        self.assertEqual(p.returncode, 67, describe(p))  # LOGIN_DENIED
        self.assertIn("< 530", p.stderr)


if __name__ == "__main__":
    harness.main()
