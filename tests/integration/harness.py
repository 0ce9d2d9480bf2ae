"""
Integration test harness: a real ftpsd on free loopback ports, driven by
real clients (curl, lftp, Python ftplib, openssl s_client).

Every test file imports this module, builds an Ftpsd (temp dir, cert,
users, homes, config), starts it, and talks to it.  Everything is bounded:
subprocesses by SUBPROC_TIMEOUT, sockets by SOCK_TIMEOUT, server start-up
by READY_TIMEOUT.  Nothing is skipped: a missing client program or binary
fails the test with a message saying what to install.

See docs/testing.md for how to run one test and the API.
"""

import ftplib
import hashlib
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

SUBPROC_TIMEOUT = 60
SOCK_TIMEOUT = 30
READY_TIMEOUT = 10
STOP_TIMEOUT = 10
HOST = "127.0.0.1"
FOREIGN_HOST = "127.0.0.2"
MiB = 1024 * 1024

# Default accounts of every test server: name -> (password, perms).
USERS = {
    "alice": ("alice-Pw-7c1f", "rw"),
    "bob": ("bob-Pw-3e9a", "r"),
}

# The 522 of each cause of a refused data connection (server/tls.c):
# cause -> (start of the reply, start of the log line).
REFUSED = {
    "none": ("522 Data connection offered no TLS session to resume",
             "data tls refused: no TLS session offered to resume: this "
             "client does not reuse the control session (allow it per user "
             "with data_session_reuse = optional)"),
    "foreign": ("522 Data connection resumed the TLS session of another "
                "control connection",
                "data tls refused: data connection resumed another control "
                "connection's session"),
    "expired": ("522 The TLS session offered for the data connection has "
                "expired",
                "data tls refused: the ticket offered has expired"),
    "unknown": ("522 The TLS session offered for the data connection is "
                "not one this server holds",
                "data tls refused: the session offered cannot be resumed"),
}

_SANITIZER_RE = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
    r"SUMMARY: (Address|Undefined|Leak)")


def die(msg):
    """A broken test environment is a failure, never a skip."""
    raise AssertionError("test environment: " + msg)


def need_program(name):
    path = shutil.which(name)
    if path is None:
        die("program '%s' not found in PATH; run ./scripts/deps "
            "(apt-get install %s)" % (name, name))
    return path


def promtool_binary():
    """promtool on PATH, or as scripts/deps unpacks it (not installed, so
    no Prometheus server is enabled on the test machine)."""
    path = shutil.which("promtool")
    unpacked = "/var/cache/ftpsd-deps/prometheus/usr/bin/promtool"
    if path is None and os.access(unpacked, os.X_OK):
        path = unpacked
    if path is None:
        die("promtool not found in PATH nor %s; run ./scripts/deps"
            % unpacked)
    return path


# Node.js packages of the client tests, as scripts/deps installs them
# from tests/integration/clients/package.json.
NODE_MODULES = "/var/cache/ftpsd-deps/node/node_modules"


def node_module(name):
    """The folder of Node.js package name for the client tests."""
    need_program("node")
    path = os.path.join(NODE_MODULES, name)
    if not os.path.isfile(os.path.join(path, "package.json")):
        die("Node.js package %s not found in %s; run ./scripts/deps"
            % (name, NODE_MODULES))
    return path


def figure(name, value):
    """Prints a measured figure (a FIGURE line in the test's log), for
    docs/security.md and the issue's targets."""
    sys.stderr.write("FIGURE %s: %s\n" % (name, value))
    sys.stderr.flush()


def ftpsd_binary():
    path = os.environ.get("FTPSD")
    if not path:
        die("FTPSD is not set: run through `make check` or set "
            "FTPSD=/path/to/build/server/ftpsd")
    if not os.access(path, os.X_OK):
        die("FTPSD=%s is not an executable file (build first: "
            "./scripts/build build)" % path)
    return path


def certmgr_binary():
    """certmgr as built (CERTMGR, set by `make check`)."""
    path = os.environ.get("CERTMGR")
    if not path or not os.access(path, os.X_OK):
        die("CERTMGR=%r is not an executable (run through `make check`)"
            % path)
    return path


