#!/usr/bin/env python3
"""Live-migration benchmark: savevm's demo against QEMU 7.2 on the same RAM content, same machine, same run.

Cases (1 GiB by default):
  zero    all RAM zero (QEMU: sparse file behind memory-backend-file)
  random  incompressible RAM (the same pseudo-random file for both)
  dirty   random RAM and a guest dirtying whole pages at --dirty-rate (QEMU: guest/dirty.S under TCG, paced by
          the ACPI PM timer; savevm: its workload generator with 4 KiB writes, 90 % into a hot tenth)
plus a raw loopback TCP copy of the same bytes as the physical limit, and iperf3 over loopback for the same
byte count when iperf3 is installed (the socket alone: no file read, the receiver discards).

Timing is end to end: from the migrate command until the destination has loaded everything (QEMU: the
destination's query-migrate says completed; savevm: the demo's end-to-end-time). Bandwidth unlimited on both,
downtime-limit at QEMU's default 300 ms. Several runs per case, medians printed.

Usage: bench/migrate_bench.py [--ram 1G] [--runs 3] [--cases zero,random,dirty] [--dirty-rate 50M] [--multifd N]
                              [--savevm-jar launcher/target/savevm.jar] [--workdir /dev/shm/savevm-bench]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
UNLIMITED = 1 << 40  # max-bandwidth for both: 1 TiB/s, i.e. no limit in practice
PM_TICKS_PER_PERIOD = 35795  # 10 ms of the 3.579545 MHz ACPI PM timer


def parse_size(s):
    s = s.strip().upper().rstrip("B").rstrip("/S").rstrip("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


# ---- QMP (stdlib only) ------------------------------------------------------------------------------------

class QMP:
    def __init__(self, path, timeout=60):
        deadline = time.time() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError("%s: %s" % (name, reply["error"]))
            return reply.get("return")

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- inputs -------------------------------------------------------------------------------------------------

def make_inputs(workdir, ram):
    zero = os.path.join(workdir, "zero.ram")
    with open(zero, "wb") as f:
        f.truncate(ram)
    rnd = os.path.join(workdir, "random.ram")
    if not os.path.exists(rnd) or os.path.getsize(rnd) != ram:
        with open(rnd, "wb") as f:
            left = ram
            while left > 0:
                n = min(left, 8 << 20)
                f.write(os.urandom(n))
                left -= n
    return zero, rnd


def build_guest(workdir, dirty_rate, ram):
    """guest/dirty.S assembled and linked, its pages-per-period word patched to the wanted rate."""
    src = os.path.join(HERE, "guest", "dirty.S")
    obj = os.path.join(workdir, "dirty.o")
    elf = os.path.join(workdir, "dirty.elf")
    for tool in ("as", "ld"):
        if shutil.which(tool) is None:
            return None, "%s (binutils) not found" % tool
    subprocess.run(["as", "--32", src, "-o", obj], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-Ttext", "0x100000", "-e", "_start", obj, "-o", elf], check=True)
    data = bytearray(open(elf, "rb").read())
    at = data.find(b"RATE")
    if at < 0:
        return None, "RATE marker missing in dirty.elf"
    pages = max(0, round(dirty_rate / 4096 / 100))
    region_pages = (ram - (16 << 20)) // 4096
    data[at + 4:at + 8] = pages.to_bytes(4, "little")
    data[at + 8:at + 12] = PM_TICKS_PER_PERIOD.to_bytes(4, "little")
    data[at + 12:at + 16] = region_pages.to_bytes(4, "little")
    open(elf, "wb").write(bytes(data))
    return elf, None


# ---- QEMU ---------------------------------------------------------------------------------------------------

def qemu_run(workdir, ram, ram_file, kernel, multifd=0):
    port = free_port()
    src_sock = os.path.join(workdir, "src.qmp")
    dst_sock = os.path.join(workdir, "dst.qmp")
    for p in (src_sock, dst_sock):
        if os.path.exists(p):
            os.unlink(p)
    mib = ram >> 20
    base = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc-i440fx-7.2", "-nodefaults", "-display", "none",
            "-m", "%dM" % mib]
    if kernel:
        base += ["-kernel", kernel]
    # with multifd the destination needs the capability before it listens: -incoming defer, then QMP
    incoming = "defer" if multifd else "tcp:127.0.0.1:%d" % port
    dst = subprocess.Popen(base + ["-S", "-incoming", incoming,
                                   "-qmp", "unix:%s,server=on,wait=off" % dst_sock],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    src_args = list(base)
    src_args[src_args.index("pc-i440fx-7.2")] = "pc-i440fx-7.2,memory-backend=pc.ram"
    src_args += ["-object", "memory-backend-file,id=pc.ram,size=%dM,mem-path=%s,prealloc=on,share=off" % (mib, ram_file),
                 "-qmp", "unix:%s,server=on,wait=off" % src_sock]
    if not kernel:
        src_args.append("-S")
    src = subprocess.Popen(src_args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    qs = qd = None
    try:
        qs = QMP(src_sock)
        qd = QMP(dst_sock)
        qs.cmd("migrate-set-parameters", **{"max-bandwidth": UNLIMITED, "downtime-limit": 300})
        if multifd:
            for q in (qs, qd):
                q.cmd("migrate-set-capabilities", capabilities=[{"capability": "multifd", "state": True}])
                q.cmd("migrate-set-parameters", **{"multifd-channels": multifd})
            qd.cmd("migrate-incoming", uri="tcp:127.0.0.1:%d" % port)
        if kernel:
            wait_guest_running(qs)
        st, info, e2e = migrate_until_done(qs, qd, port)
        return {"ok": st == "completed" and info.get("status") == "completed", "e2e": e2e,
                "total": info.get("total-time"), "downtime": info.get("downtime"),
                "mbps": info.get("ram", {}).get("mbps"), "transferred": info.get("ram", {}).get("transferred"),
                "error": info.get("error-desc")}
    finally:
        quit_qemus((qs, qd), (src, dst))


def migrate_until_done(qs, qd, port, timeout=900):
    """QMP migrate on the source qs to tcp port; polls the destination qd until completed or failed (end to end is
    from the migrate command until then), then the source until it ended. Returns (destination status, the
    source's last query-migrate, end to end ms)."""
    t0 = time.time()
    qs.cmd("migrate", uri="tcp:127.0.0.1:%d" % port)
    deadline = t0 + timeout
    while True:
        st = qd.cmd("query-migrate").get("status")
        if st in ("completed", "failed"):
            break
        if time.time() > deadline:
            raise TimeoutError("QEMU destination did not finish")
        time.sleep(0.005)
    e2e = (time.time() - t0) * 1000
    return st, await_source_end(qs), e2e


def await_source_end(qs):
    """Polls the source's query-migrate until the migration ended (completed, failed, cancelled); returns it."""
    while True:
        info = qs.cmd("query-migrate")
        if info.get("status") in ("completed", "failed", "cancelled"):
            return info
        time.sleep(0.01)


def quit_qemus(qmps, procs, timeout=10):
    """Asks each QEMU to quit over its QMP connection (None: never connected), then waits for the processes,
    killing those still there after timeout seconds."""
    for q in qmps:
        if q:
            try:
                q.cmd("quit")
            except Exception:
                pass
            q.close()
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_guest_running(q, timeout=60):
    """Until the dirtying loop runs (EIP in the kernel at 1 MiB), past SeaBIOS and the multiboot loader."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        regs = q.cmd("human-monitor-command", **{"command-line": "info registers"})
        eip = int(regs.split("EIP=")[1][:8], 16)
        if 0x100000 <= eip < 0x110000:
            time.sleep(1.0)  # let it dirty for a while, as the savevm workload runs before its migration
            return
        time.sleep(0.1)
    raise TimeoutError("QEMU guest did not reach the dirtying loop")


# ---- savevm -------------------------------------------------------------------------------------------------

def savevm_run(jar, ram, fill, dirty_rate, multifd=0):
    cmd = ["java", "-jar", jar, "demo", "--ram", str(ram), "--fill", fill, "--dirty-rate", str(dirty_rate),
           "--parameter", "max-bandwidth=%dB" % UNLIMITED, "--parameter", "downtime-limit=300", "--no-progress"]
    if multifd:
        cmd += ["--capability", "multifd", "--parameter", "multifd-channels=%d" % multifd]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"ok": False, "error": "no JSON line; exit %d: %s" % (p.returncode, p.stderr[-500:])}
    j = json.loads(lines[-1])
    ram_info = j.get("ram", {})
    return {"ok": p.returncode == 0 and j.get("verified") is True, "e2e": j.get("end-to-end-time"),
            "total": j.get("total-time"), "downtime": j.get("downtime"), "mbps": ram_info.get("mbps"),
            "transferred": ram_info.get("transferred"), "error": j.get("error-desc")}


# ---- raw TCP ------------------------------------------------------------------------------------------------

def receive_all(conn, size):
    """Reads and discards up to size bytes from conn, 1 MiB at a time; returns how many arrived."""
    mv = memoryview(bytearray(1 << 20))
    got = 0
    while got < size:
        n = conn.recv_into(mv)
        if n == 0:
            break
        got += n
    return got


def raw_tcp_copy(path, size):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    done = {}

    def sink():
        c, _ = srv.accept()
        done["got"] = receive_all(c, size)
        done["t"] = time.time()
        c.close()

    th = threading.Thread(target=sink)
    th.start()
    t0 = time.time()
    with socket.create_connection(("127.0.0.1", port)) as s, open(path, "rb") as f:
        s.sendfile(f)
    th.join(300)
    srv.close()
    return (done["t"] - t0) * 1000, done["got"]


def iperf3_copy(size):
    """iperf3 over loopback for the same byte count, when iperf3 is installed: what the socket itself carries
    (one stream, no file read, the receiver discards), a tighter limit than the Python copy. None without it."""
    if not shutil.which("iperf3"):
        return None
    port = free_port()
    srv = subprocess.Popen(["iperf3", "-s", "-1", "-p", str(port)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-n", str(size), "-J"],
                                 capture_output=True, text=True, timeout=120)
            if out.returncode == 0:
                secs = json.loads(out.stdout).get("end", {}).get("sum_received", {}).get("seconds")
                return secs * 1000 if secs else None
            time.sleep(0.1)
        return None
    finally:
        srv.kill()
        srv.wait()


# ---- report -------------------------------------------------------------------------------------------------

def med(results, key):
    vals = [r[key] for r in results if r.get("ok") and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, unit="", prec=0):
    return "-" if v is None else ("%.*f%s" % (prec, v, unit))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ram", default="1G")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default="zero,random,dirty")
    ap.add_argument("--dirty-rate", default="50M")
    ap.add_argument("--savevm-jar", default=os.path.join(HERE, "..", "launcher", "target", "savevm.jar"))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--multifd", type=int, default=0,
                    help="both QEMU and savevm with the multifd capability and this many channels (0: off)")
    a = ap.parse_args()
    ram = parse_size(a.ram)
    rate = parse_size(a.dirty_rate)
    cases = [c for c in a.cases.split(",") if c]
    workdir = a.workdir or tempfile.mkdtemp(prefix="savevm-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.makedirs(workdir, exist_ok=True)
    have_qemu = shutil.which("qemu-system-x86_64") is not None
    have_savevm = os.path.exists(a.savevm_jar) and shutil.which("java") is not None
    if not have_qemu:
        print("QEMU: qemu-system-x86_64 not found, QEMU columns skipped", file=sys.stderr)
    if not have_savevm:
        print("savevm: %s not found, savevm columns skipped" % a.savevm_jar, file=sys.stderr)
    zero, rnd = make_inputs(workdir, ram)
    kernel = None
    if "dirty" in cases and have_qemu:
        kernel, why = build_guest(workdir, rate, ram)
        if kernel is None:
            print("QEMU dirty case skipped: " + why, file=sys.stderr)

    raw = [raw_tcp_copy(rnd, ram)[0] for _ in range(a.runs)]
    raw_ms = statistics.median(raw)
    iperf = [v for v in (iperf3_copy(ram) for _ in range(a.runs)) if v is not None]
    iperf_ms = statistics.median(iperf) if iperf else None

    table = []
    for case in cases:
        fill = {"zero": "zero", "random": "file:" + rnd, "dirty": "file:" + rnd}[case]
        ram_file = zero if case == "zero" else rnd
        dr = rate if case == "dirty" else 0
        q_res, s_res = [], []
        for i in range(a.runs):
            if have_qemu and (case != "dirty" or kernel):
                r = qemu_run(workdir, ram, ram_file, kernel if case == "dirty" else None, a.multifd)
                q_res.append(r)
                print("  %-6s run %d QEMU:   %s" % (case, i + 1, json.dumps(r)), file=sys.stderr)
            if have_savevm:
                r = savevm_run(a.savevm_jar, ram, fill, dr, a.multifd)
                s_res.append(r)
                print("  %-6s run %d savevm: %s" % (case, i + 1, json.dumps(r)), file=sys.stderr)
        table.append((case, q_res, s_res))

    print()
    print("RAM %d MiB, %d runs per case, medians; dirty rate %.0f MiB/s; end to end = migrate command until the "
          "destination loaded everything" % (ram >> 20, a.runs, rate / 1048576))
    print("multifd: %s" % ("on, %d channels, for both" % a.multifd if a.multifd else "off"))
    print("raw loopback TCP copy of the same bytes: %.0f ms (%.0f MiB/s)" % (raw_ms, (ram / 1048576) / (raw_ms / 1000)))
    if iperf_ms:
        print("iperf3 over loopback, same byte count, one stream: %.0f ms (%.0f MiB/s)"
              % (iperf_ms, (ram / 1048576) / (iperf_ms / 1000)))
    hdr = "%-7s %-7s %5s %10s %10s %9s %10s %11s %9s" % ("case", "system", "ok", "e2e ms", "total ms", "downtime",
                                                        "MiB/s e2e", "ram mbps", "vs raw")
    print(hdr)
    print("-" * len(hdr))
    summary = {"ram": ram, "runs": a.runs, "multifd": a.multifd, "raw_tcp_ms": raw_ms, "iperf3_ms": iperf_ms,
               "cases": {}}
    for case, q_res, s_res in table:
        row = {}
        for name, res in (("QEMU", q_res), ("savevm", s_res)):
            if not res:
                continue
            ok = sum(1 for r in res if r.get("ok"))
            e2e = med(res, "e2e")
            tput = (ram / 1048576) / (e2e / 1000) if e2e else None
            print("%-7s %-7s %2d/%-2d %10s %10s %9s %10s %11s %9s" % (
                case, name, ok, len(res), fmt(e2e), fmt(med(res, "total")), fmt(med(res, "downtime")),
                fmt(tput), fmt(med(res, "mbps")), fmt(e2e / raw_ms if e2e else None, "x", 1)))
            row[name] = {"ok": ok, "runs": len(res), "e2e_ms": e2e, "total_ms": med(res, "total"),
                         "downtime_ms": med(res, "downtime"), "mbps": med(res, "mbps")}
        if row.get("QEMU", {}).get("e2e_ms") and row.get("savevm", {}).get("e2e_ms"):
            ratio = row["savevm"]["e2e_ms"] / row["QEMU"]["e2e_ms"]
            row["ratio_savevm_over_qemu"] = ratio
            print("%-7s ratio savevm/QEMU (end-to-end time): %.2f" % (case, ratio))
        summary["cases"][case] = row
    print(json.dumps(summary))
    if a.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
