#!/usr/bin/env python3
"""
Virtual hosts (docs/vhosts.md): [host NAME] sections picked by TLS SNI on
both ports and by HOST (RFC 7151); each host's certificate, users file
and client CAs; reload adding a host; `ftpsd -t` errors as FILE:LINE.

Names reach 127.0.0.1 without DNS: openssl s_client -servername, curl
--connect-to, Python's server_hostname, and lftp through "localhost"
(itself a [host] section here).
"""
import ftplib
import json
import os
import re
import signal
import socket
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HOST, Ftpsd, RawControl, describe, run  # noqa: E402

ANN = ("ann", "ann-Pw-41d2")      # users of host A (and of localhost)
BOB = ("bob", "bob-Pw-93c7")      # users of host B


def certmgr(*args):
    p = run([harness.certmgr_binary()] + list(args))
    if p.returncode != 0:
        raise AssertionError("certmgr failed\n" + describe(p))
    return p


def named_cert(certs_dir, name, cn, sans):
    """EC P-256 self-signed NAME.crt/.key for cn with DNS sans."""
    crt = os.path.join(certs_dir, name + ".crt")
    key = os.path.join(certs_dir, name + ".key")
    p = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
             crt, "-subj", "/CN=" + cn, "-addext", "subjectAltName=" +
             ",".join("DNS:" + s for s in sans), "-days", "30"])
    if p.returncode != 0:
        raise AssertionError("openssl req failed\n" + describe(p))
    os.chmod(key, 0o600)
    return crt


def users_file(srv, path, user):
    """A users file with one account whose home is DIR/home/USER."""
    name, pw = user
    os.makedirs(srv.home(name), exist_ok=True)
    with open(path, "w") as f:
        f.write("%s:%s:%s:rw\n" % (name, harness.hash_password(pw),
                                   srv.home(name)))


