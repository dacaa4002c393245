"""What the Python tests of the srmi binary share: waiting on a condition with
a deadline (never a bare sleep), and the start-up line that names the port."""
import re
import signal
import subprocess
import time

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
