#!/usr/bin/env python3
"""Configuration and start-up: ftpsd -t, bad keys and users lines reported
as FILE:LINE, hash families, certificate chain, default and problems
refused at start naming the file, TLS policy switches, anonymous, umask,
PASV range and address, -o overrides, IPv6.  Limits and signals are in
test_limits.py."""

import ftplib
import io
import os
import re
import socket
import ssl
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HOST, Ftpsd, describe, ftp_reply  # noqa: E402


class CheckMode(unittest.TestCase):
    """ftpsd -t: problems printed as FILE:LINE: message, exit 0 or 2."""

    def setUp(self):
        self.srv = Ftpsd()
        self.addCleanup(self.srv.cleanup)

    def test_good_config_exits_0(self):
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 0, describe(p))

    def test_bad_keys_and_values_reported_with_line(self):
        self.srv.check_config()
        path = os.path.join(self.srv.dir, "bad.conf")
        good = open(self.srv.conf_file).read().splitlines()
        lines = good + ["# comment", "no_such_key = 1",
                        "idle_timeout = soon", "tls = maybe",
                        "explicit_port = 70000", "this line has no equals"]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        p = self.srv.check_config(path=path)
        self.assertEqual(p.returncode, 2, describe(p))
        out = p.stdout + p.stderr
        first = len(good) + 2
        for n in range(first, first + 5):
            self.assertRegex(out, r"(?m)%s:%d: \S" % (re.escape(path), n),
                             "line %d not reported\n%s" % (n, describe(p)))
        self.assertIn("no_such_key", out)

    def test_bad_override_reported(self):
        p = self.srv.check_config("-o", "max_clients=lots")
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertIn("max_clients", p.stdout + p.stderr)

    def test_control_socket_folder_checked_nothing_made(self):
        d = self.srv.dir
        afile = os.path.join(d, "afile")
        with open(afile, "w") as f:
            f.write("x")
        bad = [
            (os.path.join(d, "nope", "deeper", "control"),
             r"its folder \S+/nope/deeper does not exist and cannot be "
             r"made in \S+/nope: No such file or directory"),
            (os.path.join(afile, "control"),
             r"its folder \S+/afile: not a folder"),
            (afile, r"exists and is not a socket"),
        ]
        for path, why in bad:
            p = self.srv.check_config("-o", "control_socket=" + path)
            self.assertEqual(p.returncode, 2, describe(p))
            self.assertRegex(p.stderr, r"(?m)^ftpsd: control_socket %s: %s$"
                             % (re.escape(path), why), describe(p))
        # A missing last folder is fine (ftpsd makes it), and -t makes
        # neither the folder nor the socket.
        path = os.path.join(d, "run", "control")
        p = self.srv.check_config("-o", "control_socket=" + path)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertFalse(os.path.exists(os.path.dirname(path)))
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertFalse(os.path.exists(self.srv.config()["control_socket"]))

    def test_metrics_listen_checked(self):
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind((HOST, 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        for addr, why in (("%s:%d" % (HOST, port), "Address already in use"),
                          ("192.0.2.1:9100", "Cannot assign requested "
                           "address")):
            p = self.srv.check_config("-o", "metrics_listen=" + addr)
            self.assertEqual(p.returncode, 2, describe(p))
            self.assertRegex(p.stderr, r"(?m)^ftpsd: metrics_listen %s: "
                             r"cannot bind: %s$" % (re.escape(addr), why),
                             describe(p))
        taken.close()
        # Free: ok, and still free afterwards (bound, never listened on).
        p = self.srv.check_config("-o", "metrics_listen=%s:%d"
                                  % (HOST, port))
        self.assertEqual(p.returncode, 0, describe(p))
        again = socket.socket()
        self.addCleanup(again.close)
        again.bind((HOST, port))
        again.close()
        # In use by the running ftpsd itself (what systemctl reload runs
        # first): ok.
        self.srv.extra_conf["metrics_listen"] = "%s:%d" % (HOST, port)
        self.srv.start()
        self.addCleanup(self.srv.stop)
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 0, describe(p))
        # While it runs, another port some other program holds is still
        # an error (a restart would fail to bind it).
        other = socket.socket()
        self.addCleanup(other.close)
        other.bind((HOST, 0))
        other.listen(1)
        addr = "%s:%d" % (HOST, other.getsockname()[1])
        p = self.srv.check_config("-o", "metrics_listen=" + addr)
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertRegex(p.stderr, r"(?m)^ftpsd: metrics_listen %s: cannot "
                         r"bind: Address already in use$" % re.escape(addr),
                         describe(p))

    def test_bad_users_line_reported(self):
        self.srv.write_users(["broken line without fields",
                              "carol:$y$bad:relative/home:rw",
                              "dave:%s:%s:rwx?" % (
                                  harness.hash_password("x"),
                                  self.srv.home())])
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 2, describe(p))
        out = p.stdout + p.stderr
        uf = re.escape(self.srv.users_file)
        n = 1 + len(self.srv.users)
        self.assertRegex(out, r"(?m)%s:%d: \S" % (uf, n + 1), describe(p))
        self.assertRegex(out, r"(?m)%s:%d: \S" % (uf, n + 2), describe(p))
        self.assertRegex(out, r"(?m)%s:%d: \S" % (uf, n + 3), describe(p))

    def test_sample_config_is_valid(self):
        top = os.environ.get("top_srcdir") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..")
        sample = os.path.join(top, "config", "ftpsd.conf.sample")
        self.assertTrue(os.path.exists(sample), "missing " + sample)
        self.srv.check_config()
        p = self.srv.check_config(
            "-o", "certs_dir=" + self.srv.certs_dir,
            "-o", "certificate=server",
            "-o", "users_file=" + self.srv.users_file,
            # As root, -t checks that run_as_user (default ftpsd) exists.
            "-o", "run_as_user=root", "-o", "allow_root=on", path=sample)
        self.assertEqual(p.returncode, 0, describe(p))
        # Every config key is documented in the sample.
        text = open(sample).read()
        for key in ("listen_addresses", "explicit_port", "implicit_port",
                    "tls", "data_tls", "data_session_reuse", "certs_dir",
                    "certificate", "pasv_min_port", "pasv_max_port",
                    "pasv_address", "users_file", "anonymous",
                    "anonymous_root", "max_clients", "max_clients_per_ip",
                    "idle_timeout", "login_timeout", "data_timeout",
                    "auth_threads", "file_umask", "log", "log_debug"):
            self.assertRegex(text, r"(?m)^#?\s*%s\s*=" % key, key)