class VhostFtpsd(Ftpsd):
    """An Ftpsd whose configuration ends with [host] sections."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.sections = ""

    def write_config(self, path=None):
        path = super().write_config(path)
        with open(path, "a") as f:
            f.write(self.sections)
        return path


def make_server(extra_sections=""):
    """Default host + A (alias) + B + localhost, all on one daemon."""
    srv = VhostFtpsd()
    named_cert(srv.certs_dir, "a", "ftp.a.test", ["ftp.a.test", "a.test"])
    named_cert(srv.certs_dir, "b", "ftp.b.test", ["ftp.b.test"])
    named_cert(srv.certs_dir, "m", "ftp.m.test", ["ftp.m.test"])
    # ann's client certificate, trusted by host M only.
    srv.clients = os.path.join(srv.dir, "clients")
    certmgr("-q", "-d", srv.clients, "create", "ann", "--cn", ANN[0],
            "--client")
    users_file(srv, os.path.join(srv.dir, "users-a"), ANN)
    users_file(srv, os.path.join(srv.dir, "users-b"), BOB)
    for n in ("a", "b"):
        with open(os.path.join(srv.home(ANN[0] if n == "a" else BOB[0]),
                               "hello.txt"), "w") as f:
            f.write("hello from %s\n" % n)
    srv.bundle = os.path.join(srv.dir, "bundle.pem")
    with open(srv.bundle, "w") as out:
        for n in ("server", "a", "b", "m"):
            with open(os.path.join(srv.certs_dir, n + ".crt")) as f:
                out.write(f.read())
    srv.sections = (
        "\n[host ftp.a.test]\n"
        "aliases = a.test\n"
        "certificate = a\n"
        "users_file = %s/users-a\n"
        "\n[host ftp.b.test]\n"
        "certificate = b\n"
        "users_file = %s/users-b\n"
        "data_session_reuse = optional\n"
        "anonymous = on\n"
        "anonymous_root = %s\n"
        "\n# lftp reaches 127.0.0.1 by this name\n"
        "[host localhost]\n"
        "certificate = server\n"
        "users_file = %s/users-a\n"
        "\n[host ftp.m.test]\n"
        "certificate = m\n"
        "users_file = %s/users-a\n"
        "tls_client_cert = required\n"
        "tls_client_ca = %s/ann.crt\n"
        % (srv.dir, srv.dir, srv.home(BOB[0]), srv.dir, srv.dir,
           srv.clients)
    ) + extra_sections
    return srv


def subject_cn(text):
    m = re.search(r"^subject=.*?CN\s*=\s*([^,\n]+)", text, re.M)
    return m.group(1).strip() if m else None


def tls_ctx(srv):
    """A client context trusting every test certificate, no name check
    (the tests look at which certificate came)."""
    ctx = ssl.create_default_context(cafile=srv.bundle)
    ctx.check_hostname = False
    return ctx


def implicit_tls(test, srv, sni, cert=False):
    """An implicit-port connection naming sni, with ann's client
    certificate or none: (greeting line, server certificate's CN)."""
    ctx = tls_ctx(srv)
    if cert:
        ctx.load_cert_chain(os.path.join(srv.clients, "ann.crt"),
                            os.path.join(srv.clients, "ann.key"))
    sock = socket.create_connection((HOST, srv.implicit_port),
                                    harness.SOCK_TIMEOUT)
    test.addCleanup(sock.close)
    tls = ctx.wrap_socket(sock, server_hostname=sni)
    test.addCleanup(tls.close)
    return tls.recv(256).decode(), peer_cn(tls)


def peer_cn(sock):
    for rdn in sock.getpeercert()["subject"]:
        for k, v in rdn:
            if k == "commonName":
                return v
    return None


class Vhosts(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = make_server()
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise

    def s_client(self, implicit, name):
        port = self.srv.implicit_port if implicit else self.srv.explicit_port
        argv = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port),
                "-CAfile", self.srv.bundle]
        argv += ["-servername", name] if name else ["-noservername"]
        if not implicit:
            argv += ["-starttls", "ftp"]
        return run(argv, input="QUIT\r\n", timeout=30)

    def test_sni_picks_certificate_on_both_ports(self):
        want = {"ftp.a.test": "ftp.a.test", "A.TEST": "ftp.a.test",
                "ftp.b.test": "ftp.b.test", "unknown.test": "localhost",
                None: "localhost"}
        for implicit in (False, True):
            for name, cn in want.items():
                p = self.s_client(implicit, name)
                self.assertTrue(harness.s_client_ok(p), describe(p))
                self.assertEqual(subject_cn(p.stdout), cn,
                                 "implicit=%s -servername %s\n%s"
                                 % (implicit, name, describe(p)))

    def curl(self, name, user, path="", implicit=False, tls12=False):
        port = self.srv.implicit_port if implicit else self.srv.explicit_port
        url = "%s://%s:%s@%s:%d/%s" % ("ftps" if implicit else "ftp",
                                       user[0], user[1], name, port, path)
        args = ["--cacert", self.srv.bundle, "--connect-to",
                "%s:%d:%s:%d" % (name, port, HOST, port)]
        if not implicit:
            args.append("--ssl-reqd")
        if tls12:
            args += ["--tlsv1.2", "--tls-max", "1.2"]
        return self.srv.curl(*(args + [url]))

    def test_curl_users_are_per_host(self):
        # Each host's own users file: ann is A's, bob is B's.  Downloads
        # run under data_session_reuse = required: each data connection
        # resumed its own control session on the host's context.
        for implicit in (False, True):
            for tls12 in (False, True):
                p = self.curl("ftp.a.test", ANN, "hello.txt", implicit, tls12)
                self.assertEqual(p.returncode, 0, describe(p))
                self.assertEqual(p.stdout, "hello from a\n")
            p = self.curl("ftp.b.test", BOB, "hello.txt", implicit)
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertEqual(p.stdout, "hello from b\n")
            # 67: curl's "login denied" (530).
            p = self.curl("ftp.b.test", ANN, "", implicit)
            self.assertEqual(p.returncode, 67, describe(p))
            p = self.curl("a.test", BOB, "", implicit)
            self.assertEqual(p.returncode, 67, describe(p))
        # The default host has neither (harness users: alice, bob).
        p = self.curl(HOST, ANN, "")
        self.assertEqual(p.returncode, 67, describe(p))
        self.srv.wait_log(r"host=ftp\.a\.test login user=ann result=ok")
        self.srv.wait_log(r"host=ftp\.b\.test login user=ann result=fail")

    def test_lftp_sends_host(self):
        # lftp sends HOST with the name of the site it opened.
        pre = ["set cmd:fail-exit yes",
               "set ssl:ca-file %s" % self.srv.bundle,
               "set ssl:verify-certificate yes", "set ftp:ssl-force yes",
               "set ftp:ssl-protect-data yes", "set net:max-retries 1",
               "set net:timeout 15",
               "open -u %s,%s ftp://localhost:%d" % (
                   ANN[0], ANN[1], self.srv.explicit_port),
               "cat hello.txt"]
        p = run(["lftp", "-d", "-f", "/dev/stdin"],
                input="\n".join(pre) + "\n", timeout=60)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertIn("hello from a", p.stdout)
        self.assertIn("---> HOST localhost", p.stderr)
        self.srv.wait_log(r"host=localhost host selected name=localhost")
        self.srv.wait_log(r"host=localhost login user=ann result=ok")

    def raw(self):
        rc = RawControl(HOST, self.srv.explicit_port)
        self.addCleanup(rc.close)
        self.assertReply(rc.resp(), 220)
        return rc

    def tls(self, rc, sni):
        self.assertReply(rc.cmd("AUTH TLS"), 234)
        rc.sock = tls_ctx(self.srv).wrap_socket(rc.sock,
                                                server_hostname=sni)
        return peer_cn(rc.sock)

    def test_feat_lists_host(self):
        rc = self.raw()
        self.assertRegex(self.assertReply(rc.cmd("FEAT"), 211),
                         r"\n HOST\n")

    def test_host_before_auth_picks_certificate_without_sni(self):
        rc = self.raw()
        self.assertReply(rc.cmd("HOST ftp.b.test"), 220)
        self.assertEqual(self.tls(rc, None), "ftp.b.test")
        self.assertReply(rc.cmd("USER " + BOB[0]), 331)
        self.assertReply(rc.cmd("PASS " + BOB[1]), 230)
        # RFC 7151 3: after login, 503.
        self.assertReply(rc.cmd("HOST ftp.b.test"), 503)
        self.assertReply(rc.cmd("HOST ftp.a.test"), 503)

    def test_host_before_auth_then_other_sni_is_refused(self):
        rc = self.raw()
        self.assertReply(rc.cmd("HOST ftp.a.test"), 220)
        with self.assertRaises(ssl.SSLError):
            self.tls(rc, "ftp.b.test")
        self.srv.wait_log(r"tls refused: server name ftp\.b\.test is not "
                          r"the host chosen by HOST \(ftp\.a\.test\)")

    def test_host_after_sni(self):
        rc = self.raw()
        self.assertEqual(self.tls(rc, "a.test"), "ftp.a.test")
        # RFC 7151 3.2.2: another host than SNI named: refused.
        self.assertReply(rc.cmd("HOST ftp.b.test"), 504)
        self.assertReply(rc.cmd("USER " + BOB[0]), 331)
        self.assertReply(rc.cmd("PASS " + BOB[1]), 530)
        # The same host (any of its names) is fine.
        self.assertReply(rc.cmd("HOST FTP.A.TEST"), 220)
        self.assertReply(rc.cmd("USER " + ANN[0]), 331)
        self.assertReply(rc.cmd("PASS " + ANN[1]), 230)

    def test_host_after_auth_without_sni(self):
        rc = self.raw()
        self.assertEqual(self.tls(rc, None), "localhost")
        self.assertReply(rc.cmd("HOST ftp.b.test"), 220)
        self.assertReply(rc.cmd("USER " + BOB[0]), 331)
        self.assertReply(rc.cmd("PASS " + BOB[1]), 230)
        self.srv.wait_log(r"host=ftp\.b\.test login user=bob result=ok")

    def test_who_shows_the_host(self):
        rc = self.raw()
        self.assertEqual(self.tls(rc, None), "localhost")
        self.assertReply(rc.cmd("HOST ftp.b.test"), 220)
        self.assertReply(rc.cmd("USER " + BOB[0]), 331)
        self.assertReply(rc.cmd("PASS " + BOB[1]), 230)
        sock = os.path.join(self.srv.dir, "control")
        p = run([harness.ftpsdctl_binary(), "-s", sock, "--json", "who"])
        self.assertEqual(p.returncode, 0, describe(p))
        mine = [w for w in json.loads(p.stdout) if w["user"] == BOB[0]]
        self.assertEqual([w["host"] for w in mine], ["ftp.b.test"], p.stdout)
        p = run([harness.ftpsdctl_binary(), "-s", sock, "who"])
        self.assertEqual(p.returncode, 0, describe(p))
        lines = p.stdout.splitlines()
        self.assertIn("HOST", lines[0].split())
        self.assertTrue(any(BOB[0] in ln and "ftp.b.test" in ln
                            for ln in lines[1:]), p.stdout)

    def test_metrics_expiry_per_host(self):
        sock = os.path.join(self.srv.dir, "control")
        p = run([harness.ftpsdctl_binary(), "-s", sock, "metrics"])
        self.assertEqual(p.returncode, 0, describe(p))
        hosts = re.findall(r'^ftpsd_certificate_expiry_timestamp_seconds'
                           r'\{host="([^"]*)",subject="[^"]+"\} \d+$',
                           p.stdout, re.M)
        self.assertEqual(sorted(hosts), ["", "ftp.a.test", "ftp.b.test",
                                         "ftp.m.test", "localhost"],
                         p.stdout)

    def stock_ftp(self, host, user):
        """Stock ftplib (data connections resume nothing), no SNI, HOST
        after AUTH TLS."""
        ftp = ftplib.FTP_TLS(context=tls_ctx(self.srv),
                             timeout=harness.SOCK_TIMEOUT)
        self.addCleanup(harness.close_ftp, ftp)
        ftp.connect(HOST, self.srv.explicit_port)
        ftp.auth()
        self.assertReply(ftp.sendcmd("HOST " + host), 220)
        ftp.login(*user)
        ftp.prot_p()
        return ftp

    def test_data_policy_and_certificate_per_host(self):
        # B: data_session_reuse = optional in its section, so a data
        # connection that resumes nothing is let in; it is served the
        # certificate of the control handshake (the default host's, as
        # no SNI came), not B's, which HOST chose later.
        ftp = self.stock_ftp("ftp.b.test", BOB)
        conn, _ = ftp.ntransfercmd("LIST")
        self.assertEqual(peer_cn(conn), "localhost")
        # Read the listing to its end: closing first would abort it (426).
        while conn.recv(4096):
            pass
        conn.close()
        self.assertReply(ftp.voidresp(), 226)
        self.srv.wait_log(r"host=ftp\.b\.test login policy user=bob "
                          r"data_tls=required data_session_reuse=optional")
        # A keeps ftpsd.conf's required: the same client gets 522.
        ftp = self.stock_ftp("ftp.a.test", ANN)
        with self.assertRaises(ftplib.error_perm) as cm:
            ftp.retrlines("LIST", lambda line: None)
        self.assertTrue(str(cm.exception).startswith("522"), cm.exception)

    def test_anonymous_per_host(self):
        # B lets anonymous in (its section), A does not (the default's).
        for host, code in (("ftp.b.test", 230), ("ftp.a.test", 530)):
            rc = self.raw()
            self.assertReply(rc.cmd("HOST " + host), 220)
            self.tls(rc, None)
            self.assertReply(rc.cmd("USER anonymous"), 331)
            self.assertReply(rc.cmd("PASS guest@example.org"), code)
            if code == 230:
                self.assertReply(rc.cmd("SIZE hello.txt"), 213)

    def test_host_unknown_and_bad(self):
        rc = self.raw()
        self.assertReply(rc.cmd("HOST unknown.test"), 504)
        self.assertReply(rc.cmd("HOST bad_name!"), 501)
        self.assertReply(rc.cmd("HOST"), 501)
        # An address literal means the default host (RFC 7151 3).
        self.assertReply(rc.cmd("HOST 127.0.0.1"), 220)
        self.assertReply(rc.cmd("HOST [::1]"), 220)
        self.assertEqual(self.tls(rc, None), "localhost")
        # After USER, before PASS: 503 too.
        self.assertReply(rc.cmd("USER alice"), 331)
        self.assertReply(rc.cmd("HOST ftp.a.test"), 503)

    def implicit_tls(self, sni, cert=False):
        return implicit_tls(self, self.srv, sni, cert)

    def test_mtls_per_host(self):
        # Host M asks for and requires ann's certificate...
        greet, cn = self.implicit_tls("ftp.m.test", cert=True)
        self.assertTrue(greet.startswith("220 "), greet)
        self.assertEqual(cn, "ftp.m.test")
        with self.assertRaises((ssl.SSLError, ConnectionResetError)):
            greet, cn = self.implicit_tls("ftp.m.test")
            if not greet:
                raise ConnectionResetError("closed")
        self.srv.wait_log(r"host=ftp\.m\.test close reason=\"tls "
                          r"handshake failed")
        # ...the others do not.
        for sni in ("ftp.a.test", None):
            greet, cn = self.implicit_tls(sni)
            self.assertTrue(greet.startswith("220 "), greet)
        # HOST cannot move a handshake made without M's CAs onto M.
        rc = self.raw()
        self.assertEqual(self.tls(rc, None), "localhost")
        self.assertReply(rc.cmd("HOST ftp.m.test"), 503)

    def test_certmgr_list_shows_hosts(self):
        p = certmgr("-c", self.srv.conf_file, "list")
        for name, hosts in (("a", "ftp.a.test"), ("b", "ftp.b.test"),
                            ("server", r"\(default host\), localhost")):
            self.assertRegex(p.stdout, r"(?m)^[ *] %s .*\n    serves: %s$"
                             % (name, hosts), describe(p))


