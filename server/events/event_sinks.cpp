// Event sinks: one strand per subscriber, so its events leave one at a time
// and in order, fed from a mutex-guarded bounded queue so that push() costs
// the raiser a lock and a deque append, whatever the subscriber is doing.
//
// Sinks write no log lines: with E_CORE_LOG subscribed, a failing sink that
// logged would raise events about itself.
#include "server/events/event_sinks.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "server/events/broker_channel.h"
#include "server/events/broker_socket.h"
#include "server/events/kafka_publisher.h"
#include "server/events/rabbitmq_publisher.h"
#include "server/events/socket_address.h"
#include "server/http/tls.h"

namespace srmi::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using net::ip::tcp;

namespace {

constexpr std::string_view kUserAgent = "srmi-events";
// A TCP subscriber that blackholes SYNs would otherwise hold its sink in
// connect for the kernel's two minutes of retries.
constexpr std::chrono::seconds kTcpConnectTimeout{5};
// Webhook answers are read only for their status; a bound keeps a hostile
// receiver from making us buffer without end.
constexpr std::size_t kResponseBodyLimit = 1024 * 1024;
// How long subscribing waits for a broker's first answer: a refused login is
// told at once, an unreachable broker does not hold the request longer.
constexpr std::chrono::milliseconds kBrokerLoginCheck{2000};
// WithoutBrokerLoginCheck objects alive on this thread.
thread_local int t_without_login_check = 0;

// ---------------------------------------------------------------------------
// Socket strings

/// The endpoints of `where`: the literal itself, or what the name resolves to
/// now (resolved once, as OpenSIPS does at subscription).
template <class Protocol>
std::vector<typename Protocol::endpoint> resolve(net::io_context& ioc, const HostPort& where) {
    beast::error_code ec;
    const auto address = net::ip::make_address(where.host, ec);
    if (!ec) {
        if (where.bracketed && !address.is_v6()) {
            throw BadSocket("'[" + where.host + "]' is not an IPv6 address");
        }
        return {typename Protocol::endpoint(address, where.port)};
    }
    if (where.bracketed) throw BadSocket("'[" + where.host + "]' is not an IPv6 address");
    typename Protocol::resolver resolver(ioc);
    const auto results = resolver.resolve(where.host, std::to_string(where.port),
                                          net::ip::resolver_base::numeric_service, ec);
    if (ec || results.empty()) {
        throw BadSocket("cannot resolve '" + where.host + "'" + (ec ? ": " + ec.message() : ""));
    }
    std::vector<typename Protocol::endpoint> endpoints;
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    return endpoints;
}

struct HttpTarget {
    HostPort where;
    std::string host_header;  // the authority as written
    std::string target;       // path and query
};

HttpTarget parse_http(std::string_view rest, std::string_view expected,
                      std::uint16_t default_port) {
    const auto authority_end = rest.find_first_of("/?#");
    const auto authority = rest.substr(0, authority_end);
    std::string_view target =
        authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    target = target.substr(0, target.find('#'));  // fragments never go on the wire
    if (authority.find('@') != std::string_view::npos) {
        throw BadSocket("credentials in the URL are not supported; expected " +
                        std::string(expected));
    }
    HttpTarget out{split_host_port(authority, expected, default_port), std::string(authority), {}};
    out.target = target.starts_with('/') ? std::string(target) : "/" + std::string(target);
    return out;
}

// ---------------------------------------------------------------------------
// The queue every sink shares

using Strand = net::strand<net::io_context::executor_type>;

/// The bounded queue and the delivery loop. A derived class sends one event
/// per deliver() and calls next() when that event is done with (sent,
/// dropped), all on strand_.
class QueuedSink : public core::EventSink, public std::enable_shared_from_this<QueuedSink> {
  public:
    void push(core::EventPayload payload) final;
    std::uint64_t dropped() const final { return dropped_.load(std::memory_order_relaxed); }
    void close() final;

