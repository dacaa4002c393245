#!/usr/bin/env python3
"""Contract test: the real srmi against openapi/srmi.yaml.

Starts the srmi binary given as argv[1] and checks that what it answers is
what the document says: every JSON-RPC method of `x-jsonrpc-methods` (named
and positional calls, aliases, errors), the probes, /metrics, the dashboard
and /events. A method that the server's `which` lists but the document does
not describe (or the other way round) fails the test, so the document cannot
lag behind the code. The methods part of the document is generated from the
dispatch table (`srmi openapi`; srmi_openapi_current keeps the committed file
equal to it), so what this checks is that the table tells the truth about
its handlers: each method needs its case in CASES below.

Needs PyYAML and jsonschema with JSON Schema 2020-12 (Debian: python3-yaml,
python3-jsonschema).
"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest
import warnings

import jsonschema
import yaml

SRMI = None
SPEC_PATH = os.environ.get("SRMI_OPENAPI_SPEC") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "openapi", "srmi.yaml")
SPEC_URI = "urn:srmi:openapi"


def load_spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


SPEC = load_spec()


def _make_validator_factory(spec):
    """Returns schema -> validator, $refs resolved within the whole document."""
    try:
        if os.environ.get("SRMI_OPENAPI_REFRESOLVER"):  # to test the fallback below
            raise ImportError("RefResolver asked for")
        from referencing import Registry, Resource  # jsonschema >= 4.18
        from referencing.jsonschema import DRAFT202012

        registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT202012))

        def make(pointer):
            return jsonschema.Draft202012Validator({"$ref": SPEC_URI + "#" + pointer}, registry=registry)
    except ImportError:  # Debian bookworm's jsonschema 4.10: RefResolver
        resolver = jsonschema.RefResolver(base_uri="", referrer=spec)

        def make(pointer):
            return jsonschema.Draft202012Validator({"$ref": "#" + pointer}, resolver=resolver)

    return make


_make_validator = _make_validator_factory(SPEC)
_validators = {}


def pointer_of(ref):
    assert ref.startswith("#/"), ref
    return ref[1:]


def validate(instance, pointer):
    """Validates instance against the schema at JSON pointer `pointer` of the document."""
    if pointer not in _validators:
        _validators[pointer] = _make_validator(pointer)
    errors = sorted(_validators[pointer].iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise AssertionError(f"{json.dumps(instance)[:400]} does not match {pointer}: {best.message} "
                             f"(at {list(best.absolute_path)})")


def deref(node):
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in pointer_of(node["$ref"]).strip("/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def schema_pointer(ref_node):
    return pointer_of(ref_node["$ref"])


METHODS = SPEC["x-jsonrpc-methods"]


class Srmi:
    """The real server on 127.0.0.1, on a free port."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([SRMI, "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.port = None
        lines = []
        for line in self.proc.stderr:
            lines.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/mi", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("srmi did not start: " + "".join(lines))
        # Keep draining stderr so that the server never blocks on a full pipe.
        import threading
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        self.next_id = 0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def http(self, method, target, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            res = conn.getresponse()
            data = res.read()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, data
        finally:
            conn.close()

    def call(self, request):
        status, headers, data = self.http("POST", "/mi", json.dumps(request),
                                          {"Content-Type": "application/json"})
        return status, headers, data


def media_matches(key, content_type):
    """A content key matches when the type is the same and its parameters are all in the header."""
    def parse(text):
        parts = [p.strip() for p in text.split(";")]
        params = {}
        for p in parts[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                params[k.strip().lower()] = v.strip().lower()
        return parts[0].lower(), params

    key_type, key_params = parse(key)
    header_type, header_params = parse(content_type)
    return key_type == header_type and all(header_params.get(k) == v for k, v in key_params.items())


class ContractCase(unittest.TestCase):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.srmi = Srmi(*cls.server_args)

    @classmethod
    def tearDownClass(cls):
        cls.srmi.stop()

    def check_http(self, path, method, status, headers, body):
        """Checks an HTTP answer against paths[path][method].responses[status]."""
        item = SPEC["paths"][path]
        self.assertIn(method, item, f"{method.upper()} {path} is not in the document")
        responses = item[method]["responses"]
        self.assertIn(str(status), responses, f"{method.upper()} {path}: status {status} is not documented")
        response = deref(responses[str(status)])
        for name, header in response.get("headers", {}).items():
            header = deref(header)
            value = headers.get(name.lower())
            if header.get("required"):
                self.assertIsNotNone(value, f"{method.upper()} {path} {status}: header {name} missing")
            if value is not None and "schema" in header:
                schema = header["schema"]
                if "$ref" in schema:
                    validate(value, schema_pointer(schema))
                else:
                    jsonschema.Draft202012Validator(schema).validate(value)
        content = response.get("content")
        if method == "head" or not content:
            self.assertEqual(body, b"", f"{method.upper()} {path} {status}: body not documented")
            return None
        content_type = headers.get("content-type", "")
        keys = [k for k in content if media_matches(k, content_type)]
        self.assertTrue(keys, f"{method.upper()} {path} {status}: Content-Type {content_type!r} "
                              f"not among {list(content)}")
        media = content[keys[0]]
        text = body.decode("utf-8")
        instance = json.loads(text) if keys[0].startswith("application/json") else text
        schema = media.get("schema", {})
        if "$ref" in schema:
            validate(instance, schema_pointer(schema))
        else:
            path_ptr = "/paths/" + path.replace("~", "~0").replace("/", "~1") + f"/{method}/responses/{status}"
            if "$ref" in responses[str(status)]:
                path_ptr = schema_pointer(responses[str(status)])
            validate(instance, f"{path_ptr}/content/{keys[0].replace('~', '~0').replace('/', '~1')}/schema")
        return instance


class JsonRpcMethodsTest(ContractCase):
    server_args = ("--group", "app", "--group", "db", "--profiling-proc", "off")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.udp.bind(("127.0.0.1", 0))
        cls.udp_socket = "udp:127.0.0.1:%d" % cls.udp.getsockname()[1]
        cls.called_ok = set()
        cls.called_error = set()

    @classmethod
    def tearDownClass(cls):
        cls.udp.close()
        super().tearDownClass()

    # -- helpers ---------------------------------------------------------------

    def answer(self, method, params, request_valid):
        self.srmi.next_id += 1
        request = {"jsonrpc": "2.0", "method": method, "id": self.srmi.next_id}
        if params is not None:
            request["params"] = params
        validate(request, "/components/schemas/JsonRpcRequest")
        if request_valid:
            validate(request, "/components/schemas/MethodCall")
        status, headers, data = self.srmi.call(request)
        self.check_http("/mi", "post", status, headers, data)
        answer = json.loads(data)
        validate(answer, "/components/schemas/JsonRpcResponse")
        self.assertEqual(answer["id"], request["id"])
        return answer

    def ok(self, method, params=None, name=None):
        """A valid call of `method` (or of its alias `name`): checks the request and the result."""
        answer = self.answer(name or method, params, request_valid=True)
        self.assertIn("result", answer, f"{name or method} {json.dumps(params)}: {answer.get('error')}")
        validate(answer["result"], schema_pointer(METHODS[method]["result"]))
        if isinstance(params, dict):
            validate(params, schema_pointer(METHODS[method]["params"]))
        self.called_ok.add(method)
        return answer["result"]

    def error(self, method, params, code, message, data=None):
        """A failing call: the error object is documented, for the method or as a generic one."""
        answer = self.answer(method, params, request_valid=False)
        self.assertIn("error", answer, f"{method} {json.dumps(params)} succeeded: {answer.get('result')}")
        error = answer["error"]
        validate(error, "/components/schemas/JsonRpcError")
        expected = {"code": code, "message": message}
        if data is not None:
            expected["data"] = data
        self.assertEqual(error, expected, f"{method} {json.dumps(params)}")
        generic = code in (-32600, -32601) or (code == -32602 and data in (
            "Too few or too many parameters", "Named parameters do not match", "Ambiguous call"))
        if not generic:
            documented = [(e["code"], e["message"]) for e in METHODS[method]["errors"]]
            self.assertIn((code, message), documented, f"{method}: error {error} is not in its `errors`")
            if data is not None:
                datas = [e.get("data") for e in METHODS[method]["errors"]
                         if (e["code"], e["message"]) == (code, message)]
                patterns = [re.escape(d).replace("SOCKET", ".*").replace("REASON", ".*") for d in datas if d]
                self.assertTrue(any(re.fullmatch(p, data) for p in patterns),
                                f"{method}: error data {data!r} is not in its `errors` ({datas})")
        self.called_error.add(method)
        return error

    # -- the document and the server list the same methods ---------------------

    def test_00_which_matches_document(self):
        served = self.ok("which")
        documented = list(METHODS)
        missing = [m for m in served if m not in METHODS]
        extra = [m for m in documented if m not in served]
        self.assertEqual(missing, [], "methods served (which) but missing from x-jsonrpc-methods")
        self.assertEqual(extra, [], "methods in x-jsonrpc-methods that the server does not serve")
        self.assertEqual(served, documented, "x-jsonrpc-methods is not in the order `which` lists")
        # MethodCall has one alternative per method, and every method's `request` is one of them.
        alternatives = [a["$ref"] for a in SPEC["components"]["schemas"]["MethodCall"]["oneOf"]]
        self.assertEqual(sorted(alternatives), sorted(m["request"]["$ref"] for m in METHODS.values()))
        mapping = SPEC["components"]["schemas"]["MethodCall"]["discriminator"]["mapping"]
        for name, entry in METHODS.items():
            for alias in [name, *entry["aliases"]]:
                self.assertEqual(mapping.get(alias), entry["request"]["$ref"], f"MethodCall mapping for {alias}")
        # Every method has a test below.
        self.assertEqual(sorted(CASES), sorted(METHODS), "methods without a contract case (CASES)")

    def test_01_every_method(self):
        for method in METHODS:
            with self.subTest(method=method):
                CASES[method](self)
                self.assertIn(method, self.called_ok, f"{method}: no valid call")
                self.assertIn(method, self.called_error, f"{method}: no error case")

    def test_02_aliases(self):
        alias_params = {"sr_get_status": ["app"], "event_subscribe": ["E_CORE_LOG", self.udp_socket, 0],
                        "subscribers_list": None, "raise_event": ["E_CORE_LOG"], "help": ["which"],
                        "profiling_proc": None}
        for method, entry in METHODS.items():
            for alias in entry["aliases"]:
                with self.subTest(alias=alias):
                    params = alias_params.get(method)
                    if method == "raise_event":
                        self.ok("event_subscribe", ["E_CORE_LOG", self.udp_socket, 60])
                    self.ok(method, params, name=alias)
                    if method == "raise_event":
                        self.ok("event_subscribe", ["E_CORE_LOG", self.udp_socket, 0])

    def test_03_batch_and_protocol_errors(self):
        batch = [{"jsonrpc": "2.0", "method": "uptime", "id": 1},
                 {"jsonrpc": "2.0", "method": "sr_add_report", "params": ["app", "batch"]},
                 {"jsonrpc": "2.0", "method": "version", "id": 2}]
        validate(batch, "/components/schemas/JsonRpcBatchRequest")
        status, headers, data = self.srmi.http("POST", "/mi", json.dumps(batch))
        self.check_http("/mi", "post", status, headers, data)
        answer = json.loads(data)
        validate(answer, "/components/schemas/JsonRpcBatchResponse")
        self.assertEqual([a["id"] for a in answer], [1, 2])
        status, headers, data = self.srmi.http("POST", "/mi", "{nope")
        answer = json.loads(data)
        validate(answer, "/components/schemas/JsonRpcErrorResponse")
        self.assertEqual(answer["error"], {"code": -32700, "message": "Parse error"})
        self.assertEqual(self.answer("no_such_method", None, False)["error"],
                         {"code": -32601, "message": "Method not found"})
        status, headers, data = self.srmi.http("POST", "/mi", json.dumps(batch[1]))
        self.check_http("/mi", "post", status, headers, data)
        self.assertEqual(status, 204)
        status, headers, data = self.srmi.http("GET", "/mi")
        self.check_http("/mi", "get", status, headers, data)
        self.assertEqual(status, 405)


def case_sr_get_status(t):
    t.ok("sr_get_status", {"group": "app"})
    t.ok("sr_get_status", ["app", "main"])
    t.ok("sr_get_status", ["core"])
    t.ok("sr_get_status", {"group": "APP", "identifier": "all"})
    t.error("sr_get_status", {"group": "nope"}, 404, "Group not found")
    t.error("sr_get_status", ["app", "nope"], 404, "Identity not found")
    t.error("sr_get_status", [], -32602, "Invalid params", "Too few or too many parameters")
    t.error("sr_get_status", {"grp": "app"}, -32602, "Invalid params", "Named parameters do not match")


def case_sr_check_status(t):
    t.assertEqual(t.ok("sr_check_status", ["app"]), 1)
    t.ok("sr_check_status", {"group": "app", "identifier": "ALL"})
    t.ok("sr_check_status", ["core", "main"])
    t.error("sr_check_status", ["nope"], 404, "Group not found")
    t.error("sr_check_status", {"group": "app", "identifier": "nope"}, 404, "Identity not found")
    t.error("sr_check_status", None, -32602, "Invalid params", "Too few or too many parameters")


def case_sr_list_status(t):
    t.ok("sr_list_status")
    t.ok("sr_list_status", [])
    t.ok("sr_list_status", ["app"])
    t.ok("sr_list_status", {"group": "core"})
    t.error("sr_list_status", ["nope"], 404, "Group not found")
    t.error("sr_list_status", ["app", "main"], -32602, "Invalid params", "Too few or too many parameters")


def case_sr_list_reports(t):
    t.ok("sr_add_report", ["app", "for sr_list_reports"])
    t.ok("sr_list_reports")
    t.ok("sr_list_reports", {})
    t.ok("sr_list_reports", ["app"])
    t.ok("sr_list_reports", {"group": "app", "identifier": "main"})
    t.error("sr_list_reports", ["nope"], 404, "Group not found")
    t.error("sr_list_reports", ["app", "nope"], 404, "Identifier not found")


def case_sr_status_history(t):
    t.ok("sr_set_status", {"group": "app", "status": -2, "details": "for sr_status_history"})
    t.ok("sr_set_status", {"group": "app", "status": 1})
    changes = t.ok("sr_status_history", {"group": "app"})
    t.assertGreaterEqual(len(changes), 3)
    t.assertIsNone(changes[0]["Old"])
    t.ok("sr_status_history", ["app", "all"])
    t.ok("sr_status_history", ["app", "main", "0", "253402300799", "2"])
    t.ok("sr_status_history", {"group": "app", "since": 1.5, "limit": 1})
    t.ok("sr_status_history", {"group": "app", "identifier": "main", "until": 253402300799})
    t.error("sr_status_history", {"group": "app", "since": "soon"}, -32602, "Invalid params",
            "Parameter 'since' must be a number of seconds since the epoch (0 to 253402300799)")
    t.error("sr_status_history", {"group": "app", "until": -1}, -32602, "Invalid params",
            "Parameter 'until' must be a number of seconds since the epoch (0 to 253402300799)")
    t.error("sr_status_history", {"group": "app", "since": 10, "until": 5}, -32602, "Invalid params",
            "Parameter 'until' must not be before 'since'")
    t.error("sr_status_history", {"group": "app", "limit": 0}, -32602, "Invalid params",
            "Parameter 'limit' must be an integer from 1 to 1000000")
    t.error("sr_status_history", ["nope"], 404, "Group not found")
    t.error("sr_status_history", ["app", "nope"], 404, "Identifier not found")


def case_sr_availability(t):
    every = t.ok("sr_availability", ["app"])
    t.assertEqual(every[0]["Name"], "all")
    t.ok("sr_availability", {"group": "app", "identifier": "main"})
    t.ok("sr_availability", ["app", "ALL"])
    t.error("sr_availability", ["nope"], 404, "Group not found")
    t.error("sr_availability", ["app", "nope"], 404, "Identifier not found")


def case_sr_list_identifiers(t):
    t.ok("sr_list_identifiers")
    t.ok("sr_list_identifiers", ["app"])
    t.ok("sr_list_identifiers", {"group": "core"})
    t.error("sr_list_identifiers", {"group": "nope"}, 404, "Group not found")


def case_sr_set_status(t):
    t.ok("sr_set_status", {"group": "app", "status": 1, "details": "up"})
    t.ok("sr_set_status", ["app", 2])
    t.ok("sr_set_status", ["app", "main", "3", "positional"])
    t.ok("sr_set_status", {"group": "app", "identifier": "main", "status": 1})
    t.error("sr_set_status", ["core", 1], 403, "Forbidden")
    t.error("sr_set_status", ["app", "x"], -32602, "Invalid params", "Parameter 'status' must be an integer")
    t.error("sr_set_status", {"group": "app", "status": 1, "details": 5}, -32602, "Invalid params",
            "Parameter 'details' must be a string")
    t.error("sr_set_status", ["nope", 1], 404, "Group not found")
    t.error("sr_set_status", {"group": "app", "identifier": "nope", "status": 1}, 404, "Identifier not found")
    t.error("sr_set_status", ["app", "main", 1], -32602, "Invalid params", "Ambiguous call")


def case_sr_add_report(t):
    t.ok("sr_add_report", ["app", "hello"])
    t.ok("sr_add_report", {"group": "app", "identifier": "main", "report": "named"})
    t.ok("sr_add_report", ["app", "main", "positional"])
    t.error("sr_add_report", {"group": "app", "report": 5}, -32602, "Invalid params",
            "Parameter 'report' must be a string")
    t.error("sr_add_report", ["core", "x"], 403, "Forbidden")
    t.error("sr_add_report", ["nope", "x"], 404, "Group not found")
    t.error("sr_add_report", ["app", "nope", "x"], 404, "Identifier not found")
    t.ok("sr_add_identifier", {"group": "db", "identifier": "quiet", "max_reports": 0})
    t.error("sr_add_report", ["db", "quiet", "x"], 400, "Identifier does not accept reports")


def case_sr_add_identifier(t):
    optional = {"status": -1, "details": "syncing", "max_reports": 10}
    names = list(optional)
    for mask in range(1 << len(names)):
        params = {"group": "db", "identifier": f"r{mask}"}
        params.update({n: optional[n] for i, n in enumerate(names) if mask & (1 << i)})
        t.ok("sr_add_identifier", params)
    t.ok("sr_add_identifier", ["db", "p2"])
    t.ok("sr_add_identifier", ["db", "p5", "-1", "syncing", "5"])
    t.ok("sr_add_identifier", {"group": "db", "identifier": "s0", "status": "2", "max_reports": "0"})
    t.error("sr_add_identifier", ["db", "R1"], 409, "Identifier already exists")
    t.error("sr_add_identifier", ["core", "x"], 403, "Forbidden")
    t.error("sr_add_identifier", ["nope", "x"], 404, "Group not found")
    t.error("sr_add_identifier", {"group": "db", "identifier": ""}, -32602, "Invalid params",
            "Parameter 'identifier' must be a non-empty string")
    t.error("sr_add_identifier", {"group": "db", "identifier": "z", "status": "abc"}, -32602, "Invalid params",
            "Parameter 'status' must be an integer")
    t.error("sr_add_identifier", {"group": "db", "identifier": "z", "details": 5}, -32602, "Invalid params",
            "Parameter 'details' must be a string")
    t.error("sr_add_identifier", {"group": "db", "identifier": "z", "max_reports": -1}, -32602, "Invalid params",
            "Parameter 'max_reports' must be an integer from 0 to 1000000")
    t.error("sr_add_identifier", ["db", "z", 1], -32602, "Invalid params", "Ambiguous call")
    t.error("sr_add_identifier", ["db"], -32602, "Invalid params", "Too few or too many parameters")


def case_sr_remove_identifier(t):
    t.ok("sr_add_identifier", ["db", "gone1"])
    t.ok("sr_add_identifier", ["db", "gone2"])
    t.ok("sr_remove_identifier", ["db", "gone1"])
    t.ok("sr_remove_identifier", {"group": "db", "identifier": "GONE2"})
    t.error("sr_remove_identifier", ["db", "nope"], 404, "Identifier not found")
    t.error("sr_remove_identifier", ["core", "main"], 403, "Forbidden")
    t.error("sr_remove_identifier", ["nope", "main"], 404, "Group not found")
    t.error("sr_remove_identifier", ["app", "main"], 400, "Cannot remove the last identifier of a group")
    t.error("sr_remove_identifier", ["app"], -32602, "Invalid params", "Too few or too many parameters")


def case_events_list(t):
    t.ok("events_list")
    t.ok("events_list", [])
    t.ok("events_list", {})
    t.error("events_list", ["x"], -32602, "Invalid params", "Too few or too many parameters")


def case_event_subscribe(t):
    t.ok("event_subscribe", {"event": "E_CORE_SR_STATUS_CHANGED", "socket": t.udp_socket})
    t.ok("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", t.udp_socket, 60])
    t.ok("event_subscribe", {"event": "E_CORE_LOG", "socket": t.udp_socket, "expire": "0"})
    t.error("event_subscribe", ["E_NOPE", t.udp_socket], 400, "Bad parameter value", "unknown event")
    t.error("event_subscribe", ["E_CORE_LOG", "smtp:x"], 400, "Bad parameter value",
            "bad socket 'smtp:x': unknown scheme; expected udp:HOST:PORT, tcp:HOST:PORT, unix:/path, "
            "http://HOST[:PORT]/path, https://HOST[:PORT]/path, rabbitmq:HOST/ROUTING_KEY or "
            "kafka:BROKER/TOPIC")
    t.error("event_subscribe", ["E_CORE_LOG", "rabbitmq:127.0.0.1/colour=red?k"], 400, "Bad parameter value",
            "bad socket 'rabbitmq:127.0.0.1/colour=red?k': unknown parameter 'colour'; "
            "expected exchange=NAME, persistent or tls_domain=NAME")
    t.error("event_subscribe", ["E_CORE_LOG", "kafka:127.0.0.1/t?g.no.such.property=1"], 400,
            "Bad parameter value",
            "bad socket 'kafka:127.0.0.1/t?g.no.such.property=1': No such configuration property: "
            "\"no.such.property\"")
    t.error("event_subscribe", [5, t.udp_socket], 400, "Bad parameter value")
    t.error("event_subscribe", ["E_CORE_LOG", t.udp_socket, -1], -32602, "Invalid params", "Negative expire value")
    t.error("event_subscribe", ["E_CORE_LOG", t.udp_socket, "soon"], -32602, "Invalid params",
            "Parameter 'expire' must be an integer")


def case_subscribers_list(t):
    t.ok("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", t.udp_socket, 60])
    t.ok("subscribers_list")
    t.ok("subscribers_list", ["E_CORE_SR_STATUS_CHANGED"])
    t.ok("subscribers_list", {"event": "E_CORE_LOG"})
    t.ok("subscribers_list", ["E_CORE_SR_STATUS_CHANGED", t.udp_socket])
    t.error("subscribers_list", ["E_NOPE"], 404, "Event not published")
    t.error("subscribers_list", ["E_CORE_SR_STATUS_CHANGED", "udp:127.0.0.1:1"], 404, "Subscriber does not exist")


