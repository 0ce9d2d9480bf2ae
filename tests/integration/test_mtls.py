#!/usr/bin/env python3
"""Mutual TLS (issue 4): client certificates checked against tls_client_ca
and tls_crl, and mapped to accounts by their CN.  Every certificate here is
made by certmgr (the expired one is signed by certmgr's CA through the
`openssl ca` configuration certmgr writes for it, since certmgr issues
nothing already expired).  Clients: curl --cert/--key, lftp
ssl:cert-file/ssl:key-file, ftplib FTP_TLS with load_cert_chain."""

import ftplib
import io
import os
import re
import shutil
import ssl
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HOST, describe, data_exchange  # noqa: E402

# Password of the password and cert+password accounts.
PW = "mtls-Pw-51c2"
HELLO = b"hello over mutual TLS\n"


def certmgr(folder, *args):
    p = harness.run([harness.certmgr_binary(), "-q", "-d", folder] +
                    list(args))
    if p.returncode != 0:
        raise AssertionError("certmgr failed\n" + describe(p))
    return p


class PKI:
    """
    certmgr folders: DIR/certs (the trusted CA, the server certificate,
    client certificates) and DIR/rogue (a second, unrelated CA that signs
    a client certificate with the same CN).
    """

    def __init__(self, certs_dir, rogue_dir):
        self.dir = certs_dir
        self.rogue = rogue_dir
        certmgr(self.dir, "ca", "init", "--cn", "ftpsd mTLS test CA")
        certmgr(self.dir, "ca", "issue", "server", "--server", "--cn",
                "localhost", "--san", "DNS:localhost,IP:127.0.0.1")
        for name in ("alice", "bob", "carol", "dave", "rev"):
            certmgr(self.dir, "ca", "issue", name, "--client", "--cn", name)
        certmgr(self.dir, "ca", "crl")
        certmgr(self.rogue, "ca", "init", "--cn", "Rogue CA")
        certmgr(self.rogue, "ca", "issue", "alice", "--client", "--cn",
                "alice")
        self.make_expired("old")

    def make_expired(self, name):
        """certmgr makes key and request; its CA signs with past dates."""
        certmgr(self.dir, "csr", name, "--cn", name)
        p = harness.run(["openssl", "ca", "-batch", "-config", "openssl.cnf",
                         "-extensions", "certmgr_client", "-notext",
                         "-in", "../%s.csr" % name,
                         "-out", "../%s.crt" % name,
                         "-startdate", "20200101000000Z",
                         "-enddate", "20200102000000Z"],
                        cwd=os.path.join(self.dir, "ca"))
        if p.returncode != 0:
            raise AssertionError("openssl ca failed\n" + describe(p))

    @property
    def ca(self):
        return os.path.join(self.dir, "ca", "ca.crt")

    @property
    def crl(self):
        return os.path.join(self.dir, "ca", "crl.pem")

    def pair(self, name, rogue=False):
        d = self.rogue if rogue else self.dir
        return os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")


def make_server(conf):
    """An Ftpsd whose certificates all come from certmgr, not started."""
    srv = harness.Ftpsd(cert=False, users={"carol": (PW, "rw")},
                        conf=dict({"certificate": "server"}, **conf))
    try:
        srv.pki = PKI(srv.certs_dir, os.path.join(srv.dir, "rogue"))
        srv.cafile = srv.pki.ca
        for name in ("alice", "bob", "dave"):
            os.makedirs(srv.home(name), exist_ok=True)
        srv.write_users([
            "alice::%s:rw:cert" % srv.home("alice"),
            "bob:%s:%s:rw:cert+password" % (harness.hash_password(PW),
                                            srv.home("bob")),
            "rev::%s:r:cert" % srv.home("alice"),
            "old::%s:r:cert" % srv.home("alice"),
            "dave:!:%s:r:cert" % srv.home("dave"),
        ])
        for name in ("alice", "bob", "carol"):
            with open(srv.path("hello.txt", name), "wb") as f:
                f.write(HELLO)
    except BaseException:
        srv.cleanup()
        raise
    return srv