def ftpsdctl_binary():
    """ftpsdctl as built ($FTPSDCTL, or ctl/ftpsdctl beside the server)."""
    path = os.environ.get("FTPSDCTL") or os.path.join(
        os.path.dirname(os.path.dirname(ftpsd_binary())), "ctl",
        "ftpsdctl")
    if not os.access(path, os.X_OK):
        die("%s missing: build first (./scripts/build build)" % path)
    return path


def denysys_binary():
    """The seccomp wrapper (tests/integration/denysys.c), built by make."""
    path = os.environ.get("DENYSYS")
    if not path:
        path = os.path.join(os.path.dirname(os.path.dirname(
            ftpsd_binary())), "tests", "integration", "denysys")
    if not os.access(path, os.X_OK):
        die("%s missing: build it with `make tests/integration/denysys` "
            "(make check does)" % path)
    return path


def faultshim():
    """The LD_PRELOAD fault injector (tests/integration/faultshim.c)."""
    path = os.environ.get("FAULTSHIM")
    if not path:
        path = os.path.join(os.path.dirname(os.path.dirname(
            ftpsd_binary())), "tests", "integration", "faultshim.so")
    if not os.path.exists(path):
        die("%s missing: build it with `make "
            "tests/integration/faultshim.so` (make check does)" % path)
    return path


def deny_openat2():
    """FTPS_DENY_OPENAT2=1: every server runs with openat2 -> ENOSYS."""
    return os.environ.get("FTPS_DENY_OPENAT2") == "1"


def run(argv, input=None, timeout=SUBPROC_TIMEOUT, env=None, cwd=None,
        input_delay=None):
    """
    Runs argv, bounded; returns CompletedProcess with text output.
    input_delay: write input only after that many seconds (for programs
    such as s_client that must finish a handshake before reading it), then
    keep stdin open as long again before closing it.
    """
    need_program(argv[0])
    if isinstance(input, str):
        input = input.encode()
    if input_delay is not None:
        return _run_delayed(argv, input, timeout, env, cwd, input_delay)
    try:
        p = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout,
                           env=env, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("timed out after %ss: %s\nstdout: %r\n"
                             "stderr: %r" % (timeout, " ".join(argv),
                                             e.stdout, e.stderr))
    p.stdout = p.stdout.decode("utf-8", "replace")
    p.stderr = p.stderr.decode("utf-8", "replace")
    return p


def _run_delayed(argv, input, timeout, env, cwd, delay):
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd)
    try:
        time.sleep(delay)
        try:
            proc.stdin.write(input or b"")
            proc.stdin.flush()
            time.sleep(delay)
        except BrokenPipeError:
            pass
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("timed out after %ss: %s\nstdout: %r\n"
                             "stderr: %r" % (timeout, " ".join(argv),
                                             out, err))
    p = subprocess.CompletedProcess(argv, proc.returncode, out, err)
    p.stdout = out.decode("utf-8", "replace")
    p.stderr = err.decode("utf-8", "replace")
    return p


def describe(p):
    return "command: %s\nexit: %s\nstdout:\n%s\nstderr:\n%s" % (
        " ".join(p.args), p.returncode, p.stdout[-3000:], p.stderr[-3000:])


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(MiB)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def write_random(path, size):
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, MiB)
            f.write(os.urandom(n))
            left -= n
    return sha256_file(path)


