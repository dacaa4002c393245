"""The scenarios of bench/run: each starts its own servers, measures, and
saves its raw figures under the keys report.py judges. docs/PERFORMANCE.md,
"Method", describes what each one does and why."""
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from . import configs, measurements, wrk
from .client import Client
from .loads import (BesideParts, BrokerSubscriber, UdpSink, UdpSubscribers, cluster_writes, fanout_load,
                    join_counts, join_side, join_writes, side_load, subscribe)
from .servers import Nginx, Srmi
from .soak import run_soak
from .workspace import BUILD, ROOT, SRMI, log, nproc

# The tests' PostgreSQL and RabbitMQ servers: Debian's, a temporary directory, free ports.
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from postgres_server import PostgresServer  # noqa: E402
from rabbitmq_server import RabbitMQServer  # noqa: E402

WRITE_EVENTS = ("E_CORE_SR_STATUS_CHANGED", "E_SRMI_REPORT_ADDED")


@dataclass
class Settings:
    """How much of everything: --quick makes each scenario short."""
    quick: bool
    seconds: int  # each wrk run (BENCH_SECONDS)
    wrk_threads: int
    list_count: int
    fan_rounds: int
    mem_ids: int
    startup_runs: int
    latency_calls: int
    flood_changes: int
    history_changes: int
    micro_min_time: float
    soak_minutes: float
    soak_slice: int
    soak_connections: int

    @classmethod
    def from_environment(cls, quick, threads):
        env = os.environ.get
        common = {"quick": quick, "wrk_threads": int(env("BENCH_WRK_THREADS") or threads),
                  "soak_connections": int(env("SOAK_CONNECTIONS") or 2)}
        if quick:
            return cls(**common, seconds=int(env("BENCH_SECONDS") or 2), list_count=5, fan_rounds=3,
                       mem_ids=5000, startup_runs=3, latency_calls=60, flood_changes=10000, history_changes=100000,
                       micro_min_time=0.05,
                       soak_minutes=float(env("SOAK_MINUTES") or 1), soak_slice=int(env("SOAK_SLICE") or 10))
        return cls(**common, seconds=int(env("BENCH_SECONDS") or 10), list_count=20, fan_rounds=10,
                   mem_ids=20000, startup_runs=10, latency_calls=400, flood_changes=100000, history_changes=1000000,
                   micro_min_time=0.2,
                   soak_minutes=float(env("SOAK_MINUTES") or 10), soak_slice=int(env("SOAK_SLICE") or 30))


