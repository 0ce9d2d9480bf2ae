#!/usr/bin/env python3
"""Transfers: REST for downloads and uploads, TYPE A conversion, ABOR
(426 then 226), bounded memory, and uploads that never destroy the old
file (aborted, killed, cut without close_notify, failed handshake)."""

import io
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import MiB, HOST, ftp_reply, reply_code  # noqa: E402

OLD = b"old content that must survive\n" * 100


def retr_raw(tc, ftp, name):
    """RETR without ftplib's TYPE I: the bytes, once 226 came."""
    conn = ftp.transfercmd("RETR " + name)
    got = b""
    while True:
        b = conn.recv(65536)
        if not b:
            break
        got += b
    if hasattr(conn, "unwrap"):
        conn.unwrap()
    conn.close()
    tc.assertReply(ftp.voidresp(), 226)
    return got


class Transfer(harness.ServerTestCase):
    CONF = {"data_timeout": 10}
    ENV = harness.small_asan_quarantine()

    @classmethod
    def prepare_files(cls, srv):
        cls.big_sha = harness.write_random(srv.path("big.bin"), 10 * MiB)
        with open(srv.path("big.bin"), "rb") as f:
            cls.big = f.read()
        # Sparse and huge: the server must stream it, never buffer it.
        with open(srv.path("huge.bin"), "wb") as f:
            f.truncate(512 * MiB)
        with open(srv.path("lines.txt"), "wb") as f:
            f.write(b"alpha\nbeta\n\ngamma\n")

    def setUp(self):
        super().setUp()
        self.victim = self.srv.path("victim.bin")
        with open(self.victim, "wb") as f:
            f.write(OLD)
        self.before = sorted(os.listdir(self.srv.home()))

    def assertOldFileKept(self, timeout=10):
        """The target still holds OLD and no temp file stays behind."""
        deadline = time.monotonic() + timeout
        while True:
            now = sorted(os.listdir(self.srv.home()))
            if now == self.before or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(now, self.before, "files left behind")
        with open(self.victim, "rb") as f:
            self.assertEqual(f.read(), OLD, "the old file was damaged")

    # -- REST ----------------------------------------------------------------

    def test_rest_download(self):
        ftp = self.ftp()
        for off in (1, 4 * MiB + 17, len(self.big) - 1):
            buf = io.BytesIO()
            ftp.retrbinary("RETR big.bin", buf.write, rest=off)
            self.assertEqual(buf.getvalue(), self.big[off:], off)
        self.assertReply(ftp.sendcmd("REST 0"), 350)
        self.assertReply(ftp_reply(ftp.sendcmd, "REST abc"), 501)
        self.assertReply(ftp_reply(ftp.sendcmd, "REST -1"), 501)

    def test_rest_upload(self):
        ftp = self.ftp()
        off = 3 * MiB + 5
        with open(self.srv.path("partial.bin"), "wb") as f:
            f.write(self.big[:off])
        src = io.BytesIO(self.big)
        src.seek(off)
        ftp.storbinary("STOR partial.bin", src, rest=off)
        self.assertEqual(harness.sha256_file(self.srv.path("partial.bin")),
                         self.big_sha)

    # -- TYPE ----------------------------------------------------------------

    def raw_stor(self, ftp, name, data):
        conn = ftp.transfercmd("STOR " + name)
        conn.sendall(data)
        conn.unwrap()
        conn.close()
        self.assertReply(ftp.voidresp(), 226)

    def test_type_ascii_conversion(self):
        ftp = self.ftp()
        self.assertReply(ftp.sendcmd("TYPE A"), 200)
        self.assertEqual(retr_raw(self, ftp, "lines.txt"),
                         b"alpha\r\nbeta\r\n\r\ngamma\r\n")
        self.raw_stor(ftp, "ascii-up.txt", b"one\r\ntwo\r\n\r\nthree\r\n")
        with open(self.srv.path("ascii-up.txt"), "rb") as f:
            self.assertEqual(f.read(), b"one\ntwo\n\nthree\n")
        self.assertReply(ftp.sendcmd("TYPE I"), 200)
        self.assertEqual(retr_raw(self, ftp, "lines.txt"),
                         b"alpha\nbeta\n\ngamma\n")
        self.raw_stor(ftp, "bin-up.txt", b"one\r\ntwo\n")
        with open(self.srv.path("bin-up.txt"), "rb") as f:
            self.assertEqual(f.read(), b"one\r\ntwo\n")
        self.assertReply(ftp.sendcmd("TYPE A N"), 200)
        self.assertReply(ftp_reply(ftp.sendcmd, "TYPE E"), 504)
        self.assertReply(ftp_reply(ftp.sendcmd, "TYPE Z"), (501, 504))

    # -- ABOR ------------------------------------------------------------------

    def test_abor_during_retr_426_then_226_and_memory_bounded(self):
        ftp = self.ftp()
        rss0 = self.srv.rss_kib()
        conn = ftp.transfercmd("RETR huge.bin")
        got = 0
        while got < MiB:
            b = conn.recv(65536)
            self.assertTrue(b, "transfer ended early")
            got += len(b)
        # We stop reading: a server that reads ahead would grow here.
        time.sleep(1.5)
        grown = self.srv.rss_kib() - rss0
        sys.stderr.write("paused download: ftpsd RSS grew %d KiB\n" % grown)
        self.assertLess(grown, 16 * 1024, "ftpsd grew by %d KiB while a "
                        "client paused a 512 MiB download" % grown)
        ftp.putcmd("ABOR")
        r1 = ftp_reply(ftp.getresp)
        r2 = ftp_reply(ftp.getresp)
        conn.close()
        self.assertReply(r1, 426)
        self.assertReply(r2, 226)
        self.assertReply(ftp.voidcmd("NOOP"), 200)
        # Nothing running: ABOR is answered 225 or 226 alone.
        self.assertReply(ftp.sendcmd("ABOR"), (225, 226))
        self.assertReply(ftp.voidcmd("NOOP"), 200)
        buf = io.BytesIO()
        ftp.retrbinary("RETR lines.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"alpha\nbeta\n\ngamma\n")

    def test_abor_during_stor_keeps_old_file(self):
        ftp = self.ftp()
        conn = ftp.transfercmd("STOR victim.bin")
        conn.sendall(os.urandom(2 * MiB))
        ftp.putcmd("ABOR")
        r1 = ftp_reply(ftp.getresp)
        r2 = ftp_reply(ftp.getresp)
        conn.close()
        self.assertReply(r1, 426)
        self.assertReply(r2, 226)
        self.assertOldFileKept()
        self.assertReply(ftp.voidcmd("NOOP"), 200)

    # -- interrupted uploads ---------------------------------------------------

    def test_upload_cut_without_close_notify_426_old_file_kept(self):
        ftp = self.ftp()
        conn = ftp.transfercmd("STOR victim.bin")
        conn.sendall(os.urandom(3 * MiB))
        # TCP FIN without a TLS close_notify: a truncation attack.
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()
        self.assertReply(ftp_reply(ftp.voidresp), 426)
        self.assertOldFileKept()
        self.assertReply(ftp.voidcmd("NOOP"), 200)

    def test_upload_killed_client_old_file_kept(self):
        harness.need_program("curl")
        p = subprocess.Popen(
            ["curl", "--silent", "--ssl-reqd", "--cacert", self.srv.cafile,
             "--max-time", "50", "-T", "-", self.srv.url("victim.bin")],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            chunk = os.urandom(256 * 1024)
            for _ in range(12):
                p.stdin.write(chunk)
            p.stdin.flush()
            # Let the bytes reach the server (its temp file appears
            # beside the target) before curl dies.
            deadline = time.monotonic() + 5
            while sorted(os.listdir(self.srv.home())) == self.before and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
            p.stdin.close()
        self.assertOldFileKept()

    def test_upload_failed_handshake_old_file_kept(self):
        ftp = self.ftp()
        host, port = ftp.makepasv()
        conn = socket.create_connection((host, port), 30)
        prelim = ftp_reply(ftp.sendcmd, "STOR victim.bin")
        if prelim.startswith("1"):
            try:
                conn.sendall(b"this is not a TLS ClientHello\r\n" * 10)
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass    # the server may hang up first: that is fine
            final = ftp_reply(ftp.getresp)
        else:
            final = prelim
        conn.close()
        self.assertIn(reply_code(final), (425, 426, 522), final)
        self.assertOldFileKept()

    def test_upload_memory_bounded(self):
        # A fast uploader must not make the server buffer the stream.
        ftp = self.ftp()
        ftp.voidcmd("TYPE I")
        rss0 = self.srv.rss_kib()
        peak = [rss0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], self.srv.rss_kib())
                time.sleep(0.05)
        t = threading.Thread(target=sample)
        t.start()
        try:
            conn = ftp.transfercmd("STOR mem.bin")
            chunk = os.urandom(MiB)
            for _ in range(128):
                conn.sendall(chunk)
            conn.unwrap()
            conn.close()
            self.assertReply(ftp.voidresp(), 226)
        finally:
            done.set()
            t.join(10)
        self.assertEqual(os.path.getsize(self.srv.path("mem.bin")), 128 * MiB)
        os.unlink(self.srv.path("mem.bin"))
        grown = peak[0] - rss0
        sys.stderr.write("upload: ftpsd RSS grew %d KiB\n" % grown)
        self.assertLess(grown, 16 * 1024, "ftpsd grew by %d KiB during a "
                        "128 MiB upload" % grown)

    def test_parallel_sessions_do_not_mix(self):
        n = 8
        errors = []
        blobs = [os.urandom(2 * MiB + i) for i in range(n)]

        def worker(i):
            try:
                ftp = self.srv.ftp()
                try:
                    name = "par-%d.bin" % i
                    ftp.storbinary("STOR " + name, io.BytesIO(blobs[i]))
                    buf = io.BytesIO()
                    ftp.retrbinary("RETR " + name, buf.write)
                    if buf.getvalue() != blobs[i]:
                        errors.append("session %d read other bytes" % i)
                    lines = []
                    ftp.retrlines("NLST", lines.append)
                    if name not in lines:
                        errors.append("session %d: NLST lacks %s"
                                      % (i, name))
                finally:
                    harness.close_ftp(ftp)
            except Exception as e:  # reported below, in the test thread
                errors.append("session %d: %r" % (i, e))
        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), "hung")
        self.assertEqual(errors, [])
        for i in range(n):
            with open(self.srv.path("par-%d.bin" % i), "rb") as f:
                self.assertEqual(f.read(), blobs[i])

    def test_transfer_is_logged(self):
        ftp = self.ftp()
        data = os.urandom(123457)
        ftp.storbinary("STOR logged.bin", io.BytesIO(data))
        self.srv.wait_log(r"logged\.bin.*123457|123457.*logged\.bin")