def free_port(host=HOST):
    """A port that was free a moment ago (bind port 0, close)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_range(n, host=HOST):
    """n consecutive ports that are all free right now."""
    for _ in range(200):
        base = free_port(host)
        if base + n > 65535:
            continue
        ok = True
        for p in range(base, base + n):
            try:
                with socket.socket() as s:
                    s.bind((host, p))
            except OSError:
                ok = False
                break
        if ok:
            return base
    die("no %d consecutive free ports" % n)


_hash_cache = {}


def hash_password(password):
    if password not in _hash_cache:
        p = run([ftpsd_binary(), "--hash-password"], input=password + "\n",
                timeout=30)
        h = p.stdout.strip()
        if p.returncode != 0 or not h.startswith("$"):
            raise AssertionError("ftpsd --hash-password failed\n" +
                                 describe(p))
        _hash_cache[password] = h
    return _hash_cache[password]


def make_cert(certs_dir, name, cn="localhost", expired=False):
    """EC P-256 self-signed NAME.crt + NAME.key, SAN localhost/127.0.0.1/::1."""
    os.makedirs(certs_dir, exist_ok=True)
    crt = os.path.join(certs_dir, name + ".crt")
    key = os.path.join(certs_dir, name + ".key")
    if not expired:
        p = run(["openssl", "req", "-x509", "-newkey", "ec",
                 "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", crt, "-subj", "/CN=" + cn,
                 "-addext",
                 "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
                 "-days", "30"])
        if p.returncode != 0:
            raise AssertionError("openssl req failed\n" + describe(p))
    else:
        # openssl 3.0 has no -not_after: sign with `openssl ca`, which
        # takes explicit dates, to get a certificate that has expired.
        work = tempfile.mkdtemp(prefix="expca-", dir=certs_dir)
        try:
            csr = os.path.join(work, "req.csr")
            cnf = os.path.join(work, "ca.cnf")
            open(os.path.join(work, "index.txt"), "w").close()
            with open(os.path.join(work, "serial"), "w") as f:
                f.write("01\n")
            with open(cnf, "w") as f:
                f.write("[ca]\ndefault_ca = d\n[d]\n"
                        "database = %s/index.txt\nnew_certs_dir = %s\n"
                        "serial = %s/serial\ndefault_md = sha256\n"
                        "policy = p\n[p]\ncommonName = supplied\n"
                        % (work, work, work))
            for argv in (
                    ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-out", key],
                    ["openssl", "req", "-new", "-key", key, "-subj",
                     "/CN=" + cn, "-out", csr],
                    ["openssl", "ca", "-batch", "-config", cnf, "-selfsign",
                     "-keyfile", key, "-in", csr, "-out", crt, "-notext",
                     "-startdate", "20200101000000Z",
                     "-enddate", "20200102000000Z"]):
                p = run(argv)
                if p.returncode != 0:
                    raise AssertionError("making an expired cert failed\n"
                                         + describe(p))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    os.chmod(key, 0o600)
    return crt, key


# ---------------------------------------------------------------------------
# ftplib clients

def small_asan_quarantine():
    """
    Environment for a server whose memory use a test measures: in an ASan
    build, freed blocks sit in a quarantine (256 MiB by default) that
    would count as growth.  No effect on a normal build.
    """
    opts = os.environ.get("ASAN_OPTIONS", "")
    return {"ASAN_OPTIONS": (opts + ":" if opts else "") +
            "quarantine_size_mb=2"}


class ReplyError(AssertionError):
    pass


class FTP_TLS_Reuse(ftplib.FTP_TLS):
    """
    FTP_TLS whose data connections resume the control connection's TLS
    session (what stock ftplib does not do, cpython issue 63699).
    data_session, when set, is used instead (to offer a foreign session).
    """
    data_session = None
    last_data_conn = None

    def __init__(self, *a, **kw):
        self.data_reused = []
        super().__init__(*a, **kw)

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            sess = self.data_session
            if sess is None:
                sess = self.sock.session
            self.offered_session = sess
            conn = self.context.wrap_socket(conn,
                                            server_hostname=self.host,
                                            session=sess)
            self.last_data_conn = conn
            # The handshake is done (do_handshake_on_connect): record
            # whether it resumed before the socket gets closed.
            self.data_reused.append(conn.session_reused)
        return conn, size


class FTP_TLS_Implicit(FTP_TLS_Reuse):
    """Implicit FTPS: TLS from the first byte, no AUTH TLS."""

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        if host:
            self.host = host
        if port > 0:
            self.port = port
        if timeout != -999:
            self.timeout = timeout
        raw = socket.create_connection((self.host, self.port),
                                       self.timeout)
        self.af = raw.family
        self.sock = self.context.wrap_socket(raw, server_hostname=self.host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome


class FTP_TLS_Stock(ftplib.FTP_TLS):
    """Stock ftplib: data connections do not offer any session."""
    pass


class RawControl:
    """
    A control connection driven line by line, for exact protocol checks
    (pipelining, overlong lines, reply codes).  Every read is bounded.
    """

    def __init__(self, host, port, timeout=SOCK_TIMEOUT, implicit_ctx=None,
                 source=None):
        self.host = host
        self.sock = socket.create_connection(
            (host, port), timeout,
            source_address=(source, 0) if source else None)
        self.buf = b""
        if implicit_ctx is not None:
            self.sock = implicit_ctx.wrap_socket(self.sock,
                                                 server_hostname=host)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, line):
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def readline(self):
        """One line without CRLF; '' when the peer closed."""
        while b"\n" not in self.buf:
            try:
                b = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                b = b""
            if not b:
                line, self.buf = self.buf, b""
                return line.decode("utf-8", "replace")
            self.buf += b
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def resp(self):
        """(code, full text) of one reply, multi-line aware; (0, '') at EOF."""
        first = self.readline()
        if not first:
            return 0, ""
        m = re.match(r"^(\d{3})([ -])", first)
        if not m:
            raise ReplyError("malformed reply line: %r" % first)
        lines = [first]
        if m.group(2) == "-":
            end = m.group(1) + " "
            while True:
                line = self.readline()
                if not line and not self.buf:
                    raise ReplyError("EOF inside multi-line reply: %r"
                                     % lines)
                lines.append(line)
                if line.startswith(end):
                    break
        return int(m.group(1)), "\n".join(lines)

    def cmd(self, line):
        self.send(line)
        return self.resp()

    def starttls(self, ctx):
        """Wraps after 234; no plaintext may be left unread."""
        if self.buf:
            raise ReplyError("plaintext bytes after 234 reply: %r"
                             % self.buf)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=self.host)

    def expect_closed(self, timeout=10):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                b = self.sock.recv(65536)
                if not b:
                    return True
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


# ---------------------------------------------------------------------------
# The server

class Ftpsd:
    """
    One ftpsd in a temp dir:
      DIR/certs/server.crt, .key   DIR/users   DIR/home/NAME/   DIR/ftpsd.conf
      DIR/ftpsd.log (stderr)
    conf: extra or overriding config keys (value None drops a key).
    users: {name: (password, perms[, options])}; defaults to USERS;
      options is the users file's 6th field ("data_session_reuse=optional").
    deny: ["SYSCALL:ERRNO", ...] answered by a seccomp filter (denysys);
    FTPS_DENY_OPENAT2=1 in the environment adds "openat2:ENOSYS" to every
    server, which must then confine paths with the vfs's component walk.
    """

    def __init__(self, conf=None, users=None, explicit=True, implicit=True,
                 cert=True, extra_args=(), port_host=HOST, env=None,
                 deny=()):
        self.binary = ftpsd_binary()
        need_program("openssl")
        self.dir = tempfile.mkdtemp(prefix="ftpsd-it-")
        self.certs_dir = os.path.join(self.dir, "certs")
        self.users_file = os.path.join(self.dir, "users")
        self.conf_file = os.path.join(self.dir, "ftpsd.conf")
        self.log_file = os.path.join(self.dir, "ftpsd.log")
        self.users = dict(USERS if users is None else users)
        self.want_explicit = explicit
        self.want_implicit = implicit
        self.extra_conf = dict(conf or {})
        self.extra_args = list(extra_args)
        self.port_host = port_host
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.deny = list(deny)
        if deny_openat2() and "openat2:ENOSYS" not in self.deny:
            self.deny.append("openat2:ENOSYS")
        self.proc = None
        self.log_start = 0
        self.explicit_port = 0
        self.implicit_port = 0
        os.makedirs(os.path.join(self.dir, "home"))
        if cert:
            self.cafile, self.keyfile = make_cert(self.certs_dir, "server")
        else:
            os.makedirs(self.certs_dir)
            self.cafile = self.keyfile = None
        for name in self.users:
            os.makedirs(self.home(name), exist_ok=True)
        self.write_users()

    # -- files --------------------------------------------------------------

    def home(self, user="alice"):
        return os.path.join(self.dir, "home", user)

    def path(self, rel, user="alice"):
        return os.path.join(self.home(user), rel)

    def write_users(self, extra_lines=()):
        with open(self.users_file, "w") as f:
            f.write("# test users\n")
            for name, spec in self.users.items():
                pw, perms = spec[:2]
                # A third item: the users-file options field.
                opts = "::" + spec[2] if len(spec) > 2 else ""
                f.write("%s:%s:%s:%s%s\n" % (name, hash_password(pw),
                                             self.home(name), perms, opts))
            for line in extra_lines:
                f.write(line + "\n")

    def config(self):
        c = {
            "listen_addresses": HOST,
            "explicit_port": self.explicit_port,
            "implicit_port": self.implicit_port,
            "certs_dir": self.certs_dir,
            "certificate": "server",
            "users_file": self.users_file,
            "log": "stderr",
            # The tests run as root and serve homes only root can reach;
            # test_ops.py covers the switch to an unprivileged user.
            "run_as_user": "root",
            "allow_root": "on",
            # Bans are per client address and every test connects from
            # 127.0.0.1: off, unless a test turns them on
            # (test_hardening.py).
            "ban_seconds": 0,
            # Each server its own control socket (the default one under
            # /run/ftpsd is the installed service's).
            "control_socket": os.path.join(self.dir, "control"),
        }
        c.update(self.extra_conf)
        return {k: v for k, v in c.items() if v is not None}

    def write_config(self, path=None):
        path = path or self.conf_file
        with open(path, "w") as f:
            f.write("# written by tests/integration/harness.py\n")
            for k, v in self.config().items():
                f.write("%s = %s\n" % (k, v))
        return path

    # -- process ------------------------------------------------------------

    def pick_ports(self):
        h = self.port_host
        self.explicit_port = free_port(h) if self.want_explicit else 0
        self.implicit_port = free_port(h) if self.want_implicit else 0

    def start(self):
        for attempt in range(3):
            self.pick_ports()
            if self.explicit_port and \
                    self.explicit_port == self.implicit_port:
                continue
            self.write_config()
            if self._start_once():
                return self
            if "in use" not in self.log_text():
                break
        raise AssertionError("ftpsd did not start (exit %s); log tail:\n%s"
                             % (self.proc.returncode, self.log_tail()))

    def start_expect_failure(self, timeout=READY_TIMEOUT):
        """
        Starts ftpsd -f, which must refuse to run: returns (exit code, log).
        Fails when it reaches 'ready' or is still running after timeout.
        """
        self.pick_ports()
        self.write_config()
        argv = self.argv()
        self.log_start = len(self.log_text(since_start=False))
        with open(self.log_file, "ab") as logf:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=logf, stderr=logf, env=self.env)
            try:
                rc = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(STOP_TIMEOUT)
                raise AssertionError("ftpsd kept running (it should have "
                                     "refused to start); log tail:\n%s"
                                     % self.log_tail())
        text = self.log_text()
        if re.search(r"ready\s*$", text, re.M):
            raise AssertionError("ftpsd said ready before exiting; log:\n"
                                 + self.log_tail())
        return rc, text

    def check_config(self, *extra, path=None):
        """
        ftpsd -t -c PATH [extra...] (PATH defaults to a freshly written
        ftpsd.conf); returns the CompletedProcess.
        """
        if path is None:
            if not self.explicit_port and self.want_explicit:
                self.explicit_port = free_port(self.port_host)
            if not self.implicit_port and self.want_implicit:
                self.implicit_port = free_port(self.port_host)
            path = self.write_config()
        return run([self.binary, "-t", "-c", path] + list(extra))

    def argv(self):
        """How the server is started: under denysys when deny is set."""
        argv = [self.binary, "-f", "-c", self.conf_file] + self.extra_args
        if self.deny:
            argv = [denysys_binary()] + self.deny + ["--"] + argv
        return argv

    def _start_once(self):
        argv = self.argv()
        # A restarted server appends to the log: look only past this point.
        self.log_start = len(self.log_text(since_start=False))
        self.logf = open(self.log_file, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     env=self.env)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            text = self.log_text()
            if re.search(r"ready\s*$", text, re.M):
                self._check_listening(text)
                self._check_backend(text)
                return True
            if self.proc.poll() is not None:
                self.logf.close()
                return False
            time.sleep(0.05)
        self._kill()
        raise AssertionError("ftpsd not ready within %ss; log tail:\n%s"
                             % (READY_TIMEOUT, self.log_tail()))

    def _check_listening(self, text):
        got = set()
        for m in re.finditer(r"listening on (\S+) \((explicit|implicit)\)",
                             text):
            addr, kind = m.group(1), m.group(2)
            port = int(addr.rsplit(":", 1)[1])
            got.add((kind, port))
        if self.explicit_port and ("explicit", self.explicit_port) not in got:
            raise AssertionError("no 'listening on ...:%d (explicit)' line;"
                                 " log:\n%s" % (self.explicit_port,
                                                self.log_tail()))
        if self.implicit_port and ("implicit", self.implicit_port) not in got:
            raise AssertionError("no 'listening on ...:%d (implicit)' line;"
                                 " log:\n%s" % (self.implicit_port,
                                                self.log_tail()))

    def _check_backend(self, text):
        """With openat2 denied, the server must say it walks instead."""
        if "openat2:ENOSYS" in self.deny and \
                "confining paths with the component walk" not in text:
            raise AssertionError("openat2 denied but no 'vfs: ... component "
                                 "walk' line; log:\n%s" % self.log_tail())

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)

    def stop(self):
        """SIGTERM; the server must exit 0, clean, within STOP_TIMEOUT."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        rc = proc.poll()
        if rc is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
                self.logf.close()
                raise AssertionError("ftpsd ignored SIGTERM for %ss; "
                                     "killed; log tail:\n%s"
                                     % (STOP_TIMEOUT, self.log_tail()))
        self.logf.close()
        if rc != 0:
            raise AssertionError("ftpsd exited with %s (a crash or an "
                                 "unclean stop); log tail:\n%s"
                                 % (rc, self.log_tail()))
        self.check_log_clean()

    def check_log_clean(self):
        m = _SANITIZER_RE.search(self.log_text(since_start=False))
        if m:
            raise AssertionError("sanitizer report in the ftpsd log:\n%s"
                                 % self.log_tail(120))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS for ftpsd")

    def cleanup(self):
        try:
            self._kill()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop()
            else:
                try:
                    self.stop()
                except AssertionError as e:
                    sys.stderr.write("also: %s\n" % e)
        finally:
            self.cleanup()
        return False

    def log_text(self, since_start=True):
        """The log (of the current run, unless since_start is False)."""
        try:
            with open(self.log_file, "rb") as f:
                if since_start:
                    f.seek(self.log_start)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=60):
        return "\n".join(self.log_text().splitlines()[-n:])

    def wait_log(self, pattern, timeout=10):
        """Waits for a regex in the log; returns the match or fails."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.log_text(), re.M)
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError("log never matched %r; tail:\n%s"
                             % (pattern, self.log_tail()))

    # -- clients ------------------------------------------------------------

    def client_context(self, tls_max=None, tls_min=None):
        ctx = ssl.create_default_context(cafile=self.cafile)
        if tls_max is not None:
            ctx.maximum_version = tls_max
        if tls_min is not None:
            ctx.minimum_version = tls_min
        return ctx

    def ftp(self, user="alice", cls=FTP_TLS_Reuse, implicit=False, ctx=None,
            prot_p=True, login=True, password=None):
        """A logged-in ftplib client (PROT P by default); close it after."""
        if ctx is None:
            ctx = self.client_context()
        if implicit:
            cls = FTP_TLS_Implicit
        ftp = cls(context=ctx, timeout=SOCK_TIMEOUT)
        port = self.implicit_port if implicit else self.explicit_port
        ftp.connect(HOST, port, timeout=SOCK_TIMEOUT)
        if login:
            pw = password if password is not None else self.users[user][0]
            ftp.login(user, pw)
            if prot_p:
                ftp.prot_p()
        return ftp

    def raw(self, implicit=False, ctx=None, source=None):
        """A RawControl on the explicit (default) or implicit port."""
        if implicit:
            return RawControl(HOST, self.implicit_port,
                              implicit_ctx=ctx or self.client_context(),
                              source=source)
        return RawControl(HOST, self.explicit_port, source=source)

    def raw_login(self, user="alice", prot_p=True):
        """RawControl over AUTH TLS, logged in, optionally PROT P."""
        rc = self.raw()
        code, text = rc.resp()
        assert code == 220, text
        code, text = rc.cmd("AUTH TLS")
        assert code == 234, text
        rc.starttls(self.client_context())
        code, text = rc.cmd("USER " + user)
        assert code == 331, text
        code, text = rc.cmd("PASS " + self.users[user][0])
        assert code == 230, text
        if prot_p:
            code, text = rc.cmd("PBSZ 0")
            assert code == 200, text
            code, text = rc.cmd("PROT P")
            assert code == 200, text
        return rc

    def url(self, path="", implicit=False, user="alice", host=HOST):
        pw = self.users[user][0]
        if implicit:
            return "ftps://%s:%s@%s:%d/%s" % (user, pw, host,
                                              self.implicit_port, path)
        return "ftp://%s:%s@%s:%d/%s" % (user, pw, host, self.explicit_port,
                                         path)

    def curl(self, *args, timeout=SUBPROC_TIMEOUT):
        """curl with this server's CA, bounded; returns CompletedProcess."""
        argv = ["curl", "--silent", "--show-error", "--cacert", self.cafile,
                "--connect-timeout", "10", "--max-time",
                str(timeout - 5)] + list(args)
        return run(argv, timeout=timeout)

    def lftp(self, script, user="alice", implicit=False, settings=(),
             timeout=SUBPROC_TIMEOUT):
        """Runs lftp commands against this server; returns CompletedProcess."""
        port = self.implicit_port if implicit else self.explicit_port
        return lftp_run(self.cafile, implicit, port, user,
                        self.users[user][0], script, settings, timeout)

    def s_client(self, args, implicit=True, input="QUIT\r\n",
                 timeout=30, input_delay=None):
        """openssl s_client against the implicit (default) or explicit port."""
        port = self.implicit_port if implicit else self.explicit_port
        argv = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port),
                "-CAfile", self.cafile, "-servername", "localhost"]
        if not implicit:
            argv += ["-starttls", "ftp"]
        return run(argv + list(args), input=input, timeout=timeout,
                   input_delay=input_delay)


