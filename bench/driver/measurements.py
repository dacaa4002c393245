"""The figures measured by one Python client rather than wrk: listing
latency, fan-out delivery, sr_set_status latency with and without
subscribers, memory per identifier, start-up and shutdown times."""
import json
import os
import signal
import socket
import statistics
import subprocess
import time

from .client import Client, metrics, percentile, rpc, rss_bytes
from .loads import UdpSubscribers
from .servers import LISTENING
from .wrk import parse


def listing_latency(url, count):
    """Latency of sr_list_status over everything, one keep-alive connection."""
    client, times, size = Client(url), [], 0
    body = json.dumps(rpc("sr_list_status", None))
    client.post_raw(body)  # warm-up
    for _ in range(count):
        start = time.perf_counter()
        status, data = client.post_raw(body)
        times.append((time.perf_counter() - start) * 1e3)
        size = len(data)
        if status != 200 or b'"result"' not in data[:40]:
            raise RuntimeError(f"sr_list_status failed: {status} {data[:200]!r}")
    answer = json.loads(data)
    identifiers = sum(len(g["Identifiers"]) for g in answer["result"])
    return {"count": len(times), "answer_bytes": size, "groups": len(answer["result"]),
            "identifiers": identifiers, "ms": {"min": min(times), "p50": statistics.median(times),
                                                "p90": percentile(times, 90), "max": max(times)}}


def fanout_delivery(url, subscribers, rounds):
    """N UDP sockets subscribed to E_CORE_SR_STATUS_CHANGED; per round one
    sr_set_status (a change) and the time until every socket has it."""
    client = Client(url)
    with UdpSubscribers(client, subscribers) as subs:
        results = []
        for r in range(rounds):
            pending = set(range(subscribers))
            t0 = time.perf_counter()
            answer = client.call("sr_set_status", {"group": "bench", "identifier": "fan", "status": 2 + r % 2})
            t_answer = time.perf_counter()
            if answer.get("result") != "OK":
                raise RuntimeError(f"sr_set_status: {answer}")
            first, deadline = None, t0 + 5.0
            while pending and time.perf_counter() < deadline:
                got = subs.drain(0.1)
                if got and first is None:
                    first = time.perf_counter()
                pending -= got
            t_last = time.perf_counter()
            results.append({"received": subscribers - len(pending), "rpc_ms": (t_answer - t0) * 1e3,
                            "first_ms": ((first or t_last) - t0) * 1e3,
                            "all_ms": (t_last - t0) * 1e3 if not pending else None})
            time.sleep(0.05)
            subs.drain(0)
        complete = [x["all_ms"] for x in results if x["all_ms"] is not None]
        return {"subscribers": subscribers, "rounds": results, "subscribe_ms": subs.subscribe_ms,
                "all_ms_p50": statistics.median(complete) if complete else None,
                "all_ms_max": max(complete) if complete else None,
                "incomplete_rounds": len(results) - len(complete)}


def set_latency(url, count, block, make_subscribers):
    """Round trip of sequential sr_set_status calls (each a change) on one
    connection: `count` calls with no subscriber and `count` with the
    subscribers make_subscribers(client) gives (an object with subscribe(),
    unsubscribe() and a `count`, used as a context manager), the raiser's
    side of event delivery. The two states alternate in blocks of `block`
    calls (none-subs, subs-none, ...) within the one run, so that the
    machine's drift over the run weighs on both alike; two runs one after
    the other differed by up to 10 % on the same binary. UDP subscribers'
    sockets are not read (the kernel drops what overflows them), so that this
    process takes no CPU from srmi; a pause after each call lets the fan-out
    end before the next."""
    client = Client(url)
    times = {"none": [], "subs": []}
    with make_subscribers(client) as subs:
        k, round_ = 0, 0
        while len(times["none"]) < count or len(times["subs"]) < count:
            for state in (("none", "subs") if round_ % 2 == 0 else ("subs", "none")):
                calls = min(block, count - len(times[state]))
                if calls <= 0:
                    continue
                if state == "subs":
                    subs.subscribe()
                time.sleep(0.05)
                for _ in range(calls):
                    body = json.dumps(rpc("sr_set_status", {"group": "bench", "identifier": "fan",
                                                            "status": 4 + k % 2}))
                    k += 1
                    start = time.perf_counter()
                    _, data = client.post_raw(body)
                    times[state].append((time.perf_counter() - start) * 1e6)
                    if b'"OK"' not in data:
                        raise RuntimeError(f"sr_set_status: {data[:200]!r}")
                    time.sleep(0.025)
                if state == "subs":
                    subs.unsubscribe()
            round_ += 1

    def summary(values):
        return {"p50": statistics.median(values), "p90": percentile(values, 90), "p99": percentile(values, 99)}

    return {"count": count, "subscribers": subs.count, "block": block,
            "none": summary(times["none"]), "subs": summary(times["subs"])}


