#!/usr/bin/env python3
"""
Worker processes (workers = 2): sessions spread over both workers (by the
log lines that name the worker, and by which process owns each socket in
/proc); parallel PASV/EPSV transfers with correct bytes and passive ports
held by the worker of their control connection, a passive port another
worker holds skipped, both workers appending whole xferlog lines; max_clients,
max_clients_per_ip and bans holding across workers; SIGHUP reaching every
worker; SIGTERM letting a transfer finish and stopping everything;
kill -9 of a worker: respawned, its counts released, service goes on;
sd_notify from the master only; socket activation sharing the passed
sockets; a crash-looping worker given up; ftpsd -t on the workers key.
"""

import ftplib
import io
import os
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_ops  # noqa: E402
from harness import (Ftpsd, HOST, MiB, describe, ftp_reply,  # noqa: E402
                     sha256, sha256_file, write_random)

W2 = {"workers": 2}


# ---------------------------------------------------------------------------
# helpers: processes and sockets in /proc

def children(pid):
    """Pids of the direct children of pid."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return sorted(int(p) for p in f.read().split())
    except FileNotFoundError:
        return []


def wait_children(pid, n, timeout=10, exclude=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = [p for p in children(pid) if p not in exclude]
        if len(kids) == n:
            return kids
        time.sleep(0.05)
    raise AssertionError("master %d: children %r, wanted %d"
                         % (pid, children(pid), n))


def tcp_sockets():
    """[(local_port, remote_port, state, inode)] of every IPv4/6 TCP socket."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            next(f)
            for line in f:
                p = line.split()
                lport = int(p[1].rsplit(":", 1)[1], 16)
                rport = int(p[2].rsplit(":", 1)[1], 16)
                out.append((lport, rport, p[3], int(p[9])))
    return out


def owner(inode, pids):
    """The pid among pids holding socket inode, or None."""
    want = "socket:[%d]" % inode
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == want:
                        return pid
                except OSError:
                    pass
        except OSError:
            pass
    return None


def control_owner(srv, client_sock, pids):
    """The worker serving the control connection of client_sock."""
    cport = client_sock.getsockname()[1]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for lport, rport, state, inode in tcp_sockets():
            if lport == srv.explicit_port and rport == cport and inode:
                pid = owner(inode, pids)
                if pid is not None:
                    return pid
        time.sleep(0.05)
    raise AssertionError("no worker holds the connection from port %d"
                         % cport)


def listener_owner(port, pids):
    for lport, rport, state, inode in tcp_sockets():
        if lport == port and state == "0A" and inode:
            return owner(inode, pids)
    return None


def start(test, conf, env=None):
    c = dict(W2)
    c.update(conf or {})
    srv = Ftpsd(conf=c, env=env)
    test.addCleanup(srv.cleanup)
    srv.start()
    srv.wait_log(r"ftpsd info: ready: 2 workers")
    return srv


def worker_of_log(srv, n):
    return set(re.findall(r"ftpsd/w(\d) info: sess=\d+ .*%s" % n,
                          srv.log_text()))


def try_connect(srv, source=None):
    """Connects and reads the greeting: (RawControl, code)."""
    rc = srv.raw(source=source)
    code, text = rc.resp()
    return rc, code


# ---------------------------------------------------------------------------

class Config(unittest.TestCase):

    def test_t_accepts_auto_refuses_0_and_words(self):
        srv = Ftpsd()
        self.addCleanup(srv.cleanup)
        for good in ("auto", "1", "2", "64"):
            srv.extra_conf["workers"] = good
            p = srv.check_config()
            self.assertEqual(p.returncode, 0, describe(p))
        for bad in ("0", "many", "65", "-1", "2x"):
            srv.extra_conf["workers"] = bad
            p = srv.check_config()
            self.assertEqual(p.returncode, 2, describe(p))
            self.assertRegex(p.stderr, r"%s:\d+: workers: \"%s\" is not "
                             r"\"auto\" or a number from 1 to 64"
                             % (re.escape(srv.conf_file), re.escape(bad)))