  protected:
    QueuedSink(net::io_context& ioc, std::size_t limit)
        : strand_(net::make_strand(ioc)), limit_(std::max<std::size_t>(limit, 1)) {}

    /// Sends `payload`; on the strand, one at a time.
    virtual void deliver(core::EventPayload payload) = 0;
    /// Releases the transport after close(); on the strand.
    virtual void shut_down() = 0;

    /// Hands the oldest queued event to deliver(), or goes idle.
    void next();
    /// The oldest queued event, or null (and idle) when there is none: for a
    /// sink that sends several events in one deliver().
    core::EventPayload take();
    void count_drop() noexcept { dropped_.fetch_add(1, std::memory_order_relaxed); }
    bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

    Strand strand_;

  private:
    const std::size_t limit_;
    std::mutex mutex_;
    std::deque<core::EventPayload> queue_;
    bool busy_ = false;  // a next() is posted or a delivery is under way
    std::atomic<bool> closed_{false};
    std::atomic<std::uint64_t> dropped_{0};
};

void QueuedSink::push(core::EventPayload payload) {
    if (!payload) return;
    core::EventPayload evicted;  // declared before the lock: freed after it
    {
        std::lock_guard lock(mutex_);
        if (closed_.load(std::memory_order_relaxed)) return;
        if (queue_.size() >= limit_) {
            evicted = std::move(queue_.front());
            queue_.pop_front();
            count_drop();
        }
        queue_.push_back(std::move(payload));
        if (busy_) return;
        busy_ = true;
    }
    // Posted, never run in this call: the raiser hands an event to every sink
    // first, and sends after. Sending inside raise() made a fan-out as slow as
    // its sends, and under a write load faster than the sends the events
    // waiting to be raised piled up (now to FanOutQueue's bound) instead of
    // being dropped at each sink's bounded queue. Measured again with
    // dispatch (sends within push() on the events thread): a fan-out to
    // 1 000 took 6 % less CPU, but the writes row with one UDP subscriber
    // fell from 391 k to 225 k changes/s, the cores going to more datagrams.
    net::post(strand_, [self = shared_from_this()] { self->next(); });
}

core::EventPayload QueuedSink::take() {
    std::lock_guard lock(mutex_);
    if (closed_.load(std::memory_order_relaxed) || queue_.empty()) {
        busy_ = false;
        return nullptr;
    }
    auto payload = std::move(queue_.front());
    queue_.pop_front();
    return payload;
}

void QueuedSink::next() {
    if (auto payload = take()) deliver(std::move(payload));
}

void QueuedSink::close() {
    std::deque<core::EventPayload> discarded;  // freed after the lock
    {
        std::lock_guard lock(mutex_);
        if (closed_.load(std::memory_order_relaxed)) return;
        closed_.store(true, std::memory_order_release);
        discarded.swap(queue_);
    }
    net::post(strand_, [self = shared_from_this()] { self->shut_down(); });
}

// ---------------------------------------------------------------------------
// UDP and Unix datagrams (OpenSIPS event_datagram)

/// One datagram per event to a fixed address; a send error drops the event.
/// The socket is connected to the subscriber: the kernel then looks the
/// route (or the Unix path) up once, not per datagram. Its descriptor is
/// registered with the io_context's reactor only while a send waits for
/// room: the kernel tells every registered socket's epoll entry each time
/// the datagram's buffer is freed, which was a tenth of a fan-out's time.
template <class Protocol>
class DatagramSink final : public QueuedSink {
  public:
    using Endpoint = typename Protocol::endpoint;

    DatagramSink(net::io_context& ioc, std::size_t limit, Endpoint target)
        : QueuedSink(ioc, limit), waiter_(strand_), target_(std::move(target)) {}

    ~DatagramSink() override {
        if (!waiter_.is_open()) close_socket();  // else the waiter closes it
    }

    std::string_view transport() const override { return kUdp ? "udp" : "unix"; }

  private:
    static constexpr bool kUdp = std::is_same_v<Protocol, net::ip::udp>;

