#!/usr/bin/env python3
"""
Scale-out behind a real HAProxy (docs/scale-out.md): two ftpsd nodes
(127.0.0.11 and 127.0.0.12, one shared home folder, the same certificate)
behind one HAProxy on 127.0.0.1 with a frontend for explicit FTPS, one for
implicit FTPS and one per node for its passive range, every server line
with send-proxy-v2 and health checks (which send v2 LOCAL, then reset).
Clients come from distinct loopback sources (127.0.0.5, .6, .7) and the
nodes must see those, not HAProxy's 127.0.0.1.  Then the raw wire cases:
headers from untrusted addresses, garbage, missing, truncated, headers
without a client address (the balancer's own connections), and data
connections whose PROXY header names another client or that come through
another balancer.
"""

import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (HOST, Ftpsd, RawControl, describe, need_program,  # noqa
                     run, free_port, free_port_range, sha256_file,
                     write_random, MiB)

NODES = ("127.0.0.11", "127.0.0.12")
PASV_N = 6
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
LOGIN_TIMEOUT = 2


def v2_header(src, sport, dst, dport, local=False, unspec=False):
    """A PROXY v2 header (TCP over IPv4), LOCAL, or PROXY over UNSPEC."""
    if local or unspec:
        return (V2_SIG + bytes([0x20 if local else 0x21, 0x00]) +
                struct.pack("!H", 0))
    body = (socket.inet_aton(src) + socket.inet_aton(dst) +
            struct.pack("!HH", sport, dport))
    return V2_SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def haproxy_cfg(fe_e, fe_i, nodes):
    """nodes: [(addr, explicit_port, implicit_port, pasv_lo, pasv_hi)]."""
    chk = "send-proxy-v2 check check-send-proxy inter 500 fall 1 rise 1"
    lines = [
        "global", "    maxconn 256",
        "defaults", "    mode tcp", "    timeout connect 3s",
        "    timeout client 60s", "    timeout server 60s",
        "    option redispatch", "    retries 2",
        "frontend ftps_explicit", "    bind %s:%d" % (HOST, fe_e),
        "    default_backend explicit",
        "frontend ftps_implicit", "    bind %s:%d" % (HOST, fe_i),
        "    default_backend implicit",
        "backend explicit", "    balance roundrobin",
    ]
    for i, (a, pe, pi, lo, hi) in enumerate(nodes):
        lines.append("    server n%d %s:%d %s" % (i, a, pe, chk))
    lines += ["backend implicit", "    balance roundrobin"]
    for i, (a, pe, pi, lo, hi) in enumerate(nodes):
        lines.append("    server n%d %s:%d %s" % (i, a, pi, chk))
    for i, (a, pe, pi, lo, hi) in enumerate(nodes):
        # No port on the server: the one the client connected to.
        lines += ["frontend pasv%d" % i,
                  "    bind %s:%d-%d" % (HOST, lo, hi),
                  "    default_backend pasv%d" % i,
                  "backend pasv%d" % i,
                  "    server n%d %s send-proxy-v2" % (i, a)]
    return "\n".join(lines) + "\n"


