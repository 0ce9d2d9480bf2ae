#!/usr/bin/env python3
"""The data-channel policy (docs/server.md, docs/users.md): every 522 names
its cause, for the user in the reply and for the admin in the log;
data_session_reuse and data_tls per account in the users file, logged at
login; under optional a data connection that does not resume is logged once
per session; implicit sessions (and prot_default = P) start in PROT P."""

import io
import os
import re
import shutil
import ssl
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import FTP_TLS_Stock, data_exchange  # noqa: E402

TLS12 = ssl.TLSVersion.TLSv1_2
NONE_REPLY, NONE_LOG = harness.REFUSED["none"]
FOREIGN_REPLY, FOREIGN_LOG = harness.REFUSED["foreign"]
UNKNOWN_REPLY, UNKNOWN_LOG = harness.REFUSED["unknown"]
EXPIRED_REPLY, EXPIRED_LOG = harness.REFUSED["expired"]
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"

def last_login(srv, user):
    """The server's session number of the latest login of user."""
    found = re.findall(r"sess=(\d+) ip=\S+ login user=%s result=ok" % user,
                       srv.log_text())
    return found[-1] if found else None


def stock_reply(ftp, cmd):
    """The final reply of a data command by stock ftplib (a 522 comes after
    the 150, once the refused data connection closed)."""
    reply = harness.ftp_reply(ftp.retrbinary, cmd, lambda b: None)
    if not reply.startswith("5"):
        reply = harness.ftp_reply(ftp.getresp)
    return reply


def stat_prot(ftp):
    """STAT's data-protection line (cmd.c: "TLS (PROT P)" or "clear")."""
    return ftp.sendcmd("STAT")


class Causes(harness.ServerTestCase):
    """data_session_reuse = required (the default): the three causes."""

    @classmethod
    def prepare_files(cls, srv):
        with open(srv.path("f.txt"), "wb") as f:
            f.write(b"policy\n")

    def refused(self, ftp, session, reply, log):
        before = self.srv.log_text().count(log)
        r = data_exchange(ftp, "RETR f.txt", session=session)
        self.assertTrue(r["final"].startswith(reply), r)
        self.assertEqual(r["data"], b"")
        self.srv.wait_log(re.escape(log))
        self.assertEqual(self.srv.log_text().count(log), before + 1)
        # The control connection goes on, and its own session still works.
        r = data_exchange(ftp, "RETR f.txt")
        self.assertEqual((r["final"][:3], r["data"]), ("226", b"policy\n"))

    def test_no_session_offered(self):
        for tls_max in (TLS12, None):
            ftp = self.ftp(ctx=self.srv.client_context(tls_max=tls_max))
            self.refused(ftp, "none", NONE_REPLY, NONE_LOG)
            # Stock ftplib (cpython issue 63699) gets the same cause.
            stock = self.ftp(cls=FTP_TLS_Stock,
                             ctx=self.srv.client_context(tls_max=tls_max))
            reply = stock_reply(stock, "NLST")
            self.assertTrue(reply.startswith(NONE_REPLY), reply)

    def test_refusal_held_while_a_deleted_file_is_freed(self):
        # RETR holds its file open; another session deletes it; then the
        # data connection is refused.  The final reply waits until the
        # pool closed the freed file (transfer.c keeps a copy of its text:
        # datachan.c builds some texts on its stack), then arrives whole,
        # and the session goes on.
        with open(self.srv.path("gone.bin"), "wb") as f:
            f.write(os.urandom(300000))
        other = self.ftp()
        ftp = self.ftp()
        r = data_exchange(ftp, "RETR gone.bin", session="none",
                          after_prelim=lambda: other.delete("gone.bin"))
        self.assertTrue(r["final"].startswith(NONE_REPLY), r)
        self.assertFalse(os.path.exists(self.srv.path("gone.bin")))
        r = data_exchange(ftp, "RETR f.txt")
        self.assertEqual((r["final"][:3], r["data"]), ("226", b"policy\n"))

    def test_another_connections_ticket(self):
        for tls_max in (TLS12, None):
            ctx = self.srv.client_context(tls_max=tls_max)
            a = self.ftp(ctx=ctx)
            b = self.ftp(ctx=ctx)
            self.refused(a, b.sock.session, FOREIGN_REPLY, FOREIGN_LOG)

    def test_ticket_of_another_server(self):
        # Another ftpsd seals tickets with other keys: this one cannot
        # open them (as after a restart, or once a key was wiped).
        other = harness.Ftpsd()
        for ext in (".crt", ".key"):
            shutil.copy(os.path.join(self.srv.certs_dir, "server" + ext),
                        other.certs_dir)
        with other:
            ctx = self.srv.client_context()
            o = other.ftp(ctx=ctx)
            self.addCleanup(harness.close_ftp, o)
            a = self.ftp(ctx=ctx)
            self.refused(a, o.sock.session, UNKNOWN_REPLY, UNKNOWN_LOG)

    def test_tls12_session_id_of_another_connection(self):
        # No tickets: the session id of another control connection is a
        # miss in this one's cache (its session id context).
        ctx = self.srv.client_context(tls_max=TLS12)
        ctx.options |= ssl.OP_NO_TICKET
        a = self.ftp(ctx=ctx)
        b = self.ftp(ctx=ctx)
        self.refused(a, b.sock.session, UNKNOWN_REPLY, UNKNOWN_LOG)


