"""A test's AMQP consumer (Debian's python3-pika): declares a queue, binds it
to an exchange if asked, and collects what arrives, in order, with the
properties srmi sets. It reconnects (and declares again) when the broker was
stopped and started, so a test can keep reading across a broker restart.
Also where the tests import pika from."""
import dataclasses
import sys
import time

try:
    import pika
except ImportError:
    # Debian's python3-pika (pure Python) is on the system Python's path only;
    # a python3 of one's own (pyenv, venv) can use it from there. Only for
    # this import: the rest of the test keeps its own path.
    DEBIAN_PACKAGES = "/usr/lib/python3/dist-packages"
    sys.path.append(DEBIAN_PACKAGES)
    try:
        import pika
    except ImportError:
        raise ImportError("pika is not installed (Debian package python3-pika): "
                          "scripts/setup-tests.sh installs it") from None
    finally:
        sys.path.remove(DEBIAN_PACKAGES)
from pika.adapters.utils.connection_workflow import AMQPConnectorException  # noqa: E402

# What connecting to a broker that is down or still starting raises: pika's
# AMQP errors, and its connector's own (a handshake timeout is not an AMQPError).
CONNECTION_ERRORS = (pika.exceptions.AMQPError, AMQPConnectorException, OSError)


@dataclasses.dataclass
class Message:
    body: bytes
    content_type: str
    delivery_mode: int  # 2 = persistent, 1 or None = transient
    exchange: str
    routing_key: str
    redelivered: bool  # True: the broker sent it before (e.g. a restart came before our ack)

    @property
    def text(self):
        return self.body.decode()


class AmqpConsumer:
    """`with AmqpConsumer(mq.connection_parameters(), "srmi") as c:` then
    c.wait_for(n, timeout) and c.messages. Binds queue to exchange with
    routing_key (default: the queue's name) when exchange is given; the
    default exchange needs no binding. A durable queue survives a broker
    restart, with its persistent messages. After a broker killed rather
    than stopped, messages already acked may come again, marked redelivered
    (RabbitMQ had not yet written the acks down)."""

    def __init__(self, parameters, queue, exchange="", routing_key=None, durable=False):
        self.parameters = parameters
        self.queue = queue
        self.exchange = exchange
        self.routing_key = queue if routing_key is None else routing_key
        self.durable = durable
        self.messages = []
        self.reconnections = 0
        self.connection = None
        self._connect()

    def _connect(self):
        self.connection = pika.BlockingConnection(self.parameters)
        try:
            channel = self.connection.channel()
            channel.queue_declare(self.queue, durable=self.durable)
            if self.exchange:
                channel.queue_bind(self.queue, self.exchange, routing_key=self.routing_key)
            channel.basic_qos(prefetch_count=1000)
            # Acked only once kept here: a message the broker sent but we lost
            # with the connection comes again (redelivered) rather than never.
            channel.basic_consume(self.queue, self._on_message)
        except BaseException:
            self._drop_connection()
            raise

    def _on_message(self, channel, method, properties, body):
        self.messages.append(Message(body, properties.content_type, properties.delivery_mode,
                                     method.exchange, method.routing_key, method.redelivered))
        channel.basic_ack(method.delivery_tag)

    def _pump(self, seconds):
        """Takes what arrives for up to `seconds`; on a lost connection, tries
        to connect again (False if the broker is not back yet)."""
        try:
            if self.connection is None:
                self._connect()
                self.reconnections += 1
            self.connection.process_data_events(time_limit=seconds)
            return True
        except CONNECTION_ERRORS:
            self._drop_connection()
            return False

    def _drop_connection(self):
        if self.connection is not None and self.connection.is_open:
            try:
                self.connection.close()
            except CONNECTION_ERRORS:
                pass
        self.connection = None

    def wait_for(self, n, timeout):
        """True as soon as at least n messages have arrived in all; False if
        fewer have once `timeout` seconds have passed."""
        end = time.monotonic() + timeout
        while len(self.messages) < n:
            left = end - time.monotonic()
            if left <= 0:
                return False
            if not self._pump(min(left, 0.05)):
                time.sleep(min(max(left, 0), 0.1))  # broker away: a bounded pause before reconnecting
        return True

    def bodies(self):
        return [m.body for m in self.messages]

    def close(self):
        """Cancels the consumer and closes the connection (unacked messages,
        none normally, go back to the queue)."""
        self._drop_connection()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
