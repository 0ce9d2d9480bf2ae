#!/usr/bin/env python3
"""
make check-systemd: ftpsd as an admin deploys it, under a real systemd 252
in a Debian 12 container (systemd-nspawn -b), twice:

  source  built with --prefix=/usr --sysconfdir=/etc, `make install
          DESTDIR=` into the container, scripts/install-user inside;
  deb     `dpkg-buildpackage -us -uc -b` (lintian must be clean), then
          `apt-get install ./ftpsd_*.deb` inside, and `apt-get purge` at
          the end.

Both run the same admin steps with the shipped units unchanged; each step
prints PASS or FAIL with what it saw; the exit status is 1 if any failed.
Root only.  docs/testing.md describes it.

  check_systemd.py --srcdir DIR --workdir DIR [--flavour source|deb]...
"""

import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image  # noqa: E402
from container import Container, Failed  # noqa: E402

PASSWORD = "a-long-test-passphrase"
# 8 MiB at 1 MiB/s: a download that lasts 8 s, long enough to reload or
# stop the service in the middle of it on a loaded machine.
BIG_MIB = 8
RATE = "1M"
# The exposure `systemd-analyze security` gave the shipped unit when the
# test was written; the unit must not get worse.
MAX_EXPOSURE = 2.5
ENOSYS = "Function not implemented"
ENOSYS_NOTE = (
    "file commands fail with ENOSYS (%r): the unit's seccomp filter "
    "(RestrictSUIDSGID=yes) answers openat2() with ENOSYS and this ftpsd's "
    "vfs has no other way to open a path (issue 11 item 1: the openat2-free "
    "vfs back end)" % ENOSYS)

T0 = time.monotonic()


def log(msg):
    print("[%5.1f] %s" % (time.monotonic() - T0, msg), flush=True)


def run(argv, cwd=None, env=None, timeout=600, quiet=False):
    p = subprocess.run(argv, cwd=cwd, env=env, text=True,
                       capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise Failed("exit %d: %s\n%s%s" % (p.returncode, " ".join(argv),
                                            p.stdout[-3000:],
                                            p.stderr[-3000:]))
    return p


# -- what is installed ----------------------------------------------------


def build_source(srcdir, workdir):
    """Staging build with the Debian paths (incremental between runs)."""
    bdir = os.path.join(workdir, "build-usr")
    t0 = time.monotonic()
    run([os.path.join(srcdir, "scripts/build"), bdir, "--prefix=/usr",
         "--sysconfdir=/etc", "--localstatedir=/var"])
    log("build: %s (--prefix=/usr --sysconfdir=/etc) in %.0f s"
        % (bdir, time.monotonic() - t0))
    return bdir


def _copy_ignore(top):
    def ignore(d, names):
        skip = []
        for n in names:
            p = os.path.join(d, n)
            if n in (".git", "autom4te.cache") or (
                    os.path.isdir(p) and (
                        os.path.exists(os.path.join(p, "config.status")) or
                        os.path.abspath(d) == os.path.join(top, "debian")
                        and n in ("build", "ftpsd", ".debhelper", "tmp"))):
                skip.append(n)
        return skip
    return ignore


def build_deb(srcdir, workdir):
    """dpkg-buildpackage in a copy of the tree (it writes to ..), then
    lintian.  Returns the .deb's path."""
    t0 = time.monotonic()
    top = os.path.abspath(srcdir)
    base = os.path.join(workdir, "deb")
    shutil.rmtree(base, ignore_errors=True)
    tree = os.path.join(base, "ftpsd")
    shutil.copytree(top, tree, symlinks=True, ignore=_copy_ignore(top))
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=%d"
               % (os.cpu_count() or 1))
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(k, None)
    run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=tree, env=env,
        timeout=900)
    debs = glob.glob(os.path.join(base, "ftpsd_*.deb"))
    changes = glob.glob(os.path.join(base, "ftpsd_*.changes"))
    if len(debs) != 1 or len(changes) != 1:
        raise Failed("dpkg-buildpackage made %s" % os.listdir(base))
    log("deb: %s in %.0f s" % (os.path.basename(debs[0]),
                               time.monotonic() - t0))
    p = subprocess.run(["lintian", "--info", "--display-info",
                        "--fail-on", "error,warning", changes[0]],
                       text=True, capture_output=True, timeout=600)
    tags = [ln for ln in p.stdout.splitlines() if re.match(r"[EWIP]: ", ln)]
    for ln in tags:
        log("lintian: " + ln)
    bad = [ln for ln in tags if ln[0] in "EW"]
    if p.returncode != 0 or bad:
        raise Failed("lintian (exit %d): %s\n%s" % (
            p.returncode, "\n".join(bad) or "", p.stderr[-2000:]))
    log("lintian: no error, no warning (%d info tags)" % len(tags))
    return debs[0]