class Expired(harness.ServerTestCase):
    """A day later (libfaketime moves ftpsd's wall clock; its monotonic
    timers stay), the ticket sent after the control handshake has expired,
    while the fresh one sent before each PASV keeps the session working."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(FAKETIME):
            harness.die("%s missing (apt-get install libfaketime)"
                        % FAKETIME)
        fd, cls.clock = tempfile.mkstemp(prefix="ftpsd-clock-")
        os.write(fd, b"+0\n")
        os.close(fd)
        asan = os.environ.get("ASAN_OPTIONS")
        cls.ENV = {
            "LD_PRELOAD": FAKETIME,
            "FAKETIME_TIMESTAMP_FILE": cls.clock,
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            # ASan wants to come first; faketime only wraps clock calls.
            "ASAN_OPTIONS": ((asan + ":") if asan else "") +
            "verify_asan_link_order=0",
        }
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            os.unlink(cls.clock)

    @classmethod
    def prepare_files(cls, srv):
        with open(srv.path("f.txt"), "wb") as f:
            f.write(b"a day\n")

    def set_clock(self, offset):
        with open(self.clock, "w") as f:
            f.write(offset + "\n")

    def test_ticket_of_the_login_expires(self):
        self.addCleanup(self.set_clock, "+0")
        ftp = self.ftp()
        login = ftp.sock.session     # the ticket after the handshake
        r = data_exchange(ftp, "RETR f.txt", session=login)
        self.assertEqual((r["final"][:3], r["data"]), ("226", b"a day\n"))
        # 25 hours on: past the 1-day ticket lifetime, not yet past the
        # 36-hour life of the key that sealed it.
        self.set_clock("+90000")
        r = data_exchange(ftp, "RETR f.txt", session=login)
        self.assertTrue(r["final"].startswith(EXPIRED_REPLY), r)
        self.srv.wait_log(re.escape(EXPIRED_LOG))
        r = data_exchange(ftp, "RETR f.txt")
        self.assertEqual((r["final"][:3], r["data"]), ("226", b"a day\n"))


class PerUser(harness.ServerTestCase):
    """Accounts that override ftpsd.conf's data policy (users file)."""
    USERS = {
        "alice": ("alice-Pw-7c1f", "rw"),
        "partner": ("partner-Pw-51d0", "rw", "data_session_reuse=optional"),
        "clear": ("clear-Pw-0a3e", "rw", "data_tls=optional"),
    }

    @classmethod
    def prepare_files(cls, srv):
        for user in cls.USERS:
            with open(srv.path("f.txt", user), "wb") as f:
                f.write(b"hello " + user.encode() + b"\n")

    def test_login_logs_the_policy(self):
        self.ftp(user="partner")
        self.srv.wait_log(r"login policy user=partner data_tls=required "
                          r"data_session_reuse=optional \(users file: "
                          r"data_session_reuse=optional\)")
        self.ftp(user="clear")
        self.srv.wait_log(r"login policy user=clear data_tls=optional "
                          r"data_session_reuse=required \(users file: "
                          r"data_tls=optional\)")
        self.ftp(user="alice")
        self.srv.wait_log(r"login policy user=alice data_tls=required "
                          r"data_session_reuse=required \(users file: "
                          r"none\)")

    def test_exempt_user_passes_once_logged(self):
        ftp = self.ftp(user="partner", cls=FTP_TLS_Stock)
        sid = last_login(self.srv, "partner")
        self.assertIsNotNone(sid)
        for i in range(4):
            buf = io.BytesIO()
            ftp.retrbinary("RETR f.txt", buf.write)
            self.assertEqual(buf.getvalue(), b"hello partner\n")
        data = os.urandom(100000)
        ftp.storbinary("STOR up.bin", io.BytesIO(data))
        with open(self.srv.path("up.bin", "partner"), "rb") as f:
            self.assertEqual(f.read(), data)
        ftp.quit()
        self.srv.wait_log(r"sess=%s ip=\S+ close" % sid)
        lines = [line for line in self.srv.log_text().splitlines()
                 if "sess=%s " % sid in line and "data tls" in line]
        # Five data connections, one line, at info, naming the cause.
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(" info: ", lines[0])
        self.assertIn("data tls not resumed, allowed by data_session_reuse "
                      "= optional (logged once per session): no TLS "
                      "session offered to resume", lines[0])

    def test_required_user_still_refused(self):
        ftp = self.ftp(user="alice", cls=FTP_TLS_Stock)
        reply = stock_reply(ftp, "RETR f.txt")
        self.assertTrue(reply.startswith(NONE_REPLY), reply)

    def test_data_tls_optional_user(self):
        ftp = self.ftp(user="clear", prot_p=False)
        self.assertReply(ftp.sendcmd("PBSZ 0"), 200)
        self.assertReply(ftp.sendcmd("PROT C"), 200)
        buf = io.BytesIO()
        ftp.retrbinary("RETR f.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"hello clear\n")
        # Everyone else stays encrypted.
        alice = self.ftp(user="alice", prot_p=False)
        self.assertReply(alice.sendcmd("PBSZ 0"), 200)
        self.assertReply(harness.ftp_reply(alice.sendcmd, "PROT C"), 534)
        self.assertReply(harness.ftp_reply(alice.sendcmd, "NLST"), 521)

    def test_bad_option_is_file_line_error(self):
        h = harness.hash_password("x")
        self.srv.write_users(["eve:%s:/srv/eve:rw::data_session_reuse=maybe"
                              % h, "ann:%s:/srv/ann:rw::ssl=on" % h])
        self.addCleanup(self.srv.write_users)
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 2, harness.describe(p))
        users = self.srv.users_file
        self.assertIn("%s:5: user eve: field 6 (options): data_session_reuse:"
                      " \"maybe\" is not one of: required, optional, off"
                      % users, p.stderr)
        self.assertIn("%s:6: user ann: field 6 (options): unknown setting "
                      "\"ssl\"" % users, p.stderr)


