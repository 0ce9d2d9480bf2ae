"""
A Debian 12 container booted with `systemd-nspawn -b` (systemd as PID 1,
its own private network with only a loopback), driven from the host with
nsenter into the container's PID 1: what an admin types, run as root in
the container.  --volatile=overlay: the cached image is the read-only
lower layer of an overlay whose upper layer is a tmpfs, both in the
container's own mount namespace, so every boot starts from the pristine
image, nothing is mounted on the host, and poweroff() (also called on
failure) discards whatever the test wrote.
"""

import glob
import os
import signal
import subprocess
import time

ENV = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
       "HOME=/root", "TERM=dumb", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"]


class Failed(AssertionError):
    """A step's check failed; the message says what was seen."""


class Container:

    def __init__(self, image_root, workdir, name, log):
        self.image = image_root
        self.name = name
        self.log = log
        self.nspawn = None
        self.pid1 = None
        self.console = os.path.join(workdir, "console.log")
        os.makedirs(workdir, exist_ok=True)

    # -- boot and power off ------------------------------------------------

    def boot(self, timeout=90):
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
        argv = ["systemd-nspawn", "--quiet", "--boot", "--directory",
                self.image, "--volatile=overlay", "--machine", self.name,
                "--register=no", "--keep-unit", "--console=pipe",
                "--private-network"]
        out = open(self.console, "w")
        self.nspawn = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=subprocess.STDOUT)
        out.close()
        t0 = time.monotonic()
        deadline = t0 + timeout
        while self.pid1 is None:
            if self.nspawn.poll() is not None:
                raise Failed("systemd-nspawn exited %d:\n%s"
                             % (self.nspawn.returncode, self.console_tail()))
            if time.monotonic() > deadline:
                raise Failed("no systemd in the container after %d s:\n%s"
                             % (timeout, self.console_tail()))
            self.pid1 = self._find_pid1()
            if self.pid1 is None:
                time.sleep(0.1)
        # "running", or "degraded" when some unit failed (listed below);
        # systemctl fails until PID 1 listens on its private socket.
        state = ""
        while state not in ("running", "degraded") and \
                time.monotonic() < deadline:
            p = self.sh("systemctl is-system-running --wait", check=False,
                        timeout=max(5, deadline - time.monotonic()))
            state = p.stdout.strip()
            if state not in ("running", "degraded"):
                time.sleep(0.2)
        if state not in ("running", "degraded"):
            raise Failed("container boot: system state %r\n%s"
                         % (state, self.console_tail()))
        if state == "degraded":
            self.log("boot: degraded: " + self.sh(
                "systemctl --failed --no-legend --plain", check=False)
                .stdout.strip())
        self.log("boot: %s in %.1f s (PID 1 is host pid %d)"
                 % (state, time.monotonic() - t0, self.pid1))

    def _find_pid1(self):
        """The descendant of systemd-nspawn that is PID 1 of its own pid
        namespace."""
        todo = [self.nspawn.pid]
        while todo:
            pid = todo.pop()
            try:
                with open("/proc/%d/status" % pid) as f:
                    for line in f:
                        if line.startswith("NSpid:"):
                            ids = line.split()[1:]
                            if len(ids) > 1 and ids[-1] == "1" and \
                                    self._is_systemd(pid):
                                return pid
                for path in glob.glob("/proc/%d/task/*/children" % pid):
                    with open(path) as f:
                        todo += [int(x) for x in f.read().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
        return None

    @staticmethod
    def _is_systemd(pid):
        """PID 1 before it executed systemd is still nspawn's child."""
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip() == "systemd"

    def console_tail(self, n=3000):
        try:
            with open(self.console, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def poweroff(self, timeout=60):
        if self.nspawn is None:
            return
        if self.nspawn.poll() is None and self.pid1 is not None:
            self.sh("systemctl poweroff --no-block", check=False, timeout=10)
            try:
                self.nspawn.wait(timeout)
            except subprocess.TimeoutExpired:
                self.log("poweroff: container still up after %d s: "
                         "killing its PID 1 (host pid %d)"
                         % (timeout, self.pid1))
        if self.nspawn.poll() is None:
            # PID 1 of a pid namespace takes every process in it along.
            for pid in (self.pid1, self.nspawn.pid):
                if pid is not None:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self.nspawn.wait(30)
        self.log("poweroff: systemd-nspawn exited %d" % self.nspawn.returncode)
        self.nspawn = None

    # -- commands inside ---------------------------------------------------

    def argv(self, script):
        return ["nsenter", "--all", "--target", str(self.pid1), "--"] + \
            ENV + ["/bin/sh", "-c", script]

    def sh(self, script, check=True, timeout=60, input=None):
        """Runs a shell script in the container as root; check: a
        non-zero exit fails the step, naming the command and its output."""
        try:
            p = subprocess.run(self.argv(script), input=input, text=True,
                               capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise Failed("timed out after %d s: %s\n%s%s" % (
                timeout, script, e.stdout or "", e.stderr or ""))
        if check and p.returncode != 0:
            raise Failed("exit %d: %s\n%s%s" % (
                p.returncode, script, p.stdout[-2000:], p.stderr[-2000:]))
        return p

    def out(self, script, **kw):
        return self.sh(script, **kw).stdout.strip()

    def spawn(self, script):
        """A command left running (a client during a reload or a stop)."""
        return subprocess.Popen(self.argv(script), text=True,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    @property
    def root(self):
        """The running container's root, seen from the host (through its
        PID 1's root: the overlay exists only in its mount namespace)."""
        if self.pid1 is None:
            raise Failed("the container is not running")
        return "/proc/%d/root" % self.pid1

    def path(self, rel):
        """A path of the container's file system, seen from the host."""
        return os.path.join(self.root, rel.lstrip("/"))
