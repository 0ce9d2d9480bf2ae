#!/usr/bin/env python3
"""
ftpsdctl and metrics_listen (issue 17), with workers = 1 and workers = 2:
a scrape passes `promtool check metrics`, over HTTP and through
`ftpsdctl metrics`; counters move after a login, a failed login, a
refused foreign data connection, an upload and a download; `who` shows a
throttled download with growing bytes and `kick` ends it with 426 then
421; `ban remove` lets a banned address back in; status and reload (a
broken configuration is one line and exit 1); the socket is root's and
run_as_user's group's, 0660: another user is refused; an unknown command,
an unknown session or a dead daemon is one line and a non-zero exit.
"""

import ftplib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (FOREIGN_HOST, HOST, MiB, Ftpsd,  # noqa: E402
                     data_exchange, free_port, write_random)

BIG = 48 * MiB          # the throttled download never finishes
UPLOAD = 100000


def parse_metrics(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out


def promtool_check(test, text):
    p = subprocess.run([harness.promtool_binary(), "check", "metrics"],
                       input=text,
                       capture_output=True, text=True,
                       timeout=harness.SUBPROC_TIMEOUT)
    test.assertEqual(p.returncode, 0, "promtool check metrics:\n%s%s"
                     % (p.stdout, p.stderr))
    # promtool prints lint problems even when it exits 0: none expected.
    test.assertEqual((p.stdout + p.stderr).strip(), "",
                     "promtool lint output")


class Ctl:
    """The tests; the subclasses pick workers."""
    WORKERS = 1

    @classmethod
    def new_server(cls):
        cls.metrics_port = free_port()
        srv = Ftpsd(conf={
            "workers": cls.WORKERS,
            "metrics_listen": "%s:%d" % (HOST, cls.metrics_port),
            # Bans on; the tests that fail logins do it from FOREIGN_HOST.
            "ban_failures": 2, "ban_window": 600, "ban_seconds": 300,
        })
        # Others may reach the socket's folder; the socket decides.
        os.chmod(srv.dir, 0o711)
        cls.sock = os.path.join(srv.dir, "control")
        return srv

    @classmethod
    def prepare_files(cls, srv):
        with open(srv.path("f.txt"), "wb") as f:
            f.write(b"metrics\n")
        write_random(srv.path("big.bin"), BIG)

    def ftp(self, **kw):
        f = self.srv.ftp(**kw)
        self.addCleanup(harness.close_ftp, f)
        return f

    def ctl(self, *args, sock=None, as_user=None):
        argv = [harness.ftpsdctl_binary(), "-s", sock or self.sock] + list(args)
        if as_user is not None:
            argv = ["setpriv", "--reuid=%s" % as_user[0],
                    "--regid=%s" % as_user[1], "--clear-groups"] + argv
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=harness.SUBPROC_TIMEOUT)

    def ctl_ok(self, *args):
        p = self.ctl(*args)
        self.assertEqual(p.returncode, 0, "ftpsdctl %s: %s" % (
            " ".join(args), p.stderr))
        return p.stdout

    def ctl_fails(self, rc, pattern, *args, **kw):
        p = self.ctl(*args, **kw)
        self.assertEqual(p.returncode, rc, "ftpsdctl %s: rc %d, stdout %r, "
                         "stderr %r" % (" ".join(args), p.returncode,
                                        p.stdout, p.stderr))
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, "one line: %r" % p.stderr)
        self.assertRegex(lines[0], pattern)
        self.assertEqual(p.stdout, "")

    def scrape(self):
        url = "http://%s:%d/metrics" % (HOST, self.metrics_port)
        with urllib.request.urlopen(url, timeout=10) as r:
            self.assertIn("text/plain", r.headers["Content-Type"])
            return r.read().decode()

    def who(self):
        return json.loads(self.ctl_ok("--json", "who"))

    def fail_login(self, user="alice"):
        f = harness.FTP_TLS_Reuse(context=self.srv.client_context(),
                                  timeout=harness.SOCK_TIMEOUT)
        f.connect(HOST, self.srv.explicit_port,
                  source_address=(FOREIGN_HOST, 0))
        try:
            with self.assertRaises(ftplib.error_perm) as cm:
                f.login(user, "wrong-password")
            self.assertTrue(str(cm.exception).startswith("530"))
        finally:
            harness.close_ftp(f)

    # -- tests --------------------------------------------------------------

    def test_counters_and_promtool(self):
        before_text = self.scrape()
        promtool_check(self, before_text)
        before = parse_metrics(before_text)
        for name in ("ftpsd_certificate_expiry_timestamp_seconds",
                     "ftpsd_password_queue_length", "ftpsd_bans_active",
                     "ftpsd_passive_ports_in_use",
                     "ftpsd_worker_restarts_total"):
            self.assertIn("# TYPE %s " % name, before_text)
        expiry = [v for k, v in before.items() if k.startswith(
            "ftpsd_certificate_expiry_timestamp_seconds{")]
        self.assertEqual(len(expiry), 1, before_text)
        self.assertGreater(expiry[0], time.time())

        ftp = self.ftp()
        self.fail_login()
        ctx = self.srv.client_context()
        a, b = self.ftp(ctx=ctx), self.ftp(ctx=ctx)
        r = data_exchange(a, "RETR f.txt", session=b.sock.session)
        self.assertTrue(r["final"].startswith("522"), r)
        ftp.storbinary("STOR up.bin", io.BytesIO(os.urandom(UPLOAD)))
        got = []
        ftp.retrbinary("RETR f.txt", got.append)
        self.assertEqual(b"".join(got), b"metrics\n")

        # A data connection from another address (port theft), a
        # transfer without PROT P, clear text on the implicit port.
        host, port = ftp.makepasv()
        intruder = socket.create_connection(
            (host, port), harness.SOCK_TIMEOUT,
            source_address=(FOREIGN_HOST, 0))
        self.addCleanup(intruder.close)
        self.srv.wait_log(r"data connection from foreign address")
        no_prot = self.ftp(prot_p=False)
        with self.assertRaises(ftplib.error_perm) as cm:
            no_prot.retrbinary("RETR f.txt", got.append)
        self.assertTrue(str(cm.exception).startswith("521"), cm.exception)
        with socket.create_connection((HOST, self.srv.implicit_port),
                                      harness.SOCK_TIMEOUT) as plain:
            plain.sendall(b"USER alice\r\n")
            try:
                while plain.recv(4096):
                    pass
            except ConnectionResetError:
                pass        # the server's alert and close

        after_text = self.scrape()
        promtool_check(self, after_text)
        after = parse_metrics(after_text)

        def moved(key):
            return after[key] - before[key]
        self.assertEqual(moved('ftpsd_logins_total{result="ok",'
                               'method="password"}'), 4)
        self.assertEqual(moved('ftpsd_logins_total{result="fail",'
                               'method="password"}'), 1)
        refused = [moved('ftpsd_data_connections_refused_total{reason='
                         '"%s"}' % why)
                   for why in ("foreign_session", "not_resumed")]
        if self.WORKERS == 1:
            self.assertEqual(refused, [1, 0])
        else:
            # On two workers the ticket may be one this worker's keys
            # cannot open: refused as not resumed.
            self.assertEqual(sum(refused), 1)
        self.assertEqual(moved('ftpsd_data_connections_refused_total{reason='
                               '"wrong_peer"}'), 1)
        self.assertEqual(moved('ftpsd_data_connections_refused_total{reason='
                               '"no_prot_p"}'), 1)
        self.assertEqual(moved('ftpsd_tls_handshake_failures_total{channel='
                               '"control",reason="not_tls"}'), 1)
        self.assertEqual(moved('ftpsd_sessions_total{port="implicit"}'), 1)
        self.assertEqual(moved('ftpsd_transfers_total{direction="upload",'
                               'result="ok"}'), 1)
        self.assertEqual(moved('ftpsd_transfer_bytes_total{direction='
                               '"upload",result="ok"}'), UPLOAD)
        self.assertEqual(moved('ftpsd_transfers_total{direction='
                               '"download",result="ok"}'), 1)
        self.assertEqual(moved('ftpsd_transfer_bytes_total{direction='
                               '"download",result="ok"}'), 8)
        self.assertEqual(moved('ftpsd_transfers_total{direction='
                               '"download",result="fail"}'), 1)
        self.assertEqual(moved('ftpsd_sessions_total{port="explicit"}'), 5)
        self.assertEqual(after['ftpsd_sessions{port="explicit"}'], 4)
        self.assertGreaterEqual(moved('ftpsd_tls_handshakes_total{channel='
                                      '"control",version="TLSv1.3"}'), 4)
        self.assertGreaterEqual(moved('ftpsd_tls_handshakes_total{channel='
                                      '"data",version="TLSv1.3"}'), 3)

        # The same numbers through the control socket.
        via_ctl = self.ctl_ok("metrics")
        promtool_check(self, via_ctl)
        key = 'ftpsd_logins_total{result="fail",method="password"}'
        self.assertEqual(parse_metrics(via_ctl)[key], after[key])

    def test_who_and_kick(self):
        ftp = self.ftp()
        ftp.voidcmd("TYPE I")
        conn = ftp.transfercmd("RETR big.bin")
        stop = threading.Event()
        got = [0]

        def slow_reader():
            # A throttled client: 16 KiB every 10 ms at most.
            try:
                while not stop.is_set():
                    b = conn.recv(16384)
                    if not b:
                        break
                    got[0] += len(b)
                    time.sleep(0.01)
            except OSError:
                pass
        t = threading.Thread(target=slow_reader, daemon=True)
        t.start()
        self.addCleanup(conn.close)
        self.addCleanup(stop.set)

        mine = None
        deadline = time.monotonic() + 10
        while mine is None and time.monotonic() < deadline:
            for s in self.who():
                if s.get("xfer") == "retr" and s.get("path") == "/big.bin":
                    mine = s
            time.sleep(0.1)
        self.assertIsNotNone(mine, "no transfer in who")
        self.assertEqual((mine["user"], mine["addr"], mine["port"],
                          mine["tls"], mine["state"]),
                         ("alice", HOST, "explicit", "TLSv1.3", "transfer"))
        self.assertIn(mine["worker"], range(1, self.WORKERS + 1)
                      if self.WORKERS > 1 else (0,))
        time.sleep(0.8)
        later = [s for s in self.who() if s["id"] == mine["id"]][0]
        print("who: bytes %d -> %d in 0.8 s, rate %s B/s (client read %d)"
              % (mine["bytes"], later["bytes"], later["rate"], got[0]))
        self.assertGreater(later["bytes"], mine["bytes"])
        self.assertGreater(later["rate"], 0)
        table = self.ctl_ok("who")
        self.assertRegex(table, r"(?m)^%d\s+\d+\s+alice\s+%s\s+explicit\s+"
                         r"TLSv1\.3\s+transfer\s+\d+\s+retr /big\.bin "
                         % (mine["id"], re.escape(HOST)))

        out = self.ctl_ok("kick", str(mine["id"]))
        self.assertEqual(out.strip(), "session %d kicked" % mine["id"])
        first = ftp.getline()
        second = ftp.getline()
        self.assertTrue(first.startswith("426 "), first)
        self.assertTrue(second.startswith("421 "), second)
        with self.assertRaises(EOFError):
            ftp.getline()
        stop.set()
        t.join(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if all(s["id"] != mine["id"] for s in self.who()):
                break
            time.sleep(0.05)
        else:
            self.fail("the kicked session is still in who")
        self.srv.wait_log(r"sess=%d .*kicked by ftpsdctl" % mine["id"])
        self.ctl_fails(1, r"^ftpsdctl: kick: no session %d$" % mine["id"],
                       "kick", str(mine["id"]))

    def test_kick_in_every_worker(self):
        # Sessions on every worker (the kernel spreads them), one kicked
        # on each: whichever worker answers ftpsdctl, at least one kick
        # crosses to another worker.
        clients, by_worker = [], {}
        for _ in range(16):
            if len(by_worker) == max(self.WORKERS, 1):
                break
            ftp = self.ftp()
            ftp.voidcmd("NOOP")
            clients.append(ftp)
            mine = [s for s in self.who() if s["user"] == "alice" and
                    s["state"] == "ready" and s["id"] not in
                    [c[1] for c in by_worker.values()]]
            newest = max(mine, key=lambda s: s["id"])
            by_worker.setdefault(newest["worker"], (ftp, newest["id"]))
        self.assertEqual(len(by_worker), max(self.WORKERS, 1), by_worker)
        for worker, (ftp, sid) in sorted(by_worker.items()):
            self.ctl_ok("kick", str(sid))
            line = ftp.getline()
            self.assertTrue(line.startswith("421 "), (worker, line))
            with self.assertRaises(EOFError):
                ftp.getline()
        print("kicked one session on each of workers %s"
              % sorted(by_worker))

    def test_ban_remove(self):
        self.fail_login()
        self.fail_login()
        bans = json.loads(self.ctl_ok("--json", "ban", "list"))
        self.assertEqual([b["addr"] for b in bans], [FOREIGN_HOST], bans)
        self.assertGreater(bans[0]["left"], 200)
        self.assertEqual(parse_metrics(self.scrape())["ftpsd_bans_active"],
                         1)
        with harness.RawControl(HOST, self.srv.explicit_port,
                                source=FOREIGN_HOST) as rc:
            code, text = rc.resp()
            self.assertEqual(code, 421, text)
        self.assertEqual(self.ctl_ok("ban", "remove", FOREIGN_HOST).strip(),
                         "ban of %s lifted" % FOREIGN_HOST)
        f = harness.FTP_TLS_Reuse(context=self.srv.client_context(),
                                  timeout=harness.SOCK_TIMEOUT)
        f.connect(HOST, self.srv.explicit_port,
                  source_address=(FOREIGN_HOST, 0))
        self.addCleanup(harness.close_ftp, f)
        self.assertTrue(f.login("alice", harness.USERS["alice"][0])
                        .startswith("230"))
        self.assertEqual(json.loads(self.ctl_ok("--json", "ban", "list")),
                         [])
        self.ctl_fails(1, r"^ftpsdctl: ban remove: 127\.0\.0\.2 is not "
                       r"banned$", "ban", "remove", FOREIGN_HOST)
        self.ctl_fails(1, r"not a numeric IPv4 or IPv6 address", "ban",
                       "remove", "example.org")

    def test_status_and_reload(self):
        st = json.loads(self.ctl_ok("--json", "status"))
        self.assertEqual(st["status"]["workers"], self.WORKERS)
        self.assertEqual(len(st["processes"]), self.WORKERS)
        self.assertEqual(st["status"]["pid"], self.srv.pid())
        self.assertRegex(self.ctl_ok("reload"), r"^reload ok: certificate ")
        with open(self.srv.conf_file) as f:
            good = f.read()
        self.addCleanup(self.srv.write_config)
        with open(self.srv.conf_file, "a") as f:
            f.write("no_such_key = 1\n")
        self.ctl_fails(1, r"^ftpsdctl: reload failed: .*ftpsd\.conf:\d+: "
                       r"unknown key \"no_such_key\"", "reload")
        st = json.loads(self.ctl_ok("--json", "status"))
        self.assertEqual(st["status"]["reload"], "fail")
        with open(self.srv.conf_file, "w") as f:
            f.write(good)
        self.ctl_ok("reload")
        st = json.loads(self.ctl_ok("--json", "status"))
        self.assertEqual(st["status"]["reload"], "ok")
        m = parse_metrics(self.scrape())
        self.assertGreaterEqual(m['ftpsd_reloads_total{result="fail"}'], 1)
        self.assertGreaterEqual(m['ftpsd_reloads_total{result="ok"}'], 2)
        self.assertIn("last reload: ok", self.ctl_ok("status"))

    def test_errors_and_permissions(self):
        st = os.stat(self.sock)
        self.assertEqual((oct(st.st_mode & 0o7777), st.st_uid, st.st_gid),
                         (oct(0o660), 0, 0))   # run_as_user = root
        self.ctl_fails(1, r"^ftpsdctl: unknown command: bogus ", "bogus")
        self.ctl_fails(1, r"^ftpsdctl: kick: x is not a session id",
                       "kick", "x")
        self.ctl_fails(3, r"ftpsd is not running", "status",
                       sock=os.path.join(self.srv.dir, "nothing-here"))
        self.ctl_fails(3, r"permission denied", "status",
                       as_user=("nobody", "nogroup"))
        # run_as_user's group (root's here) may use it.
        p = self.ctl("status", as_user=("nobody", "root"))
        self.assertEqual(p.returncode, 0, p.stderr)
        # HTTP: GET /metrics and nothing else.
        url = "http://%s:%d/" % (HOST, self.metrics_port)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url + "other", timeout=10)
        self.assertEqual(cm.exception.code, 404)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url + "metrics", data=b"x", timeout=10)
        self.assertEqual(cm.exception.code, 405)


