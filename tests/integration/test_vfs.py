#!/usr/bin/env python3
"""The vfs seen from clients (docs/vfs.md): uploads invisible until
complete (O_TMPFILE, or hidden names where a file system lacks it), stale
temporary uploads swept at start, names with control characters refused,
a folder swapped for a symlink during STOR, and the warning that names the
cause when a file command fails for a reason no client produces."""

import fcntl
import io
import os
import re
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import MiB, data_exchange, ftp_reply  # noqa: E402

PREFIX = ".ftpsd-upload."


def no_tmpfile_env():
    """ftpsd's O_TMPFILE opens fail (EOPNOTSUPP): the hidden-name way."""
    asan = os.environ.get("ASAN_OPTIONS")
    return {"LD_PRELOAD": harness.faultshim(), "FAULTSHIM_NOTMPFILE": "1",
            "ASAN_OPTIONS": ((asan + ":") if asan else "") +
            "verify_asan_link_order=0"}


def upload_fds(pid, home):
    """The server's descriptors of files in home being uploaded: an
    unnamed O_TMPFILE shows as 'home/#123 (deleted)', a hidden one by its
    name."""
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        name = target[len(home) + 1:] if target.startswith(home + "/") \
            else ""
        if name.startswith("#") or name.startswith(PREFIX):
            out.append(name)
    return out


def names(ftp, cmd="NLST"):
    lines = []
    ftp.retrlines(cmd, lines.append)
    if cmd == "MLSD":
        return [line.split("; ", 1)[1] for line in lines
                if not line.startswith("type=cdir;")]
    if cmd == "LIST":
        return [line.split(None, 8)[8] for line in lines]
    return [n.rsplit("/", 1)[-1] for n in lines]