def memory(url, pid, count, reports, text_bytes):
    """RSS before and after adding `count` identifiers to group `mem`, then
    `reports` reports of `text_bytes` bytes to each. A warm-up of 1 000
    identifiers first, so that allocator arenas and buffers exist already."""
    client = Client(url)

    def add_identifiers(prefix, n):
        for i in range(0, n, 500):
            answers = client.batch([rpc("sr_add_identifier", {"group": "mem", "identifier": f"{prefix}{k:07d}",
                                                              "max_reports": max(reports, 1)}, k + 1)
                                    for k in range(i, min(n, i + 500))])
            bad = [a for a in answers if "error" in a]
            if bad:
                raise RuntimeError(f"sr_add_identifier: {bad[:3]}")

    def add_reports(prefix, n):
        text = "r" * text_bytes
        for i in range(0, n, 100):
            batch = []
            for k in range(i, min(n, i + 100)):
                for _ in range(reports):
                    batch.append(rpc("sr_add_report", {"group": "mem", "identifier": f"{prefix}{k:07d}",
                                                       "report": text}, len(batch) + 1))
            bad = [a for a in client.batch(batch) if "error" in a]
            if bad:
                raise RuntimeError(f"sr_add_report: {bad[:3]}")

    def settle():
        time.sleep(0.3)
        return rss_bytes(pid)

    add_identifiers("warm", 1000)
    add_reports("warm", 1000)
    before = settle()
    add_identifiers("id", count)
    after_ids = settle()
    add_reports("id", count)
    after_reports = settle()
    per_identifier = (after_ids - before) / count
    per_identifier_with_reports = (after_reports - before) / count
    return {"identifiers": count, "reports_each": reports, "text_bytes": text_bytes,
            "rss_before": before, "rss_after_identifiers": after_ids, "rss_after_reports": after_reports,
            "bytes_per_identifier": per_identifier,
            "bytes_per_identifier_with_reports": per_identifier_with_reports,
            "report_text_per_identifier": reports * text_bytes,
            "overhead_per_identifier": per_identifier_with_reports - reports * text_bytes}


def _flip(client, group, identifier, first, count, details):
    """`count` sr_set_status of one identifier in batches of 1 000, each a
    change (1 and -1 in turns), with details when `details` is given."""
    for i in range(first, first + count, 1000):
        batch = []
        for k in range(i, min(first + count, i + 1000)):
            params = {"group": group, "identifier": identifier, "status": 1 if k % 2 else -1}
            if details:
                params["details"] = details.format(k)
            batch.append(rpc("sr_set_status", params, len(batch) + 1))
        bad = [a for a in client.batch(batch) if a.get("result") != "OK"]
        if bad:
            raise RuntimeError(f"sr_set_status: {bad[:3]}")


