"""wrk runs: one bounded run of bench/wrk/post.lua, two servers measured in
turns, and the joining of a run made in parts."""
import json
import os
import re
import subprocess

from .client import metrics, metrics_delta
from .servers import pinned
from .workspace import LUA_DIR, log


def parse(text):
    """The figures of wrk's output (report.lua's BENCH_JSON line), with the
    rate and the count of socket errors."""
    match = re.search(r"^BENCH_JSON (\{.*\})$", text, re.M)
    if not match:
        raise ValueError("no BENCH_JSON line in wrk's output:\n" + text)
    out = json.loads(match.group(1))
    seconds = out["duration_us"] / 1e6
    out["rps"] = out["requests"] / seconds if seconds > 0 else 0.0
    out["socket_errors"] = sum(v for k, v in out["errors"].items() if k != "status")
    return out


def run(ws, key, url, conns, threads, body, seconds, srmi=False, cpu=None, script="post.lua", env=None,
        quiet=False):
    """One bounded wrk run of SCRIPT (post.lua with BODY, a file); its output
    is kept in RUN/wrk-KEY.txt. With srmi, the run's JSON-RPC errors and event
    deliveries (from /metrics before and after) are added."""
    before = metrics(url) if srmi else None
    if not quiet:
        log(f"wrk {key}: {conns} connection(s), {threads} thread(s), {seconds}s, {os.path.basename(body or script)}")
    output = ws.path(f"wrk-{key}.txt")
    with open(output, "w") as f:
        subprocess.run(pinned(cpu, ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s",
                                    "-s", os.path.join(LUA_DIR, script), url]),
                       stdout=f, stderr=subprocess.STDOUT, check=True,
                       env={**os.environ, **({"BENCH_BODY": body} if body else {}), **(env or {})})
    with open(output) as f:
        out = parse(f.read())
    if before is not None:
        out.update(metrics_delta(before, metrics(url)))
    return out


def run_turns(ws, a, b, conns, threads, body, seconds, rounds, beside_b=None, cpu=None):
    """A and B ((key, url, is_srmi) each) for SECONDS in all, in ROUNDS
    alternating parts (A B A B ...), so that the machine's drift over the time
    weighs on both alike; each side's parts are joined into one run, saved
    under its key. beside_b, when given, has start(round, part_seconds) and
    stop(round), called around each part of B: a load that runs beside B only."""
    part = -(-seconds // rounds)
    parts = {a[0]: [], b[0]: []}
    for r in range(1, rounds + 1):
        parts[a[0]].append(run(ws, f"{a[0]}.part{r}", a[1], conns, threads, body, part, srmi=a[2], cpu=cpu))
        if beside_b:
            beside_b.start(r, part)
        parts[b[0]].append(run(ws, f"{b[0]}.part{r}", b[1], conns, threads, body, part, srmi=b[2], cpu=cpu))
        if beside_b:
            beside_b.stop(r)
    for key, results in parts.items():
        ws.save(key, join_runs(results))


def join_runs(parts):
    """One run of several of the same server, made in turns with another's:
    requests and errors add up, the rate is over the summed time, and the
    latencies are those of all the parts' requests together (their histograms
    merged; without histograms, each percentile is the worst of the parts)."""
    out = {"parts_rps": [round(p["rps"]) for p in parts]}
    for key in ("requests", "duration_us", "socket_errors", "rpc_errors", "deliveries", "drops"):
        if all(key in p for p in parts):
            out[key] = sum(p[key] for p in parts)
    for key in ("errors", "errors_by"):
        if any(key in p for p in parts):
            merged = {}
            for p in parts:
                for k, v in p.get(key, {}).items():
                    merged[k] = merged.get(k, 0) + v
            out[key] = merged
    if all(p.get("latency_hist") for p in parts):
        merged = {}
        for p in parts:
            for value, count in p["latency_hist"]:
                merged[value] = merged.get(value, 0) + count
        out["latency_us"] = histogram_latency(list(merged.items()))
        out["latency_parts_p99"] = [p["latency_us"]["p99"] for p in parts]
    else:
        out["latency_us"] = {k: max(p["latency_us"][k] for p in parts) for k in parts[0]["latency_us"]}
    seconds = out["duration_us"] / 1e6
    out["rps"] = out["requests"] / seconds if seconds > 0 else 0.0
    return out


def histogram_latency(hist):
    """Mean, stdev and percentiles of a latency histogram ([[us, count], ...]),
    each percentile computed as wrk computes its own."""
    hist = sorted(hist)
    total = sum(count for _, count in hist)

    def percentile(p):
        rank, seen = round(p / 100 * total + 0.5), 0
        for value, count in hist:
            seen += count
            if seen >= rank:
                return value
        return hist[-1][0]

    mean = sum(value * count for value, count in hist) / total
    variance = sum(count * (value - mean) ** 2 for value, count in hist) / max(total - 1, 1)
    return {"mean": round(mean, 1), "stdev": round(variance ** 0.5, 1), "p50": percentile(50),
            "p90": percentile(90), "p99": percentile(99), "p999": percentile(99.9), "max": hist[-1][0]}