def libcrypt(password, salt):
    """crypt(3) through Python's binding (deprecated, still present)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return crypt.crypt(password, salt)


def mksalt(method):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    if method == "bcrypt":
        return crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)
    return crypt.mksalt(crypt.METHOD_SHA512)


class Accounts(unittest.TestCase):
    """The users file: crypt(3) hash families, malformed lines skipped."""

    def test_hash_password_gives_yescrypt(self):
        h = harness.hash_password("correct horse")
        self.assertTrue(h.startswith("$y$"), h)
        self.assertEqual(libcrypt("correct horse", h), h)
        self.assertNotEqual(libcrypt("wrong horse", h), h)

    def test_bcrypt_sha512_yescrypt_and_bad_lines(self):
        srv = Ftpsd()
        self.addCleanup(srv.cleanup)
        lines = []
        for name, method in (("bcuser", "bcrypt"), ("shauser", "sha512")):
            os.makedirs(srv.home(name))
            lines.append("%s:%s:%s:rw" % (
                name, libcrypt("pw-" + name, mksalt(method)),
                srv.home(name)))
        os.makedirs(srv.home("broken"))
        lines.append("broken:%s:%s" % (harness.hash_password("pw-broken"),
                                       srv.home("broken")))
        srv.write_users(lines)
        srv.start()
        self.addCleanup(srv.stop)
        for name in ("bcuser", "shauser", "alice"):
            pw = srv.users[name][0] if name in srv.users else "pw-" + name
            ftp = srv.ftp(login=False)
            self.addCleanup(harness.close_ftp, ftp)
            self.assertTrue(ftp.login(name, pw).startswith("230"), name)
            ftp.close()
            ftp = srv.ftp(login=False)
            self.addCleanup(harness.close_ftp, ftp)
            self.assertTrue(ftp_reply(ftp.login, name, pw + "x")
                            .startswith("530"), name)
        # The malformed line (no perms field) loaded no user.
        ftp = srv.ftp(login=False)
        self.addCleanup(harness.close_ftp, ftp)
        self.assertTrue(ftp_reply(ftp.login, "broken", "pw-broken")
                        .startswith("530"))
        self.assertRegex(srv.log_text(), r"%s:%d: \S" % (
            re.escape(srv.users_file), 2 + len(srv.users) + 2))


def make_chain(certs_dir, name):
    """root -> intermediate -> NAME.crt, with NAME.chain = intermediate."""
    work = os.path.join(certs_dir, "..", "pki")
    os.makedirs(work, exist_ok=True)
    w = lambda f: os.path.join(work, f)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ca_ext = w("ca.ext")
    with open(ca_ext, "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\n"
                "keyUsage=critical,keyCertSign,cRLSign\n")
    leaf_ext = w("leaf.ext")
    with open(leaf_ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    crt = os.path.join(certs_dir, name + ".crt")
    key = os.path.join(certs_dir, name + ".key")
    for argv in (
            ["openssl", "req", "-x509"] + ec + [
                "-keyout", w("root.key"), "-out", w("root.crt"), "-subj",
                "/CN=ftpsd test root", "-days", "30", "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext",
                "keyUsage=critical,keyCertSign,cRLSign"],
            ["openssl", "req", "-new"] + ec + [
                "-keyout", w("inter.key"), "-out", w("inter.csr"), "-subj",
                "/CN=ftpsd test intermediate"],
            ["openssl", "x509", "-req", "-in", w("inter.csr"), "-CA",
             w("root.crt"), "-CAkey", w("root.key"), "-CAcreateserial",
             "-out", w("inter.crt"), "-days", "30", "-extfile", ca_ext],
            ["openssl", "req", "-new"] + ec + [
                "-keyout", key, "-out", w("leaf.csr"), "-subj",
                "/CN=localhost"],
            ["openssl", "x509", "-req", "-in", w("leaf.csr"), "-CA",
             w("inter.crt"), "-CAkey", w("inter.key"), "-CAcreateserial",
             "-out", crt, "-days", "30", "-extfile", leaf_ext]):
        p = harness.run(argv)
        if p.returncode != 0:
            raise AssertionError(describe(p))
    os.chmod(key, 0o600)
    with open(w("inter.crt")) as f, \
            open(os.path.join(certs_dir, name + ".chain"), "w") as g:
        g.write(f.read())
    return w("root.crt")


class CertificateSelection(unittest.TestCase):
    """NAME.chain is sent; without `certificate` the folder's default."""

    def served_subject(self, srv):
        p = srv.s_client(["-ign_eof"])
        m = re.search(r"(?m)^subject=(.*)$", p.stdout)
        self.assertIsNotNone(m, describe(p))
        return m.group(1)

    def test_chain_is_sent(self):
        srv = Ftpsd()
        self.addCleanup(srv.cleanup)
        root = make_chain(srv.certs_dir, "server")
        srv.start()
        self.addCleanup(srv.stop)
        with open(srv.path("c.txt"), "wb") as f:
            f.write(b"chain\n")
        # The client trusts only the root: it needs the intermediate.
        ctx = ssl.create_default_context(cafile=root)
        for implicit in (False, True):
            ftp = srv.ftp(ctx=ctx, implicit=implicit)
            self.addCleanup(harness.close_ftp, ftp)
            buf = io.BytesIO()
            ftp.retrbinary("RETR c.txt", buf.write)
            self.assertEqual(buf.getvalue(), b"chain\n")

    def test_folder_default(self):
        srv = Ftpsd(conf={"certificate": None})
        self.addCleanup(srv.cleanup)
        # One pair: it is the default.
        srv.start()
        self.assertRegex(self.served_subject(srv), r"CN ?= ?localhost")
        srv.stop()
        # Two pairs, .default names the second.
        harness.make_cert(srv.certs_dir, "second", cn="second.example")
        with open(os.path.join(srv.certs_dir, ".default"), "w") as f:
            f.write("second\n")
        srv.start()
        self.addCleanup(srv.stop)
        self.assertRegex(self.served_subject(srv), r"second\.example")

    def test_two_pairs_no_default_refused(self):
        srv = Ftpsd(conf={"certificate": None})
        self.addCleanup(srv.cleanup)
        harness.make_cert(srv.certs_dir, "second", cn="second.example")
        rc, log = srv.start_expect_failure()
        self.assertNotEqual(rc, 0, log)
        self.assertIn(srv.certs_dir, log)


