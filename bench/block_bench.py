#!/usr/bin/env python3
"""Live block migration of the same disk with QEMU 7.2 and with savevm, in the same run.

The disk: a raw image of --disk bytes, the first half random, the second half zero (a hole). QEMU 7.2 migrates it
with the `block` capability between two QEMU processes (source and destination drives `disk0` behind a
virtio-blk device, 128 MiB of RAM, guest not started), savevm with `demo --disk SIZE --disk-fill half` (the same
layout, the same RAM size). Both at unlimited bandwidth (max-bandwidth 1 TiB/s) and the same downtime-limit
(--downtime-limit, 300 ms by default).

For every run the destination's image is compared with the source's after the migration reported completed. QEMU's
destination image starts with a pattern (0xa5) over the source's zero half, written and synced before the run, so
that a chunk QEMU never sent shows as a difference: such a run "lost data" (QEMU 7.2 can switch over before its
bulk phase has sent everything, see issue 10) and does not count in QEMU's median. savevm's demo verifies its own
image hashes (its destination image starts empty).

Each run also moves the same number of bytes once over a loopback TCP connection between two processes, nothing
else (the "wire" line): the floor that no migration of this disk over this loopback can go below, since without
zero-blocks every chunk travels as 1 MiB of data. And it copies the disk once over loopback with the least work a
disk copy can do (the "copy" line: read each MiB of the image, send it, receive it, write it unless it is all
zeros, one thread a side, no framing): what reading and writing the disks adds to the wire.

Prints per tool the median end-to-end time (migrate command until the destination completed) over the correct
runs, the lost runs, the wire floor, and the ratios savevm/QEMU and wire/QEMU; the last line is the same as JSON.

    bench/block_bench.py --disk 1G --runs 5      # needs qemu-system-x86_64, java, launcher/target/savevm.jar
    bench/block_bench.py --disk 1G --runs 5 --downtime-limit 1   # a limit at which QEMU 7.2 completes its bulk phase
"""
import argparse
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from migrate_bench import QMP, free_port, migrate_until_done, parse_size, quit_qemus, receive_all, UNLIMITED  # noqa: E402,E501

RAM_MIB = 128


def make_disk(path, size):
    """First half random (8 MiB at a time from urandom), second half a hole."""
    with open(path, "wb") as f:
        left = size // 2
        while left > 0:
            n = min(left, 8 << 20)
            f.write(os.urandom(n))
            left -= n
        f.truncate(size)


PATTERN = b"\xa5" * (8 << 20)