def lftp_run(cafile, implicit, port, user, pw, script, settings=(),
             timeout=SUBPROC_TIMEOUT, debug=False):
    """lftp with verified TLS on control and data, passive, one retry,
    then `open` (ftps:// for the implicit port) and script; debug: lftp
    -d (the dialogue on stderr)."""
    site = "%s://%s:%d" % ("ftps" if implicit else "ftp", HOST, port)
    pre = [
        "set cmd:fail-exit yes",
        "set ssl:ca-file %s" % cafile,
        "set ssl:verify-certificate yes",
        "set ftp:ssl-force yes",
        "set ftp:ssl-protect-data yes",
        "set ftp:ssl-protect-list yes",
        "set ftp:passive-mode yes",
        "set net:max-retries 1",
        "set net:reconnect-interval-base 1",
        "set net:timeout 15",
        "set xfer:clobber yes",
    ] + list(settings)
    pre.append("open -u %s,%s %s" % (user, pw, site))
    text = "\n".join(pre) + "\n" + script.strip() + "\n"
    return run(["lftp"] + (["-d"] if debug else []) + ["-f", "/dev/stdin"],
               input=text, timeout=timeout)


def s_client_ok(p):
    """Did openssl s_client complete a handshake?  Its "New, TLSv1.3,
    Cipher is X" line says so; the "Protocol :" line of its session block
    only shows with TLS 1.2, or once a TLS 1.3 ticket arrived (ftpsd sends
    tickets only before data connections)."""
    m = re.search(r"^\s*Protocol\s*:\s*(\S+)", p.stdout, re.M) or \
        re.search(r"^(?:New|Reused), (TLSv\S+), Cipher is", p.stdout, re.M)
    cipher = re.search(r"Cipher is (\S+)", p.stdout)
    return bool(m and cipher and cipher.group(1) != "(NONE)")


