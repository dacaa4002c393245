"""What runs beside wrk, each in a process of its own (Workspace.spawn): the
listing side load, the fan-out load, the UDP datagram counter; the UDP
subscribers they use; and the joining of their per-part results."""
import json
import resource
import selectors
import signal
import socket
import statistics
import threading
import time

from .client import Client, metrics, rpc


class BesideParts:
    """A load started beside each part of B in wrk.run_turns (start/stop), in
    a process of its own per part: function(*args(part_seconds)). `settle`
    seconds after starting it, the part begins. results: one per part."""

    def __init__(self, ws, name, function, args, settle):
        self.ws, self.name, self.function, self.args, self.settle = ws, name, function, args, settle
        self.child, self.results = None, []

    def start(self, round_, seconds):
        self.child = self.ws.spawn(f"{self.name}.part{round_}", self.function, *self.args(seconds))
        time.sleep(self.settle)

    def stop(self, round_):
        self.results.append(self.ws.finish(self.child))


def paced_batches(client, bodies, batches_per_second, stop):
    """POSTs the batches `bodies` in turn, `batches_per_second` (paced), until
    the monotonic time `stop`. Returns the batches sent and the JSON-RPC
    errors in their answers."""
    begin, n, errors = time.monotonic(), 0, 0
    while True:
        due = begin + n / batches_per_second
        now = time.monotonic()
        if due >= stop:
            return n, errors
        if due > now:
            time.sleep(due - now)
        _, data = client.post_raw(bodies[n % 2])
        errors += sum(1 for a in json.loads(data) if "error" in a)
        n += 1


def side_load(url, seconds, set_rate, list_rate):
    """Beside a wrk run: sr_list_status (all) on one connection, `list_rate`
    per second (paced; 0: back to back), and `set_rate` sr_set_status per
    second (batches of 100, paced) on two others. Returns what was achieved."""
    stop = time.monotonic() + seconds
    lists, sets, errors = [], [0], [0]

    def listings():
        client, body = Client(url), json.dumps(rpc("sr_list_status", None))
        begin = time.monotonic()
        while time.monotonic() < stop:
            if list_rate > 0:
                due = begin + len(lists) / list_rate
                now = time.monotonic()
                if due >= stop:
                    break
                if due > now:
                    time.sleep(due - now)
            start = time.perf_counter()
            status, data = client.post_raw(body)
            lists.append((time.perf_counter() - start) * 1e3)
            if status != 200 or b'"result"' not in data[:40]:
                errors[0] += 1

    def writes(share, part):
        client = Client(url)
        per_batch = 100
        batches_per_second = max(1.0, set_rate * share / per_batch)
        bodies = []
        for phase in (0, 1):
            bodies.append(json.dumps([rpc("sr_set_status", {"group": f"g{(k * 97) % 10000}",
                                                            "identifier": f"i{k % 5 + 5 * part}",
                                                            "status": 1 + (k + phase) % 2}, k + 1)
                                      for k in range(per_batch)]))
        sent, failed = paced_batches(client, bodies, batches_per_second, stop)
        sets[0] += sent * per_batch
        errors[0] += failed

    # Two writer connections, so that one slow answer does not leave the rate short.
    threads = [threading.Thread(target=listings), threading.Thread(target=writes, args=(0.5, 0)),
               threading.Thread(target=writes, args=(0.5, 1))]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return side_summary(time.monotonic() - started, seconds, lists, list_rate, sets[0], errors[0])