def make_destination(path, size):
    """The destination image: a hole over the source's random half, the pattern over its zero half, on disk."""
    with open(path, "wb") as f:
        f.truncate(size)
        f.seek(size // 2)
        left = size - size // 2
        while left > 0:
            n = min(left, len(PATTERN))
            f.write(PATTERN[:n])
            left -= n
        f.flush()
        os.fsync(f.fileno())


def timed_loopback(receive, send):
    """Milliseconds from the connect until a forked receiver, which runs receive(conn) on the accepted
    connection, acknowledges that it has everything; send(conn) runs here in between."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    pid = os.fork()
    if pid == 0:
        try:
            c, _ = srv.accept()
            receive(c)
            c.sendall(b"k")
            c.close()
        finally:
            os._exit(0)
    srv.close()
    c = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    send(c)
    c.recv(1)
    ms = (time.time() - t0) * 1000
    c.close()
    os.waitpid(pid, 0)
    return ms


def wire_run(size):
    """Milliseconds to move size bytes once over loopback TCP from one process to another (1 MiB sends)."""
    data = os.urandom(1 << 20)

    def send(c):
        left = size
        while left > 0:
            n = min(left, len(data))
            c.sendall(data[:n] if n < len(data) else data)
            left -= n

    return timed_loopback(lambda c: receive_all(c, size), send)


def copy_run(src_disk, size, workdir):
    """Milliseconds to copy the disk once over loopback TCP with the least work a disk copy can do: the source
    reads each 1 MiB of the image (pread, page cache) and sends it; the destination receives it whole, writes a
    chunk with data into a fresh sparse file (pwrite, page cache) and leaves an all-zero chunk a hole. No framing,
    no dirty tracking, one thread a side: the floor for a tool that reads and writes disks, where "wire" is the
    floor for moving the bytes alone. Also returns whether the copy equals the source."""
    dst_path = os.path.join(workdir, "copy.raw")
    with open(dst_path, "wb") as f:
        f.truncate(size)

    def receive(c):
        fd = os.open(dst_path, os.O_WRONLY)
        buf = bytearray(1 << 20)
        mv = memoryview(buf)
        zero = bytes(len(buf))
        off = 0
        while off < size:
            n = min(len(buf), size - off)
            got = 0
            while got < n:
                k = c.recv_into(mv[got:n])
                if k == 0:
                    os._exit(1)
                got += k
            if buf[:n] != zero[:n]:
                os.pwrite(fd, mv[:n], off)
            off += n
        os.close(fd)

    def send(c):
        fd = os.open(src_disk, os.O_RDONLY)
        buf = bytearray(1 << 20)
        mv = memoryview(buf)
        off = 0
        while off < size:
            n = os.preadv(fd, [mv[:min(len(buf), size - off)]], off)
            c.sendall(mv[:n])
            off += n
        os.close(fd)

    ms = timed_loopback(receive, send)
    equal = file_hash(dst_path) == file_hash(src_disk)
    os.unlink(dst_path)
    return ms, equal


def file_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(8 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def qemu_run(workdir, src_disk, size, downtime_limit, zero_blocks=False):
    dst_disk = os.path.join(workdir, "dst.raw")
    make_destination(dst_disk, size)
    port = free_port()
    socks = [os.path.join(workdir, n) for n in ("src.qmp", "dst.qmp")]
    for p in socks:
        if os.path.exists(p):
            os.unlink(p)

    def args(disk, sock):
        return ["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc-i440fx-7.2", "-nodefaults", "-display", "none",
                "-m", "%dM" % RAM_MIB, "-S", "-drive", "if=none,id=disk0,file=%s,format=raw" % disk,
                "-device", "virtio-blk-pci,drive=disk0", "-qmp", "unix:%s,server=on,wait=off" % sock]

    dst = subprocess.Popen(args(dst_disk, socks[1]) + ["-incoming", "tcp:127.0.0.1:%d" % port],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    src = subprocess.Popen(args(src_disk, socks[0]), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    qs = qd = None
    try:
        qs = QMP(socks[0])
        qd = QMP(socks[1])
        caps = [{"capability": "block", "state": True}]
        if zero_blocks:
            caps.append({"capability": "zero-blocks", "state": True})
        qs.cmd("migrate-set-capabilities", capabilities=caps)
        qs.cmd("migrate-set-parameters", **{"max-bandwidth": UNLIMITED, "downtime-limit": downtime_limit})
        st, info, e2e = migrate_until_done(qs, qd, port)
        ok = st == "completed" and info.get("status") == "completed"
        disk = info.get("disk", {})
    finally:
        quit_qemus((qs, qd), (src, dst), timeout=30)
    # the destination QEMU has quit: its writes are in the file
    equal = ok and file_hash(dst_disk) == file_hash(src_disk)
    os.unlink(dst_disk)
    return {"ok": ok, "equal": equal, "e2e": e2e, "total": info.get("total-time"),
            "disk-transferred": disk.get("transferred"), "error": info.get("error-desc")}


def savevm_run(jar, size, fmt, downtime_limit, zero_blocks=False):
    cmd = ["java", "-jar", jar, "demo", "--ram", "%dM" % RAM_MIB, "--fill", "zero", "--dirty-rate", "0",
           "--disk", str(size), "--disk-format", fmt, "--disk-fill", "half",
           "--parameter", "max-bandwidth=%dB" % UNLIMITED, "--parameter", "downtime-limit=%d" % downtime_limit, "--no-progress"]
    if zero_blocks:
        cmd += ["--capability", "zero-blocks"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"ok": False, "equal": False, "error": "no JSON line; exit %d: %s" % (p.returncode, p.stderr[-500:])}
    j = json.loads(lines[-1])
    verified = p.returncode == 0 and j.get("verified") is True
    return {"ok": j.get("status") == "completed", "equal": verified, "e2e": j.get("end-to-end-time"),
            "total": j.get("total-time"), "disk-transferred": j.get("disk", {}).get("transferred"),
            "error": j.get("error-desc")}


def median_of(runs, key):
    vals = [r[key] for r in runs if r.get("equal") and r.get(key) is not None]
    return round(statistics.median(vals)) if vals else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--disk", default="1G")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--format", default="raw", help="savevm's image format (QEMU's is raw)")
    ap.add_argument("--savevm-jar", default=os.path.join(HERE, "..", "launcher", "target", "savevm.jar"))
    ap.add_argument("--only", choices=["qemu", "savevm"], default=None)
    ap.add_argument("--downtime-limit", type=int, default=300, help="ms, both tools (QEMU's default is 300)")
    ap.add_argument("--zero-blocks", action="store_true",
                    help="capability zero-blocks on both (QEMU's default is off: the zero half then travels as data)")
    a = ap.parse_args()
    size = parse_size(a.disk)
    if shutil.which("qemu-system-x86_64") is None and a.only != "savevm":
        sys.exit("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               platform.processor())
    print("block migration bench: %d MiB raw disk, half random half zero, %d runs, %s, %d CPUs, downtime-limit %d ms%s"
          % (size >> 20, a.runs, cpu, os.cpu_count(), a.downtime_limit,
             ", zero-blocks on both" if a.zero_blocks else ""))
    work = tempfile.mkdtemp(prefix="savevm-block-bench-")
    try:
        src_disk = os.path.join(work, "src.raw")
        make_disk(src_disk, size)
        results = {"qemu": [], "savevm": []}
        wire = []
        copy = []
        for i in range(a.runs):
            # alternate, so that all see the same machine state over the run
            for tool in ("wire", "copy", "qemu", "savevm"):
                if a.only and a.only != tool and tool not in ("wire", "copy"):
                    continue
                # the previous run's destination image (QEMU writes through the page cache) is written back
                # now, not in the middle of the next run
                os.sync()
                if tool == "wire":
                    wire.append(wire_run(size))
                    print("  run %d wire   %d MiB over loopback TCP in %d ms" % (i + 1, size >> 20, wire[-1]),
                          flush=True)
                    continue
                if tool == "copy":
                    ms, ok = copy_run(src_disk, size, work)
                    if not ok:
                        sys.exit("the bare disk copy produced a different image")
                    copy.append(ms)
                    print("  run %d copy   %d MiB disk copied over loopback TCP in %d ms" % (i + 1, size >> 20, ms),
                          flush=True)
                    continue
                r = (qemu_run(work, src_disk, size, a.downtime_limit, a.zero_blocks) if tool == "qemu"
                     else savevm_run(a.savevm_jar, size, a.format, a.downtime_limit, a.zero_blocks))
                results[tool].append(r)
                print("  run %d %-6s %s e2e %s ms%s" % (i + 1, tool, "ok  " if r["equal"] else
                      ("LOST" if r["ok"] else "FAIL"), r.get("e2e") and round(r["e2e"]),
                      "" if r["equal"] else "  (%s)" % (r.get("error") or "destination image differs")), flush=True)
        summary = {"disk": size, "runs": a.runs, "cpu": cpu, "zero-blocks": a.zero_blocks,
                   "downtime-limit": a.downtime_limit, "wire-median-ms": round(statistics.median(wire)),
                   "copy-median-ms": round(statistics.median(copy))}
        print("wire    median %d ms to move %d MiB over loopback TCP (the floor)" % (summary["wire-median-ms"],
                                                                                    size >> 20))
        print("copy    median %d ms to copy the disk over loopback TCP: read, send, receive, write (the floor for"
              " a disk copy)" % summary["copy-median-ms"])
        for tool, runs in results.items():
            if not runs:
                continue
            summary[tool] = {"median-e2e-ms": median_of(runs, "e2e"), "correct": sum(r["equal"] for r in runs),
                             "lost": sum(1 for r in runs if r["ok"] and not r["equal"]),
                             "failed": sum(1 for r in runs if not r["ok"])}
            print("%-7s median end-to-end %s ms over %d correct runs; lost data %d, failed %d"
                  % (tool, summary[tool]["median-e2e-ms"], summary[tool]["correct"], summary[tool]["lost"],
                     summary[tool]["failed"]))
        q = summary.get("qemu", {}).get("median-e2e-ms")
        s = summary.get("savevm", {}).get("median-e2e-ms")
        if q and s:
            summary["ratio"] = round(s / q, 3)
            print("ratio savevm/QEMU: %.3f" % summary["ratio"])
        if q:
            summary["wire-ratio"] = round(summary["wire-median-ms"] / q, 3)
            print("ratio wire/QEMU:   %.3f (no tool can go below it)" % summary["wire-ratio"])
            summary["copy-ratio"] = round(summary["copy-median-ms"] / q, 3)
            print("ratio copy/QEMU:   %.3f (a bare disk copy, no migration)" % summary["copy-ratio"])
        print(json.dumps(summary))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