def case_raise_event(t):
    t.ok("event_subscribe", ["E_CORE_SR_STATUS_CHANGED", t.udp_socket, 60])
    t.ok("raise_event", {"event": "E_CORE_SR_STATUS_CHANGED", "params": {"group": "x"}})
    t.ok("raise_event", ["E_CORE_SR_STATUS_CHANGED"])
    t.ok("raise_event", ["E_CORE_SR_STATUS_CHANGED", "[1, 2]"])
    t.error("raise_event", ["E_NOPE"], 404, "Event not registered")
    t.error("raise_event", ["E_CORE_PKG_THRESHOLD"], 480, "Temporarily Unavailable")
    t.error("raise_event", ["E_CORE_SR_STATUS_CHANGED", 5], -32602, "Invalid params",
            "Parameter 'params' must be an object, an array or a string holding one")


def case_profiling_proc(t):
    t.assertEqual(t.ok("profiling_proc"), {"state": "off"})
    t.ok("profiling_proc", ["on"])
    t.ok("profiling_proc", {"state": "off"})
    t.ok("profiling_proc", [])
    t.error("profiling_proc", ["maybe"], -32602, "Invalid params", "Parameter 'state' must be on or off")


def case_which(t):
    t.ok("which")
    t.ok("which", [])
    t.error("which", ["x"], -32602, "Invalid params", "Too few or too many parameters")