# ---------------------------------------------------------------------------
# Test case base

class ServerTestCase(unittest.TestCase):
    """
    Starts one ftpsd per test class (CONF overrides config keys) and stops
    it after, asserting a clean exit 0.
    """
    CONF = {}
    USERS = None
    ENV = None

    @classmethod
    def new_server(cls):
        """The Ftpsd of this class, not started yet (a class with a server
        of its own overrides it)."""
        return Ftpsd(conf=cls.CONF, users=cls.USERS, env=cls.ENV)

    @classmethod
    def setUpClass(cls):
        cls.srv = cls.new_server()
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise
        try:
            cls.prepare_files(cls.srv)
        except BaseException:
            cls.srv.cleanup()
            raise

    @classmethod
    def prepare_files(cls, srv):
        pass

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def setUp(self):
        self.assertTrue(self.srv.alive(),
                        "ftpsd died before this test; log tail:\n%s"
                        % self.srv.log_tail())

    def tearDown(self):
        # A test that crashed the server must fail here, not in a later one.
        self.assertTrue(self.srv.alive(),
                        "ftpsd died during this test; log tail:\n%s"
                        % self.srv.log_tail())

    def ftp(self, *a, **kw):
        f = self.srv.ftp(*a, **kw)
        self.addCleanup(close_ftp, f)
        return f

    def assertReply(self, reply, codes, msg=None):
        """reply is a (code, text) tuple or an ftplib reply string."""
        if isinstance(reply, tuple):
            code, text = reply
        else:
            text = str(reply)
            code = int(text[:3]) if text[:3].isdigit() else 0
        if isinstance(codes, int):
            codes = (codes,)
        self.assertIn(code, codes, "%sreply %r, expected %s" % (
            (msg + ": ") if msg else "", text, codes))
        return text


