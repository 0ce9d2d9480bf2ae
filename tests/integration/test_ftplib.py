#!/usr/bin/env python3
"""Python ftplib FTP_TLS against ftpsd: explicit and implicit FTPS, TLS 1.2
and 1.3, data-channel session resumption policy (own session only)."""

import io
import os
import re
import socket
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import MiB, FTP_TLS_Stock, data_exchange, reply_code  # noqa

REUSE_TEXT = re.compile(r"(?i)session|resum|reuse")


class Explicit(harness.ServerTestCase):

    @classmethod
    def prepare_files(cls, srv):
        cls.big_sha = harness.write_random(srv.path("big.bin"), 10 * MiB)
        os.makedirs(srv.path("many"))
        cls.many = {}
        for i in range(25):
            data = os.urandom(1000 + 997 * i)
            name = "f%02d.bin" % i
            with open(srv.path("many/" + name), "wb") as f:
                f.write(data)
            cls.many[name] = data
        with open(srv.path("keep.txt"), "wb") as f:
            f.write(b"the old content\n")

    def download(self, ftp, name):
        h = harness.hashlib.sha256()
        n = [0]

        def cb(b):
            h.update(b)
            n[0] += len(b)
        ftp.retrbinary("RETR " + name, cb, blocksize=65536)
        return h.hexdigest(), n[0]

    def check_roundtrip(self, ftp, version):
        self.assertEqual(ftp.sock.version(), version)
        sha, n = self.download(ftp, "big.bin")
        self.assertEqual(n, 10 * MiB)
        self.assertEqual(sha, self.big_sha)
        self.assertEqual(ftp.data_reused, [True])
        up = "up-%s.bin" % version
        src = os.path.join(self.srv.dir, up)
        sha_up = harness.write_random(src, 10 * MiB)
        with open(src, "rb") as f:
            reply = ftp.storbinary("STOR " + up, f, blocksize=65536)
        self.assertReply(reply, 226)
        self.assertEqual(harness.sha256_file(self.srv.path(up)), sha_up)
        self.assertEqual(os.stat(self.srv.path(up)).st_mode & 0o777, 0o644,
                         "default file_umask 022 gives 0644")

    def test_10mib_tls13(self):
        ctx = self.srv.client_context(tls_min=ssl.TLSVersion.TLSv1_3)
        ftp = self.ftp(ctx=ctx)
        self.check_roundtrip(ftp, "TLSv1.3")

    def test_10mib_tls12(self):
        ctx = self.srv.client_context(tls_max=ssl.TLSVersion.TLSv1_2)
        ftp = self.ftp(ctx=ctx)
        self.check_roundtrip(ftp, "TLSv1.2")

    def test_data_connection_resumes_own_session(self):
        for tls_max in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ftp = self.ftp(ctx=self.srv.client_context(tls_max=tls_max))
            r = data_exchange(ftp, "RETR keep.txt")
            self.assertIsNone(r["error"], r)
            self.assertTrue(r["reused"], "data channel did not resume")
            self.assertEqual(r["data"], b"the old content\n")
            self.assertReply(r["final"], 226)

    def test_no_session_ticket_on_data_connection_tls13(self):
        # A NewSessionTicket on a data connection truncates uploads with
        # curl and lftp; the server must send none there.  A ticket would
        # replace the client's session object after the read.
        ctx = self.srv.client_context(tls_min=ssl.TLSVersion.TLSv1_3)
        ftp = self.ftp(ctx=ctx)
        ftp.voidcmd("TYPE I")
        conn = ftp.transfercmd("RETR keep.txt")
        # The session offered (the control's latest, which the server may
        # have just refreshed with a new control ticket).
        sess = ftp.offered_session
        self.assertIsNotNone(sess, "control connection gave no session")
        data = b""
        while True:
            b = conn.recv(65536)
            if not b:
                break
            data += b
        self.assertEqual(data, b"the old content\n")
        self.assertTrue(conn.session_reused)
        self.assertEqual(conn.session.id, sess.id,
                         "the server sent a session ticket on the data "
                         "connection")
        conn.close()
        self.assertReply(ftp.voidresp(), 226)

    def test_many_transfers_one_session(self):
        for tls_max in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ftp = self.ftp(ctx=self.srv.client_context(tls_max=tls_max))
            for name, data in sorted(self.many.items()):
                buf = io.BytesIO()
                ftp.retrbinary("RETR many/" + name, buf.write)
                self.assertEqual(buf.getvalue(), data, name)
                self.assertTrue(ftp.data_reused[-1], name)
            for i in range(10):
                data = os.urandom(5000 + i)
                name = "manyup-%s-%d.bin" % (tls_max.name, i)
                ftp.storbinary("STOR " + name, io.BytesIO(data))
                with open(self.srv.path(name), "rb") as f:
                    self.assertEqual(f.read(), data, name)
            self.assertReply(ftp.voidcmd("NOOP"), 200)

    def test_stock_ftplib_refused_with_522(self):
        # data_session_reuse = required (the default): a data channel that
        # does not resume the control session is refused, saying why, and
        # an upload refused this way leaves the old file untouched.
        ftp = self.ftp(cls=FTP_TLS_Stock)
        reply = harness.ftp_reply(ftp.retrlines, "LIST", lambda l: None)
        if not reply.startswith("5"):
            reply = harness.ftp_reply(ftp.getresp)
        self.assertReply(reply, 522)
        self.assertRegex(reply, REUSE_TEXT)
        before = sorted(os.listdir(self.srv.home()))
        r = data_exchange(ftp, "STOR keep.txt", upload=b"new!" * 1000,
                          session="none")
        self.assertReply(r["final"], 522)
        with open(self.srv.path("keep.txt"), "rb") as f:
            self.assertEqual(f.read(), b"the old content\n")
        self.assertEqual(sorted(os.listdir(self.srv.home())), before,
                         "a refused upload left a file behind")
        self.assertReply(ftp.voidcmd("NOOP"), 200)

    def test_other_control_sessions_ticket_refused(self):
        ctx = self.srv.client_context()
        a = self.ftp(ctx=ctx)
        b = self.ftp(ctx=ctx)
        self.assertIsNotNone(b.sock.session)
        for cmd in ("LIST", "RETR keep.txt"):
            r = data_exchange(a, cmd, session=b.sock.session)
            self.assertReply(r["final"], 522, cmd)
            self.assertRegex(r["final"], REUSE_TEXT)
            self.assertEqual(r["data"], b"", "data sent over a data "
                             "channel with a foreign session")
        # A's own session still works afterwards.
        r = data_exchange(a, "RETR keep.txt")
        self.assertEqual(r["data"], b"the old content\n")
        self.assertReply(r["final"], 226)

    def test_epsv_and_active_eprt(self):
        ftp = self.ftp()
        ftp.voidcmd("TYPE I")
        # EPSV (RFC 2428) by hand.
        resp = ftp.sendcmd("EPSV")
        self.assertReply(resp, 229)
        port = int(re.search(r"\(\|\|\|(\d+)\|\)", resp).group(1))
        conn = socket.create_connection((harness.HOST, port), 30)
        self.assertReply(ftp.sendcmd("NLST"), (125, 150))
        conn = ftp.context.wrap_socket(conn, server_hostname=ftp.host,
                                       session=ftp.sock.session)
        names = self.recv_all(conn).decode().split("\r\n")
        conn.close()
        self.assertReply(ftp.voidresp(), 226)
        self.assertIn("keep.txt", names)
        # Active mode with EPRT to our own address.
        ls = socket.create_server((harness.HOST, 0))
        ls.settimeout(30)
        self.assertReply(ftp.sendeprt(harness.HOST, ls.getsockname()[1]),
                         200)
        self.assertReply(ftp.sendcmd("RETR keep.txt"), (125, 150))
        c, _ = ls.accept()
        ls.close()
        c = ftp.context.wrap_socket(c, server_hostname=ftp.host,
                                    session=ftp.sock.session)
        self.assertEqual(self.recv_all(c), b"the old content\n")
        c.close()
        self.assertReply(ftp.voidresp(), 226)
        # Active mode with PORT (ftplib's own active path).
        ftp.set_pasv(False)
        buf = io.BytesIO()
        ftp.retrbinary("RETR keep.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"the old content\n")

    def recv_all(self, conn):
        data = b""
        while True:
            b = conn.recv(65536)
            if not b:
                return data
            data += b


class Implicit(harness.ServerTestCase):

    @classmethod
    def prepare_files(cls, srv):
        cls.big_sha = harness.write_random(srv.path("big.bin"), 10 * MiB)

    def test_implicit_10mib_both_ways(self):
        for tls_max in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ftp = self.ftp(implicit=True,
                           ctx=self.srv.client_context(tls_max=tls_max))
            self.assertTrue(ftp.welcome.startswith("220"), ftp.welcome)
            h = harness.hashlib.sha256()
            ftp.retrbinary("RETR big.bin", h.update, blocksize=65536)
            self.assertEqual(h.hexdigest(), self.big_sha)
            src = os.path.join(self.srv.dir, "src.bin")
            sha = harness.write_random(src, 10 * MiB)
            name = "up-%s.bin" % tls_max.name
            with open(src, "rb") as f:
                ftp.storbinary("STOR " + name, f, blocksize=65536)
            self.assertEqual(harness.sha256_file(self.srv.path(name)), sha)

    def test_implicit_rejects_auth_tls_again(self):
        ftp = self.ftp(implicit=True, login=False)
        reply = harness.ftp_reply(ftp.sendcmd, "AUTH TLS")
        self.assertTrue(reply.startswith("5"), reply)
        ftp.login("alice", self.srv.users["alice"][0])
        self.assertReply(ftp.voidcmd("NOOP"), 200)


class OptionalReuse(harness.ServerTestCase):
    CONF = {"data_session_reuse": "optional"}

    @classmethod
    def prepare_files(cls, srv):
        with open(srv.path("hello.txt"), "wb") as f:
            f.write(b"hello\n")

    def test_stock_ftplib_works(self):
        ftp = self.ftp(cls=FTP_TLS_Stock)
        lines = []
        ftp.retrlines("NLST", lines.append)
        self.assertIn("hello.txt", lines)
        buf = io.BytesIO()
        ftp.retrbinary("RETR hello.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"hello\n")
        data = os.urandom(300000)
        ftp.storbinary("STOR stock.bin", io.BytesIO(data))
        with open(self.srv.path("stock.bin"), "rb") as f:
            self.assertEqual(f.read(), data)


if __name__ == "__main__":
    harness.main()