class NoSections(harness.ServerTestCase):
    """Without [host] sections nothing changes: no HOST in FEAT, HOST
    answers 502, log lines carry no host=."""

    def test_unchanged(self):
        rc = RawControl(HOST, self.srv.explicit_port)
        self.addCleanup(rc.close)
        self.assertReply(rc.resp(), 220)
        self.assertNotIn(" HOST", self.assertReply(rc.cmd("FEAT"), 211))
        self.assertReply(rc.cmd("HOST localhost"), 502)
        self.srv.wait_log(r"sess=\d+ ip=\S+ connect port=explicit")
        self.assertNotIn("host=", self.srv.log_text())


class DefaultMtls(unittest.TestCase):
    """The default host requires client certificates, host A does not:
    switching to A's context turns the request off (SSL_set_SSL_CTX alone
    keeps the first context's verify mode and CA names)."""

    def test_host_without_mtls(self):
        srv = make_server()
        self.addCleanup(srv.cleanup)
        srv.extra_conf.update({
            "tls_client_cert": "required",
            "tls_client_ca": os.path.join(srv.clients, "ann.crt")})
        # Host A states its own policy; the others inherit required.
        srv.sections = srv.sections.replace(
            "certificate = a\n", "certificate = a\ntls_client_cert = off\n")
        srv.start()
        self.addCleanup(srv.stop)
        # Who asks for a certificate says so in the CertificateRequest.
        for sni, asks in (("ftp.a.test", False), ("ftp.b.test", True),
                          (None, True)):
            argv = ["openssl", "s_client", "-connect",
                    "%s:%d" % (HOST, srv.implicit_port), "-CAfile",
                    srv.bundle]
            argv += ["-servername", sni] if sni else ["-noservername"]
            p = run(argv, input="QUIT\r\n", timeout=30)
            self.assertEqual("Acceptable client certificate CA names" in
                             p.stdout, asks, describe(p))
            self.assertEqual("No client certificate CA names sent" in
                             p.stdout, not asks, describe(p))
            # Without a certificate: greeted, or refused.
            try:
                greet = implicit_tls(self, srv, sni)[0]
            except (ssl.SSLError, ConnectionResetError):
                greet = ""
            self.assertEqual(greet.startswith("220 "), not asks, greet)


