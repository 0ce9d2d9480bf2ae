#!/usr/bin/env python3
"""The command set: FEAT, listings (LIST ls -l form, NLST, MLSD/MLST facts),
SIZE/MDTM, STAT, directory and file management, STOU/APPE, reply codes
for unknown, refused and badly formed commands, read-only accounts."""

import calendar
import io
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ftp_reply, reply_code  # noqa: E402

MTIME = calendar.timegm((2021, 3, 4, 5, 6, 7))
MTIME_STR = "20210304050607"
LS_RE = re.compile(r"^([-dl])([-rwxsStT]{9})\+?\s+\d+\s+\S+\s+\S+\s+(\d+)\s+"
                   r"(\w{3})\s+(\d{1,2})\s+(\d\d:\d\d|\d{4})\s(.+)$")


def mkfile(path, data, mtime=MTIME):
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (mtime, mtime))


class Commands(harness.ServerTestCase):

    @classmethod
    def prepare_files(cls, srv):
        # The listing fixture lives in fx/, which no test writes to; the
        # tests that write do it in the home's root.
        for user in ("alice", "bob"):
            home = os.path.join(srv.home(user), "fx")
            os.makedirs(home)
            mkfile(os.path.join(home, "a.txt"), b"0123456789")
            os.makedirs(os.path.join(home, "dir1"))
            mkfile(os.path.join(home, "dir1", "b.bin"), b"b" * 2000)
            mkfile(os.path.join(home, "sp ace.txt"), b"space\n")
            mkfile(os.path.join(home, "\u00fcn\u00ef.txt"), b"utf8\n")
            os.utime(os.path.join(home, "dir1"), (MTIME, MTIME))

    def listing(self, ftp, cmd):
        lines = []
        ftp.retrlines(cmd, lines.append)
        return lines

    # -- informational -------------------------------------------------------

    def test_feat(self):
        ftp = self.ftp()
        text = self.assertReply(ftp.sendcmd("FEAT"), 211)
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith("211-"), text)
        self.assertTrue(lines[-1].startswith("211 "), text)
        feats = [l[1:] for l in lines[1:-1]]
        for l in lines[1:-1]:
            self.assertTrue(l.startswith(" "), "RFC 2389 feature line "
                            "must start with a space: %r" % l)
        names = {f.split(" ")[0].upper(): f for f in feats}
        auth = [f for f in feats if f.upper().startswith("AUTH ")]
        for want in ("AUTH", "PBSZ", "PROT", "EPSV", "MDTM", "SIZE", "REST",
                     "MLST", "UTF8"):
            self.assertIn(want, names, text)
        self.assertIn("AUTH TLS", auth, text)
        self.assertEqual(names["REST"], "REST STREAM")
        self.assertRegex(names["MLST"], r"(?i)type\*?;")
        for fact in ("type", "size", "modify", "perm"):
            self.assertRegex(names["MLST"], r"(?i)\b%s\*?;" % fact)

    def test_syst_noop_help_pwd(self):
        ftp = self.ftp()
        self.assertReply(ftp.sendcmd("SYST"), 215)
        self.assertReply(ftp.sendcmd("NOOP"), 200)
        self.assertReply(ftp.sendcmd("HELP"), 214)
        self.assertReply(ftp.sendcmd("PWD"), 257)
        self.assertEqual(ftp.pwd(), "/")
        self.assertTrue(ftp.sendcmd("XPWD").startswith('257 "/"'))
        self.assertReply(ftp.sendcmd("OPTS UTF8 ON"), 200)
        self.assertReply(ftp.sendcmd("MODE S"), 200)
        self.assertReply(ftp.sendcmd("STRU F"), 200)
        self.assertReply(ftp.sendcmd("PBSZ 0"), 200)

    def test_cwd_cdup(self):
        ftp = self.ftp()
        self.assertReply(ftp.cwd("fx/dir1"), 250)
        self.assertEqual(ftp.pwd(), "/fx/dir1")
        self.assertIn("b.bin", ftp.nlst())
        self.assertReply(ftp.sendcmd("CDUP"), (200, 250))
        self.assertEqual(ftp.pwd(), "/fx")
        self.assertReply(ftp.sendcmd("XCWD /fx/dir1"), 250)
        self.assertEqual(ftp.pwd(), "/fx/dir1")
        self.assertReply(ftp.sendcmd("CWD ../.."), 250)
        self.assertEqual(ftp.pwd(), "/")
        self.assertReply(ftp.sendcmd("CDUP"), (200, 250))
        self.assertEqual(ftp.pwd(), "/")
        self.assertReply(ftp_reply(ftp.cwd, "nonexistent"), 550)
        self.assertReply(ftp_reply(ftp.cwd, "fx/a.txt"), 550)
        self.assertEqual(ftp.pwd(), "/")

    # -- listings --------------------------------------------------------------

    def test_list_ls_form(self):
        ftp = self.ftp()
        ftp.cwd("fx")
        for cmd in ("LIST", "LIST -la", "LIST -l /fx"):
            entries = {}
            for line in self.listing(ftp, cmd):
                m = LS_RE.match(line)
                self.assertIsNotNone(m, "%s: not ls -l form: %r"
                                     % (cmd, line))
                entries[m.group(7)] = m
            for name in (".", ".."):
                entries.pop(name, None)
            self.assertEqual(sorted(entries), sorted(
                ["a.txt", "dir1", "sp ace.txt", "\u00fcn\u00ef.txt"]), cmd)
            a = entries["a.txt"]
            self.assertEqual(a.group(1), "-")
            self.assertEqual(int(a.group(3)), 10)
            self.assertEqual((a.group(4), int(a.group(5)), a.group(6)),
                             ("Mar", 4, "2021"), "an old file shows its year")
            self.assertEqual(entries["dir1"].group(1), "d")
        lines = self.listing(ftp, "LIST a.txt")
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].endswith(" a.txt"), lines)
        lines = self.listing(ftp, "LIST dir1")
        self.assertEqual(len(lines), 1, lines)
        self.assertEqual(int(LS_RE.match(lines[0]).group(3)), 2000)
        self.assertReply(ftp_reply(self.listing, ftp, "LIST nonexistent"),
                         (450, 550))

    def test_nlst(self):
        ftp = self.ftp()
        ftp.cwd("fx")
        self.assertEqual(sorted(ftp.nlst()), sorted(
            ["a.txt", "dir1", "sp ace.txt", "\u00fcn\u00ef.txt"]))
        self.assertEqual([n.rsplit("/", 1)[-1] for n in ftp.nlst("dir1")],
                         ["b.bin"])

    def test_mlsd_mlst_facts(self):
        ftp = self.ftp()
        ftp.cwd("fx")
        got = {name: facts for name, facts in ftp.mlsd()
               if facts.get("type") not in ("cdir", "pdir")}
        self.assertEqual(sorted(got), sorted(
            ["a.txt", "dir1", "sp ace.txt", "\u00fcn\u00ef.txt"]))
        a = got["a.txt"]
        self.assertEqual(a["type"], "file")
        self.assertEqual(a["size"], "10")
        self.assertEqual(a["modify"][:14], MTIME_STR)
        for p in "rw":
            self.assertIn(p, a["perm"])
        self.assertEqual(got["dir1"]["type"], "dir")
        self.assertIn("l", got["dir1"]["perm"])
        self.assertIn("c", got["dir1"]["perm"])
        got = {n: f for n, f in ftp.mlsd("dir1")
               if f.get("type") not in ("cdir", "pdir")}
        self.assertEqual(got["b.bin"]["size"], "2000")
        # MLSD of a file is 501 (RFC 3659 7.2).
        self.assertReply(ftp_reply(lambda: list(ftp.mlsd("a.txt"))), 501)
        text = self.assertReply(ftp.sendcmd("MLST a.txt"), 250)
        lines = text.splitlines()
        self.assertEqual(len(lines), 3, text)
        self.assertTrue(lines[1].startswith(" "), text)
        facts, name = lines[1][1:].split(" ", 1)
        self.assertTrue(name.endswith("a.txt"), text)
        f = dict(x.split("=", 1) for x in facts.rstrip(";").split(";"))
        self.assertEqual(f["type"], "file")
        self.assertEqual(f["size"], "10")
        self.assertEqual(f["modify"][:14], MTIME_STR)

    def test_size_mdtm(self):
        ftp = self.ftp()
        ftp.cwd("fx")
        # SIZE in ASCII mode may be refused (the size would depend on the
        # conversion) or give the converted size; in binary it is exact.
        r = ftp_reply(ftp.sendcmd, "SIZE a.txt")
        self.assertIn(r[:3], ("550", "213"), r)
        ftp.voidcmd("TYPE I")
        self.assertEqual(ftp.sendcmd("SIZE a.txt"), "213 10")
        self.assertEqual(ftp.size("dir1/b.bin"), 2000)
        self.assertEqual(ftp.sendcmd("MDTM a.txt")[:18], "213 " + MTIME_STR)
        self.assertReply(ftp_reply(ftp.sendcmd, "SIZE nonexistent"), 550)
        self.assertReply(ftp_reply(ftp.sendcmd, "MDTM nonexistent"), 550)
        self.assertReply(ftp_reply(ftp.sendcmd, "SIZE dir1"), 550)

    def test_stat(self):
        ftp = self.ftp()
        ftp.cwd("fx")
        text = self.assertReply(ftp.sendcmd("STAT"), 211)
        self.assertGreater(len(text.splitlines()), 1, text)
        text = self.assertReply(ftp.sendcmd("STAT a.txt"), (211, 212, 213))
        body = [l for l in text.splitlines()[1:-1] if l.strip()]
        self.assertTrue(any(LS_RE.match(l.strip()) and l.endswith("a.txt")
                            for l in body), text)
        text = self.assertReply(ftp.sendcmd("STAT dir1"), (211, 212, 213))
        self.assertIn("b.bin", text)
        self.assertReply(ftp_reply(ftp.sendcmd, "STAT nonexistent"),
                         (450, 550))

    # -- management ------------------------------------------------------------

    def test_mkdir_rename_delete_rmd(self):
        ftp = self.ftp()
        self.assertTrue(ftp.sendcmd("MKD newdir").startswith(
            '257 "/newdir"'))
        self.assertTrue(os.path.isdir(self.srv.path("newdir")))
        self.assertReply(ftp.sendcmd("XMKD newdir/x"), 257)
        self.assertReply(ftp_reply(ftp.sendcmd, "MKD newdir"), 550)
        self.assertReply(ftp_reply(ftp.sendcmd, "RMD newdir"), 550)
        self.assertReply(ftp.sendcmd("XRMD newdir/x"), 250)
        self.assertReply(ftp.sendcmd("RMD newdir"), 250)
        self.assertFalse(os.path.exists(self.srv.path("newdir")))
        text = ftp.sendcmd('MKD q"uote')
        self.assertTrue(text.startswith('257 "/q""uote"'), text)
        ftp.rmd('q"uote')
        os.makedirs(self.srv.path("rdir"))
        mkfile(self.srv.path("r1.txt"), b"r1")
        self.assertReply(ftp.sendcmd("RNFR r1.txt"), 350)
        self.assertReply(ftp.sendcmd("RNTO rdir/r2.txt"), 250)
        with open(self.srv.path("rdir/r2.txt"), "rb") as f:
            self.assertEqual(f.read(), b"r1")
        self.assertFalse(os.path.exists(self.srv.path("r1.txt")))
        self.assertReply(ftp_reply(ftp.sendcmd, "RNTO x.txt"), 503)
        self.assertReply(ftp_reply(ftp.sendcmd, "RNFR nonexistent"), 550)
        # A directory renames too.
        ftp.rename("rdir", "rdir2")
        self.assertTrue(os.path.isdir(self.srv.path("rdir2")))
        self.assertReply(ftp.delete("rdir2/r2.txt"), 250)
        self.assertFalse(os.path.exists(self.srv.path("rdir2/r2.txt")))
        self.assertReply(ftp_reply(ftp.delete, "nonexistent"), 550)
        self.assertReply(ftp_reply(ftp.delete, "rdir2"), 550)
        self.assertTrue(os.path.isdir(self.srv.path("rdir2")))
        ftp.rmd("rdir2")

    def test_stor_into_missing_folder(self):
        ftp = self.ftp()
        r = ftp_reply(ftp.storbinary, "STOR nodir/x.txt", io.BytesIO(b"x"))
        self.assertReply(r, (550, 553))
        self.assertFalse(os.path.exists(self.srv.path("nodir")))
        r = ftp_reply(ftp.storbinary, "STOR fx", io.BytesIO(b"x"))
        self.assertTrue(r.startswith("5"), "STOR over a folder: " + r)
        self.assertTrue(os.path.isdir(self.srv.path("fx")))
        # A name ending in '/' names a folder: no file is made of it.
        for cmd in ("STOR newf/", "APPE newf/"):
            r = ftp_reply(ftp.storbinary, cmd, io.BytesIO(b"x"))
            self.assertReply(r, 553)
            self.assertFalse(os.path.exists(self.srv.path("newf")))

    def test_stou(self):
        ftp = self.ftp()
        before = set(os.listdir(self.srv.home()))
        r = harness.data_exchange(ftp, "STOU", upload=b"unique content\n")
        self.assertIsNone(r["error"], r)
        self.assertReply(r["prelim"], (125, 150))
        self.assertReply(r["final"], (226, 250))
        new = set(os.listdir(self.srv.home())) - before
        self.assertEqual(len(new), 1, new)
        name = new.pop()
        with open(self.srv.path(name), "rb") as f:
            self.assertEqual(f.read(), b"unique content\n")
        self.assertIn(name, r["prelim"] + " " + r["final"],
                      "STOU replies do not name the file (RFC 1123 4.1.2.9)")
        # A second STOU never overwrites the first.
        ftp.storbinary("STOU", io.BytesIO(b"second\n"))
        with open(self.srv.path(name), "rb") as f:
            self.assertEqual(f.read(), b"unique content\n")
        self.assertEqual(len(set(os.listdir(self.srv.home())) - before), 2)

    def test_appe(self):
        ftp = self.ftp()
        mkfile(self.srv.path("app.txt"), b"abc")
        ftp.storbinary("APPE app.txt", io.BytesIO(b"def"))
        with open(self.srv.path("app.txt"), "rb") as f:
            self.assertEqual(f.read(), b"abcdef")
        ftp.storbinary("APPE app-new.txt", io.BytesIO(b"new"))
        with open(self.srv.path("app-new.txt"), "rb") as f:
            self.assertEqual(f.read(), b"new")

    def test_names_with_spaces_and_utf8(self):
        ftp = self.ftp()
        buf = io.BytesIO()
        ftp.retrbinary("RETR fx/sp ace.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"space\n")
        buf = io.BytesIO()
        ftp.retrbinary("RETR fx/\u00fcn\u00ef.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"utf8\n")
        ftp.storbinary("STOR \u00e9t\u00e9 2.txt", io.BytesIO(b"e"))
        self.assertTrue(os.path.exists(self.srv.path("\u00e9t\u00e9 2.txt")))

    # -- reply codes -------------------------------------------------------------

    def test_reply_codes(self):
        ftp = self.ftp()
        cases = [
            ("XYZZY", (500,)),
            ("ACCT x", (502,)),
            ("REIN", (502,)),
            ("CCC", (534,)),
            ("PROT S", (536,)),
            ("PROT E", (536,)),
            ("PROT X", (504,)),
            ("MODE B", (504,)),
            ("STRU R", (504,)),
            ("PORT 1,2,3", (501,)),
            ("EPRT |9|127.0.0.1|5000|", (501, 522)),
            ("RETR", (501,)),
            ("DELE", (501,)),
            ("MKD", (501,)),
            ("RNTO x", (503,)),
            ("REST x", (501,)),
        ]
        for cmd, codes in cases:
            self.assertReply(ftp_reply(ftp.sendcmd, cmd), codes, cmd)
        # The session is still fine after all of those.
        self.assertReply(ftp.sendcmd("PROT P"), 200)
        self.assertIn("a.txt", ftp.nlst("fx"))

    def test_epsv_all(self):
        ftp = self.ftp()
        self.assertReply(ftp.sendcmd("EPSV ALL"), 200)
        for cmd in ("PASV", "PORT 127,0,0,1,200,10",
                    "EPRT |1|127.0.0.1|51210|"):
            self.assertTrue(ftp_reply(ftp.sendcmd, cmd).startswith("5"),
                            cmd + " after EPSV ALL")
        self.assertReply(ftp.sendcmd("EPSV"), 229)

    def test_opts_mlst_selects_facts(self):
        ftp = self.ftp()
        self.assertReply(ftp.sendcmd("OPTS MLST type;size;"), 200)
        text = ftp.sendcmd("MLST fx/a.txt")
        facts = text.splitlines()[1].strip().split(" ", 1)[0]
        names = sorted(x.split("=", 1)[0].lower()
                       for x in facts.rstrip(";").split(";"))
        self.assertEqual(names, ["size", "type"], text)
        self.assertReply(ftp.sendcmd("OPTS MLST type;size;modify;perm;"),
                         200)
        self.assertRegex(ftp.sendcmd("MLST fx/a.txt"), r"modify=")

    def test_auth_ssl_alias(self):
        with self.srv.raw() as rc:
            self.assertReply(rc.resp(), 220)
            self.assertReply(rc.cmd("AUTH SSL"), 234)
            rc.starttls(self.srv.client_context())
            self.assertReply(rc.cmd("USER alice"), 331)
            self.assertReply(rc.cmd("PASS " + self.srv.users["alice"][0]),
                             230)
            code, text = rc.cmd("AUTH TLS")
            self.assertTrue(500 <= code < 600, "second AUTH: " + text)

    def test_quit(self):
        with self.srv.raw_login() as rc:
            self.assertReply(rc.cmd("QUIT"), 221)
            self.assertTrue(rc.expect_closed(), "QUIT did not close")

    # -- permissions -------------------------------------------------------------

    def test_read_only_user(self):
        ftp = self.ftp(user="bob")
        buf = io.BytesIO()
        ftp.retrbinary("RETR fx/a.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"0123456789")
        for fn, args in ((ftp.storbinary, ("STOR new.txt",
                                           io.BytesIO(b"x"))),
                         (ftp.storbinary, ("APPE fx/a.txt",
                                           io.BytesIO(b"x"))),
                         (ftp.storbinary, ("STOU", io.BytesIO(b"x"))),
                         (ftp.sendcmd, ("MKD d",)),
                         (ftp.sendcmd, ("RMD fx/dir1",)),
                         (ftp.sendcmd, ("DELE fx/a.txt",)),
                         (ftp.sendcmd, ("RNFR fx/a.txt",))):
            r = ftp_reply(fn, *args)
            self.assertTrue(r.startswith("5"), "%s: %s" % (args[0], r))
        self.assertEqual(os.listdir(self.srv.home("bob")), ["fx"])
        self.assertEqual(sorted(os.listdir(self.srv.path("fx", "bob"))),
                         sorted(["a.txt", "dir1", "sp ace.txt",
                                 "\u00fcn\u00ef.txt"]))
        with open(self.srv.path("fx/a.txt", "bob"), "rb") as f:
            self.assertEqual(f.read(), b"0123456789")
        got = {n: f for n, f in ftp.mlsd("fx")}
        self.assertNotIn("w", got["a.txt"]["perm"])
        self.assertNotIn("d", got["a.txt"]["perm"])


if __name__ == "__main__":
    harness.main()