# -- the admin's steps ----------------------------------------------------


class Admin:
    """The steps, run in one booted container."""

    def __init__(self, c, flavour):
        self.c = c
        self.flavour = flavour
        self.cert = "ftp" if flavour == "source" else "selfsigned"
        self.results = []
        self.enosys = False
        self.sums = {}

    # helpers

    def curl(self, args, check=True, timeout=60):
        return self.c.sh("curl -sS -v -k --ssl-reqd -u alice:%s --max-time "
                         "%d %s" % (PASSWORD, timeout, args), check=check,
                         timeout=timeout + 10)

    def url(self, name, implicit=False, port=None):
        if implicit:
            return "ftps://127.0.0.1:%d/%s" % (port or 990, name)
        return "ftp://127.0.0.1:%d/%s" % (port or 21, name)

    def served_fp(self, implicit=False, port=None):
        """SHA-256 fingerprint of the certificate a new connection gets."""
        if implicit:
            conn = "-connect 127.0.0.1:%d" % (port or 990)
        else:
            conn = "-connect 127.0.0.1:%d -starttls ftp" % (port or 21)
        p = self.c.sh("openssl s_client %s </dev/null 2>/dev/null | "
                      "openssl x509 -noout -fingerprint -sha256" % conn,
                      check=False, timeout=20)
        m = re.search(r"Fingerprint=([0-9A-F:]+)", p.stdout)
        if not m:
            raise Failed("no certificate served (%s): %s" % (conn, p.stderr))
        return m.group(1)

    def file_fp(self):
        return self.c.out("openssl x509 -noout -fingerprint -sha256 -in "
                          "/etc/ftpsd/certs/%s.crt" % self.cert) \
            .split("=", 1)[1]

    def show(self, prop, unit="ftpsd.service"):
        return self.c.out("systemctl show -p %s --value %s" % (prop, unit))

    def cursor(self):
        out = self.c.out("journalctl -n 0 --show-cursor --quiet")
        m = re.search(r"cursor: (\S+)", out)
        if not m:
            raise Failed("no journal cursor in %r" % out)
        return m.group(1)

    def journal(self, cursor):
        return self.c.out("journalctl -u ftpsd.service -o cat --no-pager "
                          "--after-cursor='%s'" % cursor, check=False)

    def sha(self, path):
        return self.c.out("sha256sum < %s" % path).split()[0]

    def expect_transfer(self, p, what):
        """A failed transfer: say why, and whether it is the ENOSYS."""
        if p.returncode == 0:
            return
        text = p.stdout + p.stderr
        try:
            text += self.c.out("journalctl -u ftpsd.service -o cat -n 30 "
                               "--no-pager", check=False)
        except Failed:
            pass
        if ENOSYS in text:
            self.enosys = True
            raise Failed("%s: answered %r (ENOSYS): see the NOTE at the end"
                         % (what, ENOSYS))
        replies = re.findall(r"(?m)^< [45]\d\d .*$", p.stderr)
        errors = re.findall(r"(?m)^curl: .*$", p.stderr)
        raise Failed("%s: curl exit %d: %s" % (
            what, p.returncode, "; ".join(replies + errors) or
            p.stderr.strip()[-1500:]))

    def wait_active(self, timeout=20, not_pid=None):
        deadline = time.monotonic() + timeout
        while True:
            state = self.show("ActiveState")
            pid = self.show("MainPID")
            if state == "active" and pid not in ("0", not_pid):
                return pid
            if time.monotonic() > deadline:
                raise Failed("ftpsd.service not active after %d s "
                             "(ActiveState=%s MainPID=%s)\n%s"
                             % (timeout, state, pid, self.c.out(
                                 "systemctl status --no-pager ftpsd",
                                 check=False)))
            time.sleep(0.2)

    def wait_growing(self, proc, path, timeout=10):
        """Until a background download has written something."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return
            if os.path.exists(self.c.path(path)) and \
                    os.path.getsize(self.c.path(path)) > 0:
                return
            time.sleep(0.1)

    def step(self, name, fn):
        t0 = time.monotonic()
        try:
            fn()
            self.results.append((name, None))
            log("PASS %s/%s (%.1f s)" % (self.flavour, name,
                                         time.monotonic() - t0))
        except Failed as e:
            self.results.append((name, str(e)))
            log("FAIL %s/%s (%.1f s): %s" % (self.flavour, name,
                                             time.monotonic() - t0, e))

    # steps

    def add_user(self):
        """As docs/operations.md says: a home owned by ftpsd, the hash."""
        self.c.sh("""
            set -e
            install -d -o ftpsd -g ftpsd -m 0750 /srv/ftp/alice
            hash=$(printf '%%s\\n' '%s' | ftpsd --hash-password)
            printf 'alice:%%s:/srv/ftp/alice:rw\\n' "$hash" >> /etc/ftpsd/users
            chown root:ftpsd /etc/ftpsd/users
            chmod 0640 /etc/ftpsd/users
            mkdir -p /root/data
            head -c %dM /dev/urandom > /root/data/big
            head -c 300k /dev/urandom > /root/data/small
            ftpsd -t
        """ % (PASSWORD, BIG_MIB))
        self.sums = {n: self.sha("/root/data/" + n) for n in ("big", "small")}

    def enable_now(self):
        self.c.sh("systemctl daemon-reload && systemctl enable --now ftpsd")
        # Users added to a running service (the .deb started it) need a
        # reload; on a fresh start it is a no-op reload.
        self.c.sh("systemctl reload ftpsd")
        self.wait_active()
        status = self.show("StatusText")
        if "Ready" not in status:
            raise Failed("StatusText=%r" % status)
        log("  %s: MainPID=%s StatusText=%r, user %s" % (
            self.flavour, self.show("MainPID"), status,
            self.c.out("ps -o user= -p $(systemctl show -p MainPID --value "
                       "ftpsd)")))
        # Which way vfs confines paths under this unit (docs/vfs.md).
        vfs = self.c.out("journalctl -u ftpsd.service -o cat --no-pager | "
                         "grep 'vfs: ' | tail -n 1", check=False)
        log("  %s" % (vfs or "no 'vfs:' line in the journal"))

    def control_socket(self):
        """RuntimeDirectory=ftpsd holds the control socket: root and the
        ftpsd group, 0660; ftpsdctl status answers as root and is refused
        to another user."""
        st = self.c.out("stat -c '%a %U %G' /run/ftpsd/control")
        if st != "660 root ftpsd":
            raise Failed("/run/ftpsd/control: %r, want '660 root ftpsd'"
                         % st)
        out = self.c.out("ftpsdctl status")
        if "workers: 1" not in out or "sessions:" not in out:
            raise Failed("ftpsdctl status: %r" % out)
        p = self.c.sh("setpriv --reuid=nobody --regid=nogroup "
                      "--clear-groups ftpsdctl status", check=False)
        if p.returncode != 3 or "permission denied" not in p.stderr:
            raise Failed("ftpsdctl status as nobody: exit %d, %r" % (
                p.returncode, p.stderr))
        log("  /run/ftpsd/control %s; ftpsdctl status: %s" % (
            st, out.splitlines()[0]))

    def exposure(self):
        out = self.c.out("systemd-analyze security --no-pager "
                         "ftpsd.service | tail -n 1")
        m = re.search(r"exposure level for ftpsd.service: ([0-9.]+)", out)
        if not m:
            raise Failed("no exposure level in %r" % out)
        log("  FIGURE systemd-analyze security ftpsd.service: %s "
            "(at most %.1f)" % (m.group(1), MAX_EXPOSURE))
        if float(m.group(1)) > MAX_EXPOSURE:
            raise Failed("exposure %s > %.1f" % (m.group(1), MAX_EXPOSURE))

    def transfers(self):
        """Upload on one port, download on the other, both ways."""
        for name, up_impl in (("big", False), ("small", True)):
            remote = "up-%s.bin" % name
            p = self.curl("-T /root/data/%s %s" % (
                name, self.url(remote, up_impl)), check=False)
            self.expect_transfer(p, "upload %s (%s)" % (
                remote, "implicit" if up_impl else "explicit"))
            p = self.curl("-o /root/data/%s.dl %s" % (
                name, self.url(remote, not up_impl)), check=False)
            self.expect_transfer(p, "download %s" % remote)
            got = self.sha("/root/data/%s.dl" % name)
            if got != self.sums[name]:
                raise Failed("%s: sha256 %s, sent %s" % (remote, got,
                                                         self.sums[name]))
            owner = self.c.out("stat -c %%U /srv/ftp/alice/%s" % remote)
            if owner != "ftpsd":
                raise Failed("%s is owned by %s" % (remote, owner))
        log("  sha256 ok: %d MiB up explicit/down implicit, 300 KiB up "
            "implicit/down explicit" % BIG_MIB)

    def renew_reload(self):
        """certmgr renew + systemctl reload: new connections get the new
        certificate while a session opened before keeps transferring (two
        files on one control connection, the second after the reload)."""
        old = self.served_fp()
        cur = self.cursor()
        self.c.sh("rm -f /root/data/r1 /root/data/r2")
        client = self.c.spawn(
            "curl -sS -k --ssl-reqd -u alice:%s --max-time 60 -v "
            "--limit-rate %s -o /root/data/r1 %s -o /root/data/r2 %s"
            % (PASSWORD, RATE, self.url("up-big.bin"),
               self.url("up-small.bin")))
        self.wait_growing(client, "/root/data/r1")
        self.c.sh("runuser -u ftpsd -- certmgr -c /etc/ftpsd/ftpsd.conf "
                  "renew %s" % self.cert)
        self.c.sh("systemctl reload ftpsd")
        running = client.poll() is None
        new = self.file_fp()
        served = (self.served_fp(), self.served_fp(implicit=True))
        out, err = client.communicate(timeout=70)
        client_p = subprocess.CompletedProcess(client.args, client.returncode,
                                               out, err)
        self.expect_transfer(client_p, "download across the reload")
        if not running:
            raise Failed("the download ended before the reload: no proof "
                         "(raise BIG_MIB)")
        if new == old:
            raise Failed("certmgr renew kept fingerprint %s" % old)
        if served != (new, new):
            raise Failed("served %s after the reload; renewed %s, old %s"
                         % (served, new, old))
        for n, name in (("r1", "big"), ("r2", "small")):
            if self.sha("/root/data/" + n) != self.sums[name]:
                raise Failed("the session's %s differs after the reload"
                             % name)
        j = self.journal(cur)
        sess = re.findall(r"(sess=\d+) .*retr path=/up-(big|small)\.bin", j)
        if len(sess) != 2 or sess[0][0] != sess[1][0]:
            raise Failed("expected both downloads in one session: %s\n%s"
                         % (sess, j[-2000:]))
        done = j.find("reload: done")
        second = j.find("retr path=/up-small.bin")
        if done < 0 or second < done:
            raise Failed("the session's second download is not after "
                         "'reload: done' in the journal:\n" + j[-2000:])
        greetings = len(re.findall(r"(?m)^< 220[ -]", err))
        if greetings != 1:
            raise Failed("curl opened %d control connections" % greetings)
        log("  served %s -> %s on both ports; %s kept transferring"
            % (old[:11], new[:11], sess[0][0]))

    def broken_reload(self):
        """A rejected file: `systemctl reload` fails, the journal names
        FILE:LINE, the old state serves on."""
        fp = self.served_fp()
        pid = self.show("MainPID")
        cur = self.cursor()
        self.c.sh("cp -p /etc/ftpsd/ftpsd.conf /root/ftpsd.conf.good && "
                  "echo 'idle_timeout = soon' >> /etc/ftpsd/ftpsd.conf")
        line = self.c.out("wc -l < /etc/ftpsd/ftpsd.conf")
        reload = self.c.sh("systemctl reload ftpsd", check=False)
        try:
            if reload.returncode == 0:
                raise Failed("systemctl reload succeeded with a broken "
                             "configuration")
            j = self.journal(cur)
            want = "/etc/ftpsd/ftpsd.conf:%s: idle_timeout" % line
            if want not in j:
                raise Failed("the journal does not name %s:\n%s"
                             % (want, j[-2000:]))
            if self.show("ActiveState") != "active" or \
                    self.show("MainPID") != pid:
                raise Failed("the service did not survive: %s" % self.c.out(
                    "systemctl status --no-pager ftpsd", check=False))
            if self.served_fp() != fp:
                raise Failed("the certificate changed")
            p = self.curl("-o /root/data/s.dl %s" % self.url("up-small.bin"),
                          check=False)
            self.expect_transfer(p, "download after the refused reload")
            log("  systemctl reload: exit %d (%s); journal: %s" % (
                reload.returncode, reload.stderr.strip().split("\n")[0],
                [ln for ln in j.splitlines() if want in ln][0]))
        finally:
            self.c.sh("cp -p /root/ftpsd.conf.good /etc/ftpsd/ftpsd.conf && "
                      "systemctl reload ftpsd")

    def stop_during_download(self):
        """systemctl stop lets a running download finish (226), then the
        service ends with Result=success."""
        self.c.sh("rm -f /root/data/stop.dl")
        client = self.c.spawn(
            "curl -sS -k --ssl-reqd -u alice:%s --max-time 60 -v "
            "--limit-rate %s -o /root/data/stop.dl %s"
            % (PASSWORD, RATE, self.url("up-big.bin", implicit=True)))
        self.wait_growing(client, "/root/data/stop.dl")
        t0 = time.monotonic()
        self.c.sh("systemctl stop ftpsd", timeout=60)
        took = time.monotonic() - t0
        out, err = client.communicate(timeout=70)
        p = subprocess.CompletedProcess(client.args, client.returncode,
                                        out, err)
        try:
            self.expect_transfer(p, "download during systemctl stop")
            if self.sha("/root/data/stop.dl") != self.sums["big"]:
                raise Failed("the download finished with other bytes")
            if not re.search(r"(?m)^< 226", err):
                raise Failed("no 226 in the client's exchange:\n"
                             + err[-1500:])
            if took < 1:
                raise Failed("systemctl stop returned in %.1f s: it did "
                             "not wait for the transfer" % took)
            res = (self.show("Result"), self.show("ExecMainStatus"))
            if res != ("success", "0"):
                raise Failed("Result=%s ExecMainStatus=%s" % res)
            log("  stop waited %.1f s for the transfer; 226; Result=success"
                % took)
        finally:
            self.c.sh("systemctl start ftpsd")
            self.wait_active()

    def kill9(self):
        """kill -9: Restart=on-failure brings it back (RestartSec=2)."""
        pid = self.wait_active()
        before = int(self.show("NRestarts"))
        self.c.sh("kill -9 %s" % pid)
        t0 = time.monotonic()
        new = self.wait_active(timeout=20, not_pid=pid)
        after = int(self.show("NRestarts"))
        if after != before + 1:
            raise Failed("NRestarts %d -> %d" % (before, after))
        self.served_fp()
        p = self.curl("-o /root/data/k.dl %s" % self.url("up-small.bin"),
                      check=False)
        self.expect_transfer(p, "download after the restart")
        log("  MainPID %s killed; %s serving after %.1f s" % (
            pid, new, time.monotonic() - t0))

    def activated_downloads(self, explicit, implicit):
        """A connection to each port starts the stopped service, which
        then serves a download on that port."""
        for port, tls in ((explicit, False), (implicit, True)):
            if self.show("ActiveState") != "inactive":
                self.c.sh("systemctl stop ftpsd.service")
            self.served_fp(tls, port)
            self.wait_active()
            p = self.curl("-o /root/data/a.dl %s" % self.url(
                "up-small.bin", tls, port), check=False)
            self.expect_transfer(p, "socket-activated download on %d"
                                 % port)

    def socket_activation(self):
        """ftpsd.socket + ftpsd-implicit.socket, then the drop-in of
        docs/operations.md moving them to 2121 and 9990."""
        self.c.sh("systemctl disable --now ftpsd.service && "
                  "systemctl enable --now ftpsd.socket ftpsd-implicit.socket")
        try:
            self.activated_downloads(21, 990)
            self.c.sh("""
                set -e
                for s in ftpsd:2121 ftpsd-implicit:9990; do
                    d=/etc/systemd/system/${s%:*}.socket.d
                    mkdir -p $d
                    printf '%s\\n' '[Socket]' 'ListenStream=' \
                        "ListenStream=0.0.0.0:${s#*:}" \
                        "ListenStream=[::]:${s#*:}" > $d/port.conf
                done
                systemctl daemon-reload
                systemctl stop ftpsd.service
                systemctl restart ftpsd.socket ftpsd-implicit.socket
            """)
            listen = self.c.out("systemctl show -p Listen --value "
                                "ftpsd.socket ftpsd-implicit.socket")
            self.activated_downloads(2121, 9990)
            for port in (21, 990):
                p = self.c.sh("curl -sS --max-time 5 telnet://127.0.0.1:%d"
                              " </dev/null" % port, check=False)
                if p.returncode != 7:
                    raise Failed("port %d still answers after the drop-in "
                                 "(curl exit %d)" % (port, p.returncode))
            log("  activated on 21/990, then on %s"
                % " ".join(listen.split()))
        finally:
            self.c.sh("""
                rm -rf /etc/systemd/system/ftpsd.socket.d \
                    /etc/systemd/system/ftpsd-implicit.socket.d
                systemctl disable --now ftpsd.socket ftpsd-implicit.socket
                systemctl stop ftpsd.service
                systemctl daemon-reload
                systemctl enable --now ftpsd.service
            """, check=False)

    def logrotate(self):
        """The package's logrotate file: rotation, and the reload makes the
        next transfer's line land in the new file."""
        self.c.sh("logrotate -f /etc/logrotate.d/ftpsd")
        if not self.c.out("ls /var/log/ftpsd"):
            raise Failed("nothing in /var/log/ftpsd")
        self.wait_active()
        p = self.curl("-o /root/data/l.dl %s" % self.url("up-small.bin"),
                      check=False)
        self.expect_transfer(p, "download after the rotation")
        lines = self.c.out("cat /var/log/ftpsd/xferlog", check=False)
        if "/up-small.bin" not in lines:
            raise Failed("the new xferlog has no line for the download: %r "
                         "(ls: %s)" % (lines, self.c.out(
                             "ls -l /var/log/ftpsd")))
        log("  rotated: %s" % " ".join(self.c.out(
            "ls /var/log/ftpsd").split()))