class CertificateProblems(unittest.TestCase):
    """Start-up is refused, naming the file, for every certificate fault."""

    def setUp(self):
        self.srv = Ftpsd()
        self.addCleanup(self.srv.cleanup)

    def refused(self, name_re):
        rc, log = self.srv.start_expect_failure()
        self.assertNotEqual(rc, 0, log)
        self.assertRegex(log, name_re, "the file is not named:\n" + log)
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertRegex(p.stdout + p.stderr, name_re, describe(p))

    def test_missing_certificate(self):
        self.srv.extra_conf["certificate"] = "nosuchcert"
        self.refused(r"nosuchcert\.crt")

    def test_missing_key(self):
        os.unlink(self.srv.keyfile)
        self.refused(r"server\.key")

    def test_key_does_not_match(self):
        other_crt, other_key = harness.make_cert(self.srv.certs_dir, "other")
        os.replace(other_key, self.srv.keyfile)
        self.refused(r"server\.(key|crt)")

    def test_expired_certificate(self):
        harness.make_cert(self.srv.certs_dir, "server", expired=True)
        self.refused(r"server\.crt")

    def test_unreadable_key(self):
        os.unlink(self.srv.keyfile)
        os.mkdir(self.srv.keyfile)
        self.refused(r"server\.key")

    def test_garbage_certificate(self):
        with open(self.srv.cafile, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64\n")
        self.refused(r"server\.crt")


def openssl_cert(path, subj, exts, key=None):
    """A self-signed EC certificate at path with the -addext list exts."""
    key = key or path + ".key"
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
            path, "-subj", subj, "-days", "30"]
    for e in exts:
        argv += ["-addext", e]
    p = harness.run(argv)
    if p.returncode != 0:
        raise AssertionError("openssl req failed\n" + describe(p))
    return path