class InvisibleUploads(harness.ServerTestCase):
    """A second session of the same user cannot see, open, rename, delete
    or replace an upload in progress, nor change what its 226 commits."""
    TMPFILE = True

    @classmethod
    def setUpClass(cls):
        if not cls.TMPFILE:
            cls.ENV = no_tmpfile_env()
        super().setUpClass()

    def start_upload(self, name, first):
        a = self.ftp()
        a.voidcmd("TYPE I")
        conn = a.transfercmd("STOR " + name)
        conn.sendall(first)
        home = self.srv.home()
        deadline = time.monotonic() + 10
        while not upload_fds(self.srv.pid(), home):
            self.assertLess(time.monotonic(), deadline,
                            "the upload never opened its file")
            time.sleep(0.02)
        return a, conn, upload_fds(self.srv.pid(), home)[0]

    def test_second_session_cannot_touch_upload_in_progress(self):
        home = self.srv.home()
        old = os.urandom(64 * 1024)
        with open(os.path.join(home, "target.bin"), "wb") as f:
            f.write(old)
        data_a = os.urandom(2 * MiB)
        a, conn, inprogress = self.start_upload("target.bin",
                                                data_a[:MiB])
        on_disk = [n for n in os.listdir(home) if n.startswith(PREFIX)]
        if self.TMPFILE:
            self.assertTrue(inprogress.startswith("#"), inprogress)
            self.assertEqual(on_disk, [], "an O_TMPFILE upload has a name")
        else:
            self.assertEqual(on_disk, [inprogress])
        b = self.ftp()
        # Listings show the old file and nothing else of the upload.
        for cmd in ("NLST", "LIST", "MLSD"):
            self.assertEqual(sorted(names(b, cmd)), ["target.bin"], cmd)
        b.voidcmd("TYPE I")
        self.assertEqual(b.size("target.bin"), len(old))
        # The temporary name, known or guessed, is nobody's to touch.
        for tmp in set([PREFIX + "abcdef"] + on_disk):
            out = io.BytesIO()
            self.assertReply(ftp_reply(b.retrbinary, "RETR " + tmp,
                                       out.write), 550, "RETR " + tmp)
            self.assertEqual(out.getvalue(), b"")
            self.assertReply(ftp_reply(b.sendcmd, "SIZE " + tmp), 550)
            self.assertReply(ftp_reply(b.sendcmd, "MLST " + tmp), 550)
            self.assertReply(ftp_reply(b.sendcmd, "DELE " + tmp), 550)
            self.assertReply(ftp_reply(b.sendcmd, "RNFR " + tmp), 550)
            self.assertReply(ftp_reply(b.sendcmd, "RNFR target.bin"), 350)
            self.assertReply(ftp_reply(b.sendcmd, "RNTO " + tmp), 553)
            for verb in ("STOR", "APPE"):
                r = data_exchange(b, "%s %s" % (verb, tmp),
                                  upload=b"evil" * 1000)
                self.assertReply(r["final"], 553, verb + " " + tmp)
        self.assertEqual([n for n in os.listdir(home)
                          if n.startswith(PREFIX)], on_disk)
        # Another whole upload of the same target finishes first ...
        data_b = os.urandom(300 * 1024)
        r = data_exchange(b, "STOR target.bin", upload=data_b)
        self.assertReply(r["final"], 226)
        self.assertEqual(harness.sha256_file(os.path.join(
            home, "target.bin")), harness.sha256(data_b))
        # ... and the first one's 226 commits exactly what it sent.
        conn.sendall(data_a[MiB:])
        conn.unwrap()
        conn.close()
        self.assertReply(a.voidresp(), 226)
        self.assertEqual(harness.sha256_file(os.path.join(
            home, "target.bin")), harness.sha256(data_a))
        self.assertEqual([n for n in os.listdir(home)
                          if n.startswith(PREFIX)], [])
        self.assertEqual(sorted(os.listdir(home)), ["target.bin"])
        os.unlink(os.path.join(home, "target.bin"))

    def test_abandoned_upload_leaves_nothing(self):
        a, conn, _ = self.start_upload("gone.bin", os.urandom(MiB))
        conn.close()
        self.assertReply(ftp_reply(a.voidresp), 426)
        # The 426 waits for a write running on the I/O pool (iopool.c):
        # the upload is gone already.
        self.assertEqual(os.listdir(self.srv.home()), [])
        self.assertEqual(upload_fds(self.srv.pid(), self.srv.home()), [])


class InvisibleUploadsHiddenNames(InvisibleUploads):
    """The same where O_TMPFILE fails (faultshim.so: EOPNOTSUPP)."""
    TMPFILE = False