class Spread(unittest.TestCase):

    def test_sessions_spread_and_parallel_passive_transfers(self):
        xlog = os.path.join("/tmp", "ftpsd-it-xferlog-%d" % os.getpid())
        self.addCleanup(lambda: os.path.exists(xlog) and os.unlink(xlog))
        srv = start(self, {"max_clients_per_ip": 200, "xferlog_file": xlog})
        kids = wait_children(srv.pid(), 2)
        # Each worker listens on its own socket of the same port.
        owners = set()
        for lport, rport, state, inode in tcp_sockets():
            if lport == srv.explicit_port and state == "0A":
                owners.add(owner(inode, kids))
        self.assertEqual(owners, set(kids))
        data = {}
        for i in range(24):
            data[i] = os.urandom(96 * 1024 + i)
        errors, seen = [], {}

        def one(i):
            try:
                ftp = srv.ftp()
                try:
                    seen[i] = control_owner(srv, ftp.sock, kids)
                    if i % 2:
                        ftp.af = socket.AF_INET6   # ftplib: EPSV then
                    name = "f%d.bin" % i
                    ftp.storbinary("STOR " + name, io.BytesIO(data[i]))
                    got = []
                    ftp.retrbinary("RETR " + name, got.append)
                    if b"".join(got) != data[i]:
                        errors.append("%d: bytes differ" % i)
                    ftp.quit()
                finally:
                    ftp.close()
            except Exception as e:     # noqa: BLE001 - reported below
                errors.append("%d: %r" % (i, e))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [], srv.log_tail())
        for i in range(24):
            self.assertEqual(sha256_file(srv.path("f%d.bin" % i)),
                             sha256(data[i]))
        # Both workers served sessions: by /proc and by the log.
        self.assertEqual(set(seen.values()), set(kids), seen)
        self.assertEqual(worker_of_log(srv, "connect port=explicit"),
                         {"1", "2"})
        self.assertEqual(len(re.findall(r"retr path=/f\d+\.bin .*result=ok",
                                        srv.log_text())), 24)
        srv.stop()
        # Both workers appended to one transfer log, one write() per line
        # on O_APPEND: 48 whole lines, none torn or interleaved.
        recs = test_ops.read_xferlog(xlog)
        self.assertEqual(len(recs), 48)
        self.assertEqual(sorted((r["file"], r["dir"]) for r in recs),
                         sorted([("/f%d.bin" % i, d) for i in range(24)
                                 for d in "io"]))

    def test_passive_port_stays_in_the_worker(self):
        srv = start(self, {"max_clients_per_ip": 200})
        kids = wait_children(srv.pid(), 2)
        byworker = {}
        for _ in range(40):
            ftp = srv.ftp()
            self.addCleanup(harness.close_ftp, ftp)
            pid = control_owner(srv, ftp.sock, kids)
            for cmd in ("PASV", "EPSV"):
                reply = ftp.sendcmd(cmd)
                if cmd == "PASV":
                    port = ftplib.parse227(reply)[1]
                else:
                    port = ftplib.parse229(reply, ftp.sock.getpeername())[1]
                self.assertEqual(listener_owner(port, kids), pid,
                                 "%s port %d not in the worker %d of its "
                                 "session" % (cmd, port, pid))
            byworker.setdefault(pid, 0)
            byworker[pid] += 1
            if len(byworker) == 2 and min(byworker.values()) >= 3:
                break
        self.assertEqual(set(byworker), set(kids), byworker)
        srv.stop()


    def test_passive_port_taken_by_the_other_worker_is_skipped(self):
        lo = harness.free_port_range(2)
        srv = start(self, {"max_clients_per_ip": 200,
                           "pasv_min_port": lo, "pasv_max_port": lo + 1})
        kids = wait_children(srv.pid(), 2)
        one = {}
        for _ in range(60):
            ftp = srv.ftp()
            self.addCleanup(harness.close_ftp, ftp)
            one.setdefault(control_owner(srv, ftp.sock, kids), ftp)
            if len(one) == 2:
                break
        self.assertEqual(set(one), set(kids))
        a, b = (one[p] for p in kids)
        pa = ftplib.parse227(a.sendcmd("PASV"))[1]
        # The other worker's bind of pa fails (EADDRINUSE): it moves on.
        pb = ftplib.parse227(b.sendcmd("PASV"))[1]
        self.assertEqual({pa, pb}, {lo, lo + 1})
        self.assertEqual(listener_owner(pa, kids), kids[0])
        self.assertEqual(listener_owner(pb, kids), kids[1])
        # Both ports held, one per worker: a third session gets 425.
        c = srv.ftp()
        self.addCleanup(harness.close_ftp, c)
        self.assertReply(ftp_reply(c.sendcmd, "PASV"), 425)
        srv.stop()

    def assertReply(self, reply, codes, msg=None):
        return harness.ServerTestCase.assertReply(self, reply, codes, msg)