# -- the two flavours -----------------------------------------------------


def install_source(c, bdir, srcdir):
    run(["make", "-s", "-C", bdir, "install", "DESTDIR=" + c.root])
    shutil.copy(os.path.join(srcdir, "scripts/install-user"),
                c.path("/root/install-user"))
    c.sh("""
        set -e
        sh /root/install-user ftpsd /etc/ftpsd/certs /var/log/ftpsd
        cp /etc/ftpsd/ftpsd.conf.sample /etc/ftpsd/ftpsd.conf
        echo 'xferlog_file = /var/log/ftpsd/xferlog' >> /etc/ftpsd/ftpsd.conf
        runuser -u ftpsd -- certmgr -c /etc/ftpsd/ftpsd.conf \
            create ftp --cn ftp.example.org --san IP:127.0.0.1
        runuser -u ftpsd -- certmgr -c /etc/ftpsd/ftpsd.conf default ftp
    """)


def install_deb(c, deb):
    shutil.copy(deb, c.path("/root/"))
    c.sh("DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
         "--no-install-recommends /root/%s" % os.path.basename(deb),
         timeout=120)
    checks = {
        "the service runs after installation":
            "systemctl is-active ftpsd.service",
        "the sockets are installed but not enabled":
            "! systemctl is-enabled ftpsd.socket ftpsd-implicit.socket",
        "the ftpsd system user":
            "getent passwd ftpsd | grep -q ':/nonexistent:/usr/sbin/nologin$'",
        "/etc/ftpsd/ftpsd.conf is a conffile":
            "dpkg-query -W -f='${Conffiles}' ftpsd | "
            "grep -q '/etc/ftpsd/ftpsd.conf '",
        "the logrotate file":
            "logrotate -d /etc/logrotate.d/ftpsd 2>&1 | "
            "grep -q /var/log/ftpsd/xferlog",
        "the manuals":
            "test -f /usr/share/man/man8/ftpsd.8.gz && "
            "test -f /usr/share/man/man5/ftpsd.conf.5.gz && "
            "test -f /usr/share/man/man1/certmgr.1.gz",
        "/srv/ftp, for homes writable under ReadWritePaths=":
            "test -d /srv/ftp",
        "certs folder and key owned by ftpsd":
            "test \"$(stat -c %U:%a /etc/ftpsd/certs)\" = ftpsd:700 && "
            "test \"$(stat -c %U /etc/ftpsd/certs/selfsigned.key)\" = ftpsd",
    }
    for what, cmd in checks.items():
        p = c.sh(cmd, check=False)
        if p.returncode != 0:
            raise Failed("%s: `%s` failed: %s%s" % (what, cmd, p.stdout,
                                                   p.stderr))
    log("  deb: installed; service active, user, conffile, logrotate, "
        "manuals, certificate")