class PrometheusDocs(unittest.TestCase):
    """docs/operations.md's scrape configuration and alert rules."""

    def test_promtool_check_config(self):
        top = os.environ.get("top_srcdir") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..")
        with open(os.path.join(top, "docs", "operations.md")) as f:
            text = f.read()
        sec = text.split("## Monitoring: ftpsdctl and Prometheus", 1)[1]
        sec = sec.split("\n## ", 1)[0]
        blocks = re.findall(r"(?s)```yaml\n(.*?)```", sec)
        self.assertEqual(len(blocks), 2, "scrape config and rules")
        d = tempfile.mkdtemp(prefix="ftpsd-prom-")
        self.addCleanup(shutil.rmtree, d, True)
        for name, block in zip(("prometheus.yml", "ftpsd-rules.yml"),
                               blocks):
            with open(os.path.join(d, name), "w") as f:
                f.write(block)
        promtool = harness.promtool_binary()
        for argv in ([promtool, "check", "rules", "ftpsd-rules.yml"],
                     [promtool, "check", "config", "prometheus.yml"]):
            p = subprocess.run(argv, cwd=d, capture_output=True, text=True,
                               timeout=harness.SUBPROC_TIMEOUT)
            self.assertEqual(p.returncode, 0, harness.describe(p))
            self.assertIn("SUCCESS", p.stdout + p.stderr)
        self.assertRegex(blocks[1], r"ftpsd_certificate_expiry_timestamp")
        self.assertRegex(blocks[1], r"ftpsd_data_connections_refused_total")


