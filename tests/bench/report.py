#!/usr/bin/env python3
"""Summarises the runs of scripts/bench.

Reads the raw results (one JSON object per line, as sio-bench printed them,
plus the fields scripts/bench added: case, server, rep), writes the results
file (machine, versions, medians with min-max, every raw run), prints a table,
and draws the plot. Exits 1 when the load generator saturated its core in any
run or a run lost or duplicated messages: such figures measure the generator,
not the server.

  report.py --raw RAW.jsonl --meta META.json --out docs/bench-results.json
            [--plot docs/benchmarks.png] [--markdown]
  report.py --from docs/bench-results.json --out ... [--plot ...] [--markdown]
            (tables and plot again from an earlier results file)
"""
import argparse
import json
import statistics
import sys

# What each kind of case reports: (JSON path, label, unit, better).
METRICS = {
    "connect": [
        (("connections_per_s",), "connections/s", "", "higher"),
        (("server_rss_per_connection_kb",), "server RSS per connection", "KB", "lower"),
        (("server_cpu_per_connection_us",), "server CPU per connection", "µs", "lower"),
        (("handshake_latency", "p99_us"), "handshake p99", "µs", "lower"),
    ],
    "echo": [
        (("acks_per_s",), "acks/s", "", "higher"),
        (("latency", "p50_us"), "p50", "µs", "lower"),
        (("latency", "p99_us"), "p99", "µs", "lower"),
        (("latency", "max_us"), "max", "µs", "lower"),
        (("server_cpu_per_ack_us",), "server CPU per ack", "µs", "lower"),
    ],
    "fanout": [
        (("deliveries_per_s",), "deliveries/s", "", "higher"),
        (("latency", "p50_us"), "p50", "µs", "lower"),
        (("latency", "p99_us"), "p99", "µs", "lower"),
        (("latency", "max_us"), "max", "µs", "lower"),
        (("server_cpu_per_delivery_us",), "server CPU per delivery", "µs", "lower"),
        (("lost",), "lost", "", "lower"),
        (("duplicates",), "duplicates", "", "lower"),
    ],
}
EXTRA = [  # reported for every case, not plotted
    (("generator_cpu_fraction",), "generator CPU (cores)", "", "lower"),
    (("server_cpu_fraction",), "server CPU (cores)", "", "lower"),
    (("other_cpu_fraction",), "other processes' CPU (cores)", "", "lower"),
]


CONTEXT = {label for _, label, _, _ in EXTRA}


def kind(scenario):
    return "fanout" if scenario in ("broadcast", "rooms") else scenario


def get(run, path):
    v = run
    for k in path:
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, int) or float(v).is_integer() and abs(v) >= 1:
        return f"{int(v):,}"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_us(v):
    if v is None:
        return "–"
    if v >= 1000:
        return f"{v / 1000:.2f} ms"
    return f"{v:.0f} µs" if v >= 100 else f"{v:.1f} µs"


def fmt_metric(v, unit):
    return fmt_us(v) if unit == "µs" else fmt(v) + (" " + unit if unit and v is not None else "")


def summarise(runs, cases, servers):
    """{case: {server: {metric label: {median, min, max, n}}}}"""
    out = {}
    for case in cases:
        out[case] = {}
        for server in servers:
            mine = [r for r in runs if r["case"] == case and r["server"] == server]
            if not mine:
                continue
            metrics = {}
            for path, label, unit, better in METRICS[kind(mine[0]["scenario"])] + EXTRA:
                vals = [get(r, path) for r in mine]
                vals = [v for v in vals if v is not None]
                if not vals:
                    continue
                metrics[label] = {
                    "median": statistics.median(vals),
                    "min": min(vals),
                    "max": max(vals),
                    "n": len(vals),
                    "unit": unit,
                    "better": better,
                }
            out[case][server] = metrics
    return out


def case_title(case, meta):
    return meta.get("cases", {}).get(case, {}).get("title", case)


