#!/usr/bin/python3
"""bench.py: the benchmark driver behind scripts/bench/run.sh (`make bench`).

Measures hako, runc and crun (and a C floor) on one busybox rootfs, side by
side: every iteration runs each runtime once, in an order rotated by one each
iteration, so machine noise and position effects hit all runtimes alike.

run.sh installs the packages, builds the bundle and the C helpers, and starts
this script inside a private mount namespace in which
/sys/fs/cgroup/unified/cgroup.controllers reads empty (crun 1.8 refuses this
host's hybrid layout otherwise). Run it through run.sh, not by hand.

Timing: monotonic clock read before posix_spawn(3) of the first runtime
command and after waitpid(2) of the last one. posix_spawn uses
clone(CLONE_VM|CLONE_VFORK), so the driver adds the same few tens of
microseconds to every runtime and to the floor.

We are a child subreaper (PR_SET_CHILD_SUBREAPER): a container's init, once
`create` has exited, becomes our child, so "wait" in create+start+wait+delete
is a plain waitpid on it instead of polling `state`.
"""

import argparse
import ctypes
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

PAGE = 4096
OP_TIMEOUT = 60  # seconds; a runtime command that takes longer counts as failed
BISECT_STEPS = 10
BISECT_REPEATS = 3  # a limit "works" only if `run /bin/true` succeeds this many times in a row
BISECT_HIGH = 64 << 20  # bytes; the bisection assumes this limit works
COLD_IDLE = 0.100  # seconds of quiet before each cold operation
BATCH = 50  # containers at once in measure (3)
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
PR_SET_CHILD_SUBREAPER = 36

RUNTIMES = ("hako", "runc", "crun")
COLUMNS = RUNTIMES + ("floor",)
MEASURES = (  # key, label, who takes part
    ("run", "`run /bin/true`", COLUMNS),
    ("lifecycle", "create + start + wait + delete", RUNTIMES),
    ("batch", f"{BATCH} at once, total wall time", COLUMNS),
    ("exec", "`exec /bin/true` into a running container", RUNTIMES),
)


class OpTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise OpTimeout()


# --- processes ---------------------------------------------------------------

