"""The two entry points, bench/run and bench/soak: their command lines, the
build, and the order of things."""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

from . import report
from .scenarios import Scenarios, Settings
from .servers import setup_and_build
from .soak import run_soak
from .workspace import BUILD, Workspace, log

RUN_USAGE = """\
Measures srmi against the performance targets and prints one table
(scenario, measured figure, target, ratio, MET / NOT MET).

Scenarios (all but soak when none is named):
  rates    sr_get_status at 32 and 1 connections, against nginx returning
           the same JSON (wrk, keep-alive POST /mi), in turns; then the
           p99 at 32 connections with one core each for server and wrk
  listing  sr_list_status of 10 000 groups x 10 identifiers; sr_get_status
           at 32 connections beside 10 such listings/s and 10 000 sets/s
           (and, not judged, beside listings back to back)
  writes   sr_set_status / sr_add_report in batches of 100 over 4
           connections with a UDP subscriber; the same with --state-dir
  fanout   one status change to 1 000 UDP subscribers; the RPC path's cost
           (sr_get_status with and without them, in turns)
  memory   resident memory per identifier (and per report text)
  startup  spawn to core RUNNING (small and 10 000 x 10 configs);
           SIGTERM under load to exit
  cluster  three srmi sharing one registry in a real PostgreSQL server:
           writes through all three, convergence (write on one, event from
           another), sr_get_status on one while the others take writes
  brokers  a real RabbitMQ server: sr_set_status latency with one RabbitMQ
           subscriber against none; a flood of 100 000 status changes and the
           broker's confirmations per second until all are confirmed
  micro    the Google Benchmark micro-benchmarks (bench/micro)
  soak     bench/soak's mixed load (SOAK_MINUTES, default 10; --quick: 1)

Environment: BENCH_SECONDS (each wrk run, default 10; --quick: 2),
BENCH_THREADS (srmi I/O threads = nginx workers, default nproc),
BENCH_WRK_THREADS (default BENCH_THREADS), BENCH_KEEP=1 keeps the temporary
directory with logs and raw figures; for soak SOAK_MINUTES, SOAK_SLICE
(seconds, default 30; --quick: 10), SOAK_CONNECTIONS (default 2).
Raw results: build-bench/results-<timestamp>.json (and .md).
"""

SOAK_USAGE = """\
Mixed reads, writes, listings, identifier churn and events (a UDP subscriber
of status changes and reports) against one srmi for SOAK_MINUTES (default
10), in slices of SOAK_SLICE seconds (default 30) of wrk (bench/wrk/mixed.lua,
SOAK_CONNECTIONS connections, default 2, one wrk thread each). After each
slice it prints the rate, errors (JSON-RPC errors from /metrics, socket
errors, non-2xx: must be 0) and srmi's resident memory; at the end, a verdict
on errors and on the flatness of RSS. Exit status 0 only when both hold.
"""


def _exit_on_signal(signum, _frame):
    raise SystemExit(130 if signum == signal.SIGINT else 143)


def _guarded(main):
    """main(args) with SIGINT and SIGTERM ending the run through its
    cleanup (children ended, workspace kept since the run failed)."""
    signal.signal(signal.SIGINT, _exit_on_signal)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        return main()
    except (RuntimeError, ValueError, OSError, subprocess.SubprocessError) as error:
        print(f"{os.path.basename(sys.argv[0])}: {error}", file=sys.stderr)
        return 1


def run_main(argv):
    parser = argparse.ArgumentParser(prog="bench/run", description=RUN_USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs (2 s per wrk run): a smoke test")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    args = parser.parse_args(argv)
    for name in args.scenarios:
        if name not in Scenarios.KNOWN:
            parser.error(f"unknown scenario {name} (try --help)")
    names = args.scenarios or list(Scenarios.ALL)

    def main():
        with Workspace() as ws:
            settings = Settings.from_environment(args.quick, ws.threads)
            setup_and_build(ws)
            scenarios = Scenarios(ws, settings)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            machine = report.machine(BUILD)
            described = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "quick": settings.quick,
                         "wrk_seconds": settings.seconds, "srmi_threads": ws.threads, "nginx_workers": ws.threads,
                         "wrk_threads": settings.wrk_threads, "scenarios": names, "machine": machine}
            log(f"machine: {json.dumps(machine)}")
            for name in names:
                scenarios.run(name)
            with open("/proc/loadavg") as f:
                load = " ".join(f.read().split()[:3])
            print(f"\nsrmi bench ({'quick, ' if settings.quick else ''}{settings.seconds}s per wrk run, "
                  f"{ws.threads} srmi threads, load average {load})")
            report.report(ws.raw_dir, os.path.join(BUILD, f"results-{stamp}.json"), described)
        return 0

    return _guarded(main)


def soak_main(argv):
    parser = argparse.ArgumentParser(prog="bench/soak", description=SOAK_USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-build", action="store_true", help="use build-bench/srmi as it is")
    parser.add_argument("--raw", metavar="FILE", help="also write the summary as JSON to FILE")
    args = parser.parse_args(argv)

    def main():
        with Workspace() as ws:
            settings = Settings.from_environment(False, ws.threads)
            if not args.no_build:
                setup_and_build(ws)
            scenarios = Scenarios(ws, settings)
            summary = run_soak(ws, scenarios.small, settings.soak_minutes, settings.soak_slice,
                               settings.soak_connections)
            if args.raw:
                with open(args.raw, "w") as f:
                    json.dump(summary, f, indent=2)
            if not summary["passed"]:
                raise SystemExit(1)  # and the logs are kept
        return 0

    return _guarded(main)
