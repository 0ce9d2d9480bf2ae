#!/usr/bin/env python3
"""One event loop no client can hog (docs/server.md "Fairness"):
backpressure on replies a client does not read, bounded STAT and
listings, files that would block (FIFOs) refused, and fair transfers.
Each test measures its figure (server RSS from /proc, another session's
NOOP latency) and prints it as "FIGURE name: value"."""

import ftplib
import io
import os
import socket
import ssl
import stat
import statistics
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HOST, MiB, Ftpsd, figure  # noqa: E402



def vm_kib(pid, field):
    """VmRSS or VmHWM of pid, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (field, pid))


def flood(sock, data, max_bytes, max_secs, stall_secs=1.5):
    """
    Sends data over and over, never reading, until max_bytes went, max_secs
    passed or the peer stopped taking bytes for stall_secs.  Returns the
    number of bytes sent.
    """
    sent = 0
    chunk = data * max(1, 65536 // len(data))
    sock.settimeout(stall_secs)
    end = time.monotonic() + max_secs
    while sent < max_bytes and time.monotonic() < end:
        try:
            sock.sendall(chunk)
        except (socket.timeout, ssl.SSLWantWriteError):
            break
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(chunk)
    return sent


def drain(sock, want, max_secs):
    """Reads until want bytes came, EOF or max_secs; bytes read."""
    got = 0
    sock.settimeout(2)
    end = time.monotonic() + max_secs
    while got < want and time.monotonic() < end:
        try:
            b = sock.recv(1 << 20)
        except (socket.timeout, ssl.SSLError, ConnectionResetError):
            break
        if not b:
            break
        got += len(b)
    return got


class NoopProbe:
    """Another session sending NOOP in a loop; records each round trip."""

    def __init__(self, srv, interval=0.01):
        self.rc = srv.raw_login(prot_p=False)
        self.interval = interval
        self.times = []
        self.errors = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            while not self.stop.is_set():
                t0 = time.monotonic()
                code, text = self.rc.cmd("NOOP")
                self.times.append(time.monotonic() - t0)
                if code != 200:
                    self.errors.append(text)
                    return
                time.sleep(self.interval)
        except OSError as e:
            self.errors.append(repr(e))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.thread.join(harness.SOCK_TIMEOUT)
        self.rc.close()

    def stats(self):
        """(median, p99, max) in milliseconds."""
        t = sorted(self.times)
        if not t:
            raise AssertionError("no NOOP round trip measured")
        p99 = t[min(len(t) - 1, int(len(t) * 0.99))]
        return (statistics.median(t) * 1000, p99 * 1000, t[-1] * 1000)

    @classmethod
    def beside(cls, srv, job, timeout=60):
        """Runs job() in a thread while alice's NOOP is measured; returns
        the probe and what job() raised (repr), if anything."""
        errors = []

        def run():
            try:
                job()
            except Exception as e:  # noqa: BLE001 - the caller checks
                errors.append(repr(e))

        t = threading.Thread(target=run, daemon=True)
        with cls(srv) as probe:
            time.sleep(0.1)
            t.start()
            t.join(timeout)
        return probe, errors

    def report(self, what, secs):
        """Prints the figure: what (each job's seconds in secs) against
        alice's NOOP; returns stats()."""
        med, p99, mx = self.stats()
        figure("%s (%s)" % (what, ", ".join(
            "%s %.1f s" % kv for kv in sorted(secs.items()))),
            "alice's NOOP median %.1f ms, p99 %.1f ms, max %.1f ms "
            "(%d samples)" % (med, p99, mx, len(self.times)))
        return med, p99, mx


class Backpressure(harness.ServerTestCase):
    """Issue 12.1: a client that pipelines commands and reads no reply."""
    ENV = harness.small_asan_quarantine()

    def pipeline(self, rc, label):
        pid = self.srv.proc.pid
        before = vm_kib(pid, "VmRSS")
        hwm0 = vm_kib(pid, "VmHWM")
        sent = flood(rc.sock, b"HELP\r\n", 64 * MiB, 15)
        time.sleep(0.3)
        grown = vm_kib(pid, "VmRSS") - before
        hwm = vm_kib(pid, "VmHWM") - hwm0
        figure("%s, pipelined HELP" % label, "sent %.1f MiB, server RSS "
               "+%d KiB, VmHWM +%d KiB" % (sent / MiB, grown, hwm))
        self.assertLess(max(grown, hwm), 4 * 1024,
                        "%s: server grew by %d KiB (HWM %d KiB)"
                        % (label, grown, hwm))
        # Reading resumes once the client reads: far more replies come
        # than the bounded output and the socket buffers could hold.
        got = drain(rc.sock, 16 * MiB, 20)
        figure("%s replies read after the flood" % label,
               "%.1f MiB" % (got / MiB))
        self.assertGreaterEqual(got, 16 * MiB, "%s: the session did not "
                                "read its pipelined commands again" % label)
        rc.close()

    def test_plaintext_before_login(self):
        rc = self.srv.raw()
        self.assertEqual(rc.resp()[0], 220)
        self.pipeline(rc, "plaintext before login")

    def test_implicit_tls_before_login(self):
        rc = self.srv.raw(implicit=True)
        self.assertEqual(rc.resp()[0], 220)
        self.pipeline(rc, "implicit TLS before login")

    def test_auth_tls_logged_in(self):
        # AUTH TLS: the TLS filter over the socket bufferevent.
        rc = self.srv.raw_login(prot_p=False)
        self.pipeline(rc, "AUTH TLS logged in")

    def test_auth_tls_pasv_tickets(self):
        """
        Each PASV reply follows a fresh TLS 1.3 session ticket.  When the
        socket's output fills while the AUTH TLS filter's SSL is writing
        a ticket, SSL_read needs a write first; libevent's filter then no
        longer holds back the socket below, which read every pipelined
        byte into memory (12 to 16 MiB taken in 1.2 to 2.4 s, server RSS
        +8 to 13 MB, in 2 to 4 rounds of 6; this test caught it in about
        half its runs of 4 rounds).  A client that floods PASV and reads a
        few replies now and then (each read is a new chance for the
        output to fill mid-ticket) must be stopped every round.
        """
        pid = self.srv.proc.pid
        for rnd in range(1, 6):
            rc = self.srv.raw_login(prot_p=False)
            before = vm_kib(pid, "VmRSS")
            sock = rc.sock
            sock.setblocking(False)
            blob = b"PASV\r\n" * 2000
            sent = got = 0
            start = last_read = time.monotonic()
            while time.monotonic() - start < 2.5 and sent < 12 * MiB:
                try:
                    sent += sock.send(blob)
                except (ssl.SSLWantWriteError, BlockingIOError):
                    time.sleep(0.002)
                if time.monotonic() - last_read > 0.001:
                    last_read = time.monotonic()
                    try:
                        got += len(sock.recv(300))
                    except (ssl.SSLWantReadError, BlockingIOError):
                        pass
            grown = vm_kib(pid, "VmRSS") - before
            figure("AUTH TLS, pipelined PASV read slowly, round %d" % rnd,
                   "sent %.1f MiB in %.1f s, read %d KiB, server RSS "
                   "%+d KiB" % (sent / MiB, time.monotonic() - start,
                                got // 1024, grown))
            self.assertLess(sent, 12 * MiB, "round %d: the server took "
                            "every pipelined PASV" % rnd)
            # Round 1 also makes what every PASV and ticket reuses (and,
            # in the ASan build, its shadow pages): 5 to 7 MB there.
            if rnd > 1:
                self.assertLess(grown, 4 * 1024, "round %d: server grew "
                                "by %d KiB" % (rnd, grown))
            rc.close()
        # The session after them is served as usual.
        rc = self.srv.raw_login(prot_p=False)
        self.assertEqual(rc.cmd("PASV")[0], 227)
        rc.close()

BIG = 100000


class BigFolder(harness.ServerTestCase):
    """A server whose alice has /big, a 100,000-entry folder."""
    CONF = {"max_clients_per_ip": 64}
    ENV = harness.small_asan_quarantine()

    @classmethod
    def prepare_files(cls, srv):
        big = srv.path("big")
        os.makedirs(big)
        for i in range(BIG):
            os.close(os.open(os.path.join(big, "entry-%06d.dat" % i),
                             os.O_CREAT | os.O_WRONLY, 0o644))


class Listings(BigFolder):
    """Issue 12.2: STAT and listings of a 100,000-entry folder."""

    def test_stat_capped(self):
        rc = self.srv.raw_login(prot_p=False)
        self.addCleanup(rc.close)
        code, text = rc.cmd("STAT /big")
        self.assertEqual(code, 213, text)
        lines = text.split("\n")
        figure("STAT of a %d-entry folder" % BIG, "%d lines, %d bytes"
               % (len(lines), len(text)))
        self.assertLessEqual(len(lines), 1003)
        self.assertIn("use LIST or MLSD", lines[-2])
        self.assertTrue(lines[-1].startswith("213 End"), lines[-1])
        # A small folder is listed whole, with no such line.
        code, text = rc.cmd("STAT /")
        self.assertEqual(code, 213, text)
        self.assertNotIn("listing cut", text)
        self.assertIn(" big\r" if "\r" in text else " big", text)

    def test_pipelined_stat(self):
        pid = self.srv.proc.pid
        rc = self.srv.raw_login(prot_p=False)
        self.addCleanup(rc.close)
        before = vm_kib(pid, "VmRSS")
        with NoopProbe(self.srv) as probe:
            time.sleep(0.3)
            rc.send_raw(b"STAT /big\r\n" * 20)
            time.sleep(3)
        grown = vm_kib(pid, "VmRSS") - before
        med, p99, mx = probe.stats()
        figure("20 pipelined STAT /big (not read)", "server RSS +%d KiB; "
               "other session's NOOP median %.1f ms, p99 %.1f ms, max "
               "%.1f ms" % (grown, med, p99, mx))
        self.assertEqual(probe.errors, [])
        self.assertLess(grown, 8 * 1024)
        self.assertLess(p99, 250)

    def test_list_loops_spare_noop(self):
        stop = threading.Event()
        counts = []

        def loader():
            # One login, then LIST after LIST on the same connection (a
            # login per LIST would measure the password hashing instead).
            n = 0
            while not stop.is_set():
                urls = [self.srv.url("big/")] * 2
                outs = ["-o", "/dev/null"] * len(urls)
                p = self.srv.curl("--ssl-reqd", *outs, *urls, timeout=40)
                if p.returncode != 0:
                    counts.append(-1)
                    return
                n += len(urls)
            counts.append(n)

        threads = [threading.Thread(target=loader, daemon=True)
                   for _ in range(4)]
        with NoopProbe(self.srv) as probe:
            for t in threads:
                t.start()
            time.sleep(8)
            stop.set()
            for t in threads:
                t.join(45)
        med, p99, mx = probe.stats()
        figure("4 sessions looping LIST /big (%s listings)" % sum(counts),
               "other session's NOOP median %.1f ms, p99 %.1f ms, max "
               "%.1f ms" % (med, p99, mx))
        self.assertEqual(probe.errors, [])
        self.assertNotIn(-1, counts, "a LIST failed")
        self.assertGreater(sum(counts), 0)
        self.assertLess(p99, 100)

    def test_list_complete(self):
        # Beyond the sorted part a listing streams: every name once.
        ftp = self.ftp()
        names = ftp.nlst("big")
        self.assertEqual(len(names), BIG)
        self.assertEqual(len(set(names)), BIG)
        facts = []
        ftp.retrlines("MLSD big", facts.append)
        self.assertEqual(len(facts), BIG + 1)


class SlowListings(BigFolder):
    """
    Issue 12.2: slowly read listings, on a server of their own (memory
    that another test freed would hide what they hold).
    """

    def test_slow_readers(self):
        pid = self.srv.proc.pid
        before = vm_kib(pid, "VmRSS")
        ftps, socks = [], []
        try:
            for _ in range(10):
                ftp = self.ftp()
                ftps.append(ftp)
                socks.append(ftp.transfercmd("LIST big"))
            got = 0
            end = time.monotonic() + 3
            while time.monotonic() < end:
                for sk in socks:
                    got += len(sk.recv(4096))
                time.sleep(0.05)
            grown = vm_kib(pid, "VmRSS") - before
        finally:
            for sk in socks:
                sk.close()
            for ftp in ftps:
                try:
                    ftp.getresp()
                except Exception:
                    pass
        figure("10 slowly read LIST big (%.1f MiB read)" % (got / MiB),
               "server RSS +%d KiB" % grown)
        self.assertLess(grown, 16 * 1024)



class NonRegular(harness.ServerTestCase):
    """Issue 12.3: a FIFO or a device in a home never blocks the loop."""

    @classmethod
    def prepare_files(cls, srv):
        os.mkfifo(srv.path("fifo"))
        # A character device (/dev/null's numbers): needs root, as the
        # integration tests run.
        os.mknod(srv.path("null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))

    def refused(self, verb, name):
        ftp = self.ftp()
        # Short: without the fix the whole server hangs in open().
        ftp.sock.settimeout(5)
        t0 = time.monotonic()
        with self.assertRaises(ftplib.error_perm) as cm:
            if verb == "RETR":
                ftp.retrbinary("RETR " + name, lambda b: None)
            else:
                ftp.storbinary("%s %s" % (verb, name), io.BytesIO(b"x"))
        ms = (time.monotonic() - t0) * 1000
        figure("%s %s" % (verb, name), "%s in %.1f ms"
               % (str(cm.exception)[:3], ms))
        self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
        # The server still serves everyone, this session included.
        other = self.srv.raw_login(prot_p=False)
        self.addCleanup(other.close)
        self.assertEqual(other.cmd("NOOP")[0], 200)
        self.assertEqual(ftp.voidcmd("NOOP")[:3], "200")

    def test_retr_fifo(self):
        self.refused("RETR", "fifo")

    def test_appe_fifo(self):
        self.refused("APPE", "fifo")

    def test_stor_fifo(self):
        self.refused("STOR", "fifo")

    def test_retr_device(self):
        self.refused("RETR", "null")

    def test_appe_device(self):
        self.refused("APPE", "null")

    def test_appe_swapped_for_fifo(self):
        # The checked target becomes a FIFO before the data connection is
        # up: the open after the TLS handshake must not block either.
        path = self.srv.path("swapped")
        with open(path, "wb") as f:
            f.write(b"old")
        ftp = self.ftp()
        ftp.sock.settimeout(5)
        host, port = ftplib.parse227(ftp.sendcmd("PASV"))
        ftp.putcmd("APPE swapped")
        time.sleep(0.3)
        os.unlink(path)
        os.mkfifo(path)
        raw = socket.create_connection((host, port), 5)
        self.assertTrue(ftp.getresp().startswith("150"))
        conn = ftp.context.wrap_socket(raw, server_hostname=ftp.host,
                                       session=ftp.sock.session)
        self.addCleanup(conn.close)
        with self.assertRaises(ftplib.error_perm) as cm:
            ftp.getresp()
        self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
        self.assertEqual(ftp.voidcmd("NOOP")[:3], "200")

    def test_list_fifo(self):
        # Listing it is fine: LIST shows the entry, nothing is opened.
        ftp = self.ftp()
        ftp.sock.settimeout(5)
        lines = []
        ftp.retrlines("LIST fifo", lines.append)
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("p"), lines)


class SlowDisk(harness.ServerTestCase):
    """
    Issue 12.3: file I/O runs off the loop.  faultshim.so adds 200 ms to
    every read, write and fsync of carol's files; alice's NOOP must not
    wait behind carol's transfers.
    """
    USERS = dict(harness.USERS, carol=("carol-Pw-51d0", "rw"))
    SIZE = 3 * MiB

    @classmethod
    def setUpClass(cls):
        from test_hardening import start_slow

        def prepare(srv):
            with open(srv.path("down.bin", "carol"), "wb") as f:
                f.write(os.urandom(cls.SIZE))
            cls.src = os.path.join(srv.dir, "up-src.bin")
            with open(cls.src, "wb") as f:
                f.write(os.urandom(cls.SIZE))
        cls.srv = start_slow(cls.USERS, "/home/carol/", prepare)

    def test_noop_while_disk_is_slow(self):
        results = {}

        def run(label, *args):
            t0 = time.monotonic()
            p = self.srv.curl("--ssl-reqd", *args, timeout=60)
            results[label] = (p.returncode, time.monotonic() - t0, p.stderr)

        got = os.path.join(self.srv.dir, "got.bin")
        jobs = [("down", "-o", got, self.srv.url("down.bin", user="carol")),
                ("up", "-T", self.src, self.srv.url("up.bin", user="carol"))]
        threads = [threading.Thread(target=run, args=j, daemon=True)
                   for j in jobs]
        with NoopProbe(self.srv) as probe:
            for t in threads:
                t.start()
            for t in threads:
                t.join(70)
        _, p99, _ = probe.report(
            "carol's disk +200 ms per read/write/fsync",
            {k: v[1] for k, v in results.items()})
        for label, (rc, _, err) in results.items():
            self.assertEqual(rc, 0, "%s: %s" % (label, err))
        self.assertEqual(len(results), 2)
        # The slowness is real: carol's transfers took seconds.
        self.assertGreater(min(v[1] for v in results.values()), 1.0)
        self.assertEqual(harness.sha256_file(got),
                         harness.sha256_file(self.srv.path("down.bin",
                                                           "carol")))
        self.assertEqual(harness.sha256_file(self.src),
                         harness.sha256_file(self.srv.path("up.bin",
                                                           "carol")))
        self.assertEqual(probe.errors, [])
        self.assertLess(p99, 150)

    def test_noop_while_aborted_uploads_are_freed(self):
        # ABOR frees the upload's O_TMPFILE: faultshim.so makes that
        # close() take 200 ms, as freeing 1 GiB of an aborted upload took
        # 80 ms on ext4.  It runs on the pool; the 426 waits for it.
        aborts = []
        ftp = self.srv.ftp("carol")
        ftp.voidcmd("TYPE I")
        with NoopProbe(self.srv) as probe:
            for i in range(6):
                conn = ftp.transfercmd("STOR aborted%d.bin" % i)
                conn.sendall(os.urandom(64 * 1024))
                t0 = time.monotonic()
                ftp.putcmd("ABOR")
                replies = [harness.ftp_reply(ftp.getresp) for _ in "12"]
                aborts.append(time.monotonic() - t0)
                conn.close()
                self.assertEqual([r[:3] for r in replies], ["426", "226"])
        ftp.quit()
        _, p99, _ = probe.report("carol's aborted uploads freed in 200 ms",
                                 {"slowest ABOR": max(aborts)})
        self.assertEqual(probe.errors, [])
        self.assertEqual([n for n in os.listdir(self.srv.home("carol"))
                          if n.startswith("aborted")], [])
        # The slowness is real: each 426 waited for the close.
        self.assertGreater(min(aborts), 0.19)
        # Before, the close ran on the loop: 200 ms per ABOR.
        self.assertLess(p99, 150)


class SlowNeighbour(harness.ServerTestCase):
    """
    The I/O pool is shared fairly between homes (iopool.c): while eight of
    carol's downloads wait 200 ms for every read of her slow disk, alice's
    listings and upload, which always use the pool, are not queued behind
    them.
    """
    USERS = dict(harness.USERS, carol=("carol-Pw-51d0", "rw"))
    FILES = 2000
    CAROL = 8

    @classmethod
    def setUpClass(cls):
        from test_hardening import start_slow

        def prepare(srv):
            with open(srv.path("down.bin", "carol"), "wb") as f:
                f.write(os.urandom(2 * MiB))
            os.makedirs(srv.path("many"))
            for i in range(cls.FILES):
                open(srv.path("many/f%04d" % i), "wb").close()
        cls.srv = start_slow(cls.USERS, "/home/carol/", prepare)

    def test_alice_not_queued_behind_carol(self):
        results = {}

        def carol(i):
            t0 = time.monotonic()
            p = self.srv.curl("--ssl-reqd", "-o", "/dev/null",
                              self.srv.url("down.bin", user="carol"),
                              timeout=60)
            results[i] = (p.returncode, time.monotonic() - t0, p.stderr)

        threads = [threading.Thread(target=carol, args=(i,), daemon=True)
                   for i in range(self.CAROL)]
        ftp = self.srv.ftp()
        for t in threads:
            t.start()
        time.sleep(0.4)
        t0 = time.monotonic()
        for _ in range(3):
            names = ftp.nlst("many")
            self.assertEqual(len(names), self.FILES)
        ftp.storbinary("STOR small.bin", io.BytesIO(b"x" * 1000))
        alice = time.monotonic() - t0
        busy = sum(t.is_alive() for t in threads)
        ftp.quit()
        for t in threads:
            t.join(70)
        figure("%d of carol's downloads on a disk +200 ms per read "
               "(%d still running at the end)" % (self.CAROL, busy),
               "alice's 3 listings of %d names + 1 upload: %.2f s"
               % (self.FILES, alice))
        for i, (rc, _, err) in results.items():
            self.assertEqual(rc, 0, "carol %d: %s" % (i, err))
        self.assertEqual(len(results), self.CAROL)
        # carol's downloads were still waiting for her disk meanwhile.
        self.assertGreater(busy, 0)
        # Fair: about 0.1 s.  Queued behind carol's reads (first come
        # first served), each of alice's pool jobs (a listing's slices,
        # the upload's fsync and rename) waited 100-200 ms: 1.2-1.4 s
        # with six downloads of carol's.
        self.assertLess(alice, 0.7)


class SlowFolder(harness.ServerTestCase):
    """
    Issue 12.3: a listing reads its folder on the I/O pool.  faultshim.so
    adds 200 ms to carol's folder reads (the first entry, then every
    64th); alice's NOOP must not wait behind carol's LIST, NLST and MLSD.
    """
    USERS = dict(harness.USERS, carol=("carol-Pw-51d0", "rw"))
    FILES = 300

    @classmethod
    def setUpClass(cls):
        from test_hardening import start_slow

        def prepare(srv):
            for i in range(cls.FILES):
                open(srv.path("f%03d" % i, "carol"), "wb").close()
        # Lookups at full speed: a listing stats each of its 300 entries.
        cls.srv = start_slow(cls.USERS, "/home/carol", prepare, lookup_ms=0)

    def test_noop_while_folder_is_slow(self):
        got = {}

        def lister():
            ftp = self.srv.ftp("carol")
            for cmd in ("LIST", "NLST", "MLSD"):
                lines = []
                t0 = time.monotonic()
                ftp.retrlines(cmd, lines.append)
                got[cmd] = (len(lines), time.monotonic() - t0)
            ftp.quit()

        probe, errors = NoopProbe.beside(self.srv, lister)
        _, p99, _ = probe.report("carol's folder reads +200 ms",
                                 {k: v[1] for k, v in got.items()})
        self.assertEqual(errors, [])
        self.assertEqual(got["LIST"][0], self.FILES)
        self.assertEqual(got["NLST"][0], self.FILES)
        self.assertEqual(got["MLSD"][0], self.FILES + 1)  # and cdir
        # The slowness is real: each listing waited for its folder.
        self.assertGreater(min(v[1] for v in got.values()), 0.5)
        self.assertEqual(probe.errors, [])
        # Generous (before the fix: p99 about 200 ms, the folder's delay).
        self.assertLess(p99, 150)


class SlowCommands(harness.ServerTestCase):
    """
    Issue 12.3: every command's file system work runs on the I/O pool.
    faultshim.so adds 200 ms to each lookup (open, openat2, stat, mkdir,
    unlink, rename) and each read and write of carol's paths; alice's NOOP
    must not wait behind carol's commands, which still answer in order.
    """
    USERS = dict(harness.USERS, carol=("carol-Pw-51d0", "rw"))
    DATA = b"0123456789" * 100

    @classmethod
    def setUpClass(cls):
        from test_hardening import start_slow

        def prepare(srv):
            for name in ("data.bin", "gone.bin"):
                with open(srv.path(name, "carol"), "wb") as f:
                    f.write(cls.DATA)
        # The home itself ("/home/carol") is opened at login, unslowed.
        cls.srv = start_slow(cls.USERS, "/home/carol/", prepare)

    # Pipelined, so each command must see what the one before it did.
    PIPELINE = [
        ("MKD d1", 257, '"/d1" created'),
        ("CWD d1", 250, '"/d1"'),
        ("PWD", 257, '"/d1"'),
        ("MKD sub", 257, '"/d1/sub"'),
        ("CDUP", 250, '"/"'),
        ("XCWD /d1/sub", 250, '"/d1/sub"'),
        ("XCUP", 250, '"/d1"'),
        ("RMD sub", 250, "removed"),
        ("CWD /", 250, '"/"'),
        ("SIZE data.bin", 213, "213 1000"),
        ("MDTM data.bin", 213, "213 2"),
        ("MLST data.bin", 250, "size=1000;"),
        ("STAT /", 213, " data.bin"),
        ("RNFR data.bin", 350, "RNTO"),
        ("RNTO moved.bin", 250, "successful"),
        ("SIZE moved.bin", 213, "213 1000"),
        ("SIZE data.bin", 550, "No such file"),
        ("RNFR moved.bin", 350, "RNTO"),
        ("RNTO data.bin", 250, "successful"),
        ("DELE gone.bin", 250, "deleted"),
        ("DELE gone.bin", 550, "No such file"),
        ("RMD d1", 250, "removed"),
        ("CWD d1", 550, "No such file"),
    ]

    def carol(self, rc, ftp, out):
        t0 = time.monotonic()
        rc.send_raw(b"".join(c.encode() + b"\r\n"
                             for c, _, _ in self.PIPELINE))
        out["replies"] = [rc.resp() for _ in self.PIPELINE]
        out["pipeline"] = time.monotonic() - t0
        t0 = time.monotonic()
        ftp.storbinary("STOR up.bin", io.BytesIO(self.DATA))
        got = io.BytesIO()
        ftp.retrbinary("RETR up.bin", got.write)
        out["retr"] = got.getvalue()
        out["list"] = []
        ftp.retrlines("LIST", out["list"].append)
        out["dele"] = ftp.delete("up.bin")
        out["transfers"] = time.monotonic() - t0

    def test_noop_while_commands_wait(self):
        # Logged in first: only the commands are measured.
        rc = self.srv.raw_login("carol", prot_p=False)
        self.addCleanup(rc.close)
        ftp = self.ftp("carol")
        out = {}
        probe, errors = NoopProbe.beside(
            self.srv, lambda: self.carol(rc, ftp, out))
        _, p99, _ = probe.report(
            "carol's lookups, reads and writes +200 ms",
            {"pipelined commands": out.get("pipeline", 0),
             "STOR, RETR, LIST, DELE": out.get("transfers", 0)})
        self.assertEqual(errors, [])
        for (line, code, want), (got, text) in zip(self.PIPELINE,
                                                    out["replies"]):
            self.assertEqual(got, code, "%s: %s" % (line, text))
            self.assertIn(want, text, line)
        self.assertEqual(out["retr"], self.DATA)
        self.assertEqual(sorted(x.split()[-1] for x in out["list"]),
                         ["data.bin", "up.bin"])
        self.assertTrue(out["dele"].startswith("250"), out["dele"])
        # The slowness is real: each command waited for carol's disk.
        self.assertGreater(out["pipeline"], 0.2 * len(self.PIPELINE))
        self.assertEqual(probe.errors, [])
        # Generous (before the fix: p99 about 200 ms, one lookup's delay).
        self.assertLess(p99, 150)


# 256 MiB each in make check; FTPSD_FAIR_MIB=1024 for the 1 GiB.
XFER_SIZE = int(os.environ.get("FTPSD_FAIR_MIB", "256")) * MiB


def uses_asan(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


class FairTransfers(harness.ServerTestCase):
    """
    Issue 12.4: two uploads and downloads at full speed on loopback;
    another session's NOOP must not wait behind them.  The downloads read
    a file with real data, a sparse one (truncate) and a preallocated one
    (fallocate: unwritten extents), as a test of the issue may make its
    files: reading a hole allocates and zeroes page cache, which took 60
    ms per 256 KiB read when ftpsd still read on its loop (RWF_NOWAIT).
    """

    @classmethod
    def prepare_files(cls, srv):
        block = os.urandom(4 * MiB)
        with open(srv.path("real.bin"), "wb") as f:
            for _ in range(XFER_SIZE // len(block)):
                f.write(block)
        with open(srv.path("sparse.bin"), "wb") as f:
            f.truncate(XFER_SIZE)
        with open(srv.path("falloc.bin"), "wb") as f:
            os.posix_fallocate(f.fileno(), 0, XFER_SIZE)
        # The uploads send real.bin too, from the page cache: curl reading
        # a sparse source zeroes new pages itself, which on this VM
        # stalled the machine (and the probe) at 1 GiB, not ftpsd.
        cls.src = srv.path("real.bin")

    def test_noop_during_transfers(self):
        results = {}

        def run(label, *args):
            t0 = time.monotonic()
            p = self.srv.curl("--ssl-reqd", "-w", "%{size_download}",
                              *args, timeout=240)
            results[label] = (p.returncode, time.monotonic() - t0,
                              p.stderr, p.stdout)

        jobs = [("down-real", "-o", "/dev/null", self.srv.url("real.bin")),
                ("down-sparse", "-o", "/dev/null",
                 self.srv.url("sparse.bin")),
                ("down-falloc", "-o", "/dev/null",
                 self.srv.url("falloc.bin")),
                ("up1", "-T", self.src, self.srv.url("up1.bin")),
                ("up2", "-T", self.src, self.srv.url("up2.bin"))]
        threads = [threading.Thread(target=run, args=j, daemon=True)
                   for j in jobs]
        with NoopProbe(self.srv) as probe:
            time.sleep(0.2)
            for t in threads:
                t.start()
            for t in threads:
                t.join(250)
        med, p99, mx = probe.stats()
        speeds = ", ".join("%s %.0f MiB/s" % (k, XFER_SIZE / MiB / v[1])
                           for k, v in sorted(results.items()))
        figure("2 uploads + 3 downloads (real data, sparse, fallocate) of "
               "%d MiB (%s)"
               % (XFER_SIZE // MiB, speeds),
               "other session's NOOP median %.1f ms, p99 %.1f ms, max "
               "%.1f ms (%d samples)" % (med, p99, mx, len(probe.times)))
        self.assertEqual(len(results), len(jobs))
        for label, (rc, secs, err, out) in results.items():
            self.assertEqual(rc, 0, "%s: %s" % (label, err))
            if label.startswith("down"):
                self.assertEqual(out.strip(), str(XFER_SIZE), label)
        for name in ("up1.bin", "up2.bin"):
            self.assertEqual(os.path.getsize(self.srv.path(name)), XFER_SIZE)
        self.assertEqual(probe.errors, [])
        # The bound, with room for a shared CI box: measured on
        # the 2-core VM at load 4 to 5, p99 10 to 18 ms at 256 MiB (13 to
        # 14 ms at 1 GiB); 73 to 76 ms when the loop still read the files
        # itself (RWF_NOWAIT).  ASan's slower loop gets the old bound.
        self.assertLess(p99, 300 if uses_asan(self.srv.pid()) else 50)
        self.assertLess(mx, 2000)


if __name__ == "__main__":
    harness.main()