class Spawner:
    """posix_spawn with stdin/stdout on /dev/null and stderr to a log file.

    Every process gets its own process group, so a hung one can be killed with
    everything it forked; the set `live` holds what has not been waited for,
    so cleanup can kill it by pid.
    """

    def __init__(self, logdir):
        self.devnull = os.open("/dev/null", os.O_RDWR)
        self.logdir = logdir
        self.logs = {}
        self.live = set()

    def log(self, name):
        if name not in self.logs:
            path = os.path.join(self.logdir, name + ".log")
            self.logs[name] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        return self.logs[name]

    def spawn(self, argv, log, out=None):
        fds = [(os.POSIX_SPAWN_DUP2, self.devnull, 0),
               (os.POSIX_SPAWN_DUP2, self.devnull if out is None else out, 1),
               (os.POSIX_SPAWN_DUP2, self.log(log), 2)]
        pid = os.posix_spawn(argv[0], argv, ENV, file_actions=fds, setpgroup=0)
        self.live.add(pid)
        return pid

    def wait(self, pid):
        """Exit code of pid (negative: killed by that signal)."""
        _, status = os.waitpid(pid, 0)
        self.live.discard(pid)
        return os.waitstatus_to_exitcode(status)

    def kill(self, pid):
        for target in (-pid, pid):  # its group, then itself if it left the group
            try:
                os.kill(target, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.wait(pid)
        except ChildProcessError:
            self.live.discard(pid)

    def run(self, argv, log, timeout=OP_TIMEOUT, out=None):
        """Run argv to completion; exit code, or None if it hit the timeout."""
        pid = self.spawn(argv, log, out)
        signal.alarm(timeout)
        try:
            return self.wait(pid)
        except OpTimeout:
            self.kill(pid)
            return None
        finally:
            signal.alarm(0)

    def reap_orphans(self):
        """Reap exited processes we inherited as subreaper (container inits
        whose runtime exited). Call only when no tracked wait is pending."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.live.discard(pid)


def wait_exit(sp, pid):
    """Wait for a container init to exit. It is our child (we are subreaper)
    once the runtime that started it has exited; if some runtime keeps it as
    its own child instead, fall back to polling /proc."""
    try:
        sp.wait(pid)
        return
    except ChildProcessError:
        pass
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.0002)


# --- runtimes -----------------------------------------------------------------

class Runtime:
    """One runtime: its binary, a private --root state dir, unique ids."""

    def __init__(self, name, binary, root, bundles, base_config):
        self.name, self.bin, self.root, self.bundles = name, binary, root, bundles
        self.base_config = base_config  # rewritten into bundles["mem"] per limit tried
        self.has_exec = True
        self.exec_target = None  # id of the running container `exec` goes into
        self.seq = 0
        os.makedirs(root, exist_ok=True)

    def new_id(self):
        self.seq += 1
        return f"bench-{self.name}-{os.getpid()}-{self.seq}"

    def cmd(self, *args):
        return [self.bin, "--root", self.root, *args]

    def run_argv(self, cid, bundle="true"):
        return self.cmd("run", "--bundle", self.bundles[bundle], cid)

    def delete(self, sp, cid):
        return sp.run(self.cmd("delete", "--force", cid), self.name)


class Floor:
    """The C floor: clone + pivot_root + exec, no runtime around it."""
    name = "floor"

    def __init__(self, binary, rootfs):
        self.bin, self.rootfs = binary, rootfs
        self.seq = 0

    def new_id(self):
        self.seq += 1
        return f"bench-floor-{os.getpid()}-{self.seq}"

    def run_argv(self, cid, bundle="true"):
        return [self.bin, self.rootfs]


def has_exec(rt):
    """hako gains `exec` later; until then its column reads n/a."""
    if rt.name != "hako":
        return True
    out = subprocess.run([rt.bin, "--help"], capture_output=True, text=True)
    return any(line.split()[:1] == ["exec"] for line in (out.stdout + out.stderr).splitlines())


# --- one operation of each measure, timed ---------------------------------------

def op_run(sp, rt):
    cid = rt.new_id()
    t0 = time.perf_counter_ns()
    code = sp.run(rt.run_argv(cid), rt.name)
    dt = time.perf_counter_ns() - t0
    return dt, code == 0, cid


def op_lifecycle(sp, rt):
    cid = rt.new_id()
    pidfile = os.path.join(rt.root, cid + ".pid")
    t0 = time.perf_counter_ns()
    ok = sp.run(rt.cmd("create", "--bundle", rt.bundles["true"], "--pid-file", pidfile, cid), rt.name) == 0
    ok = ok and sp.run(rt.cmd("start", cid), rt.name) == 0
    if ok:
        with open(pidfile) as f:
            wait_exit(sp, int(f.read()))
        ok = sp.run(rt.cmd("delete", cid), rt.name) == 0
    dt = time.perf_counter_ns() - t0
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    return dt, ok, cid


def op_batch(sp, rt):
    """BATCH foreground `run`s at once; done when every one has exited (a
    foreground run deletes its container before it exits)."""
    cids = [rt.new_id() for _ in range(BATCH)]
    signal.alarm(OP_TIMEOUT)
    t0 = time.perf_counter_ns()
    pids = [sp.spawn(rt.run_argv(c), rt.name) for c in cids]
    try:
        codes = [sp.wait(p) for p in pids]
    except OpTimeout:
        for p in pids:
            sp.kill(p)
        codes = [None]
    finally:
        signal.alarm(0)
    dt = time.perf_counter_ns() - t0
    return dt, all(c == 0 for c in codes), cids


def op_exec(sp, rt):
    if rt.exec_target is None:  # it did not start: every exec counts as failed
        return 0, False, None
    t0 = time.perf_counter_ns()
    code = sp.run(rt.cmd("exec", rt.exec_target, "/bin/true"), rt.name)
    return time.perf_counter_ns() - t0, code == 0, None


OPS = {"run": op_run, "lifecycle": op_lifecycle, "batch": op_batch, "exec": op_exec}


def forget(sp, rt, cids):
    """After a failed operation: remove whatever it left behind."""
    if cids is None or isinstance(rt, Floor):
        return
    for cid in cids if isinstance(cids, list) else [cids]:
        if os.path.exists(os.path.join(rt.root, cid)):
            rt.delete(sp, cid)


def measure(sp, key, rts, iterations, cold):
    """Round-robin: iteration i runs every runtime once, starting with
    runtime i mod len(rts). Returns {name: {"ns": [...], "failed": k}}."""
    out = {rt.name: {"ns": [], "failed": 0} for rt in rts}
    op = OPS[key]
    for rt in rts:  # one untimed warm-up each: page cache, dentries
        forget(sp, rt, op(sp, rt)[2])
        sp.reap_orphans()
    for i in range(iterations):
        for j in range(len(rts)):
            rt = rts[(i + j) % len(rts)]
            if cold:
                time.sleep(COLD_IDLE)
            dt, ok, cids = op(sp, rt)
            sp.reap_orphans()
            if ok:
                out[rt.name]["ns"].append(dt)
            else:
                out[rt.name]["failed"] += 1
                forget(sp, rt, cids)
    return out


# --- memory: peak RSS and the smallest working limit ----------------------------

def peak_rss(sp, maxrss, rts, iterations):
    """ru_maxrss (KiB) of `run /bin/true`, through the static maxrss wrapper
    (see maxrss.c for what the number covers)."""
    out = {rt.name: [] for rt in rts}
    for i in range(iterations):
        for j in range(len(rts)):
            rt = rts[(i + j) % len(rts)]
            r, w = os.pipe()
            try:
                code = sp.run([maxrss, *rt.run_argv(rt.new_id())], rt.name, out=w)
            finally:
                os.close(w)
            with os.fdopen(r) as f:  # a few bytes: they fit in the pipe
                text = f.read()
            if code == 0:
                out[rt.name].append(int(text))
            sp.reap_orphans()
    return out


def limit_works(sp, rt, limit, memcg_root):
    """Does `run /bin/true` succeed BISECT_REPEATS times under this limit?"""
    for _ in range(BISECT_REPEATS):
        cid = rt.new_id()
        if isinstance(rt, Floor):
            cg = os.path.join(memcg_root, cid)
            os.mkdir(cg)
            try:
                with open(os.path.join(cg, "memory.limit_in_bytes"), "w") as f:
                    f.write(str(limit))
                code = sp.run([rt.bin, rt.rootfs, cg], "floor", timeout=20)
            finally:
                sp.reap_orphans()  # a killed child must be gone before rmdir
                os.rmdir(cg)
        else:
            write_config(rt.bundles["mem"], rt.base_config, limit)
            code = sp.run(rt.run_argv(cid, "mem"), rt.name, timeout=20)
            sp.reap_orphans()
            forget(sp, rt, cid)
        if code != 0:
            return False
    return True


def smallest_limit(sp, rt, memcg_root):
    """Geometric bisection over whole pages between 1 page (assumed to fail)
    and BISECT_HIGH (checked to work): BISECT_STEPS steps reach ~1 %."""
    lo, hi = 1, BISECT_HIGH // PAGE
    if not limit_works(sp, rt, hi * PAGE, memcg_root):
        return None
    for _ in range(BISECT_STEPS):
        mid = round(math.sqrt(lo * hi))
        if mid <= lo or mid >= hi:
            break
        if limit_works(sp, rt, mid * PAGE, memcg_root):
            hi = mid
        else:
            lo = mid
    return hi * PAGE // 1024  # KiB


# --- bundles ------------------------------------------------------------------

def write_config(bundle, base, mem_limit=None, args=None):
    cfg = json.loads(json.dumps(base))
    if args:
        cfg["process"]["args"] = args
    if mem_limit is not None:
        cfg["linux"].setdefault("resources", {})["memory"] = {"limit": mem_limit}
    os.makedirs(bundle, exist_ok=True)
    tmp = os.path.join(bundle, "config.json.tmp")
    with open(tmp, "w") as f:
        json.dump(cfg, f, indent=1)
    os.rename(tmp, os.path.join(bundle, "config.json"))


def base_config(bundle_dir):
    """The mkbundle config.json, made runnable by all three runtimes: no
    terminal, /bin/true, an absolute root (so each variant is a config.json
    in its own directory, all sharing one rootfs), and the ociVersion of
    `runc spec` (crun 1.8 says "unknown version specified" for 1.3.0)."""
    with open(os.path.join(bundle_dir, "config.json")) as f:
        cfg = json.load(f)
    cfg["ociVersion"] = "1.0.2-dev"
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/true"]
    cfg["root"]["path"] = os.path.join(os.path.abspath(bundle_dir), "rootfs")
    return cfg


def make_bundles(work, name, base):
    bundles = {v: os.path.join(work, "bundles", name, v) for v in ("true", "sleep", "mem")}
    write_config(bundles["true"], base)
    write_config(bundles["sleep"], base, args=["/bin/sleep", "1000000"])
    return bundles


# --- setup and cleanup ------------------------------------------------------------

def cgroup_dirs(pattern_pid):
    """Every cgroup dir this run made: named bench-<who>-<our pid>-..., at any
    depth (runc nests its v1 memory cgroup under the caller's own)."""
    found = []
    for mnt in sorted(os.listdir("/sys/fs/cgroup")):
        top = os.path.join("/sys/fs/cgroup", mnt)
        for dirpath, dirnames, _ in os.walk(top):
            if dirpath.count("/") - top.count("/") >= 5:
                dirnames[:] = []
            for d in dirnames:
                if d.startswith("bench-") and f"-{pattern_pid}-" in d:
                    found.append(os.path.join(dirpath, d))
    return sorted(found, key=len, reverse=True)  # children first


def state_root(pid):
    return os.path.join("/run", f"hako-bench-{pid}")


def cleanup(sp, bins, pid):
    """Remove everything run `pid` made: the processes it started and has not
    waited for (by pid), its containers (delete --force on every id in its
    private --root dirs), its cgroups, its state dirs. Also what run.sh calls
    (--sweep) after a driver that died without cleaning up."""
    for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut it short
        signal.signal(sig, signal.SIG_IGN)
    for p in list(sp.live):
        sp.kill(p)
    root = state_root(pid)
    for name in RUNTIMES:
        rdir = os.path.join(root, name)
        for cid in os.listdir(rdir) if os.path.isdir(rdir) else []:
            if cid.startswith("bench-") and os.path.isdir(os.path.join(rdir, cid)):
                sp.run([bins[name], "--root", rdir, "delete", "--force", cid], name, timeout=20)
    sp.reap_orphans()
    for d in cgroup_dirs(pid):
        try:
            os.rmdir(d)
        except OSError as e:
            print(f"bench: cleanup: rmdir {d}: {e}", file=sys.stderr)
    shutil.rmtree(root, ignore_errors=True)


def start_warm(sp, warm_bin):
    """The helper that keeps cgroup migration warm (see warm.c), moving
    itself between two v1 memory cgroups every 5 ms."""
    cgs = [f"/sys/fs/cgroup/memory/bench-warm-{os.getpid()}-{x}" for x in "ab"]
    for cg in cgs:
        os.makedirs(cg, exist_ok=True)
    pid = sp.spawn([warm_bin, *cgs, "5"], "warm")
    time.sleep(0.05)
    return pid


# --- report ------------------------------------------------------------------

def summary(values):
    if not values:
        return None
    v = sorted(values)

    def rank(q):  # nearest rank
        return v[max(0, math.ceil(q * len(v)) - 1)]
    return {"median": statistics.median(v), "p90": rank(0.9), "p95": rank(0.95), "p99": rank(0.99), "n": len(v)}


def fmt_ms(x):
    return f"{x:.3g} ms" if x < 100 else f"{x:.0f} ms"


def fmt_kib(k):
    return f"{k:.0f} KiB" if k < 1024 else f"{k / 1024:.2f} MiB"


def cell(stat, crun, fmt, failed=0, total=0):
    if stat is None:
        return "failed" if failed else "n/a"
    text = f"{fmt(stat['median'])}"
    if "p95" in stat:
        text += f" (p95 {fmt(stat['p95'])}, p99 {fmt(stat['p99'])})"
    if crun and crun.get("median"):
        text += f" · {stat['median'] / crun['median']:.2f}×"
    if failed:
        text += f" · {failed}/{total} failed"
    return text


def markdown(res):
    head = "| measure | " + " | ".join("C floor" if c == "floor" else c for c in COLUMNS) + " |"
    lines = [head, "|---" * (len(COLUMNS) + 1) + "|"]
    for key, label, who in MEASURES:
        for mode in ("warm", "cold"):
            row = res["time"][mode][key]
            crun = row.get("crun", {}).get("stat")
            cells = []
            for c in COLUMNS:
                r = row.get(c)
                if r is None:  # not part of this measure, or hako without exec
                    cells.append("n/a" if c in who else "")
                else:
                    cells.append(cell(r["stat"], crun, fmt_ms, r["failed"], r["total"]))
            lines.append(f"| {label}, {mode} | " + " | ".join(cells) + " |")
    rss = res["rss"]
    lines.append("| peak RSS, largest process of `run /bin/true` | " + " | ".join(
        cell(rss[c], rss["crun"], fmt_kib) if rss[c] else "failed" for c in COLUMNS) + " |")
    lim = {c: (None if v is None else {"median": v}) for c, v in res["limit"].items()}
    lines.append("| smallest `memory.limit` for `run /bin/true` | " + " | ".join(
        cell(lim[c], lim["crun"], fmt_kib) if lim[c] else "fails even at 64 MiB" for c in COLUMNS) + " |")
    lines.append("")
    for mode in ("warm", "cold"):  # the goal: `run` within 2.5x of the floor
        run = res["time"][mode]["run"]
        h, f = run["hako"]["stat"], run["floor"]["stat"]
        if h and f:
            lines.append(f"hako `run` ÷ C floor, {mode}: {h['median'] / f['median']:.2f}×.  ")
    return "\n".join(lines)


def history_cells(res):
    """The measures of docs/benchmarks.md's history row: hako's median (ratio to crun's)."""
    def c(stat, crun, fmt):
        if not stat:
            return "n/a"
        ratio = f" ({stat['median'] / crun['median']:.2f}×)" if crun and crun.get("median") else ""
        return fmt(stat["median"]) + ratio
    cells = []
    for key, _, _ in MEASURES:
        for mode in ("warm", "cold"):
            row = res["time"][mode][key]
            h, crun = row.get("hako"), row.get("crun")
            cells.append(c(h and h["stat"], crun and crun["stat"], fmt_ms))
    cells.append(c(res["rss"]["hako"], res["rss"]["crun"], fmt_kib))
    lim = {k: (None if v is None else {"median": v}) for k, v in res["limit"].items()}
    cells.append(c(lim["hako"], lim["crun"], fmt_kib))
    return " | ".join(cells)


def chart(res, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    colors = {"hako": "#d62728", "runc": "#1f77b4", "crun": "#2ca02c", "floor": "#7f7f7f"}
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.5), gridspec_kw={"width_ratios": [4, 4, 2]})
    axes[1].sharey(axes[0])  # warm and cold on one scale
    for ax, mode in zip(axes, ("warm", "cold")):
        for k, (key, label, who) in enumerate(MEASURES):
            for j, c in enumerate(COLUMNS):
                r = res["time"][mode][key].get(c)
                x = k + (j - 1.5) * 0.2
                if c in who and not (r and r["stat"]):  # e.g. hako before it has exec
                    ax.text(x, 0.02, "n/a", rotation=90, ha="center", va="bottom", fontsize=8,
                            transform=ax.get_xaxis_transform())
                if not r or not r["stat"]:
                    continue
                s = r["stat"]
                ax.bar(x, s["median"], 0.2, color=colors[c], yerr=[[0], [s["p95"] - s["median"]]], capsize=2)
        ax.set_xticks(range(len(MEASURES)))
        ax.set_xticklabels(["run true", "create+start\n+wait+delete", f"{BATCH} at once", "exec true"])
        ax.set_yscale("log")
        ax.set_ylabel("ms (median, whisker: p95)")
        ax.set_title(f"{mode}")
        ax.legend(handles=[Patch(color=colors[c], label=c) for c in COLUMNS], fontsize=8)
    ax = axes[2]
    for k, vals in enumerate((res["rss"], res["limit"])):
        for j, c in enumerate(COLUMNS):
            v = vals[c]
            v = v["median"] if isinstance(v, dict) else v
            if v:
                ax.bar(k + (j - 1.5) * 0.2, v, 0.2, color=colors[c])
    ax.set_xticks([0, 1])
    ax.set_xticklabels(["peak RSS", "min memory\nlimit"])
    ax.set_yscale("log")
    ax.set_ylabel("KiB")
    ax.set_title("memory")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


# --- main ------------------------------------------------------------------

def time_all(sp, rts, floor, n, warm_bin):
    """Measures (1)-(4), warm then cold."""
    res = {}
    for mode in ("warm", "cold"):
        warm_pid = start_warm(sp, warm_bin) if mode == "warm" else None
        res[mode] = {}
        try:
            for key, label, who in MEASURES:
                members = [r for r in rts + [floor] if r.name in who]
                if key == "exec":
                    members = [r for r in members if r.has_exec]
                iters = max(3, n // 10) if key == "batch" else n
                print(f"bench: {mode}: {label} x{iters}", file=sys.stderr, flush=True)
                raw = measure(sp, key, members, iters, cold=(mode == "cold"))
                res[mode][key] = {c: {"stat": summary([x / 1e6 for x in raw[c]["ns"]]), "failed": raw[c]["failed"],
                                      "total": iters, "ns": raw[c]["ns"]} for c in raw}
        finally:
            if warm_pid:
                sp.kill(warm_pid)
    return res


def start_exec_targets(sp, rts):
    for rt in rts:
        rt.has_exec = has_exec(rt)
        if not rt.has_exec:
            continue
        cid = rt.new_id()
        if sp.run(rt.cmd("run", "--detach", "--bundle", rt.bundles["sleep"], cid), rt.name) == 0:
            rt.exec_target = cid
        else:
            print(f"bench: {rt.name}: could not start the exec target; exec: failed", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hako", required=True)
    ap.add_argument("--work", required=True, help="scratch dir: helpers/, bundle/, logs")
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    ap.add_argument("--png")
    ap.add_argument("--row", help="write the measures of docs/benchmarks.md's history row here")
    ap.add_argument("--title", default="")
    ap.add_argument("--sweep", type=int, metavar="PID", help="only clean up after driver PID")
    a = ap.parse_args()

    ctl = "/sys/fs/cgroup/unified/cgroup.controllers"
    if os.path.exists(ctl) and open(ctl).read().strip():
        sys.exit(f"bench: {ctl} is not empty: run me through scripts/bench/run.sh")
    bins = {"hako": os.path.abspath(a.hako), "runc": shutil.which("runc"), "crun": shutil.which("crun")}
    sp = Spawner(a.work)
    if a.sweep:
        cleanup(sp, bins, a.sweep)
        return
    libc = ctypes.CDLL(None)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("bench: prctl(PR_SET_CHILD_SUBREAPER) failed")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))

    base = base_config(os.path.join(a.work, "bundle"))
    root = state_root(os.getpid())
    rts = [Runtime(n, bins[n], os.path.join(root, n), make_bundles(a.work, n, base), base) for n in RUNTIMES]
    helpers = os.path.join(a.work, "helpers")
    floor = Floor(os.path.join(helpers, "floor"), base["root"]["path"])
    t_start = time.monotonic()
    try:
        start_exec_targets(sp, rts)
        res = {"time": time_all(sp, rts, floor, a.n, os.path.join(helpers, "warm"))}
        print("bench: peak RSS", file=sys.stderr, flush=True)
        rss = peak_rss(sp, os.path.join(helpers, "maxrss"), rts + [floor], max(10, a.n // 5))
        res["rss"] = {c: summary(v) for c, v in rss.items()}
        res["limit"] = {}
        for rt in rts + [floor]:
            print(f"bench: smallest memory limit: {rt.name}", file=sys.stderr, flush=True)
            res["limit"][rt.name] = smallest_limit(sp, rt, "/sys/fs/cgroup/memory")
    finally:
        cleanup(sp, bins, os.getpid())
    res["seconds"] = round(time.monotonic() - t_start)
    res["n"] = a.n
    with open(a.json, "w") as f:
        json.dump(res, f)
    with open(a.markdown, "w") as f:
        f.write(markdown(res) + "\n")
    if a.row:
        with open(a.row, "w") as f:
            f.write(history_cells(res) + "\n")
    chart(res, a.png, a.title)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("bench: interrupted")