class SharedLimits(unittest.TestCase):

    def test_max_clients_per_ip_across_workers(self):
        srv = start(self, {"max_clients_per_ip": 4, "max_clients": 50})
        codes, held = [], []
        for _ in range(16):
            rc, code = try_connect(srv)
            self.addCleanup(rc.close)
            codes.append(code)
            if code == 220:
                held.append(rc)
        # Per worker it would be up to 4 each: the count is shared.
        self.assertEqual(codes.count(220), 4, codes)
        self.assertEqual(codes.count(421), 12, codes)
        # As below: more refusals until both workers have made one.
        refused = (r"ftpsd/w(\d) warning: refused connection "
                   r".*max_clients_per_ip")
        for i in range(48):
            if set(re.findall(refused, srv.log_text())) == {"1", "2"}:
                break
            rc, code = try_connect(srv)
            self.addCleanup(rc.close)
            self.assertEqual(code, 421)
        self.assertEqual(set(re.findall(refused, srv.log_text())),
                         {"1", "2"})
        # A slot freed in either worker is free for both.
        held[0].cmd("QUIT")
        held[0].close()
        deadline = time.monotonic() + 5
        while True:
            rc, code = try_connect(srv)
            self.addCleanup(rc.close)
            if code == 220 or time.monotonic() > deadline:
                break
            rc.close()
            time.sleep(0.1)
        self.assertEqual(code, 220)
        srv.stop()

    def test_max_clients_across_workers(self):
        srv = start(self, {"max_clients": 5, "max_clients_per_ip": 50})
        codes = []
        for i in range(16):
            rc, code = try_connect(
                srv, source=harness.FOREIGN_HOST if i % 2 else None)
            self.addCleanup(rc.close)
            codes.append(code)
        self.assertEqual(codes.count(220), 5, codes)
        # Both workers refuse once the shared count is full.  The kernel
        # spreads connections by a hash of their ports, so 11 refusals
        # can all land on one worker (seen once in CI): more (each
        # refused too) until the other has refused one as well.
        refused = r"ftpsd/w(\d) warning: refused connection .*max_clients$"
        for i in range(48):
            if set(re.findall(refused, srv.log_text(), re.M)) == {"1", "2"}:
                break
            rc, code = try_connect(srv)
            self.addCleanup(rc.close)
            self.assertEqual(code, 421)
        self.assertEqual(set(re.findall(refused, srv.log_text(), re.M)),
                         {"1", "2"})
        srv.stop()

    def test_ban_made_in_one_worker_refuses_at_the_other(self):
        srv = start(self, {"max_login_failures": 2, "ban_failures": 4,
                           "ban_window": 60, "ban_seconds": 60})
        bad, other = "127.0.3.1", "127.0.3.2"
        # Four failures over two connections (likely two workers).
        for n in range(2):
            ftp = harness.FTP_TLS_Reuse(context=srv.client_context(),
                                        timeout=harness.SOCK_TIMEOUT)
            self.addCleanup(harness.close_ftp, ftp)
            ftp.connect(HOST, srv.explicit_port,
                        source_address=(bad, 0))
            ftp.auth()
            for i in range(2):
                ftp.sendcmd("USER alice")
                with self.assertRaises(ftplib.error_perm):
                    ftp.sendcmd("PASS wrong")
        srv.wait_log(r"ip=127\.0\.3\.1 address banned for 60 seconds")
        for _ in range(16):
            rc, code = try_connect(srv, source=bad)
            rc.close()
            self.assertEqual(code, 421)
        refusers = set(re.findall(r"ftpsd/w(\d) warning: refused connection "
                                  r".*127\.0\.3\.1 banned for",
                                  srv.log_text()))
        self.assertEqual(refusers, {"1", "2"})
        ok = srv.ftp()
        self.addCleanup(harness.close_ftp, ok)
        rc, code = try_connect(srv, source=other)
        rc.close()
        self.assertEqual(code, 220)
        srv.stop()