def reinstall(a, deb):
    """An upgrade (the same .deb again): the service restarts and keeps
    the admin's certificate, users and configuration."""
    c = a.c
    fp = a.served_fp()
    users = c.out("cat /etc/ftpsd/users")
    c.sh("echo '# edited by the admin' >> /etc/ftpsd/ftpsd.conf")
    pid = a.show("MainPID")
    c.sh("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall "
         "-o Dpkg::Options::=--force-confold /root/%s"
         % os.path.basename(deb), timeout=120)
    new = a.wait_active(not_pid=pid)
    if a.served_fp() != fp:
        raise Failed("the upgrade replaced the certificate")
    if c.out("cat /etc/ftpsd/users") != users:
        raise Failed("the upgrade changed /etc/ftpsd/users")
    if "# edited by the admin" not in c.out("cat /etc/ftpsd/ftpsd.conf"):
        raise Failed("the upgrade replaced the edited conffile")
    p = a.curl("-o /root/data/u.dl %s" % a.url("up-small.bin"), check=False)
    a.expect_transfer(p, "download after the upgrade")
    log("  reinstalled: restarted (MainPID %s -> %s), certificate, users "
        "and the edited conffile kept" % (pid, new))


def purge(c):
    c.sh("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ftpsd",
         timeout=120)
    left = c.out("""
        getent passwd ftpsd; getent group ftpsd
        ls -d /etc/ftpsd /var/log/ftpsd /lib/systemd/system/ftpsd.service \
            /etc/systemd/system/multi-user.target.wants/ftpsd.service \
            /usr/sbin/ftpsd /etc/logrotate.d/ftpsd 2>/dev/null
        ps -e -o comm= | grep -x ftpsd
    """, check=False)
    if left:
        raise Failed("left after purge:\n" + left)
    if c.out("ls /srv/ftp") != "alice":
        raise Failed("purge touched the served folder /srv/ftp")
    log("  purge: user, group, /etc/ftpsd, /var/log/ftpsd, units gone; "
        "/srv/ftp kept")


