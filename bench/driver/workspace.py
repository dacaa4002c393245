"""The run's workspace: paths, the temporary directory (logs, generated
configs, raw figures: one JSON file per measurement under raw/, named after
its key), and every process the run starts, all ended when the run ends."""
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH = os.path.join(ROOT, "bench")
BUILD = os.path.join(ROOT, "build-bench")
SRMI = os.path.join(BUILD, "srmi")
LUA_DIR = os.path.join(BENCH, "wrk")

# Forked, not spawned: a load beside wrk starts at once, and takes the
# functions and arguments it runs as they are (the driver has no threads).
_FORK = multiprocessing.get_context("fork")


def nproc():
    """The CPUs this process may run on, as nproc(1) counts them."""
    return len(os.sched_getaffinity(0))


def log(message):
    print(f"== {message}", file=sys.stderr, flush=True)


class Workspace:
    """Removed on exit unless the run failed or BENCH_KEEP=1; its children
    get SIGTERM, a second to go, then SIGKILL."""

    def __init__(self):
        self.threads = int(os.environ.get("BENCH_THREADS") or nproc())
        # For wrk's Lua scripts and for what the run starts.
        os.environ["BENCH_THREADS"] = str(self.threads)
        os.environ["BENCH_LUA_DIR"] = LUA_DIR
        self.dir = tempfile.mkdtemp(prefix="srmi-bench.", dir=os.environ.get("TMPDIR") or "/tmp")
        self.raw_dir = os.path.join(self.dir, "raw")
        os.makedirs(self.raw_dir)
        self.children = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.end_children()
        failed = exc_type is not None and not (exc_type is SystemExit and exc.code in (0, None))
        if failed or os.environ.get("BENCH_KEEP") == "1":
            print(f"logs and raw figures kept in {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def path(self, name):
        return os.path.join(self.dir, name)

    # ------------------------------------------------------------ raw figures

    def save(self, key, data):
        with open(os.path.join(self.raw_dir, key + ".json"), "w") as f:
            json.dump(data, f)

    def load(self, key):
        with open(os.path.join(self.raw_dir, key + ".json")) as f:
            return json.load(f)

    # ------------------------------------------------------------ children

    def popen(self, args, **kwargs):
        """subprocess.Popen, remembered until forget()."""
        proc = subprocess.Popen(args, **kwargs)
        self.children.append(proc)
        return proc

    def spawn(self, name, function, *args):
        """function(*args) in a process of its own; finish() returns what it
        returned (JSON-able). Its result file is RUN/NAME.json."""
        out = self.path(name + ".json")
        sys.stdout.flush()
        sys.stderr.flush()
        child = _FORK.Process(target=_run_to_file, args=(out, function, args), name=name)
        child.start()
        child.out = out
        self.children.append(child)
        return child

    def finish(self, child, stop=False):
        """Waits for a spawn()ed process (after SIGTERM when stop) and returns
        its result; fails when it failed."""
        if stop:
            child.terminate()
        child.join()
        self.forget(child)
        if child.exitcode != 0:
            raise RuntimeError(f"{child.name} failed (exit code {child.exitcode})")
        with open(child.out) as f:
            return json.load(f)

    def forget(self, child):
        if child in self.children:
            self.children.remove(child)

    def end_children(self):
        for child in self.children:
            if _alive(child):
                child.terminate()
        for child in self.children:
            deadline = time.monotonic() + 1
            while _alive(child) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(child):
                child.kill()
            if isinstance(child, subprocess.Popen):
                child.wait()
            else:
                child.join()
        self.children = []


def _alive(child):
    return child.poll() is None if isinstance(child, subprocess.Popen) else child.is_alive()


def _run_to_file(out, function, args):
    result = function(*args)
    with open(out, "w") as f:
        json.dump(result, f)
