#!/usr/bin/env python3
"""Hostile clients against the real srmi binary, on 127.0.0.1 only.

Each test does something a broken or malicious client does, bounded in count
and time, then checks that a normal request is still answered and that the
server's resident memory came back near its baseline. Usage:
hostile_test.py PATH/TO/srmi
"""
import json
import os
import re
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from srmi_test import LISTENING, stop_process, wait_until  # noqa: E402

SRMI = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/srmi"
DEADLINE = 20  # seconds for any single wait
RSS_MARGIN_KIB = 24 * 1024  # "near the baseline": allocator caches, thread stacks
GET_STATUS = b'{"jsonrpc":"2.0","method":"sr_get_status","params":{"group":"core"},"id":1}'


def http_request(body, target="/mi", extra=b""):
    return (b"POST " + target.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n" + extra +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def read_response(sock, deadline):
    """One HTTP/1.1 response (Content-Length framed): (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a complete header: %r" % data[:200])
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed mid-body")
        rest += chunk
    return status, headers, rest[:length]


def closed_within(sock, seconds):
    """True when the server closes `sock` (EOF or reset) within `seconds`,
    after whatever answer it sends first."""
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            sock.settimeout(max(0.01, end - time.monotonic()))
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


class Srmi:
    """srmi on 127.0.0.1 port 0, logs to a file (never a full pipe)."""

    def __init__(self, *args):
        self.log = tempfile.NamedTemporaryFile(prefix="srmi-hostile-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([SRMI, "--listen", "127.0.0.1:0", "--group", "app", *args],
                                     stdout=subprocess.DEVNULL, stderr=self.log)

        def listening_port():
            with open(self.log.name) as f:
                m = LISTENING.search(f.read())
            return int(m.group(2)) if m else None

        wait_until(lambda: self.proc.poll() is not None or listening_port() is not None, DEADLINE)
        self.port = listening_port()
        if self.port is None:
            log = open(self.log.name).read()
            self.stop()
            raise RuntimeError("srmi did not start: " + log)

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def call(self, body=GET_STATUS):
        with self.connect() as s:
            s.sendall(http_request(body))
            return read_response(s, time.monotonic() + DEADLINE)

    def stop(self):
        code = stop_process(self.proc, DEADLINE)
        self.log.close()
        os.unlink(self.log.name)
        return code


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srmi = Srmi()
        # Warm up (threads, first allocations) before the baseline is read.
        for _ in range(200):
            cls.srmi.call()
        cls.baseline = cls.srmi.rss_kib()

    @classmethod
    def tearDownClass(cls):
        code = cls.srmi.stop()
        assert code == 0, "srmi did not stop cleanly: exit %s" % code

    def tearDown(self):
        # After every hostile act: still answering, memory back near the baseline.
        status, _, body = self.srmi.call()
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["result"]["Status"], 1)
        # Connections may still be closing.
        wait_until(lambda: self.srmi.rss_kib() <= self.baseline + RSS_MARGIN_KIB, 5, interval=0.1)
        self.assertLessEqual(self.srmi.rss_kib(), self.baseline + RSS_MARGIN_KIB,
                             "resident memory did not come back near its baseline (%d KiB)" % self.baseline)

    def test_garbage_bytes(self):
        import random
        rng = random.Random(6)
        for size in (1, 17, 512, 4096, 65536):
            with self.srmi.connect() as s:
                s.sendall(bytes(rng.getrandbits(8) for _ in range(size)) + b"\r\n\r\n")
                self.assertTrue(closed_within(s, 5), "garbage of %d bytes was not answered or closed" % size)

    def test_truncated_requests(self):
        full = http_request(GET_STATUS)
        for cut in (5, 20, len(full) - len(GET_STATUS) - 2, len(full) - 10):
            with self.srmi.connect() as s:
                s.sendall(full[:cut])
                s.shutdown(socket.SHUT_WR)  # then nothing more: EOF mid-request
                self.assertTrue(closed_within(s, 5))

    def test_oversized_header_block_and_url(self):
        with self.srmi.connect() as s:
            s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
            status, _, _ = read_response(s, time.monotonic() + DEADLINE)
            self.assertEqual(status, 431)
        with self.srmi.connect() as s:
            s.sendall(b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, _ = read_response(s, time.monotonic() + DEADLINE)
            self.assertIn(status, (414, 431))
        with self.srmi.connect() as s:  # many small header lines
            s.sendall(b"GET /livez HTTP/1.1\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n")
            status, _, _ = read_response(s, time.monotonic() + DEADLINE)
            self.assertEqual(status, 431)

    def test_absurd_content_length(self):
        for length in (b"99999999999999999999999", b"18446744073709551615", b"-1", b"12abc", b"1, 2"):
            with self.srmi.connect() as s:
                s.sendall(b"POST /mi HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n{}")
                status, _, _ = read_response(s, time.monotonic() + DEADLINE)
                self.assertIn(status, (400, 413), length)

    def test_64_mib_body(self):
        with self.srmi.connect() as s:
            s.sendall(b"POST /mi HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (64 << 20))
            chunk = b"[" * 65536
            sent = 0
            try:
                while sent < (64 << 20):
                    s.sendall(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused early: the point
            status, _, _ = read_response(s, time.monotonic() + DEADLINE)
            self.assertEqual(status, 413)
        with self.srmi.connect() as s:  # announced, never sent: refused on the header alone
            s.sendall(b"POST /mi HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (64 << 20))
            status, _, _ = read_response(s, time.monotonic() + DEADLINE)
            self.assertEqual(status, 413)

    def test_json_nested_100000_deep(self):
        for body in (b"[" * 100000 + b"]" * 100000, b'{"a":' * 100000 + b"1" + b"}" * 100000):
            started = time.monotonic()
            status, _, answer = self.srmi.call(body)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(answer)["error"]["code"], -32600)
            self.assertLess(time.monotonic() - started, 5)

    def test_invalid_utf8(self):
        for body in (b'{"jsonrpc":"2.0","method":"sr_get_status","params":{"group":"\xff\xfe"},"id":1}',
                     b'{"jsonrpc":"2.0","method":"sr_\xc3","id":1}', b'\xc0\xaf' + GET_STATUS):
            status, _, answer = self.srmi.call(body)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(answer)["error"]["code"], -32700)

    def test_batch_of_10000(self):
        one = {"jsonrpc": "2.0", "method": "sr_set_status", "params": {"group": "app", "status": 2}}
        batch = [dict(one, id=i) for i in range(10000)]
        status, _, answer = self.srmi.call(json.dumps(batch).encode())
        self.assertEqual(status, 200)
        answer = json.loads(answer)
        # Refused whole (more than max_batch), so nothing in it ran.
        self.assertEqual(answer["error"]["code"], -32600)
        status, _, body = self.srmi.call(b'{"jsonrpc":"2.0","method":"sr_get_status","params":{"group":"app"},"id":1}')
        self.assertEqual(json.loads(body)["result"]["Status"], 1)

    def test_300_half_open_connections_do_not_starve_others(self):
        stalled = []
        try:
            for _ in range(300):
                s = self.srmi.connect()
                s.sendall(b"POST /mi HTTP/1.1\r\nHost: x\r\nContent-Le")  # and then nothing
                stalled.append(s)
            started = time.monotonic()
            status, _, _ = self.srmi.call()
            self.assertEqual(status, 200)
            self.assertLess(time.monotonic() - started, 1.0, "a normal client waited behind stalled ones")
        finally:
            for s in stalled:
                s.close()

    def test_1000_concurrent_keep_alive_clients(self):
        selector = selectors.DefaultSelector()
        socks = []
        try:
            for _ in range(1000):
                s = self.srmi.connect()
                socks.append(s)
            for round_ in range(2):  # two requests each, on the same connections
                pending = {}
                for s in socks:
                    s.sendall(http_request(GET_STATUS))
                    s.setblocking(False)
                    selector.register(s, selectors.EVENT_READ)
                    pending[s] = b""
                answered = 0
                end = time.monotonic() + DEADLINE
                while pending and time.monotonic() < end:
                    for key, _ in selector.select(timeout=0.5):
                        s = key.fileobj
                        chunk = s.recv(65536)
                        self.assertTrue(chunk, "a keep-alive client was closed")
                        pending[s] += chunk
                        head, sep, rest = pending[s].partition(b"\r\n\r\n")
                        if sep:
                            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
                            if len(rest) >= length:
                                self.assertTrue(head.startswith(b"HTTP/1.1 200"))
                                selector.unregister(s)
                                s.setblocking(True)
                                del pending[s]
                                answered += 1
                self.assertEqual(answered, 1000, "round %d" % round_)
        finally:
            selector.close()
            for s in socks:
                s.close()

    def test_clients_reset_mid_response(self):
        # A large answer (every report of 200 identifiers) that the client
        # does not wait for: it resets the connection instead.
        for i in range(200):
            self.srmi.call(json.dumps({"jsonrpc": "2.0", "method": "sr_add_identifier",
                                       "params": {"group": "app", "identifier": "id%d" % i}, "id": 1}).encode())
            self.srmi.call(json.dumps({"jsonrpc": "2.0", "method": "sr_add_report",
                                       "params": {"group": "app", "identifier": "id%d" % i, "report": "x" * 2000},
                                       "id": 1}).encode())
        listing = b'{"jsonrpc":"2.0","method":"sr_list_reports","id":1}'
        for _ in range(100):
            s = self.srmi.connect()
            s.sendall(http_request(listing) * 3)  # pipelined, then gone
            s.recv(100)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # RST
        for i in range(200):
            self.srmi.call(json.dumps({"jsonrpc": "2.0", "method": "sr_remove_identifier",
                                       "params": {"group": "app", "identifier": "id%d" % i}, "id": 1}).encode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
