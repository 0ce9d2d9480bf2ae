#!/usr/bin/env python3
"""certmgr acme against pebble (issue 18): Debian's pebble, a miniature
ACME CA (RFC 8555), with pebble-challtestsrv as its DNS resolver, which
answers every name with 127.0.0.1.  pebble's HTTPS certificate comes from
a small test CA made here (Debian ships no test certificates with it) and
reaches certmgr through --ca-file.  pebble validates HTTP-01 on its
httpPort: certmgr's responder (--http-port) or python's http.server over
a --webroot listen there.  PEBBLE_VA_NOSLEEP=1 validates at once;
PEBBLE_AUTHZREUSE=0 makes every order prove its names again;
PEBBLE_WFE_NONCEREJECT=15 refuses 15% of nonces, so that certmgr's
badNonce retry runs in every scenario.

Cases: register (terms not agreed, an unreachable server, the account
key reused); issue for two names, verified with openssl verify against
pebble's root and intermediate (from its management interface) and
served by ftpsd after SIGHUP; renew --days 365 --reload replaces it, the
new certificate is served while a session opened before keeps working,
and renew without --days leaves it; a failed validation (nothing on the
port) is one clear line and leaves the old certificate, and the same
command then succeeds; webroot mode."""

import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import describe  # noqa: E402

HOST = harness.HOST


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_json(path):
    with open(path) as f:
        return json.load(f)


def openssl(*args):
    p = harness.run(["openssl"] + list(args))
    if p.returncode != 0:
        raise AssertionError(describe(p))
    return p.stdout