def cluster_writes(urls, seconds, rate):
    """Beside a wrk run on another instance of a cluster: `rate`
    sr_set_status per second (batches of 100, paced), spread over `urls`
    (one connection each). Returns what was achieved."""
    stop = time.monotonic() + seconds
    sets, errors = [0], [0]

    def writes(url, share, part):
        client = Client(url)
        batches_per_second = max(1.0, rate * share / 100)
        bodies = [json.dumps([rpc("sr_set_status", {"group": "bench", "identifier": f"w{part}",
                                                    "status": 1 + (k + phase) % 2}, k + 1)
                              for k in range(100)]) for phase in (0, 1)]
        sent, failed = paced_batches(client, bodies, batches_per_second, stop)
        sets[0] += sent * 100
        errors[0] += failed

    threads = [threading.Thread(target=writes, args=(url, 1 / len(urls), i)) for i, url in enumerate(urls)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"seconds": time.monotonic() - started, "asked_seconds": seconds, "sets": sets[0],
            "set_rate": sets[0] / seconds, "errors": errors[0]}


def join_writes(parts):
    """One cluster_writes result of several parts."""
    asked = sum(p["asked_seconds"] for p in parts)
    sets = sum(p["sets"] for p in parts)
    return {"seconds": sum(p["seconds"] for p in parts), "asked_seconds": asked, "sets": sets,
            "set_rate": sets / asked if asked else 0, "errors": sum(p["errors"] for p in parts)}


def side_summary(elapsed, seconds, lists, list_rate, sets, errors):
    """side_load's result: `lists` are the listings' times (ms), `seconds`
    the time asked for."""
    return {"seconds": elapsed, "asked_seconds": seconds, "listings": len(lists),
            "list_rate": list_rate, "sets": sets, "set_rate": sets / seconds, "errors": errors,
            "list_ms": {"p50": statistics.median(lists) if lists else None,
                        "max": max(lists) if lists else None},
            "list_times_ms": lists}


def join_side(parts):
    """One side_load result of several parts (made beside the parts of a run
    in turns): counts and times add up; the listing percentiles are over all
    the parts' listings."""
    lists = [ms for p in parts for ms in p["list_times_ms"]]
    return side_summary(sum(p["seconds"] for p in parts), sum(p["asked_seconds"] for p in parts), lists,
                        parts[0]["list_rate"], sum(p["sets"] for p in parts), sum(p["errors"] for p in parts))


def fanout_load(url, subscribers, seconds, rate):
    """Beside a wrk run: N UDP subscribers, and `rate` status changes per
    second (each fanned out to all N) for `seconds`. The sockets are not read
    (see measurements.set_latency); srmi's /metrics counts the deliveries."""
    client = Client(url)
    with UdpSubscribers(client, subscribers):
        before = metrics(url)
        changes, begin = 0, time.monotonic()
        while True:
            due = begin + changes / rate
            if due >= begin + seconds:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            answer = client.call("sr_set_status", {"group": "bench", "identifier": "fan",
                                                   "status": 6 + changes % 2})
            if answer.get("result") != "OK":
                raise RuntimeError(f"sr_set_status: {answer}")
            changes += 1
        # The last changes may still be fanning out: read until the count settles.
        after = metrics(url)
        for _ in range(20):
            time.sleep(0.05)
            again = metrics(url)
            if again["deliveries"] == after["deliveries"]:
                break
            after = again
    return {"subscribers": subscribers, "changes": changes, "expected": changes * subscribers,
            "deliveries": after["deliveries"] - before["deliveries"], "drops": after["drops"] - before["drops"]}


def join_counts(parts):
    """One fanout_load result of several parts: the counts add up; the
    number of subscribers, the same in each, is kept."""
    out = {"subscribers": parts[0]["subscribers"]}
    for key in parts[0]:
        if key != "subscribers":
            out[key] = sum(p[key] for p in parts)
    return out


class UdpSink:
    """A UDP datagram counter on 127.0.0.1 (port: .port), in a process of its
    own for at most `seconds`; stop() returns {"datagrams", "bytes"}."""

    def __init__(self, ws, name, seconds):
        self.ws = ws
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.child = ws.spawn(name, _count_datagrams, sock, seconds)
        sock.close()  # the child has its own

    def stop(self):
        return self.ws.finish(self.child, stop=True)


