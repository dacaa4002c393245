#!/usr/bin/env python3
"""End-to-end: the real srmi binary as a user runs it.

Exit codes, config errors, a client that speaks exactly as python-opensips'
opensips-mi does (urllib, Content-Type application/json, string ids, every
positional value a string), and clean stops on SIGTERM and SIGINT.
Usage: e2e_test.py PATH/TO/srmi
"""
import http.server
import json
import os
import queue
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from srmi_test import LISTENING, wait_until  # noqa: E402

SRMI = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/srmi"
DEADLINE = 10  # seconds for any single wait


class Srmi:
    """A running srmi on 127.0.0.1, port 0; the port is read from its start-up log line."""

    def __init__(self, *args, tls_context=None):
        self.proc = subprocess.Popen([SRMI, "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.log = []
        self.tls_context = tls_context  # for https: trusts the server's CA
        end = time.monotonic() + DEADLINE
        self.port = None
        while time.monotonic() < end and self.port is None:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = LISTENING.search(line)
            if m:
                scheme, self.port = m.group(1), int(m.group(2))
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("srmi did not start: " + "".join(self.log))
        self.url = f"{scheme}://127.0.0.1:{self.port}/mi"

    def mi(self, method, params=None):
        """What opensips-mi's HTTP connector sends, and how it reads the answer."""
        cmd = {"jsonrpc": "2.0", "id": str(random.randint(0, 32767)), "method": method,
               "params": params if params else {}}
        req = urllib.request.Request(self.url, json.dumps(cmd).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=DEADLINE, context=self.tls_context) as reply:
            answer = json.loads(reply.read().decode())
        self.last_id = cmd["id"]
        return answer

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=DEADLINE)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        _, err = self.proc.communicate()  # drains and closes the pipes
        self.log += err.splitlines(keepends=True)
        return code


def run(*args):
    return subprocess.run([SRMI, *args], capture_output=True, text=True, timeout=DEADLINE)


class CommandLine(unittest.TestCase):
    def test_help_and_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--listen HOST:PORT", r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^srmi \d+\.\d+\.\d+ \(.+/.+\)\n$")

    def test_bad_flag_exits_2_naming_it(self):
        r = run("--listne", "x")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--listne'", r.stderr)

    def test_bad_config_exits_2_naming_file_and_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{ // comment\n "groups": ["a"], "treads": 2 }')
        try:
            r = run("--config", f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f.name, r.stderr)
        self.assertIn("unknown key 'treads'", r.stderr)

    def test_address_in_use_exits_1(self):
        first = Srmi()
        try:
            r = run("--listen", f"127.0.0.1:{first.port}")
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot listen", r.stderr)
        finally:
            first.stop()


class OpensipsMiClient(unittest.TestCase):
    """The sr_* commands as `opensips-mi -t http -p PORT CMD ARGS...` sends them."""

    def setUp(self):
        self.srmi = Srmi("--group", "custom", "--group", "alarms")

    def tearDown(self):
        self.assertEqual(self.srmi.stop(), 0)

    def result(self, method, params=None):
        answer = self.srmi.mi(method, params)
        self.assertEqual(answer.get("id"), self.srmi.last_id)
        self.assertNotIn("error", answer, answer)
        return answer["result"]

    def test_sr_commands_with_positional_strings(self):
        listing = self.result("sr_list_status")
        self.assertEqual([g["Name"] for g in listing], ["core", "custom", "alarms"])
        self.assertEqual(listing[0]["Identifiers"][0],
                         {"Name": "main", "Readiness": True, "Status": 1, "Details": "running"})

        self.assertEqual(self.result("sr_set_status", ["custom", "-3"]), "OK")
        self.assertEqual(self.result("sr_get_status", ["custom"]),
                         {"Readiness": False, "Status": -3})
        self.assertEqual(self.result("sr_add_report", ["custom", "first report"]), "OK")
        self.assertEqual(self.result("sr_set_status", {"group": "custom", "status": 2,
                                                       "details": "ok now"}), "OK")
        self.assertEqual(self.result("sr_get_status", ["CUSTOM", "main"]),
                         {"Readiness": True, "Status": 2, "Details": "ok now"})
        reports = self.result("sr_list_reports", ["custom", "main"])
        self.assertEqual([r["Log"] for r in reports], ["first report"])
        self.assertRegex(reports[0]["Date"], r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
        self.assertEqual(self.result("sr_list_identifiers", ["alarms"]),
                         {"Group": "alarms", "Identifiers": ["main"]})
        self.assertIn("sr_get_status", self.result("which", []))

    def test_errors_reach_the_client_as_jsonrpc_errors(self):
        answer = self.srmi.mi("sr_get_status", ["nope"])
        self.assertEqual(answer["error"], {"code": 404, "message": "Group not found"})
        answer = self.srmi.mi("sr_set_status", ["core", "1"])
        self.assertEqual(answer["error"], {"code": 403, "message": "Forbidden"})
        answer = self.srmi.mi("sr_set_status", ["custom", "ready"])
        self.assertEqual(answer["error"]["code"], -32602)


def extract_json(data):
    """opensips-event's json_helper: consecutive JSON texts, no separator."""
    found = []
    text = data.decode("utf-8")
    while text:
        try:
            obj, idx = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError:
            break
        found.append(obj)
        text = text[idx:]
    return found


class OpensipsEventClient(unittest.TestCase):
    """Subscriptions as python-opensips' opensips-event makes them over /mi."""

    def setUp(self):
        self.srmi = Srmi("--group", "custom")

    def tearDown(self):
        self.assertEqual(self.srmi.stop(), 0)

    def set_status(self, status, details=None):
        params = {"group": "custom", "status": status}
        if details:
            params["details"] = details
        self.assertEqual(self.srmi.mi("sr_set_status", params)["result"], "OK")

    def test_datagram(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(DEADLINE)
        name = f"udp:127.0.0.1:{sock.getsockname()[1]}"
        try:
            answer = self.srmi.mi("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", name, 3600])
            self.assertEqual(answer["result"], "OK")
            self.set_status(-3, "warming up")
            events = extract_json(sock.recv(65535))
            self.assertEqual(events, [{"jsonrpc": "2.0", "method": "E_CORE_SR_STATUS_CHANGED",
                                       "params": {"group": "custom", "identifier": "main",
                                                  "status": -3, "details": "warming up",
                                                  "old_status": 1}}])
            # Unsubscribing as the tool does: expire 0, answered "OK".
            answer = self.srmi.mi("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", name, 0])
            self.assertEqual(answer["result"], "OK")
        finally:
            sock.close()

    def test_stream(self):
        # The tool's stream reader accepts, reads once and closes, every time.
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(DEADLINE)
        name = f"tcp:127.0.0.1:{server.getsockname()[1]}"
        try:
            answer = self.srmi.mi("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", name, 3600])
            self.assertEqual(answer["result"], "OK")
            for status in (-3, 2):
                self.set_status(status)
                conn, _ = server.accept()
                with conn:
                    conn.settimeout(DEADLINE)
                    events = extract_json(conn.recv(1024))
                self.assertEqual([e["params"]["status"] for e in events], [status])
        finally:
            server.close()