class SniAfterUser(unittest.TestCase):
    """tls = optional: USER in clear text fixes the host whose users file
    it was looked up in; AUTH TLS naming another host by SNI must not move
    the session there (a user of the default host logging in on B)."""

    def test_sni_cannot_move_a_session_after_user(self):
        srv = make_server()
        self.addCleanup(srv.cleanup)
        srv.extra_conf.update({"tls": "optional"})
        # Host M requires client certificates, which needs tls = required.
        srv.sections = srv.sections[:srv.sections.index(
            "\n[host ftp.m.test]")]
        srv.start()
        self.addCleanup(srv.stop)
        rc = RawControl(HOST, srv.explicit_port)
        self.addCleanup(rc.close)
        self.assertEqual(rc.resp()[0], 220)
        self.assertEqual(rc.cmd("USER " + BOB[0])[0], 331)
        self.assertEqual(rc.cmd("AUTH TLS")[0], 234)
        with self.assertRaises((ssl.SSLError, ConnectionResetError)):
            rc.sock = tls_ctx(srv).wrap_socket(rc.sock,
                                               server_hostname="ftp.b.test")
        srv.wait_log(r"tls refused: server name ftp\.b\.test is not the "
                     r"host chosen by USER \(\(default\)\)")
        # The same name before USER is fine.
        rc2 = RawControl(HOST, srv.explicit_port)
        self.addCleanup(rc2.close)
        self.assertEqual(rc2.resp()[0], 220)
        self.assertEqual(rc2.cmd("AUTH TLS")[0], 234)
        rc2.sock = tls_ctx(srv).wrap_socket(rc2.sock,
                                            server_hostname="ftp.b.test")
        self.assertEqual(peer_cn(rc2.sock), "ftp.b.test")
        self.assertEqual(rc2.cmd("USER " + BOB[0])[0], 331)
        self.assertEqual(rc2.cmd("PASS " + BOB[1])[0], 230)


