#!/usr/bin/env python3
"""RabbitMQ subscribers of the real srmi binary, against a real RabbitMQ
server (Debian's rabbitmq-server, tests/support/rabbitmq_server.py) and a real
AMQP consumer (pika): every status change arrives once, in order, as the
notification text; exchange, persistent and TLS; the refusals at subscribe
time; an unreachable broker subscribed and reported; the broker stopped and
started under a flood of changes (writes go on, drops counted, delivery
resumes); what is held at shutdown delivered within the grace; subscriptions
kept across a restart with durable state.
Usage: brokers_test.py PATH/TO/srmi
"""
import json
import os
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from srmi_test import SrmiProcess, wait_until  # noqa: E402
from rabbitmq_server import RabbitMQServer  # noqa: E402
from amqp_consumer import AmqpConsumer  # noqa: E402

SRMI = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/srmi"
DEADLINE = 30  # seconds for any single wait
BATCH_INTERVAL = 0.005  # the flood's pace: 4 000 changes a second at most
WRITER_SECONDS = 600  # the flood's bound, beyond every wait of its test
EVENT = "E_CORE_SR_STATUS_CHANGED"
CONFIG = {"groups": ["gw"]}


def notifications(consumer, group="gw"):
    """The consumer's messages as notifications, only those of `group` (the
    group core changes too, at start and at shutdown)."""
    out = []
    for m in consumer.messages:
        note = json.loads(m.body)
        if note["params"].get("group") == group:
            out.append(note)
    return out


def statuses(consumer):
    return [n["params"]["status"] for n in notifications(consumer)]


def consume_until(consumer, predicate, timeout=DEADLINE):
    """Reads what arrives until predicate() holds; False if it still does
    not after `timeout` seconds."""
    def step():
        consumer.wait_for(len(consumer.messages) + 1, 0.1)
        return predicate()
    return predicate() or wait_until(step, timeout)