class DurableState(unittest.TestCase):
    """--state-dir: what was acknowledged survives kill -9."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="srmi-state-")
        self.config = os.path.join(self.dir, "srmi.json")
        with open(self.config, "w") as f:
            json.dump({"state_dir": os.path.join(self.dir, "state"),
                       "groups": [{"name": "custom", "max_reports": 100000}, "db"]}, f)

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir], check=False)

    def start(self):
        return Srmi("--config", self.config)

    @staticmethod
    def public(answer):
        return [g for g in answer["result"] if g["Name"] != "core"]

    def test_kill_9_keeps_every_acknowledged_write(self):
        srmi = self.start()
        calls = [("sr_set_status", {"group": "custom", "status": -3, "details": "warming up"}),
                 ("sr_add_report", ["custom", "first report"]),
                 ("sr_add_report", ["custom", "second report"]),
                 ("sr_add_identifier", {"group": "db", "identifier": "replica", "status": -1,
                                        "details": "syncing", "max_reports": 2}),
                 ("sr_add_report", ["db", "replica", "r1"]),
                 ("sr_add_report", ["db", "replica", "r2"]),
                 ("sr_add_report", ["db", "replica", "r3"]),
                 ("sr_remove_identifier", ["db", "main"]),
                 ("sr_set_status", ["custom", "2"])]
        for method, params in calls:
            self.assertEqual(srmi.mi(method, params).get("result"), "OK", method)
        before = [self.public(srmi.mi(m)) for m in ("sr_list_status", "sr_list_reports")]
        srmi.proc.kill()  # SIGKILL: no flush, no goodbye
        srmi.proc.wait(timeout=DEADLINE)
        srmi.proc.communicate()

        again = self.start()
        try:
            after = [self.public(again.mi(m)) for m in ("sr_list_status", "sr_list_reports")]
            self.assertEqual(after, before)
            self.assertEqual([r["Log"] for r in after[1][1]["Identifiers"][0]["Reports"]], ["r2", "r3"])
            # core describes this run, never the last one.
            self.assertEqual(again.mi("sr_list_reports", ["core", "main"])["result"][0]["Log"], "initializing")
        finally:
            self.assertEqual(again.stop(), 0)

    def test_kill_9_keeps_the_status_history_and_availability(self):
        srmi = self.start()
        flips = [("custom", "main", -3, "warming up"), ("custom", "main", 2, None),
                 ("custom", "main", -1, "overloaded"), ("custom", "main", 1, "recovered"),
                 ("db", "main", -2, "replica lag")]
        for group, identifier, status, details in flips:
            params = {"group": group, "identifier": identifier, "status": status}
            if details is not None:
                params["details"] = details
            self.assertEqual(srmi.mi("sr_set_status", params).get("result"), "OK")
        self.assertEqual(srmi.mi("sr_set_status", ["custom", "1"]).get("result"), "OK")  # no change
        history = {g: srmi.mi("sr_status_history", [g, "all"])["result"] for g in ("custom", "db")}
        # The appearance, then each change (the write that changed nothing is not one).
        self.assertEqual([(e["Old"], e["Status"], e.get("Details")) for e in history["custom"]],
                         [(None, 1, None), (1, -3, "warming up"), (-3, 2, None),
                          (2, -1, "overloaded"), (-1, 1, "recovered")])
        times = [e["Time"] for e in history["custom"]]
        self.assertEqual(times, sorted(times))
        not_ready = srmi.mi("sr_availability", ["custom", "main"])["result"]["7d"]["NotReady"]
        srmi.proc.kill()  # SIGKILL: no flush, no goodbye
        srmi.proc.wait(timeout=DEADLINE)
        srmi.proc.communicate()

        again = self.start()
        try:
            for group, before in history.items():
                self.assertEqual(again.mi("sr_status_history", [group, "all"])["result"], before, group)
            # Closed not-ready spells are the same seconds after the restart.
            after = again.mi("sr_availability", ["custom", "main"])["result"]["7d"]
            self.assertAlmostEqual(after["NotReady"], not_ready, places=3)
            self.assertGreater(after["Availability"], 0)
        finally:
            self.assertEqual(again.stop(), 0)

    def test_writes_during_a_restart_loop_lose_nothing_acknowledged(self):
        acknowledged = []
        for round_ in range(3):
            srmi = self.start()
            done = threading.Event()

            def write(srmi=srmi, round_=round_):
                for n in range(5000):  # bounded; the kill ends it sooner
                    text = f"{round_}-{n}"
                    try:
                        ok = srmi.mi("sr_add_report", ["custom", text]).get("result") == "OK"
                    except Exception:  # the server died mid-request: not acknowledged
                        break
                    if ok:
                        acknowledged.append(text)
                done.set()

            before = len(acknowledged)
            writer = threading.Thread(target=write)
            writer.start()
            # Killed in the middle of writes: once some of this round's are acknowledged.
            self.assertTrue(wait_until(lambda: len(acknowledged) >= before + 20, DEADLINE))
            srmi.proc.kill()
            srmi.proc.wait(timeout=DEADLINE)
            writer.join(timeout=DEADLINE)
            self.assertTrue(done.is_set())
            srmi.proc.communicate()
        srmi = self.start()
        try:
            logs = [r["Log"] for r in srmi.mi("sr_list_reports", ["custom", "main"])["result"]]
        finally:
            self.assertEqual(srmi.stop(), 0)
        self.assertGreater(len(acknowledged), 30)
        # Every acknowledged report is there, in order; an unacknowledged last
        # one of a round may be there too (durable, but its answer was lost).
        self.assertEqual([log for log in logs if log in set(acknowledged)], acknowledged)

    def test_a_corrupt_state_file_is_refused_untouched(self):
        state = os.path.join(self.dir, "state")
        os.makedirs(state)
        path = os.path.join(state, "srmi-state.db")
        with open(path, "wb") as f:
            f.write(b"this is not a database" * 100)
        with open(path, "rb") as f:
            original = f.read()
        r = run("--config", self.config, "--listen", "127.0.0.1:0")
        self.assertEqual(r.returncode, 2)
        self.assertIn(path, r.stderr)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), original)
        self.assertEqual(sorted(os.listdir(state)), ["srmi-state.db"])


class Lifecycle(unittest.TestCase):
    def test_sigterm_and_sigint_stop_cleanly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig):
                srmi = Srmi()
                self.assertEqual(srmi.mi("sr_get_status", ["core"])["result"]["Status"], 1)
                self.assertEqual(srmi.stop(sig), 0)
                self.assertTrue(any("shutting down" in line for line in srmi.log), srmi.log)

    def test_config_file_groups_and_initial_status(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('''{
              // a producer that has not reported yet is not ready
              "groups": [{"name": "db", "initial_status": -1, "initial_details": "unknown",
                          "identifiers": ["main", {"name": "replica", "max_reports": 0}]}]
            }''')
        try:
            srmi = Srmi("--config", f.name)
            try:
                self.assertEqual(srmi.mi("sr_get_status", ["db"])["result"],
                                 {"Readiness": False, "Status": -1, "Details": "unknown"})
                self.assertEqual(srmi.mi("sr_list_identifiers", ["db"])["result"]["Identifiers"],
                                 ["main", "replica"])
                answer = srmi.mi("sr_add_report", {"group": "db", "identifier": "replica",
                                                   "report": "x"})
                self.assertEqual(answer["error"],
                                 {"code": 400, "message": "Identifier does not accept reports"})
            finally:
                self.assertEqual(srmi.stop(), 0)
        finally:
            os.unlink(f.name)


class FakeMi:
    """An HTTP server on port 0 that records each POSTed JSON body and answers
    `answer` with `status`: what `srmi call` puts on the wire, exactly."""

    def __init__(self, answer=None, status=200):
        received = self.received = []
        body = json.dumps(answer or {"jsonrpc": "2.0", "result": "OK", "id": 1}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers.get("Content-Type"), json.loads(data)))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/mi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(DEADLINE)


class Watch:
    """`srmi watch ARGS` in the background; its stdout and stderr lines arrive
    on queues (None at end of file), so every read has a deadline."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([SRMI, "watch", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out, self.err = queue.Queue(), queue.Queue()
        self.pumps = [threading.Thread(target=self._pump, args=pair, daemon=True)
                      for pair in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for pump in self.pumps:
            pump.start()

    @staticmethod
    def _pump(pipe, lines):
        for line in pipe:
            lines.put(line)
        lines.put(None)

    @staticmethod
    def next_line(lines):
        try:
            return lines.get(timeout=DEADLINE)
        except queue.Empty:
            raise AssertionError(f"no line within {DEADLINE} s") from None

    def wait_open(self):
        """Returns once the stream is open (and so the server taps events for it)."""
        line = self.next_line(self.err)
        if line is None or not line.startswith("srmi: watching "):
            raise AssertionError(f"srmi watch did not open the stream: {line!r}")

    def finish(self, sig=None):
        """Sends `sig` (if any), waits for the exit and returns its code."""
        if sig is not None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=DEADLINE)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=DEADLINE)
            for pump in self.pumps:
                pump.join(DEADLINE)
            self.proc.stdout.close()
            self.proc.stderr.close()


