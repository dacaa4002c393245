"""One keep-alive HTTP client of srmi's POST /mi, and the figures read from
GET /metrics and /proc."""
import http.client
import json
import re
import urllib.parse


class Client:
    """One keep-alive connection to srmi's POST /mi."""

    def __init__(self, url, timeout=30):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path or "/mi"
        self.timeout = timeout
        self.conn = None

    def post_raw(self, body):
        if isinstance(body, str):
            body = body.encode()
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", self.path, body, {"Content-Type": "application/json"})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def call(self, method, params=None):
        _, data = self.post_raw(json.dumps(rpc(method, params)))
        return json.loads(data)

    def batch(self, requests):
        _, data = self.post_raw(json.dumps(requests))
        return json.loads(data) if data else []

    def get(self, path):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def rpc(method, params, id_=1):
    """A JSON-RPC 2.0 request object (no "params" when params is None)."""
    out = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        out["params"] = params
    return out


def metrics(url):
    """RPC request and error counts (by method:code), event deliveries and
    drops, and RSS from srmi's /metrics."""
    status, data = Client(url).get("/metrics")
    if status != 200:
        raise RuntimeError(f"GET /metrics answered {status}")
    out = {"rpc_requests": 0, "rpc_errors": 0, "errors_by": {}, "deliveries": 0, "drops": 0, "rss": None}
    for line in data.decode().splitlines():
        if line.startswith("srmi_rpc_requests_total{"):
            labels, value = line.rsplit(" ", 1)
            value = float(value)
            out["rpc_requests"] += value
            code = re.search(r'code="([^"]*)"', labels).group(1)
            if code != "0":
                out["rpc_errors"] += value
                method = re.search(r'method="([^"]*)"', labels).group(1)
                out["errors_by"][f"{method}:{code}"] = value
        elif line.startswith("srmi_event_deliveries_total{"):
            out["deliveries"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("srmi_event_drops_total"):
            out["drops"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("process_resident_memory_bytes"):
            out["rss"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("srmi_state_log_applied "):
            out["log_applied"] = int(float(line.rsplit(" ", 1)[1]))
    return out


def metrics_delta(before, after):
    """What a run added to the counters of metrics(): its JSON-RPC errors
    (and by method:code), event deliveries and drops."""
    return {"rpc_errors": after["rpc_errors"] - before["rpc_errors"],
            "errors_by": {k: v - before["errors_by"].get(k, 0) for k, v in after["errors_by"].items()
                          if v != before["errors_by"].get(k, 0)},
            "deliveries": after["deliveries"] - before["deliveries"],
            "drops": after["drops"] - before["drops"]}


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


def rss_bytes(pid):
    """VmRSS of /proc/PID/status, in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return None
