#!/usr/bin/env python3
"""Postcopy benchmark: QEMU 7.2 and savevm's demo, same run, same workload, same bandwidth.

The guest dirties RAM faster than max-bandwidth (precopy alone would not converge); each migration switches to
postcopy once --postcopy-after percent of RAM went out, and postcopy runs at the same bandwidth
(max-postcopy-bandwidth = max-bandwidth). Printed per system (medians over --runs):

  total      the source's total-time (query-migrate), and end to end: migrate command until the destination
             completed
  latency    page-request latency p50 / p99 over all requests of all runs, in microseconds:
             QEMU: from the destination's trace events postcopy_page_req_add (a fault's page request queued
             and sent on the return path, migrate_send_rp_req_pages) to postcopy_page_req_del (that host page
             placed, qemu_ufd_copy_ioctl), matched by host address; timestamps of QEMU's log backend
             (-msg timestamp=on, microseconds)
             savevm: the demo destination's vCPU times each read of a page that was missing when the read
             began: fault, request on the return path, page placed (postcopy-fault-latency-us)
  blocktime  postcopy-blocktime / postcopy-vcpu-blocktime from the destination's query-migrate (capability
             postcopy-blocktime on the destination)

Workloads: QEMU runs guest/dirty.S under TCG on both ends (on the destination it keeps writing after
POSTCOPY_RUN, faulting on missing pages); savevm's source runs its workload generator (4 KiB writes, 90 % into
a hot tenth), its destination a vCPU reading random pages anywhere in RAM. Both sources' RAM starts as the same
random file.

Usage: bench/postcopy_bench.py [--ram 256M] [--dirty-rate 64M] [--bandwidth 32M] [--postcopy-after 50] [--runs 3]
                               [--savevm-jar launcher/target/savevm.jar] [--workdir DIR]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import migrate_bench as mb  # noqa: E402  (QMP client, inputs, the dirtying guest)

TRACE_RE = re.compile(r"^\d+@(\d+)\.(\d+):postcopy_page_req_(add|del) \S+ page req (0x[0-9a-f]+|\(nil\))")


def percentile(sorted_vals, p):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(-(-len(sorted_vals) * p // 100)) - 1))
    return sorted_vals[k]


def qemu_latencies(trace_file):
    """Request-to-placement times (us) from the destination's postcopy_page_req_add/del trace lines."""
    pending, out = {}, []
    with open(trace_file, errors="replace") as f:
        for line in f:
            m = TRACE_RE.match(line)
            if not m:
                continue
            t = int(m.group(1)) * 1000000 + int(m.group(2))
            if m.group(3) == "add":
                pending[m.group(4)] = t
            elif m.group(4) in pending:
                out.append(t - pending.pop(m.group(4)))
    return out