def free_port():
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cli(unittest.TestCase):
    """`srmi call` and `srmi watch` against a running srmi."""

    STATUS_CHANGED = ('{"jsonrpc":"2.0","method":"E_CORE_SR_STATUS_CHANGED","params":'
                      '{"group":"custom","identifier":"main","status":-3,'
                      '"details":"warming up","old_status":1}}\n')

    def setUp(self):
        self.srmi = Srmi("--group", "custom")

    def tearDown(self):
        if self.srmi is not None:
            self.assertEqual(self.srmi.stop(), 0)

    def call(self, *args, url=None):
        return run("call", "--url", url or self.srmi.url, *args)

    def test_named_params_are_json_values_and_the_result_is_indented(self):
        r = self.call("sr_set_status", "group=custom", "status=-3", "details=warming up")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, '"OK"\n', ""))
        r = self.call("sr_get_status", "custom")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, '{\n    "Readiness": false,\n    "Status": -3,\n'
                                   '    "Details": "warming up"\n}\n')

    def test_positional_params(self):
        r = self.call("sr_set_status", "custom", "-3")
        self.assertEqual((r.returncode, r.stdout), (0, '"OK"\n'), r.stderr)
        r = self.call("sr_get_status", "custom", "main")
        self.assertEqual(json.loads(r.stdout), {"Readiness": False, "Status": -3})

    def test_no_params(self):
        r = self.call("which")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("sr_get_status", json.loads(r.stdout))
        self.assertTrue(r.stdout.startswith('[\n    "'), r.stdout)

    def test_what_goes_on_the_wire(self):
        fake = FakeMi()
        try:
            for args, params in [
                (["sr_set_status", "group=custom", "status=-3", "details=warming up", "x=2.5",
                  "t=true", "n=null", "a=[1,\"b\"]", 'o={"k":"v"}', 'q="42"', "e="],
                 {"group": "custom", "status": -3, "details": "warming up", "x": 2.5, "t": True,
                  "n": None, "a": [1, "b"], "o": {"k": "v"}, "q": "42", "e": ""}),
                (["sr_set_status", "custom", "-3", "a b=c"], None),  # no name before '=': a value
                (["--raw-strings", "sr_set_status", "group=custom", "status=-3"],
                 {"group": "custom", "status": "-3"}),
                (["which"], None),
            ]:
                with self.subTest(args=args):
                    r = self.call(*args, url=fake.url)
                    self.assertEqual((r.returncode, r.stdout), (0, '"OK"\n'), r.stderr)
                    content_type, request = fake.received[-1]
                    self.assertEqual(content_type, "application/json")
                    self.assertEqual(request["jsonrpc"], "2.0")
                    self.assertIn("id", request)
                    if args == ["which"]:
                        self.assertNotIn("params", request)
                    elif params is None:
                        self.assertEqual(request["params"], ["custom", -3, "a b=c"])
                    else:
                        self.assertEqual(request["params"], params)
        finally:
            fake.close()

    def test_jsonrpc_errors_go_to_stderr_with_exit_1(self):
        r = self.call("sr_get_status", "nope")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (1, "", "404: Group not found\n"))
        r = self.call("sr_set_status", "custom", "a", "b")
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", "-32602: Invalid params (Ambiguous call)\n"))

    def test_bad_usage_exits_2_with_usage(self):
        r = self.call("sr_set_status", "group=custom", "3")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot be mixed", r.stderr)
        self.assertIn("Usage: srmi call", r.stderr)
        self.assertEqual(r.stdout, "")
        for args in (["call"], ["call", "--nope", "which"], ["watch", "--url"]):
            with self.subTest(args=args):
                self.assertEqual(run(*args).returncode, 2)
        r = run("call", "--url", "https://127.0.0.1/mi", "which")
        self.assertEqual(r.returncode, 2)
        self.assertIn("https URLs are not supported: call and watch speak plain http:// only", r.stderr)
        for url, why in (("127.0.0.1:8888", "it must begin with http://"), ("ftp://h/mi", "only http://"),
                         ("http://h:99999/mi", "port must be a number from 1 to 65535"),
                         ("http://u@h/mi", "user names are not supported"), ("http://[::1", "not a URL"),
                         ("http://::1:8888/mi", "an IPv6 address needs brackets")):
            with self.subTest(url=url):
                r = run("call", "--url", url, "which")
                self.assertEqual(r.returncode, 2)
                self.assertIn(f"srmi call: bad URL '{url}': {why}", r.stderr)
        r = run("call", "--raw-strings=yes", "which")
        self.assertEqual(r.returncode, 2)
        self.assertIn("option --raw-strings takes no value", r.stderr)
        r = run("call", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("Usage: srmi call", r.stdout)

    def test_unreachable_server_exits_3(self):
        port = free_port()
        r = run("call", "--url", f"http://127.0.0.1:{port}/mi", "which")
        self.assertEqual((r.returncode, r.stdout), (3, ""))
        self.assertEqual(r.stderr, f"srmi: cannot connect to 127.0.0.1:{port}: Connection refused\n")
        r = run("watch", "--url", f"http://127.0.0.1:{port}/events")
        self.assertEqual(r.returncode, 3)
        self.assertIn("Connection refused", r.stderr)
        fake = FakeMi(answer={"not": "json-rpc"}, status=500)
        try:
            r = self.call("which", url=fake.url)
            self.assertEqual(r.returncode, 3)
            self.assertIn("HTTP 500", r.stderr)
        finally:
            fake.close()

    def test_watch_prints_each_event_and_stops_on_sigint(self):
        watch = Watch("E_CORE_SR_STATUS_CHANGED", "--url", f"http://127.0.0.1:{self.srmi.port}/events")
        try:
            watch.wait_open()
            r = self.call("sr_set_status", "group=custom", "status=-3", "details=warming up")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(watch.next_line(watch.out), self.STATUS_CHANGED)
        finally:
            self.assertEqual(watch.finish(signal.SIGINT), 0)

    def test_watch_ends_with_the_stream(self):
        watch = Watch("--url", self.srmi.url)  # a /mi URL is followed at /events
        try:
            watch.wait_open()
            srmi, self.srmi = self.srmi, None
            self.assertEqual(srmi.stop(), 0)
        finally:
            self.assertEqual(watch.finish(), 0)


class Https(unittest.TestCase):
    """--tls-cert/--tls-key/--tls-client-ca with certificates made by the openssl command."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="srmi-e2e-tls-")
        d = cls.dir.name

        def openssl(*args):
            subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=DEADLINE)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=srmi e2e CA", "-keyout", "ca.key", "-out", "ca.pem")
        for name, cn, ext in [("server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                              ("client", "e2e-client", "extendedKeyUsage=clientAuth")]:
            with open(os.path.join(d, name + ".ext"), "w") as f:
                f.write(ext + "\n")
            openssl("req", *ec, "-subj", "/CN=" + cn, "-keyout", name + ".key", "-out", name + ".csr")
            openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
                    str(random.randint(2, 1 << 30)), "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def context(self, client_cert=False):
        ctx = ssl.create_default_context(cafile=self.path("ca.pem"))
        if client_cert:
            ctx.load_cert_chain(self.path("client.pem"), self.path("client.key"))
        return ctx

    def serve(self, *args):
        srmi = Srmi("--tls-cert", self.path("server.pem"), "--tls-key", self.path("server.key"), *args,
                    tls_context=self.context())
        self.addCleanup(lambda: self.assertEqual(srmi.stop(), 0))
        return srmi

    def test_https_with_the_ca(self):
        srmi = self.serve("--group", "custom")
        self.assertTrue(srmi.url.startswith("https://"))
        self.assertEqual(srmi.mi("sr_get_status", {"group": "custom"})["result"]["Status"], 1)
        if shutil.which("curl"):
            r = subprocess.run(["curl", "-sS", "--cacert", self.path("ca.pem"), srmi.url, "-d",
                                '{"jsonrpc":"2.0","method":"version","id":1}'],
                               capture_output=True, text=True, timeout=DEADLINE)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("srmi", json.loads(r.stdout)["result"]["Server"])

    def test_plain_http_on_the_tls_port_is_closed(self):
        srmi = self.serve()
        start = time.monotonic()
        with self.assertRaises((ConnectionError, OSError)):
            plain = urllib.request.Request(f"http://127.0.0.1:{srmi.port}/mi", b"{}")
            urllib.request.urlopen(plain, timeout=DEADLINE)
        self.assertLess(time.monotonic() - start, 2)

    def test_mutual_tls_requires_a_client_certificate(self):
        srmi = self.serve("--tls-client-ca", self.path("ca.pem"))
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            srmi.mi("version")
        srmi.tls_context = self.context(client_cert=True)
        self.assertIn("Server", srmi.mi("version")["result"])

    def test_unusable_tls_files_exit_2_naming_them(self):
        r = run("--tls-cert", "/nonexistent/cert.pem", "--tls-key", self.path("server.key"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("tls_cert '/nonexistent/cert.pem': cannot be read", r.stderr)
        r = run("--tls-cert", self.path("server.pem"), "--tls-key", self.path("client.key"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("does not match the certificate", r.stderr)
        r = run("--tls-cert", self.path("server.pem"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("tls_cert is set without tls_key", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
