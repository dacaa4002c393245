#!/usr/bin/env python3
"""Several srmi instances, one registry in PostgreSQL: real srmi binaries and a
real PostgreSQL server (tests/support/postgres_server.py), as a user runs them.

Convergence, events raised on every instance for a change made on one, racing
writers ending identical everywhere, SIGKILL in the middle of acknowledged
writes, the database stopped and started under load, an instance catching up
on 10 000 changes it missed, the status history (the same on every instance
and in srmi_history, kept across SIGKILL, bounded, a database of schema 1
upgraded), and the refusals at start-up (exit 2).
Usage: cluster_test.py PATH/TO/srmi
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from srmi_test import LISTENING, SrmiProcess, wait_until  # noqa: E402
from postgres_server import PASSWORD, PostgresServer  # noqa: E402

SRMI = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/srmi"
HERE = os.path.dirname(os.path.abspath(__file__))
DEADLINE = 20  # seconds for any single wait

CONFIG = {
    "groups": [
        "gw",
        {"name": "db", "identifiers": ["main", {"name": "replica", "max_reports": 3}]},
    ]
}


class Node(SrmiProcess):
    """One srmi of the cluster."""

    def __init__(self, uri, name, config=CONFIG, extra=(), wait=True):
        super().__init__(SRMI, config, ["--state", uri, "--node-name", name, *extra], name, wait)

    def text(self, method, params=None):
        """The result as text, for byte-for-byte comparisons between instances;
        without the group `core`, which describes each instance's own run."""
        result = self.call(method, params)["result"]
        if isinstance(result, list):
            result = [g for g in result if not (isinstance(g, dict) and g.get("Name") == "core")]
        return json.dumps(result, sort_keys=False)

    def reports(self, group, identifier):
        return self.call("sr_list_reports", {"group": group, "identifier": identifier})["result"]

    def history(self, group, identifier="all"):
        return self.call("sr_status_history", {"group": group, "identifier": identifier})["result"]

    def history_text(self, group):
        return self.text("sr_status_history", {"group": group, "identifier": "all"})


def stored(entry):
    """An sr_status_history entry as srmi_history keeps it."""
    return {"Time": entry["Time"], "Old": entry["Old"], "Status": entry["Status"],
            "Details": entry.get("Details"), "Node": entry.get("Node", "")}


