#!/usr/bin/env python3
"""
Operations: sd_notify on a fake $NOTIFY_SOCKET, socket activation through
the real systemd-socket-activate, SIGHUP swapping the certificate while a
200 MiB download goes on, a broken reload keeping the old state, SIGTERM
letting a transfer finish, the switch to run_as_user, and xferlog lines
parsed back field by field.
"""

import ftplib
import hashlib
import io
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
import test_mtls
from harness import (Ftpsd, HOST, MiB, describe, free_port, make_cert,
                     need_program, run, sha256_file, write_random)


# ---------------------------------------------------------------------------
# helpers

class NotifySocket:
    """A fake service manager: an AF_UNIX datagram socket collecting
    sd_notify messages.  abstract=True binds "@name" instead of a path."""

    def __init__(self, abstract=False):
        self.dir = tempfile.mkdtemp(prefix="ftpsd-notify-")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "ftpsd-it-notify-%d-%d" % (os.getpid(), id(self))
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = os.path.join(self.dir, "notify")
            self.sock.bind(self.address)
        self.messages = []

    def env(self):
        e = dict(os.environ)
        e["NOTIFY_SOCKET"] = self.address
        return e

    def wait_for(self, assignment, timeout=10):
        """Waits for a datagram holding the line `assignment`; returns it."""
        deadline = time.monotonic() + timeout
        for m in self.messages:
            if assignment in m.split("\n"):
                self.messages.remove(m)
                return m
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                break
            msg = data.decode()
            if assignment in msg.split("\n"):
                return msg
            self.messages.append(msg)
        raise AssertionError("no %r from ftpsd; got %r"
                             % (assignment, self.messages))

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def fingerprint_of_file(crt):
    with open(crt) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def _insecure_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def fingerprint_implicit(port):
    """sha256 of the certificate a new implicit-FTPS connection sees."""
    with socket.create_connection((HOST, port), harness.SOCK_TIMEOUT) as raw:
        with _insecure_ctx().wrap_socket(raw) as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def fingerprint_explicit(port):
    """The same over AUTH TLS on the explicit port."""
    rc = harness.RawControl(HOST, port)
    try:
        code, text = rc.resp()
        assert code == 220, text
        code, text = rc.cmd("AUTH TLS")
        assert code == 234, text
        rc.starttls(_insecure_ctx())
        return hashlib.sha256(
            rc.sock.getpeercert(binary_form=True)).hexdigest()
    finally:
        rc.close()


def set_conf(srv, **kw):
    """Changes keys of srv's config file in place (None drops one)."""
    srv.extra_conf.update(kw)
    srv.write_config()


def reload(srv, expect="done", timeout=15):
    """SIGHUP, then waits for the reload's outcome in the log."""
    start = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    pat = r"reload: done" if expect == "done" else r"reload: failed"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = srv.log_text()[start:]
        if re.search(pat, text):
            return text
        time.sleep(0.05)
    raise AssertionError("no %r after SIGHUP; log:\n%s"
                         % (pat, srv.log_tail()))


def curl_download(srv, path, out, rate=None, implicit=False):
    """A curl download in the background; returns the Popen."""
    need_program("curl")
    argv = ["curl", "--silent", "--show-error", "--cacert", srv.cafile,
            "--max-time", "120", "-o", out]
    if not implicit:
        argv.append("--ssl-reqd")
    if rate:
        argv += ["--limit-rate", rate]
    argv.append(srv.url(path, implicit=implicit))
    return subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_proc(p, timeout):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("timed out: %s\n%s" % (p.args, err))
    return p.returncode, out.decode(errors="replace"), \
        err.decode(errors="replace")