class MtlsCase(harness.ServerTestCase):
    CONF = {}

    @classmethod
    def new_server(cls):
        return make_server(cls.CONF)

    def setUp(self):
        super().setUp()
        self.mark = len(self.srv.log_text())

    def new_log(self):
        """The log written since this test started."""
        return self.srv.log_text()[self.mark:]

    def wait_new_log(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.new_log(), re.M)
            if m:
                return m
            time.sleep(0.05)
        self.fail("log never matched %r; new log:\n%s"
                  % (pattern, self.new_log()))

    # -- clients ------------------------------------------------------------

    def curl(self, path="hello.txt", user="alice", password="",
             cert="alice", rogue=False, implicit=False, extra=()):
        srv = self.srv
        if implicit:
            url = "ftps://%s:%d/%s" % (HOST, srv.implicit_port, path)
        else:
            url = "ftp://%s:%d/%s" % (HOST, srv.explicit_port, path)
        args = ["--user", "%s:%s" % (user, password)]
        if not implicit:
            args.append("--ssl-reqd")
        if cert is not None:
            crt, key = srv.pki.pair(cert, rogue)
            args += ["--cert", crt, "--key", key]
        return srv.curl(*(args + list(extra) + [url]))

    def lftp(self, script, user="alice", password="", cert="alice",
             implicit=False):
        srv = self.srv
        settings = []
        if cert is not None:
            crt, key = srv.pki.pair(cert)
            settings = ["set ssl:cert-file %s" % crt,
                        "set ssl:key-file %s" % key]
        return harness.lftp_run(
            srv.cafile, implicit,
            srv.implicit_port if implicit else srv.explicit_port,
            user, password, script, settings=settings, debug=True)

    def context(self, cert="alice", rogue=False, tls_max=None):
        ctx = self.srv.client_context(tls_max=tls_max)
        if cert is not None:
            ctx.load_cert_chain(*self.srv.pki.pair(cert, rogue))
        return ctx

    def ftp(self, cert="alice", implicit=False, tls_max=None):
        """A connected (not logged-in) ftplib client that resumes sessions."""
        ftp = self.srv.ftp(ctx=self.context(cert, tls_max=tls_max),
                           implicit=implicit, login=False)
        self.addCleanup(harness.close_ftp, ftp)
        if not implicit:
            ftp.auth()
        return ftp

    def assert_refused(self, p, why):
        """A client refused in the handshake; the log says why."""
        self.assertNotEqual(p.returncode, 0, describe(p))
        self.assertNotIn(HELLO.decode(), p.stdout)
        self.wait_new_log(r"close reason=\"tls handshake failed: .*" +
                          re.escape(why))
        self.assertNotIn("login user=", self.new_log())