class UdpReceiver:
    """Datagrams of event notifications, as opensips-event reads them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.socket = "udp:127.0.0.1:%d" % self.sock.getsockname()[1]

    def next(self, timeout=DEADLINE):
        self.sock.settimeout(timeout)
        data, _ = self.sock.recvfrom(65536)
        return json.loads(data)

    def close(self):
        self.sock.close()


class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()
        try:
            cls.pg.start()
        except BaseException:
            cls.pg.remove()
            raise
        cls.databases = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.remove()

    def setUp(self):
        type(self).databases += 1
        self.uri = self.pg.create_database(f"t{self.databases}")
        self.nodes = []

    def tearDown(self):
        for node in self.nodes:
            if node.proc.poll() is None:
                node.kill()
        if any(n.proc.returncode not in (0, -9) for n in self.nodes):
            for n in self.nodes:
                print(f"--- log of {n.name}\n" + "".join(n.log[-40:]), file=sys.stderr)

    def node(self, name, **kwargs):
        n = Node(self.uri, name, **kwargs)
        self.nodes.append(n)
        return n

    def cluster(self, count=3):
        nodes = [self.node(f"n{i + 1}") for i in range(count)]
        for n in nodes:
            self.assertTrue(wait_until(n.ready, DEADLINE, 0.05), "".join(n.log))
        return nodes

    def db(self):
        return self.uri.rsplit("/", 1)[1]

    def stored_history(self, group, identifier):
        """srmi_history's rows of one identifier, oldest first, as stored() shows an entry."""
        return json.loads(self.pg.psql(
            "SELECT COALESCE(json_agg(json_build_object('Time', at_ms, 'Old', old_status, "
            "'Status', status, 'Details', details, 'Node', node) ORDER BY n), '[]') "
            f"FROM srmi_history WHERE gkey = '{group}' AND ikey = '{identifier}'", db=self.db()))

    def assert_stored(self, node, group, identifiers):
        """Each identifier's history on `node` is what srmi_history holds."""
        for identifier in identifiers:
            self.assertEqual([stored(e) for e in node.history(group, identifier)],
                             self.stored_history(group, identifier), f"{group}/{identifier}")

    def same_history(self, nodes, group):
        """Whether the nodes come to show the same history of `group`'s identifiers."""
        return self.converged(nodes, "sr_status_history", {"group": group, "identifier": "all"})

    def converged(self, nodes, method="sr_list_status", params=None):
        def same():
            texts = {n.text(method, params) for n in nodes}
            return len(texts) == 1
        return wait_until(same, DEADLINE, 0.05)

    # --- one registry ---------------------------------------------------------

    def test_a_write_on_one_instance_is_read_on_every_other(self):
        n1, n2, n3 = self.cluster()
        self.assertEqual(n1.call("sr_set_status", {"group": "gw", "status": 3,
                                                   "details": "up"})["result"], "OK")
        for n in (n2, n3):
            self.assertTrue(wait_until(
                lambda: n.call("sr_get_status", {"group": "gw"})["result"]
                == {"Readiness": True, "Status": 3, "Details": "up"}, DEADLINE, 0.02))
        # Read-your-writes on the instance written to: answered once applied there.
        n2.call("sr_add_identifier", {"group": "db", "identifier": "standby"})
        self.assertEqual(n2.call("sr_get_status", {"group": "db", "identifier": "standby"})
                         ["result"]["Status"], 1)
        n3.call("sr_add_report", {"group": "db", "identifier": "replica", "report": "lag 3s"})
        self.assertTrue(self.converged([n1, n2, n3]))
        self.assertTrue(self.converged([n1, n2, n3], "sr_list_reports"))
        self.assertEqual([r["Log"] for r in n1.reports("db", "replica")], ["lag 3s"])

    def test_a_group_declared_by_one_instance_is_shared(self):
        n1 = self.node("n1")
        n2 = self.node("n2", config={"groups": ["gw", "only-on-n2"]})
        self.assertTrue(wait_until(n2.ready, DEADLINE, 0.05))
        self.assertTrue(wait_until(
            lambda: "error" not in n1.call("sr_get_status", {"group": "only-on-n2"}),
            DEADLINE, 0.05))
        n1.call("sr_set_status", {"group": "only-on-n2", "status": -4})
        self.assertTrue(wait_until(
            lambda: n2.call("sr_get_status", {"group": "only-on-n2"})["result"]["Status"] == -4,
            DEADLINE, 0.02))

    def test_a_group_declared_differently_is_reported(self):
        n1 = self.node("n1")
        self.assertTrue(wait_until(n1.ready, DEADLINE, 0.05))
        n2 = self.node("n2", config={"groups": [{"name": "gw", "identifiers": ["a", "b"]}]})
        self.assertTrue(wait_until(lambda: "gw" in n2.get("/readyz?verbose")[1], DEADLINE, 0.05))
        status, body = n2.get("/readyz?verbose")
        self.assertEqual(status, 503)
        self.assertIn("declared differently by another instance: gw", body)
        self.assertTrue(any("declared differently" in line for line in n2.log))
        # The shared registry keeps the first declaration, on both.
        self.assertEqual(n2.text("sr_list_identifiers", {"group": "gw"}),
                         n1.text("sr_list_identifiers", {"group": "gw"}))

    # --- events ---------------------------------------------------------------

    def test_a_change_on_one_instance_raises_the_event_on_another_once(self):
        n1, n2, _ = self.cluster()
        udp = UdpReceiver()
        try:
            self.assertEqual(n2.call("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", udp.socket,
                                                         60])["result"], "OK")
            n1.call("sr_set_status", {"group": "gw", "status": -2, "details": "down"})
            n1.call("sr_set_status", {"group": "gw", "status": -2, "details": "still down"})
            n1.call("sr_set_status", {"group": "gw", "status": 5})
            first, second = udp.next(), udp.next()
            self.assertEqual(first["params"], {"group": "gw", "identifier": "main", "status": -2,
                                               "details": "down", "old_status": 1})
            # An unchanged status raised nothing; the next change comes next, once.
            self.assertEqual(second["params"], {"group": "gw", "identifier": "main",
                                                "status": 5, "old_status": -2})
        finally:
            udp.close()

    # --- races ------------------------------------------------------------------

    def test_racing_writers_end_identical_everywhere(self):
        nodes = self.cluster()
        errors = []

        def writer(node, index):
            try:
                for i in range(40):  # bounded
                    batch = [{"jsonrpc": "2.0", "id": k, "method": "sr_set_status",
                              "params": {"group": "db", "identifier": "replica",
                                         "status": (index * 1000 + i * 10 + k) % 7 - 3,
                                         "details": f"{node.name}-{i}-{k}"}}
                             for k in range(5)]
                    batch.append({"jsonrpc": "2.0", "id": 9, "method": "sr_add_report",
                                  "params": {"group": "db", "identifier": "replica",
                                             "report": f"{node.name} {i}"}})
                    for answer in node.post(batch):
                        if answer.get("result") != "OK":
                            errors.append(answer)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=writer, args=(n, i)) for i, n in enumerate(nodes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(errors, [])
        self.assertTrue(self.converged(nodes))
        self.assertTrue(self.converged(nodes, "sr_list_reports"))
        self.assertEqual(len(nodes[0].reports("db", "replica")), 3)  # the ring bound, cluster-wide

    # --- faults -----------------------------------------------------------------

    def test_sigkill_in_the_middle_of_writes_loses_nothing_acknowledged(self):
        n1, n2 = self.cluster(2)
        acknowledged = []
        stop = threading.Event()

        def writer():
            for i in range(100000):  # bounded; the kill ends it sooner
                if stop.is_set():
                    return
                try:
                    answer = n1.call("sr_add_identifier", {"group": "gw", "identifier": f"w{i}"},
                                     timeout=5)
                except Exception:  # noqa: BLE001 - the kill cuts requests off
                    return
                if answer.get("result") == "OK":
                    acknowledged.append(f"w{i}")

        t = threading.Thread(target=writer)
        t.start()
        self.assertTrue(wait_until(lambda: len(acknowledged) >= 50, DEADLINE, 0.01))
        n1.kill()
        stop.set()
        t.join(timeout=DEADLINE)
        seen = set()

        def all_seen():
            seen.clear()
            seen.update(n2.call("sr_list_identifiers", {"group": "gw"})["result"]["Identifiers"])
            return set(acknowledged) <= seen
        self.assertTrue(wait_until(all_seen, DEADLINE, 0.05),
                        f"lost: {sorted(set(acknowledged) - seen)[:10]}")
        # Restarted, it catches up before it says it is ready.
        again = self.node("n1")
        self.assertTrue(wait_until(again.ready, DEADLINE, 0.05), "".join(again.log))
        self.assertTrue(self.converged([again, n2], "sr_list_identifiers", {"group": "gw"}))

    def test_the_database_stopped_and_started_under_load(self):
        n1, n2 = self.cluster(2)
        acknowledged, refused, other, slowest = [], [0], [], [0.0]
        stop = threading.Event()

        def writer():
            for i in range(100000):  # bounded; stop ends it sooner
                if stop.is_set():
                    return
                started = time.monotonic()
                answer = n1.call("sr_add_report", {"group": "gw", "report": f"w{i}"}, timeout=15)
                slowest[0] = max(slowest[0], time.monotonic() - started)
                if answer.get("result") == "OK":
                    acknowledged.append(f"w{i}")
                elif answer.get("error") == {"code": 503, "message": "State store unavailable"}:
                    refused[0] += 1
                else:
                    other.append(answer)

        t = threading.Thread(target=writer)
        t.start()
        try:
            self.assertTrue(wait_until(lambda: len(acknowledged) >= 20, DEADLINE, 0.01))
            self.pg.stop()
            try:
                # Writes are refused within seconds, never hang; reads go on from memory.
                self.assertTrue(wait_until(lambda: refused[0] >= 5, DEADLINE, 0.01))
                self.assertEqual(n1.call("sr_get_status", {"group": "gw"})["result"]["Status"], 1)
                self.assertTrue(wait_until(lambda: not n1.ready(), DEADLINE, 0.05))
                status, body = n1.get("/readyz?verbose")
                self.assertEqual(status, 503)
                self.assertIn("state database unreachable", body)
                self.assertNotIn(PASSWORD, body)
                self.assertIn("srmi_state_store_up 0", n1.get("/metrics")[1])
            finally:
                self.pg.start()
            for n in (n1, n2):
                self.assertTrue(wait_until(n.ready, 30, 0.1), "".join(n.log[-20:]))
            before = len(acknowledged)
            self.assertTrue(wait_until(lambda: len(acknowledged) > before + 20, DEADLINE, 0.01))
        finally:
            stop.set()
            t.join(timeout=DEADLINE)
        self.assertEqual(other, [])
        self.assertLess(slowest[0], 10)  # a bound on hanging, not a timing
        # Nothing acknowledged is lost: every one is in the shared log, and the
        # latest are in both instances' rings (which keep the last 50; a write
        # answered 503 while the link broke may be there too, as with any
        # request cut off).
        db = self.uri.rsplit("/", 1)[1]
        logged = set(self.pg.psql("SELECT change->>'l' FROM srmi_log WHERE change->>'k' = 'report'",
                                  db=db).split("\n"))
        self.assertEqual(sorted(set(acknowledged) - logged), [])
        for n in (n1, n2):
            self.assertTrue(wait_until(
                lambda: set(acknowledged[-20:]) <= {r["Log"] for r in n.reports("gw", "main")},
                DEADLINE, 0.05))
        for n in (n1, n2):
            self.assertFalse(any(PASSWORD in line for line in n.log))

    def test_unreachable_at_start_it_serves_reads_and_retries(self):
        self.pg.stop()
        try:
            n1 = self.node("n1")  # starts all the same
            self.assertEqual(n1.call("sr_get_status", {"group": "gw"})["result"]["Status"], 1)
            status, body = n1.get("/readyz?verbose")
            self.assertEqual(status, 503)
            self.assertIn("unreachable", body)
            self.assertEqual(n1.call("sr_set_status", {"group": "gw", "status": 2})["error"]["code"],
                             503)
        finally:
            self.pg.start()
        self.assertTrue(wait_until(n1.ready, 30, 0.1), "".join(n1.log[-20:]))
        self.assertEqual(n1.call("sr_set_status", {"group": "gw", "status": 2})["result"], "OK")

    def test_an_instance_that_missed_10000_changes_catches_up(self):
        n1, n3 = self.cluster(2)
        self.assertEqual(n3.stop(), 0)
        for b in range(100):
            batch = [{"jsonrpc": "2.0", "id": k, "method": "sr_add_report",
                      "params": {"group": "gw", "report": f"r{b * 100 + k}"}} for k in range(100)]
            self.assertTrue(all(a.get("result") == "OK" for a in n1.post(batch)))
        n1.call("sr_set_status", {"group": "gw", "status": 7})
        again = self.node("n3")
        self.assertTrue(wait_until(again.ready, DEADLINE, 0.05), "".join(again.log))
        self.assertTrue(self.converged([n1, again], "sr_list_reports"))
        self.assertEqual(again.call("sr_get_status", {"group": "gw"})["result"]["Status"], 7)

    # --- leases and membership ----------------------------------------------------

    def test_a_lease_expires_once_in_the_cluster(self):
        nodes = self.cluster()
        receivers = [UdpReceiver() for _ in nodes]
        try:
            for n, udp in zip(nodes, receivers):
                n.call("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", udp.socket, 60])
            # Named params only: OpenSIPS's positional arrays keep their meaning.
            self.assertEqual(nodes[0].call("sr_set_status", {"group": "gw", "status": 2,
                                                             "ttl": 2})["result"], "OK")
            for udp in receivers:
                self.assertEqual(udp.next()["params"]["status"], 2)
            for udp in receivers:  # raised on every instance, in the log's order
                self.assertEqual(udp.next()["params"], {"group": "gw", "identifier": "main",
                                                        "status": -1, "details": "expired",
                                                        "old_status": 2})
            db = self.uri.rsplit("/", 1)[1]
            self.assertEqual(self.pg.psql("SELECT count(*) FROM srmi_log "
                                          "WHERE change->>'k' = 'expire'", db=db), "1")
            # A renewal keeps it alive; a write without ttl ends the lease.
            nodes[1].call("sr_set_status", {"group": "gw", "status": 3, "ttl": 60})
            nodes[2].call("sr_set_status", {"group": "gw", "status": 4})
            bad = nodes[0].call("sr_set_status", {"group": "gw", "status": 1, "ttl": 0})
            self.assertEqual(bad["error"]["data"],
                             "Parameter 'ttl' must be an integer from 1 to 31536000")
        finally:
            for udp in receivers:
                udp.close()

    def test_membership_is_a_status_report_group(self):
        lapse = ("--heartbeat-lapse", "2")
        n1, n2, n3 = (self.node(f"n{i}", extra=lapse) for i in (1, 2, 3))
        for n in (n1, n2, n3):
            self.assertTrue(wait_until(n.ready, DEADLINE, 0.05))

        def member(node, name):
            answer = node.call("sr_get_status", {"group": "cluster", "identifier": name})
            return answer.get("result")
        for name in ("n1", "n2", "n3"):
            self.assertTrue(wait_until(
                lambda: member(n1, name) == {"Readiness": True, "Status": 1,
                                             "Details": "running"}, DEADLINE, 0.05))
        self.assertEqual(n1.get("/health/cluster/n2")[0], 200)
        # Read-only from outside, like core.
        self.assertEqual(n1.call("sr_set_status", {"group": "cluster", "identifier": "n2",
                                                   "status": 1})["error"]["code"], 403)
        n2.kill()
        self.assertTrue(wait_until(lambda: member(n1, "n2") == {
            "Readiness": False, "Status": -1, "Details": "unreachable"}, DEADLINE, 0.1))
        self.assertEqual(n3.get("/health/cluster/n2")[0], 503)
        self.assertEqual(n3.stop(), 0)  # its goodbye is committed before it exits ...
        self.assertTrue(wait_until(lambda: member(n1, "n3") == {  # ... and reaches n1 at once
            "Readiness": False, "Status": -2, "Details": "shutting down"}, DEADLINE, 0.02),
            f"n3 on n1: {member(n1, 'n3')}; n3's log:\n" + "".join(n3.log[-15:]))

    def test_leases_work_without_a_state_store(self):
        proc = subprocess.Popen([SRMI, "--listen", "127.0.0.1:0", "--group", "gw"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            port = None
            for line in proc.stderr:
                m = LISTENING.search(line)
                if m:
                    port = int(m.group(2))
                    break
            node = Node.__new__(Node)
            node.url = f"http://127.0.0.1:{port}"
            self.assertEqual(node.call("sr_add_identifier", {"group": "gw", "identifier": "pub",
                                                             "ttl": 1})["result"], "OK")
            self.assertTrue(wait_until(
                lambda: node.call("sr_get_status", {"group": "gw", "identifier": "pub"})["result"]
                == {"Readiness": False, "Status": -1, "Details": "expired"}, DEADLINE, 0.05))
        finally:
            proc.kill()
            proc.wait()

    # --- status history -----------------------------------------------------------

    def test_every_instance_keeps_the_same_history_naming_the_instance_written_to(self):
        n1, n2 = self.cluster(2)
        # The configuration's identifiers appeared when n1, up first, declared them.
        expected = {("gw", "main"): [(None, 1, None, "n1")],
                    ("db", "main"): [(None, 1, None, "n1")],
                    ("db", "replica"): [(None, 1, None, "n1")]}
        # Each write is answered once applied on the instance written to, and
        # the next waits until both have applied it (the other checks its
        # write against what it has applied): the log holds them in this
        # order, and each one's Old is known. (identifier, Old) of the entry
        # each adds; None: no entry.
        writes = [
            (n1, "sr_set_status", {"group": "gw", "status": -2, "details": "down"}, ("main", 1)),
            (n2, "sr_set_status", {"group": "gw", "status": 3, "details": "up"}, ("main", -2)),
            (n2, "sr_set_status", {"group": "gw", "status": 3, "details": "still up"}, None),
            (n1, "sr_add_identifier", {"group": "db", "identifier": "standby", "status": -1},
             ("standby", None)),
            (n2, "sr_set_status", {"group": "db", "identifier": "replica", "status": -3},
             ("replica", 1)),
            (n1, "sr_set_status", {"group": "db", "identifier": "replica", "status": -3,
                                   "details": "again"}, None),
            (n1, "sr_set_status", {"group": "db", "identifier": "standby", "status": 2},
             ("standby", -1)),
            (n2, "sr_add_identifier", {"group": "db", "identifier": "temp"}, None),
            (n1, "sr_remove_identifier", {"group": "db", "identifier": "temp"}, None),
            (n2, "sr_set_status", {"group": "gw", "status": 4, "ttl": 1}, ("main", 3)),
        ]
        for node, method, params, entry in writes:
            answer = node.call(method, params)
            self.assertEqual(answer.get("result"), "OK", (method, params, answer))
            self.assertTrue(self.converged([n1, n2]))
            if entry:
                identifier, old = entry
                expected.setdefault((params["group"], identifier), []).append(
                    (old, params["status"], params.get("details"), node.name))
        # The lease ends on the leader: the expiry is that instance's write.
        self.assertTrue(wait_until(lambda: all(
            n.history("gw")[-1]["Status"] == -1 for n in (n1, n2)), DEADLINE, 0.05))
        leader = self.pg.psql("SELECT node FROM srmi_log WHERE change->>'k' = 'expire'",
                              db=self.db())
        self.assertIn(leader, ("n1", "n2"))
        expected[("gw", "main")].append((4, -1, "expired", leader))
        for group in ("gw", "db", "cluster"):
            self.assertTrue(self.same_history([n1, n2], group), group)
        for (group, identifier), changes in expected.items():
            self.assertEqual([(e["Old"], e["Status"], e.get("Details"), e.get("Node"))
                              for e in n1.history(group, identifier)], changes,
                             f"{group}/{identifier}")
        self.assertEqual(sum(len(c) for c in expected.values()), 10)
        for group in ("gw", "db"):
            times = [e["Time"] for e in n1.history(group)]
            self.assertEqual(times, sorted(times))
        # The database holds the same, and nothing of the identifier removed.
        for n in (n1, n2):
            self.assert_stored(n, "gw", ["main"])
            self.assert_stored(n, "db", ["main", "replica", "standby"])
        self.assertEqual(self.stored_history("db", "temp"), [])
        self.assertEqual(n1.call("sr_status_history", {"group": "db", "identifier": "temp"})
                         ["error"]["code"], 404)

    def test_the_history_outlives_sigkill_and_a_new_instance_loads_it(self):
        n1, n2 = self.cluster(2)
        for i, status in enumerate([2, -2, 3, -3, 4, -4, 5, -5, 6, -6]):
            node = (n1, n2)[i % 2]
            self.assertEqual(node.call("sr_set_status", {"group": "gw", "status": status,
                                                         "details": f"w{i}"})["result"], "OK")
            self.assertEqual(node.call("sr_set_status", {"group": "db", "identifier": "replica",
                                                         "status": -status})["result"], "OK")
        for group in ("gw", "db"):
            self.assertTrue(self.same_history([n1, n2], group))
        before = {g: n1.history_text(g) for g in ("gw", "db")}
        self.assertEqual(len(json.loads(before["gw"])), 11)
        self.assertEqual(len(json.loads(before["db"])), 12)
        n1.kill()
        again = self.node("n1")
        self.assertTrue(wait_until(again.ready, DEADLINE, 0.05), "".join(again.log))
        fresh = self.node("n3")
        self.assertTrue(wait_until(fresh.ready, DEADLINE, 0.05), "".join(fresh.log))
        for g in ("gw", "db"):
            self.assertEqual(again.history_text(g), before[g], g)
            self.assertEqual(fresh.history_text(g), before[g], g)
        # The members' own history goes on (n3 joined, n1 came back): the same everywhere.
        self.assertTrue(self.same_history([again, n2, fresh], "cluster"))
        self.assertIn("n3", {e["Identifier"] for e in fresh.history("cluster")})

    def test_the_history_in_the_database_is_bounded_by_count(self):
        config = dict(CONFIG, history_changes=4)
        n1, n2 = (self.node(f"n{i}", config=config) for i in (1, 2))
        for n in (n1, n2):
            self.assertTrue(wait_until(n.ready, DEADLINE, 0.05))
        for i in range(10):
            self.assertEqual((n1, n2)[i % 2].call("sr_set_status", {"group": "gw",
                                                                    "status": i + 2})["result"],
                             "OK")
        rows = self.stored_history("gw", "main")
        self.assertEqual([(r["Old"], r["Status"]) for r in rows], [(7, 8), (8, 9), (9, 10),
                                                                   (10, 11)])
        self.assertTrue(self.same_history([n1, n2], "gw"))
        for n in (n1, n2):
            self.assert_stored(n, "gw", ["main"])

    def test_the_history_in_the_database_is_bounded_by_age(self):
        config = dict(CONFIG, history_age=5)
        n1 = self.node("n1", config=config)
        self.assertTrue(wait_until(n1.ready, DEADLINE, 0.05))
        for status in (2, 3, 4, 5):
            self.assertEqual(n1.call("sr_set_status", {"group": "gw", "status": status})["result"],
                             "OK")
        self.assertEqual(len(self.stored_history("gw", "main")), 5)
        # Pruned by the leader once 5 s old, but for the newest: the status since.
        self.assertTrue(wait_until(lambda: len(self.stored_history("gw", "main")) == 1,
                                   DEADLINE, 0.1))
        self.assertEqual(self.stored_history("gw", "main")[0]["Status"], 5)
        n2 = self.node("n2", config=config)
        self.assertTrue(wait_until(n2.ready, DEADLINE, 0.05))
        self.assertEqual([e["Status"] for e in n2.history("gw")], [5])
        # The next change trims memory as the table was: all alike again
        # (for 5 s: then the table drops the 5, and memory at the next change).
        self.assertEqual(n2.call("sr_set_status", {"group": "gw", "status": 6})["result"], "OK")
        self.assertTrue(self.same_history([n1, n2], "gw"))
        self.assert_stored(n1, "gw", ["main"])
        self.assertEqual([e["Status"] for e in n1.history("gw")], [5, 6])

    def test_a_database_of_schema_1_is_upgraded_keeping_the_registry(self):
        db = self.db()
        with open(os.path.join(HERE, "postgres_schema_v1.sql")) as f:
            self.pg.psql(f.read(), db=db)

        def ids(*names_statuses):
            return [{"i": i, "ik": i, "s": s, "d": None, "m": m} for i, s, m in names_statuses]
        # What an instance of schema 1 wrote: its groups (as CONFIG declares
        # them), a status, a report, an identifier added.
        changes = [
            {"g": "cluster", "gk": "cluster", "k": "group",
             "ids": [{"i": "old", "ik": "old", "s": -1, "d": "starting", "m": 0}]},
            {"g": "gw", "gk": "gw", "k": "group", "ids": ids(("main", 1, 50))},
            {"g": "db", "gk": "db", "k": "group", "ids": ids(("main", 1, 50), ("replica", 1, 3))},
            {"g": "gw", "gk": "gw", "k": "status", "i": "main", "ik": "main", "s": -2, "d": "down"},
            {"g": "db", "gk": "db", "k": "report", "i": "replica", "ik": "replica",
             "t": 1700000000, "l": "lag 3s"},
            {"g": "db", "gk": "db", "k": "add", "i": "standby", "ik": "standby", "s": 5,
             "d": "warm", "m": 50},
        ]
        self.pg.psql(f"SELECT srmi_append('old', '{json.dumps(changes)}'::jsonb)", db=db)
        n1 = self.node("n1")
        self.assertTrue(wait_until(n1.ready, DEADLINE, 0.05), "".join(n1.log))
        self.assertTrue(any("schema upgraded from version 1 to 2" in line for line in n1.log))
        self.assertEqual(self.pg.psql("SELECT value FROM srmi_meta WHERE key = 'schema_version'",
                                      db=db), "2")
        self.assertEqual(n1.call("sr_get_status", {"group": "gw"})["result"],
                         {"Readiness": False, "Status": -2, "Details": "down"})
        self.assertEqual([r["Log"] for r in n1.reports("db", "replica")], ["lag 3s"])
        self.assertEqual(n1.call("sr_list_identifiers", {"group": "db"})["result"]["Identifiers"],
                         ["main", "replica", "standby"])
        # History starts at the upgrade: each identifier known from then on, in its status then.
        gw = n1.history("gw")
        self.assertEqual([(e["Old"], e["Status"], e.get("Details"), e.get("Node")) for e in gw],
                         [(None, -2, "down", None)])
        self.assertEqual([(e["Identifier"], e["Old"], e["Status"]) for e in n1.history("db")],
                         [("main", None, 1), ("replica", None, 1), ("standby", None, 5)])
        self.assertEqual(n1.call("sr_set_status", {"group": "gw", "status": 3})["result"], "OK")
        # An instance of schema 1 still running: two arguments, changes undated.
        self.pg.psql("SELECT srmi_append('old', '[{\"g\": \"gw\", \"gk\": \"gw\", \"k\": "
                     "\"status\", \"i\": \"main\", \"ik\": \"main\", \"s\": 4, \"d\": null}]')",
                     db=db)
        self.assertTrue(wait_until(lambda: len(n1.history("gw")) == 3, DEADLINE, 0.05))
        self.assertEqual([(e["Old"], e["Status"], e.get("Node")) for e in n1.history("gw")],
                         [(None, -2, None), (-2, 3, "n1"), (3, 4, "old")])
        n2 = self.node("n2")
        self.assertTrue(wait_until(n2.ready, DEADLINE, 0.05), "".join(n2.log))
        for group in ("gw", "db", "cluster"):
            self.assertTrue(self.same_history([n1, n2], group), group)
        self.assert_stored(n1, "gw", ["main"])
        self.assert_stored(n1, "db", ["main", "replica", "standby"])

    # --- refusals at start-up ---------------------------------------------------

    def test_refusals_exit_2_with_a_clear_message(self):
        def run(*args):
            return subprocess.run([SRMI, "--listen", "127.0.0.1:0", *args], capture_output=True,
                                  text=True, timeout=DEADLINE)
        done = run("--state", "postgresql://u:pw@[bad", "--node-name", "x")
        self.assertEqual(done.returncode, 2)
        self.assertIn("not a PostgreSQL connection URI", done.stderr)
        self.assertNotIn(":pw@", done.stderr)
        done = run("--state", self.uri, "--state-dir", tempfile.gettempdir())
        self.assertEqual(done.returncode, 2)
        self.assertIn("exclude each other", done.stderr)
        # A database that is not srmi's is left as it was.
        self.pg.psql("CREATE DATABASE other")
        self.pg.psql("CREATE TABLE customers (id int)", db="other")
        other = self.uri.rsplit("/", 1)[0] + "/other"
        done = run("--state", other, "--node-name", "x")
        self.assertEqual(done.returncode, 2)
        self.assertIn("none is srmi's", done.stderr)
        self.assertNotIn(PASSWORD, done.stderr)
        self.assertEqual(self.pg.psql("SELECT string_agg(tablename, ',') FROM pg_tables "
                                      "WHERE schemaname = 'public'", db="other"), "customers")
        # Another schema version.
        n1 = self.node("n1")
        self.assertTrue(wait_until(n1.ready, DEADLINE, 0.05))
        db = self.uri.rsplit("/", 1)[1]
        self.pg.psql("UPDATE srmi_meta SET value = '99' WHERE key = 'schema_version'", db=db)
        done = run("--state", self.uri, "--node-name", "n9")
        self.assertEqual(done.returncode, 2)
        self.assertIn("schema version 99", done.stderr)
        self.pg.psql("UPDATE srmi_meta SET value = '2' WHERE key = 'schema_version'", db=db)
        # Two live instances with one name.
        done = run("--state", self.uri, "--node-name", "n1")
        self.assertEqual(done.returncode, 2)
        self.assertIn("already uses this name", done.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