def metric(srmi, name, socket_shown):
    """A sample of /metrics labelled with the socket, or None."""
    status, text = srmi.get("/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + "{") and f'socket="{socket_shown}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RabbitMqSubscribers(unittest.TestCase):
    """One broker for the cases that do not stop it; one srmi per case."""

    @classmethod
    def setUpClass(cls):
        cls.mq = RabbitMQServer(tls=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.mq.remove()

    def setUp(self):
        self.processes = []

    def tearDown(self):
        for p in self.processes:
            if p.proc.poll() is None:
                p.stop()

    def srmi(self, *args, config=CONFIG):
        p = SrmiProcess(SRMI, config, args)
        self.processes.append(p)
        return p

    def subscribe(self, srmi, socket_string, expire=3600):
        return srmi.call("event_subscribe", {"event": EVENT, "socket": socket_string,
                                             "expire": expire})

    def test_every_change_arrives_once_in_order_as_the_notification(self):
        srmi = self.srmi()
        sock = self.mq.subscriber_socket("srmi-order")
        with AmqpConsumer(self.mq.connection_parameters(), "srmi-order") as consumer:
            self.assertEqual(self.subscribe(srmi, sock)["result"], "OK")
            n = 300
            # From 2: gw starts at 1, and setting the status it has changes nothing.
            for i in range(2, n + 2):
                reply = srmi.call("sr_set_status", {"group": "gw", "status": i, "details": f"n={i}"})
                self.assertEqual(reply["result"], "OK")
            self.assertTrue(consume_until(consumer, lambda: len(statuses(consumer)) >= n),
                            f"{len(statuses(consumer))} of {n} arrived")
            self.assertEqual(statuses(consumer), list(range(2, n + 2)))
            first = consumer.messages[0]
            self.assertEqual(first.content_type, "application/json")
            self.assertIn(first.delivery_mode, (None, 1))
            note = notifications(consumer)[0]
            self.assertEqual(note["jsonrpc"], "2.0")
            self.assertEqual(note["method"], EVENT)
            self.assertNotIn("id", note)
            self.assertEqual(note["params"]["details"], "n=2")
            # Confirmed by the broker, nothing dropped; told by subscribers_list and /metrics.
            self.assertTrue(wait_until(lambda: srmi.subscriber(EVENT, sock)["confirmed"] >= n, DEADLINE))
            entry = srmi.subscriber(EVENT, sock)
            self.assertEqual(entry["dropped"], 0)
            self.assertTrue(entry["connected"])
            self.assertNotIn("error", entry)
            self.assertEqual(metric(srmi, "srmi_event_broker_connected", sock), 1)
            self.assertGreaterEqual(metric(srmi, "srmi_event_broker_confirmed_total", sock), n)

    def test_exchange_routing_key_and_persistent(self):
        srmi = self.srmi()
        sock = self.mq.subscriber_socket("srmi.status", "exchange=amq.topic;persistent")
        with AmqpConsumer(self.mq.connection_parameters(), "srmi-topic", exchange="amq.topic",
                          routing_key="srmi.#") as consumer:
            self.assertEqual(self.subscribe(srmi, sock)["result"], "OK")
            srmi.call("sr_set_status", {"group": "gw", "status": 7})
            self.assertTrue(consume_until(consumer, lambda: statuses(consumer)))
            self.assertEqual(statuses(consumer), [7])
            m = consumer.messages[-1]
            self.assertEqual((m.exchange, m.routing_key, m.delivery_mode), ("amq.topic", "srmi.status", 2))

    def test_tls_with_the_client_ca_srmi_is_given(self):
        srmi = self.srmi("--event-tls-ca", self.mq.ca_file)
        sock = self.mq.subscriber_socket("srmi-tls", tls=True)
        with AmqpConsumer(self.mq.connection_parameters(), "srmi-tls") as consumer:
            self.assertEqual(self.subscribe(srmi, sock)["result"], "OK")
            srmi.call("sr_set_status", {"group": "gw", "status": 5})  # gw starts at 1
            self.assertTrue(consume_until(consumer, lambda: statuses(consumer)),
                            json.dumps(srmi.subscriber(EVENT, sock)))
            self.assertEqual(statuses(consumer), [5])
        # Without that CA the broker's certificate is not trusted: subscribed, not connected.
        other = self.srmi()
        self.assertEqual(self.subscribe(other, sock)["result"], "OK")
        self.assertTrue(wait_until(lambda: "error" in other.subscriber(EVENT, sock), DEADLINE))
        self.assertFalse(other.subscriber(EVENT, sock)["connected"])

    def test_refusals_at_subscribe_time_subscribe_nothing(self):
        srmi = self.srmi()
        port = self.mq.amqp_port
        cases = {
            f"rabbitmq:127.0.0.1:{port}/colour=red?k": "unknown parameter 'colour'",
            f"rabbitmq:127.0.0.1:{port}/": "missing routing key",
            f"rabbitmq:127.0.0.1:{port}": "missing '/ROUTING_KEY'",
            f"rabbitmq:/k": "missing host",
            f"rabbitmq:guest:wrong@127.0.0.1:{port}/k": "ACCESS_REFUSED",
            f"rabbitmq:nobody:x@127.0.0.1:{port}/k": "ACCESS_REFUSED",
        }
        for sock, reason in cases.items():
            with self.subTest(sock=sock):
                reply = self.subscribe(srmi, sock)
                self.assertEqual(reply["error"]["code"], 400, reply)
                self.assertEqual(reply["error"]["message"], "Bad parameter value")
                self.assertTrue(reply["error"]["data"].startswith(f"bad socket '{sock}': "), reply)
                self.assertIn(reason, reply["error"]["data"])
                self.assertIsNone(srmi.subscriber(EVENT, sock))

    def test_an_unreachable_broker_is_subscribed_and_reported(self):
        srmi = self.srmi()
        sock = f"rabbitmq:srmi:s3cret@127.0.0.1:{free_port()}/k"
        self.assertEqual(self.subscribe(srmi, sock)["result"], "OK")
        entry = srmi.subscriber(EVENT, sock)
        self.assertFalse(entry["connected"])
        self.assertIn("cannot connect to 127.0.0.1", entry["error"])
        # Writes are not held by it; its events wait in its queue.
        for i in range(1, 21):
            self.assertEqual(srmi.call("sr_set_status", {"group": "gw", "status": i})["result"], "OK")
        shown = sock.replace(":s3cret", "")
        self.assertEqual(metric(srmi, "srmi_event_broker_connected", shown), 0)
        self.assertNotIn("s3cret", srmi.get("/metrics")[1])

    def test_held_events_are_delivered_within_the_shutdown_grace(self):
        # A queue for all of them: the point is the grace, not the bound.
        srmi = self.srmi(config=dict(CONFIG, event_queue_limit=10000))
        sock = self.mq.subscriber_socket("srmi-shutdown")
        with AmqpConsumer(self.mq.connection_parameters(), "srmi-shutdown") as consumer:
            self.assertEqual(self.subscribe(srmi, sock)["result"], "OK")
            n = 2000
            for first in (2, 1002):  # two batches of 1 000 (max_batch), the stop right after
                replies = srmi.post([{"jsonrpc": "2.0", "id": i, "method": "sr_set_status",
                                      "params": {"group": "gw", "status": i}} for i in range(first, first + 1000)])
                self.assertTrue(all(r.get("result") == "OK" for r in replies), replies[:3])
            self.assertEqual(srmi.stop(), 0)
            self.assertTrue(consume_until(consumer, lambda: len(statuses(consumer)) >= n),
                            f"{len(statuses(consumer))} of {n}")
            self.assertEqual(statuses(consumer), list(range(2, n + 2)))

    def test_subscriptions_survive_a_restart_with_durable_state(self):
        state = tempfile.mkdtemp(prefix="srmi-brokers-state-")
        sock = self.mq.subscriber_socket("srmi-durable")
        with AmqpConsumer(self.mq.connection_parameters(), "srmi-durable") as consumer:
            first = self.srmi("--state-dir", state)
            self.assertEqual(self.subscribe(first, sock)["result"], "OK")
            self.assertEqual(first.stop(), 0)
            second = self.srmi("--state-dir", state)
            self.assertIsNotNone(second.subscriber(EVENT, sock))
            second.call("sr_set_status", {"group": "gw", "status": 42})
            self.assertTrue(consume_until(consumer, lambda: 42 in statuses(consumer)))


class RabbitMqBrokerFailure(unittest.TestCase):
    """The broker stopped and started while changes pour in."""

    def test_broker_stopped_and_started_under_a_flood(self):
        limit = 200
        with RabbitMQServer() as mq:
            srmi = SrmiProcess(SRMI, dict(CONFIG, event_queue_limit=limit))
            try:
                self._flood_across_a_restart(mq, srmi, limit)
            except BaseException:
                print("--- log of srmi\n" + "".join(srmi.log[-40:]) + mq.server_log(), file=sys.stderr)
                raise
            finally:
                srmi.stop()

    def _flood_across_a_restart(self, mq, srmi, limit):
        sock = mq.subscriber_socket("srmi-flood")
        consumer = AmqpConsumer(mq.connection_parameters(), "srmi-flood", durable=True)
        try:
            self.assertEqual(srmi.call("event_subscribe", {"event": EVENT, "socket": sock})["result"], "OK")
            written = []  # statuses acknowledged by srmi, in order
            stop = threading.Event()
            failures = []

            def writer():
                # A flood for a queue of `limit`, paced so that it lasts as long as
                # the broker takes to stop and start on busy cores (a minute and
                # more in CI) and the consumer can read what it sent: at most one
                # batch of 20 each BATCH_INTERVAL, for at most WRITER_SECONDS,
                # or until told to stop.
                next_at = time.monotonic()
                for i in range(1, int(WRITER_SECONDS / BATCH_INTERVAL) + 1):
                    if stop.wait(max(0.0, next_at - time.monotonic())):
                        return
                    next_at = max(next_at + BATCH_INTERVAL, time.monotonic())
                    batch = [{"jsonrpc": "2.0", "id": k, "method": "sr_set_status",
                              "params": {"group": "gw", "status": i * 100 + k}} for k in range(1, 21)]
                    try:
                        replies = srmi.post(batch)
                    except OSError as e:  # said by the waits below, not lost in the thread
                        failures.append(repr(e))
                        return
                    if any("result" not in r for r in replies):
                        failures.append(replies)
                        return
                    written.extend(b["params"]["status"] for b in batch)

            thread = threading.Thread(target=writer)
            thread.start()

            def writes_go_on(at_least):
                start = len(written)
                return (wait_until(lambda: len(written) >= start + at_least, DEADLINE),
                        f"{len(written) - start} of {at_least} more writes; writer alive: "
                        f"{thread.is_alive()}; failures: {failures[:1]}")
            try:
                self.assertTrue(consume_until(consumer, lambda: len(consumer.messages) >= 500))
                mq.stop()
                # While the broker is away, writes go on and the subscriber's oldest events go.
                self.assertTrue(*writes_go_on(20 * limit))
                self.assertTrue(wait_until(lambda: srmi.subscriber(EVENT, sock)["dropped"] > 0, DEADLINE))
                away = srmi.subscriber(EVENT, sock)
                self.assertFalse(away["connected"])
                self.assertIn("error", away)
                mq.start()
                self.assertTrue(wait_until(lambda: srmi.subscriber(EVENT, sock)["connected"], DEADLINE))
                self.assertTrue(*writes_go_on(2000))
            finally:
                stop.set()
                thread.join(DEADLINE)
            self.assertEqual(failures, [])
            last = written[-1]
            # Delivery resumed: the last change reaches the consumer.
            self.assertTrue(consume_until(consumer, lambda: last in statuses(consumer)),
                            f"last {last}; got {statuses(consumer)[-3:]}")
            # Order kept: what arrived is in the order written (an event the
            # broker took but had not confirmed when it went may come twice).
            got = statuses(consumer)
            position = {s: k for k, s in enumerate(written)}
            indices = [position[s] for s in got]
            self.assertEqual(indices, sorted(indices), "out of order")
            self.assertGreater(srmi_drops(srmi), 0)
        finally:
            consumer.close()


def srmi_drops(srmi):
    _, text = srmi.get("/metrics")
    for line in text.splitlines():
        if line.startswith("srmi_event_drops_total "):
            return float(line.split()[1])
    return 0


if __name__ == "__main__":
    unittest.main(verbosity=2)