class OneProcess(Ctl, harness.ServerTestCase):
    WORKERS = 1

    def test_trickled_request_meets_its_deadline(self):
        # One byte a second never completes a line: the connection gets
        # its error at CTL_READ_MS (5 s) from accept, not hours later.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.connect(self.sock)
        t0 = time.monotonic()
        got = b""
        for ch in b"statu" * 4:
            try:
                s.send(bytes([ch]))
            except (BrokenPipeError, ConnectionResetError):
                break
            s.settimeout(1.0)
            try:
                got += s.recv(4096)
            except socket.timeout:
                continue
            if got:
                break
        took = time.monotonic() - t0
        print("trickled request answered after %.1f s: %r" % (took, got))
        self.assertIn(b"no request within", got)
        self.assertLess(took, 9)
        # ftpsdctl still works meanwhile and after.
        self.ctl_ok("status")


class TwoWorkers(Ctl, harness.ServerTestCase):
    WORKERS = 2

    def test_worker_restart(self):
        before = parse_metrics(self.scrape())["ftpsd_worker_restarts_total"]
        procs = json.loads(self.ctl_ok("--json", "status"))["processes"]
        victim = [p["pid"] for p in procs if p["worker"] == 2][0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            procs = json.loads(self.ctl_ok("--json", "status"))["processes"]
            # A worker being restarted answers with a note, not a pid.
            pids = {p["worker"]: p["pid"] for p in procs if "worker" in p}
            if len(pids) == 2 and pids[2] != victim:
                break
            time.sleep(0.05)
        else:
            self.fail("worker 2 not back in status: %r" % procs)
        after = parse_metrics(self.scrape())["ftpsd_worker_restarts_total"]
        self.assertEqual(after - before, 1)


if __name__ == "__main__":
    unittest.main()
