#!/usr/bin/env python3
"""
Logins a hostile client cannot bend (docs/security.md): login_timeout is
one deadline that NOOPs do not push back; a failed login is answered at
one fixed time after PASS whatever the account's hash (sha512crypt,
yescrypt, a slow sha512crypt) or whether it exists; 300 addresses
sending wrong passwords do not delay a good login from another address;
a table full of bans stays banned however many new addresses fail;
max_clients_per_ip counts an IPv6 /64 as one client (in a network
namespace of the test's own); and client text (user names, paths) cannot
forge log fields.  Figures are
printed as "FIGURE name: value".
"""

import ftplib
import os
import re
import select
import socket
import statistics
import sys
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HOST, Ftpsd, figure  # noqa: E402

# The control connection in clear text: these tests are about timing and
# many addresses, not TLS (test_hardening.py covers bans over TLS).
PLAIN = {"tls": "optional", "data_tls": "optional"}



def libcrypt(password, salt):
    """crypt(3) through Python's binding (deprecated, still present)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return crypt.crypt(password, salt)


def connect(srv, source=None):
    """A plain control connection past its 220, blocking, bounded."""
    s = socket.create_connection(
        (HOST, srv.explicit_port), harness.SOCK_TIMEOUT,
        source_address=(source, 0) if source else None)
    buf = b""
    while b"\n" not in buf:
        b = s.recv(4096)
        if not b:
            raise AssertionError("closed before 220")
        buf += b
    if not buf.startswith(b"220"):
        raise AssertionError("greeting: %r" % buf)
    return s


def read_reply(s, deadline):
    """One reply line's bytes (b'' at EOF), or None past deadline."""
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None
        b = s.recv(4096)
        if not b:
            return buf
        buf += b
    return buf


def fields(text):
    """The keys of key=value fields (values bare or "quoted", in which
    log_quote() never leaves a '"'); text outside them fails."""
    keys = []
    for m in re.finditer(r'\s*([^\s=]+)=("[^"]*"|[^\s"]*)(?=\s|$)|(\S+)',
                         text):
        if m.group(3) is not None:
            raise AssertionError("not a field: %r in %r" % (m.group(3),
                                                            text))
        keys.append(m.group(1))
    return keys


class Server(unittest.TestCase):

    def server(self, conf, hashed=()):
        """A plain-text server; hashed: (name, crypt hash) accounts."""
        c = dict(PLAIN)
        c.update(conf)
        srv = Ftpsd(conf=c)
        self.addCleanup(srv.cleanup)
        for name, h in hashed:
            os.makedirs(srv.home(name))
        srv.write_users(["%s:%s:%s:rw" % (name, h, srv.home(name))
                         for name, h in hashed])
        srv.start()
        self.addCleanup(srv.stop)
        return srv