def proc_status(pid):
    """/proc/PID/status as a dict of its fields."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def started_server(test, conf=None, users=None, env=None):
    srv = Ftpsd(conf=conf, users=users)
    srv.env = env
    test.addCleanup(srv.cleanup)
    srv.start()
    return srv


# ---------------------------------------------------------------------------
# systemd: notifications and socket activation

class Notify(unittest.TestCase):

    def run_cycle(self, abstract):
        ns = NotifySocket(abstract=abstract)
        self.addCleanup(ns.close)
        srv = started_server(self, env=ns.env())
        msg = ns.wait_for("READY=1")
        self.assertIn("STATUS=Ready", msg.split("\n"))
        srv.proc.send_signal(signal.SIGHUP)
        msg = ns.wait_for("RELOADING=1")
        m = re.search(r"^MONOTONIC_USEC=(\d+)$", msg, re.M)
        self.assertTrue(m, msg)
        # CLOCK_MONOTONIC, as systemd compares it.
        now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
        self.assertLess(abs(int(m.group(1)) - now), 30e6, msg)
        ns.wait_for("READY=1")
        srv.wait_log(r"reload: done")
        srv.proc.send_signal(signal.SIGTERM)
        ns.wait_for("STOPPING=1")
        self.assertEqual(srv.proc.wait(harness.STOP_TIMEOUT), 0,
                         srv.log_tail())
        srv.proc = None
        srv.logf.close()
        srv.check_log_clean()

    def test_ready_reloading_stopping_on_a_path_socket(self):
        self.run_cycle(abstract=False)

    def test_ready_on_an_abstract_socket(self):
        self.run_cycle(abstract=True)

    def test_failed_reload_still_says_ready(self):
        ns = NotifySocket()
        self.addCleanup(ns.close)
        srv = started_server(self, env=ns.env())
        ns.wait_for("READY=1")
        with open(srv.conf_file, "a") as f:
            f.write("no_such_key = 1\n")
        srv.proc.send_signal(signal.SIGHUP)
        ns.wait_for("RELOADING=1")
        msg = ns.wait_for("READY=1")
        self.assertRegex(msg, r"STATUS=.*reload failed")
        srv.wait_log(r"reload: failed")
        srv.stop()


class SocketActivation(unittest.TestCase):
    """
    systemd-socket-activate binds the ports, waits for the first client
    and only then starts ftpsd with LISTEN_FDS: the first client's
    connection, made before ftpsd existed, must be served.
    """

    def activate(self, names=True, conf=None):
        prog = need_program("systemd-socket-activate")
        srv = Ftpsd(conf=conf)
        self.addCleanup(srv.cleanup)
        # The ports in the configuration are not the ones served: the
        # passed sockets are (unless unnamed, then matched by port).
        sa_explicit, sa_implicit = free_port(), free_port()
        while sa_implicit == sa_explicit:
            sa_implicit = free_port()
        if names:
            srv.pick_ports()
        else:
            srv.explicit_port, srv.implicit_port = sa_explicit, sa_implicit
        srv.write_config()
        argv = [prog, "-l", "%s:%d" % (HOST, sa_explicit),
                "-l", "%s:%d" % (HOST, sa_implicit)]
        if names:
            argv.append("--fdname=explicit:implicit")
        argv += [srv.binary, "-f", "-c", srv.conf_file]
        srv.logf = open(srv.log_file, "ab")
        srv.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=srv.logf, stderr=srv.logf)
        srv.wait_log(r"Listening on %s:%d" % (re.escape(HOST), sa_implicit))
        # ftpsd does not run yet: this client wakes it up.
        self.assertIsNone(re.search(r"ftpsd info", srv.log_text()))
        srv.explicit_port, srv.implicit_port = sa_explicit, sa_implicit
        return srv

    def check_serves(self, srv):
        with srv.raw() as rc:
            code, text = rc.resp()
            self.assertEqual(code, 220, text)
        srv.wait_log(r"ready\s*$")
        text = srv.log_text()
        self.assertRegex(text, r"socket activation: 2 sockets")
        self.assertRegex(text, r"listening on %s:%d \(explicit\)"
                         % (re.escape(HOST), srv.explicit_port))
        self.assertRegex(text, r"listening on %s:%d \(implicit\)"
                         % (re.escape(HOST), srv.implicit_port))
        with open(srv.path("sa.txt"), "wb") as f:
            f.write(b"activated\n")
        for implicit in (False, True):
            p = srv.curl(*(["--ssl-reqd"] if not implicit else []),
                         srv.url("sa.txt", implicit=implicit))
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertEqual(p.stdout, "activated\n")
        srv.stop()

    def test_named_sockets(self):
        srv = self.activate(names=True)
        self.check_serves(srv)

    def test_unnamed_sockets_matched_by_port(self):
        srv = self.activate(names=False)
        self.check_serves(srv)

    def test_unknown_socket_refused(self):
        prog = need_program("systemd-socket-activate")
        srv = Ftpsd()
        self.addCleanup(srv.cleanup)
        srv.pick_ports()
        srv.write_config()
        port = free_port()
        with open(srv.log_file, "ab") as logf:
            p = subprocess.Popen([prog, "-l", "%s:%d" % (HOST, port),
                                  srv.binary, "-f", "-c", srv.conf_file],
                                 stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=logf)
            try:
                srv.wait_log(r"Listening on")
                socket.create_connection((HOST, port), 5).close()
                rc = p.wait(harness.READY_TIMEOUT)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        self.assertNotEqual(rc, 0)
        self.assertRegex(srv.log_text(),
                         r"passed socket 3 \(unnamed, port %d\): name it "
                         r"explicit or implicit" % port)


# ---------------------------------------------------------------------------
# reload

class Reload(unittest.TestCase):

    def test_certificate_swapped_during_a_200_mib_download(self):
        srv = started_server(self)
        old_fp = fingerprint_of_file(srv.cafile)
        self.assertEqual(fingerprint_implicit(srv.implicit_port), old_fp)
        want = write_random(srv.path("big.bin"), 200 * MiB)
        # A session opened before the reload, used again after it.
        early = srv.ftp()
        self.addCleanup(harness.close_ftp, early)
        out = os.path.join(srv.dir, "big.out")
        dl = curl_download(srv, "big.bin", out, rate="40M")
        deadline = time.monotonic() + 20
        while (not os.path.exists(out) or
               os.path.getsize(out) < 8 * MiB) and \
                time.monotonic() < deadline:
            self.assertIsNone(dl.poll(), "download ended early")
            time.sleep(0.05)

        # certmgr's job, done by hand: a new pair under the same name.
        os.rename(srv.cafile, srv.cafile + ".old")
        os.rename(srv.keyfile, srv.keyfile + ".old")
        make_cert(srv.certs_dir, "server")
        new_fp = fingerprint_of_file(srv.cafile)
        self.assertNotEqual(new_fp, old_fp)
        text = reload(srv)
        self.assertIn("sha256=" + ":".join(
            new_fp[i:i + 2].upper() for i in range(0, 64, 2)), text)
        self.assertIsNone(dl.poll(), "the download must still be running "
                          "after the reload (make it slower)")
        done_at = os.path.getsize(out)

        # New connections see the new certificate, on both ports.
        self.assertEqual(fingerprint_implicit(srv.implicit_port), new_fp)
        self.assertEqual(fingerprint_explicit(srv.explicit_port), new_fp)
        p = srv.curl("--ssl-reqd", srv.url(""))
        self.assertEqual(p.returncode, 0, describe(p))
        # The early session keeps its TLS context: its data connections
        # still resume its own session (a new context would force 522).
        self.assertEqual(hashlib.sha256(early.sock.getpeercert(
            binary_form=True)).hexdigest(), old_fp)
        names = early.nlst()
        self.assertIn("big.bin", names)
        self.assertEqual(early.data_reused[-1], True)

        rc, _, err = wait_proc(dl, 120)
        self.assertEqual(rc, 0, err)
        self.assertLess(done_at, 200 * MiB, "reloaded after the download")
        self.assertEqual(sha256_file(out), want)
        srv.wait_log(r"retr path=/big.bin bytes=%d .*result=ok" % (200 * MiB))
        srv.stop()

    def test_broken_config_or_certificate_keeps_the_old(self):
        srv = started_server(self, conf={"login_timeout": 60})
        old_fp = fingerprint_of_file(srv.cafile)
        with open(srv.conf_file) as f:
            good = f.read()

        # 1. A bad line: the whole reload is refused, naming the line,
        # and the valid line beside it is not applied either.
        with open(srv.conf_file, "a") as f:
            f.write("max_clients_per_ip = 1\nidle_timeout = soon\n")
        text = reload(srv, expect="failed")
        n = good.count("\n") + 2
        self.assertRegex(text, r"reload: %s:%d: idle_timeout: \"soon\" is "
                         r"not a number" % (re.escape(srv.conf_file), n))
        self.assertRegex(text, r"the running configuration and certificate "
                         r"stay in force")
        a, b = srv.ftp(), srv.ftp("bob")
        self.assertIsInstance(b.nlst(), list)
        harness.close_ftp(a)
        harness.close_ftp(b)

        # 2. A key that does not match the certificate: refused too.
        with open(srv.conf_file, "w") as f:
            f.write(good)
        other_crt, other_key = make_cert(os.path.join(srv.dir, "other"), "x")
        shutil.copy(other_key, srv.keyfile)
        text = reload(srv, expect="failed")
        self.assertRegex(text, r"server\.key: the private key does not "
                         r"match the certificate")
        self.assertEqual(fingerprint_implicit(srv.implicit_port), old_fp)

        # 3. A users file that cannot be read: refused.
        shutil.copy(other_crt, srv.cafile)
        os.rename(srv.users_file, srv.users_file + ".away")
        text = reload(srv, expect="failed")
        self.assertRegex(text, re.escape(srv.users_file))
        self.assertEqual(fingerprint_implicit(srv.implicit_port), old_fp)
        os.rename(srv.users_file + ".away", srv.users_file)

        # 4. All fixed: the new certificate and a new setting apply.
        text = reload(srv)
        self.assertEqual(fingerprint_implicit(srv.implicit_port),
                         fingerprint_of_file(other_crt))
        srv.stop()

    def test_new_settings_and_users_apply_to_new_sessions(self):
        srv = started_server(self)
        before = srv.ftp("bob")
        self.addCleanup(harness.close_ftp, before)
        before_pw = srv.users["bob"][0]
        # bob leaves the users file and carol arrives: bob's session
        # goes on, carol can log in, bob no longer.
        srv.users = {"alice": srv.users["alice"],
                     "carol": ("carol-Pw-55aa", "rw")}
        os.makedirs(srv.home("carol"))
        srv.write_users()
        text = reload(srv)
        self.assertRegex(text, r"reload: done: .*2 users, sessions "
                         r"continuing: 1")
        self.assertIsInstance(before.nlst(), list)
        carol = srv.ftp("carol")
        carol.storbinary("STOR c.txt", io.BytesIO(b"carol\n"))
        harness.close_ftp(carol)
        with self.assertRaises(ftplib.error_perm):
            srv.ftp("bob", password=before_pw)
        # A restart-only key: logged, and the port stays.
        old = srv.explicit_port
        set_conf(srv, explicit_port=free_port(), auth_threads=3)
        text = reload(srv)
        self.assertRegex(text, r"explicit_port changed \(%d -> \d+\): only "
                         r"a restart applies it; keeping %d" % (old, old))
        self.assertRegex(text, r"auth_threads changed \(2 -> 3\)")
        srv.explicit_port = old
        harness.close_ftp(srv.ftp("alice"))
        srv.stop()

    def test_relative_override_survives_a_reload(self):
        # -o users_file=users (relative to the start directory) must mean
        # the same file at reload time, whatever the cwd is then.
        srv = Ftpsd(extra_args=["-o", "users_file=users"])
        self.addCleanup(srv.cleanup)
        srv.extra_conf["users_file"] = None
        old = os.getcwd()
        os.chdir(srv.dir)
        try:
            srv.start()
        finally:
            os.chdir(old)
        reload(srv)
        harness.close_ftp(srv.ftp())
        srv.stop()


class ReloadClientCa(unittest.TestCase):
    """
    The reload builds the SSL_CTX with the same function as the start,
    so a new CRL (tls_crl) and CA bundle (tls_client_ca) apply on SIGHUP.
    """

    def fetch(self, srv, name):
        crt, key = srv.pki.pair(name)
        url = "ftp://%s:%d/hello.txt" % (HOST, srv.explicit_port)
        return srv.curl("--ssl-reqd", "--user", name + ":", "--cert", crt,
                        "--key", key, url)

    def test_revocation_applies_on_reload(self):
        srv = test_mtls.make_server({"tls_client_cert": "required",
                                     "tls_client_ca": "certs/ca/ca.crt",
                                     "tls_crl": "certs/ca/crl.pem"})
        self.addCleanup(srv.cleanup)
        shutil.copyfile(srv.path("hello.txt"),
                        os.path.join(srv.home("alice"), "hello.txt.rev"))
        srv.start()
        p = self.fetch(srv, "rev")
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertEqual(p.stdout, test_mtls.HELLO.decode())

        test_mtls.certmgr(srv.certs_dir, "ca", "revoke", "rev", "--reason",
                          "keyCompromise")
        test_mtls.certmgr(srv.certs_dir, "ca", "crl")
        reload(srv)
        p = self.fetch(srv, "rev")
        self.assertNotEqual(p.returncode, 0, describe(p))
        srv.wait_log(r"client certificate refused: certificate revoked "
                     r"\(depth 0: CN=rev\)")
        p = self.fetch(srv, "alice")
        self.assertEqual(p.returncode, 0, describe(p))

        # A CRL that does not parse: the reload is refused, the old CRL
        # stays (rev still refused, alice still served).
        with open(srv.pki.crl, "w") as f:
            f.write("-----BEGIN X509 CRL-----\nbroken\n"
                    "-----END X509 CRL-----\n")
        text = reload(srv, expect="failed")
        self.assertIn("crl.pem", text)
        self.assertNotEqual(self.fetch(srv, "rev").returncode, 0)
        p = self.fetch(srv, "alice")
        self.assertEqual(p.returncode, 0, describe(p))
        srv.stop()


# ---------------------------------------------------------------------------
# shutdown

class Shutdown(unittest.TestCase):

    def test_sigterm_lets_a_transfer_finish(self):
        srv = started_server(self)
        want = write_random(srv.path("mid.bin"), 30 * MiB)
        idle = srv.raw_login()
        self.addCleanup(idle.close)
        out = os.path.join(srv.dir, "mid.out")
        dl = curl_download(srv, "mid.bin", out, rate="10M")
        deadline = time.monotonic() + 20
        while (not os.path.exists(out) or os.path.getsize(out) < MiB) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        # Idle: 421 at once.
        code, text = idle.resp()
        self.assertEqual(code, 421, text)
        self.assertLess(time.monotonic() - t0, 2)
        self.assertTrue(idle.expect_closed())
        srv.wait_log(r"shutting down; 1 transfer may finish within 30 s")
        # No new connections.
        with self.assertRaises(OSError):
            socket.create_connection((HOST, srv.explicit_port), 2).close()
        rc, _, err = wait_proc(dl, 60)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sha256_file(out), want)
        self.assertEqual(srv.proc.wait(harness.STOP_TIMEOUT), 0,
                         srv.log_tail())
        srv.proc = None
        srv.logf.close()
        srv.check_log_clean()
        self.assertRegex(srv.log_text(),
                         r"retr path=/mid.bin bytes=%d .*result=ok"
                         % (30 * MiB))

    def test_shutdown_timeout_ends_a_slow_transfer(self):
        srv = started_server(self, conf={"shutdown_timeout": 1})
        write_random(srv.path("slow.bin"), 30 * MiB)
        out = os.path.join(srv.dir, "slow.out")
        dl = curl_download(srv, "slow.bin", out, rate="1M")
        deadline = time.monotonic() + 20
        while (not os.path.exists(out) or os.path.getsize(out) == 0) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(srv.proc.wait(harness.STOP_TIMEOUT), 0,
                         srv.log_tail())
        took = time.monotonic() - t0
        self.assertLess(took, 1 + harness.STOP_TIMEOUT)
        self.assertGreaterEqual(took, 0.9)
        srv.proc = None
        srv.logf.close()
        srv.check_log_clean()
        rc, _, err = wait_proc(dl, 30)
        self.assertNotEqual(rc, 0, "curl should see the transfer aborted")
        self.assertLess(os.path.getsize(out), 30 * MiB)
        self.assertRegex(srv.log_text(), r"shutdown_timeout \(1 s\) over")

    def test_second_signal_ends_transfers_at_once(self):
        srv = started_server(self)
        write_random(srv.path("slow.bin"), 30 * MiB)
        out = os.path.join(srv.dir, "slow.out")
        dl = curl_download(srv, "slow.bin", out, rate="1M")
        deadline = time.monotonic() + 20
        while (not os.path.exists(out) or os.path.getsize(out) == 0) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        srv.proc.send_signal(signal.SIGTERM)
        srv.wait_log(r"1 transfer may finish within 30 s")
        srv.proc.send_signal(signal.SIGINT)
        self.assertEqual(srv.proc.wait(harness.STOP_TIMEOUT), 0,
                         srv.log_tail())
        srv.proc = None
        srv.logf.close()
        wait_proc(dl, 30)
        self.assertRegex(srv.log_text(), r"again: ending transfers now")


# ---------------------------------------------------------------------------
# privilege drop

@unittest.skipUnless(os.geteuid() == 0, "switching users needs root")
class PrivilegeDrop(unittest.TestCase):

    def make_user(self):
        need_program("useradd")
        name = "ftpsdit%d" % (os.getpid() % 100000)
        p = run(["useradd", "--system", "--user-group", "--no-create-home",
                 "--home-dir", "/nonexistent", "--shell",
                 "/usr/sbin/nologin", name])
        self.assertEqual(p.returncode, 0, describe(p))
        self.addCleanup(run, ["userdel", name])
        pw = pwd.getpwnam(name)
        return name, pw.pw_uid, pw.pw_gid

    def test_sessions_run_as_run_as_user(self):
        name, uid, gid = self.make_user()
        srv = Ftpsd(conf={"run_as_user": name, "allow_root": "off"})
        self.addCleanup(srv.cleanup)
        # The user must reach the homes (docs/operations.md).
        os.chmod(srv.dir, 0o755)
        os.chmod(os.path.join(srv.dir, "home"), 0o755)
        for user in srv.users:
            shutil.chown(srv.home(user), uid, gid)
        srv.start()
        self.assertRegex(srv.log_text(), r"running as %s \(uid %d, gid %d\)"
                         % (name, uid, gid))
        st = proc_status(srv.pid())
        self.assertEqual(st["Uid"].split(), [str(uid)] * 4, st["Uid"])
        self.assertEqual(st["Gid"].split(), [str(gid)] * 4, st["Gid"])
        self.assertEqual(st["Groups"].split(), [str(gid)], st["Groups"])
        for cap in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
            self.assertEqual(int(st[cap], 16), 0, "%s %s" % (cap, st[cap]))
        self.assertEqual(st["NoNewPrivs"], "1")
        # The auth threads too.
        for tid in os.listdir("/proc/%d/task" % srv.pid()):
            with open("/proc/%d/task/%s/status" % (srv.pid(), tid)) as f:
                self.assertRegex(f.read(), r"Uid:\s+%d\s+%d\s+%d\s+%d"
                                 % (uid, uid, uid, uid))

        ftp = srv.ftp()
        ftp.storbinary("STOR mine.txt", io.BytesIO(b"mine\n"))
        harness.close_ftp(ftp)
        self.assertEqual(os.stat(srv.path("mine.txt")).st_uid, uid)

        # A reload reads as that user: root's 0600 key is out of reach...
        text = reload(srv, expect="failed")
        self.assertRegex(text, r"Permission denied")
        self.assertRegex(text, r"must be readable by run_as_user")
        # ...until the certs folder belongs to it.
        for f in [srv.certs_dir] + [os.path.join(srv.certs_dir, n)
                                    for n in os.listdir(srv.certs_dir)]:
            shutil.chown(f, uid, gid)
        reload(srv)
        srv.stop()

    def test_root_refused_unless_allowed(self):
        srv = Ftpsd(conf={"run_as_user": "root", "allow_root": "off"})
        self.addCleanup(srv.cleanup)
        rc, text = srv.start_expect_failure()
        self.assertNotEqual(rc, 0)
        self.assertRegex(text, r"run_as_user: \"root\" is root: sessions "
                         r"would run with every privilege")
        p = srv.check_config()
        self.assertEqual(p.returncode, 2, describe(p))

    def test_unknown_user_refused(self):
        srv = Ftpsd(conf={"run_as_user": "no-such-user-x1"})
        self.addCleanup(srv.cleanup)
        rc, text = srv.start_expect_failure()
        self.assertNotEqual(rc, 0)
        self.assertRegex(text, r"run_as_user: no user \"no-such-user-x1\"")


# ---------------------------------------------------------------------------
# xferlog

XFERLOG_RE = re.compile(
    r"^(?P<time>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}) "
    r"(?P<secs>\d+) (?P<host>\S+) (?P<size>\d+) (?P<file>\S+) "
    r"(?P<type>[ab]) (?P<flag>_) (?P<dir>[oi]) (?P<mode>[ar]) "
    r"(?P<user>\S+) (?P<service>ftp) (?P<auth>0) (?P<authid>\*) "
    r"(?P<status>[ci])$")


def read_xferlog(path):
    with open(path) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        fields = line.split()
        assert len(fields) == 18, "not 18 fields: %r" % line
        m = XFERLOG_RE.match(line)
        assert m, "not an xferlog line: %r" % line
        out.append(m.groupdict())
    return out


class Xferlog(unittest.TestCase):

    def test_lines_parse_back_field_by_field(self):
        srv = Ftpsd(conf={"xferlog_file": None, "anonymous": "on"})
        self.addCleanup(srv.cleanup)
        xlog = os.path.join(srv.dir, "xferlog")
        srv.extra_conf["xferlog_file"] = xlog
        srv.extra_conf["anonymous_root"] = srv.home("bob")
        srv.start()
        with open(srv.path("get me.bin"), "wb") as f:
            f.write(b"x" * 100000)
        with open(srv.path("bad\\name"), "wb") as f:
            f.write(b"b\n")
        with open(os.path.join(srv.home("bob"), "pub.txt"), "wb") as f:
            f.write(b"public\n")
        write_random(srv.path("big.bin"), 20 * MiB)
        t0 = time.time()

        ftp = srv.ftp()
        buf = io.BytesIO()
        ftp.retrbinary("RETR get me.bin", buf.write)
        ftp.storlines("STOR up.txt", io.BytesIO(b"one\r\ntwo\r\n"))
        ftp.retrbinary("RETR bad\\name", io.BytesIO().write)
        ftp.nlst()      # listings are not logged
        # An aborted download: read a little, then ABOR.
        conn = ftp.transfercmd("RETR big.bin")
        conn.recv(65536)
        conn.close()
        harness.ftp_reply(ftp.abort)
        harness.close_ftp(ftp)
        anon = srv.ftp("alice", login=False)
        anon.login("anonymous", "someone@example.org")
        anon.prot_p()
        anon.retrbinary("RETR pub.txt", io.BytesIO().write)
        harness.close_ftp(anon)

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            recs = read_xferlog(xlog) if os.path.exists(xlog) else []
            if len(recs) >= 5:
                break
            time.sleep(0.1)
        self.assertEqual(len(recs), 5, recs)
        got, up, bad, abort, pub = recs
        for r in recs:
            when = time.mktime(time.strptime(r["time"],
                                             "%a %b %d %H:%M:%S %Y"))
            self.assertLessEqual(abs(when - t0), 60, r)
            self.assertGreaterEqual(int(r["secs"]), 1)
            self.assertEqual(r["host"], "127.0.0.1")
            self.assertEqual(r["service"], "ftp")
        self.assertEqual(
            (got["file"], got["size"], got["type"], got["dir"], got["mode"],
             got["user"], got["status"]),
            ("/get_me.bin", "100000", "b", "o", "r", "alice", "c"))
        # storlines sends TYPE A: CRLF arrives, LF is stored.
        self.assertEqual(
            (up["file"], up["size"], up["type"], up["dir"], up["status"]),
            ("/up.txt", "10", "a", "i", "c"))
        self.assertEqual(bad["file"], "/bad\\x5cname")
        self.assertEqual((abort["file"], abort["dir"], abort["status"]),
                         ("/big.bin", "o", "i"))
        self.assertLess(int(abort["size"]), 20 * MiB)
        # The anonymous password never appears.
        self.assertEqual((pub["file"], pub["mode"], pub["user"]),
                         ("/pub.txt", "a", "anonymous"))
        with open(xlog) as f:
            self.assertNotIn("someone@example.org", f.read())
        self.assertNotIn("someone@example.org", srv.log_text())

        # logrotate: move the file, reload, the next line goes to a new one.
        os.rename(xlog, xlog + ".1")
        reload(srv)
        ftp = srv.ftp()
        ftp.retrbinary("RETR get me.bin", io.BytesIO().write)
        harness.close_ftp(ftp)
        deadline = time.monotonic() + 10
        while not os.path.exists(xlog) or not read_xferlog(xlog):
            self.assertLess(time.monotonic(), deadline, srv.log_tail())
            time.sleep(0.1)
        self.assertEqual(len(read_xferlog(xlog)), 1)
        self.assertEqual(len(read_xferlog(xlog + ".1")), 5)
        self.assertEqual(os.stat(xlog).st_mode & 0o777, 0o640)
        srv.stop()

    def test_unwritable_xferlog_refuses_to_start(self):
        srv = Ftpsd(conf={"xferlog_file": "/nonexistent-dir/xferlog"})
        self.addCleanup(srv.cleanup)
        rc, text = srv.start_expect_failure()
        self.assertNotEqual(rc, 0)
        self.assertRegex(text, r"xferlog_file: /nonexistent-dir/xferlog: "
                         r"No such file or directory")


if __name__ == "__main__":
    harness.main()
