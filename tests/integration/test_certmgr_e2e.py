#!/usr/bin/env python3
"""certmgr and ftpsd together (issues 3 and 13, end to end): a certificate
made by `certmgr create` and one signed by `certmgr ca` are served by ftpsd
and accepted by curl with --cacert; the folder's default (`certmgr
default`) is what ftpsd loads when its config names no certificate; a pair
that certmgr would refuse is refused by ftpsd at start, naming the file.
Client certificates: a self-signed one from `certmgr create NAME --client`
listed in tls_client_ca logs in as its CN (the mutual-authentication
recipe of docs/certmgr.md: each side trusts the other's certificate), also
beside a CA whose CRL is checked; an intermediate CA's chain is served and
verified by curl against the root alone.  Every recipe of docs/certmgr.md
runs as written (DocRecipes)."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import describe  # noqa: E402


certmgr_binary = harness.certmgr_binary


class CertmgrServed(unittest.TestCase):

    def setUp(self):
        self.cm = certmgr_binary()
        # No harness-made certificate: every certificate here is certmgr's.
        self.srv = harness.Ftpsd(cert=False, conf={"certificate": None})
        self.addCleanup(self.srv.cleanup)
        with open(self.srv.path("hello.txt"), "w") as f:
            f.write("served over a certmgr certificate\n")

    def certmgr(self, *args):
        p = harness.run([self.cm, "-q", "-d", self.srv.certs_dir] +
                        list(args))
        self.assertEqual(p.returncode, 0, describe(p))
        return p

    def fetch(self, cafile, implicit=False):
        """curl verifying the server against cafile; returns the process."""
        if implicit:
            url = "ftps://localhost:%d/hello.txt" % self.srv.implicit_port
        else:
            url = "ftp://localhost:%d/hello.txt" % self.srv.explicit_port
        pw = self.srv.users["alice"][0]
        argv = ["curl", "--silent", "--show-error", "--cacert", cafile,
                "--connect-timeout", "10", "--max-time", "30",
                "--resolve", "localhost:%d:127.0.0.1"
                % (self.srv.implicit_port if implicit
                   else self.srv.explicit_port),
                "-u", "alice:" + pw, url]
        if not implicit:
            argv.insert(1, "--ssl-reqd")
        return harness.run(argv)

    def assert_served(self, cafile):
        for implicit in (False, True):
            p = self.fetch(cafile, implicit)
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertEqual(p.stdout, "served over a certmgr certificate\n")

    def test_self_signed_from_certmgr_create(self):
        self.certmgr("create", "web", "--cn", "localhost",
                     "--san", "DNS:localhost,IP:127.0.0.1")
        self.srv.extra_conf["certificate"] = "web"
        with self.srv:
            self.assert_served(os.path.join(self.srv.certs_dir, "web.crt"))

    def test_ca_signed_from_certmgr_ca(self):
        self.certmgr("ca", "init", "--cn", "ftpsd test CA")
        self.certmgr("ca", "issue", "srv", "--server", "--cn", "localhost",
                     "--san", "IP:127.0.0.1")
        self.certmgr("create", "other", "--cn", "localhost")
        self.srv.extra_conf["certificate"] = "srv"
        ca = os.path.join(self.srv.certs_dir, "ca", "ca.crt")
        with self.srv:
            self.assert_served(ca)
            # It really is the CA-signed one: a different trust anchor fails.
            p = self.fetch(os.path.join(self.srv.certs_dir, "other.crt"))
            self.assertNotEqual(p.returncode, 0, describe(p))
            self.assertIn("certificate", p.stderr.lower(), describe(p))

    def test_folder_default_is_loaded(self):
        self.certmgr("create", "first", "--cn", "first.invalid")
        self.certmgr("create", "second", "--cn", "localhost")
        self.certmgr("default", "second")
        with self.srv:
            self.assert_served(os.path.join(self.srv.certs_dir,
                                            "second.crt"))

    def test_mismatched_pair_refused_at_start(self):
        self.certmgr("create", "a", "--cn", "localhost")
        self.certmgr("create", "b", "--cn", "localhost")
        d = self.srv.certs_dir
        shutil.copyfile(os.path.join(d, "b.key"), os.path.join(d, "a.key"))
        self.srv.extra_conf["certificate"] = "a"
        rc, log = self.srv.start_expect_failure()
        self.assertNotEqual(rc, 0, log)
        self.assertIn("a.key", log)
        self.assertIn("does not match", log)


def reload(srv, timeout=15):
    """SIGHUP, then waits for "reload: done" in the log."""
    start = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(r"reload: done", srv.log_text()[start:]):
            return
        time.sleep(0.05)
    raise AssertionError("no reload after SIGHUP; log:\n" + srv.log_tail())


class IntermediateCA(unittest.TestCase):
    """
    A root kept apart, an intermediate CA as the folder's CA: the server
    certificate it issues is served with its chain and verified by curl
    against the root alone; its client certificates log in with
    tls_client_ca holding root and intermediate (tls_crl both CRLs), and
    one revoked with `certmgr ca revoke` + `ca crl` is refused after a
    reload.
    """

    def setUp(self):
        self.cm = certmgr_binary()
        self.srv = harness.Ftpsd(cert=False, users={},
                                 conf={"certificate": "srv"})
        self.addCleanup(self.srv.cleanup)
        d = self.srv.certs_dir
        self.root = os.path.join(self.srv.dir, "root")
        self.certmgr("ca", "init", "--ca-dir", self.root, "--cn",
                     "E2E Root")
        self.certmgr("ca", "init", "--cn", "E2E Issuing", "--intermediate",
                     self.root)
        self.certmgr("ca", "issue", "srv", "--cn", "localhost", "--san",
                     "IP:127.0.0.1")
        for name in ("carol", "dan"):
            self.certmgr("ca", "issue", name, "--client", "--cn", name)
            os.makedirs(self.srv.home(name), exist_ok=True)
            with open(self.srv.path("hello.txt", name), "w") as f:
                f.write("hello %s\n" % name)
        self.srv.write_users(["%s::%s:r:cert" % (n, self.srv.home(n))
                              for n in ("carol", "dan")])
        self.certmgr("ca", "crl", "--ca-dir", self.root)
        self.cas = os.path.join(self.srv.dir, "client-cas.pem")
        self.crls = os.path.join(self.srv.dir, "client-crls.pem")
        self.publish()
        self.srv.extra_conf.update({"tls_client_cert": "required",
                                    "tls_client_ca": self.cas,
                                    "tls_crl": self.crls})

    def publish(self):
        """certmgr ca crl, then the bundles the server reads."""
        d = os.path.join(self.srv.certs_dir, "ca")
        self.certmgr("ca", "crl")
        for out, name in ((self.cas, "ca.crt"), (self.crls, "crl.pem")):
            with open(out, "w") as f:
                for folder in (self.root, d):
                    with open(os.path.join(folder, name)) as src:
                        f.write(src.read())

    def certmgr(self, *args):
        p = harness.run([self.cm, "-q", "-d", self.srv.certs_dir] +
                        list(args))
        self.assertEqual(p.returncode, 0, describe(p))
        return p

    def login(self, name):
        d = self.srv.certs_dir
        port = self.srv.explicit_port
        return harness.run([
            "curl", "--silent", "--show-error", "--ssl-reqd",
            "--cacert", os.path.join(self.root, "ca.crt"),
            "--resolve", "localhost:%d:127.0.0.1" % port,
            "--connect-timeout", "10", "--max-time", "30",
            "--cert", os.path.join(d, name + ".crt"),
            "--key", os.path.join(d, name + ".key"),
            "--user", name + ":", "ftp://localhost:%d/hello.txt" % port])

    def test_chain_served_and_revocation_on_reload(self):
        self.assertTrue(os.path.exists(os.path.join(self.srv.certs_dir,
                                                    "srv.chain")))
        with self.srv:
            # curl trusts the root only: the intermediate is served.
            for name in ("carol", "dan"):
                p = self.login(name)
                self.assertEqual(p.returncode, 0, describe(p))
                self.assertEqual(p.stdout, "hello %s\n" % name)
            self.certmgr("ca", "revoke", "dan", "--reason",
                         "keyCompromise")
            self.publish()
            reload(self.srv)
            p = self.login("dan")
            self.assertNotEqual(p.returncode, 0, describe(p))
            self.srv.wait_log(r"client certificate refused: certificate "
                              r"revoked \(depth 0: CN=dan\)")
            p = self.login("carol")
            self.assertEqual(p.returncode, 0, describe(p))

    def test_without_its_chain_curl_fails(self):
        """The control: the same server without srv.chain."""
        os.unlink(os.path.join(self.srv.certs_dir, "srv.chain"))
        with self.srv:
            p = self.login("carol")
            self.assertNotEqual(p.returncode, 0, describe(p))
            self.assertIn("issuer", p.stderr, describe(p))


class ClientCertificates(unittest.TestCase):
    """Client certificates for real user names, made by certmgr."""

    def setUp(self):
        self.cm = certmgr_binary()
        self.srv = harness.Ftpsd(cert=False, users={},
                                 conf={"certificate": "server"})
        self.addCleanup(self.srv.cleanup)
        # The partner's own folder: what the client side keeps.
        self.partner = os.path.join(self.srv.dir, "partner")
        self.certmgr(self.srv.certs_dir, "create", "server", "--cn",
                     "localhost", "--san", "IP:127.0.0.1")

    def certmgr(self, folder, *args):
        p = harness.run([self.cm, "-q", "-d", folder] + list(args))
        self.assertEqual(p.returncode, 0, describe(p))
        return p

    def users(self, *names):
        lines = []
        for name in names:
            os.makedirs(self.srv.home(name), exist_ok=True)
            with open(self.srv.path("hello.txt", name), "w") as f:
                f.write("hello %s\n" % name)
            lines.append("%s::%s:r:cert" % (name, self.srv.home(name)))
        self.srv.write_users(lines)

    def login(self, folder, name, user=None):
        url = "ftp://localhost:%d/hello.txt" % self.srv.explicit_port
        return harness.run([
            "curl", "--silent", "--show-error", "--ssl-reqd",
            "--cacert", os.path.join(self.srv.certs_dir, "server.crt"),
            "--resolve", "localhost:%d:127.0.0.1" % self.srv.explicit_port,
            "--connect-timeout", "10", "--max-time", "30",
            "--cert", os.path.join(folder, name + ".crt"),
            "--key", os.path.join(folder, name + ".key"),
            "--user", (user or name) + ":", url])

    def test_self_signed_client_certificate_logs_in(self):
        """The mutual-authentication recipe: a pinned client certificate."""
        # CNs that are user names but no host names get no DNS name.
        for cn in ("alice_1", "bob@example.com"):
            self.certmgr(self.partner, "create", cn.split("@")[0], "--cn",
                         cn, "--client")
        p = harness.run(["openssl", "x509", "-in",
                         os.path.join(self.partner, "alice_1.crt"),
                         "-noout", "-text"])
        self.assertIn("TLS Web Client Authentication", p.stdout)
        self.assertNotIn("Subject Alternative Name", p.stdout)
        bundle = os.path.join(self.srv.dir, "partners.pem")
        with open(bundle, "w") as out:
            for n in ("alice_1", "bob"):
                with open(os.path.join(self.partner, n + ".crt")) as f:
                    out.write(f.read())
        self.srv.extra_conf.update({"tls_client_cert": "required",
                                    "tls_client_ca": bundle})
        self.users("alice_1", "bob@example.com")
        with self.srv:
            p = self.login(self.partner, "alice_1")
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertEqual(p.stdout, "hello alice_1\n")
            p = self.login(self.partner, "bob", "bob@example.com")
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertEqual(p.stdout, "hello bob@example.com\n")
            # A client certificate not in the list is refused.
            self.certmgr(self.partner, "create", "eve", "--cn", "alice_1",
                         "--client")
            p = self.login(self.partner, "eve", "alice_1")
            self.assertNotEqual(p.returncode, 0, describe(p))
            self.srv.wait_log(r"client certificate refused")

    def test_pinned_beside_a_ca_with_crl(self):
        """tls_crl covers the CA's clients; a pinned one needs no CRL."""
        d = self.srv.certs_dir
        self.certmgr(d, "ca", "init", "--cn", "Users CA")
        self.certmgr(d, "ca", "issue", "carol", "--client", "--cn", "carol")
        self.certmgr(d, "ca", "issue", "dan", "--client", "--cn", "dan")
        self.certmgr(d, "ca", "revoke", "dan")
        self.certmgr(d, "ca", "crl")
        self.certmgr(self.partner, "create", "bob", "--cn", "bob",
                     "--client")
        bundle = os.path.join(self.srv.dir, "clients.pem")
        with open(bundle, "w") as out:
            for f in (os.path.join(d, "ca", "ca.crt"),
                      os.path.join(self.partner, "bob.crt")):
                with open(f) as src:
                    out.write(src.read())
        self.srv.extra_conf.update({
            "tls_client_cert": "required", "tls_client_ca": bundle,
            "tls_crl": os.path.join(d, "ca", "crl.pem")})
        self.users("bob", "carol", "dan")
        with self.srv:
            for folder, name in ((self.partner, "bob"), (d, "carol")):
                p = self.login(folder, name)
                self.assertEqual(p.returncode, 0, describe(p))
                self.assertEqual(p.stdout, "hello %s\n" % name)
            p = self.login(d, "dan")
            self.assertNotEqual(p.returncode, 0, describe(p))
            self.srv.wait_log(r"client certificate refused: certificate "
                              r"revoked \(depth 0: CN=dan\)")


