#!/usr/bin/env python3
"""Snapshot benchmark: QEMU 7.2's HMP savevm / loadvm against savevm's, same RAM content, same machine, same run.

The guest: --ram (1 GiB by default) of incompressible RAM (one pseudo-random file: QEMU maps it with
memory-backend-file share=off, savevm reads it in with `guest fill FILE`) and a fresh qcow2 disk (16 GiB virtual,
empty) that takes the snapshot. No guest OS: QEMU stays stopped (-S, as QEMU's savevm stops the guest anyway);
savevm's guest workload is paused for savevm / loadvm and runs (writing RAM at --dirty-rate) for savevm --live.

Timed (wall clock from the command to its end, medians of --runs):
  QEMU    HMP `savevm s` and `loadvm s` through QMP human-monitor-command (the guest is stopped throughout: the
          pause is the whole command)
  savevm  the same commands in one savevm shell (stdin), each followed by `echo MARK`; the time is until MARK
          comes back, so the shell's own round trip (~1 ms) is included. `savevm --live` prints its guest pause.
Both images are checked with qemu-img check afterwards.

Usage: bench/snapshot_bench.py [--ram 1G] [--runs 3] [--dirty-rate 64M] [--savevm-jar launcher/target/savevm.jar]
                               [--workdir /dev/shm/savevm-snapbench] [--out FILE]
"""
import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from migrate_bench import QMP, parse_size, make_inputs  # noqa: E402


def qemu_img_create(path):
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "16G"], check=True)


def qemu_img_check(path):
    p = subprocess.run(["qemu-img", "check", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout.strip().splitlines()[0] if p.stdout.strip() else ""


def qemu_case(workdir, ram, ram_file, runs):
    disk = os.path.join(workdir, "qemu.qcow2")
    qemu_img_create(disk)
    sock = os.path.join(workdir, "qemu.qmp")
    if os.path.exists(sock):
        os.unlink(sock)
    mib = ram >> 20
    args = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc-i440fx-7.2,memory-backend=pc.ram", "-nodefaults",
            "-display", "none", "-S", "-m", "%dM" % mib,
            "-object", "memory-backend-file,id=pc.ram,size=%dM,mem-path=%s,prealloc=on,share=off" % (mib, ram_file),
            "-drive", "file=%s,format=qcow2,if=ide" % disk, "-qmp", "unix:%s,server=on,wait=off" % sock]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    q = QMP(sock)
    res = {"savevm": [], "loadvm": []}
    try:
        for i in range(runs):
            for cmd in ("savevm", "loadvm"):
                t0 = time.time()
                out = q.cmd("human-monitor-command", **{"command-line": "%s s%d" % (cmd, i)})
                ms = (time.time() - t0) * 1000
                if out.strip():
                    raise RuntimeError("QEMU %s: %s" % (cmd, out))
                res[cmd].append(ms)
        res["info"] = q.cmd("human-monitor-command", **{"command-line": "info snapshots"})
    finally:
        try:
            q.cmd("quit")
        except Exception:
            pass
        q.close()
        p.wait(timeout=30)
    res["check"] = qemu_img_check(disk)
    return res


class Shell:
    """A savevm shell on stdin/stdout; each command is timed until the MARK echoed after it comes back."""

    def __init__(self, jar, ram, disk):
        self.p = subprocess.Popen(["java", "-jar", jar, "--ram", str(ram), "--disk", disk],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  bufsize=1, cwd=os.path.dirname(disk))
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.n = 0

    def _read(self):
        for line in self.p.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def run(self, command, timeout=1800):
        self.n += 1
        mark = "MARK%d" % self.n
        with self.cond:
            start_line = len(self.lines)
        t0 = time.time()
        self.p.stdin.write("%s\necho %s\n" % (command, mark))
        self.p.stdin.flush()
        with self.cond:
            while not any(l.endswith(mark) and "echo" not in l for l in self.lines[start_line:]):
                if not self.cond.wait(timeout=timeout - (time.time() - t0)) or time.time() - t0 > timeout:
                    raise TimeoutError(command)
            ms = (time.time() - t0) * 1000
            out = [l for l in self.lines[start_line:] if not l.endswith(mark)]
        return ms, out

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=120)