class NoProt(harness.FTP_TLS_Reuse):
    """Sends no PBSZ/PROT, yet wraps data connections in TLS (as Perl
    Net::FTP in implicit mode does)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._prot_p = True


class NoProtImplicit(harness.FTP_TLS_Implicit):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._prot_p = True


class StartsInProtP:
    """Mixin: a client that sends no PBSZ/PROT reads a file over TLS."""

    @classmethod
    def prepare_files(cls, srv):
        with open(srv.path("f.txt"), "wb") as f:
            f.write(b"encrypted\n")

    def login_without_prot(self, cls, port):
        ftp = cls(context=self.srv.client_context(),
                  timeout=harness.SOCK_TIMEOUT)
        self.addCleanup(harness.close_ftp, ftp)
        ftp.connect(harness.HOST, port)
        ftp.login("alice", self.srv.users["alice"][0])  # AUTH TLS first
        self.assertIn("TLS (PROT P)", stat_prot(ftp))
        buf = io.BytesIO()
        ftp.retrbinary("RETR f.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"encrypted\n")
        self.assertEqual(ftp.data_reused, [True])
        return ftp


class ImplicitStartsInProtP(StartsInProtP, harness.ServerTestCase):

    def test_implicit_without_pbsz_prot(self):
        ftp = self.login_without_prot(NoProtImplicit, self.srv.implicit_port)
        # PBSZ and PROT are still accepted.
        self.assertReply(ftp.sendcmd("PBSZ 0"), 200)
        self.assertReply(ftp.sendcmd("PROT P"), 200)

    def test_clear_data_in_prot_p_says_so(self):
        # A client that takes the data channel to be clear (Commons Net in
        # implicit mode without execPROT("P")) learns why it failed.
        ftp = self.ftp(implicit=True, prot_p=False)
        reply = harness.ftp_reply(ftp.storbinary, "STOR clear.bin",
                                  io.BytesIO(b"clear bytes\r\n" * 100))
        if not reply.startswith("4"):
            reply = harness.ftp_reply(ftp.getresp)
        self.assertTrue(reply.startswith(
            "425 TLS handshake on the data connection failed: it carried "
            "clear data; this session is in PROT P"), reply)
        self.srv.wait_log(r"data tls handshake failed reason=\".*wrong "
                          r"version number \(the client sent clear data")
        self.assertFalse(os.path.exists(self.srv.path("clear.bin")))

    def test_explicit_still_starts_clear(self):
        # prot_default = C (RFC 4217 9): 521 until PROT P.
        ftp = self.ftp(prot_p=False)
        self.assertNotIn("TLS (PROT P)", stat_prot(ftp))
        self.assertReply(harness.ftp_reply(ftp.sendcmd, "NLST"), 521)


class ProtDefaultP(StartsInProtP, harness.ServerTestCase):
    CONF = {"prot_default": "P"}

    def test_explicit_starts_in_prot_p(self):
        ftp = self.login_without_prot(NoProt, self.srv.explicit_port)
        # data_tls = required still refuses PROT C (after PBSZ: RFC 2228).
        self.assertReply(harness.ftp_reply(ftp.sendcmd, "PROT C"), 503)
        self.assertReply(ftp.sendcmd("PBSZ 0"), 200)
        self.assertReply(harness.ftp_reply(ftp.sendcmd, "PROT C"), 534)


if __name__ == "__main__":
    harness.main()