class Activation(unittest.TestCase):

    def test_socket_activation_shared_by_workers(self):
        srv = test_ops.SocketActivation.activate(self, names=True, conf=W2)
        with srv.raw() as rc:
            code, text = rc.resp()
            self.assertEqual(code, 220, text)
        srv.wait_log(r"ftpsd info: ready: 2 workers")
        text = srv.log_text()
        self.assertRegex(text, r"starting 2 workers on the passed sockets")
        for w in ("1", "2"):
            self.assertRegex(text, r"ftpsd/w%s info: listening on %s:%d "
                             r"\(explicit\)" % (w, re.escape(HOST),
                                                 srv.explicit_port))
        # One socket per port, held by both workers (no SO_REUSEPORT).
        inodes = [inode for lport, rport, state, inode in tcp_sockets()
                  if lport == srv.explicit_port and state == "0A"]
        self.assertEqual(len(inodes), 1)
        kids = wait_children(srv.pid(), 2)
        for pid in kids:
            self.assertEqual(owner(inodes[0], [pid]), pid)
        codes = []
        held = []
        for _ in range(24):
            rc, code = try_connect(srv)
            held.append(rc)
            codes.append(code)
        self.assertEqual(codes, [220] * 24)
        for rc in held:
            rc.close()
        # Whichever worker is woken first accepts: both do, soon.
        for _ in range(200):
            if worker_of_log(srv, "connect port=explicit") == {"1", "2"}:
                break
            rc, code = try_connect(srv)
            rc.close()
            self.assertEqual(code, 220)
        self.assertEqual(worker_of_log(srv, "connect port=explicit"),
                         {"1", "2"})
        srv.stop()