class DataPath(harness.ServerTestCase):
    """The transfer drives the data socket (and its SSL) itself: large
    files both ways over PROT P and PROT C byte for byte, TYPE A across
    the buffer edges, stalls that time out, a reset upload, and other
    sessions served while one transfer runs flat out."""
    CONF = {"data_tls": "optional", "data_timeout": 3}
    ENV = harness.small_asan_quarantine()

    @classmethod
    def prepare_files(cls, srv):
        cls.big_sha = harness.write_random(srv.path("big.bin"), 24 * MiB)
        with open(srv.path("big.bin"), "rb") as f:
            cls.big = f.read()
        # LF, CR and CRLF on both sides of 64 KiB and 128 KiB edges (the
        # server reads 64 KiB per TYPE A download chunk, 128 KiB - 1 per
        # upload chunk).
        text = bytearray(b"line of text\n" * 40000)
        for edge in (65536, 131071, 131072, 262143, 262144, 393215):
            text[edge - 1:edge + 1] = b"\r\n"
            text[edge + 7] = ord("\r")
            text[edge + 8] = ord("\n")
            text[edge + 20] = ord("\r")
        cls.text = bytes(text)
        with open(srv.path("text.txt"), "wb") as f:
            f.write(cls.text)

    def setUp(self):
        super().setUp()
        self.victim = self.srv.path("victim.bin")
        with open(self.victim, "wb") as f:
            f.write(OLD)
        self.before = sorted(os.listdir(self.srv.home()))

    def session(self, prot):
        ftp = self.ftp()
        if prot == "C":
            ftp.prot_c()
        ftp.voidcmd("TYPE I")
        return ftp

    def close_data(self, conn):
        if hasattr(conn, "unwrap"):
            conn.unwrap()
        conn.close()

    def retr(self, ftp, name, rest=None):
        buf = io.BytesIO()
        ftp.retrbinary("RETR " + name, buf.write, rest=rest)
        return buf.getvalue()

    def test_large_both_ways_prot_p_and_prot_c(self):
        for prot in ("P", "C"):
            with self.subTest(prot=prot):
                ftp = self.session(prot)
                got = self.retr(ftp, "big.bin")
                self.assertEqual(harness.sha256(got), self.big_sha)
                name = "up-%s.bin" % prot
                ftp.storbinary("STOR " + name, io.BytesIO(self.big),
                               blocksize=256 * 1024)
                self.assertEqual(harness.sha256_file(self.srv.path(name)),
                                 self.big_sha)
                # REST on a download, APPE after a partial upload.
                off = 5 * MiB + 12345
                self.assertEqual(self.retr(ftp, "big.bin", rest=off),
                                 self.big[off:])
                part = "part-%s.bin" % prot
                ftp.storbinary("STOR " + part, io.BytesIO(self.big[:off]))
                ftp.storbinary("APPE " + part, io.BytesIO(self.big[off:]))
                self.assertEqual(harness.sha256_file(self.srv.path(part)),
                                 self.big_sha)
                for n in (name, part):
                    os.unlink(self.srv.path(n))

    def test_sparse_file_read_around_its_holes(self):
        # The server makes a hole's zeroes without reading it (SEEK_DATA,
        # SEEK_HOLE): data islands at and off the 256 KiB buffer edges,
        # holes between them and up to the end, REST into each.
        path = self.srv.path("sparse.bin")
        size = 4 * MiB + 1000
        islands = [(0, 5), (MiB + 4095, 300 * 1024), (2 * MiB - 3, 7),
                   (3 * MiB + 262144, 262144)]
        want = bytearray(size)
        with open(path, "wb") as f:
            f.truncate(size)
            for off, n in islands:
                data = os.urandom(n)
                f.seek(off)
                f.write(data)
                want[off:off + n] = data
        want = bytes(want)
        for prot in ("P", "C"):
            with self.subTest(prot=prot):
                ftp = self.session(prot)
                self.assertEqual(self.retr(ftp, "sparse.bin"), want)
                for off in (3, MiB, MiB + 5000, 2 * MiB + 100,
                            3 * MiB + 262144, size - 1):
                    self.assertEqual(self.retr(ftp, "sparse.bin", rest=off),
                                     want[off:], off)
                ftp.voidcmd("TYPE A")
                self.assertEqual(retr_raw(self, ftp, "sparse.bin"),
                                 re.sub(rb"(?<!\r)\n", b"\r\n", want))
        os.unlink(path)

    def test_type_a_across_buffer_edges(self):
        wire = re.sub(rb"(?<!\r)\n", b"\r\n", self.text)
        for prot in ("P", "C"):
            with self.subTest(prot=prot):
                # ftplib's retrbinary/storbinary would send TYPE I.
                ftp = self.session(prot)
                ftp.voidcmd("TYPE A")
                self.assertEqual(retr_raw(self, ftp, "text.txt"), wire)
                name = "text-up-%s.txt" % prot
                conn = ftp.transfercmd("STOR " + name)
                conn.sendall(wire)
                self.close_data(conn)
                self.assertReply(ftp.voidresp(), 226)
                with open(self.srv.path(name), "rb") as f:
                    self.assertEqual(f.read(), wire.replace(b"\r\n",
                                                            b"\n"))
                os.unlink(self.srv.path(name))

    def test_stalled_download_times_out(self):
        ftp = self.session("P")
        conn = ftp.transfercmd("RETR big.bin")
        t0 = time.monotonic()
        # Never read: the socket buffers fill, then data_timeout runs.
        r = ftp_reply(ftp.getresp)
        conn.close()
        self.assertReply(r, 426)
        self.assertIn("timed out", r)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertReply(ftp.voidcmd("NOOP"), 200)

    def test_stalled_upload_times_out_old_file_kept(self):
        ftp = self.session("P")
        conn = ftp.transfercmd("STOR victim.bin")
        conn.sendall(os.urandom(MiB))
        r = ftp_reply(ftp.getresp)
        conn.close()
        self.assertReply(r, 426)
        self.assertIn("timed out", r)
        self.assertOldFileKept()

    def test_prot_c_upload_reset_426_old_file_kept(self):
        ftp = self.session("C")
        conn = ftp.transfercmd("STOR victim.bin")
        conn.sendall(os.urandom(2 * MiB))
        # A reset, not a FIN: on a clear channel only a FIN completes.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        conn.close()
        r = ftp_reply(ftp.voidresp)
        self.assertReply(r, 426)
        self.assertOldFileKept()
        self.assertReply(ftp.voidcmd("NOOP"), 200)

    def test_other_sessions_served_during_a_fast_transfer(self):
        ftp = self.session("P")
        other = self.session("P")
        worst = [0.0]
        done = threading.Event()

        def probe():
            while not done.is_set():
                t = time.monotonic()
                other.voidcmd("NOOP")
                worst[0] = max(worst[0], time.monotonic() - t)
                time.sleep(0.01)
        t = threading.Thread(target=probe)
        t.start()
        try:
            for _ in range(3):
                got = self.retr(ftp, "big.bin")
                self.assertEqual(len(got), len(self.big))
                ftp.storbinary("STOR fast.bin", io.BytesIO(self.big),
                               blocksize=256 * 1024)
        finally:
            done.set()
            t.join(30)
        os.unlink(self.srv.path("fast.bin"))
        sys.stderr.write("NOOP during transfers: worst %.3f s\n" % worst[0])
        self.assertLess(worst[0], 1.0)

    def assertOldFileKept(self, timeout=10):
        Transfer.assertOldFileKept(self, timeout)


if __name__ == "__main__":
    harness.main()
