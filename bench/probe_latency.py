#!/usr/bin/env python3
"""Round-trip latency of the health-check probes on one keep-alive connection.

Starts build/srmi (or the path given) on 127.0.0.1:0, sends N GETs to each
probe and prints median and p99 in microseconds. Python's own client overhead
is included, so the figures are an upper bound for the server's share.
Usage: bench/probe_latency.py [PATH/TO/srmi] [N]
"""
import http.client
import re
import subprocess
import sys
import time

binary = sys.argv[1] if len(sys.argv) > 1 else "build/srmi"
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000

proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--group", "custom"],
                        stderr=subprocess.PIPE, text=True)
try:
    port = None
    deadline = time.monotonic() + 10
    while port is None and time.monotonic() < deadline:
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/mi", proc.stderr.readline())
        if match:
            port = int(match.group(1))
    if port is None:
        sys.exit("srmi did not start")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    print(f"{count} requests per probe, one keep-alive connection")
    for path in ("/livez", "/readyz", "/health/custom", "/health/custom/all"):
        times = []
        for _ in range(count):
            start = time.perf_counter()
            conn.request("GET", path)
            conn.getresponse().read()
            times.append(time.perf_counter() - start)
        times.sort()
        print(f"{path:22} median {times[len(times) // 2] * 1e6:6.0f} us   "
              f"p99 {times[int(len(times) * 0.99)] * 1e6:6.0f} us")
finally:
    proc.terminate()
    proc.wait(timeout=10)
