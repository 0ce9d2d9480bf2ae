#!/usr/bin/env python3
"""
What makes logins and data channels cheaper (docs/users.md, docs/server.md):
the opt-in login cache (login_cache_seconds) verifies a repeated login
without the hash, never a wrong password, and forgets everything on a
reload; control connections send one session ticket after the TLS 1.3
handshake and a fresh one before each data channel; TLS 1.3 prefers
AES-128-GCM.
"""

import ftplib
import os
import re
import signal
import ssl
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Ftpsd  # noqa: E402

HIT = "password verified by the login cache"


def reload(srv, timeout=15):
    """SIGHUP, then waits for the reload to finish (see test_ops.py)."""
    start = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(r"reload: (done|failed)", srv.log_text()[start:]):
            break
        time.sleep(0.05)
    text = srv.log_text()[start:]
    if "reload: done" not in text:
        raise AssertionError("reload did not finish; log:\n%s"
                             % srv.log_tail())


class LoginCache(unittest.TestCase):

    def start(self, conf):
        srv = Ftpsd(conf=conf)
        self.addCleanup(srv.cleanup)
        srv.start()
        self.addCleanup(srv.stop)
        return srv

    def login(self, srv, password=None):
        """One login; its reply code (230 or 530)."""
        ftp = srv.ftp(prot_p=False, login=False)
        try:
            ftp.login("alice", password or srv.users["alice"][0])
            ftp.voidcmd("NOOP")
            return 230
        except ftplib.error_perm as e:
            self.assertTrue(str(e).startswith("530"), str(e))
            return 530
        finally:
            ftp.close()

    def hits(self, srv):
        return srv.log_text().count(HIT)

    def test_off_by_default(self):
        srv = self.start({"log_debug": "on"})
        for _ in range(3):
            self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.hits(srv), 0)

    def test_hit_miss_wrong_password_and_reload(self):
        srv = self.start({"log_debug": "on", "login_cache_seconds": 60})
        # The first login is a full check, the next ones are hits.
        self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.hits(srv), 0)
        self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.hits(srv), 2)

        # A wrong password is never a hit, and still waits the fixed
        # failure delay before its 530.
        t = time.monotonic()
        self.assertEqual(self.login(srv, "alice-wrong"), 530)
        self.assertGreaterEqual(time.monotonic() - t, 0.9)
        self.assertEqual(self.hits(srv), 2)
        self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.hits(srv), 3)

        # The password changes in the users file: after the reload the
        # old one fails and the new one needs a full check first.
        old = srv.users["alice"][0]
        srv.users["alice"] = ("alice-New-Pw-51d0", "rw")
        srv.write_users()
        reload(srv)
        self.assertEqual(self.login(srv, old), 530)
        self.assertEqual(self.hits(srv), 3)
        self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.hits(srv), 3)
        self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.hits(srv), 4)

        # Same users file, cache emptied by the reload all the same.
        reload(srv)
        self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.hits(srv), 4)

        # Turned off by a reload: no more hits.
        with open(srv.conf_file) as f:
            text = f.read()
        with open(srv.conf_file, "w") as f:
            f.write(text.replace("login_cache_seconds = 60",
                                 "login_cache_seconds = 0"))
        reload(srv)
        self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.login(srv), 230)
        self.assertEqual(self.hits(srv), 4)

    def test_out_of_range_refused(self):
        srv = Ftpsd(conf={"login_cache_seconds": 86401})
        self.addCleanup(srv.cleanup)
        r = srv.check_config()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("login_cache_seconds", r.stderr)


class Tickets(harness.ServerTestCase):

    @classmethod
    def prepare_files(cls, srv):
        with open(srv.path("f.txt"), "w") as f:
            f.write("ticket\n")

    def ftp13(self):
        ctx = self.srv.client_context(tls_min=ssl.TLSVersion.TLSv1_3)
        ftp = self.srv.ftp(ctx=ctx)
        self.addCleanup(ftp.close)
        return ftp

    def test_ticket_after_handshake_fresh_one_per_data_channel(self):
        ftp = self.ftp13()
        ftp.voidcmd("NOOP")
        self.assertEqual(ftp.sock.version(), "TLSv1.3")
        # Replies were read after the handshake: the ticket sent with it
        # (for clients that save their session once, wget) is in.
        self.assertTrue(ftp.sock.session.has_ticket,
                        "the control connection sent no ticket after its "
                        "handshake")
        seen = {ftp.sock.session.id}
        for _ in range(3):
            out = []
            ftp.retrbinary("RETR f.txt", out.append)
            self.assertEqual(b"".join(out), b"ticket\n")
            # A fresh ticket came with each PASV reply.
            self.assertNotIn(ftp.sock.session.id, seen)
            seen.add(ftp.sock.session.id)

    def test_tls13_prefers_aes128_gcm(self):
        ftp = self.ftp13()
        self.assertEqual(ftp.sock.cipher()[0], "TLS_AES_128_GCM_SHA256")


if __name__ == "__main__":
    unittest.main(verbosity=2)