class Pebble:
    """pebble + pebble-challtestsrv on free loopback ports, in a temp dir."""

    def __init__(self):
        for prog in ("pebble", "pebble-challtestsrv"):
            harness.need_program(prog)
        self.dir = tempfile.mkdtemp(prefix="ftpsd-acme-")
        self.procs = []
        base = harness.free_port_range(6)
        self.acme_port, self.mgmt_port, self.dns_port, self.ct_port, \
            self.http_port, self.tls_port = range(base, base + 6)

    def path(self, name):
        return os.path.join(self.dir, name)

    def make_tls(self):
        """A test CA and pebble's HTTPS certificate for 127.0.0.1."""
        ca, cakey = self.path("test-ca.pem"), self.path("test-ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=acme test CA", "-keyout", cakey, "-out", ca)
        openssl("req", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-subj",
                "/CN=localhost", "-keyout", self.path("key.pem"), "-out",
                self.path("req.pem"))
        ext = self.path("ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                    "extendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", self.path("req.pem"), "-CA", ca,
                "-CAkey", cakey, "-CAcreateserial", "-days", "2",
                "-extfile", ext, "-out", self.path("cert.pem"))
        self.cafile = ca

    def start(self):
        self.make_tls()
        conf = {"pebble": {
            "listenAddress": "%s:%d" % (HOST, self.acme_port),
            "managementListenAddress": "%s:%d" % (HOST, self.mgmt_port),
            "certificate": self.path("cert.pem"),
            "privateKey": self.path("key.pem"),
            "httpPort": self.http_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
            # 90 days, like Let's Encrypt: renew --days 365 is due, the
            # default 30 days is not.
            "certificateValidityPeriod": 90 * 86400,
        }}
        with open(self.path("pebble.json"), "w") as f:
            json.dump(conf, f)
        self.spawn(["pebble-challtestsrv",
                    "-dns01", "%s:%d" % (HOST, self.dns_port),
                    "-management", "%s:%d" % (HOST, self.ct_port),
                    "-http01", "", "-https01", "", "-tlsalpn01", "",
                    "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""],
                   "challtestsrv.log", {})
        self.spawn(["pebble", "-config", self.path("pebble.json"),
                    "-dnsserver", "%s:%d" % (HOST, self.dns_port)],
                   "pebble.log", {"PEBBLE_VA_NOSLEEP": "1",
                                  "PEBBLE_AUTHZREUSE": "0",
                                  "PEBBLE_WFE_NONCEREJECT": "15"})
        self.ctx = ssl.create_default_context(cafile=self.cafile)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.get(self.url())
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    raise AssertionError("pebble does not answer: %s\n%s" %
                                         (e, self.log()))
                time.sleep(0.2)
        # pebble makes a new root and intermediate at every start.
        with open(self.path("roots.pem"), "w") as f:
            f.write(self.get("https://%s:%d/roots/0" %
                             (HOST, self.mgmt_port)))
        with open(self.path("intermediates.pem"), "w") as f:
            f.write(self.get("https://%s:%d/intermediates/0" %
                             (HOST, self.mgmt_port)))

    def spawn(self, argv, log, env):
        e = dict(os.environ)
        e.update(env)
        with open(self.path(log), "w") as out:
            self.procs.append(subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=e,
                cwd=self.dir))

    def get(self, url):
        with urllib.request.urlopen(url, context=self.ctx, timeout=10) as r:
            return r.read().decode()

    def url(self):
        return "https://%s:%d/dir" % (HOST, self.acme_port)

    def log(self):
        with open(self.path("pebble.log")) as f:
            return f.read()[-4000:]

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Acme(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.cm = harness.certmgr_binary()
        cls.pebble = Pebble()
        try:
            cls.pebble.start()
        except BaseException:
            cls.pebble.stop()
            raise
        cls.t0 = time.monotonic()

    @classmethod
    def tearDownClass(cls):
        cls.pebble.stop()
        print("\ntest_acme: %.1f s against pebble" %
              (time.monotonic() - cls.t0), file=sys.stderr)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ftpsd-acme-certs-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def certmgr(self, *args, ok=True, d=None):
        p = harness.run([self.cm, "-d", d or self.dir] + list(args))
        if ok:
            self.assertEqual(p.returncode, 0, describe(p) + "\npebble:\n" +
                             self.pebble.log())
        return p

    def register(self, d=None):
        return self.certmgr("acme", "register", "--server",
                            self.pebble.url(), "--email", "ops@ftp.test",
                            "--ca-file", self.pebble.cafile, "--agree-tos",
                            d=d)

    def issue(self, name, *domains, port=None, extra=(), ok=True, d=None):
        args = ["acme", "issue", name]
        for dom in domains:
            args += ["--domain", dom]
        args += ["--http-port", str(port or self.pebble.http_port)]
        return self.certmgr(*(args + list(extra)), ok=ok, d=d)

    def assert_one_line_error(self, p, pattern):
        self.assertEqual(p.returncode, 1, describe(p))
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, describe(p))
        self.assertRegex(lines[0], pattern)

    def assert_pebble_cert(self, d, name, domains):
        crt = os.path.join(d, name + ".crt")
        chain = os.path.join(d, name + ".chain")
        p = harness.run(["openssl", "verify", "-CAfile",
                         self.pebble.path("roots.pem"), "-untrusted",
                         self.pebble.path("intermediates.pem"), "-untrusted",
                         chain, crt])
        self.assertEqual(p.returncode, 0, describe(p))
        text = openssl("x509", "-in", crt, "-noout", "-ext",
                       "subjectAltName")
        for dom in domains:
            self.assertIn("DNS:" + dom, text)
        self.assertEqual(os.stat(os.path.join(d, name + ".key")).st_mode &
                         0o777, 0o600)
        rec = load_json(os.path.join(d, "acme", name + ".json"))
        self.assertEqual(rec["domains"], list(domains))
        return openssl("x509", "-in", crt, "-noout", "-serial").strip()

    def assert_no_temp_files(self, d):
        left = glob.glob(os.path.join(d, ".*")) + \
            glob.glob(os.path.join(d, "acme", ".*"))
        self.assertEqual(left, [])

    def test_register(self):
        # Not agreeing to the terms is refused before anything is kept.
        p = self.certmgr("acme", "register", "--server", self.pebble.url(),
                         "--email", "ops@ftp.test", "--ca-file",
                         self.pebble.cafile, ok=False)
        self.assert_one_line_error(p, r"terms of service .*--agree-tos")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "acme",
                                                     "account.key")))
        # A server that does not answer: one line naming it.
        dead = harness.free_port()
        p = self.certmgr("acme", "register", "--server",
                         "https://%s:%d/dir" % (HOST, dead), "--email",
                         "ops@ftp.test", "--agree-tos", ok=False)
        self.assert_one_line_error(p, r"cannot reach the ACME server "
                                   r"https://127\.0\.0\.1:%d/dir" % dead)
        # Plain HTTP only to a test server on this host.
        p = self.certmgr("acme", "register", "--server",
                         "http://ca.example.org/dir", "--email",
                         "ops@ftp.test", "--agree-tos", ok=False)
        self.assert_one_line_error(p, r"starts with https://")
        # Without --ca-file pebble's certificate is not trusted.
        p = self.certmgr("acme", "register", "--server", self.pebble.url(),
                         "--email", "ops@ftp.test", "--agree-tos", ok=False)
        self.assert_one_line_error(p, r"--ca-file")

        p = self.register()
        self.assertRegex(p.stdout, r"registered account https://")
        key = os.path.join(self.dir, "acme", "account.key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        openssl("pkey", "-in", key, "-noout")
        acct = load_json(os.path.join(self.dir, "acme", "account.json"))
        self.assertEqual(acct["server"], self.pebble.url())
        # Again: the same key, the same account.
        before = sha(key)
        p = self.register()
        self.assertIn("account %s already registered" % acct["url"],
                      p.stdout)
        self.assertEqual(sha(key), before)
        self.assert_no_temp_files(self.dir)

    def test_issue_served_renewed_reloaded(self):
        srv = harness.Ftpsd()
        self.addCleanup(srv.cleanup)
        d = srv.certs_dir
        self.register(d=d)
        srv.start()
        # "server" is the harness's self-signed pair: --force replaces it.
        p = self.issue("server", "a.ftp.test", "b.ftp.test", d=d, ok=False)
        self.assert_one_line_error(p, r"already exists.*--force")
        self.issue("server", "a.ftp.test", "b.ftp.test", d=d,
                   extra=["--force"])
        serial = self.assert_pebble_cert(d, "server", ["a.ftp.test",
                                                       "b.ftp.test"])
        self.assertFalse(os.path.exists(os.path.join(d, "server.csr")))
        self.assert_no_temp_files(d)

        start = len(srv.log_text())
        os.kill(srv.pid(), signal.SIGHUP)
        self.wait_reload(srv, start)
        self.assertEqual(self.served_serial(srv), serial)

        # A session opened before the renewal (TLS 1.3 resumption of its
        # data connections included), trusting pebble's root.
        ctx = ssl.create_default_context(
            cafile=self.pebble.path("roots.pem"))
        ctx.check_hostname = False
        ftp = srv.ftp(ctx=ctx)
        self.addCleanup(ftp.close)
        ftp.voidcmd("NOOP")

        # Not due with the default 30 days: nothing changes, no reload.
        pidfile = os.path.join(srv.dir, "ftpsd.pid")
        with open(pidfile, "w") as f:
            f.write("%d\n" % srv.pid())
        start = len(srv.log_text())
        p = self.certmgr("acme", "renew", "--reload", "--pid-file", pidfile,
                         d=d)
        self.assertRegex(p.stdout, r"server: not due \(\d+ days left\)")
        self.assertNotIn("reload", p.stdout)
        self.assertEqual(self.cert_serial(d, "server"), serial)
        time.sleep(0.3)
        self.assertNotIn("reload:", srv.log_text()[start:])

        start = len(srv.log_text())
        p = self.certmgr("acme", "renew", "--days", "365", "--reload",
                         "--pid-file", pidfile, d=d)
        self.assertIn("renewed server", p.stdout)
        self.assertIn("ftpsd reloads", p.stdout)
        new = self.assert_pebble_cert(d, "server", ["a.ftp.test",
                                                    "b.ftp.test"])
        self.assertNotEqual(new, serial)
        self.wait_reload(srv, start)
        self.assertEqual(self.served_serial(srv), new)
        # The old session still works, data connection included.
        ftp.voidcmd("NOOP")
        self.assertEqual(ftp.nlst(), [])
        ftp.quit()
        srv.stop()

    def wait_reload(self, srv, start, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(r"reload: done", srv.log_text()[start:]):
                return
            time.sleep(0.05)
        raise AssertionError("no reload; log:\n" + srv.log_tail())

    def cert_serial(self, d, name):
        return openssl("x509", "-in", os.path.join(d, name + ".crt"),
                       "-noout", "-serial").strip()

    def served_serial(self, srv):
        p = harness.run(["openssl", "s_client", "-connect", "%s:%d" %
                         (HOST, srv.implicit_port), "-servername",
                         "a.ftp.test", "-CAfile",
                         self.pebble.path("roots.pem"),
                         "-verify_return_error"], input="QUIT\r\n")
        self.assertTrue(harness.s_client_ok(p), describe(p))
        self.assertIn("Verify return code: 0 (ok)", p.stdout)
        pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END "
                        r"CERTIFICATE-----", p.stdout, re.S).group(0)
        x = subprocess.run(["openssl", "x509", "-noout", "-serial"],
                           input=pem, capture_output=True, text=True,
                           check=True)
        return x.stdout.strip()

    def test_failed_validation_then_retry(self):
        self.register()
        self.issue("site", "c.ftp.test")
        crt = os.path.join(self.dir, "site.crt")
        before = {f: sha(os.path.join(self.dir, f))
                  for f in ("site.crt", "site.key", "site.chain",
                            "acme/site.json")}
        # Another certmgr acme on the folder (its lock): refused at once.
        fd = os.open(os.path.join(self.dir, "acme"), os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            p = self.issue("site", "c.ftp.test", ok=False)
        finally:
            os.close(fd)
        self.assert_one_line_error(p, r"another certmgr acme is running")
        # Something else holds the port: the responder cannot listen.
        with socket.socket() as busy:
            busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            busy.bind(("", self.pebble.http_port))
            busy.listen(1)
            # A name never validated: pebble may reuse c.ftp.test's
            # authorization, which needs no responder at all.
            p = self.issue("site", "busy.ftp.test", ok=False)
        self.assert_one_line_error(
            p, r"^certmgr: site: the HTTP-01 responder cannot listen on "
            r"port %d: Address already in use" % self.pebble.http_port)
        # Nothing answers on pebble's httpPort: certmgr listens elsewhere.
        p = self.issue("site", "c.ftp.test", "d.ftp.test",
                       port=harness.free_port(), ok=False)
        print("\nfailed validation: " + p.stderr.strip(), file=sys.stderr)
        self.assert_one_line_error(
            p, r"^certmgr: site: validation of [cd]\.ftp\.test failed "
            r"\((connection|unauthorized|incorrectResponse)\): .+")
        after = {f: sha(os.path.join(self.dir, f)) for f in before}
        self.assertEqual(after, before)
        self.assert_no_temp_files(self.dir)
        # The order failed; the same command with the right port works.
        self.issue("site", "c.ftp.test", "D.FTP.test")
        self.assertNotEqual(sha(crt), before["site.crt"])
        self.assert_pebble_cert(self.dir, "site", ["c.ftp.test",
                                                   "d.ftp.test"])

    def test_usage_errors(self):
        p = self.issue("x", "x.ftp.test", ok=False)
        self.assert_one_line_error(p, r"has no ACME account: certmgr acme "
                                   r"register")
        for args, msg in (
                (["--domain", "*.ftp.test"], r"not a DNS name"),
                (["--domain", "a.test", "--domain", "A.test"], r"twice"),
                (["--domain", "a.test", "--http-port", "0"], r"port"),
                (["--domain", "a.test", "--http-port", "80", "--webroot",
                  self.dir], r"one or the other"),
                (["--domain", "a.test", "--webroot", "/nonexistent/www"],
                 r"--webroot /nonexistent/www: No such file")):
            p = self.certmgr("acme", "issue", "x", *args, ok=False)
            self.assertEqual(p.returncode, 2, describe(p))
            self.assertRegex(p.stderr, msg)
        p = self.certmgr("acme", "renew", "--pid-file", "/x", ok=False)
        self.assertEqual(p.returncode, 2, describe(p))
        # Nothing issued yet: renew has nothing to do.
        p = self.certmgr("acme", "renew", "--reload")
        self.assertIn("no ACME certificates", p.stdout)

    def test_webroot(self):
        # As root in a folder of another user (the service's), every file
        # goes to that user, as with the rest of certmgr.
        if os.geteuid() == 0:
            os.chown(self.dir, 65534, 65534)
        self.register()
        root = os.path.join(self.dir, "www")
        os.makedirs(root)
        web = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", HOST,
             "--directory", root, str(self.pebble.http_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(web.wait)
        self.addCleanup(web.terminate)
        self.wait_port()
        # certmgr-acme.service runs with UMask=0077: what the web server
        # reads is still readable.
        p = harness.run(["sh", "-c", 'umask 077 && exec "$@"', "sh",
                         self.cm, "-d", self.dir, "acme", "issue", "web",
                         "--domain", "w.ftp.test", "--webroot", root])
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertIn("issued web", p.stdout)
        self.assert_pebble_cert(self.dir, "web", ["w.ftp.test"])
        rec = load_json(os.path.join(self.dir, "acme", "web.json"))
        self.assertEqual(rec["webroot"], os.path.realpath(root))
        if os.geteuid() == 0:
            for f in ("web.key", "web.crt", "web.chain"):
                self.assertEqual(os.stat(os.path.join(self.dir, f)).st_uid,
                                 65534, f)
            # acme/ holds what root's renewal trusts: it stays root's.
            for f in ("acme", "acme/account.key", "acme/account.json",
                      "acme/web.json"):
                self.assertEqual(os.stat(os.path.join(self.dir, f)).st_uid,
                                 0, f)
            # One the service user could have written is refused.
            os.chown(os.path.join(self.dir, "acme"), 65534, 65534)
            p = self.certmgr("acme", "renew", ok=False)
            self.assert_one_line_error(p, r"acme: owned by uid 65534 .* "
                                       r"must be the running user's")
            os.chown(os.path.join(self.dir, "acme"), 0, 0)
        # The answers are gone again; the folders stay, readable.
        chal = os.path.join(root, ".well-known", "acme-challenge")
        self.assertEqual(os.listdir(chal), [])
        self.assertEqual(os.stat(chal).st_mode & 0o777, 0o755)
        # certmgr renew (the folder CA's) points to certmgr acme renew.
        p = self.certmgr("renew", "web", ok=False)
        self.assert_one_line_error(p, r"web\.crt: issued by .*Pebble.* "
                                   r"through certmgr acme: certmgr acme "
                                   r"renew")
        # The record follows rename and goes with delete: renew neither
        # forgets a renamed certificate nor brings back a deleted one.
        p = self.certmgr("list")
        self.assertRegex(p.stdout, r"(?m)^\*?\s*web\s")
        self.certmgr("rename", "web", "www")
        self.assertTrue(os.path.exists(os.path.join(self.dir, "acme",
                                                    "www.json")))
        p = self.certmgr("acme", "renew")
        self.assertIn("www: not due", p.stdout)
        self.certmgr("delete", "www", "--yes")
        self.assertEqual(sorted(os.listdir(os.path.join(self.dir, "acme"))),
                         ["account.json", "account.key"])
        p = self.certmgr("acme", "renew")
        self.assertNotIn("www", p.stdout)

    def wait_port(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, self.pebble.http_port),
                                         timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("http.server does not listen")


if __name__ == "__main__":
    unittest.main()