class Signals(unittest.TestCase):

    def test_sighup_reaches_every_worker_and_notify(self):
        ns = test_ops.NotifySocket()
        self.addCleanup(ns.close)
        srv = start(self, {"workers": 2}, env={"NOTIFY_SOCKET": ns.address})
        m = ns.wait_for("READY=1")
        self.assertIn("STATUS=Ready: 2 workers", m)
        srv.proc.send_signal(signal.SIGHUP)
        for w in ("1", "2"):
            srv.wait_log(r"ftpsd/w%s info: reload: done" % w)
        srv.wait_log(r"ftpsd info: reload: done")
        ns.wait_for("RELOADING=1")
        # After the reload's READY=1 the status names the workers again.
        ns.wait_for("STATUS=Ready: 2 workers")
        # A reload cannot change the number of workers.
        srv.extra_conf["workers"] = 3
        srv.write_config()
        srv.proc.send_signal(signal.SIGHUP)
        srv.wait_log(r"ftpsd warning: reload: workers changed \(2 -> 3\): "
                     r"only a restart applies it; keeping 2")
        self.assertEqual(len(children(srv.pid())), 2)
        ftp = srv.ftp()
        ftp.quit()
        srv.stop()
        ns.wait_for("STOPPING=1")

    def test_sigterm_lets_a_transfer_finish(self):
        srv = start(self, {})
        kids = wait_children(srv.pid(), 2)
        want = write_random(srv.path("mid.bin"), 30 * MiB)
        out = os.path.join(srv.dir, "mid.out")
        dl = test_ops.curl_download(srv, "mid.bin", out, rate="10M")
        deadline = time.monotonic() + 20
        while (not os.path.exists(out) or os.path.getsize(out) < MiB) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        srv.proc.send_signal(signal.SIGTERM)
        srv.wait_log(r"ftpsd info: signal 15: stopping 2 workers")
        srv.wait_log(r"shutting down; 1 transfer may finish within 30 s")
        rc, _, err = test_ops.wait_proc(dl, 60)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sha256_file(out), want)
        self.assertEqual(srv.proc.wait(harness.STOP_TIMEOUT), 0,
                         srv.log_tail())
        srv.proc = None
        srv.logf.close()
        srv.check_log_clean()
        for pid in kids:
            self.assertFalse(os.path.exists("/proc/%d" % pid))
        self.assertRegex(srv.log_text(), r"retr path=/mid.bin bytes=%d "
                         r".*result=ok" % (30 * MiB))
        self.assertRegex(srv.log_text(), r"ftpsd info: stopped")

    def test_kill_9_worker_respawned_counts_released(self):
        srv = start(self, {"max_clients_per_ip": 4})
        kids = wait_children(srv.pid(), 2)
        held = []
        for _ in range(4):
            rc, code = try_connect(srv)
            self.addCleanup(rc.close)
            self.assertEqual(code, 220)
            held.append(rc)
        byworker = {}
        for rc in held:
            byworker.setdefault(control_owner(srv, rc.sock, kids), []) \
                .append(rc)
        victim = max(byworker, key=lambda p: len(byworker[p]))
        lost = len(byworker[victim])
        os.kill(victim, signal.SIGKILL)
        srv.wait_log(r"worker \d \(pid %d\) was killed by signal 9 "
                     r"\(Killed\) unexpectedly \(%d sessions? released\)"
                     % (victim, lost))
        srv.wait_log(r"ftpsd info: worker \d \(pid \d+\) ready")
        new = wait_children(srv.pid(), 2)
        self.assertNotIn(victim, new)
        # The dead worker's sessions no longer count: exactly `lost`
        # connections fit under max_clients_per_ip again.
        codes = []
        for _ in range(lost + 3):
            rc, code = try_connect(srv)
            self.addCleanup(rc.close)
            codes.append(code)
            held.append(rc)
        self.assertEqual(codes.count(220), lost, codes)
        for rc in held:
            rc.close()
        for _ in range(6):
            ftp = None
            deadline = time.monotonic() + 5
            while ftp is None:
                try:
                    ftp = srv.ftp()
                except ftplib.error_temp:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            ftp.retrlines("LIST", lambda line: None)
            ftp.quit()
        srv.stop()

    def test_worker_failing_at_start_is_given_up(self):
        # A worker that keeps dying right after its start (killed here as
        # soon as it appears) is not forked forever: after WK_FAILS_MAX
        # failed starts the master gives its slot up, closes its sockets
        # and serves with the other worker.
        srv = start(self, {})
        first = wait_children(srv.pid(), 2)
        victim_slot = None
        killed = set()
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            m = re.search(r"worker (\d) \(pid \d+\) .* not started again",
                          srv.log_text())
            if m:
                victim_slot = m.group(1)
                break
            kids = children(srv.pid())
            for pid in kids:
                if pid not in first and pid not in killed:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
            if not killed:
                os.kill(first[0], signal.SIGKILL)
                killed.add(first[0])
            time.sleep(0.01)
        self.assertIsNotNone(victim_slot, srv.log_tail())
        self.assertGreaterEqual(len(killed), 5)
        self.assertEqual(len(children(srv.pid())), 1)
        ftp = srv.ftp()
        ftp.retrlines("LIST", lambda line: None)
        ftp.quit()
        srv.stop()


if __name__ == "__main__":
    harness.main()