def history_query(url, changes, count):
    """Latency of sr_status_history answering `changes` changes of one
    identifier (bench/main flipped that often first), one keep-alive connection."""
    client = Client(url)
    _flip(client, "bench", "main", 0, changes, "step {:07d}")
    body = json.dumps(rpc("sr_status_history", {"group": "bench", "identifier": "main", "limit": changes}))
    times = []
    for n in range(count + 1):
        start = time.perf_counter()
        status, data = client.post_raw(body)
        elapsed = (time.perf_counter() - start) * 1e3
        if status != 200 or b'"result"' not in data[:40]:
            raise RuntimeError(f"sr_status_history failed: {status} {data[:200]!r}")
        if n > 0:  # the first is a warm-up
            times.append(elapsed)
    entries = len(json.loads(data)["result"])
    if entries != changes:
        raise RuntimeError(f"sr_status_history answered {entries} changes, not {changes}")
    return {"count": count, "changes": entries, "answer_bytes": len(data),
            "ms": {"p50": statistics.median(times), "p99": percentile(times, 99), "max": max(times)}}


def history_memory(url, pid, changes):
    """RSS before and after `changes` status changes of mem/main, each with
    19 bytes of details (beyond std::string's in-place 15: the common case
    of a sentence). A warm-up of 10 000 changes first."""
    client = Client(url)
    details = "overloaded {:07d}."

    def settle():
        time.sleep(0.3)
        return rss_bytes(pid)

    _flip(client, "mem", "main", 0, 10000, details)
    before = settle()
    _flip(client, "mem", "main", 10000, changes, details)
    after = settle()
    kept = len(client.call("sr_status_history", {"group": "mem", "identifier": "main"})["result"])
    return {"changes": changes, "kept": kept, "details_bytes": len(details.format(0)),
            "rss_before": before, "rss_after": after, "bytes_per_change": (after - before) / changes}


def _start_and_read_port(binary, args):
    """srmi on 127.0.0.1:0, and the port of its 'listening on' line."""
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while True:
        line = proc.stderr.readline()
        if not line:
            proc.stderr.close()
            raise RuntimeError(f"srmi exited ({proc.wait()}) before listening")
        match = LISTENING.search(line)
        if match:
            return proc, int(match.group(1))


def startup(binary, runs, args):
    """Spawn to core RUNNING: the 'listening on' log line (printed once core
    is RUNNING) and the first sr_get_status core that answers 1. Median of runs."""
    log_ms, ready_ms = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc, port = _start_and_read_port(binary, args)
        try:
            log_ms.append((time.perf_counter() - start) * 1e3)
            client = Client(f"http://127.0.0.1:{port}/mi")
            while client.call("sr_get_status", {"group": "core"}).get("result", {}).get("Status") != 1:
                pass
            ready_ms.append((time.perf_counter() - start) * 1e3)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stderr.close()
    return {"runs": runs, "log_ms": {"p50": statistics.median(log_ms), "max": max(log_ms)},
            "ready_ms": {"p50": statistics.median(ready_ms), "max": max(ready_ms)}}