@unittest.skipUnless(os.geteuid() == 0, "needs root (the harness runs "
                     "as root): checks as another user")
class ReloadChecks(unittest.TestCase):
    """
    ftpsd -t run as root checks what the daemon reads again once it is
    run_as_user (nobody here): a reload re-reads the configuration,
    users file, certificate and key as that user, and logins open the
    homes as that user.  Everything below starts owned by nobody and
    passes; each test takes one thing away.
    """

    USER = "nobody"

    def setUp(self):
        import pwd
        self.pw = pwd.getpwnam(self.USER)
        self.srv = Ftpsd()
        self.addCleanup(self.srv.cleanup)
        self.srv.check_config()     # writes ftpsd.conf
        for root, dirs, files in os.walk(self.srv.dir):
            for n in [root] + [os.path.join(root, f) for f in dirs + files]:
                os.chown(n, self.pw.pw_uid, self.pw.pw_gid)

    def check(self, *extra):
        return self.srv.check_config("-o", "run_as_user=" + self.USER,
                                     *extra, path=self.srv.conf_file)

    def take(self, path, mode=0o600):
        """path becomes root's, mode 0600 (0700 for folders)."""
        os.chown(path, 0, 0)
        os.chmod(path, mode | (0o100 if os.path.isdir(path) else 0))

    def assert_problem(self, regex):
        p = self.check()
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertRegex(p.stderr, regex, describe(p))
        return p

    def assert_warning(self, regex):
        """Homes are warnings: one account's folder must not stop the
        service (the unit runs -t before every start)."""
        p = self.check()
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertRegex(p.stderr, regex, describe(p))
        return p

    def test_all_readable_by_the_user_is_ok(self):
        p = self.check()
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertNotIn("not readable", p.stderr)

    def test_key_only_root_can_read(self):
        # What `certmgr create` run as root used to leave behind.
        self.take(self.srv.keyfile)
        self.assert_problem(r"(?m)^%s: not readable by run_as_user nobody: "
                            r"Permission denied .*chown nobody"
                            % re.escape(self.srv.keyfile))

    def test_certs_dir_only_root_can_read(self):
        self.take(self.srv.certs_dir)
        self.assert_problem(r"(?m)^certs_dir: %s: not readable by "
                            r"run_as_user nobody: Permission denied"
                            % re.escape(self.srv.certs_dir))

    def test_users_file_and_configuration_only_root_can_read(self):
        self.take(self.srv.users_file)
        self.take(self.srv.conf_file)
        p = self.assert_problem(r"(?m)^users_file: %s: not readable by "
                                r"run_as_user nobody: .*chgrp \S+ %s"
                                % (re.escape(self.srv.users_file),
                                   re.escape(self.srv.users_file)))
        self.assertRegex(p.stderr, r"(?m)^configuration: %s: not readable"
                         % re.escape(self.srv.conf_file), describe(p))

    def test_missing_home_named_with_users_file_line(self):
        missing = os.path.join(self.srv.dir, "home", "carol")
        self.srv.write_users(["carol:%s:%s:rw" % (
            harness.hash_password("x"), missing)])
        line = 2 + len(self.srv.users)
        self.assert_warning(r"(?m)^%s:%d: user carol: warning: home %s "
                            r"does not exist .*: create it \(install -d -o "
                            r"nobody"
                            % (re.escape(self.srv.users_file), line,
                               re.escape(missing)))

    def test_home_the_user_cannot_list_or_enter(self):
        self.take(self.srv.home("bob"))
        self.assert_warning(r"(?m)^%s:3: user bob: warning: home %s cannot be "
                            r"listed by run_as_user nobody: Permission "
                            r"denied" % (re.escape(self.srv.users_file),
                                         re.escape(self.srv.home("bob"))))
        # A folder above it that the user cannot search: no login at all.
        self.take(os.path.dirname(self.srv.home("bob")))
        self.assert_warning(r"(?m)^%s:\d+: user alice: warning: home %s is "
                            r"not accessible to run_as_user nobody"
                            % (re.escape(self.srv.users_file),
                               re.escape(self.srv.home("alice"))))

    def test_transfer_log_the_user_cannot_write(self):
        logdir = os.path.join(self.srv.dir, "log")
        os.mkdir(logdir)
        xfer = os.path.join(logdir, "xferlog")
        p = self.check("-o", "xferlog_file=" + xfer)
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertRegex(p.stderr, r"(?m)^xferlog_file: %s: not writable by "
                         r"run_as_user nobody: Permission denied .*chown "
                         r"nobody %s" % (re.escape(logdir), re.escape(logdir)),
                         describe(p))
        os.chown(logdir, self.pw.pw_uid, self.pw.pw_gid)
        p = self.check("-o", "xferlog_file=" + xfer)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertFalse(os.path.exists(xfer), "-t created the log")
        with open(xfer, "w"):
            pass
        p = self.check("-o", "xferlog_file=" + xfer)
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertRegex(p.stderr, r"(?m)^xferlog_file: %s: not writable"
                         % re.escape(xfer), describe(p))

    def test_missing_home_also_as_root(self):
        """run_as_user root: the homes are still checked, by -t itself."""
        missing = os.path.join(self.srv.dir, "nohome")
        self.srv.write_users(["carol:%s:%s:r" % (
            harness.hash_password("x"), missing)])
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertRegex(p.stderr, r"(?m)^%s:\d+: user carol: warning: home %s does "
                         r"not exist" % (re.escape(self.srv.users_file),
                                         re.escape(missing)), describe(p))


