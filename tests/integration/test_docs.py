#!/usr/bin/env python3
"""
Docs that run: the shell blocks of README.md's "Run as a service" and of
docs/operations.md's walk-through (steps 1 to 7) are run as written, as
root, on a fresh copy of the source tree (the files git tracks or would
add), each in a throwaway root: an overlay over / in a private mount,
network and PID namespace, so `make install`, the `ftpsd` user and
everything below /etc, /usr and /srv vanish afterwards and ports 21 and
990 are the namespace's own.

What cannot run verbatim, and why:
- systemctl and journalctl: there is no systemd as PID 1 here (test
  _systemd, `make check-systemd`, boots one).  They are replaced by
  stubs that record their arguments; then the test does what
  `systemctl enable --now ftpsd` would: it runs the installed unit's
  ExecStartPre= and ExecStart= lines, logs in with curl (FTPS, explicit
  and implicit, the certificate made in step 4 trusted), and sends SIGHUP
  for `systemctl reload`.
- `systemctl edit` opens an editor and the guide's `curl -u alice` asks
  for the password: skipped, the login above stands for them.
"""

import os
import re
import shutil
import tempfile
import unittest

import harness
from harness import describe, need_program

TOP = os.path.abspath(os.environ.get("top_srcdir") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))
WALK_TIMEOUT = 1200     # two configure + make -j runs on a busy machine


def section(path, title):
    """The text of the "## title" section of a Markdown file."""
    with open(path) as f:
        text = f.read()
    m = re.search(r"(?ms)^## %s\n(.*?)(?=^## )" % re.escape(title), text)
    if m is None:
        raise AssertionError("%s: no section \"## %s\"" % (path, title))
    return m.group(1)


def sh_blocks(text):
    return re.findall(r"(?ms)^```sh\n(.*?)^```", text)


# Blocks that cannot run here (see the module's comment).
SKIP = (("systemctl edit", "opens an editor"),
        ("curl ", "asks for the password (the test logs in itself)"))

STUB = """#!/bin/sh
# Stands for the real %s: no systemd is PID 1 in this namespace.
echo "%s $*" >> /walk/stubs.log
"""

# Run inside the throwaway root after the blocks: what the unit does.
SERVE = r"""
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null ||
    echo /lib/systemd/system)
unit=$unitdir/ftpsd.service
# The command lines, without systemd's prefixes (-, +, !, @, :).
start=$(sed -n 's/^ExecStart=[-+!@:]*//p' "$unit")
sed -n 's/^ExecStartPre=[-+!@:]*//p' "$unit" | while read -r pre; do
    echo "== unit: ExecStartPre=$pre"
    $pre
done
echo "== unit: ExecStart=$start"
$start >/walk/ftpsd.log 2>&1 &
pid=$!
echo "127.0.0.1 ftp.example.org" >> /etc/hosts
i=0
until grep -q ready /walk/ftpsd.log; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat /walk/ftpsd.log; exit 1; }
    sleep 0.1
done
ca=/etc/ftpsd/certs/ftp.crt
echo "hello from the docs" > /walk/up.txt
curl -sS --max-time 30 --cacert "$ca" --ssl-reqd -u alice:a-long-passphrase \
    -T /walk/up.txt ftp://ftp.example.org/up.txt
curl -sS --max-time 30 --cacert "$ca" -u alice:a-long-passphrase \
    ftps://ftp.example.org/up.txt
stat -c 'owner %U' /srv/ftp/alice/up.txt
kill -HUP $pid
i=0
until grep -q 'reload: done' /walk/ftpsd.log; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat /walk/ftpsd.log; exit 1; }
    sleep 0.1
done
kill -TERM $pid
wait $pid
echo "== ftpsd exit $?"
cat /walk/ftpsd.log
"""

