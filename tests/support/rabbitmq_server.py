"""A real RabbitMQ broker for the tests: Debian's rabbitmq-server, entirely in
a temporary directory (node name, mnesia, logs, config, cookie), on free
ports of 127.0.0.1 (AMQP, optional AMQPS, Erlang distribution) and with its
own epmd on a free port, so it neither needs nor touches a system broker or a
system epmd on 4369. Run as Debian's `rabbitmq` user when the tests run as
root; stopped and removed afterwards, also when a test fails, down to the last
beam.smp, erl_child_setup and epmd."""
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

from amqp_consumer import CONNECTION_ERRORS, pika
from postgres_server import free_port
from srmi_test import StartedInWith, wait_until

RABBITMQ_BIN = "/usr/lib/rabbitmq/bin"
EPMD = "epmd"
# Set in the environment of every process started for one broker (inherited by
# the VM, its port programs and any epmd it spawns): how remove() finds all of
# them, whatever process group or session they ended up in.
MARKER = "SRMI_TEST_RABBITMQ_DIR"
START_DEADLINE = 120  # seconds; a cold start takes a few seconds on 2 busy cores
STOP_DEADLINE = 60


def _free_ports(n):
    """n distinct free ports: free_port() may hand out the same one twice."""
    ports = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _accepts_tcp(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _marked_pids(directory):
    """Processes whose environment carries MARKER=directory."""
    needle = f"{MARKER}={directory}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:  # gone meanwhile, or not ours to read
            pass
    return found


def _kill(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _make_certificates(directory):
    """A CA and a server certificate for 127.0.0.1 and localhost, by the
    openssl command (as tests/server/e2e_test.py makes its own)."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=srmi test RabbitMQ CA",
            "-keyout", "ca.key", "-out", "ca.pem")
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", str(secrets.randbelow(1 << 30) + 2), "-days", "2",
            "-extfile", "server.ext", "-out", "server.pem")


class RabbitMQServer(StartedInWith):
    """`with RabbitMQServer() as mq:` starts a broker; mq.amqp_port, mq.url();
    mq.stop() and mq.start() stop and restart it on the same ports, node name
    and data (durable queues and persistent messages survive);
    mq.stop(kill=True) kills it instead, as a crash would.
    With tls=True it also listens for AMQPS on mq.tls_port with a certificate
    signed by mq.ca_file (no client certificate asked).
    Login guest/guest from 127.0.0.1, RabbitMQ's default."""

    def __init__(self, tls=False):
        server = os.path.join(RABBITMQ_BIN, "rabbitmq-server")
        if not os.access(server, os.X_OK):
            raise RuntimeError("RabbitMQ's server is not installed (Debian package rabbitmq-server): "
                               "scripts/setup-tests.sh installs it")
        self.dir = tempfile.mkdtemp(prefix="srmi-rabbitmq-")
        self.nodename = f"srmi-test-{secrets.token_hex(4)}@localhost"
        ports = _free_ports(4 if tls else 3)
        self.amqp_port, self.dist_port, self.epmd_port = ports[:3]
        self.tls_port = ports[3] if tls else None
        self.ca_file = None
        self.proc = None
        self.epmd = None
        self.log = None
        self.start_seconds = None  # how long the last start() took
        # Debian's account for this very server: owns nothing of ours outside
        # this directory, and keeps the broker's processes apart in ps from
        # the PostgreSQL test servers, which run as nobody.
        self.user = pwd.getpwnam("rabbitmq") if os.geteuid() == 0 else None
        try:
            self._write_files(tls)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def _path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _write_files(self, tls):
        def write(name, text, mode=0o644):
            with open(self._path(name), "w") as f:
                f.write(text)
            os.chmod(self._path(name), mode)

        # Erlang refuses a cookie others can read; HOME points here, so the
        # broker and rabbitmqctl share it and never read ~rabbitmq's.
        write(".erlang.cookie", secrets.token_hex(16).upper(), 0o400)
        write("rabbitmq-env.conf", "")  # instead of /etc/rabbitmq/rabbitmq-env.conf
        write("enabled_plugins", "[].\n")  # no management plugin & co.: starts faster
        conf = [f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}",
                "loopback_users.guest = true",
                # A nearly full disk must not block publishers mid-test.
                "disk_free_limit.absolute = 1MB",
                "log.console = false",
                "log.file.level = info"]
        if tls:
            os.mkdir(self._path("tls"))
            _make_certificates(self._path("tls"))
            self.ca_file = self._path("tls", "ca.pem")
            conf += [f"listeners.ssl.default = 127.0.0.1:{self.tls_port}",
                     f"ssl_options.cacertfile = {self.ca_file}",
                     f"ssl_options.certfile = {self._path('tls', 'server.pem')}",
                     f"ssl_options.keyfile = {self._path('tls', 'server.key')}",
                     "ssl_options.verify = verify_none",
                     "ssl_options.fail_if_no_peer_cert = false"]
        write("rabbitmq.conf", "\n".join(conf) + "\n")
        if self.user:
            for root, dirs, files in os.walk(self.dir):
                for name in [root] + [os.path.join(root, n) for n in files]:
                    os.chown(name, self.user.pw_uid, self.user.pw_gid)

    def _env(self):
        """The broker's, epmd's and rabbitmqctl's environment: everything in
        the temporary directory, nothing from a RABBITMQ_* or ERL_* of ours."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RABBITMQ_", "ERL_")) and k != "NOTIFY_SOCKET"}  # not systemd's
        loopback = "-kernel inet_dist_use_interface {127,0,0,1}"
        env.update({
            MARKER: self.dir,
            "HOME": self.dir,
            "LC_ALL": "C.UTF-8",  # rabbitmqctl (Elixir) warns on a non-UTF-8 locale
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": self._path("rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": self._path("rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": self._path("advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": self._path("enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": self._path("mnesia"),
            "RABBITMQ_LOG_BASE": self._path("log"),
            "RABBITMQ_LOGS": self._path("log", "rabbit.log"),
            "RABBITMQ_PID_FILE": self._path("rabbit.pid"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": self._path("plugins-expand"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": loopback,
            "RABBITMQ_CTL_ERL_ARGS": loopback,
        })
        return env

    def _popen_args(self):
        args = {"env": self._env(), "cwd": self.dir, "start_new_session": True}
        if self.user:  # group and extra_groups too: else root's groups would stay
            args.update(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        return args

    def _start_epmd(self):
        """Our own epmd in the foreground, as our child: the VM finds it on
        ERL_EPMD_PORT and does not start one of its own."""
        if self.epmd is not None and self.epmd.poll() is None:
            return
        self.epmd = subprocess.Popen([EPMD, "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     **self._popen_args())

        def listening():
            if self.epmd.poll() is not None:
                raise RuntimeError(f"epmd exited ({self.epmd.returncode}) on port {self.epmd_port}")
            return _accepts_tcp(self.epmd_port)
        if not wait_until(listening, 30, 0.02):
            raise RuntimeError(f"epmd does not listen on port {self.epmd_port}")

    def start(self):
        """Starts the broker and returns once it accepts an AMQP login (and an
        AMQPS one with tls); raises with the log's end if it does not in time."""
        if self.proc is not None:
            return self
        began = time.monotonic()
        self._start_epmd()
        self.log = open(self._path("server.out"), "a")
        self.proc = subprocess.Popen([os.path.join(RABBITMQ_BIN, "rabbitmq-server")],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, **self._popen_args())
        if not wait_until(self._accepts, START_DEADLINE, 0.1):
            self.stop(kill=True)
            raise RuntimeError("RabbitMQ did not start: " + self.server_log())
        self.start_seconds = time.monotonic() - began
        return self

    def _accepts(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"RabbitMQ exited ({self.proc.returncode}): " + self.server_log())
        if not _accepts_tcp(self.amqp_port):  # cheaper than a failed AMQP attempt
            return False
        try:
            for tls in [False, True] if self.tls_port else [False]:
                pika.BlockingConnection(self.connection_parameters(tls=tls)).close()
            return True
        except CONNECTION_ERRORS:  # still booting
            return False

    def connection_parameters(self, user="guest", password="guest", tls=False):
        """pika's parameters for this broker (AMQPS checked against ca_file).
        No heartbeats: a test's connection is served only while the test waits
        on it, and must not be closed by the broker for that in between."""
        options = {}
        if tls:
            options["ssl_options"] = pika.SSLOptions(ssl.create_default_context(cafile=self.ca_file),
                                                     "localhost")
        return pika.ConnectionParameters(
            host="127.0.0.1", port=self.tls_port if tls else self.amqp_port,
            credentials=pika.PlainCredentials(user, password), connection_attempts=1, stack_timeout=10,
            socket_timeout=5, blocked_connection_timeout=30, heartbeat=0, **options)

    def connect(self, **kwargs):
        """A pika BlockingConnection (the caller closes it)."""
        return pika.BlockingConnection(self.connection_parameters(**kwargs))

    def url(self, user="guest", password="guest", tls=False):
        """An AMQP URI of the default vhost."""
        if tls:
            return f"amqps://{user}:{password}@localhost:{self.tls_port}/"
        return f"amqp://{user}:{password}@127.0.0.1:{self.amqp_port}/"

    def subscriber_socket(self, routing_key, params="", tls=False, login=""):
        """srmi's (OpenSIPS's) socket string for this broker, e.g.
        subscriber_socket("srmi") or subscriber_socket("k", "exchange=amq.topic;persistent");
        login is "user:password@" or empty for guest."""
        if tls:
            params = ";".join(p for p in [params, "tls_domain=srmi"] if p)
        port = self.tls_port if tls else self.amqp_port
        return f"rabbitmq:{login}127.0.0.1:{port}/{params + '?' if params else ''}{routing_key}"

    def rabbitmqctl(self, *args):
        """Runs rabbitmqctl against this node; returns its output."""
        done = subprocess.run([os.path.join(RABBITMQ_BIN, "rabbitmqctl"), *args],
                              capture_output=True, text=True, timeout=120, **self._popen_args())
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def add_user(self, name, password):
        """A user with all rights on the default vhost (logs in from anywhere)."""
        self.rabbitmqctl("add_user", name, password)
        self.rabbitmqctl("set_permissions", "-p", "/", name, ".*", ".*", ".*")

    def server_log(self):
        tail = ""
        for name in ["server.out", os.path.join("log", "rabbit.log")]:
            try:
                with open(self._path(name), errors="replace") as f:
                    tail += f"\n--- {name}:\n" + f.read()[-4000:]
            except OSError:
                pass
        return tail

    def _broker_pids(self):
        """The broker's processes (beam.smp, erl_child_setup, ...), not our epmd."""
        epmd = self.epmd.pid if self.epmd else None
        return [pid for pid in _marked_pids(self.dir) if pid != epmd]

    def stop(self, kill=False):
        """Stops the broker (SIGTERM: RabbitMQ's script stops the node cleanly;
        kill=True: SIGKILL to all of it) and waits until none of its processes
        is left; our epmd keeps running for the next start()."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if kill:
                self._kill_group()
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self._kill_group()
                self.proc.wait()
        if not wait_until(lambda: not self._broker_pids(), 10, 0.05):
            _kill(self._broker_pids())
            wait_until(lambda: not self._broker_pids(), 10, 0.05)
        self.proc = None
        self.log.close()

    def _kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def leftovers(self):
        """Pids of any process still running for this broker (epmd included)."""
        return _marked_pids(self.dir)

    def remove(self):
        """Stops everything (broker, epmd, anything else started for it) and
        deletes the directory."""
        try:
            self.stop()
        finally:
            if self.epmd is not None:
                self.epmd.kill()
                self.epmd.wait()
                self.epmd = None
            if not wait_until(lambda: not self.leftovers(), 10, 0.05):
                _kill(self.leftovers())
                wait_until(lambda: not self.leftovers(), 10, 0.05)
            shutil.rmtree(self.dir, ignore_errors=True)


if __name__ == "__main__":  # a smoke run: start, log in, restart, stop
    with RabbitMQServer() as mq:
        print(f"started in {mq.start_seconds:.1f} s on {mq.url()}")
        mq.stop()
        mq.start()
        print(f"restarted in {mq.start_seconds:.1f} s")
    print("left running:", mq.leftovers() or "nothing")