    std::shared_ptr<DatagramSink> self() {
        return std::static_pointer_cast<DatagramSink>(shared_from_this());
    }

    // A datagram is sent at once while the socket buffer has room, and the
    // queue is worked off in this loop: an asynchronous send per event cost
    // two handlers and a second trip through the io_context for each of a
    // thousand subscribers. Only a full buffer waits for the socket.
    void deliver(core::EventPayload payload) override {
        for (; payload; payload = take()) {
            if (send_now(*payload)) continue;
            if (wait_for_room()) {
                current_ = std::move(payload);
                return;
            }
            count_drop();
            close_socket();
        }
    }

    /// Sends one datagram without waiting; false when the socket buffer is
    /// full. Any other error drops the event (counted).
    bool send_now(const std::string& datagram) {
        int error = fd_ < 0 ? open() : 0;
        if (error == 0) error = send_once(datagram);
        if (error == ECONNREFUSED) {
            // A connected socket reports an earlier datagram's ICMP "port
            // unreachable" (UDP) or its peer's close (Unix) on the next
            // send, which then goes nowhere. The subscriber may be back, so
            // the datagram goes again: over UDP on the same socket (the
            // report is consumed), over Unix on a new one (the old one was
            // disconnected).
            error = 0;
            if constexpr (!kUdp) {
                close_socket();
                error = open();
            }
            if (error == 0) error = send_once(datagram);
        }
        if (error == EAGAIN || error == EWOULDBLOCK) return false;
        if (error != 0) {
            count_drop();
            close_socket();  // the next event starts afresh
        }
        return true;
    }

    int send_once(const std::string& datagram) const {
        return ::send(fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL) < 0 ? errno : 0;
    }

    /// Opens a non-blocking socket connected to the target; 0 or errno (and
    /// no socket).
    int open() {
        const auto protocol = target_.protocol();
        fd_ = ::socket(protocol.family(), protocol.type() | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       protocol.protocol());
        if (fd_ < 0) return errno;
        if (::connect(fd_, target_.data(), static_cast<socklen_t>(target_.size())) == 0) return 0;
        const int error = errno;
        close_socket();
        return error;
    }

    void close_socket() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    /// Lends the descriptor to the reactor until it is writable; false when
    /// it cannot.
    bool wait_for_room() {
        beast::error_code ec;
        waiter_.assign(target_.protocol(), fd_, ec);
        if (ec) return false;
        waiter_.async_wait(net::socket_base::wait_write,
                           beast::bind_front_handler(&DatagramSink::on_room, self()));
        return true;
    }

    void on_room(beast::error_code ec) {
        beast::error_code ignored;
        if (waiter_.is_open()) waiter_.release(ignored);  // the descriptor is ours again
        auto payload = std::move(current_);
        if (closed()) return;
        if (!ec) return deliver(std::move(payload));
        count_drop();
        close_socket();
        next();
    }

    void shut_down() override {
        if (waiter_.is_open()) {
            beast::error_code ignored;
            waiter_.close(ignored);  // closes the descriptor and ends the wait
            fd_ = -1;
        }
        close_socket();
    }

    int fd_ = -1;                       // the connected socket; -1 until the first event
    typename Protocol::socket waiter_;  // holds fd_ only while a send waits for room
    Endpoint target_;
    core::EventPayload current_;  // the datagram that waits
};

// ---------------------------------------------------------------------------
// TCP stream (OpenSIPS event_stream)

/// Notifications written back to back over one kept connection, made on the
/// first event and remade, with back-off, when it drops. Events wait in the
/// queue meanwhile; one whose write fails is dropped, since part of it may
/// have reached the old peer.
class TcpSink final : public QueuedSink {
  public:
    TcpSink(net::io_context& ioc, const SinkOptions& options, std::vector<tcp::endpoint> endpoints)
        : QueuedSink(ioc, options.queue_limit),
          stream_(strand_),
          retry_timer_(strand_),
          endpoints_(std::move(endpoints)),
          reconnect_min_(std::max(options.reconnect_min, std::chrono::milliseconds(1))),
          reconnect_max_(std::max(options.reconnect_max, reconnect_min_)),
          write_timeout_(options.tcp_write_timeout) {}