class CheckClientCAs(unittest.TestCase):
    """Every tls_client_ca certificate must be able to verify clients."""

    def setUp(self):
        self.srv = Ftpsd()
        self.addCleanup(self.srv.cleanup)
        self.dir = self.srv.dir

    def check(self, *certs):
        bundle = os.path.join(self.dir, "clientca.pem")
        with open(bundle, "w") as f:
            for c in certs:
                with open(c) as src:
                    f.write(src.read())
        return self.srv.check_config("-o", "tls_client_cert=optional",
                                     "-o", "tls_client_ca=" + bundle)

    def ca(self, name, *exts):
        return openssl_cert(os.path.join(self.dir, name + ".pem"),
                            "/CN=" + name,
                            ["basicConstraints=critical,CA:TRUE",
                             "keyUsage=critical,keyCertSign,cRLSign"]
                            + list(exts))

    def test_client_ca_is_ok(self):
        p = self.check(self.ca("goodca"),
                       self.ca("clientca", "extendedKeyUsage=clientAuth"))
        self.assertEqual(p.returncode, 0, describe(p))

    def test_server_auth_only_ca_named_with_fix(self):
        good = self.ca("goodca")
        bad = self.ca("srvca", "extendedKeyUsage=serverAuth")
        p = self.check(good, bad)
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertRegex(p.stderr, r"certificate 2 \(/?CN ?= ?srvca\) is a CA "
                         r"whose extendedKeyUsage does not allow clientAuth"
                         r".*reissue the CA with clientAuth", describe(p))
        # The server refuses to start on it too, for the same reason.
        self.srv.extra_conf.update({"tls_client_cert": "optional",
                                    "tls_client_ca": os.path.join(
                                        self.dir, "clientca.pem")})
        rc, log = self.srv.start_expect_failure()
        self.assertNotEqual(rc, 0, log)
        self.assertIn("extendedKeyUsage", log)

    def test_leaf_certificate_named_with_fix(self):
        """A CA's leaf listed alone cannot end its chain."""
        ca = self.ca("leafca")
        leaf = os.path.join(self.dir, "leaf.pem")
        p = harness.run(["openssl", "req", "-x509", "-newkey", "ec",
                         "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                         "-keyout", leaf + ".key", "-out", leaf, "-subj",
                         "/CN=leaf", "-days", "30", "-CA", ca, "-CAkey",
                         ca + ".key", "-addext",
                         "basicConstraints=critical,CA:FALSE", "-addext",
                         "extendedKeyUsage=clientAuth"])
        self.assertEqual(p.returncode, 0, describe(p))
        p = self.check(leaf)
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertRegex(p.stderr, r"certificate 1 \(/?CN ?= ?leaf\) is not a "
                         r"CA certificate.*list the CA that signed them",
                         describe(p))

    def test_self_signed_client_certificate_is_pinned(self):
        """A client's own certificate (issue 13): its own trust anchor."""
        own = openssl_cert(os.path.join(self.dir, "bob.pem"), "/CN=bob",
                           ["basicConstraints=critical,CA:FALSE",
                            "extendedKeyUsage=clientAuth"])
        p = self.check(self.ca("goodca"), own)
        self.assertEqual(p.returncode, 0, describe(p))

    def test_self_signed_server_certificate_named_with_fix(self):
        srv = openssl_cert(os.path.join(self.dir, "srv.pem"), "/CN=srv",
                           ["basicConstraints=critical,CA:FALSE",
                            "extendedKeyUsage=serverAuth"])
        p = self.check(srv)
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertRegex(p.stderr, r"certificate 1 \(/?CN ?= ?srv\) is a "
                         r"self-signed certificate not made for clients.*"
                         r"certmgr create NAME --client", describe(p))