class AbortDuringFileJob(harness.ServerTestCase):
    """ABOR while an upload's file job runs on the I/O pool (iopool.c):
    faultshim.so adds 200 ms to every write and fsync of carol's files and
    folder.  The 426 comes only once the job is back and the upload gone;
    an ABOR once the commit is made is answered 226, and the file stays."""
    USERS = dict(harness.USERS, carol=("carol-Pw-51d0", "rw"))

    @classmethod
    def setUpClass(cls):
        from test_hardening import start_slow
        cls.srv = start_slow(cls.USERS, "/home/carol", lookup_ms=0)

    def abor(self, ftp):
        """ABOR's two replies, and the state of carol's home right when
        the first one came."""
        ftp.putcmd("ABOR")
        first = ftp_reply(ftp.getresp)
        seen = (upload_fds(self.srv.pid(), self.srv.home("carol")),
                sorted(os.listdir(self.srv.home("carol"))))
        return first, ftp_reply(ftp.getresp), seen

    def slow_upload(self, name):
        """carol's STOR of name with a 200 ms write on the pool now."""
        home = self.srv.home("carol")
        a = self.ftp("carol")
        a.voidcmd("TYPE I")
        conn = a.transfercmd("STOR " + name)
        conn.sendall(os.urandom(MiB))
        deadline = time.monotonic() + 10
        while not upload_fds(self.srv.pid(), home):
            self.assertLess(time.monotonic(), deadline,
                            "the upload never opened its file")
            time.sleep(0.01)
        # A 200 ms write is on the pool now (several are queued up).
        time.sleep(0.1)
        return a, conn

    def test_426_once_the_upload_is_gone(self):
        a, conn = self.slow_upload("gone.bin")
        first, second, (fds, files) = self.abor(a)
        conn.close()
        self.assertReply(first, 426)
        self.assertReply(second, 226)
        self.assertEqual(fds, [], "the upload was still open at 426")
        self.assertEqual(files, [])

    def test_second_abor_answered_after_the_transfer(self):
        # Both ABORs sent before any reply: the transfer's 426 comes
        # first, then one 226 for each ABOR (before, the second ABOR's
        # 226 went out at once, ahead of the 426).
        a, conn = self.slow_upload("twice.bin")
        a.sock.sendall(b"ABOR\r\nABOR\r\n")
        replies = [ftp_reply(a.getresp) for _ in range(3)]
        conn.close()
        self.assertEqual([r[:3] for r in replies], ["426", "226", "226"],
                         replies)
        self.assertReply(a.sendcmd("NOOP"), 200)
        self.assertEqual(os.listdir(self.srv.home("carol")), [])

    def test_kick_does_not_wait_for_the_file_job(self):
        # ABOR holds the 426 until the 200 ms write is back; an admin's
        # kick meanwhile ends the session at once (a hung file system
        # may never give the job back): 421 first, not 426.
        a, conn = self.slow_upload("kicked.bin")
        sess = re.findall(r"sess=(\d+) ip=\S+ login user=carol",
                          self.srv.log_text())[-1]
        a.putcmd("ABOR")
        p = harness.run([harness.ftpsdctl_binary(), "-s",
                         self.srv.config()["control_socket"], "kick", sess])
        self.assertEqual(p.returncode, 0, harness.describe(p))
        first = ftp_reply(a.getresp)
        conn.close()
        self.assertReply(first, 421)
        deadline = time.monotonic() + 10
        while (os.listdir(self.srv.home("carol")) or
               upload_fds(self.srv.pid(), self.srv.home("carol"))):
            self.assertLess(time.monotonic(), deadline,
                            "the kicked upload was left behind")
            time.sleep(0.05)

    def test_abor_after_commit_is_226(self):
        home = self.srv.home("carol")
        data = os.urandom(256 * 1024)
        a = self.ftp("carol")
        a.voidcmd("TYPE I")
        conn = a.transfercmd("STOR kept.bin")
        conn.sendall(data)
        # unwrap() waits for the server's close_notify, sent after the
        # commit: meanwhile the test sends ABOR.
        t = threading.Thread(target=lambda: (conn.unwrap(), conn.close()),
                             daemon=True)
        t.start()
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(home, "kept.bin")):
            self.assertLess(time.monotonic(), deadline,
                            "the upload was never committed")
            time.sleep(0.005)
        # The folder's 200 ms fsync after the commit is on the pool now.
        first, second, (_, files) = self.abor(a)
        t.join(10)
        self.assertReply(first, 226, "the commit was made: " + first)
        self.assertReply(second, 226)
        self.assertEqual(files, ["kept.bin"])
        self.assertEqual(harness.sha256_file(os.path.join(home, "kept.bin")),
                         harness.sha256(data))
        os.unlink(os.path.join(home, "kept.bin"))