def flavour_run(name, image_root, workdir, install, deb=None):
    c = Container(image_root, os.path.join(workdir, "ct-" + name),
                  "ftpsd-check-%s-%d" % (name, os.getpid()), log)
    a = Admin(c, name)
    try:
        c.boot()
        a.step("install", lambda: install(c))
        if a.results[-1][1] is not None:
            return a
        a.step("add-user", a.add_user)
        a.step("enable-now", a.enable_now)
        a.step("control-socket", a.control_socket)
        a.step("exposure", a.exposure)
        a.step("transfers", a.transfers)
        a.step("renew-reload", a.renew_reload)
        a.step("broken-reload", a.broken_reload)
        a.step("stop-during-download", a.stop_during_download)
        a.step("kill-9-restart", a.kill9)
        a.step("socket-activation", a.socket_activation)
        if name == "deb":
            a.step("logrotate", a.logrotate)
            a.step("reinstall", lambda: reinstall(a, deb))
            a.step("purge", lambda: purge(c))
    except Failed as e:
        a.results.append(("container", str(e)))
        log("FAIL %s/container: %s" % (name, e))
    finally:
        try:
            tail = c.out("journalctl -u ftpsd.service -o short-monotonic "
                         "--no-pager -n 40", check=False) if c.pid1 else ""
        except Failed:
            tail = ""
        if any(err for _, err in a.results) and tail:
            log("journal tail (%s):\n%s" % (name, tail))
        c.poweroff()
    return a