class Scenarios:
    """The scenarios over one workspace; run(name) runs one."""

    ALL = ("rates", "listing", "writes", "history", "fanout", "memory", "startup", "cluster", "brokers", "micro")
    KNOWN = ALL + ("soak",)

    def __init__(self, ws, settings):
        self.ws, self.s = ws, settings
        self.small = configs.small_config(ws.path("small.json"))
        self.bodies = configs.bodies(ws.path("bodies"))
        self._big = None

    def run(self, name):
        log(f"scenario {name}")
        getattr(self, name)()

    def big_config(self):
        """10 000 groups x 10 identifiers (written once)."""
        if self._big is None:
            self._big = configs.groups_config(self.ws.path("big.json"), 10000, 10)
        return self._big

    def rates(self):
        s, ws, body = self.s, self.ws, self.bodies["get_status_core"]
        srmi = Srmi(ws, "rates", "--config", self.small)
        with open(body, "rb") as f:
            status, answer = Client(srmi.url).post_raw(f.read())
        if status != 200:
            raise RuntimeError(f"POST {srmi.url} answered {status}")
        answer = answer.decode()
        nginx = Nginx(ws, answer)
        # nginx and srmi in turns, three parts each, so that a change of the
        # machine's load hits both.
        wrk.run_turns(ws, ("rates.nginx_c32", nginx.url, False), ("rates.srmi_c32", srmi.url, True), 32,
                      s.wrk_threads, body, s.seconds, 3)
        wrk.run_turns(ws, ("rates.nginx_c1", nginx.url, False), ("rates.srmi_c1", srmi.url, True), 1, 1,
                      body, s.seconds, 3)
        srmi.stop()
        nginx.stop()
        # Latency, one core each: srmi with one I/O thread (nginx one worker) on
        # the first core, wrk with one thread on the second. Above, server and wrk
        # run two threads each on two cores, and a request's p99 is the
        # scheduler's time slice between them (nginx's own p99 there: 4 to 8 ms).
        server_cpu = wrk_cpu = None
        if shutil.which("taskset") and nproc() >= 2:
            server_cpu, wrk_cpu = 0, 1
            log("one core each: server pinned to CPU 0, wrk to CPU 1 (taskset)")
        srmi = Srmi(ws, "rates-one-core", "--config", self.small, threads=1, cpu=server_cpu)
        nginx = Nginx(ws, answer, workers=1, cpu=server_cpu)
        wrk.run_turns(ws, ("rates.nginx_c32_one_core", nginx.url, False),
                      ("rates.srmi_c32_one_core", srmi.url, True), 32, 1, body, s.seconds, 3, cpu=wrk_cpu)
        srmi.stop()
        nginx.stop()

    def listing(self):
        s, ws, body = self.s, self.ws, self.bodies["get_status_core"]
        big = Srmi(ws, "listing-big", "--config", self.big_config())
        log(f"sr_list_status x {s.list_count} (10 000 x 10)")
        ws.save("listing.latency", measurements.listing_latency(big.url, s.list_count))
        empty = Srmi(ws, "listing-empty", "--config", self.small)
        # The empty registry and the big one with its side load in turns, as the
        # fan-out row below: ten parts of 2S/10 each (docs/PERFORMANCE.md,
        # Method). Beside each part of the big one: 10 listings/s and 10 000
        # sr_set_status/s, started 0.2 s before it (its process running by then,
        # so that the load spans the part). The big one's /metrics (100 000
        # identifiers) takes long enough to shift the part against its side
        # load, so its parts are not checked through /metrics; the side load
        # counts its own errors.
        log("get_status, empty registry, then the big one beside 10 listings/s + 10 000 sr_set_status/s, in turns")
        side = BesideParts(ws, "listing.side", side_load, lambda seconds: (big.url, seconds, 10000, 10), 0.2)
        wrk.run_turns(ws, ("listing.empty_c32", empty.url, True), ("listing.loaded_c32", big.url, False), 32,
                      s.wrk_threads, body, 2 * s.seconds, 10, beside_b=side)
        ws.save("listing.side", join_side(side.results))
        empty.stop()
        log("the same with listings back to back (informational)")
        flood = ws.spawn("listing.flood", side_load, big.url, s.seconds, 10000, 0)
        ws.save("listing.flood_c32", wrk.run(ws, "listing.flood_c32", big.url, 32, s.wrk_threads, body,
                                             s.seconds, srmi=True))
        ws.save("listing.flood", ws.finish(flood))
        big.stop()

    def _writes_run(self, srmi, key, body):
        """One wrk run of batches over 4 connections (one thread each: "{T}"
        makes each write its own identifier) with a UDP subscriber."""
        sink = UdpSink(self.ws, f"sink-{key}", self.s.seconds + 30)
        subscribe(srmi.url, sink.port, WRITE_EVENTS)
        run = wrk.run(self.ws, key, srmi.url, 4, 4, body, self.s.seconds, srmi=True)
        time.sleep(0.5)  # let the queues drain into the sink
        run.update(sink.stop())
        self.ws.save(key, run)
        # Unsubscribe: the next run brings its own sink.
        subscribe(srmi.url, sink.port, WRITE_EVENTS, expire=0)

    def writes(self):
        sets, reports = self.bodies["set_status_batch"], self.bodies["add_report_batch"]
        srmi = Srmi(self.ws, "writes", "--config", self.small)
        self._writes_run(srmi, "writes.set", sets)
        self._writes_run(srmi, "writes.report", reports)
        srmi.stop()
        state = self.ws.path("state")
        shutil.rmtree(state, ignore_errors=True)
        srmi = Srmi(self.ws, "writes-durable", "--config", self.small, "--state-dir", state)
        self._writes_run(srmi, "writes.set_durable", sets)
        self._writes_run(srmi, "writes.report_durable", reports)
        srmi.stop()

    def history(self):
        s, ws = self.s, self.ws
        # Both running throughout, measured in turns (ten parts of 2S/10, as the
        # fan-out row): a cost of a few per cent is judged against 10 %. No
        # subscriber: the events' own cost would hide the history's.
        on = Srmi(ws, "history-on", "--config", self.small)
        off = Srmi(ws, "history-off", "--config", self.small, "--history-changes", "0")
        log("sr_set_status, batches of 100, 4 conn: history kept (the default) vs --history-changes 0, in turns")
        wrk.run_turns(ws, ("history.writes_off", off.url, True), ("history.writes_on", on.url, True), 4, 4,
                      self.bodies["set_status_batch"], 2 * s.seconds, 10)
        off.stop()
        log(f"sr_status_history of 10 000 changes x {s.latency_calls}")
        ws.save("history.query", measurements.history_query(on.url, 10000, s.latency_calls))
        on.stop()
        # Room for every change measured: none is dropped by the count bound.
        room = str(s.history_changes + 20000)
        srmi = Srmi(ws, "history-memory", "--config", self.small, "--history-changes", room)
        log(f"RSS before and after {s.history_changes} status changes of one identifier")
        ws.save("history.memory", measurements.history_memory(srmi.url, srmi.pid, s.history_changes))
        srmi.stop()

    def fanout(self):
        s, ws = self.s, self.ws
        srmi = Srmi(ws, "fanout", "--config", self.small)
        log("sr_set_status latency without subscribers and with 1 000, in alternating blocks")
        ws.save("fanout.set_latency", measurements.set_latency(
            srmi.url, s.latency_calls, 20, lambda client: UdpSubscribers(client, 1000, subscribed=False)))
        log(f"one change to 1 000 UDP subscribers x {s.fan_rounds}")
        ws.save("fanout.delivery", measurements.fanout_delivery(srmi.url, 1000, s.fan_rounds))
        # Without and with subscribers in turns, so that a change of the machine's
        # load hits both: ten parts of 2S/10 each (more than the rates rows' three:
        # a cost of a few per cent is judged against 10 %, and the machine's rate
        # moves by more than that from one part of seconds to the next;
        # docs/PERFORMANCE.md, Method). Beside each part with subscribers: 1 000
        # of them and 20 changes/s, started 0.5 s before it (subscribed by then).
        log("get_status without subscribers, then with 1 000 and 20 changes/s, in turns")
        load = BesideParts(ws, "fanout.load", fanout_load, lambda seconds: (srmi.url, 1000, seconds, 20), 0.5)
        wrk.run_turns(ws, ("fanout.rate_0", srmi.url, True), ("fanout.rate_n", srmi.url, True), 32,
                      s.wrk_threads, self.bodies["get_status_core"], 2 * s.seconds, 10, beside_b=load)
        ws.save("fanout.load", join_counts(load.results))
        srmi.stop()

    def memory(self):
        srmi = Srmi(self.ws, "memory", "--config", self.small)
        log(f"RSS before and after {self.s.mem_ids} identifiers, then 5 reports of 100 bytes each")
        self.ws.save("memory", measurements.memory(srmi.url, srmi.pid, self.s.mem_ids, 5, 100))
        srmi.stop()

    def startup(self):
        s, ws = self.s, self.ws
        log(f"start-up x {s.startup_runs} (small config, then 10 000 x 10)")
        threads = ["--threads", str(ws.threads)]
        ws.save("startup.empty", measurements.startup(SRMI, s.startup_runs, [*threads, "--config", self.small]))
        ws.save("startup.big", measurements.startup(SRMI, s.startup_runs,
                                                    [*threads, "--config", self.big_config()]))
        log("SIGTERM under 32 connections of wrk")
        ws.save("shutdown", measurements.shutdown(
            SRMI, ws.threads, 2, [f"-t{s.wrk_threads}", "-c32", "-d5s", "--timeout", "2s", "-s",
                                  os.path.join(os.environ["BENCH_LUA_DIR"], "post.lua")],
            self.bodies["get_status_core"]))

    def brokers(self):
        s, ws = self.s, self.ws
        log("RabbitMQ (Debian's server, a temporary directory) and one srmi")
        mq = RabbitMQServer().start()
        srmi = None
        try:
            # The broker bounds the queue itself (its oldest dropped beyond
            # 100 000), so the flood's messages need no consumer to be confirmed.
            connection = mq.connect()
            connection.channel().queue_declare("bench", arguments={"x-max-length": 100000})
            connection.close()
            # A subscriber queue that holds the whole flood: what is measured
            # is how fast the broker confirms, with nothing dropped.
            config = configs.small_config(ws.path("brokers.json"), event_queue_limit=2 * s.flood_changes)
            srmi = Srmi(ws, "brokers", "--config", config)
            sock = mq.subscriber_socket("bench")
            log("sr_set_status latency without and with one RabbitMQ subscriber, in alternating blocks")
            ws.save("brokers.set_latency", measurements.set_latency(
                srmi.url, s.latency_calls, 20, lambda client: BrokerSubscriber(client, sock)))
            log(f"a flood of {s.flood_changes} sr_set_status (batches of 1 000) into RabbitMQ, until all are confirmed")
            ws.save("brokers.flood", measurements.broker_flood(srmi.url, sock, s.flood_changes))
        finally:
            if srmi is not None:
                srmi.stop()
            mq.remove()

    def cluster(self):
        s, ws = self.s, self.ws
        log("PostgreSQL (Debian's server, a temporary directory) and three srmi sharing it")
        pg = PostgresServer().start()
        nodes = []
        try:
            uri = pg.create_database("bench")
            # As many I/O threads as the lone srmi they are compared with below.
            nodes = [Srmi(ws, f"cluster-n{i}", "--config", self.small, "--state", uri, "--node-name", f"n{i}")
                     for i in (1, 2, 3)]
            for node in nodes:
                measurements.wait_ready(node.url)
            # First, on a settled database: after the write load below, its
            # checkpoint of what that wrote slows every commit for a while.
            log("write on n1, event from n2, one change at a time")
            ws.save("cluster.convergence", measurements.convergence(nodes[0].url, nodes[1].url,
                                                                    s.latency_calls // 2))
            log("sr_set_status in batches of 100 through the three at once (2 connections each)")
            runs = {}

            def through(i, node):
                runs[i] = wrk.run(ws, f"cluster.writes_n{i + 1}", node.url, 2, 1, self.bodies["set_status_batch"],
                                  s.seconds, srmi=True)
            threads = [threading.Thread(target=through, args=(i, n)) for i, n in enumerate(nodes)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # Each instance applies every change of the three: how long the last
            # one takes to apply what was written is shown beside the rate.
            lag = measurements.caught_up([n.url for n in nodes])
            ws.save("cluster.writes", {"rps": sum(r["rps"] for r in runs.values()),
                                       "parts": [runs[i] for i in sorted(runs)], "catch_up_s": lag})
            lone = Srmi(ws, "cluster-lone", "--config", self.small)
            log("get_status on a lone srmi, then on n1 while n2 and n3 take 2 000 writes/s, in turns")
            side = BesideParts(ws, "cluster.side", cluster_writes,
                               lambda seconds: ([nodes[1].url, nodes[2].url], seconds, 2000), 0.3)
            wrk.run_turns(ws, ("cluster.lone_c32", lone.url, True), ("cluster.loaded_c32", nodes[0].url, True), 32,
                          s.wrk_threads, self.bodies["get_status_core"], 2 * s.seconds, 10, beside_b=side)
            ws.save("cluster.side", join_writes(side.results))
            lone.stop()
        finally:
            for node in nodes:
                node.stop()
            pg.remove()

    def micro(self):
        log(f"micro-benchmarks (--benchmark_min_time={self.s.micro_min_time})")
        output = self.ws.path("micro.txt")
        with open(output, "w") as f:
            done = subprocess.run([os.path.join(BUILD, "srmi_micro_bench"),
                                   f"--benchmark_min_time={self.s.micro_min_time}",
                                   f"--benchmark_out={os.path.join(self.ws.raw_dir, 'micro.json')}",
                                   "--benchmark_out_format=json"], stdout=f, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            with open(output) as f:
                sys.stderr.write(f.read())
            raise RuntimeError("the micro-benchmarks failed")

    def soak(self):
        # A verdict of NOT MET is the table's business here.
        self.ws.save("soak", run_soak(self.ws, self.small, self.s.soak_minutes, self.s.soak_slice,
                                      self.s.soak_connections))