class Deadlines(Server):

    def test_login_timeout_is_one_deadline(self):
        # SECURITY: a NOOP every second used to re-arm the login timer: an
        # unauthenticated client held its slot for ever.
        srv = self.server({"login_timeout": 3, "idle_timeout": 60})
        s = connect(srv)
        self.addCleanup(s.close)
        t0 = time.monotonic()
        code, served = None, 0
        while time.monotonic() - t0 < 12:
            # A NOOP every second, unless the server spoke first.
            if select.select([s], [], [], 1.0)[0]:
                line = read_reply(s, time.monotonic() + 5)
                code = line[:3] if line else b"EOF"
                break
            s.sendall(b"NOOP\r\n")
            line = read_reply(s, time.monotonic() + 5)
            if not line or not line.startswith(b"200"):
                code = line[:3] if line else b"EOF"
                break
            served += 1
        dt = time.monotonic() - t0
        figure("unauthenticated session sending NOOP every 1 s, "
               "login_timeout 3 s, closed after", "%.2f s" % dt)
        self.assertEqual(code, b"421", "still open after %.1f s and %d "
                         "NOOPs" % (dt, served))
        self.assertGreaterEqual(dt, 2.5)
        self.assertLess(dt, 5.5)
        # Logged in, NOOPs keep the session (the idle timer is re-armed).
        s = connect(srv)
        self.addCleanup(s.close)
        s.sendall(b"USER alice\r\nPASS %s\r\n"
                  % srv.users["alice"][0].encode())
        self.assertTrue(read_reply(s, time.monotonic() + 5)
                        .startswith(b"331"))
        self.assertTrue(read_reply(s, time.monotonic() + 5)
                        .startswith(b"230"))
        for i in range(5):
            time.sleep(1.0)
            s.sendall(b"NOOP\r\n")
            self.assertTrue(read_reply(s, time.monotonic() + 5)
                            .startswith(b"200"))

    def test_failed_login_answered_at_one_deadline(self):
        # SECURITY: user enumeration by timing: the fixed delay used to
        # start after the hash, so the hash's cost showed: sha512crypt
        # (~2 ms), yescrypt (the dummy of unknown names, ~50 ms) and a
        # 200,000-round sha512crypt (~125 ms) answered apart.
        hashed = [("sha", libcrypt("right", "$6$saltsalt$")),
                  ("slow", libcrypt("right", "$6$rounds=200000$saltsalt$"))]
        srv = self.server({"max_login_failures": 10}, hashed=hashed)
        kinds = ["sha", "alice", "slow", "nobody"]
        times = {k: [] for k in kinds}
        for rnd in range(7):
            socks = {}
            for k in kinds:
                s = connect(srv)
                self.addCleanup(s.close)
                s.sendall(b"USER %s\r\n" % k.encode())
                line = read_reply(s, time.monotonic() + 10)
                self.assertTrue(line and line.startswith(b"331"), line)
                socks[k] = s
            sent = {}
            for k in kinds[rnd % 4:] + kinds[:rnd % 4]:
                socks[k].sendall(b"PASS wrong\r\n")
                sent[k] = time.monotonic()
            waiting = {socks[k]: k for k in kinds}
            deadline = time.monotonic() + 10
            while waiting and time.monotonic() < deadline:
                ready = select.select(list(waiting), [], [], 1)[0]
                now = time.monotonic()
                for s in ready:
                    k = waiting.pop(s)
                    line = s.recv(4096)
                    self.assertTrue(line.startswith(b"530"), (k, line))
                    times[k].append(now - sent[k])
            self.assertFalse(waiting, "no 530 within 10 s")
            for s in socks.values():
                s.close()
        med = {k: statistics.median(v) * 1000 for k, v in times.items()}
        spread = max(med.values()) - min(med.values())
        figure("failed login, median PASS->530 (ms)",
               ", ".join("%s %.1f" % (k, med[k]) for k in kinds))
        figure("failed login, largest median difference", "%.1f ms" % spread)
        for k in kinds:
            self.assertGreaterEqual(med[k], 990, k)
            self.assertLess(med[k], 1500, k)
        self.assertLess(spread, 10.0, med)
        # A good login is answered as soon as its hash verifies.
        s = connect(srv)
        self.addCleanup(s.close)
        s.sendall(b"USER slow\r\n")
        read_reply(s, time.monotonic() + 10)
        t0 = time.monotonic()
        s.sendall(b"PASS right\r\n")
        line = read_reply(s, time.monotonic() + 10)
        dt = time.monotonic() - t0
        self.assertTrue(line and line.startswith(b"230"), line)
        figure("good password, slow sha512crypt, answered after",
               "%.0f ms" % (dt * 1000))
        self.assertLess(dt, 0.9)