class VhostReload(unittest.TestCase):
    """SIGHUP adds a host; a bad section keeps the running set."""

    def setUp(self):
        self.srv = make_server()
        self.addCleanup(self.srv.cleanup)
        self.srv.start()
        self.addCleanup(self.srv.stop)

    def cn(self, name):
        port = self.srv.implicit_port
        p = run(["openssl", "s_client", "-connect", "%s:%d" % (HOST, port),
                 "-CAfile", self.srv.bundle, "-servername", name],
                input="QUIT\r\n", timeout=30)
        self.assertTrue(harness.s_client_ok(p), describe(p))
        return subject_cn(p.stdout)

    def wait_count(self, n):
        deadline = harness.time.monotonic() + 10
        while harness.time.monotonic() < deadline:
            t = self.srv.log_text()
            if len(re.findall(r"reload: (done|failed)", t)) >= n:
                return t
            harness.time.sleep(0.05)
        self.fail("no reload result; log:\n" + self.srv.log_tail())

    def test_reload_adds_a_host_and_refuses_a_bad_one(self):
        self.assertEqual(self.cn("ftp.c.test"), "localhost")
        # The way docs/vhosts.md adds a host: certmgr makes its pair.
        certmgr("-q", "-d", self.srv.certs_dir, "create", "c", "--cn",
                "ftp.c.test")
        # A session opened before the reload keeps its host.
        rc = RawControl(HOST, self.srv.explicit_port)
        self.addCleanup(rc.close)
        self.assertEqual(rc.resp()[0], 220)
        self.assertEqual(rc.cmd("HOST ftp.b.test")[0], 220)
        self.srv.sections += "\n[host ftp.c.test]\ncertificate = c\n"
        self.srv.write_config()
        text = self.wait_count_after_hup(1)
        self.assertIn("reload: done", text)
        self.assertRegex(text, r"host=ftp\.c\.test aliases=none users=\d+ "
                               r"certificate: subject=/CN=ftp\.c\.test")
        self.assertEqual(self.cn("ftp.c.test"), "ftp.c.test")
        self.assertEqual(rc.cmd("AUTH TLS")[0], 234)
        rc.sock = tls_ctx(self.srv).wrap_socket(rc.sock,
                                                server_hostname=None)
        self.assertEqual(peer_cn(rc.sock), "ftp.b.test")
        self.assertEqual(rc.cmd("USER " + BOB[0])[0], 331)
        self.assertEqual(rc.cmd("PASS " + BOB[1])[0], 230)
        # A host whose certificate does not cover it: nothing changes.
        self.srv.sections += "\n[host ftp.d.test]\ncertificate = c\n"
        self.srv.write_config()
        text = self.wait_count_after_hup(2)
        self.assertIn("reload: failed", text)
        self.assertRegex(text, r"reload: .*ftpsd\.conf:\d+: \[host "
                               r"ftp\.d\.test\]: certificate c does not "
                               r"cover \"ftp\.d\.test\"")
        self.assertEqual(self.cn("ftp.c.test"), "ftp.c.test")

    def wait_count_after_hup(self, n):
        os.kill(self.srv.pid(), signal.SIGHUP)
        return self.wait_count(n)


