#!/usr/bin/env python3
"""Kafka subscribers of the real srmi binary. Debian has no Kafka server, so
the brokers are librdkafka's own mock cluster (three brokers speaking the
Kafka protocol on loopback TCP), run by srmi_kafka_mock_cluster
(tests/support/kafka_mock_cluster.cpp), which also reads the topic back:
every change arrives once, in order, keyed; a property librdkafka rejects is
refused; the brokers taken down under a stream of changes (writes go on) and
brought back (delivery resumes).
Usage: kafka_test.py PATH/TO/srmi PATH/TO/srmi_kafka_mock_cluster
"""
import json
import os
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from srmi_test import SrmiProcess, stop_process, wait_until  # noqa: E402

SRMI = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/srmi"
MOCK = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/tests/srmi_kafka_mock_cluster"
DEADLINE = 30  # seconds for any single wait
EVENT = "E_CORE_SR_STATUS_CHANGED"
CONFIG = {"groups": [{"name": "gw", "identifiers": ["a", "b"]}]}
BROKERS = 3


class MockCluster:
    """srmi_kafka_mock_cluster BROKERS: its first line is the bootstrap servers;
    then commands on its stdin, answers on its stdout."""

    def __init__(self):
        self.proc = subprocess.Popen([MOCK, str(BROKERS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.bootstraps = self.proc.stdout.readline().strip()
        if not self.bootstraps:
            stop_process(self.proc, DEADLINE)
            raise RuntimeError("kafka_mock_cluster did not start")

    def _send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def command(self, line):
        """A command answered `ok` (down ID, up ID, topic NAME PARTITIONS)."""
        self._send(line)
        answer = self.proc.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"{line}: {answer or 'kafka_mock_cluster ended'}")

    def consume(self, topic, count, timeout_ms):
        """The first `count` records of `topic` (fewer if the time runs out):
        (key, value) pairs, partition by partition."""
        self._send(f"consume {topic} {count} {timeout_ms}")
        records = []
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line == "end":
                return records
            key, _, value = line.partition("\t")
            records.append((key, value))
        raise RuntimeError("kafka_mock_cluster ended")

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()  # its end of input: it exits
            stop_process(self.proc, DEADLINE)
        self.proc.stdout.close()


class KafkaSubscribers(unittest.TestCase):

    def setUp(self):
        self.cluster = MockCluster()
        self.srmi = SrmiProcess(SRMI, CONFIG)

    def tearDown(self):
        self.srmi.stop()
        self.cluster.close()

    def subscribe(self, socket_string):
        return self.srmi.call("event_subscribe", {"event": EVENT, "socket": socket_string})

    def changes(self, records):
        """(key, identifier, status) of the gw group's change records."""
        out = []
        for key, value in records:
            params = json.loads(value)["params"]
            if params["group"] == "gw":
                out.append((key, params["identifier"], params["status"]))
        return out

    def test_every_change_arrives_once_in_order_keyed(self):
        self.cluster.command("topic srmi-order 4")
        sock = f"kafka:{self.cluster.bootstraps}/srmi-order?key=group/identifier&g.linger.ms=1"
        self.assertEqual(self.subscribe(sock)["result"], "OK")
        n = 200
        # From 2: identifiers start at 1, and setting the status one has changes nothing.
        for i in range(2, n + 2):
            ident = "a" if i % 2 else "b"
            self.assertEqual(self.srmi.call("sr_set_status", {"group": "gw", "identifier": ident,
                                                              "status": i})["result"], "OK")
        self.assertTrue(wait_until(lambda: self.srmi.subscriber(EVENT, sock)["confirmed"] >= n, DEADLINE),
                        json.dumps(self.srmi.subscriber(EVENT, sock)))
        got = self.changes(self.cluster.consume("srmi-order", n, 10000))
        self.assertEqual(len(got), n)
        for ident in ("a", "b"):
            mine = [(k, s) for k, i, s in got if i == ident]
            self.assertEqual({k for k, _ in mine}, {f"gw/{ident}"})
            statuses = [s for _, s in mine]
            # One identifier, one key, one partition: in order, each once.
            self.assertEqual(statuses, sorted(statuses))
            self.assertEqual(len(statuses), n // 2)
        entry = self.srmi.subscriber(EVENT, sock)
        self.assertTrue(entry["connected"])
        self.assertEqual(entry["dropped"], 0)

    def test_properties_librdkafka_rejects_are_refused(self):
        for sock, words in {
            f"kafka:{self.cluster.bootstraps}/t?g.no.such.property=1": "No such configuration property",
            f"kafka:{self.cluster.bootstraps}/t?g.acks=banana": "acks",
            f"kafka:{self.cluster.bootstraps}/t?key=callid": "unknown key 'callid'",
            f"kafka:{self.cluster.bootstraps}": "missing '/TOPIC'",
        }.items():
            with self.subTest(sock=sock):
                reply = self.subscribe(sock)
                self.assertEqual(reply["error"]["code"], 400, reply)
                self.assertIn(words, reply["error"]["data"])
                self.assertIsNone(self.srmi.subscriber(EVENT, sock))

    def test_brokers_down_and_up_under_a_stream_of_changes(self):
        self.cluster.command("topic srmi-down 4")
        sock = (f"kafka:{self.cluster.bootstraps}/srmi-down?key=group/identifier"
                f"&g.reconnect.backoff.max.ms=200")
        self.assertEqual(self.subscribe(sock)["result"], "OK")
        written = []
        stop = threading.Event()
        failures = []

        def writer():
            for i in range(2, 200002):  # bounded, stopped long before; from 2, as above
                if stop.is_set():
                    return
                reply = self.srmi.call("sr_set_status", {"group": "gw", "identifier": "a", "status": i})
                if reply.get("result") != "OK":
                    failures.append(reply)
                    return
                written.append(i)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            self.assertTrue(wait_until(lambda: self.srmi.subscriber(EVENT, sock)["confirmed"] >= 100, DEADLINE))
            for broker in range(1, BROKERS + 1):
                self.cluster.command(f"down {broker}")
            during = len(written)
            self.assertTrue(wait_until(lambda: len(written) >= during + 500, DEADLINE), "writes stalled")
            self.assertTrue(wait_until(lambda: not self.srmi.subscriber(EVENT, sock)["connected"], DEADLINE),
                            json.dumps(self.srmi.subscriber(EVENT, sock)))
            for broker in range(1, BROKERS + 1):
                self.cluster.command(f"up {broker}")
            back = self.srmi.subscriber(EVENT, sock)["confirmed"]
            self.assertTrue(wait_until(lambda: self.srmi.subscriber(EVENT, sock)["confirmed"] > back + 100, DEADLINE),
                            json.dumps(self.srmi.subscriber(EVENT, sock)))
        finally:
            stop.set()
            thread.join(DEADLINE)
        self.assertEqual(failures, [])
        last = written[-1]
        entry = {}

        def all_settled():
            entry.update(self.srmi.subscriber(EVENT, sock))
            return entry["confirmed"] + entry["dropped"] >= len(written)
        self.assertTrue(wait_until(all_settled, DEADLINE), json.dumps(entry))
        got = [s for _, _, s in self.changes(self.cluster.consume("srmi-down", entry["confirmed"] + 50, 10000))]
        # Delivery resumed up to the last change, and in order (the idempotent
        # producer retries without duplicates).
        self.assertIn(last, got)
        self.assertEqual(got, sorted(got))
        self.assertEqual(len(got), len(set(got)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
