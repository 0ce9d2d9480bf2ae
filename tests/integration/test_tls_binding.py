#!/usr/bin/env python3
"""Session binding across control connections: a client that keeps a TLS
session cache (TLS 1.2 session ids, no tickets) and opens a second control
connection offering the first one's session must not resume it, so that
neither connection can take over or break the other's data channels."""

import os
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class ResumingAuth(harness.FTP_TLS_Reuse):
    """AUTH TLS offering a given (other control connection's) session."""

    offer = None

    def auth(self):
        resp = self.voidcmd("AUTH TLS")
        self.sock = self.context.wrap_socket(self.sock,
                                             server_hostname=self.host,
                                             session=self.offer)
        self.file = self.sock.makefile(mode="r", encoding=self.encoding)
        return resp


class ControlResumption(harness.ServerTestCase):

    @classmethod
    def prepare_files(cls, srv):
        with open(srv.path("f.txt"), "w") as f:
            f.write("bound\n")

    def fetch(self, ftp):
        out = []
        resp = ftp.retrbinary("RETR f.txt", out.append)
        return resp, b"".join(out)

    def check_pair(self, ctx):
        a = self.srv.ftp(ctx=ctx)
        self.addCleanup(a.close)
        self.assertEqual(self.fetch(a), ("226 Transfer complete.",
                                         b"bound\n"))
        b = ResumingAuth(context=ctx, timeout=30)
        self.addCleanup(b.close)
        b.offer = a.sock.session
        b.connect(harness.HOST, self.srv.explicit_port)
        b.auth()
        self.assertFalse(b.sock.session_reused,
                         "a control connection resumed another one's session")
        b.login("alice", self.srv.users["alice"][0])
        b.prot_p()
        # Both keep working: neither took over the other's binding.
        for ftp in (b, a, b):
            self.assertEqual(self.fetch(ftp), ("226 Transfer complete.",
                                               b"bound\n"))

    def test_tls12_session_id_cache(self):
        ctx = self.srv.client_context(tls_max=ssl.TLSVersion.TLSv1_2)
        ctx.options |= ssl.OP_NO_TICKET
        self.check_pair(ctx)

    def test_tls12_tickets(self):
        self.check_pair(self.srv.client_context(
            tls_max=ssl.TLSVersion.TLSv1_2))

    def test_tls13_tickets(self):
        self.check_pair(self.srv.client_context())


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
