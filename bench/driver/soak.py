"""The soak: mixed reads, writes, listings, identifier churn and events (a UDP
subscriber of status changes and reports) against one srmi, in slices of wrk
(bench/wrk/mixed.lua, one thread per connection); after each slice a progress
line (rate, errors, RSS), at the end a verdict on errors and on the flatness
of RSS."""
import statistics
import time

from . import wrk
from .client import Client, rss_bytes
from .loads import UdpSink, subscribe
from .servers import Srmi
from .workspace import log

EVENTS = ("E_CORE_SR_STATUS_CHANGED", "E_SRMI_REPORT_ADDED")


def run_soak(ws, config, minutes, slice_seconds, connections):
    """The soak for `minutes` in slices of `slice_seconds`; returns its
    summary (passed: no errors and RSS flat)."""
    total = int(minutes * 60)
    srmi = Srmi(ws, "soak", "--config", config)
    sink = UdpSink(ws, "soak-sink", total + 120)
    subscribe(srmi.url, sink.port, EVENTS)
    log(f"soak: {minutes:g} min, slices of {slice_seconds}s, {connections} connection(s); "
        f"RSS at start {rss_bytes(srmi.pid) // 1024} KiB")
    elapsed, slices, number, leftovers = 0, [], 0, 0
    while elapsed < total:
        seconds = min(slice_seconds, total - elapsed)
        # Each slice's temporary identifiers are its own (mixed.lua): a slice
        # can end between the add and the remove of one, and the next slice's
        # add must not find it there.
        run = wrk.run(ws, "soak", srmi.url, connections, connections, None, seconds, srmi=True,
                      script="mixed.lua", env={"BENCH_SOAK_SLICE": str(number)}, quiet=True)
        elapsed += seconds
        run.pop("latency_hist", None)
        run.update({"elapsed_s": float(elapsed), "rss": rss_bytes(srmi.pid),
                    "slice_errors": run["socket_errors"] + run["errors"]["status"] + int(run["rpc_errors"])})
        print(progress_line(run), flush=True)
        slices.append(run)
        leftovers += remove_leftovers(srmi.url, number, connections)
        number += 1
    time.sleep(0.5)
    received = sink.stop()["datagrams"]
    srmi.stop()
    return soak_summary(minutes, slices, received, leftovers)


def remove_leftovers(url, number, connections):
    """Removes what slice `number` left of its temporary identifiers (when it
    ended between an add and its remove), between slices: outside the figures
    of either. Not found is the usual answer; anything else is a failure.
    Returns how many there were."""
    client, removed = Client(url), 0
    for t in range(connections):
        answer = client.call("sr_remove_identifier", {"group": "soak", "identifier": f"tmp{number}_{t}"})
        if "result" in answer:
            removed += 1
        elif answer.get("error", {}).get("code") != 404:
            raise RuntimeError(f"sr_remove_identifier tmp{number}_{t}: {answer}")
    return removed


def progress_line(run):
    minutes, seconds = divmod(int(run["elapsed_s"]), 60)
    extra = f"  by {run['errors_by']}" if run.get("errors_by") else ""
    return (f"  {minutes:3d}:{seconds:02d}  {run['rps']:8.0f} req/s  p99 {run['latency_us']['p99'] / 1000:6.2f} ms"
            f"  errors {run['slice_errors']}  RSS {run['rss'] / 2**20:7.1f} MiB"
            f"  events sent {run.get('deliveries', 0):.0f} dropped {run.get('drops', 0):.0f}{extra}")


def soak_summary(minutes, slices, received, leftovers):
    """The soak's verdict: errors (must be 0) and whether RSS stayed flat.
    The first fifth of the samples (at least one) is warm-up; RSS is flat when
    the mean of the last third is within 5 % (or 2 MiB) of the mean of the
    first third of the rest, and the fitted slope is under 1 % per minute.
    `leftovers`: temporary identifiers that slices ended with (removed between
    slices; shown, not errors)."""
    errors = sum(x["slice_errors"] for x in slices)
    samples = [{"elapsed_s": x["elapsed_s"], "rss": x["rss"], "rps": x["rps"], "errors": x["slice_errors"]}
               for x in slices]
    rest = samples[max(1, len(samples) // 5):] if len(samples) > 2 else samples
    flat, slope, rss = False, None, "too few samples"
    if len(rest) >= 3:
        third = max(1, len(rest) // 3)
        early = statistics.mean(x["rss"] for x in rest[:third])
        late = statistics.mean(x["rss"] for x in rest[-third:])
        xs = [x["elapsed_s"] / 60 for x in rest]
        ys = [x["rss"] for x in rest]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        den = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0
        flat = (late - early <= max(0.05 * early, 2 * 2**20)) and slope <= max(0.01 * early, 200 * 1024)
        rss = f"{early / 2**20:.1f} -> {late / 2**20:.1f} MiB, {slope / 1024:+.0f} KiB/min"
    out = {"minutes": float(minutes), "errors": errors, "samples": samples, "flat": flat,
           "passed": errors == 0 and flat,
           "rss_slope_bytes_per_min": slope, "rss_summary": rss,
           "requests": sum(x.get("requests", 0) for x in slices),
           "events_sent": sum(x.get("deliveries", 0) for x in slices),
           "events_dropped": sum(x.get("drops", 0) for x in slices), "events_received": received,
           "temporary_identifiers_left_by_slice_ends": leftovers}
    print(f"soak: {out['requests']} requests, errors {errors} ({'OK' if errors == 0 else 'MUST BE 0'}); "
          f"events sent {out['events_sent']:.0f}, dropped {out['events_dropped']:.0f}, received {received}; "
          f"RSS {rss}: {'FLAT' if flat else 'NOT FLAT'}; temporary identifiers left by slice ends "
          f"(removed between slices) {leftovers}", flush=True)
    return out