def close_ftp(ftp):
    try:
        ftp.close()
    except Exception:
        pass


def ftp_reply(fn, *args, **kw):
    """Calls an ftplib method; returns its reply or the error's reply text."""
    try:
        return str(fn(*args, **kw))
    except ftplib.all_errors as e:
        return str(e)


def reply_code(text):
    text = str(text)
    return int(text[:3]) if text[:3].isdigit() else 0


def data_exchange(ftp, cmd, upload=None, session="own", read_limit=None,
                  after_prelim=None):
    """
    One data command by hand, for refusal tests: PASV, connect, send cmd,
    read the preliminary reply (then call after_prelim(), if given),
    TLS-wrap (session "own", "none", or an SSLSession), move data, then
    read the final reply.
    Returns dict(prelim, final, data, error, conn_info).
    """
    out = {"prelim": None, "final": None, "data": b"", "error": None,
           "reused": None}
    ftp.voidcmd("TYPE I")
    host, port = ftp.makepasv()
    conn = socket.create_connection((host, port), SOCK_TIMEOUT)
    try:
        prelim = ftp_reply(ftp.sendcmd, cmd)
        out["prelim"] = prelim
        if not prelim.startswith("1"):
            out["final"] = prelim
            out["prelim"] = None
            return out
        if after_prelim is not None:
            after_prelim()
        try:
            if session == "own":
                sess = ftp.sock.session
            elif session == "none":
                sess = None
            else:
                sess = session
            tconn = ftp.context.wrap_socket(conn, server_hostname=ftp.host,
                                            session=sess)
            conn = tconn
            out["reused"] = tconn.session_reused
            if upload is not None:
                tconn.sendall(upload)
                tconn.unwrap()
            else:
                while True:
                    b = tconn.recv(65536)
                    if not b:
                        break
                    out["data"] += b
                    if read_limit and len(out["data"]) >= read_limit:
                        break
        except (ssl.SSLError, OSError) as e:
            out["error"] = e
    finally:
        conn.close()
    out["final"] = ftp_reply(ftp.getresp)
    return out


def main():
    unittest.main(verbosity=2)


class ControlTLSServer:
    """
    `openssl s_server` accepting exactly what args allow, on a free port:
    the positive control proving an s_client command line really offers
    what a refusal test claims ftpsd refuses.
    """

    def __init__(self, certfile, keyfile, args):
        need_program("openssl")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", "%s:%d" % (HOST, self.port),
             "-cert", certfile, "-key", keyfile, "-naccept", "1"] + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        # s_server prints ACCEPT once it listens.
        out = b""
        deadline = time.monotonic() + 10
        while b"ACCEPT" not in out and time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                b = os.read(self.proc.stdout.fileno(), 4096)
                if not b:
                    break
                out += b
        if b"ACCEPT" not in out:
            self.close()
            die("openssl s_server did not start: %r" % out)

    def s_client(self, args, input="hello\r\n", timeout=30,
                 input_delay=None):
        return run(["openssl", "s_client", "-connect",
                    "%s:%d" % (HOST, self.port)] + list(args),
                   input=input, timeout=timeout, input_delay=input_delay)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        self.proc.stdout.close()
        self.proc.stdin.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