class StaleUploads(unittest.TestCase):
    """Hidden temporary uploads a killed server left are swept at start;
    one still locked by a live process stays."""

    def test_kill_9_then_restart_sweeps(self):
        srv = harness.Ftpsd(env=no_tmpfile_env())
        self.addCleanup(srv.cleanup)
        home = srv.home()
        os.makedirs(os.path.join(home, "a", "b"))
        for rel in (PREFIX + "AAAAAA", "a/b/" + PREFIX + "BBBBBB"):
            with open(os.path.join(home, rel), "wb") as f:
                f.write(b"stale")
        live = os.path.join(home, "a", PREFIX + "LLLLLL")
        with open(live, "wb") as f:
            f.write(b"live")
        lf = open(live, "rb")
        self.addCleanup(lf.close)
        fcntl.flock(lf, fcntl.LOCK_EX)
        srv.start()
        srv.wait_log(r"vfs: swept 2 stale temporary uploads in \d+ folders "
                     r"of 1 home")
        self.assertFalse(os.path.exists(os.path.join(home, PREFIX +
                                                     "AAAAAA")))
        self.assertFalse(os.path.exists(os.path.join(home, "a", "b",
                                                     PREFIX + "BBBBBB")))
        self.assertTrue(os.path.exists(live))
        lf.close()
        # kill -9 in the middle of an upload: its hidden file stays ...
        ftp = srv.ftp()
        self.addCleanup(harness.close_ftp, ftp)
        ftp.voidcmd("TYPE I")
        conn = ftp.transfercmd("STOR a/big.bin")
        conn.sendall(os.urandom(MiB))
        deadline = time.monotonic() + 10
        while not upload_fds(srv.pid(), os.path.join(home, "a")):
            self.assertLess(time.monotonic(), deadline, "no upload file")
            time.sleep(0.02)
        os.kill(srv.pid(), signal.SIGKILL)
        srv.proc.wait(10)
        srv.logf.close()
        srv.proc = None
        conn.close()
        left = [n for n in os.listdir(os.path.join(home, "a"))
                if n.startswith(PREFIX)]
        self.assertEqual(len(left), 2, left)
        # ... until the next start.
        srv.start()
        self.addCleanup(srv.stop)
        srv.wait_log(r"vfs: swept 2 stale temporary uploads")
        self.assertEqual([n for n in os.listdir(os.path.join(home, "a"))
                          if n.startswith(PREFIX)], [])


class Names(harness.ServerTestCase):
    """Control characters are refused in every name a client creates."""

    def test_control_characters_refused_553(self):
        ftp = self.ftp()
        home = self.srv.home()
        with open(os.path.join(home, "ok.txt"), "wb") as f:
            f.write(b"ok")
        for name in ("bad\x01name", "esc\x1b[31m", "del\x7f", "tab\tname",
                     "bell\x07"):
            self.assertReply(ftp_reply(ftp.sendcmd, "MKD " + name), 553,
                             "MKD %r" % name)
            for verb in ("STOR", "APPE"):
                r = data_exchange(ftp, "%s %s" % (verb, name), upload=b"x")
                self.assertReply(r["final"], 553, "%s %r" % (verb, name))
            self.assertReply(ftp_reply(ftp.sendcmd, "RNFR ok.txt"), 350)
            self.assertReply(ftp_reply(ftp.sendcmd, "RNTO " + name), 553,
                             "RNTO %r" % name)
        self.assertEqual(sorted(os.listdir(home)), ["ok.txt"])
        # Ordinary names, and STOU's own, still work.
        self.assertEqual(ftp.mkd("fine name"), "/fine name")
        r = data_exchange(ftp, "STOU", upload=b"unique")
        self.assertReply(r["final"], 226)
        # An existing file with such a name (made locally) can be replaced.
        with open(os.path.join(home, "local\x01.txt"), "wb") as f:
            f.write(b"old")
        r = data_exchange(ftp, "STOR local\x01.txt", upload=b"new")
        self.assertReply(r["final"], 226)
        with open(os.path.join(home, "local\x01.txt"), "rb") as f:
            self.assertEqual(f.read(), b"new")