def _terminate(signum, frame):
    # The finally clauses power the containers off.
    raise SystemExit("check-systemd: signal %d" % signum)


def main():
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--flavour", action="append",
                    choices=("source", "deb"))
    args = ap.parse_args()
    flavours = args.flavour or ["source", "deb"]
    if os.geteuid() != 0:
        print("check-systemd: needs root (debootstrap, systemd-nspawn)",
              file=sys.stderr)
        return 1
    srcdir = os.path.abspath(args.srcdir)
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    run([os.path.join(srcdir, "scripts/deps"), "systemd"], timeout=900)

    results = {}
    try:
        root = image.ensure(log)
        installs = {}
        if "source" in flavours:
            bdir = build_source(srcdir, workdir)
            installs["source"] = lambda c: install_source(c, bdir, srcdir)
        deb = None
        if "deb" in flavours:
            deb = build_deb(srcdir, workdir)
            installs["deb"] = lambda c: install_deb(c, deb)
    except (Failed, RuntimeError, subprocess.TimeoutExpired) as e:
        log("FAIL setup: %s" % e)
        return 1
    for name in flavours:
        results[name] = flavour_run(name, root, workdir, installs[name],
                                    deb)

    failed = [(f, n, e) for f, a in results.items() for n, e in a.results
              if e]
    npass = sum(1 for a in results.values() for _, e in a.results if not e)
    log("check-systemd: %d passed, %d failed in %.0f s"
        % (npass, len(failed), time.monotonic() - T0))
    for f, n, e in failed:
        log("  FAILED %s/%s: %s" % (f, n, e.splitlines()[0]))
    if any(a.enosys for a in results.values()):
        log("NOTE: " + ENOSYS_NOTE)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