class Cluster:
    """Two nodes and one HAProxy; stop() ends all by PID."""

    def __init__(self):
        need_program("haproxy")
        self.dir = tempfile.mkdtemp(prefix="ftpsd-ha-")
        self.nodes = []
        self.haproxy = None
        base = free_port_range(PASV_N * 2)
        for i, addr in enumerate(NODES):
            lo = base + i * PASV_N
            n = Ftpsd(port_host=addr, conf={
                "listen_addresses": addr,
                "proxy_protocol": "any",
                "proxy_trusted": "127.0.0.1, 127.0.0.2/32",
                "proxy_data": "header",
                "pasv_address": HOST,
                "pasv_min_port": lo,
                "pasv_max_port": lo + PASV_N - 1,
                "login_timeout": LOGIN_TIMEOUT,
                "ban_failures": 2, "ban_seconds": 120,
                "max_login_failures": 5,
            })
            n.extra_conf["xferlog_file"] = os.path.join(n.dir, "xferlog")
            self.nodes.append(n)
        a, b = self.nodes
        # One home folder and one certificate for both nodes.
        shutil.copy(a.users_file, b.users_file)
        for f in ("server.crt", "server.key"):
            shutil.copy(os.path.join(a.certs_dir, f),
                        os.path.join(b.certs_dir, f))
        self.cafile = a.cafile
        for n in self.nodes:
            n.start()
        self.fe_e = free_port()
        self.fe_i = free_port()
        cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(haproxy_cfg(self.fe_e, self.fe_i, [
                (n.port_host, n.explicit_port, n.implicit_port,
                 int(n.extra_conf["pasv_min_port"]),
                 int(n.extra_conf["pasv_max_port"])) for n in self.nodes]))
        self.halog = open(os.path.join(self.dir, "haproxy.log"), "wb")
        self.haproxy = subprocess.Popen(["haproxy", "-f", cfg, "-db"],
                                        stdin=subprocess.DEVNULL,
                                        stdout=self.halog,
                                        stderr=self.halog)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                # From its own source: not one the tests look for.
                socket.create_connection((HOST, self.fe_e), 1,
                                         source_address=("127.0.0.4", 0)
                                         ).close()
                break
            except OSError:
                if self.haproxy.poll() is not None:
                    break
                time.sleep(0.1)
        else:
            raise AssertionError("haproxy did not listen")
        if self.haproxy.poll() is not None:
            raise AssertionError("haproxy exited:\n" + self.ha_log())

    def ha_log(self):
        with open(os.path.join(self.dir, "haproxy.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.send_signal(signal.SIGTERM)
            try:
                self.haproxy.wait(10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait(10)
        self.halog.close()
        errors = []
        for n in self.nodes:
            try:
                if n.alive():
                    n.stop()
            except AssertionError as e:
                errors.append(str(e))
            finally:
                n.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise AssertionError("\n".join(errors))

    # -- clients through HAProxy ----------------------------------------

    def curl(self, source, *args, implicit=False, path=""):
        pw = harness.USERS["alice"][0]
        if implicit:
            url = "ftps://alice:%s@%s:%d/%s" % (pw, HOST, self.fe_i, path)
        else:
            url = "ftp://alice:%s@%s:%d/%s" % (pw, HOST, self.fe_e, path)
        argv = ["curl", "--silent", "--show-error", "--cacert", self.cafile,
                "--interface", source, "--connect-timeout", "10",
                "--max-time", "40"]
        if not implicit:
            argv.append("--ssl-reqd")
        return run(argv + list(args) + [url])

    def lftp(self, source, script, implicit=False):
        return harness.lftp_run(
            self.cafile, implicit, self.fe_i if implicit else self.fe_e,
            "alice", harness.USERS["alice"][0], script,
            settings=["set net:socket-bind-ipv4 %s" % source])

    def node_of(self, pattern):
        """Indexes of the nodes whose log matches pattern."""
        return [i for i, n in enumerate(self.nodes)
                if re.search(pattern, n.log_text(), re.M)]


class TestHAProxy(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        need_program("curl")
        need_program("lftp")
        cls.c = Cluster()
        cls.a, cls.b = cls.c.nodes

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()

    def lpath(self, name):
        return os.path.join(self.c.dir, name)

    def login_ip(self, ip):
        return r"ip=%s .*login user=alice result=ok" % re.escape(ip)

    def test_a_upload_and_download_on_two_nodes(self):
        src = self.lpath("src.bin")
        sha = write_random(src, 2 * MiB)
        t0 = time.monotonic()
        p = self.c.curl("127.0.0.5", "-T", src, path="shared.bin")
        self.assertEqual(p.returncode, 0, describe(p))
        up = self.c.node_of(self.login_ip("127.0.0.5"))
        self.assertEqual(len(up), 1, "upload landed on one node")
        # Round robin: the next session goes to the other node.
        out = self.lpath("down.bin")
        p = self.c.lftp("127.0.0.6", "get shared.bin -o %s" % out)
        self.assertEqual(p.returncode, 0, describe(p))
        down = self.c.node_of(self.login_ip("127.0.0.6"))
        self.assertEqual(len(down), 1)
        self.assertNotEqual(up, down, "download on the other node")
        self.assertEqual(sha256_file(out), sha)
        print("upload on node %d, download on node %d, %.2f s"
              % (up[0], down[0], time.monotonic() - t0), file=sys.stderr)
        # The xferlog names the real client too.
        with open(self.c.nodes[up[0]].extra_conf["xferlog_file"]) as f:
            self.assertIn(" 127.0.0.5 ", f.read())

    def test_b_implicit_through_haproxy(self):
        out = self.lpath("imp.bin")
        write_random(self.a.path("imp-src.bin"), 64 * 1024)
        for src in ("127.0.0.5", "127.0.0.6"):
            p = self.c.curl(src, "-o", out, implicit=True,
                            path="imp-src.bin")
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertEqual(sha256_file(out),
                             sha256_file(self.a.path("imp-src.bin")))
        p = self.c.lftp("127.0.0.6", "ls", implicit=True)
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertIn("imp-src.bin", p.stdout)

    def test_c_ban_only_the_offender(self):
        # Two failed logins from 127.0.0.7 on one session: its node bans.
        ftp = harness.FTP_TLS_Reuse(context=self.a.client_context(),
                                    timeout=20,
                                    source_address=("127.0.0.7", 0))
        ftp.connect(HOST, self.c.fe_e, timeout=20)
        ftp.auth()
        for _ in range(2):
            with self.assertRaises(harness.ftplib.all_errors):
                ftp.login("alice", "wrong")
        ftp.close()
        banned = self.c.node_of(r"127\.0\.0\.7 .*banned|banned.*127\.0\.0\.7")
        self.assertEqual(len(banned), 1, "one node banned 127.0.0.7")
        greets = {}
        for src in ("127.0.0.7", "127.0.0.7", "127.0.0.5", "127.0.0.5"):
            with RawControl(HOST, self.c.fe_e, source=src) as rc:
                code, text = rc.resp()
                greets.setdefault(src, []).append(code)
        # Bans are per node: the banned node refuses 127.0.0.7 (421),
        # the other serves it; 127.0.0.5 is served by both.
        self.assertEqual(sorted(greets["127.0.0.7"]), [220, 421], greets)
        self.assertEqual(greets["127.0.0.5"], [220, 220], greets)
        self.c.nodes[banned[0]].wait_log(
            r"refused connection on .*: 127\.0\.0\.7 banned")

    def test_d_logs_show_real_clients(self):
        # Two sessions: round robin puts one on each node.
        for _ in range(2):
            p = self.c.curl("127.0.0.5", "--list-only")
            self.assertEqual(p.returncode, 0, describe(p))
        for n in self.c.nodes:
            text = n.log_text()
            # Every session line names a client, never HAProxy itself.
            self.assertNotRegex(text, r"sess=\d+ ip=127\.0\.0\.1 ")
            self.assertRegex(text, r"sess=\d+ ip=127\.0\.0\.[567] "
                             r".*proxied via=127\.0\.0\.1")
            # Health checks (v2 LOCAL, every 500 ms, then a reset) are
            # the balancer's own connections: served, but never logged
            # (below debug) nor refused.
            self.assertNotRegex(text, r"refused connection from 127\.0\.0"
                                r"\.1 ")
        # ...and HAProxy sees them pass: no node ever went down.
        self.assertNotRegex(self.c.ha_log(), r"Server \w+/n\d is DOWN")

    # -- raw wire cases, straight to node A ---------------------------

    def raw(self, port, source, data, shut=False, want_greeting=False):
        """Sends data; returns what came back until the node closed."""
        s = socket.create_connection((self.a.port_host, port), 10,
                                     source_address=(source, 0))
        got = b""
        try:
            if want_greeting:
                while not got.endswith(b"\r\n"):
                    got += s.recv(4096)
            s.sendall(data)
            if shut:
                s.shutdown(socket.SHUT_WR)
            t0 = time.monotonic()
            while time.monotonic() - t0 < LOGIN_TIMEOUT + 5:
                b = s.recv(4096)
                if not b:
                    return got
                got += b
        except ConnectionResetError:
            return got
        finally:
            s.close()
        raise AssertionError("node A kept the connection open: %r" % got)

    def test_e_untrusted_header(self):
        ep, ip = self.a.explicit_port, self.a.implicit_port
        hdr = b"PROXY TCP4 192.0.2.1 127.0.0.11 5000 21\r\n"
        # Explicit port: the greeting, then nothing but the close.
        got = self.raw(ep, "127.0.0.5", hdr, want_greeting=True)
        self.assertTrue(got.startswith(b"220"), got)
        self.assertEqual(got.count(b"\r\n"), 1, got)
        self.a.wait_log(r"ip=127\.0\.0\.5 close reason=\"PROXY header from"
                        r" an address not in proxy_trusted\"")
        # A blank line (the v2 signature's first two bytes) is a
        # client's: answered at once, not held until login_timeout.
        with RawControl(self.a.port_host, ep, source="127.0.0.5") as rc:
            self.assertEqual(rc.resp()[0], 220)
            t0 = time.monotonic()
            rc.send_raw(b"\r\n")
            code, text = rc.resp()
            took = time.monotonic() - t0
            print("blank line answered after %.3f s" % took,
                  file=sys.stderr)
            self.assertEqual(code, 500, text)
            self.assertLess(took, LOGIN_TIMEOUT - 0.5)
            self.assertEqual(rc.cmd("QUIT")[0], 221)
        # Implicit port: closed before any TLS.
        got = self.raw(ip, "127.0.0.5", v2_header("192.0.2.1", 5000,
                                                  "127.0.0.11", 990))
        self.assertEqual(got, b"")
        self.a.wait_log(r"proxy: refused connection from 127\.0\.0\.5 on "
                        r".*implicit.*: PROXY header from an address not "
                        r"in proxy_trusted")
        self.assertNotIn("192.0.2.1", self.a.log_text())

    def test_f_bad_headers_from_trusted(self):
        ep, ip = self.a.explicit_port, self.a.implicit_port
        cases = [
            (ep, b"GET / HTTP/1.0\r\n\r\n", False, "not a PROXY header"),
            (ip, b"\x16\x03\x01\x00\x10", False, "not a PROXY header"),
            (ep, b"PROXY TCP4 192.0.2.9 ", True,
             r"closed inside the PROXY header \(truncated\)"),
            (ip, v2_header("192.0.2.9", 1, "127.0.0.11", 2)[:20], True,
             r"closed inside the PROXY header \(truncated\)"),
            (ep, b"PROXY TCP4 192.0.2.9 127.0.0.11 99999 21\r\n", False,
             "a port is not a number"),
            (ep, b"", False, "no PROXY header within login_timeout"),
        ]
        before = len(re.findall(r"proxy: refused", self.a.log_text()))
        for port, data, shut, why in cases:
            t0 = time.monotonic()
            got = self.raw(port, "127.0.0.2", data, shut=shut)
            self.assertEqual(got, b"", "nothing is sent (%s)" % why)
            self.a.wait_log(r"proxy: refused connection from 127\.0\.0\.2"
                            r" on .*: " + why)
            if data == b"":
                took = time.monotonic() - t0
                print("missing header closed after %.2f s (login_timeout "
                      "%d s)" % (took, LOGIN_TIMEOUT), file=sys.stderr)
                self.assertGreater(took, LOGIN_TIMEOUT - 0.5)
        after = len(re.findall(r"proxy: refused", self.a.log_text()))
        self.assertEqual(after - before, len(cases), "one line per case")
        self.assertNotIn("192.0.2.9", self.a.log_text())

    def test_g_headers_without_address_serve_the_balancer(self):
        # proxy-protocol.txt 2.1, 2.2: v2 LOCAL (health checks), v2 PROXY
        # over UNSPEC and v1 UNKNOWN name no client: the connection's
        # real peer, the balancer, is the client.
        text0 = self.a.log_text()
        # Health checks as HAProxy makes them: LOCAL, then a reset.
        for port in (self.a.explicit_port, self.a.implicit_port):
            s = socket.create_connection((self.a.port_host, port), 10,
                                         source_address=("127.0.0.2", 0))
            s.sendall(v2_header(None, 0, None, 0, local=True))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
        hdrs = (v2_header(None, 0, None, 0, local=True),
                v2_header(None, 0, None, 0, unspec=True),
                b"PROXY UNKNOWN\r\n",
                b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n")
        for hdr in hdrs:
            with RawControl(self.a.port_host, self.a.explicit_port,
                            source="127.0.0.2") as rc:
                rc.send_raw(hdr)
                code, text = rc.resp()
                self.assertEqual(code, 220, (hdr, text))
                self.assertEqual(rc.cmd("QUIT")[0], 221)
        own = (r"sess=\d+ ip=127\.0\.0\.2 connect port=explicit; the "
               r"balancer's own connection")
        deadline = time.monotonic() + 10
        while (len(re.findall(own, self.a.log_text()[len(text0):])) <
               len(hdrs) and time.monotonic() < deadline):
            time.sleep(0.05)
        time.sleep(0.3)
        text = self.a.log_text()[len(text0):]
        # One connect line per session that sent a command; the health
        # checks left none (no connect, close, refusal or TLS failure).
        self.assertEqual(len(re.findall(own, text)), len(hdrs), text)
        self.assertEqual(len(re.findall(r"ip=127\.0\.0\.2 close", text)),
                         len(hdrs), text)
        self.assertNotRegex(text, r"refused connection from 127\.0\.0\.2")
        self.assertNotRegex(text, r"via=127\.0\.0\.2|port=implicit")

    def proxied_login(self, client, node=None, prot_p=True):
        """A control session on a node as if HAProxy sent client's header
        (None: a v2 LOCAL header, the balancer's own connection)."""
        node = node or self.a
        rc = RawControl(node.port_host, node.explicit_port,
                        source="127.0.0.2")
        rc.send_raw(v2_header(client, 40000, "127.0.0.1", 21)
                    if client else v2_header(None, 0, None, 0, local=True))
        code, text = rc.resp()
        self.assertEqual(code, 220, text)
        self.assertEqual(rc.cmd("AUTH TLS")[0], 234)
        ctx = node.client_context()
        ctx.check_hostname = False  # the node's own address, not HOST
        rc.starttls(ctx)
        self.assertEqual(rc.cmd("USER alice")[0], 331)
        self.assertEqual(rc.cmd("PASS " + harness.USERS["alice"][0])[0],
                         230)
        if prot_p:
            self.assertEqual(rc.cmd("PBSZ 0")[0], 200)
            self.assertEqual(rc.cmd("PROT P")[0], 200)
        return rc

    def epsv_connect(self, rc, node, data=b"", source="127.0.0.2"):
        code, text = rc.cmd("EPSV")
        self.assertEqual(code, 229, text)
        port = int(re.search(r"\|\|\|(\d+)\|", text).group(1))
        d = socket.create_connection((node.port_host, port), 10,
                                     source_address=(source, 0))
        if data:
            d.sendall(data)
        return d

    def test_h_active_refused_and_data_header_checked(self):
        # The balancer's own session too: PORT would make the node dial
        # the balancer's host at a client's choice (behind a frontend on
        # a UNIX socket every end user arrives without an address).
        rc = self.proxied_login(None)
        try:
            for cmd in ("PORT 127,0,0,2,200,10", "EPRT |1|127.0.0.2|51210|"):
                code, text = rc.cmd(cmd)
                self.assertEqual(code, 502, (cmd, text))
        finally:
            rc.close()
        rc = self.proxied_login("127.0.0.8")
        try:
            code, text = rc.cmd("PORT 127,0,0,8,200,10")
            self.assertEqual(code, 502, text)
            self.assertIn("use PASV or EPSV", text)
            code, text = rc.cmd("EPRT |1|127.0.0.8|51210|")
            self.assertEqual(code, 502, text)
            # A data connection whose header names another client, and
            # one whose header has no address: its source is the
            # balancer, not this session's client.
            for hdr, src in ((v2_header("127.0.0.9", 1234, "127.0.0.1",
                                        21), "127.0.0.9"),
                             (v2_header(None, 0, None, 0, local=True),
                              "127.0.0.2")):
                d = self.epsv_connect(rc, self.a, hdr)
                rc.send("NLST")
                code, text = rc.resp()
                self.assertEqual(code, 425, text)
                d.close()
                self.a.wait_log(r"ip=127\.0\.0\.8 data connection for "
                                r"foreign address %s via 127\.0\.0\.2 "
                                r"refused" % re.escape(src))
        finally:
            rc.close()

    def test_i_data_without_header(self):
        # proxy_data = header: a data connection that sends no header is
        # refused once login_timeout has passed.
        rc = self.proxied_login("127.0.0.8")
        try:
            t0 = time.monotonic()
            d = self.epsv_connect(rc, self.a)
            rc.send("NLST")
            code, text = rc.resp()
            self.assertEqual(code, 425, text)
            self.assertGreater(time.monotonic() - t0, LOGIN_TIMEOUT - 0.5)
            d.close()
            self.a.wait_log(r"ip=127\.0\.0\.8 data connection via "
                            r"127\.0\.0\.2 refused: no PROXY header")
        finally:
            rc.close()
        # proxy_data = trust: the same connection is taken as it is, but
        # only from the balancer that carried the control connection.
        with Ftpsd(port_host="127.0.0.13", conf={
                "listen_addresses": "127.0.0.13",
                "proxy_protocol": "v2",
                "proxy_trusted": "127.0.0.2, 127.0.0.3",
                "proxy_data": "trust", "data_tls": "optional"}) as t:
            with open(t.path("t.txt"), "w") as f:
                f.write("x")
            rc = self.proxied_login("127.0.0.8", node=t, prot_p=False)
            try:
                d = self.epsv_connect(rc, t, source="127.0.0.3")
                rc.send("NLST")
                code, text = rc.resp()
                self.assertEqual(code, 425, text)
                d.close()
                t.wait_log(r"ip=127\.0\.0\.8 data connection via 127\.0\.0"
                           r"\.3 refused: the control connection came via "
                           r"127\.0\.0\.2 \(port theft\)")
                d = self.epsv_connect(rc, t)
                rc.send("NLST")
                code, text = rc.resp()
                self.assertEqual(code, 150, text)
                got = b""
                while True:
                    b = d.recv(4096)
                    if not b:
                        break
                    got += b
                d.close()
                self.assertEqual(got, b"t.txt\r\n")
                self.assertEqual(rc.resp()[0], 226)
            finally:
                rc.close()

    def test_j_per_ip_limit_counts_the_client(self):
        # All from the one balancer address; the limit counts the
        # addresses its headers name, and the balancer's own address for
        # its own connections (PROXY UNKNOWN), apart from its clients.
        with Ftpsd(port_host="127.0.0.13", conf={
                "listen_addresses": "127.0.0.13", "proxy_protocol": "v1",
                "proxy_trusted": "127.0.0.2", "max_clients_per_ip": 1,
                "workers": 2}) as t:
            keep = []
            try:
                for client, want in (("192.0.2.60", 220), ("192.0.2.60", 421),
                                     (None, 220), (None, 421),
                                     ("192.0.2.61", 220)):
                    rc = RawControl(t.port_host, t.explicit_port,
                                    source="127.0.0.2")
                    keep.append(rc)
                    if client is None:
                        rc.send_raw(b"PROXY UNKNOWN\r\n")
                    else:
                        rc.send_raw(("PROXY TCP4 %s 127.0.0.13 4000 21\r\n"
                                     % client).encode())
                    code, text = rc.resp()
                    self.assertEqual(code, want, (client, text))
            finally:
                for rc in keep:
                    rc.close()

    def test_k_ipv6_client(self):
        # A v1 TCP6 header: the IPv6 client is the session's address.
        rc = RawControl(self.a.port_host, self.a.explicit_port,
                        source="127.0.0.2")
        try:
            rc.send_raw(b"PROXY TCP6 2001:db8::7 2001:db8::1 5000 21\r\n")
            code, text = rc.resp()
            self.assertEqual(code, 220, text)
            self.assertEqual(rc.cmd("QUIT")[0], 221)
        finally:
            rc.close()
        self.a.wait_log(r"sess=\d+ ip=2001:db8::7 proxied via=127\.0\.0\.2")

    def test_l_balancer_banned_only_for_its_own(self):
        # The balancer's own connections (no client address) count under
        # its address: its failed logins ban it, not the clients it
        # carries.  Node A keeps the ban: the tests after this one send
        # only headers with client addresses to it.
        rc = RawControl(self.a.port_host, self.a.explicit_port,
                        source="127.0.0.2")
        try:
            rc.send_raw(b"PROXY UNKNOWN\r\n")
            self.assertEqual(rc.resp()[0], 220)
            self.assertEqual(rc.cmd("AUTH TLS")[0], 234)
            ctx = self.a.client_context()
            ctx.check_hostname = False
            rc.starttls(ctx)
            for _ in range(2):
                self.assertEqual(rc.cmd("USER alice")[0], 331)
                self.assertIn(rc.cmd("PASS wrong")[0], (530, 421))
        finally:
            rc.close()
        self.a.wait_log(r"127\.0\.0\.2 .*banned|banned.*127\.0\.0\.2")
        for hdr, want in ((v2_header(None, 0, None, 0, local=True), 421),
                          (v2_header("192.0.2.70", 4000, "127.0.0.1", 21),
                           220)):
            with RawControl(self.a.port_host, self.a.explicit_port,
                            source="127.0.0.2") as rc:
                rc.send_raw(hdr)
                code, text = rc.resp()
                self.assertEqual(code, want, text)
        self.a.wait_log(r"refused connection on .*: 127\.0\.0\.2 banned")

    def test_z_failover(self):
        victim = self.c.nodes[0]
        victim.proc.kill()
        victim.proc.wait(10)
        victim.logf.close()
        victim.proc = None
        t0 = time.monotonic()
        for i, src in enumerate(("127.0.0.5", "127.0.0.6", "127.0.0.5")):
            p = self.c.curl(src, "--list-only")
            self.assertEqual(p.returncode, 0, describe(p))
            self.assertIn("shared.bin", p.stdout)
        print("3 sessions after the kill: %.2f s"
              % (time.monotonic() - t0), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