def case_help(t):
    t.ok("help", ["sr_get_status"])
    t.ok("help", {"mi_cmd": "status_report:get"})
    t.error("help", ["nope"], 404, "unknown MI command")
    t.error("help", None, -32602, "Invalid params", "Too few or too many parameters")


def case_version(t):
    t.ok("version")
    t.ok("version", {})
    t.error("version", {"x": 1}, -32602, "Invalid params", "Too few or too many parameters")


def case_uptime(t):
    t.ok("uptime")
    t.ok("uptime", [])
    t.error("uptime", [1], -32602, "Invalid params", "Too few or too many parameters")


CASES = {name[len("case_"):]: fn for name, fn in dict(globals()).items() if name.startswith("case_")}


class HttpEndpointsTest(ContractCase):
    """Probes, /metrics, the dashboard and /events, on a server whose readiness needs group `db`."""

    @classmethod
    def setUpClass(cls):
        cls.config = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump({"ready_requires": ["db"]}, cls.config)
        cls.config.close()
        cls.server_args = ("--group", "app", "--group", "db", "--config", cls.config.name)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.unlink(cls.config.name)

    def get(self, template, target, method="GET", expect=None):
        status, headers, body = self.srmi.http(method, target)
        if expect is not None:
            self.assertEqual(status, expect, f"{method} {target}: {body[:200]!r}")
        return status, headers, self.check_http(template, method.lower(), status, headers, body)

    def set_status(self, group, status):
        _, _, data = self.srmi.call({"jsonrpc": "2.0", "method": "sr_set_status",
                                     "params": [group, status], "id": 1})
        self.assertEqual(json.loads(data).get("result"), "OK")

    def test_health(self):
        g, gi = "/health/{group}", "/health/{group}/{identifier}"
        self.get(g, "/health/app", expect=200)
        self.get(g, "/health/APP", expect=200)
        self.get(gi, "/health/app/main", expect=200)
        _, _, body = self.get(gi, "/health/app/all", expect=200)
        self.assertEqual(body["status"], 1)
        self.get(g, "/health/nope", expect=404)
        self.get(gi, "/health/app/nope", expect=404)
        self.get(g, "/health/app", "HEAD", expect=200)
        self.get(gi, "/health/nope/main", "HEAD", expect=404)
        self.get(g, "/health/app", "POST", expect=405)
        self.get(gi, "/health/app/main", "POST", expect=405)
        self.set_status("app", -2)
        try:
            _, _, body = self.get(g, "/health/app", expect=503)
            self.assertFalse(body["readiness"])
            self.get(gi, "/health/app/all", expect=503)
            self.get(g, "/health/app", "HEAD", expect=503)
        finally:
            self.set_status("app", 1)

    def test_livez_readyz(self):
        for path in ("/livez", "/readyz"):
            _, _, body = self.get(path, path, expect=200)
            self.assertNotIn("checks", body)
            _, _, body = self.get(path, path + "?verbose", expect=200)
            self.assertEqual(body["checks"][0]["name"], "core")
            self.get(path, path, "HEAD", expect=200)
            self.get(path, path, "POST", expect=405)
        self.set_status("db", -1)
        try:
            _, _, body = self.get("/readyz", "/readyz", expect=503)
            self.assertEqual(body["failed"], ["db"])
            _, _, body = self.get("/readyz", "/readyz?verbose", expect=503)
            self.assertEqual([c["name"] for c in body["checks"]], ["core", "db"])
            self.get("/readyz", "/readyz", "HEAD", expect=503)
        finally:
            self.set_status("db", 1)

    def test_metrics(self):
        _, headers, body = self.get("/metrics", "/metrics", expect=200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        self.assertIn("srmi_", body)
        self.get("/metrics", "/metrics", "HEAD", expect=200)
        self.get("/metrics", "/metrics", "POST", expect=405)

    def test_dashboard(self):
        for path in ("/", "/index.html"):
            _, headers, body = self.get(path, path, expect=200)
            self.assertTrue(headers["content-type"].startswith("text/html"))
            self.assertIn("<html", body.lower())
            self.get(path, path, "HEAD", expect=200)
            self.get(path, path, "POST", expect=405)

    def test_events(self):
        status, headers, body = self.srmi.http("GET", "/events?event=E_NOPE")
        self.check_http("/events", "get", status, headers, body)
        self.assertEqual(status, 404)
        status, headers, body = self.srmi.http("POST", "/events")
        self.check_http("/events", "post", status, headers, body)
        self.assertEqual(status, 405)

        conn = http.client.HTTPConnection("127.0.0.1", self.srmi.port, timeout=10)
        try:
            conn.request("GET", "/events?event=E_CORE_SR_STATUS_CHANGED")
            res = conn.getresponse()
            headers = {k.lower(): v for k, v in res.getheaders()}
            self.assertEqual(res.status, 200)
            response = SPEC["paths"]["/events"]["get"]["responses"]["200"]
            self.check_http("/events", "get", 200, headers, b"x")  # headers and media type
            self.assertIsNone(headers.get("content-length"))
            first = res.fp.readline() + res.fp.readline()
            self.assertEqual(first, b": srmi event stream\n\n")
            self.set_status("app", -3)
            line = res.fp.readline()
            self.assertTrue(line.startswith(b"data: ") and line.endswith(b"\n"), line)
            self.assertEqual(res.fp.readline(), b"\n")
            frame = json.loads(line[len(b"data: "):])
            frame_schema = response["content"]["text/event-stream"]["x-frame-schema"]
            validate(frame, schema_pointer(frame_schema))
            validate(frame, "/components/schemas/SrStatusChangedNotification")
            self.assertEqual(frame["params"]["status"], -3)
        finally:
            conn.close()
            self.set_status("app", 1)



class AccessControlTest(ContractCase):
    """A server with tokens: 401 as documented on every path, and each
    method's documented role is the one the server enforces."""

    TOKENS = {"read": "contract-read-token-0123456789", "write": "contract-write-token-012345678",
              "admin": "contract-admin-token-01234567"}

    @classmethod
    def setUpClass(cls):
        cls.config = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump({"groups": ["app"], "profiling_proc": "off",
                   "tokens": [{"token": t, "role": r} for r, t in cls.TOKENS.items()]}, cls.config)
        cls.config.close()
        cls.server_args = ("--config", cls.config.name)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.unlink(cls.config.name)

    def test_unauthorized_everywhere(self):
        for path, item in SPEC["paths"].items():
            target = path.replace("{group}", "app").replace("{identifier}", "main")
            for method in item:
                if method not in ("get", "post", "head", "put", "delete", "patch", "options"):
                    continue
                with self.subTest(path=path, method=method):
                    status, headers, data = self.srmi.http(method.upper(), target, "{}" if method == "post" else None)
                    self.assertEqual(status, 401)
                    self.check_http(path, method, status, headers, data)

    def test_documented_roles_are_enforced(self):
        order = ["read", "write", "admin"]
        for name, method in METHODS.items():
            self.assertIn(method.get("role"), order, f"{name}: no documented role")
            for caller in order:
                with self.subTest(method=name, caller=caller):
                    # No parameters: a method within the role answers something
                    # other than 403 (often -32602); one beyond it, 403 first.
                    request = {"jsonrpc": "2.0", "method": name, "id": 1}
                    status, _, data = self.srmi.http("POST", "/mi", json.dumps(request),
                                                     {"Authorization": "Bearer " + self.TOKENS[caller]})
                    self.assertEqual(status, 200)
                    code = json.loads(data).get("error", {}).get("code")
                    beyond = order.index(method["role"]) > order.index(caller)
                    self.assertEqual(code == 403, beyond, f"{name} as {caller}: {data!r}")

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: contract_test.py PATH/TO/srmi [unittest args]")
    SRMI = sys.argv.pop(1)
    warnings.simplefilter("ignore", DeprecationWarning)
    unittest.main(verbosity=2)