def shutdown(binary, threads, load_seconds, wrk_args, body):
    """Starts srmi, puts wrk on it (wrk_args, then the URL; BODY for
    post.lua), sends SIGTERM after `load_seconds`, and times the exit."""
    proc, port = _start_and_read_port(binary, ["--threads", str(threads)])
    wrk = None
    try:
        wrk = subprocess.Popen(["wrk", *wrk_args, f"http://127.0.0.1:{port}/mi"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env={**os.environ, "BENCH_BODY": body})
        time.sleep(load_seconds)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        exit_ms = (time.perf_counter() - t0) * 1e3
        tail = proc.stderr.read()
        # Read while waiting: wrk's last line (with its histogram) can be
        # larger than the pipe's buffer.
        out = parse(wrk.communicate(timeout=60)[0])
        return {"exit_ms": exit_ms, "exit_code": code, "wrk_requests": out["requests"],
                "wrk_socket_errors": out["socket_errors"], "warned_in_flight": "still in flight" in tail}
    finally:
        for p in (wrk, proc):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        proc.stderr.close()


def convergence(writer_url, reader_url, count):
    """sr_set_status on one instance of a cluster, and the time until the
    event of that change arrives from another instance (a UDP subscriber of
    E_CORE_SR_STATUS_CHANGED there), one change at a time."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    reader, writer = Client(reader_url), Client(writer_url)
    answer = reader.call("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", f"udp:127.0.0.1:{port}", 600])
    if answer.get("result") != "OK":
        raise RuntimeError(f"event_subscribe: {answer}")
    times, missed = [], 0
    try:
        for i in range(count):
            status = 2 + i % 2
            start = time.perf_counter()
            answer = writer.call("sr_set_status", {"group": "bench", "identifier": "fan", "status": status})
            if answer.get("result") != "OK":
                raise RuntimeError(f"sr_set_status: {answer}")
            deadline = start + 2.0
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    missed += 1
                    break
                sock.settimeout(left)
                try:
                    params = json.loads(sock.recv(65536)).get("params", {})
                except socket.timeout:
                    continue
                if params.get("identifier") == "fan" and params.get("status") == status:
                    times.append((time.perf_counter() - start) * 1e3)
                    break
    finally:
        reader.call("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", f"udp:127.0.0.1:{port}", 0])
        sock.close()
    return {"count": count, "missed": missed,
            "ms": {"p50": statistics.median(times) if times else None,
                   "p99": percentile(times, 99) if times else None, "max": max(times) if times else None}}


def wait_ready(url, timeout=60):
    """Waits until the srmi of `url` (its /mi) answers /readyz with 200."""
    client = Client(url)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status, _ = client.get("/readyz")
        if status == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{url}: not ready within {timeout} s")


def caught_up(urls, timeout=120):
    """Seconds until every instance of a cluster has applied the same last
    change of the shared log (srmi_state_log_applied), polled every 50 ms."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        applied = {metrics(url).get("log_applied") for url in urls}
        if len(applied) == 1 and None not in applied:
            return time.monotonic() - start
        time.sleep(0.05)
    raise RuntimeError(f"the cluster did not catch up within {timeout} s")


def broker_flood(url, socket_string, changes, limit_s=120):
    """A flood of status changes into one broker subscriber: `changes`
    sr_set_status posted as fast as one client can (batches of 1 000), then
    the time until the broker has confirmed every one. srmi's queue holds
    them all (event_queue_limit above `changes`), so the figure is the
    publisher's and the broker's pace, and nothing may be dropped."""
    client = Client(url)

    def subscriber():
        reply = client.call("subscribers_list", {"event": "E_CORE_SR_STATUS_CHANGED", "socket": socket_string})
        return reply["result"]["Event"]["Subscribers"][0]

    answer = client.call("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", socket_string, 600])
    if answer.get("result") != "OK":
        raise RuntimeError(f"event_subscribe {socket_string}: {answer}")
    try:
        before = subscriber()
        started = time.perf_counter()
        for first in range(0, changes, 1000):
            answers = client.batch([rpc("sr_set_status", {"group": "bench", "identifier": "main",
                                                          "status": 2 + k}, k + 1)
                                    for k in range(first, min(changes, first + 1000))])
            bad = [a for a in answers if a.get("result") != "OK"]
            if bad:
                raise RuntimeError(f"sr_set_status: {bad[:3]}")
        posted = time.perf_counter() - started
        deadline = started + limit_s
        after = subscriber()
        while after["confirmed"] - before["confirmed"] < changes and time.perf_counter() < deadline:
            time.sleep(0.005)
            after = subscriber()
        elapsed = time.perf_counter() - started
    finally:
        client.call("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", socket_string, 0])
    confirmed = after["confirmed"] - before["confirmed"]
    return {"changes": changes, "posted_s": posted, "seconds": elapsed, "confirmed": confirmed,
            "confirmed_per_s": confirmed / elapsed, "dropped": after["dropped"] - before["dropped"]}