class SwappedFolder(harness.ServerTestCase):
    """A folder swapped for a symlink to the outside while a STOR into it
    runs: the file lands in the folder the STOR resolved, never outside."""

    def test_folder_swapped_for_symlink_during_stor(self):
        home = self.srv.home()
        outside = os.path.join(self.srv.dir, "outside")
        os.makedirs(outside)
        os.makedirs(os.path.join(home, "dir"))
        ftp = self.ftp()
        ftp.voidcmd("TYPE I")
        conn = ftp.transfercmd("STOR dir/swap.bin")
        # The command was resolved; now the folder is swapped.
        os.rename(os.path.join(home, "dir"), os.path.join(home, "moved"))
        os.symlink(outside, os.path.join(home, "dir"))
        data = os.urandom(512 * 1024)
        conn.sendall(data)
        conn.unwrap()
        conn.close()
        self.assertReply(ftp.voidresp(), 226)
        self.assertEqual(os.listdir(outside), [])
        self.assertEqual(harness.sha256_file(os.path.join(
            home, "moved", "swap.bin")), harness.sha256(data))
        # The next STOR through the link resolves inside the home.
        r = data_exchange(ftp, "STOR dir/after.bin", upload=b"x")
        self.assertReply(r["final"], 553)
        r = data_exchange(ftp, "RETR dir/../moved/swap.bin")
        self.assertEqual(r["data"], data)
        self.assertEqual(os.listdir(outside), [])


class OpenatEperm(harness.ServerTestCase):
    """openat2 answering EPERM (a container's default seccomp action):
    the walk serves, and a symlink to /etc still leads inside the home."""

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Ftpsd(deny=["openat2:EPERM"])
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise

    def test_walk_chosen_and_confines(self):
        self.srv.wait_log(r"vfs: openat2 unavailable \(Operation not "
                          r"permitted\): confining paths with the "
                          r"component walk")
        home = self.srv.home()
        os.symlink("/etc", os.path.join(home, "escape"))
        os.makedirs(os.path.join(home, "sub"))
        with open(os.path.join(home, "sub", "f.txt"), "wb") as f:
            f.write(b"inside")
        os.symlink("../sub/f.txt", os.path.join(home, "sub", "self"))
        ftp = self.ftp()
        r = data_exchange(ftp, "RETR escape/passwd")
        self.assertReply(r["final"], 550)
        self.assertEqual(r["data"], b"")
        r = data_exchange(ftp, "RETR sub/self")
        self.assertReply(r["final"], 226)
        self.assertEqual(r["data"], b"inside")
        r = data_exchange(ftp, "STOR escape/x", upload=b"x")
        self.assertReply(r["final"], 553)
        self.assertFalse(os.path.exists("/etc/x"))


class SayWhy(harness.ServerTestCase):
    """A file command failing for a reason no client causes (here mkdirat
    answering EIO, through denysys) logs one warning naming the command,
    the path and the cause; ordinary refusals log nothing."""

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Ftpsd(deny=["mkdirat:EIO", "unlinkat:EROFS"])
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise

    def warnings(self):
        return re.findall(r"^.*warning: sess=\d+ .* failed path=.*$",
                          self.srv.log_text(), re.M)

    def test_unexpected_errno_is_logged_once(self):
        ftp = self.ftp()
        with open(self.srv.path("f.txt"), "wb") as f:
            f.write(b"x")
        self.assertReply(ftp_reply(ftp.mkd, "newdir"), 550)
        self.assertReply(ftp_reply(ftp.delete, "f.txt"), 550)
        # Expected causes: no warning.
        self.assertReply(ftp_reply(ftp.cwd, "nothere"), 550)
        self.assertReply(ftp_reply(ftp.sendcmd, "SIZE nothere"), 550)
        self.assertReply(ftp_reply(ftp.sendcmd, "RNFR nothere"), 550)
        self.assertReply(ftp_reply(ftp.sendcmd, "MKD bad\x01"), 553)
        ftp.voidcmd("NOOP")
        w = self.warnings()
        self.assertEqual(len(w), 2, "\n".join(w))
        self.assertRegex(w[0], r"MKD failed path=/newdir: Input/output "
                         r"error$")
        self.assertRegex(w[1], r"DELE failed path=/f\.txt: Read-only file "
                         r"system$")


if __name__ == "__main__":
    harness.main()