class Required(MtlsCase):
    """tls_client_cert = required with the CA's CRL."""
    CONF = {"tls_client_cert": "required",
            "tls_client_ca": "certs/ca/ca.crt",
            "tls_crl": "certs/ca/crl.pem"}

    def check_cert_log(self, user="alice", method="cert"):
        self.wait_new_log(r"client certificate subject=\"CN=%s\" "
                          r"issuer=\"CN=ftpsd mTLS test CA\" serial=[0-9A-F]+"
                          % user)
        self.wait_new_log(r"login user=%s result=ok method=%s$"
                          % (user, re.escape(method)))

    def check_cert_login(self, p, user="alice", method="cert"):
        self.assertEqual(p.returncode, 0, describe(p))
        self.check_cert_log(user, method)

    def test_curl_cert_logs_in_as_its_cn(self):
        for implicit in (False, True):
            with self.subTest(implicit=implicit):
                self.mark = len(self.srv.log_text())
                p = self.curl(implicit=implicit)
                self.check_cert_login(p)
                self.assertEqual(p.stdout, HELLO.decode())

    def test_curl_upload_and_tls12(self):
        src = os.path.join(self.srv.dir, "up-src.bin")
        sha = harness.write_random(src, 3 * harness.MiB)
        p = self.curl("up-curl.bin", extra=["-T", src, "--tls-max", "1.2"])
        self.check_cert_login(p)
        self.assertEqual(harness.sha256_file(self.srv.path("up-curl.bin")),
                         sha)
        self.wait_new_log(r"tls TLSv1\.2 ")

    def test_curl_without_user_name_in_url(self):
        """curl sends USER from the URL; 232 ends the login, no PASS."""
        url = "ftp://alice@%s:%d/hello.txt" % (HOST, self.srv.explicit_port)
        crt, key = self.srv.pki.pair("alice")
        p = self.srv.curl("--ssl-reqd", "--cert", crt, "--key", key, "-v",
                          url)
        self.check_cert_login(p)
        self.assertIn("< 232 ", p.stderr)
        self.assertNotIn("> PASS", p.stderr)

    def test_lftp_cert_get_put_ls(self):
        out = os.path.join(self.srv.dir, "lftp-down.txt")
        src = os.path.join(self.srv.dir, "lftp-src.bin")
        sha = harness.write_random(src, 2 * harness.MiB)
        for implicit in (False, True):
            with self.subTest(implicit=implicit):
                self.mark = len(self.srv.log_text())
                p = self.lftp("get hello.txt -o %s\nput %s -o lftp-up.bin\n"
                              "cls -1" % (out, src), implicit=implicit)
                self.check_cert_login(p)
                with open(out, "rb") as f:
                    self.assertEqual(f.read(), HELLO)
                self.assertEqual(harness.sha256_file(
                    self.srv.path("lftp-up.bin")), sha)
                self.assertIn("lftp-up.bin", p.stdout)
                self.assertNotIn("---> PASS", p.stderr)
                # Every data connection resumed (data_session_reuse =
                # required would have refused it otherwise).
                self.assertNotRegex(p.stderr, r"(?m)^<--- 522 ")

    def test_ftplib_cert_login(self):
        for tls_max in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            for implicit in (False, True):
                with self.subTest(tls_max=tls_max, implicit=implicit):
                    self.mark = len(self.srv.log_text())
                    ftp = self.ftp(implicit=implicit, tls_max=tls_max)
                    self.assertTrue(ftp.login("alice", "").startswith(
                        "232 "))
                    ftp.prot_p()
                    buf = io.BytesIO()
                    ftp.retrbinary("RETR hello.txt", buf.write)
                    self.assertEqual(buf.getvalue(), HELLO)
                    ftp.storbinary("STOR ftplib-up.txt",
                                   io.BytesIO(b"from ftplib\n"))
                    self.assertIn("ftplib-up.txt", ftp.nlst())
                    self.assertEqual(ftp.data_reused, [True, True, True])
                    # A client that sends PASS anyway gets a harmless 503.
                    self.assertEqual(harness.reply_code(harness.ftp_reply(
                        ftp.sendcmd, "PASS whatever")), 503)
                    self.assertEqual(ftp.pwd(), "/")
                    ftp.quit()
                    self.check_cert_log()

    def test_data_connection_without_session_or_cert_refused(self):
        """A data peer that neither resumes nor has a certificate fails."""
        ftp = self.ftp()
        ftp.login("alice", "")
        ftp.prot_p()
        ftp.context = self.context(cert=None)
        out = data_exchange(ftp, "RETR hello.txt", session="none")
        self.assertNotEqual(out["data"], HELLO)
        self.assertEqual(harness.reply_code(out["final"]), 425, out)
        self.wait_new_log(r"data tls handshake failed reason=\".*peer "
                          r"did not return a certificate")
        self.assertEqual(ftp.pwd(), "/")

    def test_no_certificate_refused(self):
        for implicit in (False, True):
            with self.subTest(implicit=implicit):
                self.mark = len(self.srv.log_text())
                p = self.curl(cert=None, implicit=implicit)
                self.assert_refused(p, "peer did not return a certificate")

    def test_no_certificate_refused_before_any_command(self):
        """Explicit port: after AUTH TLS nothing runs without a cert."""
        with self.srv.raw() as rc:
            self.assertEqual(rc.resp()[0], 220)
            self.assertEqual(rc.cmd("AUTH TLS")[0], 234)
            try:
                rc.starttls(self.context(cert=None))
                code, text = rc.cmd("USER carol")
            except (ssl.SSLError, OSError):
                code, text = 0, ""
            self.assertEqual(code, 0, text)
        self.wait_new_log(r"tls handshake failed: .*peer did not return a "
                          r"certificate")
        self.assertNotIn("user carol", self.new_log())

    def test_second_ca_refused(self):
        """The same CN signed by an unrelated CA is turned away."""
        for implicit in (False, True):
            with self.subTest(implicit=implicit):
                self.mark = len(self.srv.log_text())
                p = self.curl(rogue=True, implicit=implicit)
                self.assert_refused(p, "client certificate refused: unable "
                                    "to get local issuer certificate "
                                    "(depth 0: CN=alice)")

    def test_expired_refused(self):
        p = self.curl(user="old", cert="old")
        self.assert_refused(p, "client certificate refused: certificate has "
                            "expired (depth 0: CN=old)")

    def test_server_certificate_refused_as_client(self):
        """Purpose sslclient: a serverAuth-only certificate cannot log in."""
        p = self.curl(user="localhost", cert="server")
        self.assert_refused(p, "unsuitable certificate purpose (depth 0: "
                            "CN=localhost)")

    def test_ftplib_second_ca_refused(self):
        ctx = self.srv.client_context()
        ctx.load_cert_chain(*self.srv.pki.pair("alice", rogue=True))
        ftp = harness.FTP_TLS_Implicit(context=ctx, timeout=10)
        self.addCleanup(harness.close_ftp, ftp)
        with self.assertRaises((ssl.SSLError, OSError, EOFError,
                                ftplib.Error)):
            ftp.connect(HOST, self.srv.implicit_port)
            ftp.login("alice", "")
        self.wait_new_log(r"unable to get local issuer certificate")

    def test_cn_user_mismatch_refused(self):
        p = self.curl(user="bob", password=PW, cert="alice")
        self.assertEqual(p.returncode, 67, describe(p))
        self.assertIn("530", p.stderr)
        self.wait_new_log(r"login user=bob result=fail reason=\"the client "
                          r"certificate names another user\"")
        ftp = self.ftp(cert="alice")
        with self.assertRaises(ftplib.error_perm) as e:
            ftp.login("carol", PW)
        self.assertTrue(str(e.exception).startswith("530"), e.exception)

    def test_cert_password_needs_the_password(self):
        p = self.curl(user="bob", password=PW, cert="bob")
        self.check_cert_login(p, "bob", "cert+password")
        self.assertEqual(p.stdout, HELLO.decode())
        self.mark = len(self.srv.log_text())
        p = self.curl(user="bob", password="wrong", cert="bob")
        self.assertEqual(p.returncode, 67, describe(p))
        self.wait_new_log(r"login user=bob result=fail$")
        ftp = self.ftp(cert="bob")
        self.assertTrue(ftp.sendcmd("USER bob").startswith("331 "))
        self.assertTrue(ftp.sendcmd("PASS " + PW).startswith("230 "))

    def test_disabled_cert_account_refused(self):
        p = self.curl(user="dave", cert="dave")
        self.assertEqual(p.returncode, 67, describe(p))
        self.wait_new_log(r"login user=dave result=fail reason=\"account "
                          r"disabled\"")