def _count_datagrams(sock, seconds):
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    sock.settimeout(0.2)
    count, nbytes, deadline = 0, 0, time.monotonic() + seconds
    while not stopped and time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except (socket.timeout, InterruptedError):
            continue
        count += 1
        nbytes += len(data)
    return {"datagrams": count, "bytes": nbytes}


def subscribe(url, port, events, expire=None):
    """event_subscribe udp:127.0.0.1:PORT to each event (expire 0: unsubscribe)."""
    client = Client(url)
    for event in events:
        params = {"event": event, "socket": f"udp:127.0.0.1:{port}"}
        if expire is not None:
            params["expire"] = expire
        answer = client.call("event_subscribe", params)
        if answer.get("result") != "OK":
            raise RuntimeError(f"event_subscribe {event}: {answer}")


class UdpSubscribers:
    """`count` UDP sockets on 127.0.0.1, subscribed to `event` while in use
    (and unsubscribed after, so that a later measurement starts clean); with
    `subscribed` false, the sockets only, for subscribe() to use later."""

    def __init__(self, client, count, event="E_CORE_SR_STATUS_CHANGED", subscribed=True):
        self.client, self.count, self.event = client, count, event
        self.start_subscribed = subscribed
        self.socks, self.sel = [], selectors.DefaultSelector()
        self.subscribe_ms = None
        self.subscribed = False

    def _subscribe_all(self, expire):
        self.subscribed = expire > 0
        for i in range(0, len(self.socks), 250):
            answers = self.client.batch([
                rpc("event_subscribe", {"event": self.event, "socket": f"udp:127.0.0.1:{s.getsockname()[1]}",
                                        "expire": expire}, k + 1)
                for k, s in enumerate(self.socks[i:i + 250])])
            bad = [a for a in answers if a.get("result") != "OK"]
            if bad:
                raise RuntimeError(f"event_subscribe: {bad[:3]}")

    def __enter__(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < self.count + 64:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, self.count + 256), hard))
        for _ in range(self.count):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            self.socks.append(s)
            self.sel.register(s, selectors.EVENT_READ, len(self.socks) - 1)
        if self.start_subscribed:
            started = time.perf_counter()
            self.subscribe()
            self.subscribe_ms = (time.perf_counter() - started) * 1e3
        return self

    def subscribe(self):
        self._subscribe_all(600)

    def unsubscribe(self):
        self._subscribe_all(0)

    def __exit__(self, *exc):
        try:
            if self.subscribed:
                self._subscribe_all(0)
        except Exception:  # noqa: BLE001 - the server may be gone; nothing to undo then
            pass
        for s in self.socks:
            s.close()
        return False

    def drain(self, timeout):
        """Reads what arrived within `timeout`; returns the indexes that got some."""
        got = set()
        for key, _ in self.sel.select(timeout=timeout):
            try:
                while True:
                    key.fileobj.recv(65536)
                    got.add(key.data)
            except BlockingIOError:
                pass
        return got


class BrokerSubscriber:
    """One broker subscriber (a rabbitmq: or kafka: socket) of the change
    event, for measurements.set_latency: subscribed and unsubscribed on
    demand, unsubscribed at the end."""

    count = 1

    def __init__(self, client, socket_string, event="E_CORE_SR_STATUS_CHANGED"):
        self.client, self.socket, self.event = client, socket_string, event
        self.subscribed = False

    def _subscribe(self, expire):
        answer = self.client.call("event_subscribe", {"event": self.event, "socket": self.socket,
                                                      "expire": expire})
        if answer.get("result") != "OK":
            raise RuntimeError(f"event_subscribe {self.socket}: {answer}")
        self.subscribed = expire > 0

    def subscribe(self):
        self._subscribe(600)

    def unsubscribe(self):
        self._subscribe(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if self.subscribed:
                self._subscribe(0)
        except Exception:  # noqa: BLE001 - the server may be gone; nothing to undo then
            pass
        return False