def savevm_case(jar, workdir, ram, ram_file, runs, dirty_rate):
    disk = os.path.join(workdir, "savevm.qcow2")
    qemu_img_create(disk)
    sh = Shell(jar, ram, disk)
    res = {"savevm": [], "loadvm": [], "live": [], "live-pause": [], "live-copied": [], "errors": []}
    try:
        ms, out = sh.run("guest fill %s" % ram_file)
        res["fill"] = ms
        sh.run("guest pause")
        for i in range(runs):
            for cmd in ("savevm", "loadvm"):
                ms, out = sh.run("%s s%d" % (cmd, i))
                bad = [l for l in out if "rror" in l]
                if bad:
                    res["errors"] += bad
                res[cmd].append(ms)
        sh.run("guest rate %d" % dirty_rate)
        for i in range(runs):
            sh.run("guest resume")
            time.sleep(0.5)
            ms, out = sh.run("savevm --live live%d" % i)
            sh.run("guest pause")
            res["live"].append(ms)
            for l in out:
                m = re.search(r"guest paused ([0-9.]+) ms.*?(\d+) pages copied", l)
                if m:
                    res["live-pause"].append(float(m.group(1)))
                    res["live-copied"].append(int(m.group(2)))
                elif "rror" in l:
                    res["errors"].append(l)
        res["live-load"] = []
        for i in range(runs):
            ms, out = sh.run("loadvm live%d" % i)
            res["live-load"].append(ms)
        ms, out = sh.run("info-snapshots")
        res["info"] = "\n".join(l.replace("g! ", "") for l in out)
    finally:
        sh.close()
    res["check"] = qemu_img_check(disk)
    return res


def med(v):
    return statistics.median(v) if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ram", default="1G")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dirty-rate", default="64M")
    ap.add_argument("--savevm-jar", default=os.path.join(HERE, "..", "launcher", "target", "savevm.jar"))
    ap.add_argument("--workdir", default="/dev/shm/savevm-snapbench")
    ap.add_argument("--out")
    a = ap.parse_args()
    ram = parse_size(a.ram)
    os.makedirs(a.workdir, exist_ok=True)
    _, rnd = make_inputs(a.workdir, ram)
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    cpu = ""
    try:
        cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
    except Exception:
        pass
    say("snapshot bench %s: %s incompressible RAM, qcow2 disk in %s, %d runs (medians)"
        % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), a.ram, a.workdir, a.runs))
    say("machine: %s, %s, %d CPUs (shared with other sessions: load average before %s), commit %s"
        % (platform.node(), cpu, os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg()), commit))
    qres = qemu_case(a.workdir, ram, rnd, a.runs)
    sres = savevm_case(a.savevm_jar, a.workdir, ram, rnd, a.runs, parse_size(a.dirty_rate))
    say("load average after: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    say("")
    say("%-28s %12s %14s %10s" % ("", "wall ms", "guest pause ms", "vs QEMU"))
    qs, ql = med(qres["savevm"]), med(qres["loadvm"])
    say("%-28s %12.0f %14.0f %10s" % ("QEMU 7.2 HMP savevm", qs, qs, ""))
    say("%-28s %12.0f %14.0f %9.2fx" % ("savevm savevm", med(sres["savevm"]), med(sres["savevm"]),
                                         med(sres["savevm"]) / qs))
    say("%-28s %12.0f %14.1f %9.2fx" % ("savevm savevm --live", med(sres["live"]), med(sres["live-pause"]),
                                         med(sres["live"]) / qs))
    say("%-28s %12.0f %14.0f %10s" % ("QEMU 7.2 HMP loadvm", ql, ql, ""))
    say("%-28s %12.0f %14.0f %9.2fx" % ("savevm loadvm", med(sres["loadvm"]), med(sres["loadvm"]),
                                         med(sres["loadvm"]) / ql))
    say("%-28s %12.0f %14.0f %9.2fx" % ("savevm loadvm (live snap)", med(sres["live-load"]),
                                         med(sres["live-load"]), med(sres["live-load"]) / ql))
    say("")
    say("runs (ms): QEMU savevm %s loadvm %s" % (qres["savevm"], qres["loadvm"]))
    say("runs (ms): savevm savevm %s loadvm %s" % ([round(x) for x in sres["savevm"]],
                                                   [round(x) for x in sres["loadvm"]]))
    say("runs: savevm --live wall %s ms, pause %s ms, pages copied before write %s (guest writing at %s/s)"
        % ([round(x) for x in sres["live"]], sres["live-pause"], sres["live-copied"], a.dirty_rate))
    say("savevm fill of %s from the file: %.0f ms (not timed above)" % (a.ram, sres["fill"]))
    say("qemu-img check: QEMU's image %s; ours %s" % (qres["check"], sres["check"]))
    if sres["errors"]:
        say("errors: %s" % sres["errors"])
    say("")
    say("QEMU info snapshots:\n" + qres["info"].strip())
    say("savevm info-snapshots:\n" + sres["info"].strip())
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