class VhostConfigErrors(unittest.TestCase):
    """ftpsd -t: every section problem as FILE:LINE, exit 2."""

    def test_ok_with_each_hosts_warnings(self):
        srv = make_server()
        self.addCleanup(srv.cleanup)
        # Host B's account whose home is gone, seen through B's file.
        with open(os.path.join(srv.dir, "users-b"), "a") as f:
            f.write("gone:%s:%s/nowhere:rw\n" % (
                harness.hash_password(BOB[1]), srv.dir))
        srv.pick_ports()
        path = srv.write_config()
        # The test certificates live 30 days (29 or 30 left): warn well
        # inside that.
        p = run([srv.binary, "-t", "-c", path, "-o", "cert_warn_days=3650"])
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertRegex(p.stderr, r"(?m)^%s/users-b:2: user gone: warning: "
                         r"home %s/nowhere does not exist"
                         % (re.escape(srv.dir), re.escape(srv.dir)),
                         describe(p))
        self.assertRegex(p.stderr, r"certificate /CN=ftp\.b\.test of host "
                         r"ftp\.b\.test expires in \d+ days", describe(p))

    def test_errors(self):
        srv = make_server()
        self.addCleanup(srv.cleanup)
        srv.sections += (
            "[host ftp.e.test]\n"            # +1
            "max_clients = 5\n"              # +2 per daemon
            "tls_crls = /x\n"                # +3 unknown
            "aliases = a.test, e.test\n"     # +4 taken by A
            "[host FTP.B.TEST]\n"            # +5 taken by B
            "[hots x.test]\n"                # +6 not a section
            "[host bad_name]\n"              # +7 not a DNS name
            "[host ftp.f.test]\n"            # +8 default cert: no SAN
            "tls_client_cert = required\n"   # +9 needs tls_client_ca
        )
        srv.pick_ports()
        path = srv.write_config()
        with open(path) as f:
            first = f.read().splitlines().index("[host ftp.e.test]") + 1
        p = run([srv.binary, "-t", "-c", path])
        self.assertEqual(p.returncode, 2, describe(p))
        want = [
            (2, r"max_clients cannot be set in \[host ftp\.e\.test\]: it "
                r"applies to the whole daemon"),
            (3, r'unknown key "tls_crls" \(did you mean "tls_crl"\?\)'),
            (4, r'host name "a\.test" is already used by \[host '
                r'ftp\.a\.test\] on line \d+'),
            (5, r'host name "ftp\.b\.test" is already used by \[host '
                r'ftp\.b\.test\]'),
            (6, r'expected "\[host NAME\]", not "\[hots x\.test\]"'),
            (7, r"\[host bad_name\]: not a host name"),
            (9, r"tls_client_cert = required needs tls_client_ca"),
        ]
        for off, msg in want:
            self.assertRegex(p.stderr, r"(?m)^%s:%d: %s" % (
                re.escape(path), first + off - 1, msg), describe(p))
        # What the sections load is checked once they parse: a
        # certificate that does not cover the host, a CA file missing.
        srv.sections = srv.sections.split("[host ftp.e.test]")[0] + \
            "[host ftp.f.test]\n" \
            "[host ftp.g.test]\ncertificate = m\n" \
            "tls_client_cert = optional\ntls_client_ca = /nonexistent\n"
        path = srv.write_config()
        with open(path) as f:
            lines = f.read().splitlines()
        f_line = lines.index("[host ftp.f.test]") + 1
        ca_line = lines.index("tls_client_ca = /nonexistent") + 1
        p = run([srv.binary, "-t", "-c", path])
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertRegex(p.stderr, r"(?m)^%s:%d: \[host ftp\.f\.test\]: "
                         r"certificate server does not cover "
                         r"\"ftp\.f\.test\" \(its names: localhost\)"
                         % (re.escape(path), f_line), describe(p))
        self.assertRegex(p.stderr, r"(?m)^%s:%d: \[host ftp\.g\.test\]: "
                         r"tls_client_ca: /nonexistent: cannot read"
                         % (re.escape(path), ca_line), describe(p))


if __name__ == "__main__":
    harness.main()