def doc_recipes():
    """(name, script) of every recipe block of docs/certmgr.md, in order."""
    top = os.environ.get("top_srcdir") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(top, "docs", "certmgr.md")) as f:
        text = f.read()
    blocks = re.findall(r"^```sh\n", text, re.M)
    found = re.findall(r"^<!-- recipe: (\S+) -->\n```sh\n(.*?)^```$",
                       text, re.M | re.S)
    return blocks, found


class DocRecipes(unittest.TestCase):
    """
    docs/certmgr.md's recipes, run verbatim by sh -e with certmgr on PATH,
    FTPSD_CERTS_DIR set and an empty working directory.  Recipes "x-1",
    "x-2" share one; an outside CA answers between them where one is
    needed.
    """

    def setUp(self):
        self.cm = certmgr_binary()
        self.dirs = {}

    def tearDown(self):
        for d in self.dirs.values():
            shutil.rmtree(d, ignore_errors=True)

    def run_recipe(self, name, script):
        group = name.rsplit("-", 1)[0] if name[-1].isdigit() else name
        if group not in self.dirs:
            self.dirs[group] = tempfile.mkdtemp(prefix="certmgr-recipe-")
        work = self.dirs[group]
        hook = getattr(self, "before_" + name.replace("-", "_"), None)
        if hook is not None:
            hook(work)
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(self.cm) + os.pathsep + env["PATH"]
        env["FTPSD_CERTS_DIR"] = os.path.join(work, "certs")
        p = subprocess.run(["sh", "-e", "-x", "-c", script], cwd=work,
                           env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, "recipe %s failed\n%s" %
                         (name, describe(p)))
        return p

    def openssl(self, *args, cwd):
        p = harness.run(["openssl"] + list(args), cwd=cwd)
        self.assertEqual(p.returncode, 0, describe(p))

    def before_commercial_2(self, work):
        """An outside CA (root, intermediate) answers the request."""
        o = self.openssl
        o("req", "-x509", "-newkey", "ec", "-pkeyopt",
          "ec_paramgen_curve:P-256", "-nodes", "-keyout", "root.key",
          "-out", "root.crt", "-subj", "/O=Ocean/CN=Ocean Root", "-days",
          "30", "-addext", "basicConstraints=critical,CA:TRUE", cwd=work)
        o("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", "int.key", "-out", "int.csr", "-subj",
          "/O=Ocean/CN=Ocean Issuing CA", cwd=work)
        with open(os.path.join(work, "ca.ext"), "w") as f:
            f.write("basicConstraints=critical,CA:TRUE,pathlen:0\n"
                    "keyUsage=critical,keyCertSign,cRLSign\n")
        o("x509", "-req", "-in", "int.csr", "-CA", "root.crt", "-CAkey",
          "root.key", "-CAcreateserial", "-out", "ca-bundle.pem", "-days",
          "30", "-extfile", "ca.ext", cwd=work)
        with open(os.path.join(work, "leaf.ext"), "w") as f:
            f.write("extendedKeyUsage=serverAuth\n")
        o("x509", "-req", "-in", "request-for-the-ca.csr", "-CA",
          "ca-bundle.pem", "-CAkey", "int.key", "-CAcreateserial",
          "-copy_extensions", "copy", "-extfile", "leaf.ext",
          "-out", "answer-from-ca.crt", "-days", "20", cwd=work)

    def test_every_recipe_runs_as_written(self):
        blocks, recipes = doc_recipes()
        self.assertEqual(len(blocks), len(recipes),
                         "a ```sh block of docs/certmgr.md is no recipe")
        self.assertGreaterEqual(len(recipes), 9)
        for name, script in recipes:
            with self.subTest(recipe=name):
                self.run_recipe(name, script)
        # What the recipes claim, seen from outside.
        certs = os.path.join(self.dirs["commercial"], "certs")
        with open(os.path.join(certs, "www.crt")) as f, \
                open(os.path.join(self.dirs["commercial"],
                                  "answer-from-ca.crt")) as g:
            self.assertEqual(f.read().split("-----END")[0],
                             g.read().split("-----END")[0])
        p = harness.run([self.cm, "-d", os.path.join(
            self.dirs["private-ca"], "certs"), "list"])
        self.assertRegex(p.stdout, r"alice .* revoked ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