def table(summary, cases, servers, meta, markdown):
    """One table per case: metric, each server's median (min–max), ratio to the reference."""
    ref = meta.get("reference", "node")
    others = [s for s in servers if s != ref]
    lines = []
    for case in cases:
        per = summary.get(case, {})
        if not per:
            continue
        lines.append("")
        lines.append(f"#### {case_title(case, meta)}" if markdown else f"== {case_title(case, meta)}")
        head = ["metric"] + [f"{s}" for s in servers] + [f"{s} / {ref}" for s in others if ref in per]
        if markdown:
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
        else:
            lines.append("  ".join(f"{h:>28}" for h in head))
        labels = []
        for s in servers:
            for label in per.get(s, {}):
                if label not in labels:
                    labels.append(label)
        for label in labels:
            row = [label]
            for s in servers:
                m = per.get(s, {}).get(label)
                if m is None:
                    row.append("–")
                    continue
                unit = m["unit"]
                cell = fmt_metric(m["median"], unit)
                if m["n"] > 1 and m["min"] != m["max"]:
                    cell += f" ({fmt_metric(m['min'], unit)} – {fmt_metric(m['max'], unit)})"
                row.append(cell)
            if ref in per:
                for s in others:
                    a = per.get(s, {}).get(label)
                    b = per[ref].get(label)
                    if a and b and b["median"] and label not in CONTEXT:
                        row.append(f"{a['median'] / b['median']:.2f}×")
                    else:
                        row.append("–")
            if markdown:
                lines.append("| " + " | ".join(row) + " |")
            else:
                lines.append("  ".join(f"{c:>28}" for c in row))
    return "\n".join(lines)


PLOTTED = {  # per kind: the metrics of the plot, in order
    "connect": ["connections/s", "server RSS per connection", "server CPU per connection"],
    "echo": ["acks/s", "p50", "p99", "server CPU per ack"],
    "fanout": ["p50", "p99", "server CPU per delivery"],
}