    std::string_view transport() const override { return "tcp"; }

  private:
    std::shared_ptr<TcpSink> self() {
        return std::static_pointer_cast<TcpSink>(shared_from_this());
    }

    void deliver(core::EventPayload payload) override {
        current_ = std::move(payload);
        if (connected_ && peer_closed()) disconnect();
        if (connected_) return do_write();
        if (wait_.count() == 0) return do_connect();  // the first attempt is immediate
        retry_timer_.expires_after(wait_);
        retry_timer_.async_wait(beast::bind_front_handler(&TcpSink::on_retry, self()));
    }

    void on_retry(beast::error_code) {
        if (closed()) return current_.reset();
        do_connect();
    }

    void do_connect() {
        stream_.expires_after(kTcpConnectTimeout);
        stream_.async_connect(endpoints_, beast::bind_front_handler(&TcpSink::on_connect, self()));
    }

    void on_connect(beast::error_code ec, const tcp::endpoint&) {
        if (closed()) return current_.reset();
        if (ec) {
            wait_ = wait_.count() == 0 ? reconnect_min_ : std::min(wait_ * 2, reconnect_max_);
            return deliver(std::move(current_));
        }
        stream_.expires_never();
        beast::error_code ignored;
        stream_.socket().set_option(tcp::no_delay(true), ignored);
        connected_ = true;
        ++connection_;
        // A peer that drops and comes back is retried after the shortest wait.
        wait_ = reconnect_min_;
        do_watch();
        do_write();
    }