class Optional(MtlsCase):
    """tls_client_cert = optional: certificates when offered, passwords
    for everyone else."""
    CONF = {"tls_client_cert": "optional",
            "tls_client_ca": "certs/ca/ca.crt"}

    def test_password_user_without_certificate(self):
        p = self.curl(user="carol", password=PW, cert=None)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertEqual(p.stdout, HELLO.decode())
        self.wait_new_log(r"login user=carol result=ok$")
        self.assertNotIn("client certificate", self.new_log())
        self.mark = len(self.srv.log_text())
        p = self.lftp("cat hello.txt", user="carol", password=PW, cert=None)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertIn(HELLO.decode(), p.stdout)

    def test_password_user_with_own_certificate(self):
        p = self.curl(user="carol", password=PW, cert="carol")
        self.assertEqual(p.returncode, 0, describe(p))
        self.wait_new_log(r"client certificate subject=\"CN=carol\"")
        self.wait_new_log(r"login user=carol result=ok$")

    def test_cert_user_without_certificate_refused(self):
        """331 as for any name, then 530: cert accounts are not probed."""
        p = self.curl(user="alice", password="anything", cert=None)
        self.assertEqual(p.returncode, 67, describe(p))
        self.wait_new_log(r"login user=alice result=fail reason=\"no client "
                          r"certificate\"")
        ftp = self.ftp(cert=None)
        self.assertTrue(ftp.sendcmd("USER alice").startswith("331 "))
        with self.assertRaises(ftplib.error_perm) as e:
            ftp.sendcmd("PASS anything")
        self.assertTrue(str(e.exception).startswith("530"), e.exception)

    def test_cert_user_with_certificate(self):
        p = self.curl()
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertEqual(p.stdout, HELLO.decode())
        self.wait_new_log(r"login user=alice result=ok method=cert$")

    def test_bad_certificate_still_refused(self):
        """optional never accepts a certificate that fails verification."""
        p = self.curl(rogue=True)
        self.assert_refused(p, "unable to get local issuer certificate")
        self.mark = len(self.srv.log_text())
        p = self.curl(user="old", cert="old", implicit=True)
        self.assert_refused(p, "certificate has expired")

    def test_certificate_names_its_user_only(self):
        p = self.curl(user="carol", password=PW, cert="alice")
        self.assertEqual(p.returncode, 67, describe(p))
        self.wait_new_log(r"login user=carol result=fail reason=\"the "
                          r"client certificate names another user\"")


