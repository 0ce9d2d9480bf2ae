#!/usr/bin/env python3
"""Hardening (docs/security.md): password guessing (per connection and
per address, bans answered 421 at connect, delays that block nobody),
slow clients (partial lines and stalled TLS handshakes on both ports,
2,000 of them at once while a normal client logs in and downloads),
floods (max_clients, max_clients_per_ip, file descriptors exhausted),
full disks and I/O errors during uploads, and kill -9 during 100 uploads
over existing files.  Figures are printed as "FIGURE name: value"."""

import errno
import ftplib
import hashlib
import os
import random
import resource
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (HOST, MiB, Ftpsd, figure, ftp_reply,  # noqa: E402
                     reply_code)



def raise_nofile(want):
    """Soft RLIMIT_NOFILE up to want (bounded by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def ftp_from(srv, source=None, user="alice", password=None, login=True,
             implicit=False):
    """A logged-in FTP_TLS_Reuse from a chosen loopback source address."""
    ftp = harness.FTP_TLS_Reuse(context=srv.client_context(),
                                timeout=harness.SOCK_TIMEOUT)
    src = (source, 0) if source else None
    if implicit:
        # FTP_TLS_Implicit.connect() takes no source address.
        raw = socket.create_connection((HOST, srv.implicit_port),
                                       harness.SOCK_TIMEOUT,
                                       source_address=src)
        ftp.host, ftp.port, ftp.af = HOST, srv.implicit_port, raw.family
        try:
            ftp.sock = ftp.context.wrap_socket(raw, server_hostname=HOST)
        except BaseException:
            raw.close()
            raise
        ftp.file = ftp.sock.makefile("r", encoding=ftp.encoding)
        ftp._prot_p = False
        ftp.welcome = ftp.getresp()
    else:
        ftp.connect(HOST, srv.explicit_port, timeout=harness.SOCK_TIMEOUT,
                    source_address=src)
        ftp.auth()
    if login:
        ftp.login(user, password or srv.users[user][0])
        ftp.prot_p()
    return ftp


def upload(ftp, name, data, chunk=64 * 1024, pause=0.0):
    """STOR by hand; the final reply text even when the server cut the
    data connection (as it does after a disk error)."""
    ftp.voidcmd("TYPE I")
    try:
        conn = ftp.transfercmd("STOR " + name)
    except ftplib.all_errors as e:
        return str(e)
    try:
        for i in range(0, len(data), chunk):
            conn.sendall(data[i:i + chunk])
            if pause:
                time.sleep(pause)
        conn.unwrap()
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()
    return ftp_reply(ftp.getresp)


def retr(ftp, name):
    out = []
    ftp.retrbinary("RETR " + name, out.append)
    return b"".join(out)


def temp_files(path):
    return [n for n in os.listdir(path) if n.startswith(".ftpsd-upload.")]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class ServerCase(unittest.TestCase):
    """One server per test, with checks on a clean stop."""

    def server(self, conf=None, start=True, **kw):
        srv = Ftpsd(conf=conf, **kw)
        self.addCleanup(srv.cleanup)
        if start:
            srv.start()
            self.addCleanup(srv.stop)
        return srv

    def assertReply(self, reply, codes, msg=None):
        return harness.ServerTestCase.assertReply(self, reply, codes, msg)


# ---------------------------------------------------------------------------
# Password guessing

class BruteForce(ServerCase):
    CONF = {"max_login_failures": 3, "ban_failures": 4, "ban_window": 60,
            "ban_seconds": 4}

    def test_max_login_failures_ends_the_connection(self):
        srv = self.server(self.CONF)
        ftp = ftp_from(srv, "127.0.2.1", login=False)
        self.addCleanup(harness.close_ftp, ftp)
        for i in range(2):
            ftp.sendcmd("USER alice")
            self.assertReply(ftp_reply(ftp.sendcmd, "PASS wrong%d" % i), 530)
        ftp.sendcmd("USER alice")
        ftp.putcmd("PASS wrong")
        self.assertReply(ftp_reply(ftp.getresp), 530)
        self.assertReply(ftp_reply(ftp.getresp), 421)
        srv.wait_log(r"ip=127\.0\.2\.1 close "
                     r"reason=\"too many failed logins\"")

    def test_ban_across_connections_421_at_connect(self):
        srv = self.server(self.CONF)
        bad, other = "127.0.3.1", "127.0.3.2"
        # Opened before the ban, never logged in: ends at its next PASS.
        early = srv.raw(source=bad)
        self.addCleanup(early.close)
        self.assertReply(early.resp(), 220)
        self.assertReply(early.cmd("AUTH TLS"), 234)
        early.starttls(srv.client_context())
        self.assertReply(early.cmd("USER alice"), 331)
        # Two connections, two failures each: the fourth bans.
        for n in range(2):
            ftp = ftp_from(srv, bad, login=False)
            self.addCleanup(harness.close_ftp, ftp)
            for i in range(2):
                ftp.sendcmd("USER alice")
                ftp.putcmd("PASS nope")
                self.assertReply(ftp_reply(ftp.getresp), 530)
        self.assertReply(ftp_reply(ftp.getresp), 421)
        t_ban = time.monotonic()
        srv.wait_log(r"ip=127\.0\.3\.1 address banned for 4 seconds")
        # Banned: 421 at connect, before any command.
        with srv.raw(source=bad) as rc:
            code, text = rc.resp()
            self.assertEqual(code, 421, text)
            self.assertIn("failed logins", text)
            self.assertTrue(rc.expect_closed(5))
        # Implicit port: closed before the handshake completes.
        with self.assertRaises((ssl.SSLError, OSError)):
            ftp_from(srv, bad, login=False, implicit=True)
        # The right password does not help a banned session either.
        self.assertReply(early.cmd("PASS " + srv.users["alice"][0]), 421)
        self.assertTrue(early.expect_closed(5))
        # Other addresses are served.
        ok = ftp_from(srv, other)
        self.addCleanup(harness.close_ftp, ok)
        self.assertReply(ok.sendcmd("PWD"), 257)
        srv.wait_log(r"refused connection on .*explicit.*127\.0\.3\.1 "
                     r"banned for \d+ more seconds")
        # The ban ends after ban_seconds.
        time.sleep(max(0, t_ban + 4.5 - time.monotonic()))
        ftp = ftp_from(srv, bad)
        self.addCleanup(harness.close_ftp, ftp)
        self.assertReply(ftp.sendcmd("PWD"), 257)

    def test_bans_off(self):
        srv = self.server({"ban_seconds": 0, "max_login_failures": 1})
        for i in range(6):
            ftp = ftp_from(srv, "127.0.4.1", login=False)
            ftp.sendcmd("USER alice")
            ftp.putcmd("PASS wrong")
            self.assertReply(ftp_reply(ftp.getresp), 530)
            self.assertReply(ftp_reply(ftp.getresp), 421)
            harness.close_ftp(ftp)
        ftp = ftp_from(srv, "127.0.4.1")
        self.addCleanup(harness.close_ftp, ftp)
        self.assertNotRegex(srv.log_text(), "address banned")

    def test_failure_delays_run_side_by_side(self):
        # 20 guessers from 20 addresses at once: each waits its own
        # second, nobody waits for the others, and a real user gets in.
        srv = self.server({"max_login_failures": 5})
        guessers = []
        for i in range(20):
            ftp = ftp_from(srv, "127.0.5.%d" % (i + 1), login=False)
            self.addCleanup(harness.close_ftp, ftp)
            ftp.sendcmd("USER alice")
            guessers.append(ftp)
        t0 = time.monotonic()
        for ftp in guessers:
            ftp.putcmd("PASS guess")
        t_login = time.monotonic()
        user = ftp_from(srv, "127.0.5.100")
        self.addCleanup(harness.close_ftp, user)
        t_login = time.monotonic() - t_login
        for ftp in guessers:
            self.assertReply(ftp_reply(ftp.getresp), 530)
        total = time.monotonic() - t0
        # Serial delays would take 20 s; the password pool checks the 20
        # guesses first (FIFO), which the good login may queue behind.
        self.assertGreaterEqual(total, 0.9)
        self.assertLess(total, 8, "failure delays ran one after another")
        self.assertLess(t_login, 4, "a good login waited for the delays")
        figure("20 failed logins at once, all answered", "%.2f s" % total)
        figure("good login meanwhile", "%.2f s" % t_login)


# ---------------------------------------------------------------------------
# Slow clients

class SlowClients(ServerCase):

    def timed_close(self, sock, limit):
        t0 = time.monotonic()
        sock.settimeout(limit)
        try:
            while sock.recv(4096):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
        return time.monotonic() - t0

    def test_partial_line_and_stalled_handshakes_dropped(self):
        srv = self.server({"login_timeout": 2, "idle_timeout": 3})
        socks = []
        # A partial command line and nothing more.
        s1 = socket.create_connection((HOST, srv.explicit_port))
        s1.recv(100)
        s1.sendall(b"USER ali")
        # AUTH TLS, then half a ClientHello.
        s2 = socket.create_connection((HOST, srv.explicit_port))
        s2.recv(100)
        s2.sendall(b"AUTH TLS\r\n")
        s2.recv(100)
        s2.sendall(b"\x16\x03\x01\x00")
        # Implicit port: no ClientHello at all, and half of one.
        s3 = socket.create_connection((HOST, srv.implicit_port))
        s4 = socket.create_connection((HOST, srv.implicit_port))
        s4.sendall(b"\x16\x03\x01\x02\x00\x01")
        socks = [s1, s2, s3, s4]
        t0 = time.monotonic()
        for s in socks:
            self.addCleanup(s.close)
            dt = self.timed_close(s, 10)
            self.assertLess(time.monotonic() - t0, 6, "not dropped")
        self.assertGreaterEqual(time.monotonic() - t0, 1.5)
        log = srv.log_text()
        self.assertEqual(log.count("close reason=\"login timeout\""), 4, log)
        # Logged in, then a partial line: the idle timeout applies.
        rc = srv.raw_login()
        self.addCleanup(rc.close)
        rc.send_raw(b"NOO")
        t0 = time.monotonic()
        self.assertTrue(rc.expect_closed(10))
        self.assertTrue(2 <= time.monotonic() - t0 < 7)

    def test_2000_slowloris_do_not_stop_a_normal_client(self):
        n = 2000
        have = raise_nofile(n + 1024)
        self.assertGreaterEqual(have, n + 200, "RLIMIT_NOFILE hard limit "
                                "too low for this test (ulimit -Hn)")
        timeout = 12
        srv = self.server({"max_clients": n + 50, "login_timeout": timeout})
        data = os.urandom(4 * MiB)
        with open(srv.path("f.bin"), "wb") as f:
            f.write(data)
        rss0 = srv.rss_kib()
        sel = selectors.DefaultSelector()
        socks = []
        t0 = time.monotonic()
        # 100 addresses, 20 each (max_clients_per_ip stays at 32); a third
        # send half a line, a third stall in AUTH TLS, a third stall the
        # implicit handshake.
        def open_one(i):
            kind = i % 3
            s = socket.socket()
            s.setblocking(False)
            s.bind(("127.1.%d.%d" % (i // 20 // 250, i // 20 % 250 + 1), 0))
            port = srv.implicit_port if kind == 2 else srv.explicit_port
            try:
                s.connect((HOST, port))
            except BlockingIOError:
                pass
            socks.append(s)
            self.addCleanup(s.close)
            sel.register(s, selectors.EVENT_WRITE, [kind, 0])

        held = 0
        deadline = time.monotonic() + 30
        while held < n and time.monotonic() < deadline:
            # At most 200 on their way at once, as a patient attacker.
            while len(socks) < n and len(socks) - held < 200:
                open_one(len(socks))
            for key, ev in sel.select(0.5):
                s, st = key.fileobj, key.data
                if ev & selectors.EVENT_WRITE:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    self.assertEqual(err, 0, os.strerror(err))
                    sel.modify(s, selectors.EVENT_READ, st)
                    if st[0] == 2:
                        s.send(b"\x16\x03\x01\x02\x00\x01")
                        sel.unregister(s)
                        held += 1
                    continue
                got = s.recv(512)
                self.assertTrue(got, "closed early")
                if st[0] == 0:
                    s.send(b"USER sl")
                    sel.unregister(s)
                    held += 1
                elif st[1] == 0:
                    s.send(b"AUTH TLS\r\n")
                    st[1] = 1
                elif b"234" in got:
                    s.send(b"\x16\x03\x01\x02\x00\x01")
                    sel.unregister(s)
                    held += 1
        t_held = time.monotonic() - t0
        self.assertEqual(held, n, "only %d of %d connections held" %
                         (held, n))
        rss1 = srv.rss_kib()
        # A normal client, while all of them hang on.
        out = os.path.join(srv.dir, "curl.out")
        t1 = time.monotonic()
        p = srv.curl("--ssl-reqd", "-o", out, srv.url("f.bin"))
        t_curl = time.monotonic() - t1
        self.assertEqual(p.returncode, 0, harness.describe(p))
        self.assertEqual(harness.sha256_file(out), harness.sha256(data))
        t1 = time.monotonic()
        ftp = ftp_from(srv, "127.0.6.1")
        self.addCleanup(harness.close_ftp, ftp)
        got = retr(ftp, "f.bin")
        t_ftp = time.monotonic() - t1
        self.assertEqual(got, data)
        ftp.quit()
        c0 = cpu_seconds(srv.pid())
        time.sleep(1)
        cpu_idle = cpu_seconds(srv.pid()) - c0
        # Every one of them is dropped by login_timeout.
        sel.close()
        left = list(socks)
        dropped_by = None
        while left and time.monotonic() - t0 < timeout + t_held + 10:
            nxt = []
            for s in left:
                try:
                    while s.recv(4096):
                        pass
                except BlockingIOError:
                    nxt.append(s)
                except OSError:
                    pass
            left = nxt
            if not left:
                dropped_by = time.monotonic() - t0
                break
            time.sleep(0.25)
        self.assertEqual(len(left), 0, "%d connections still open"
                         % len(left))
        self.assertGreaterEqual(dropped_by, timeout - 1)
        figure("slowloris connections held", "%d (opened in %.1f s)"
               % (n, t_held))
        figure("server RSS with them", "%d KiB (%d KiB before, %.1f KiB "
               "each)" % (rss1, rss0, (rss1 - rss0) / n))
        figure("curl login + 4 MiB download meanwhile", "%.2f s" % t_curl)
        figure("ftplib login + 4 MiB download meanwhile", "%.2f s" % t_ftp)
        figure("server CPU while they hang on", "%.2f s per s" % cpu_idle)
        figure("all dropped after", "%.1f s (login_timeout %d s)"
               % (dropped_by, timeout))



# ---------------------------------------------------------------------------
# Floods

def flood(port, n, source=None, timeout=10):
    """n connections at once; returns (first reply lines, seconds until
    the last one was closed by the server)."""
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        if source:
            s.bind((source, 0))
        try:
            s.connect((HOST, port))
        except BlockingIOError:
            pass
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, [b""])
    replies, open_ = [], n
    try:
        while open_ and time.monotonic() - t0 < timeout:
            for key, _ in sel.select(0.5):
                try:
                    b = key.fileobj.recv(4096)
                except OSError:
                    b = b""
                if b:
                    key.data[0] += b
                    continue
                replies.append(key.data[0].decode("utf-8", "replace"))
                sel.unregister(key.fileobj)
                open_ -= 1
    finally:
        for s in socks:
            s.close()
        sel.close()
    return replies, open_, time.monotonic() - t0


class Floods(ServerCase):

    def test_max_clients_421_at_once_others_served(self):
        srv = self.server({"max_clients": 30, "max_clients_per_ip": 100})
        data = os.urandom(8 * MiB)
        with open(srv.path("f.bin"), "wb") as f:
            f.write(data)
        ftp = ftp_from(srv)
        self.addCleanup(harness.close_ftp, ftp)
        idle = []
        for _ in range(29):
            rc = srv.raw()
            self.addCleanup(rc.close)
            self.assertReply(rc.resp(), 220)
            idle.append(rc)
        got = {}
        t = threading.Thread(target=lambda: got.update(d=retr(ftp, "f.bin")))
        t.start()
        replies, still_open, secs = flood(srv.explicit_port, 300)
        t.join(30)
        self.assertEqual(still_open, 0, "flooding connections kept open")
        self.assertLess(secs, 5, "refusals took long")
        self.assertEqual(len(replies), 300)
        bad = [r for r in replies if not r.startswith("421 ")]
        self.assertEqual(bad, [], "not refused with 421")
        self.assertEqual(got.get("d"), data, "the running download broke")
        # The implicit port just closes.
        _, still_open, _ = flood(srv.implicit_port, 50)
        self.assertEqual(still_open, 0)
        figure("max_clients flood", "300 connections refused with 421 and "
               "closed in %.2f s, download meanwhile intact" % secs)
        # Recovery: the slots come back as the idle clients leave.
        for rc in idle[:5]:
            rc.close()
        deadline = time.monotonic() + 5
        while True:
            try:
                new = ftp_from(srv)
                break
            except ftplib.all_errors:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.addCleanup(harness.close_ftp, new)
        self.assertEqual(retr(new, "f.bin"), data)

    def test_max_clients_per_ip(self):
        srv = self.server({"max_clients": 500, "max_clients_per_ip": 5})
        held = [srv.raw(source="127.0.7.1") for _ in range(5)]
        for rc in held:
            self.addCleanup(rc.close)
            self.assertReply(rc.resp(), 220)
        replies, still_open, secs = flood(srv.explicit_port, 200,
                                          source="127.0.7.1")
        self.assertEqual(still_open, 0)
        self.assertTrue(all(r.startswith("421 ") for r in replies),
                        replies[:3])
        ftp = ftp_from(srv, "127.0.7.2")
        self.addCleanup(harness.close_ftp, ftp)
        self.assertReply(ftp.sendcmd("NOOP"), 200)
        held[0].close()
        deadline = time.monotonic() + 5
        while True:
            with srv.raw(source="127.0.7.1") as rc:
                code, text = rc.resp()
            if code == 220 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(code, 220, text)

    def test_emfile_no_spin_no_crash_recovers(self):
        srv = self.server({"max_clients": 1000, "max_clients_per_ip": 1000})
        data = os.urandom(1 * MiB)
        with open(srv.path("f.bin"), "wb") as f:
            f.write(data)
        held = ftp_from(srv)
        self.addCleanup(harness.close_ftp, held)
        held.voidcmd("TYPE I")
        pasv = held.makepasv()
        pid = srv.pid()
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        limit = open_fds(pid) + 6
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, hard))
        # More connections than descriptors: accept() fails with EMFILE,
        # on the control port and on a passive data port.
        socks = []
        for _ in range(200):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect((HOST, srv.explicit_port))
            except BlockingIOError:
                pass
            socks.append(s)
        try:
            srv.wait_log(r"accept on .*, pausing: Too many open files$")
            try:
                # Reset once the server gives the passive port up.
                socks.append(socket.create_connection(pasv, 5))
            except ConnectionResetError:
                pass
            srv.wait_log(r"data accept: Too many open files")
            c0 = cpu_seconds(pid)
            time.sleep(3)
            cpu = cpu_seconds(pid) - c0
            self.assertLess(cpu, 0.5, "the loop spins on EMFILE")
            pauses = srv.log_text().count("pausing")
            self.assertLess(pauses, 12, "one line per pause, not a storm")
            self.assertEqual(srv.log_text().count("data accept:"), 1)
            # The logged-in session is still served; a transfer gets a
            # transient error.
            self.assertReply(held.sendcmd("NOOP"), 200)
            r = ftp_reply(held.sendcmd, "RETR f.bin")
            self.assertEqual(reply_code(r), 451, r)
            self.assertIn("Too many open files", r)
        finally:
            for s in socks:
                s.close()
        # The flood leaves: everything works again, same limit.
        deadline = time.monotonic() + 10
        while open_fds(pid) > limit - 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        ftp = ftp_from(srv)
        self.addCleanup(harness.close_ftp, ftp)
        self.assertEqual(retr(ftp, "f.bin"), data)
        self.assertReply(held.sendcmd("NOOP"), 200)
        figure("EMFILE", "200 connections against a %d-descriptor limit: "
               "%.2f s CPU in 3 s, %d pause lines, recovered" %
               (limit, cpu, pauses))
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))



# ---------------------------------------------------------------------------
# Full disks and I/O errors

faultshim = harness.faultshim


def start_with_shim(srv, conf_file):
    """Starts srv with faultshim.so preloaded (into ftpsd only)."""
    asan = srv.env.get("ASAN_OPTIONS")
    srv.env.update({
        "LD_PRELOAD": faultshim(),
        "FAULTSHIM_MATCH": ".ftpsd-upload.",
        "FAULTSHIM_CONF": conf_file,
        # ASan wants to come first; the shim only wraps a few libc calls.
        "ASAN_OPTIONS": ((asan + ":") if asan else "") +
        "verify_asan_link_order=0",
    })
    srv.start()
    # The shim really is in: a server without it would pass vacuously.
    with open("/proc/%d/maps" % srv.pid()) as f:
        if "faultshim.so" not in f.read():
            raise AssertionError("faultshim.so not loaded into ftpsd; "
                                 "log:\n" + srv.log_tail())


def start_slow(users, match, prepare=None, lookup_ms=None):
    """A server of its own where faultshim.so adds 200 ms to the file and
    folder I/O of paths holding match, and lookup_ms (default: 200 too)
    to their lookups (open, stat, mkdir...); prepare(srv) runs before it
    starts."""
    srv = Ftpsd(users=users)
    try:
        if prepare is not None:
            prepare(srv)
        srv.env.update({"FAULTSHIM_SLOW_MATCH": match,
                        "FAULTSHIM_SLOW_MS": "200"})
        if lookup_ms is not None:
            srv.env["FAULTSHIM_SLOW_LOOKUP_MS"] = str(lookup_ms)
        start_with_shim(srv, os.path.join(srv.dir, "no-fault"))
    except BaseException:
        srv.cleanup()
        raise
    return srv


def mount_tmpfs(path, size):
    """Mounts a tmpfs of that size on path: None, or why it cannot."""
    p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=%s,mode=0755" % size, "ftpsd-test", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    if p.returncode != 0:
        return p.stdout.decode("utf-8", "replace").strip() or \
            "mount exit %d" % p.returncode
    return None


def umount(path):
    subprocess.run(["umount", path], timeout=30)


class DiskFaults(ServerCase):

    def check_kept(self, srv, name, sha):
        self.assertEqual(harness.sha256_file(srv.path(name)), sha,
                         "the old file was damaged")
        self.assertEqual(temp_files(srv.home()), [],
                         "temporary upload file left behind")

    def test_disk_full_452_old_file_kept_server_goes_on(self):
        srv = self.server(start=False)
        why = mount_tmpfs(srv.home(), "2m")
        if why is None:
            self.addCleanup(umount, srv.home())
            how = "tmpfs of 2 MiB"
            srv.start()
        else:
            # No mount here (a container without CAP_SYS_ADMIN): the
            # same kernel answer, injected.
            conf = os.path.join(srv.dir, "fault")
            with open(conf, "w") as f:
                f.write("%d %d write\n" % (errno.ENOSPC, 1536 * 1024))
            how = "ENOSPC injected after 1.5 MiB (%s)" % why
            start_with_shim(srv, conf)
        self.addCleanup(srv.stop)
        old = os.urandom(300 * 1024)
        with open(srv.path("keep.bin"), "wb") as f:
            f.write(old)
        sha = harness.sha256(old)
        ftp = ftp_from(srv)
        self.addCleanup(harness.close_ftp, ftp)
        r = upload(ftp, "keep.bin", os.urandom(3 * MiB))
        self.assertEqual(reply_code(r), 452, r)
        self.assertIn("nothing was replaced", r)
        self.check_kept(srv, "keep.bin", sha)
        srv.wait_log(r"stor path=/keep.bin .*result=fail-disk-full")
        # A new file that does not fit either: nothing stays.
        r = upload(ftp, "new.bin", os.urandom(3 * MiB))
        self.assertEqual(reply_code(r), 452, r)
        self.assertFalse(os.path.exists(srv.path("new.bin")))
        self.assertEqual(temp_files(srv.home()), [])
        # The space came back and the server goes on.
        small = os.urandom(200 * 1024)
        self.assertReply(upload(ftp, "small.bin", small), 226)
        self.assertEqual(retr(ftp, "small.bin"), small)
        self.assertEqual(retr(ftp, "keep.bin"), old)
        figure("disk full", "%s: 452, old file intact, no temp file, "
               "server went on" % how)

    def test_quota_and_io_errors(self):
        srv = self.server(start=False)
        conf = os.path.join(srv.dir, "fault")
        open(conf, "w").close()
        start_with_shim(srv, conf)
        self.addCleanup(srv.stop)
        old = os.urandom(100 * 1024)
        with open(srv.path("keep.bin"), "wb") as f:
            f.write(old)
        sha = harness.sha256(old)
        ftp = ftp_from(srv)
        self.addCleanup(harness.close_ftp, ftp)
        cases = [
            (errno.EDQUOT, 65536, "write", 552, "fail-quota"),
            (errno.EIO, 0, "write", 451, "fail"),
            (errno.EIO, 0, "fsync", 451, "fail"),
            (errno.ENOSPC, 0, "fsync", 452, "fail-disk-full"),
            (errno.EDQUOT, 0, "fsync", 552, "fail-quota"),
        ]
        for err, after, where, code, result in cases:
            with open(conf, "w") as f:
                f.write("%d %d %s\n" % (err, after, where))
            what = "%s on %s" % (errno.errorcode[err], where)
            r = upload(ftp, "keep.bin", os.urandom(MiB))
            self.assertEqual(reply_code(r), code, what + ": " + r)
            self.check_kept(srv, "keep.bin", sha)
            srv.wait_log(r"stor path=/keep.bin .*result=%s\b" % result)
        # No fault: the upload replaces the file.
        open(conf, "w").close()
        new = os.urandom(MiB)
        self.assertReply(upload(ftp, "keep.bin", new), 226)
        self.assertEqual(harness.sha256_file(srv.path("keep.bin")),
                         harness.sha256(new))
        self.assertEqual(temp_files(srv.home()), [])


# ---------------------------------------------------------------------------
# kill -9 during uploads

class CrashSafety(ServerCase):
    TARGETS = 10
    MAX_ROUNDS = 20

    def uploader(self, srv, name, versions, state, stop):
        """Uploads new versions of name until the server dies.
        state: {"acked": sha of the last version answered 226,
                "inflight": sha being sent, "sent": uploads started}."""
        try:
            ftp = ftp_from(srv)
        except ftplib.all_errors as e:
            state["error"] = "login: %r" % e
            return
        state["ready"] = True
        try:
            while not stop.is_set():
                data = os.urandom(random.randint(256 * 1024, 2 * MiB))
                sha = harness.sha256(data)
                versions.add(sha)
                state["inflight"] = sha
                state["sent"] += 1
                r = upload(ftp, name, data, chunk=32 * 1024, pause=0.002)
                if reply_code(r) != 226:
                    break
                state["acked"], state["inflight"] = sha, None
        except ftplib.all_errors:
            pass
        finally:
            harness.close_ftp(ftp)

    def test_kill_9_during_100_uploads_leaves_old_or_new(self):
        srv = self.server(start=False)
        rng = random.Random()
        current = {}
        for i in range(self.TARGETS):
            name = "t%02d.bin" % i
            current[name] = harness.write_random(
                srv.path(name), rng.randint(256 * 1024, 2 * MiB))
        interrupted = acked_total = rnd = 0
        old_kept = new_kept = 0
        # Rounds until 100 uploads were cut by kill -9 (about 10).
        while interrupted < 100 and rnd < self.MAX_ROUNDS:
            rnd += 1
            srv.start()
            stop = threading.Event()
            states, threads = {}, []
            for name in current:
                st = {"acked": current[name], "inflight": None, "sent": 0}
                states[name] = st
                t = threading.Thread(target=self.uploader, args=(
                    srv, name, set(), st, stop), daemon=True)
                t.start()
                threads.append(t)
            deadline = time.monotonic() + 20
            while not all(st.get("ready") or st.get("error")
                          for st in states.values()):
                self.assertLess(time.monotonic(), deadline, "no logins")
                time.sleep(0.01)
            for st in states.values():
                self.assertNotIn("error", st, st.get("error"))
            # A random moment inside the uploads: mid-data, in fsync or
            # right at the rename.
            time.sleep(rng.uniform(0.05, 0.6))
            os.kill(srv.pid(), signal.SIGKILL)
            srv.proc.wait(10)
            srv.logf.close()
            srv.proc = None
            stop.set()
            for t in threads:
                t.join(30)
                self.assertFalse(t.is_alive(), "an uploader hangs")
            for name, st in states.items():
                got = harness.sha256_file(srv.path(name))
                allowed = {st["acked"]}
                if st["inflight"] is not None:
                    allowed.add(st["inflight"])
                    interrupted += 1
                self.assertIn(got, allowed, "round %d: %s is neither the "
                              "old nor the new version" % (rnd, name))
                if st["inflight"] is not None:
                    if got == st["inflight"]:
                        new_kept += 1
                    else:
                        old_kept += 1
                acked_total += st["sent"] - (1 if st["inflight"] else 0)
                current[name] = got
        strays = temp_files(srv.home())
        self.assertGreaterEqual(interrupted, 100)
        figure("kill -9 during uploads", "%d rounds, %d/%d interrupted "
               "uploads left the complete old (%d) or new (%d) file, "
               "sha256-checked; %d more uploads completed; %d stray "
               "temporary files" % (rnd, interrupted, interrupted,
                                    old_kept, new_kept, acked_total,
                                    len(strays)))
        # The server starts again over the stray temporary files.
        srv.start()
        self.addCleanup(srv.stop)
        ftp = ftp_from(srv)
        self.addCleanup(harness.close_ftp, ftp)
        for name in current:
            self.assertEqual(harness.sha256(retr(ftp, name)), current[name])


if __name__ == "__main__":
    harness.main()