NS = r"""
set -eu
T=$1
mount --make-rprivate /
mount -t tmpfs -o mode=0755 tmpfs "$T/t"
mkdir -p "$T/t/upper" "$T/t/work" "$T/t/src" "$T/t/walk" "$T/root"
(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
    tar --null -T - -cf -) | tar -xf - -C "$T/t/src"
mount -t overlay overlay \
    -o "lowerdir=/,upperdir=$T/t/upper,workdir=$T/t/work" "$T/root"
mkdir -p "$T/root/src" "$T/root/walk"
mount --bind "$T/t/src" "$T/root/src"
mount --bind "$T/t/walk" "$T/root/walk"
cp "$T"/*.sh "$T/root/walk/"
mkdir -p "$T/root/walk/bin"
cp "$T/systemctl" "$T/journalctl" "$T/root/walk/bin/"
chmod 0755 "$T/root/walk/bin/"*
mount --rbind /dev "$T/root/dev"
mount -t proc proc "$T/root/proc"
mount -t sysfs sysfs "$T/root/sys"
mount -t tmpfs tmpfs "$T/root/tmp"
mount -t tmpfs tmpfs "$T/root/run"
ip link set lo up
exec chroot "$T/root" /usr/bin/env -i HOME=/root TERM=dumb \
    PATH=/walk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/sh /walk/main.sh
"""


class Docs(unittest.TestCase):

    def walk(self, name, blocks):
        """Runs blocks in one shell in a throwaway root: the output."""
        for prog in ("unshare", "chroot", "ip", "git", "curl"):
            need_program(prog)
        if not os.path.isdir(os.path.join(TOP, ".git")) and \
                not os.path.isfile(os.path.join(TOP, ".git")):
            harness.die("%s is not a git checkout: the walk-through starts "
                        "from a clone" % TOP)
        work = tempfile.mkdtemp(prefix="ftpsd-docs-")
        self.addCleanup(shutil.rmtree, work, True)
        os.mkdir(os.path.join(work, "t"))
        os.mkdir(os.path.join(work, "root"))
        for stub in ("systemctl", "journalctl"):
            with open(os.path.join(work, stub), "w") as f:
                f.write(STUB % (stub, stub))
        script = ["set -ex", "cd /src"]
        for b in blocks:
            why = [w for k, w in SKIP if k in b]
            if why:
                script.append(": 'skipped: it %s'" % why[0])
                continue
            script.append(b)
        with open(os.path.join(work, "docs.sh"), "w") as f:
            f.write("\n".join(script) + "\n")
        with open(os.path.join(work, "serve.sh"), "w") as f:
            f.write("set -eux\n" + SERVE)
        with open(os.path.join(work, "main.sh"), "w") as f:
            f.write("set -e\n(/bin/sh -e /walk/docs.sh) 2>&1\n"
                    "echo '== docs done'\n/bin/sh /walk/serve.sh 2>&1\n")
        with open(os.path.join(work, "ns.sh"), "w") as f:
            f.write("TOP='%s'\n" % TOP + NS)
        p = harness.run(["unshare", "--mount", "--net", "--pid", "--fork",
                         "/bin/sh", os.path.join(work, "ns.sh"), work],
                        timeout=WALK_TIMEOUT)
        print("---- %s walk-through ----\n%s\n%s" % (name, p.stdout[-6000:],
                                                     p.stderr[-3000:]))
        self.assertEqual(p.returncode, 0, describe(p))
        out = p.stdout
        self.assertIn("== docs done", out)
        # autoreconf, configure and make print no warning.
        docs_part = out.split("== docs done")[0]
        self.assertNotRegex(docs_part, r"(?i)warning", "a warning above")
        self.assertIn("hello from the docs", out)
        self.assertIn("owner ftpsd", out)
        self.assertIn("== ftpsd exit 0", out)
        return out

    def test_readme_run_as_a_service(self):
        blocks = sh_blocks(section(os.path.join(TOP, "README.md"),
                                   "Run as a service"))
        self.assertEqual(len(blocks), 1)
        out = self.walk("README", blocks)
        self.assertRegex(out, r"configuration /etc/ftpsd/ftpsd.conf ok")

    def test_operations_guide(self):
        text = section(os.path.join(TOP, "docs", "operations.md"),
                       "Run as a service")
        steps = text.split("### 8.")[0]
        blocks = sh_blocks(steps)
        self.assertGreater(len(blocks), 6)
        out = self.walk("docs/operations.md", blocks)
        self.assertRegex(out, r"configuration /etc/ftpsd/ftpsd.conf ok")
        self.assertRegex(out, r"ftpsd:x:\d+:\d+:")


if __name__ == "__main__":
    harness.main()
