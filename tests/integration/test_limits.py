#!/usr/bin/env python3
"""Limits and signals: max_clients, max_clients_per_ip, login, idle and
data timeouts (421/425), idle timer spared by running transfers, SIGINT
and SIGTERM exit 0 with clients connected."""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Ftpsd, ftp_reply  # noqa: E402


class Limits(unittest.TestCase):
    """max_clients, max_clients_per_ip, login/idle timeouts -> 421."""

    def server(self, conf):
        srv = Ftpsd(conf=conf)
        srv.start()
        self.addCleanup(srv.cleanup)
        self.addCleanup(srv.stop)
        return srv

    def assertReply(self, reply, codes):
        harness.ServerTestCase.assertReply(self, reply, codes)

    def hold(self, srv, n, **kw):
        conns = []
        for _ in range(n):
            rc = srv.raw(**kw)
            self.addCleanup(rc.close)
            self.assertReply(rc.resp(), 220)
            conns.append(rc)
        return conns

    def test_max_clients_per_ip(self):
        srv = self.server({"max_clients_per_ip": 2, "max_clients": 50})
        held = self.hold(srv, 2)
        with srv.raw() as rc:
            self.assertReply(rc.resp(), 421)
            self.assertTrue(rc.expect_closed())
        held[0].cmd("QUIT")
        held[0].close()
        deadline = time.monotonic() + 5
        while True:
            with srv.raw() as rc:
                code, text = rc.resp()
                if code == 220 or time.monotonic() > deadline:
                    break
            time.sleep(0.1)
        self.assertEqual(code, 220, "slot not released: " + text)

    def test_max_clients(self):
        srv = self.server({"max_clients": 3, "max_clients_per_ip": 50})
        self.hold(srv, 2)
        self.hold(srv, 1, source=harness.FOREIGN_HOST)
        for src in (None, harness.FOREIGN_HOST):
            with srv.raw(source=src) as rc:
                self.assertReply(rc.resp(), 421)

    def test_login_timeout(self):
        srv = self.server({"login_timeout": 2, "idle_timeout": 60})
        with srv.raw() as rc:
            self.assertReply(rc.resp(), 220)
            t0 = time.monotonic()
            self.assertReply(rc.resp(), 421)
            dt = time.monotonic() - t0
            self.assertTrue(1 <= dt < 8, dt)
            self.assertTrue(rc.expect_closed())
        # Over TLS, still not logged in: same.
        with srv.raw() as rc:
            rc.resp()
            self.assertReply(rc.cmd("AUTH TLS"), 234)
            rc.starttls(srv.client_context())
            self.assertReply(rc.resp(), 421)
        # Logging in in time is fine.
        rc = srv.raw_login()
        with rc:
            time.sleep(2.5)
            self.assertReply(rc.cmd("NOOP"), 200)

    def test_data_timeout(self):
        srv = self.server({"data_timeout": 2})
        with open(srv.path("d.txt"), "wb") as f:
            f.write(b"d")
        ftp = srv.ftp()
        self.addCleanup(harness.close_ftp, ftp)
        ftp.voidcmd("TYPE I")
        ftp.makepasv()
        t0 = time.monotonic()
        # Never connect: the server gives up on the data connection.
        r = ftp_reply(ftp.sendcmd, "RETR d.txt")
        if r.startswith("1"):
            r = ftp_reply(ftp.getresp)
        self.assertTrue(r.startswith("425") or r.startswith("426"), r)
        self.assertTrue(1 <= time.monotonic() - t0 < 10)
        self.assertReply(ftp.sendcmd("NOOP"), 200)

    def test_idle_timeout_spares_running_transfers(self):
        srv = self.server({"idle_timeout": 2, "data_timeout": 10})
        ftp = srv.ftp()
        self.addCleanup(harness.close_ftp, ftp)
        ftp.voidcmd("TYPE I")
        conn = ftp.transfercmd("STOR slow.bin")
        t0 = time.monotonic()
        sent = b""
        while time.monotonic() - t0 < 4:
            chunk = os.urandom(20000)
            conn.sendall(chunk)
            sent += chunk
            time.sleep(0.2)
        conn.unwrap()
        conn.close()
        self.assertReply(ftp.voidresp(), 226)
        with open(srv.path("slow.bin"), "rb") as f:
            self.assertEqual(f.read(), sent)
        self.assertReply(ftp.sendcmd("NOOP"), 200)

    def test_idle_timeout(self):
        srv = self.server({"idle_timeout": 2, "login_timeout": 60})
        rc = srv.raw_login()
        with rc:
            self.assertReply(rc.cmd("NOOP"), 200)
            t0 = time.monotonic()
            self.assertReply(rc.resp(), 421)
            self.assertTrue(1 <= time.monotonic() - t0 < 8)
            self.assertTrue(rc.expect_closed())


class Signals(unittest.TestCase):

    def test_sigint_and_sigterm_exit_0_with_clients(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            srv = Ftpsd()
            self.addCleanup(srv.cleanup)
            srv.start()
            ftp = srv.ftp()
            self.addCleanup(harness.close_ftp, ftp)
            proc = srv.proc
            proc.send_signal(sig)
            rc = proc.wait(harness.STOP_TIMEOUT)
            self.assertEqual(rc, 0, srv.log_tail())
            srv.proc = None
            srv.logf.close()
            srv.check_log_clean()


if __name__ == "__main__":
    harness.main()
