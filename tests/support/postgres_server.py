"""A real PostgreSQL server for the tests: Debian's own binaries, a temporary
directory, a free port on 127.0.0.1, run as an unprivileged user (`nobody`
when the tests run as root), stopped and removed afterwards, also when a test
fails. Password authentication over TCP, as a user's srmi would connect."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

from srmi_test import StartedInWith, wait_until

USER = "srmi"
PASSWORD = "s3cret-pw"


def _bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL's server is not installed (Debian package postgresql): "
                           "scripts/setup-tests.sh installs it")
    return os.path.dirname(found[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer(StartedInWith):
    """`with PostgresServer() as pg:` starts it; pg.uri(db) is a URI for srmi;
    pg.stop() and pg.start() stop and restart it on the same port and data."""

    def __init__(self):
        self.bindir = _bindir()
        self.dir = tempfile.mkdtemp(prefix="srmi-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.proc = None
        self.as_user = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
            self.as_user = ["runuser", "-u", "nobody", "--"]
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        if self.as_user:
            os.chown(pwfile, pwd.getpwnam("nobody").pw_uid, -1)
        self._run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", USER,
                   "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
                   "-E", "UTF8", "--locale=C"])
        os.unlink(pwfile)

    def _run(self, args):
        done = subprocess.run(self.as_user + args, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def start(self):
        self.log = open(os.path.join(self.dir, "postgres.log"), "a")
        self.proc = subprocess.Popen(
            self.as_user + [os.path.join(self.bindir, "postgres"), "-D", self.data,
                            "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
                            "-c", f"unix_socket_directories={self.dir}",
                            "-c", "max_connections=100"],
            stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_until(self._accepts, 60, 0.05):
            self.stop()
            raise RuntimeError("PostgreSQL did not start: " + self.server_log())
        return self

    def _accepts(self):
        if self.proc.poll() is not None:
            raise RuntimeError("PostgreSQL exited: " + self.server_log())
        done = subprocess.run(self.as_user + [os.path.join(self.bindir, "pg_isready"), "-h",
                                              "127.0.0.1", "-p", str(self.port)],
                              capture_output=True, timeout=10)
        return done.returncode == 0

    def server_log(self):
        try:
            with open(os.path.join(self.dir, "postgres.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def psql(self, sql, db="postgres"):
        """Runs sql through the local socket; returns psql's unaligned output."""
        return self._run([os.path.join(self.bindir, "psql"), "-h", self.dir, "-p", str(self.port),
                          "-U", USER, "-d", db, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                          "-c", sql]).strip()

    def create_database(self, name):
        self.psql(f'CREATE DATABASE "{name}"')
        return self.uri(name)

    def uri(self, db):
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{db}"

    def stop(self):
        """PostgreSQL's fast shutdown (clients cut off at once), by pg_ctl:
        a signal to runuser would not reach the server."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            subprocess.run(self.as_user + [os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                                           "-m", "fast", "-w", "-t", "60", "stop"],
                           capture_output=True, timeout=90)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()

    def remove(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def wait_for_port_free(port, timeout=10):
    def free():
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return True
            except OSError:
                return False
    return wait_until(free, timeout, 0.05)


if __name__ == "__main__":  # a smoke run: start, query, stop
    with PostgresServer() as pg:
        print(pg.psql("SELECT version()"))
        time.sleep(0)