class CheckCertificate(unittest.TestCase):
    """The served certificate: expiry warning, name with an extension."""

    def setUp(self):
        self.srv = Ftpsd()
        self.addCleanup(self.srv.cleanup)

    def test_expiring_soon_is_a_warning_exit_0(self):
        # The harness's certificate lasts 30 days.
        p = self.srv.check_config("-o", "cert_warn_days=45")
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertRegex(p.stderr, r"warning: certificate \S+ expires in "
                         r"(29|30) days.*cert_warn_days = 45", describe(p))
        p = self.srv.check_config("-o", "cert_warn_days=10")
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertNotIn("expires in", p.stderr)

    def test_name_with_extension_is_the_pair(self):
        for name in ("server.crt", "server.key"):
            self.srv.extra_conf["certificate"] = name
            p = self.srv.check_config()
            self.assertEqual(p.returncode, 0, describe(p))
        self.srv.start()
        with self.srv.ftp() as ftp:
            self.assertEqual(ftp.pwd(), "/")
        self.srv.stop()

    def test_name_with_extension_and_no_pair(self):
        self.srv.extra_conf["certificate"] = "other.crt"
        p = self.srv.check_config()
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertIn("other.crt", p.stderr)


class Policies(unittest.TestCase):
    """TLS policy switches, anonymous, umask, PASV settings."""

    def server(self, conf, **kw):
        srv = Ftpsd(conf=conf, **kw)
        srv.start()
        self.addCleanup(srv.cleanup)
        self.addCleanup(srv.stop)
        with open(srv.path("hello.txt"), "wb") as f:
            f.write(b"hello\n")
        return srv

    def plain_ftp(self, srv):
        ftp = ftplib.FTP(timeout=harness.SOCK_TIMEOUT)
        self.addCleanup(harness.close_ftp, ftp)
        ftp.connect(HOST, srv.explicit_port)
        return ftp

    def test_tls_optional_with_required_data_tls(self):
        srv = self.server({"tls": "optional"})
        ftp = self.plain_ftp(srv)
        ftp.login("alice", srv.users["alice"][0])
        self.assertReply(ftp_reply(ftp.retrlines, "LIST", print), 521)
        # TLS clients still work as usual.
        f = srv.ftp()
        self.addCleanup(harness.close_ftp, f)
        self.assertIn("hello.txt", f.nlst())

    def test_tls_optional_data_optional_plain_session(self):
        srv = self.server({"tls": "optional", "data_tls": "optional"})
        ftp = self.plain_ftp(srv)
        ftp.login("alice", srv.users["alice"][0])
        self.assertIn("hello.txt", ftp.nlst())
        ftp.storbinary("STOR plain.txt", io.BytesIO(b"plain"))
        with open(srv.path("plain.txt"), "rb") as f:
            self.assertEqual(f.read(), b"plain")

    def test_data_tls_optional_prot_c_over_tls_control(self):
        srv = self.server({"data_tls": "optional"})
        ftp = srv.ftp(prot_p=False)
        self.addCleanup(harness.close_ftp, ftp)
        ftp.sendcmd("PBSZ 0")  # ftplib's prot_c() sends PROT C alone
        ftp.prot_c()
        buf = io.BytesIO()
        ftp.retrbinary("RETR hello.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"hello\n")
        # Clear data channels (the sendfile path): 10 MiB both ways, REST.
        sha = harness.write_random(srv.path("big.bin"), 10 * harness.MiB)
        with open(srv.path("big.bin"), "rb") as f:
            big = f.read()
        h = harness.hashlib.sha256()
        ftp.retrbinary("RETR big.bin", h.update)
        self.assertEqual(h.hexdigest(), sha)
        buf = io.BytesIO()
        ftp.retrbinary("RETR big.bin", buf.write, rest=3 * harness.MiB + 1)
        self.assertEqual(buf.getvalue(), big[3 * harness.MiB + 1:])
        ftp.storbinary("STOR up.bin", io.BytesIO(big))
        self.assertEqual(harness.sha256_file(srv.path("up.bin")), sha)
        # PROT P still works on the same session.
        ftp.prot_p()
        self.assertIn("hello.txt", ftp.nlst())
        # Plaintext control is still refused (tls = required).
        with srv.raw() as rc:
            rc.resp()
            self.assertReply(rc.cmd("USER alice"), (530, 534))

    def test_tls_off(self):
        srv = self.server({"tls": "off", "data_tls": "optional",
                           "implicit_port": 0}, implicit=False)
        with srv.raw() as rc:
            self.assertReply(rc.resp(), 220)
            code, text = rc.cmd("AUTH TLS")
            self.assertTrue(500 <= code < 600, text)
        ftp = self.plain_ftp(srv)
        ftp.login("alice", srv.users["alice"][0])
        self.assertIn("hello.txt", ftp.nlst())

    def test_anonymous_when_configured(self):
        srv = Ftpsd(conf={"anonymous": "yes"})
        self.addCleanup(srv.cleanup)
        root = os.path.join(srv.dir, "pub")
        os.makedirs(root)
        with open(os.path.join(root, "pub.txt"), "wb") as f:
            f.write(b"public\n")
        srv.extra_conf["anonymous_root"] = root
        srv.start()
        self.addCleanup(srv.stop)
        for user in ("anonymous", "ftp"):
            ftp = srv.ftp(login=False)
            self.addCleanup(harness.close_ftp, ftp)
            ftp.login(user, "guest@example.com")
            ftp.prot_p()
            buf = io.BytesIO()
            ftp.retrbinary("RETR pub.txt", buf.write)
            self.assertEqual(buf.getvalue(), b"public\n")
            r = ftp_reply(ftp.storbinary, "STOR up.txt", io.BytesIO(b"x"))
            self.assertTrue(r.startswith("5"), r)
            self.assertFalse(os.path.exists(os.path.join(root, "up.txt")))
        # anonymous without anonymous_root is a config error.
        bad = Ftpsd(conf={"anonymous": "yes"})
        self.addCleanup(bad.cleanup)
        p = bad.check_config()
        self.assertEqual(p.returncode, 2, describe(p))
        self.assertIn("anonymous_root", p.stdout + p.stderr)

    def test_file_umask(self):
        srv = self.server({"file_umask": "077"})
        ftp = srv.ftp()
        self.addCleanup(harness.close_ftp, ftp)
        ftp.storbinary("STOR m.txt", io.BytesIO(b"m"))
        self.assertEqual(os.stat(srv.path("m.txt")).st_mode & 0o777, 0o600)

    def test_pasv_range_and_address(self):
        base = harness.free_port_range(10)
        srv = self.server({"pasv_min_port": base,
                           "pasv_max_port": base + 9,
                           "pasv_address": "127.0.0.3"})
        ftp = srv.ftp()
        self.addCleanup(harness.close_ftp, ftp)
        for _ in range(3):
            text = ftp.sendcmd("PASV")
            self.assertIn("(127,0,0,3,", text)
            m = re.search(r"(\d+),(\d+)\)", text)
            port = int(m.group(1)) * 256 + int(m.group(2))
            self.assertTrue(base <= port <= base + 9, text)
            # ftplib connects to the control peer, as NAT clients do.
            buf = io.BytesIO()
            ftp.retrbinary("RETR hello.txt", buf.write)
            self.assertEqual(buf.getvalue(), b"hello\n")
        text = ftp.sendcmd("EPSV")
        port = int(re.search(r"\|\|\|(\d+)\|", text).group(1))
        self.assertTrue(base <= port <= base + 9, text)

    def test_small_pasv_range_many_transfers(self):
        # Three ports, thirty transfers: closed data connections leave
        # ports in TIME_WAIT, and the server must still find one.
        base = harness.free_port_range(3)
        srv = self.server({"pasv_min_port": base,
                           "pasv_max_port": base + 2})
        ftp = srv.ftp()
        self.addCleanup(harness.close_ftp, ftp)
        for i in range(30):
            buf = io.BytesIO()
            ftp.retrbinary("RETR hello.txt", buf.write)
            self.assertEqual(buf.getvalue(), b"hello\n", i)
            ftp.storbinary("STOR s%d.txt" % i, io.BytesIO(b"s"))

    def test_ports_can_be_off(self):
        for explicit, implicit in ((True, False), (False, True)):
            srv = Ftpsd(explicit=explicit, implicit=implicit)
            self.addCleanup(srv.cleanup)
            with open(srv.path("on.txt"), "wb") as f:
                f.write(b"on\n")
            srv.start()
            log = srv.log_text()
            self.assertEqual("(explicit)" in log, explicit, log)
            self.assertEqual("(implicit)" in log, implicit, log)
            ftp = srv.ftp(implicit=implicit)
            self.assertEqual(ftp.nlst(), ["on.txt"])
            harness.close_ftp(ftp)
            srv.stop()

    def test_data_session_reuse_off(self):
        srv = self.server({"data_session_reuse": "off"})
        for cls in (harness.FTP_TLS_Stock, harness.FTP_TLS_Reuse):
            ftp = srv.ftp(cls=cls)
            self.addCleanup(harness.close_ftp, ftp)
            buf = io.BytesIO()
            ftp.retrbinary("RETR hello.txt", buf.write)
            self.assertEqual(buf.getvalue(), b"hello\n")

    def test_override_on_command_line(self):
        srv = Ftpsd(conf={"login_timeout": 60},
                    extra_args=["-o", "login_timeout=1"])
        self.addCleanup(srv.cleanup)
        srv.start()
        self.addCleanup(srv.stop)
        with srv.raw() as rc:
            self.assertReply(rc.resp(), 220)
            t0 = time.monotonic()
            self.assertReply(rc.resp(), 421)
            self.assertLess(time.monotonic() - t0, 10)

    def test_ipv6_listener(self):
        srv = Ftpsd(conf={"listen_addresses": "::1, 127.0.0.1"},
                    port_host="::1")
        self.addCleanup(srv.cleanup)
        srv.start()
        self.addCleanup(srv.stop)
        with open(srv.path("six.txt"), "wb") as f:
            f.write(b"six\n")
        for scheme, port, extra in (("ftp", srv.explicit_port,
                                     ["--ssl-reqd"]),
                                    ("ftps", srv.implicit_port, [])):
            for host in ("[::1]", HOST):
                p = srv.curl(*extra, "-v", "%s://alice:%s@%s:%d/six.txt"
                             % (scheme, srv.users["alice"][0], host, port))
                self.assertEqual(p.returncode, 0, describe(p))
                self.assertEqual(p.stdout, "six\n")
                self.assertRegex(p.stderr, r"> EPSV")

    def test_pasv_address_not_given_to_ipv6(self):
        # pasv_address is IPv4: over an IPv6 control connection PASV must
        # send the client to EPSV, not to an address whose port listens
        # on IPv6 only.
        srv = Ftpsd(conf={"listen_addresses": "::1, 127.0.0.1",
                          "pasv_address": "127.0.0.3"},
                    port_host="::1")
        self.addCleanup(srv.cleanup)
        srv.start()
        self.addCleanup(srv.stop)
        for host, want in (("::1", 425), (HOST, 227)):
            with harness.RawControl(host, srv.explicit_port) as rc:
                self.assertReply(rc.resp(), 220)
                self.assertReply(rc.cmd("AUTH TLS"), 234)
                rc.starttls(srv.client_context())
                self.assertReply(rc.cmd("USER alice"), 331)
                self.assertReply(rc.cmd("PASS " + srv.users["alice"][0]),
                                 230)
                code, text = rc.cmd("PASV")
                self.assertEqual(code, want, text)
                if want == 425:
                    self.assertIn("EPSV", text)
                    code, text = rc.cmd("EPSV")
                    self.assertEqual(code, 229, text)
                else:
                    self.assertIn("(127,0,0,3,", text)

    def assertReply(self, reply, codes):
        harness.ServerTestCase.assertReply(self, reply, codes)


if __name__ == "__main__":
    harness.main()
