#!/usr/bin/env python3
"""Refusals: TLS before USER, PROT P before data, FTP bounce (RFC 2577),
foreign PASV peers, path traversal and symlink escapes, failed logins,
STARTTLS command injection, overlong lines, ALPN, TLS versions and
ciphers."""

import ftplib
import io
import os
import re
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HOST, FOREIGN_HOST, Ftpsd, describe, ftp_reply, s_client_ok  # noqa

with open("/etc/passwd", "rb") as _f:
    REAL_PASSWD = _f.read()


def pasv_port(text):
    m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", text)
    assert m, "no address in PASV reply %r" % text
    n = [int(x) for x in m.groups()]
    return "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]


class Security(harness.ServerTestCase):
    CONF = {"data_timeout": 4}

    @classmethod
    def prepare_files(cls, srv):
        home = srv.home()
        with open(os.path.join(home, "keep.txt"), "wb") as f:
            f.write(b"keep\n")
        os.makedirs(os.path.join(home, "sub"))
        # Escapes: an absolute link to /etc, a relative link climbing out,
        # and a link to a folder beside the home holding a secret.
        cls.outside = os.path.join(srv.dir, "outside")
        os.makedirs(cls.outside)
        with open(os.path.join(cls.outside, "secret.txt"), "wb") as f:
            f.write(b"outside secret\n")
        os.symlink("/etc", os.path.join(home, "escape"))
        os.symlink("../../../../../../../../..", os.path.join(home, "up"))
        os.symlink(cls.outside, os.path.join(home, "out"))
        os.symlink(os.path.join(cls.outside, "secret.txt"),
                   os.path.join(home, "secretlink.txt"))
        # A link that stays inside the home must keep working.
        os.symlink("keep.txt", os.path.join(home, "inner.txt"))

    # -- helpers ------------------------------------------------------------

    def retr(self, ftp, path):
        """(reply, data) of RETR path."""
        buf = io.BytesIO()
        reply = ftp_reply(ftp.retrbinary, "RETR " + path, buf.write)
        return reply, buf.getvalue()

    def assertNoLeak(self, ftp, path, forbidden):
        reply, data = self.retr(ftp, path)
        self.assertNotEqual(data, forbidden, "RETR %s leaked" % path)
        self.assertNotIn(forbidden[:40], data, path)
        self.assertReply(reply, (550, 553), "RETR " + path)

    # -- TLS and PROT policy ------------------------------------------------

    def test_user_before_auth_tls_refused(self):
        with self.srv.raw() as rc:
            self.assertReply(rc.resp(), 220)
            self.assertReply(rc.cmd("USER alice"), (530, 534))
            code, _ = rc.cmd("PASS " + self.srv.users["alice"][0])
            self.assertNotIn(code, (230, 202), "logged in without TLS")
            self.assertReply(rc.cmd("PWD"), (530, 534))
            self.assertReply(rc.cmd("LIST"), (530, 534))
            # FEAT is allowed before TLS and must advertise AUTH TLS.
            text = self.assertReply(rc.cmd("FEAT"), 211)
            self.assertRegex(text, r"(?m)^ AUTH TLS")
            self.assertReply(rc.cmd("AUTH TLS"), 234)
            rc.starttls(self.srv.client_context())
            self.assertReply(rc.cmd("PWD"), 530)
            self.assertReply(rc.cmd("RETR keep.txt"), 530)
            self.assertReply(rc.cmd("USER alice"), 331)
            self.assertReply(rc.cmd("PASS " + self.srv.users["alice"][0]),
                             230)

    def test_data_before_prot_p_refused(self):
        rc = self.srv.raw_login(prot_p=False)
        with rc:
            for cmd in ("LIST", "NLST", "RETR keep.txt", "STOR new.txt",
                        "MLSD"):
                self.assertReply(rc.cmd(cmd), 521, cmd)
            self.assertFalse(os.path.exists(self.srv.path("new.txt")))
            # With a passive data connection open: still 521, and no
            # plaintext data ever crosses it.
            code, text = rc.cmd("PASV")
            if code == 227:
                host, port = pasv_port(text)
                d = socket.create_connection((HOST, port), 10)
                self.assertReply(rc.cmd("RETR keep.txt"), 521)
                d.settimeout(2)
                try:
                    got = d.recv(100)
                except (socket.timeout, ConnectionResetError):
                    got = b""
                d.close()
                self.assertEqual(got, b"", "plaintext data sent")
            else:
                self.assertReply((code, text), 521, "PASV")
            # PROT C does not lift the requirement.
            rc.cmd("PBSZ 0")
            rc.cmd("PROT C")
            self.assertReply(rc.cmd("LIST"), 521)
            self.assertReply(rc.cmd("NOOP"), 200)

    def test_prot_needs_pbsz(self):
        # RFC 2228 and RFC 4217 9: PROT before a successful PBSZ is 503
        # and changes nothing; PBSZ 0 then PROT P works.
        rc = self.srv.raw_login(prot_p=False)
        with rc:
            self.assertReply(rc.cmd("PROT P"), 503)
            self.assertReply(rc.cmd("LIST"), 521)
            self.assertReply(rc.cmd("PBSZ 0"), 200)
            self.assertReply(rc.cmd("PROT P"), 200)
            code, text = rc.cmd("STAT")
            self.assertReply((code, text), 211)
            self.assertIn("TLS (PROT P)", text)

    # -- FTP bounce (RFC 2577) and data peers -------------------------------

    def test_bounce_port_refused(self):
        trap = socket.create_server((FOREIGN_HOST, 0))
        trap.settimeout(1.5)
        tp = trap.getsockname()[1]
        rc = self.srv.raw_login()
        with rc, trap:
            for arg in ("PORT 127,0,0,2,%d,%d" % (tp // 256, tp % 256),
                        "PORT 192,0,2,1,200,10",
                        "PORT 127,0,0,1,0,21",
                        "PORT 127,0,0,1,3,255",
                        "EPRT |1|127.0.0.2|%d|" % tp,
                        "EPRT |1|192.0.2.1|5000|",
                        "EPRT |1|127.0.0.1|21|"):
                self.assertReply(rc.cmd(arg), (500, 504), arg)
                # The refused address must not be used by a data command.
                code, text = rc.cmd("LIST")
                self.assertNotIn(code, (125, 150, 226), arg)
            try:
                c, peer = trap.accept()
                c.close()
                self.fail("the server connected to the bounce target %s"
                          % (peer,))
            except socket.timeout:
                pass
            # Positive control: our own address, a high port, works.
            ls = socket.create_server((HOST, 0))
            ls.settimeout(10)
            p = ls.getsockname()[1]
            self.assertReply(rc.cmd("PORT 127,0,0,1,%d,%d" % (p // 256,
                                                              p % 256)), 200)
            ls.close()

    def test_pasv_connection_from_foreign_ip(self):
        rc = self.srv.raw_login()
        with rc:
            code, text = rc.cmd("PASV")
            self.assertReply((code, text), 227)
            _, port = pasv_port(text)
            intruder = socket.socket()
            intruder.settimeout(10)
            intruder.bind((FOREIGN_HOST, 0))
            intruder.connect((HOST, port))
            time.sleep(0.3)
            rc.send("LIST")
            code, text = rc.resp()
            if code in (125, 150):
                code, text = rc.resp()
            self.assertReply((code, text), 425)
            # The intruder got nothing and was closed.
            got = b""
            try:
                while True:
                    b = intruder.recv(4096)
                    if not b:
                        break
                    got += b
            except ConnectionResetError:
                pass
            except socket.timeout:
                self.fail("the server never closed the foreign data "
                          "connection")
            intruder.close()
            self.assertEqual(got, b"")
            self.assertReply(rc.cmd("NOOP"), 200)
        # The session and the next data channel still work.
        ftp = self.ftp()
        self.assertEqual(self.retr(ftp, "keep.txt")[1], b"keep\n")

    # -- confinement ---------------------------------------------------------

    def test_traversal_refused(self):
        ftp = self.ftp()
        for path in ("../../etc/passwd", "/etc/passwd",
                     "../../../../../../../../etc/passwd",
                     "sub/../../../etc/passwd", "/../etc/passwd",
                     "..\\..\\etc\\passwd"):
            self.assertNoLeak(ftp, path, REAL_PASSWD)
            self.assertTrue(ftp_reply(ftp.sendcmd, "SIZE " + path)
                            .startswith("5"), path)
        # CWD above the root stays at the root.
        ftp_reply(ftp.cwd, "../../..")
        self.assertEqual(ftp.pwd(), "/")
        names = ftp.nlst()
        self.assertIn("keep.txt", [n.rsplit("/", 1)[-1] for n in names])
        # Writing through .. lands inside the home, never beside it.
        reply = ftp_reply(ftp.storbinary, "STOR ../../climb.txt",
                          io.BytesIO(b"c"))
        self.assertFalse(os.path.exists(os.path.join(self.srv.dir,
                                                     "climb.txt")))
        self.assertFalse(os.path.exists(os.path.join(self.srv.dir, "home",
                                                     "climb.txt")))
        if reply.startswith("2"):
            self.assertTrue(os.path.exists(self.srv.path("climb.txt")))

    def test_symlink_escape_refused(self):
        ftp = self.ftp()
        secret = b"outside secret\n"
        for path in ("escape/passwd", "up/etc/passwd", "/escape/passwd"):
            self.assertNoLeak(ftp, path, REAL_PASSWD)
        for path in ("out/secret.txt", "secretlink.txt"):
            self.assertNoLeak(ftp, path, secret)
        lines = []
        ftp_reply(ftp.retrlines, "LIST escape", lines.append)
        ftp_reply(ftp.retrlines, "LIST escape/", lines.append)
        ftp_reply(ftp.retrlines, "NLST out", lines.append)
        ftp_reply(ftp.retrlines, "LIST up/etc", lines.append)
        joined = "\n".join(lines)
        self.assertNotIn("passwd", joined)
        self.assertNotIn("secret.txt", joined)
        # No writes through the links.
        ftp_reply(ftp.storbinary, "STOR out/pwned.txt", io.BytesIO(b"x"))
        ftp_reply(ftp.storbinary, "APPE out/secret.txt", io.BytesIO(b"x"))
        ftp_reply(ftp.mkd, "out/newdir")
        ftp_reply(ftp.delete, "out/secret.txt")
        ftp_reply(ftp.sendcmd, "RNFR out/secret.txt")
        ftp_reply(ftp.sendcmd, "RNTO stolen.txt")
        self.assertEqual(sorted(os.listdir(self.outside)), ["secret.txt"])
        with open(os.path.join(self.outside, "secret.txt"), "rb") as f:
            self.assertEqual(f.read(), secret)
        if os.path.exists(self.srv.path("stolen.txt")):
            with open(self.srv.path("stolen.txt"), "rb") as f:
                self.assertNotEqual(f.read(), secret)
        # CWD into a link leaving the home never shows outside files.
        if ftp_reply(ftp.cwd, "out").startswith("2"):
            self.assertNotIn("secret.txt", ftp.nlst())
            ftp.cwd("/")
        # A link that stays inside the home works.
        reply, data = self.retr(ftp, "inner.txt")
        self.assertReply(reply, 226)
        self.assertEqual(data, b"keep\n")

    # -- logins ----------------------------------------------------------------

    def timed_login(self, user, password):
        ftp = self.ftp(login=False)
        ftp.auth()
        r_user = ftp_reply(ftp.sendcmd, "USER " + user)
        t0 = time.monotonic()
        r_pass = ftp_reply(ftp.sendcmd, "PASS " + password)
        return r_user, r_pass, time.monotonic() - t0, ftp

    def test_bad_password_and_unknown_user_alike(self):
        u1, p1, t1, ftp1 = self.timed_login("alice", "wrong password")
        u2, p2, t2, ftp2 = self.timed_login("nosuchuser", "wrong password")
        self.assertReply(u1, 331)
        self.assertEqual(u1, u2.replace("nosuchuser", "alice"),
                         "USER reply tells which names exist")
        self.assertReply(p1, 530)
        self.assertEqual(p1, p2, "different failures for unknown user")
        self.assertIn("Login incorrect", p1)
        self.assertGreaterEqual(t1, 0.5, "no delay after a failed login")
        self.assertGreaterEqual(t2, 0.5, "no delay after a failed login")
        self.assertLess(abs(t1 - t2), 0.6, "timing tells names apart")
        # The session survives; the right password then works.
        ftp1.sendcmd("USER alice")
        self.assertReply(ftp1.sendcmd("PASS " + self.srv.users["alice"][0]),
                         230)

    def test_anonymous_off_by_default(self):
        for user in ("anonymous", "ftp"):
            u, p, _, ftp = self.timed_login(user, "guest@example.com")
            self.assertFalse(p.startswith("2"), "%s logged in: %s"
                             % (user, p))
            self.assertReply(ftp_reply(ftp.sendcmd, "PWD"), 530)

    # -- STARTTLS command injection --------------------------------------------

    def test_plaintext_pipelined_after_auth_tls_discarded(self):
        pw = self.srv.users["alice"][0]
        with self.srv.raw() as rc:
            self.assertReply(rc.resp(), 220)
            rc.send_raw(b"AUTH TLS\r\nUSER alice\r\n")
            self.assertReply(rc.resp(), 234)
            rc.starttls(self.srv.client_context())
            # If the injected USER had run, PASS would log us in.
            self.assertReply(rc.cmd("PASS " + pw), 503)
            self.assertReply(rc.cmd("NOOP"), 200)
        with self.srv.raw() as rc:
            self.assertReply(rc.resp(), 220)
            rc.send_raw(b"AUTH TLS\r\nUSER alice\r\nPASS " + pw.encode() +
                        b"\r\nNOOP\r\n")
            self.assertReply(rc.resp(), 234)
            rc.starttls(self.srv.client_context())
            self.assertReply(rc.cmd("PWD"), 530, "injected login ran")
            self.assertReply(rc.cmd("SYST"), 215)

    # -- line length -----------------------------------------------------------

    def test_overlong_line_500_and_session_survives(self):
        rc = self.srv.raw_login()
        with rc:
            for n in (5000, 70000):
                self.assertReply(rc.cmd("NOOP " + "A" * n), 500)
                self.assertReply(rc.cmd("NOOP"), 200)
            # An overlong line must not be cut into commands either.
            rc.send_raw(b"X" * 4200 + b"DELE keep.txt\r\n")
            self.assertReply(rc.resp(), 500)
            self.assertReply(rc.cmd("SYST"), 215)
            self.assertTrue(os.path.exists(self.srv.path("keep.txt")))

    def test_refusal_floods_do_not_flood_the_log(self):
        """
        A refused PORT or an overlong line logs a warning; one session
        sending them without pause wrote 116,000 log lines a second (2 s
        of refused PORTs: 232,133 lines).  Each still gets its reply; the
        session logs 32 at once, then 4 a second, and the count of the
        rest (with the next warning that passes, and at close).
        """
        n = 3000
        rc = self.srv.raw_login()
        sess = re.findall(r"sess=(\d+) ip=\S+ login user=alice",
                          self.srv.log_text())[-1]
        with rc:
            rc.send_raw(b"PORT 10,0,0,1,100,100\r\n" * n)
            codes = [rc.resp()[0] for _ in range(n)]
            self.assertEqual(codes, [504] * n)
            time.sleep(0.6)
            self.assertReply(rc.cmd("PORT 10,0,0,1,100,100"), 504)
            self.assertReply(rc.cmd("QUIT"), 221)
        close = self.srv.wait_log(r"sess=%s ip=\S+ close reason=quit"
                                  r"(?: warnings_not_logged=(\d+))?$" % sess)
        lines = [l for l in self.srv.log_text().splitlines()
                 if re.search(r"sess=%s ip=\S+ active data target refused"
                              % sess, l)]
        held = sum(int(m) for l in lines for m in re.findall(
            r"\(and (\d+) more warnings of this session not logged", l))
        held += int(close.group(1) or 0)
        harness.figure("%d refused PORTs" % (n + 1), "%d log lines, %d "
                       "counted as not logged" % (len(lines), held))
        self.assertLessEqual(len(lines), 40)
        # The one after the pause passed, with the count before it.
        self.assertRegex(lines[-1], r"\(and \d+ more warnings")
        self.assertEqual(len(lines) + held, n + 1)
        # Another session's warnings are its own.
        other = self.srv.raw_login()
        with other:
            self.assertReply(other.cmd("PORT 10,0,0,1,100,100"), 504)
        self.assertGreater(self.srv.log_text().count(
            "active data target refused"), len(lines))

    def test_ban_line_not_held_back_by_the_rate_limit(self):
        """
        A ban's warning passes the per-session limit: 40 overlong lines
        spend the budget, then an overlong PASS (answered at once) fails
        the login that bans the address.  Without the exemption the log
        only had warnings_not_logged in the close line.
        """
        srv = Ftpsd(conf={"ban_failures": 1, "ban_seconds": 60})
        try:
            srv.start()
            with srv.raw(source="127.0.0.61") as rc:
                self.assertEqual(rc.resp()[0], 220)
                self.assertEqual(rc.cmd("AUTH TLS")[0], 234)
                rc.starttls(srv.client_context())
                rc.send_raw(b"NOOP " + b"x" * 5000 + b"\r\n")
                rc.send_raw((b"HELP " + b"y" * 5000 + b"\r\n") * 40 +
                            b"USER alice\r\nPASS " + b"a" * 300 + b"\r\n")
                codes = [rc.resp()[0] for _ in range(43)]
                self.assertEqual(codes[:41], [500] * 41)
                self.assertEqual(codes[41:], [331, 530])
            srv.wait_log(r"ip=127\.0\.0\.61 address banned for 60 "
                         r"seconds: 1 failed logins")
        finally:
            srv.stop()
            srv.cleanup()

    def test_hostile_names_refused_session_survives(self):
        rc = self.srv.raw_login()
        with rc:
            for raw in (b"RETR keep\x00.txt\r\n",
                        b"MKD " + b"n" * 300 + b"\r\n",
                        b"RETR " + b"d/" * 2100 + b"x\r\n",
                        b"CWD \xff\xfe\r\n",
                        b"DELE \r\n"):
                rc.send_raw(raw)
                code, text = rc.resp()
                self.assertTrue(500 <= code < 600, "%r -> %r" % (raw[:40],
                                                                 text))
                self.assertReply(rc.cmd("NOOP"), 200)
            self.assertFalse(os.path.exists(self.srv.path("n" * 255)))
            self.assertTrue(os.path.exists(self.srv.path("keep.txt")))

    # -- TLS parameters --------------------------------------------------------

    def test_alpn(self):
        for implicit in (True, False):
            p = self.srv.s_client(["-alpn", "http/1.1", "-ign_eof"],
                                  implicit=implicit)
            # Refused: the handshake fails, or the server hangs up
            # without serving a single command (no 221 to our QUIT).
            self.assertFalse(s_client_ok(p) and "221" in p.stdout,
                             "ALPN http/1.1 accepted\n" + describe(p))
            self.assertNotIn("ALPN protocol: http/1.1", p.stdout)
            for args in (["-alpn", "ftp"], []):
                p = self.srv.s_client(args + ["-ign_eof"], implicit=implicit)
                self.assertTrue(s_client_ok(p), describe(p))
                self.assertIn("221", p.stdout, describe(p))
                alpn = re.search(r"ALPN protocol: (\S+)", p.stdout)
                if alpn:
                    self.assertEqual(alpn.group(1), "ftp")

    def test_tls11_refused(self):
        args = ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]
        with harness.ControlTLSServer(
                self.srv.cafile, self.srv.keyfile,
                ["-tls1_1", "-cipher", "ALL:@SECLEVEL=0"]) as ctl:
            p = ctl.s_client(args)
            self.assertTrue(s_client_ok(p), "control: s_client cannot do "
                            "TLS 1.1 here\n" + describe(p))
        p = self.srv.s_client(args)
        self.assertFalse(s_client_ok(p), "TLS 1.1 accepted\n" + describe(p))
        p = self.srv.s_client(args, implicit=False)
        self.assertFalse(s_client_ok(p), "TLS 1.1 accepted\n" + describe(p))

    def test_cbc_cipher_refused(self):
        # The test key is ECDSA, so the CBC suite must be an ECDSA one
        # (plain AES128-SHA needs an RSA key and would fail anyway).
        for cipher in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384"):
            args = ["-tls1_2", "-cipher", cipher]
            with harness.ControlTLSServer(self.srv.cafile, self.srv.keyfile,
                                          args) as ctl:
                p = ctl.s_client(args)
                self.assertTrue(s_client_ok(p), "control failed\n" +
                                describe(p))
            p = self.srv.s_client(args)
            self.assertFalse(s_client_ok(p), "%s accepted\n%s"
                             % (cipher, describe(p)))
        # An AEAD suite on TLS 1.2 is fine.
        p = self.srv.s_client(["-tls1_2", "-cipher",
                               "ECDHE-ECDSA-AES128-GCM-SHA256", "-ign_eof"])
        self.assertTrue(s_client_ok(p), describe(p))

    def test_client_renegotiation_refused(self):
        args = ["-tls1_2"]
        with harness.ControlTLSServer(self.srv.cafile, self.srv.keyfile,
                                      args + ["-client_renegotiation"]) as c:
            p = c.s_client(args, input="R\n", input_delay=0.5)
            self.assertIn("RENEGOTIATING", p.stdout + p.stderr,
                          describe(p))
            self.assertNotIn("no renegotiation", p.stdout + p.stderr,
                             "control: renegotiation failed\n" + describe(p))
        for implicit in (True, False):
            p = self.srv.s_client(args, input="R\n", implicit=implicit,
                                  input_delay=0.5)
            self.assertIn("RENEGOTIATING", p.stdout + p.stderr,
                          describe(p))
            self.assertRegex(p.stdout + p.stderr,
                             r"no renegotiation|alert|errno",
                             "renegotiation accepted\n" + describe(p))

    def test_password_checks_do_not_block_other_sessions(self):
        # Twelve password checks at once (~75 ms of yescrypt each, ~0.9 s
        # in all) and the ~1 s failure delay must all run off the event
        # loop: another session's NOOPs keep answering at once.
        waiting = []
        for _ in range(12):
            a = self.ftp(login=False)
            a.auth()
            a.sendcmd("USER alice")
            waiting.append(a)
        b = self.ftp()
        for a in waiting:
            a.putcmd("PASS wrong")
        worst = 0.0
        t_end = time.monotonic() + 1.2
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            self.assertReply(b.sendcmd("NOOP"), 200)
            worst = max(worst, time.monotonic() - t0)
        self.assertLess(worst, 0.35, "a NOOP waited %.2f s for other "
                        "sessions' password checks" % worst)
        for a in waiting:
            self.assertReply(ftp_reply(a.getresp), 530)

    def test_connections_and_logins_logged(self):
        self.timed_login("alice", "wrong password")
        self.srv.wait_log(r"(?im)^.*alice.*(fail|incorrect|denied).*$")
        self.ftp()
        self.srv.wait_log(r"(?im)^.*login.*alice.*(ok|success).*$")

    def test_no_compression_and_tls13_preferred(self):
        p = self.srv.s_client(["-ign_eof"])
        self.assertTrue(s_client_ok(p), describe(p))
        self.assertRegex(p.stdout, r"New, TLSv1\.3, Cipher is")
        self.assertRegex(p.stdout, r"Compression: NONE")


if __name__ == "__main__":
    harness.main()
