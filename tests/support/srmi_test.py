"""What the Python tests of the srmi binary share: waiting on a condition with
a deadline (never a bare sleep), the start-up line that names the port, and
an srmi process driven over HTTP as a user's curl would."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

# The line srmi logs once it listens; port 0 gives the real port here.
LISTENING = re.compile(r"listening on (https?)://127\.0\.0\.1:(\d+)/mi")


def wait_until(predicate, timeout, interval=0.01):
    """Polls `predicate` every `interval` seconds; True as soon as it holds,
    False if it still does not once `timeout` seconds have passed."""
    end = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(interval)


def stop_process(proc, timeout, sig=signal.SIGTERM):
    """Sends `sig` to a process still running and waits `timeout` seconds for
    it to exit, killing it if it has not; returns its exit status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class StartedInWith:
    """For a test server with start() and remove(): `with Server() as s:`
    starts it, and removes it on leaving, also when start() itself fails."""

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.remove()
            raise

    def __exit__(self, *exc):
        self.remove()


class SrmiProcess:
    """`build/srmi ARGS... --listen 127.0.0.1:0 --config FILE` with `config`
    written to a temporary file; its log is drained into self.log by a
    thread, its port read from the start-up line. call()/post()/get() speak
    to it over HTTP; stop() is SIGTERM (waited for), kill() SIGKILL."""

    DEADLINE = 20  # seconds for any single wait

    def __init__(self, srmi, config, args=(), name="srmi", wait=True):
        self.dir = tempfile.mkdtemp(prefix="srmi-proc-")
        self.config_path = os.path.join(self.dir, "srmi.json")
        with open(self.config_path, "w") as f:
            json.dump(config, f)
        self.name = name
        self.args = [srmi, "--listen", "127.0.0.1:0", "--config", self.config_path, *args]
        self.log = []
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.port = None
        self.listening = threading.Event()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        if wait:
            if not self.listening.wait(self.DEADLINE) or self.port is None:
                self.proc.kill()
                raise RuntimeError(f"srmi {name} did not start: " + "".join(self.log))
            self.url = f"http://127.0.0.1:{self.port}"

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)
            m = LISTENING.search(line)
            if m and self.port is None:
                self.port = int(m.group(2))
                self.listening.set()
        self.listening.set()

    def call(self, method, params=None, timeout=DEADLINE):
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
        return self.post(body, timeout)

    def post(self, body, timeout=DEADLINE):
        req = urllib.request.Request(self.url + "/mi", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as reply:
            return json.loads(reply.read())

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=self.DEADLINE) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def ready(self):
        return self.get("/readyz")[0] == 200

    def subscriber(self, event, socket):
        """`socket`'s entry in subscribers_list of `event`, or None."""
        reply = self.call("subscribers_list", {"event": event, "socket": socket})
        if "error" in reply:
            return None
        return next((s for s in reply["result"]["Event"]["Subscribers"] if s["socket"] == socket), None)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=self.DEADLINE)
        self._release()

    def stop(self):
        code = stop_process(self.proc, self.DEADLINE)
        self._release()
        return code

    def _release(self):
        """Once the process is gone: its log read to the end, the pipe and
        the temporary directory let go."""
        self.reader.join(timeout=self.DEADLINE)
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