    void do_write() {
        // A peer that accepts and never reads would hold this write, and the
        // queue behind it, for ever; the expiry closes the connection. Only
        // the write is bounded: the watch was pending before, without one.
        stream_.expires_after(write_timeout_);
        net::async_write(stream_, net::buffer(*current_),
                         beast::bind_front_handler(&TcpSink::on_write, self()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        current_.reset();
        stream_.expires_never();
        if (closed()) return;
        if (ec) {
            count_drop();
            disconnect();
        }
        next();
    }

    // Subscribers send nothing, so a read completes only when the peer closes
    // or resets: we learn of the drop while idle, not by losing the next event.
    void do_watch() {
        stream_.async_read_some(net::buffer(discard_),
                                beast::bind_front_handler(&TcpSink::on_watch, self(), connection_));
    }

    void on_watch(std::uint64_t connection, beast::error_code ec, std::size_t) {
        if (closed() || connection != connection_ || !connected_) return;  // stale
        if (ec) return disconnect();
        do_watch();
    }

    // The watch's handler may run after an event queued meanwhile: a peek
    // sees the peer's close as soon as the kernel has it, so that the event
    // goes to a new connection instead of down with the old one.
    bool peer_closed() {
        char byte;
        const auto n = ::recv(stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }

    void disconnect() {
        connected_ = false;
        stream_.close();
    }

    void shut_down() override {
        connected_ = false;
        retry_timer_.cancel();
        stream_.close();
    }

    beast::tcp_stream stream_;
    net::steady_timer retry_timer_;
    const std::vector<tcp::endpoint> endpoints_;
    const std::chrono::milliseconds reconnect_min_;
    const std::chrono::milliseconds reconnect_max_;
    const std::chrono::milliseconds write_timeout_;
    std::chrono::milliseconds wait_{0};  // before the next connect attempt
    bool connected_ = false;
    std::uint64_t connection_ = 0;  // tells a stale watch from the current one
    core::EventPayload current_;    // alive while written
    std::array<char, 512> discard_{};
};

// ---------------------------------------------------------------------------
// HTTP and HTTPS webhooks

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

/// One POST per event over a kept-alive connection (over TLS for `TlsStream`,
/// the receiver verified); a non-2xx answer, an error or the deadline drops
/// the event.
template <class Stream>
class HttpSink final : public QueuedSink {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  public:
    HttpSink(net::io_context& ioc, const SinkOptions& options, std::vector<tcp::endpoint> endpoints,
             HttpTarget target, std::shared_ptr<net::ssl::context> tls)
        : QueuedSink(ioc, options.queue_limit),
          endpoints_(std::move(endpoints)),
          host_(std::move(target.where.host)),
          host_header_(std::move(target.host_header)),
          target_(std::move(target.target)),
          timeout_(options.http_timeout),
          tls_(std::move(tls)) {}

    std::string_view transport() const override { return kTls ? "https" : "http"; }

  private:
    using Request = http::request<http::span_body<const char>>;

    std::shared_ptr<HttpSink> self() {
        return std::static_pointer_cast<HttpSink>(shared_from_this());
    }
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(*stream_); }

    void deliver(core::EventPayload payload) override {
        current_ = std::move(payload);
        retried_ = false;
        start();
    }

    void start() {
        request_ = Request{http::verb::post, target_, 11};
        request_.set(http::field::host, host_header_);
        request_.set(http::field::user_agent, kUserAgent);
        request_.set(http::field::content_type, "application/json");
        request_.keep_alive(true);
        request_.body() = {current_->data(), current_->size()};
        request_.prepare_payload();
        reused_ = stream_.has_value();
        if (!reused_) {
            // A fresh stream per connection: an SSL object serves one only.
            if constexpr (kTls) {
                stream_.emplace(strand_, *tls_);
            } else {
                stream_.emplace(strand_);
            }
        }
        tcp().expires_after(timeout_);  // one deadline for connect, handshake, write and read
        if (reused_) return do_write();
        tcp().async_connect(endpoints_, beast::bind_front_handler(&HttpSink::on_connect, self()));
    }

    void on_connect(beast::error_code ec, const tcp::endpoint&) {
        if (closed()) return current_.reset();
        if (ec) return fail(ec);
        if constexpr (kTls) {
            beast::error_code not_an_address;
            net::ip::make_address(host_, not_an_address);
            // SNI carries names only; the certificate must match the host either way.
            if (not_an_address) SSL_set_tlsext_host_name(stream_->native_handle(), host_.c_str());
            stream_->set_verify_callback(net::ssl::host_name_verification(host_));
            stream_->async_handshake(net::ssl::stream_base::client,
                                     beast::bind_front_handler(&HttpSink::on_handshake, self()));
        } else {
            do_write();
        }
    }

    void on_handshake(beast::error_code ec) {
        if (closed()) return current_.reset();
        if (ec) return fail(ec);
        do_write();
    }

    void do_write() {
        http::async_write(*stream_, request_,
                          beast::bind_front_handler(&HttpSink::on_write, self()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (closed()) return current_.reset();
        if (ec) return fail(ec);
        do_read();
    }

    void do_read() {
        parser_.emplace();
        parser_->body_limit(kResponseBodyLimit);
        http::async_read(*stream_, buffer_, *parser_,
                         beast::bind_front_handler(&HttpSink::on_read, self()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (closed()) return current_.reset();
        if (ec) return fail(ec);
        const auto& response = parser_->get();
        const unsigned status = response.result_int();
        // An interim answer (100 Continue) precedes the real one.
        if (status / 100 == 1 && status != 101) return do_read();
        if (status / 100 != 2) count_drop();
        if (response.keep_alive() && status != 101) {
            tcp().expires_never();
        } else {
            close_connection();
        }
        finish();
    }

    void fail(beast::error_code ec) {
        close_connection();
        // A kept connection may have been closed by the server while idle,
        // which says nothing about this event: it gets one fresh connection.
        if (reused_ && !retried_ && ec != beast::error::timeout) {
            retried_ = true;
            return start();
        }
        count_drop();
        finish();
    }

    void finish() {
        request_ = {};
        parser_.reset();
        current_.reset();
        next();
    }

    // Only between operations: a pending one still uses the stream.
    void close_connection() {
        if (!stream_) return;
        beast::error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp().close();
        stream_.reset();
        buffer_.clear();
    }

    void shut_down() override {
        // An operation may be under way: the closed socket ends it with an
        // error, and its handler, seeing closed(), lets go; the stream stays.
        if (!stream_) return;
        beast::error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp().close();
    }

    const std::vector<tcp::endpoint> endpoints_;
    const std::string host_;  // as in the URL, without brackets: what the certificate must name
    const std::string host_header_;
    const std::string target_;
    const std::chrono::milliseconds timeout_;
    const std::shared_ptr<net::ssl::context> tls_;  // for TlsStream only
    std::optional<Stream> stream_;                  // while a connection is kept
    core::EventPayload current_;                    // the body of request_, alive while sent
    Request request_;
    beast::flat_buffer buffer_;
    std::optional<http::response_parser<http::string_body>> parser_;
    bool reused_ = false;   // request_ goes over a connection an earlier event made
    bool retried_ = false;  // request_ has had its fresh-connection retry
};

// ---------------------------------------------------------------------------

BrokerOptions broker_options(const SinkOptions& options) {
    BrokerOptions out;
    out.tls_ca_file = options.tls_ca_file;
    out.reconnect_min = std::max(options.reconnect_min, std::chrono::milliseconds(1));
    out.reconnect_max = std::max(options.reconnect_max, out.reconnect_min);
    out.window = std::min(out.window, std::max<std::size_t>(options.queue_limit, 1));
    return out;
}

/// A RabbitMQ subscriber: its publisher thread starts connecting at once,
/// and the subscription waits for that first attempt (up to
/// kBrokerLoginCheck), so that a refused login is the subscriber's error.
/// A broker that cannot be reached is no error: the publisher keeps
/// trying, and subscribers_list and /metrics tell.
std::shared_ptr<core::EventSink> make_rabbitmq_sink(BrokerThreads& threads,
                                                    const SinkOptions& options,
                                                    std::string_view rest) {
    auto socket = parse_rabbitmq_socket(rest);
    auto channel = std::make_shared<BrokerChannel>(options.queue_limit);
    threads.start([channel, socket = std::move(socket), broker = broker_options(options)] {
        run_rabbitmq_publisher(socket, broker, *channel);
    });
    auto shown = redact_socket("rabbitmq:" + std::string(rest));
    if (t_without_login_check > 0) {
        return std::make_shared<BrokerSink>(std::move(channel), "rabbitmq", std::move(shown));
    }
    if (auto refusal = channel->first_refusal(kBrokerLoginCheck)) {
        channel->close();
        throw BadSocket(*refusal);
    }
    return std::make_shared<BrokerSink>(std::move(channel), "rabbitmq", std::move(shown));
}

std::shared_ptr<core::EventSink> make_kafka_sink(BrokerThreads& threads, const SinkOptions& options,
                                                 std::string_view rest) {
    const auto socket = parse_kafka_socket(rest);
    // A shared_ptr only because std::function needs a copyable task.
    std::shared_ptr<KafkaProducer> producer = make_kafka_producer(socket, broker_options(options));
    auto channel = std::make_shared<BrokerChannel>(options.queue_limit);
    threads.start([channel, producer] { run_kafka_publisher(*producer, *channel); });
    return std::make_shared<BrokerSink>(std::move(channel), "kafka",
                                        redact_socket("kafka:" + std::string(rest)));
}

std::shared_ptr<core::EventSink> make_sink(net::io_context& ioc, BrokerThreads& threads,
                                           const SinkOptions& options,
                                           const std::shared_ptr<net::ssl::context>& tls,
                                           std::string_view socket) {
    if (socket.starts_with("rabbitmq:"))
        return make_rabbitmq_sink(threads, options, socket.substr(9));
    if (socket.starts_with("kafka:")) return make_kafka_sink(threads, options, socket.substr(6));
    if (socket.starts_with("udp:")) {
        const auto where = split_host_port(socket.substr(4), "udp:HOST:PORT", std::nullopt);
        // A datagram goes to one address: the first the name resolves to.
        return std::make_shared<DatagramSink<net::ip::udp>>(
            ioc, options.queue_limit, resolve<net::ip::udp>(ioc, where).front());
    }
    if (socket.starts_with("tcp:")) {
        const auto where = split_host_port(socket.substr(4), "tcp:HOST:PORT", std::nullopt);
        return std::make_shared<TcpSink>(ioc, options, resolve<tcp>(ioc, where));
    }
    if (socket.starts_with("unix:")) {
        const auto path = socket.substr(5);
        if (path.empty()) throw BadSocket("empty path; expected unix:/path");
        constexpr std::size_t kMaxPath = sizeof(sockaddr_un{}.sun_path) - 1;
        if (path.size() > kMaxPath) {
            throw BadSocket("path too long (at most " + std::to_string(kMaxPath) + " bytes)");
        }
        using Unix = net::local::datagram_protocol;
        return std::make_shared<DatagramSink<Unix>>(ioc, options.queue_limit,
                                                    Unix::endpoint(std::string(path)));
    }
    if (socket.starts_with("http://")) {
        auto target = parse_http(socket.substr(7), "http://HOST[:PORT]/path", 80);
        auto endpoints = resolve<tcp>(ioc, target.where);
        return std::make_shared<HttpSink<PlainStream>>(ioc, options, std::move(endpoints),
                                                       std::move(target), nullptr);
    }
    if (socket.starts_with("https://")) {
        auto target = parse_http(socket.substr(8), "https://HOST[:PORT]/path", 443);
        auto endpoints = resolve<tcp>(ioc, target.where);
        return std::make_shared<HttpSink<TlsStream>>(ioc, options, std::move(endpoints),
                                                     std::move(target), tls);
    }
    throw BadSocket(
        "unknown scheme; expected udp:HOST:PORT, tcp:HOST:PORT, unix:/path, "
        "http://HOST[:PORT]/path, https://HOST[:PORT]/path, rabbitmq:HOST/ROUTING_KEY or "
        "kafka:BROKER/TOPIC");
}

}  // namespace

WithoutBrokerLoginCheck::WithoutBrokerLoginCheck() noexcept { ++t_without_login_check; }
WithoutBrokerLoginCheck::~WithoutBrokerLoginCheck() { --t_without_login_check; }

core::SinkFactory make_sink_factory(net::io_context& ioc, SinkOptions options) {
    // One context for every https:// sink. A CA file of the config is loaded
    // now, so that a bad one stops the start; the system's CAs (a bundle of a
    // hundred or more certificates, 15 ms to load) only once an https sink
    // needs them.
    struct ClientTls {
        std::once_flag once;
        std::shared_ptr<net::ssl::context> context;
        std::string error;
    };
    auto tls = std::make_shared<ClientTls>();
    if (!options.tls_ca_file.empty()) tls->context = make_client_tls(options.tls_ca_file);
    // Held by the factory, which the hub destroys after closing its sinks:
    // the publisher threads are joined last.
    auto threads = std::make_shared<BrokerThreads>();
    return [&ioc, options, tls, threads](std::string_view socket)
               -> std::variant<std::shared_ptr<core::EventSink>, std::string> {
        if (socket.starts_with("https://")) {
            std::call_once(tls->once, [&] {
                if (tls->context) return;
                try {
                    tls->context = make_client_tls(options.tls_ca_file);
                } catch (const std::exception& e) {
                    tls->error = e.what();
                }
            });
            if (!tls->context) return "bad socket '" + std::string(socket) + "': " + tls->error;
        }
        try {
            return make_sink(ioc, *threads, options, tls->context, socket);
        } catch (const BadSocket& e) {
            return "bad socket '" + std::string(socket) + "': " + e.what();
        }
    };
}

}  // namespace srmi::server