def plot(summary, cases, servers, meta, path):
    """How many times better than the reference each other server is, per case and
    metric (log scale, > 1: better than the reference), with min-max whiskers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    ref = meta.get("reference", "node")
    others = [s for s in servers if s != ref]
    rows = []  # (label, {server: (factor, lo, hi)}, note)
    for case in cases:
        per = summary.get(case, {})
        if ref not in per:
            continue
        for label in PLOTTED[kind(meta["cases"][case]["scenario"])]:
            b = per[ref].get(label)
            if not b or not b["median"]:
                continue
            bars = {}
            for s in others:
                a = per.get(s, {}).get(label)
                if not a or not a["median"]:
                    continue
                if b["better"] == "higher":
                    f, lo, hi = a["median"] / b["median"], a["min"] / b["max"], a["max"] / b["min"]
                else:
                    f, lo, hi = b["median"] / a["median"], b["min"] / a["max"], b["max"] / a["min"]
                bars[s] = (f, lo, hi, fmt_metric(a["median"], a["unit"]))
            short = meta["cases"][case].get("short", case).replace("\n", " ")
            rows.append((f"{short}: {label}", bars, fmt_metric(b["median"], b["unit"])))
    if not rows:
        return
    colors = {"sio-actor-1t": "#1f5fa8", "sio-actor-default": "#8fb3de", "floor": "#b0b0b0"}
    fig, ax = plt.subplots(figsize=(12, 0.4 * len(rows) * max(1, len(others)) ** 0.5 + 1.8))
    height = 0.8 / max(1, len(others))
    for i, s in enumerate(others):
        ys, fs, los, his = [], [], [], []
        for k, (_, bars, _) in enumerate(rows):
            if s not in bars:
                continue
            f, lo, hi, text = bars[s]
            y = k + (i - (len(others) - 1) / 2) * height
            ys.append(y)
            fs.append(f)
            los.append(max(0.0, f - lo))
            his.append(max(0.0, hi - f))
            ax.text(max(1.0, hi) * 1.04, y, text, va="center", fontsize=7, color="#333")
        ax.barh(ys, [f - 1 for f in fs], height, left=1, color=colors.get(s), label=s,
                xerr=[los, his], capsize=2, error_kw={"elinewidth": 0.8})
    ax.axvline(1, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{label}  (node: {note})" for label, _, note in rows], fontsize=8)
    ax.invert_yaxis()
    lo = min([min(b[1] for b in bars.values()) for _, bars, _ in rows if bars] + [0.5])
    hi = max([max(b[2] for b in bars.values()) for _, bars, _ in rows if bars] + [2])
    ax.set_xlim(lo / 1.5, hi * 3)
    ax.set_xticks([t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo / 1.5 <= t <= hi * 3])
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel(f"times better than {ref} (right of 1×: better; left: worse): ratio of the medians\n"
                  "whiskers: best and worst pairing of single runs", fontsize=9)
    ax.grid(axis="x", alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    m = meta.get("machine", {})
    ax.set_title(f"sio-actor vs Node socket.io {meta.get('versions', {}).get('socket.io', '')}: "
                 f"{meta.get('reps', '?')} runs each, server on core 0, generator on core 1\n"
                 f"{m.get('cpu', '')}, {m.get('cores', '?')} vCPUs, {meta.get('date', '')}; labels: sio-actor's median",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", help="the runs, one JSON object per line")
    ap.add_argument("--meta", help="machine, versions and cases (written by scripts/bench)")
    ap.add_argument("--from", dest="source", help="instead of --raw and --meta: an earlier results file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()

    if a.source:
        meta = json.load(open(a.source))
        runs = meta.pop("runs")
        for k in ("summary", "problems", "disturbed_runs", "floor_generator_bound"):
            meta.pop(k, None)
    elif a.raw and a.meta:
        meta = json.load(open(a.meta))
        runs = [json.loads(line) for line in open(a.raw) if line.strip()]
    else:
        ap.error("give --raw and --meta, or --from")
    cases = [c for c in meta["case_order"] if any(r["case"] == c for r in runs)]
    servers = [s for s in meta["servers"] if any(r["server"] == s for r in runs)]
    summary = summarise(runs, cases, servers)

    problems = []
    # The floor server answers faster than one generator core can ask: its
    # throughput is then the generator's, but its CPU per operation (what it is
    # there for) is still measured. A note, not a failure.
    capped = [f"{r['case']} / rep {r['rep']}: {r.get('generator_cpu_fraction')}"
              for r in runs if r["server"] == "floor" and r.get("generator_saturated")]
    for r in runs:
        where = f"{r['case']} / {r['server']} / rep {r['rep']}"
        if r.get("generator_saturated") and r["server"] != "floor":
            problems.append(f"{where}: the load generator saturated its core "
                            f"({r.get('generator_cpu_fraction')} of a core): lower the load")
        if r.get("connected", 0) < r.get("clients", 0):
            problems.append(f"{where}: only {r.get('connected')}/{r.get('clients')} clients connected")
        if r.get("lost") or r.get("duplicates"):
            problems.append(f"{where}: {r.get('lost')} lost, {r.get('duplicates')} duplicates")
        if r.get("exit_status", 0) != 0:
            problems.append(f"{where}: sio-bench exited with {r.get('exit_status')}")
    noisy = [f"{r['case']} / {r['server']} / rep {r['rep']}: {r['other_cpu_fraction']}"
             for r in runs if r.get("other_cpu_fraction", 0) > 0.15]

    result = dict(meta)
    result["summary"] = summary
    result["problems"] = problems
    result["disturbed_runs"] = noisy
    result["floor_generator_bound"] = capped
    result["runs"] = runs
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
        f.write("\n")

    print(table(summary, cases, servers, meta, a.markdown))
    if a.plot:
        plot(summary, cases, servers, meta, a.plot)
        print(f"\nplot: {a.plot}")
    print(f"results: {a.out}")
    if noisy:
        print(f"\nwarning: other processes used > 0.15 core during {len(noisy)} run(s) "
              "(other_cpu_fraction): those figures are disturbed", file=sys.stderr)
        for n in noisy[:10]:
            print("  " + n, file=sys.stderr)
    if capped:
        print(f"\nnote: the generator was the bottleneck in {len(capped)} floor run(s): there the "
              "floor's throughput is the generator's, its CPU per operation still counts", file=sys.stderr)
    if problems:
        print("\nFAILED:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