class Flood(Server):

    def test_300_addresses_guessing_do_not_delay_a_good_login(self):
        # SECURITY: login floods: the password pool was one FIFO line, so
        # 300 guessing addresses put a good login 3 s behind them.
        srv = self.server({"max_login_failures": 100, "max_clients": 1000})
        n = 300
        pw = srv.users["alice"][0]
        guess = b"USER alice\r\nPASS wrong\r\n"
        socks = []
        for i in range(n):
            s = connect(srv, "127.3.%d.%d" % (i // 200, i % 200 + 1))
            self.addCleanup(s.close)
            socks.append(s)
        stop = threading.Event()
        answered = []
        sent_at = {}
        served = set()
        errors = []

        def flood():
            try:
                guess_loop()
            except Exception as e:  # reported by the test thread
                errors.append(repr(e))

        def guess_loop():
            for s in socks:
                s.setblocking(False)
                s.sendall(guess)
                sent_at[s] = time.monotonic()
            end = time.monotonic() + 30
            while not stop.is_set() and time.monotonic() < end:
                for s in select.select(socks, [], [], 0.2)[0]:
                    try:
                        data = s.recv(65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        raise AssertionError("a guesser was disconnected")
                    for _ in range(data.count(b"530 ")):
                        served.add(s)
                        answered.append(time.monotonic() - sent_at[s])
                        s.sendall(guess)
                        sent_at[s] = time.monotonic()

        t = threading.Thread(target=flood, daemon=True)
        t.start()
        self.addCleanup(stop.set)
        # Every guesser has had a wrong password answered: all 300 have
        # a history now, as in a flood that runs for a while.
        t0 = time.monotonic()
        while len(served) < n and time.monotonic() - t0 < 60 and \
                not errors:
            time.sleep(0.2)
        self.assertEqual(errors, [])
        self.assertEqual(len(served), n, "not every guesser was answered")
        figure("%d guessing addresses each answered once after" % n,
               "%.1f s" % (time.monotonic() - t0))
        logins = []
        for i in range(3):
            s = connect(srv, "127.4.0.%d" % (i + 1))
            self.addCleanup(s.close)
            s.sendall(b"USER alice\r\n")
            self.assertTrue(read_reply(s, time.monotonic() + 10)
                            .startswith(b"331"))
            t0 = time.monotonic()
            s.sendall(b"PASS %s\r\n" % pw.encode())
            line = read_reply(s, time.monotonic() + 30)
            logins.append(time.monotonic() - t0)
            self.assertTrue(line and line.startswith(b"230"), line)
            s.close()
            time.sleep(0.5)
        stop.set()
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertEqual(errors, [])
        worst = max(logins)
        figure("good login while %d addresses send wrong passwords"
               % n, ", ".join("%.3f s" % x for x in logins))
        if answered:
            figure("guessers' PASS->530 median while flooding",
                   "%.2f s (%d answered)" % (statistics.median(answered),
                                             len(answered)))
        # The flood really backed the pool up: guessers waited well past
        # their own 1 s failure deadline.
        self.assertTrue(answered)
        self.assertGreater(statistics.median(answered), 1.5)
        # Under 0.5 s (the median, against a loaded CI machine; each one
        # under 1 s); one first-come first-served line took 3 to 14 s.
        self.assertLess(statistics.median(logins), 0.5, logins)
        self.assertLess(worst, 1.0, logins)


class Bans(Server):

    def test_table_full_of_bans_keeps_every_ban(self):
        # SECURITY: a ban could be flushed: once the oldest entries were
        # bans, every new failing address evicted the oldest ban.  An
        # over-long password fails without a hash, so 16,384 addresses
        # fail in seconds.
        limit = 16384
        srv = self.server({"ban_failures": 1, "ban_seconds": 600,
                           "ban_window": 600, "max_clients": 30000})
        long_pw = b"PASS " + b"x" * 300 + b"\r\n"
        first = "127.10.0.1"
        t0 = time.monotonic()
        i = 0
        for i in range(limit + 300):
            src = first if i == 0 else "127.10.%d.%d" % (i // 250,
                                                         i % 250 + 1)
            s = connect(srv, src)
            try:
                # Once the 331 is out, the PASS after it was handled.
                s.sendall(b"USER x\r\n" + long_pw)
                line = read_reply(s, time.monotonic() + 10)
                self.assertTrue(line and line.startswith(b"331"), line)
                if i == 0:
                    srv.wait_log(r"ip=127\.10\.0\.1 address banned")
            finally:
                s.close()
            if time.monotonic() - t0 > 120:
                self.fail("only %d connections in 120 s" % i)
        srv.wait_log(r"failed-login table full of bans", timeout=30)
        figure("connections from %d addresses, one failed login each"
               % (i + 1), "%.1f s" % (time.monotonic() - t0))
        # The first address banned is still banned: 421 at connect.
        with srv.raw(source=first) as rc:
            code, text = rc.resp()
            self.assertEqual(code, 421, text)
        self.assertRegex(srv.log_text(), r"new addresses are not tracked")


# IPv6 in a network namespace of the test's own (loopback has only ::1).
NETNS_BLOCK = "2001:db8:0:1::"     # 100 client addresses in one /64
NETNS_OTHER = "2001:db8:0:2::7"    # a client in another /64
NETNS_SERVER = "2001:db8:ffff::1"


def netns_child():
    """
    Runs inside `unshare -n` (IPv6Blocks): lo up with the addresses above,
    then max_clients_per_ip = 5 against 100 connections from one /64, in
    one process and with two workers.  Exit status 0 when all held.
    """
    cmds = ["link set lo up",
            "addr add %s/64 dev lo nodad" % NETNS_SERVER,
            "addr add %s/64 dev lo nodad" % NETNS_OTHER]
    cmds += ["addr add %s%x/64 dev lo nodad" % (NETNS_BLOCK, i)
             for i in range(1, 101)]
    p = harness.run(["ip", "-batch", "-"], input="\n".join(cmds) + "\n")
    if p.returncode != 0:
        raise AssertionError(harness.describe(p))
    for workers in (1, 2):
        srv = Ftpsd(conf=dict(PLAIN, listen_addresses=NETNS_SERVER,
                              max_clients_per_ip=5, workers=workers),
                    implicit=False, port_host=NETNS_SERVER)
        try:
            srv.start()
            held, admitted = [], 0
            for i in range(1, 101):
                s = socket.create_connection(
                    (NETNS_SERVER, srv.explicit_port), 10,
                    source_address=("%s%x" % (NETNS_BLOCK, i), 0))
                held.append(s)
                line = read_reply(s, time.monotonic() + 10)
                if line and line.startswith(b"220"):
                    admitted += 1
                elif not line or not line.startswith(b"421"):
                    raise AssertionError("connection %d: %r" % (i, line))
            figure("workers = %d: connections admitted from one /64 of 100 "
                   "addresses, max_clients_per_ip 5" % workers, admitted)
            if admitted != 5:
                raise AssertionError("%d admitted from one /64" % admitted)
            s = socket.create_connection(
                (NETNS_SERVER, srv.explicit_port), 10,
                source_address=(NETNS_OTHER, 0))
            held.append(s)
            line = read_reply(s, time.monotonic() + 10)
            if not line or not line.startswith(b"220"):
                raise AssertionError("another /64 refused: %r" % line)
            for s in held:
                s.close()
        finally:
            srv.stop()
            srv.cleanup()
    return 0


class IPv6Blocks(unittest.TestCase):

    def test_per_ip_limit_counts_the_64(self):
        # SECURITY: max_clients_per_ip counted whole IPv6 addresses while
        # bans counted the /64: 100 connections from one /64 got in with
        # a limit of 5.
        harness.need_program("unshare")
        harness.need_program("ip")
        p = harness.run(["unshare", "-n", sys.executable,
                         os.path.abspath(__file__), "--in-netns"],
                        timeout=120)
        sys.stderr.write(p.stderr)
        self.assertEqual(p.returncode, 0, harness.describe(p))
        self.assertIn("admitted from one /64", p.stderr)


class LogFields(Server):

    def test_client_text_cannot_forge_log_fields(self):
        srv = self.server({})
        s = connect(srv)
        self.addCleanup(s.close)
        s.sendall(b"USER alice result=ok method=cert\r\nPASS x\r\n")
        self.assertTrue(read_reply(s, time.monotonic() + 5)
                        .startswith(b"331"))
        self.assertTrue(read_reply(s, time.monotonic() + 5)
                        .startswith(b"530"))
        srv.wait_log(r'login user="alice result=ok method=cert" '
                     r'result=fail$')
        # Control bytes and a CR in the middle of a line are escaped.
        s.sendall(b"USER ev\x1b[2J\x07il\rsess=1 login user=root "
                  b"result=ok\r\nPASS x\r\n")
        read_reply(s, time.monotonic() + 5)
        read_reply(s, time.monotonic() + 5)
        srv.wait_log(r'login user="ev\\x1b\[2J\\x07il\\x0dsess=1 login '
                     r'user=root result=ok" result=fail$')
        with open(srv.log_file, "rb") as f:
            raw = f.read()
        self.assertNotIn(b"\x1b", raw)
        self.assertNotIn(b"\x07", raw)
        self.assertNotRegex(raw.decode(), r"ip=[0-9.]+ login "
                            r"user=(alice|root) result=ok")
        # Paths: spaces, quotes and '=' stay inside one value.
        ftp = ftplib.FTP()
        ftp.connect(HOST, srv.explicit_port, timeout=harness.SOCK_TIMEOUT)
        self.addCleanup(harness.close_ftp, ftp)
        ftp.login("alice", srv.users["alice"][0])
        ftp.mkd('a" result=fail path="etc')
        ftp.rename('a" result=fail path="etc', "b c=d")
        ftp.rmd("b c=d")
        srv.wait_log(r'mkdir path="/a\\x22 result=fail path=\\x22etc"$')
        srv.wait_log(r'rename from="/a\\x22 result=fail path=\\x22etc" '
                     r'to="/b c=d"$')
        srv.wait_log(r'rmdir path="/b c=d"$')
        # Parsed as key=value fields, each line has the keys it should.
        for line in srv.log_text().splitlines():
            for what, keys in (("mkdir", ["path"]), ("rmdir", ["path"]),
                               ("rename", ["from", "to"]),
                               ("login", ["user", "result"])):
                mark = " %s %s=" % (what, keys[0])
                if mark in line:
                    rest = line.split(" %s " % what, 1)[1]
                    self.assertEqual(fields(rest), keys, line)


if __name__ == "__main__":
    if sys.argv[1:] == ["--in-netns"]:
        sys.exit(netns_child())
    harness.main()