class Revocation(unittest.TestCase):
    """
    certmgr ca revoke + certmgr ca crl, then the server reads the new CRL.
    Here the server is restarted (stop, start); the same revocation taking
    effect on SIGHUP, without a restart, is test_ops.py ReloadClientCa.
    """

    def setUp(self):
        self.srv = make_server({"tls_client_cert": "required",
                                "tls_client_ca": "certs/ca/ca.crt",
                                "tls_crl": "certs/ca/crl.pem"})
        self.addCleanup(self.srv.cleanup)

    def fetch(self, name):
        crt, key = self.srv.pki.pair(name)
        url = "ftp://%s:%d/hello.txt" % (HOST, self.srv.explicit_port)
        return self.srv.curl("--ssl-reqd", "--user", name + ":", "--cert",
                             crt, "--key", key, url)

    def test_revoked_refused_after_crl_and_restart(self):
        srv = self.srv
        shutil.copyfile(srv.path("hello.txt"), os.path.join(
            srv.home("alice"), "rev.txt"))
        srv.start()
        p = self.fetch("rev")
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertEqual(p.stdout, HELLO.decode())
        srv.stop()

        certmgr(srv.certs_dir, "ca", "revoke", "rev", "--reason",
                "keyCompromise")
        certmgr(srv.certs_dir, "ca", "crl")
        srv.start()
        p = self.fetch("rev")
        self.assertNotEqual(p.returncode, 0, describe(p))
        self.assertNotIn(HELLO.decode(), p.stdout)
        srv.wait_log(r"close reason=\"tls handshake failed: .*client "
                     r"certificate refused: certificate revoked \(depth 0: "
                     r"CN=rev\)")
        # The others still log in.
        p = self.fetch("alice")
        self.assertEqual(p.returncode, 0, describe(p))
        srv.stop()