def qemu_run(workdir, ram, ram_file, kernel, bw, after_pct):
    port = mb.free_port()
    src_sock = os.path.join(workdir, "src.qmp")
    dst_sock = os.path.join(workdir, "dst.qmp")
    trace = os.path.join(workdir, "dst-trace.log")
    for p in (src_sock, dst_sock, trace):
        if os.path.exists(p):
            os.unlink(p)
    mib = ram >> 20
    base = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc-i440fx-7.2", "-nodefaults", "-display", "none",
            "-m", "%dM" % mib, "-kernel", kernel]
    # no -S on the destination: its guest runs from POSTCOPY_RUN on and faults on pages still missing
    dst = subprocess.Popen(base + ["-incoming", "defer", "-qmp", "unix:%s,server=on,wait=off" % dst_sock,
                                   "-msg", "timestamp=on", "-D", trace,
                                   "-trace", "enable=postcopy_page_req_add", "-trace", "enable=postcopy_page_req_del"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    src_args = list(base)
    src_args[src_args.index("pc-i440fx-7.2")] = "pc-i440fx-7.2,memory-backend=pc.ram"
    src_args += ["-object", "memory-backend-file,id=pc.ram,size=%dM,mem-path=%s,prealloc=on,share=off"
                 % (mib, ram_file), "-qmp", "unix:%s,server=on,wait=off" % src_sock]
    src = subprocess.Popen(src_args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    qs = qd = None
    try:
        qs = mb.QMP(src_sock)
        qd = mb.QMP(dst_sock)
        caps = [{"capability": "postcopy-ram", "state": True}]
        qs.cmd("migrate-set-capabilities", capabilities=caps)
        qd.cmd("migrate-set-capabilities", capabilities=caps + [{"capability": "postcopy-blocktime", "state": True}])
        qs.cmd("migrate-set-parameters", **{"max-bandwidth": bw, "max-postcopy-bandwidth": bw, "downtime-limit": 300})
        qd.cmd("migrate-incoming", uri="tcp:127.0.0.1:%d" % port)
        mb.wait_guest_running(qs)
        t0 = time.time()
        qs.cmd("migrate", uri="tcp:127.0.0.1:%d" % port)
        switched = False
        deadline = t0 + 900
        while True:
            st = qd.cmd("query-migrate").get("status")
            if st in ("completed", "failed"):
                break
            if not switched:
                info = qs.cmd("query-migrate")
                if info.get("ram", {}).get("transferred", 0) >= ram * after_pct / 100:
                    qs.cmd("migrate-start-postcopy")
                    switched = True
            if time.time() > deadline:
                raise TimeoutError("QEMU destination did not finish")
            time.sleep(0.005)
        e2e = (time.time() - t0) * 1000
        info = mb.await_source_end(qs)
        dinfo = qd.cmd("query-migrate")
        lat = qemu_latencies(trace)
        return {"ok": st == "completed" and info.get("status") == "completed", "e2e": e2e,
                "total": info.get("total-time"), "downtime": info.get("downtime"),
                "requests": info.get("ram", {}).get("postcopy-requests"),
                "postcopy_bytes": info.get("ram", {}).get("postcopy-bytes"),
                "blocktime": dinfo.get("postcopy-blocktime"), "vcpu_blocktime": dinfo.get("postcopy-vcpu-blocktime"),
                "latencies": lat, "error": info.get("error-desc")}
    finally:
        mb.quit_qemus((qs, qd), (src, dst))


def savevm_run(jar, ram, ram_file, rate, bw, after_pct):
    cmd = ["java", "-jar", jar, "demo", "--ram", str(ram), "--fill", "file:" + ram_file, "--dirty-rate", str(rate),
           "--capability", "postcopy-ram", "--capability", "postcopy-blocktime", "--postcopy-after", str(after_pct),
           "--parameter", "max-bandwidth=%dB" % bw, "--parameter", "max-postcopy-bandwidth=%dB" % bw,
           "--parameter", "downtime-limit=300", "--no-progress"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"ok": False, "error": "no JSON line; exit %d: %s" % (p.returncode, p.stderr[-500:])}
    j = json.loads(lines[-1])
    r = j.get("ram", {})
    lat = j.get("postcopy-fault-latency-us") or {}
    return {"ok": p.returncode == 0 and j.get("verified") is True, "e2e": j.get("end-to-end-time"),
            "total": j.get("total-time"), "downtime": j.get("downtime"), "requests": r.get("postcopy-requests"),
            "postcopy_bytes": r.get("postcopy-bytes"), "blocktime": j.get("postcopy-blocktime"),
            "vcpu_blocktime": j.get("postcopy-vcpu-blocktime"), "lat_summary": lat, "error": j.get("error-desc")}


def med(results, key):
    vals = [r[key] for r in results if r.get("ok") and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, unit=""):
    return "-" if v is None else "%.0f%s" % (v, unit)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ram", default="256M")
    ap.add_argument("--dirty-rate", default="64M")
    ap.add_argument("--bandwidth", default="32M", help="max-bandwidth and max-postcopy-bandwidth, bytes/s")
    ap.add_argument("--postcopy-after", type=int, default=50, help="percent of RAM sent before the switch")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--savevm-jar", default=os.path.join(HERE, "..", "launcher", "target", "savevm.jar"))
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    ram, rate, bw = mb.parse_size(a.ram), mb.parse_size(a.dirty_rate), mb.parse_size(a.bandwidth)
    workdir = a.workdir or tempfile.mkdtemp(prefix="savevm-pcbench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.makedirs(workdir, exist_ok=True)
    have_qemu = shutil.which("qemu-system-x86_64") is not None
    have_savevm = os.path.exists(a.savevm_jar) and shutil.which("java") is not None
    _, rnd = mb.make_inputs(workdir, ram)
    kernel = None
    if have_qemu:
        kernel, why = mb.build_guest(workdir, rate, ram)
        if kernel is None:
            print("QEMU skipped: " + why, file=sys.stderr)
            have_qemu = False
    if not have_savevm:
        print("savevm: %s not found, savevm skipped" % a.savevm_jar, file=sys.stderr)

    res = {"QEMU": [], "savevm": []}
    for i in range(a.runs):
        if have_qemu:
            r = qemu_run(workdir, ram, rnd, kernel, bw, a.postcopy_after)
            res["QEMU"].append(r)
            shown = {k: v for k, v in r.items() if k != "latencies"}
            shown["latency_samples"] = len(r["latencies"])
            print("  run %d QEMU:   %s" % (i + 1, json.dumps(shown)), file=sys.stderr)
        if have_savevm:
            r = savevm_run(a.savevm_jar, ram, rnd, rate, bw, a.postcopy_after)
            res["savevm"].append(r)
            print("  run %d savevm: %s" % (i + 1, json.dumps(r)), file=sys.stderr)

    print()
    print("postcopy: RAM %d MiB, guest dirtying %.0f MiB/s, max-bandwidth = max-postcopy-bandwidth = %.0f MiB/s, "
          "switch after %d %% of RAM sent, %d runs (medians; latency: QEMU's percentiles over all requests of all runs, "
          "savevm's the median of each run's percentiles)"
          % (ram >> 20, rate / 1048576, bw / 1048576, a.postcopy_after, a.runs))
    hdr = "%-7s %5s %9s %9s %9s %9s %10s %10s %11s %10s" % ("system", "ok", "total ms", "e2e ms", "requests",
                                                           "samples", "p50 us", "p99 us", "blocktime", "downtime")
    print(hdr)
    print("-" * len(hdr))
    summary = {"ram": ram, "dirty_rate": rate, "bandwidth": bw, "postcopy_after": a.postcopy_after, "runs": a.runs}
    for name in ("QEMU", "savevm"):
        rs = res[name]
        if not rs:
            continue
        ok = [r for r in rs if r.get("ok")]
        if name == "QEMU":
            lats = sorted(x for r in ok for x in r["latencies"])
            p50, p99, n = percentile(lats, 50), percentile(lats, 99), len(lats)
        else:
            # the demo reports per-run percentiles; with one run they are exact, with more the median of each
            p50 = med([r["lat_summary"] | {"ok": True} for r in ok if r["lat_summary"]], "p50")
            p99 = med([r["lat_summary"] | {"ok": True} for r in ok if r["lat_summary"]], "p99")
            n = sum(r["lat_summary"].get("count", 0) for r in ok if r["lat_summary"])
        row = {"ok": len(ok), "runs": len(rs), "total_ms": med(rs, "total"), "e2e_ms": med(rs, "e2e"),
               "requests": med(rs, "requests"), "latency_samples": n, "p50_us": p50, "p99_us": p99,
               "blocktime_ms": med(rs, "blocktime"), "downtime_ms": med(rs, "downtime")}
        summary[name] = row
        print("%-7s %2d/%-2d %9s %9s %9s %9s %10s %10s %11s %10s" % (
            name, row["ok"], row["runs"], fmt(row["total_ms"]), fmt(row["e2e_ms"]), fmt(row["requests"]), n,
            fmt(p50), fmt(p99), fmt(row["blocktime_ms"], " ms"), fmt(row["downtime_ms"])))
    q, s = summary.get("QEMU"), summary.get("savevm")
    if q and s:
        ratios = {}
        for k in ("total_ms", "e2e_ms", "p50_us", "p99_us"):
            if q.get(k) and s.get(k) is not None:
                ratios[k] = s[k] / q[k]
        summary["ratio_savevm_over_qemu"] = ratios
        print("ratio savevm/QEMU: " + ", ".join("%s %.2f" % (k, v) for k, v in ratios.items()))
    print(json.dumps(summary))
    if a.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
