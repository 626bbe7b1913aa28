"""Report of the CPU-limit sweep (run.sh): a table of quota vs run time vs
the ideal 1/quota time, a PNG plot, and the table filed in docs/cgroups.md.

The ideal time of a run is the CPU time its work needs divided by the CPU
rate the quota grants: workers * W / min(quota, workers), where W is the
CPU seconds one worker used in the unlimited runs (their median). CFS
charges the quota in CPU time, so W, not the unlimited wall time (which a
busy host stretches), is what the quota divides.
"""

import argparse
import csv
import datetime
import re
import statistics

BEGIN, END = "<!-- cpu-sweep:begin -->", "<!-- cpu-sweep:end -->"


def load(path):
    with open(path) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        r["pct"], r["workers"] = int(r["quota_pct"]), int(r["workers"])
        r["wall"], r["cpu"] = float(r["wall_s"]), float(r["cpu_s"])
    base = [r for r in rows if r["pct"] == 0]
    runs = [r for r in rows if r["pct"] > 0]
    w = statistics.median(r["cpu"] for r in base)
    for r in runs:
        r["ideal"] = r["workers"] * w / min(r["pct"] / 100, r["workers"])
        r["off"] = r["wall"] / r["ideal"] - 1
        # Against the CPU this run used: how exactly the quota was held,
        # apart from the work's CPU cost drifting with the host's load.
        r["off_own"] = r["wall"] * min(r["pct"] / 100, r["workers"]) / r["cpu"] - 1
    return base, runs, w


def table(base, runs, w, period, host):
    walls = ", ".join("%.2f" % r["wall"] for r in base)
    lines = [
        f"Measured {datetime.date.today()} on {host}; period {period} µs.",
        f"Unlimited ({len(base)} runs): wall {walls} s; W = {w:.3f} CPU s per worker (median).",
        "",
        "| quota (% of one CPU) | cfs_quota_us | workers | run time (s) | ideal (s) | off by | CPU used (s) | off by, vs CPU used |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r['pct']} | {r['pct'] * period // 100} | {r['workers']} | {r['wall']:.3f} "
            f"| {r['ideal']:.3f} | {r['off']:+.1%} | {r['cpu']:.3f} | {r['off_own']:+.1%} |"
        )
    single = {r["pct"]: r["wall"] for r in runs if r["workers"] == 1}
    pairs = [(q, 2 * q) for q in sorted(single) if 2 * q in single]
    if pairs:
        lines += ["", "Twice the quota, half the time: " + ", ".join(
            f"t({q} %)/t({d} %) = {single[q] / single[d]:.2f}" for q, d in pairs) + "."]
    return "\n".join(lines) + "\n"


def plot(runs, w, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    qs = [q / 2 for q in range(10, 201)]
    ax.plot(qs, [w / (q / 100) for q in qs], "-", color="0.6", label="ideal, 1 worker: W / quota")
    one = [r for r in runs if r["workers"] == 1]
    ax.plot([r["pct"] for r in one], [r["wall"] for r in one], "o", color="C0", label="measured, 1 worker")
    many = [r for r in runs if r["workers"] > 1]
    if many:
        n = many[0]["workers"]
        qm = [q for q in range(50, 211, 5)]
        ax.plot(qm, [n * w / min(q / 100, n) for q in qm], "--", color="C1", alpha=0.6,
                label=f"ideal, {n} workers: {n} W / quota")
        ax.plot([r["pct"] for r in many], [r["wall"] for r in many], "s", color="C1", label=f"measured, {n} workers")
    ax.set_xlabel("CPU quota (% of one CPU, period 100 ms)")
    ax.set_ylabel("run time (s)")
    ax.set_title("hako: run time of a CPU-bound program vs its CFS quota")
    ax.set_xlim(0, 210)
    ax.set_ylim(0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png)


def file_table(md, text):
    with open(md) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"report: {md} has no {BEGIN} ... {END} section for the table")
    new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{text}{END}", doc, flags=re.S)
    with open(md, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--period", type=int, required=True)
    ap.add_argument("--host", default="")
    ap.add_argument("--png")
    ap.add_argument("--md")
    a = ap.parse_args()
    base, runs, w = load(a.results)
    text = table(base, runs, w, a.period, a.host)
    print(text, end="")
    if a.png:
        plot(runs, w, a.png)
        print(f"wrote {a.png}")
    if a.md:
        file_table(a.md, text)
        print(f"wrote the table into {a.md}")


main()