class Setup(unittest.TestCase):
    """Bad CA or CRL files stop the server at start, naming the file."""

    def setUp(self):
        self.srv = make_server({"tls_client_cert": "required",
                                "tls_client_ca": "certs/ca/ca.crt"})
        self.addCleanup(self.srv.cleanup)

    def refused(self, conf, *want):
        self.srv.extra_conf.update(conf)
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 2, describe(p))
        rc, log = self.srv.start_expect_failure()
        self.assertNotEqual(rc, 0, log)
        for w in want:
            self.assertIn(w, p.stderr + p.stdout)
            self.assertIn(w, log)

    def test_crl_of_another_ca(self):
        certmgr(self.srv.pki.rogue, "ca", "crl")
        self.refused({"tls_crl": "rogue/ca/crl.pem"},
                     "is not signed by any certificate of tls_client_ca",
                     "no CRL of CN=ftpsd mTLS test CA")

    def test_ca_without_its_crl(self):
        both = os.path.join(self.srv.dir, "both.pem")
        with open(both, "w") as f:
            for d in (self.srv.pki.dir, self.srv.pki.rogue):
                with open(os.path.join(d, "ca", "ca.crt")) as g:
                    f.write(g.read())
        self.refused({"tls_client_ca": "both.pem",
                      "tls_crl": "certs/ca/crl.pem"},
                     "no CRL of CN=Rogue CA (certificate 2 of tls_client_ca")

    def test_missing_or_empty_bundle(self):
        self.refused({"tls_client_ca": "nothing.pem"},
                     "tls_client_ca: %s/nothing.pem: cannot read: No such "
                     "file or directory" % self.srv.dir)
        self.refused({"tls_client_ca": "certs/alice.key"},
                     "no PEM certificate in the file")

    def test_required_without_ca(self):
        self.refused({"tls_client_ca": None},
                     "tls_client_cert = required needs tls_client_ca")

    def test_good_setup_checks_ok(self):
        self.srv.extra_conf["tls_crl"] = "certs/ca/crl.pem"
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 0, describe(p))


class Walkthrough(unittest.TestCase):
    """
    docs/mtls.md, step by step: a private CA made with certmgr, a server
    certificate and a client certificate signed by it, ftpsd trusting only
    that CA; curl with the client certificate is accepted, and the same
    client signed by a second CA is rejected.
    """

    def test_private_ca_accepts_its_client_rejects_second_ca(self):
        srv = harness.Ftpsd(cert=False, users={},
                            conf={"certificate": "server",
                                  "tls_client_cert": "required",
                                  "tls_client_ca": "certs/ca/ca.crt",
                                  "tls_crl": "certs/ca/crl.pem"})
        self.addCleanup(srv.cleanup)
        certs = srv.certs_dir
        rogue = os.path.join(srv.dir, "rogue")
        # 1. The private CA, the server's and the client's certificates.
        certmgr(certs, "ca", "init", "--cn", "Demo FTPS CA")
        certmgr(certs, "ca", "issue", "server", "--server", "--cn",
                "localhost", "--san", "DNS:localhost,IP:127.0.0.1")
        certmgr(certs, "ca", "issue", "alice", "--client", "--cn", "alice")
        certmgr(certs, "ca", "crl")
        passfile = os.path.join(srv.dir, "p12.pass")
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("demo-p12\n")
        certmgr(certs, "export", "alice", "--pkcs12",
                os.path.join(srv.dir, "alice.p12"), "--passout",
                "file:" + passfile)
        # 2. The account: cert only.
        os.makedirs(srv.home("alice"))
        with open(srv.path("hello.txt"), "wb") as f:
            f.write(b"hello alice\n")
        srv.write_users(["alice::%s:rw:cert" % srv.home("alice")])
        # 3. The same client name signed by a second, unrelated CA.
        certmgr(rogue, "ca", "init", "--cn", "Rogue CA")
        certmgr(rogue, "ca", "issue", "alice", "--client", "--cn", "alice")

        ca = os.path.join(certs, "ca", "ca.crt")
        url = "ftp://alice@localhost:%d/hello.txt"
        with srv:
            u = url % srv.explicit_port
            resolve = "localhost:%d:127.0.0.1" % srv.explicit_port
            p = harness.run(["curl", "-sS", "--max-time", "30",
                             "--resolve", resolve, "--ssl-reqd",
                             "--cacert", ca,
                             "--cert", os.path.join(certs, "alice.crt"),
                             "--key", os.path.join(certs, "alice.key"), u])
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertEqual(p.stdout, "hello alice\n")
            srv.wait_log(r"login user=alice result=ok method=cert")

            p = harness.run(["curl", "-sS", "--max-time", "30",
                             "--resolve", resolve, "--ssl-reqd",
                             "--cacert", ca,
                             "--cert", os.path.join(rogue, "alice.crt"),
                             "--key", os.path.join(rogue, "alice.key"), u])
            self.assertNotEqual(p.returncode, 0, describe(p))
            self.assertNotIn("hello alice", p.stdout)
            srv.wait_log(r"client certificate refused: unable to get local "
                         r"issuer certificate \(depth 0: CN=alice\)")

            # The PKCS#12 export carries the same client identity.
            p = harness.run(["openssl", "pkcs12", "-in",
                             os.path.join(srv.dir, "alice.p12"), "-passin",
                             "file:" + passfile, "-nokeys", "-clcerts"])
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertIn("subject=CN = alice", p.stdout)


