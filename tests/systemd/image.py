"""
The Debian 12 container image of `make check-systemd`: debootstrap of a
minimal bookworm with systemd, cached between runs below CACHE (default
/var/cache/ftpsd-check-systemd) in a folder named after a hash of the
package list, so a changed list builds a new image.  The mirror is read at
run time from this machine's apt sources, never written down.
"""

import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import time

SUITE = "bookworm"
# systemd as PID 1; the runtime libraries of ftpsd and certmgr, so that
# both `make install` and `apt-get install ./ftpsd_*.deb` need no
# network; the admin's tools the test drives (curl, openssl, logrotate).
PACKAGES = sorted("""
systemd systemd-sysv dbus libssl3 libevent-2.1-7 libevent-core-2.1-7
libevent-openssl-2.1-7 libevent-pthreads-2.1-7 libcrypt1 libcurl4
libjansson4 curl openssl procps passwd logrotate
""".split())
# Bumped when the steps after debootstrap change.
IMAGE_REVISION = "1"
CACHE = os.environ.get("FTPSD_SYSTEMD_CACHE",
                       "/var/cache/ftpsd-check-systemd")


def _sources_files():
    files = []
    if os.path.isfile("/etc/apt/sources.list"):
        files.append("/etc/apt/sources.list")
    files += sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    files += sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
    return files


def _parse_sources(path):
    """(uri, suites) pairs of the `deb` entries of one apt sources file."""
    out = []
    with open(path) as f:
        text = f.read()
    if path.endswith(".sources"):
        for stanza in text.split("\n\n"):
            fields = {}
            key = None
            for line in stanza.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line[0] in " \t" and key:
                    fields[key] += " " + line.strip()
                    continue
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                out.append((uri, fields.get("suites", "").split()))
    else:
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) < 3 or words[0] != "deb":
                continue
            words = words[1:]
            if words[0].startswith("["):
                while words and not words[0].endswith("]"):
                    words = words[1:]
                words = words[1:]
            if len(words) >= 2:
                out.append((words[0], [words[1]]))
    return out


def mirror():
    """The Debian mirror this machine's apt uses for bookworm itself."""
    for path in _sources_files():
        for uri, suites in _parse_sources(path):
            if SUITE in suites and uri.startswith(("http://", "https://",
                                                   "file:/")):
                return uri.rstrip("/")
    raise RuntimeError("no `deb` source for suite %s in %s: the image "
                       "needs a Debian mirror" % (SUITE, " ".join(
                           _sources_files()) or "/etc/apt"))


def key():
    h = hashlib.sha256()
    h.update(("%s\n%s\n%s\n" % (SUITE, IMAGE_REVISION,
                                " ".join(PACKAGES))).encode())
    return h.hexdigest()[:16]


def _prepare(root):
    """What every boot needs, done once in the cached image."""
    with open(os.path.join(root, "etc/hostname"), "w") as f:
        f.write("ftpsd-check\n")
    # nspawn starts a getty on the console otherwise; nothing logs in.
    for unit in ("console-getty.service", "getty@.service",
                 "systemd-networkd-wait-online.service",
                 "apt-daily.timer", "apt-daily-upgrade.timer",
                 "e2scrub_all.timer", "fstrim.timer"):
        link = os.path.join(root, "etc/systemd/system", unit)
        if not os.path.lexists(link):
            os.symlink("/dev/null", link)
    # Empty: systemd makes one at first boot of each copy.
    with open(os.path.join(root, "etc/machine-id"), "w"):
        pass


def ensure(log):
    """Path of the cached image root, built when missing (one builder at a
    time: concurrent runs wait for it)."""
    os.makedirs(CACHE, mode=0o755, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure(log)


def _unmount_below(path):
    """debootstrap mounts /proc and /sys in the target and leaves them
    mounted when it is interrupted: unmount them (deepest first) before
    anything is removed."""
    prefix = os.path.realpath(path) + "/"
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(prefix):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], check=False)


def _ensure(log):
    base = os.path.join(CACHE, key())
    root = os.path.join(base, "root")
    if os.path.isfile(os.path.join(base, "complete")):
        log("image: cached %s (%s)" % (root, " ".join(PACKAGES)))
        return root
    tmp = base + ".tmp"
    for d in (base, tmp):
        _unmount_below(d)
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(tmp)
    t0 = time.monotonic()
    log("image: debootstrap %s (first run: a few minutes)" % SUITE)
    argv = ["debootstrap", "--variant=minbase",
            "--include=" + ",".join(PACKAGES), SUITE,
            os.path.join(tmp, "root"), mirror()]
    try:
        with open(os.path.join(tmp, "debootstrap.log"), "w") as out:
            p = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT,
                               timeout=900)
    finally:
        _unmount_below(tmp)
    if p.returncode != 0:
        with open(os.path.join(tmp, "debootstrap.log")) as f:
            tail = f.read()[-3000:]
        raise RuntimeError("debootstrap failed (exit %d):\n%s"
                           % (p.returncode, tail))
    _prepare(os.path.join(tmp, "root"))
    # Downloaded .debs are not needed again.
    for deb in glob.glob(os.path.join(tmp, "root/var/cache/apt/archives/"
                                      "*.deb")):
        os.unlink(deb)
    with open(os.path.join(tmp, "complete"), "w") as f:
        f.write(" ".join(PACKAGES) + "\n")
    os.rename(tmp, base)
    log("image: built in %.0f s: %s" % (time.monotonic() - t0, root))
    return root