class DocWalkthrough(unittest.TestCase):
    """
    The shell blocks of docs/mtls.md's walk-through, run as written in an
    empty folder: only the ports are changed (to free ones), PATH points
    at the binaries under test and, as root, ftpsd keeps root.
    """

    def doc_script(self):
        top = os.environ.get("top_srcdir") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..")
        with open(os.path.join(top, "docs", "mtls.md")) as f:
            text = f.read()
        m = re.search(r"^## Walk-through\n(.*?)^## ", text, re.M | re.S)
        self.assertIsNotNone(m, "docs/mtls.md has no Walk-through section")
        blocks = re.findall(r"^```sh\n(.*?)^```", m.group(1), re.M | re.S)
        self.assertGreaterEqual(len(blocks), 2)
        return "".join(blocks)

    def test_walkthrough_as_written(self):
        script = self.doc_script()
        for port in ("2121", "9900"):
            self.assertIn(port, script)
        explicit = harness.free_port()
        implicit = harness.free_port()
        while implicit == explicit:
            implicit = harness.free_port()
        script = re.sub(r"\b2121\b", str(explicit), script)
        script = re.sub(r"\b9900\b", str(implicit), script)
        if os.geteuid() == 0:
            # The walk-through is meant for an ordinary user; as root
            # ftpsd would switch to run_as_user, which cannot reach this
            # root-owned temp folder (docs/operations.md).
            script = re.sub(r"^ftpsd (-t|-f) ",
                            r"ftpsd \1 -o run_as_user=root -o allow_root=on ",
                            script, flags=re.M)
        work = tempfile.mkdtemp(prefix="ftpsd-doc-")
        self.addCleanup(shutil.rmtree, work, True)
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([
            os.path.dirname(harness.ftpsd_binary()),
            os.path.dirname(harness.certmgr_binary()), env.get("PATH", "")])
        p = harness.run(["bash", "-e", "-c", script], cwd=work, env=env,
                        timeout=120)
        with open(os.path.join(work, "ftpsd.log")) as f:
            log = f.read()
        detail = describe(p) + "\nftpsd.log:\n" + log
        self.assertEqual(p.returncode, 0, detail)
        self.assertIn("ftpsd: configuration ftpsd.conf ok", p.stdout, detail)
        self.assertEqual(p.stdout.count("hello alice"), 1, detail)
        self.assertRegex(p.stdout, r"rejected: curl exit [1-9]", detail)
        self.assertRegex(log, r"login user=alice result=ok method=cert",
                         detail)
        self.assertRegex(log, r"client certificate refused: unable to get "
                         r"local issuer certificate \(depth 0: CN=alice\)",
                         detail)
        self.assertIn("stopped", log, detail)
        self.assertIsNone(harness._SANITIZER_RE.search(log), detail)


if __name__ == "__main__":
    harness.main()
