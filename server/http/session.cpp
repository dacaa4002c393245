// HttpSession: the read -> handle -> write loop of Beast's example servers,
// on Beast's public parser (http::async_read_header, then http::async_read
// for the body), serializer (http::response_serializer) and stream, plus
// 100-continue (curl sends it for bodies over 1 KiB), a lingering close so
// that an error answer reaches a client still sending its body, and over TLS
// a handshake first. What keeps it fast: a request's first bytes are read
// into the parser's buffer (so the header's deadline starts at them; a plain
// socket is waited on until readable, then read without waiting), and what
// that read brought is given to the parser at once (basic_parser::put), so
// that a request that arrived whole is handled with no further operation; an
// answer that fits the socket's buffer is written at once by the serializer
// (no operation, no deadline); one timer serves every deadline. One template serves both
// streams; the few steps where TLS differs are `if constexpr`.
#include "server/http/session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <ctime>

#include "core/event_hub.h"
#include "core/state_journal.h"
#include "server/events/event_stream.h"
#include "server/http/access_control.h"
#include "server/http/router.h"
#include "server/http/tls.h"
#include "server/http/worker_pool.h"
#include "server/observe/profiler.h"

namespace srmi::server {

namespace beast = boost::beast;
namespace net = boost::asio;

namespace {

constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kReadSize = 4096;  // a request of the usual size arrives in one read

// On epoll, an answer is written at once from a non-blocking socket when it
// fits. Asio's io_uring backend gives each operation to the ring instead,
// and reads a non-blocking socket by a poll then a recv, so there the
// socket stays blocking and every answer goes through async_write.
#ifdef BOOST_ASIO_HAS_IO_URING_AS_DEFAULT
constexpr bool kWriteAtOnce = false;
#else
constexpr bool kWriteAtOnce = true;
#endif

// The time at the kernel's last tick, on steady_clock's scale (both are
// CLOCK_MONOTONIC): at most a tick early, which deadlines of seconds do not
// notice, for a fraction of a precise read. A deadline is set per request.
std::chrono::steady_clock::time_point coarse_now() noexcept {
#ifdef CLOCK_MONOTONIC_COARSE
    timespec now{};
    if (::clock_gettime(CLOCK_MONOTONIC_COARSE, &now) == 0) {
        return std::chrono::steady_clock::time_point(std::chrono::seconds(now.tv_sec) +
                                                     std::chrono::nanoseconds(now.tv_nsec));
    }
#endif
    return std::chrono::steady_clock::now();
}

// An error of the request's syntax or limits (which gets an answer), rather
// than of the connection (which does not).
bool is_parse_error(beast::error_code ec) {
    return ec.category() == beast::error_code(http::error::bad_version).category();
}

template <class Stream>
Stream make_stream(net::ip::tcp::socket&& socket, SessionContext& context) {
    if constexpr (kIsTls<Stream>) {
        return Stream(std::move(socket), *context.tls);
    } else {
        return Stream(std::move(socket));
    }
}

}  // namespace

template <class Stream>
HttpSession<Stream>::HttpSession(net::ip::tcp::socket&& socket,
                                 std::shared_ptr<SessionContext> context)
    : stream_(make_stream<Stream>(std::move(socket), *context)),
      context_(std::move(context)),
      deadline_(stream_.get_executor()) {
    context_->connections.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ignored;
    client_ = tcp().socket().remote_endpoint(ignored);
    local_ = tcp().socket().local_endpoint(ignored);
    if constexpr (kWriteAtOnce) tcp().socket().non_blocking(true, ignored);
    buffer_.reserve(kReadSize);
}

template <class Stream>
HttpSession<Stream>::~HttpSession() {
    if (handed_over_) return;  // the EventStream has the connection now
    context_->connections.fetch_sub(1, std::memory_order_relaxed);
    if (context_->on_disconnect)
        context_->on_disconnect(client_, local_, kIsTls<Stream> ? "tls" : "tcp");
}

template <class Stream>
void HttpSession<Stream>::run() {
    // On the session's strand, as every later handler is.
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
        if constexpr (kIsTls<Stream>) {
            // A client that connects and stays silent gets no more time than one
            // that stalls in its header.
            self->expire_after(self->context_->limits.header_timeout);
            self->stream_.async_handshake(
                net::ssl::stream_base::server,
                beast::bind_front_handler(&HttpSession::on_handshake, self));
        } else {
            self->do_read();
        }
    });
}

template <class Stream>
void HttpSession<Stream>::on_handshake([[maybe_unused]] beast::error_code ec) {
    if constexpr (kIsTls<Stream>) {
        if (ec) {
            // Plain HTTP on the TLS port, scanners, refused client certificates:
            // the client's problem, so not worth more than a debug line.
            spdlog::debug("TLS handshake with {}:{} failed: {}", client_.address().to_string(),
                          client_.port(), ec.message());
            return;
        }
        client_cn_ = peer_common_name(stream_.native_handle());
        do_read();
    }
}

template <class Stream>
void HttpSession<Stream>::do_read() {
    if (buffer_.size() > 0) {  // pipelined: the next request has begun
        expire_after(context_->limits.header_timeout);
        return read_header();
    }
    // Until the first byte the connection is idle (on a new one, that is the
    // header's time). The read goes to the buffer the parser reads from.
    expire_after(answered_ ? context_->limits.idle_timeout : context_->limits.header_timeout);
    if constexpr (kWriteAtOnce && !kIsTls<Stream>) {
        // A plain socket is waited on until readable, then read without
        // waiting: async_read_some would first try a read, and between two
        // requests of a keep-alive client that read finds nothing (a wasted
        // recvmsg on about a third of the requests at 32 connections).
        return wait_readable();
    }
    stream_.async_read_some(
        buffer_.prepare(kReadSize),
        beast::bind_front_handler(&HttpSession::on_first_bytes, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::wait_readable() {
    tcp().socket().async_wait(
        net::socket_base::wait_read,
        beast::bind_front_handler(&HttpSession::on_readable, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_readable(beast::error_code ec) {
    if (ec) return on_first_bytes(ec, 0);
    // The socket is non-blocking (kWriteAtOnce): this returns what is there.
    const std::size_t bytes = tcp().socket().read_some(buffer_.prepare(kReadSize), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) return wait_readable();
    on_first_bytes(ec, bytes);
}

template <class Stream>
void HttpSession<Stream>::on_first_bytes(beast::error_code ec, std::size_t bytes) {
    buffer_.commit(bytes);
    if (ec) {
        // Nothing begun, so nothing to answer: a client that closed, or stayed idle too long.
        if (ec == net::error::eof || timed_out(ec)) do_shutdown();
        return;
    }
    // From the first byte: a client trickling its header (slowloris) gets 408.
    expire_after(context_->limits.header_timeout);
    read_header();
}

template <class Stream>
void HttpSession<Stream>::read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(context_->limits.header_limit));
    parser_->body_limit(context_->body_limit);
    parser_->eager(false);  // stop at the end of the header: on_header looks at it first
    // Most requests arrive whole in one read: what the buffer holds is given
    // to the parser here (basic_parser::put), which saves the operation (and
    // its trip through the io_context) that async_read_header would make of
    // it. Only a header still incomplete is read by an operation.
    beast::error_code ec;
    const std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec != http::error::need_more) return on_header(ec, used);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&HttpSession::on_header, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_header(beast::error_code ec, std::size_t bytes) {
    if (ec) return on_read_error(ec);
    // Beast's header_limit bounds the request line and the fields each; the
    // limit is for the whole block, which is what the header's read used.
    if (bytes > context_->limits.header_limit)
        return reject(http::status::request_header_fields_too_large);
    const auto& request = parser_->get();
    if (request.target().size() > context_->limits.url_limit)
        return reject(http::status::uri_too_long);
    if (parser_->is_done()) return on_request();  // no body
    if (beast::iequals(request[http::field::expect], "100-continue")) {
        interim_ = {http::status::continue_, request.version()};
        expire_after(context_->limits.write_timeout);
        return http::async_write(
            stream_, interim_,
            beast::bind_front_handler(&HttpSession::on_continue_sent, this->shared_from_this()));
    }
    read_body();
}

template <class Stream>
void HttpSession<Stream>::on_continue_sent(beast::error_code ec, std::size_t) {
    if (ec) return;  // the client is gone
    read_body();
}

template <class Stream>
void HttpSession<Stream>::read_body() {
    parser_->eager(true);
    // As for the header: the body already read is parsed here.
    while (buffer_.size() > 0 && !parser_->is_done()) {
        beast::error_code ec;
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == http::error::need_more) break;
        if (ec) return on_read_error(ec);
        if (used == 0) break;
    }
    if (parser_->is_done()) return on_request();
    expire_after(context_->limits.body_timeout);  // from the header's end (or the 100's)
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_body, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    on_request();
}

template <class Stream>
void HttpSession<Stream>::on_read_error(beast::error_code ec) {
    // A request begun is owed an answer, as long as the client may read it.
    if (timed_out(ec)) return reject(http::status::request_timeout);
    if (ec == http::error::body_limit) return reject(http::status::payload_too_large);
    if (ec == http::error::header_limit)
        return reject(http::status::request_header_fields_too_large);
    // A request cut short by the client's close (end_of_stream: it closed
    // before the header's end) is answered too, for a client that half-closed.
    if (is_parse_error(ec)) return reject(http::status::bad_request);
    // Reset, TLS cut short: nothing to answer.
}

template <class Stream>
void HttpSession<Stream>::on_request() {
    expire_never();  // while the request is handled; the answer's write sets its own
    Request request = parser_->release();
    if (request.method() == http::verb::get && path_of(request.target()) == kEventsPath &&
        context_->hub != nullptr) {
        return start_event_stream(request);
    }
    ++context_->in_flight;
    if (context_->workers != nullptr) {
        // The handler runs on the pool; the answer comes back to our strand.
        context_->workers->submit([self = this->shared_from_this(), request = std::move(request)] {
            auto response = self->respond(request);
            self->answer_when_durable(std::move(response), std::move(request));
        });
        return;
    }
    auto response = respond(request);
    answer_when_durable(std::move(response), std::move(request));
}

template <class Stream>
void HttpSession<Stream>::answer_when_durable(Response response, Request request) {
    // Runs on the thread that handled the request: the ticket is thread-local.
    const auto ticket = core::Registry::take_ticket();
    if (ticket == 0 || context_->journal == nullptr) {
        return net::dispatch(stream_.get_executor(), [self = this->shared_from_this(),
                                                      response = std::move(response)]() mutable {
            self->send(std::move(response), true);
        });
    }
    // Acknowledged only once durable: the journal calls back after its commit.
    auto pending = std::make_shared<Response>(std::move(response));
    context_->journal->when_durable(ticket, [self = this->shared_from_this(), pending,
                                             request = std::move(request)](bool ok) {
        if (!ok) {
            // Each request of the body is told, by its id, that the store failed.
            auto failed = self->context_->dispatcher.fail_all(
                request.body(), rpc::RpcError{503, "State store unavailable", std::nullopt});
            spdlog::warn("a write could not be made durable; answered 503 State store unavailable");
            if (failed) {
                pending->body() = std::move(*failed);
                pending->prepare_payload();
            } else {
                *pending = error_response(http::status::service_unavailable, pending->version(),
                                          false);
            }
        }
        net::post(self->stream_.get_executor(),
                  [self, pending] { self->send(std::move(*pending), true); });
    });
}

template <class Stream>
Response HttpSession<Stream>::respond(const Request& request) const {
    core::Registry::take_ticket();  // nothing of an earlier request on this thread counts
    auto* profiler = context_->profiler;
    if (profiler != nullptr) {
        profiler->begin("HTTP " + std::string(request.method_string()) + " " +
                        std::string(path_of(request.target())));
    }
    Response response = handle_request(request, context_->dispatcher, context_->probes,
                                       context_->metrics, context_->access, client_cn_);
    if (profiler != nullptr) profiler->end(static_cast<int>(response.result_int()));
    if (context_->draining) response.keep_alive(false);
    if (context_->access_log) {
        spdlog::info("{}:{} \"{} {}\" {} {}{}", client_.address().to_string(), client_.port(),
                     std::string(request.method_string()), std::string(request.target()),
                     response.result_int(), response.body().size(),
                     client_cn_.empty() ? std::string() : " cn=" + client_cn_);
    }
    return response;
}

template <class Stream>
void HttpSession<Stream>::start_event_stream(const Request& request) {
    auto who = authorize(request, context_->access, client_cn_);
    if (auto* unauthorized = std::get_if<Response>(&who))
        return send(std::move(*unauthorized), false);
    auto filter = event_filter(request.target(), *context_->hub);
    if (auto* error = std::get_if<std::string>(&filter)) {
        auto res = error_response(http::status::not_found, request.version(), request.keep_alive());
        res.body() = *error + "\n";
        res.prepare_payload();
        return send(std::move(res), false);
    }
    if (context_->access_log) {
        spdlog::info("{}:{} \"GET {}\" event stream{}", client_.address().to_string(),
                     client_.port(), std::string(request.target()),
                     client_cn_.empty() ? std::string() : " cn=" + client_cn_);
    }
    handed_over_ = true;
    auto stream = std::make_shared<EventStream<Stream>>(
        std::move(stream_), context_, *context_->hub, context_->event_queue_limit);
    stream->start(std::get<std::vector<int>>(std::move(filter)));
}

template <class Stream>
void HttpSession<Stream>::send(Response response, bool counted) {
    response_ = std::move(response);
    serializer_.emplace(response_);
    if constexpr (kWriteAtOnce && !kIsTls<Stream>) {
        // Most answers fit the socket's send buffer: written at once (the
        // socket is non-blocking), they need no operation and no deadline.
        // Not with a pipelined request waiting, which would be handled from
        // here, and so on recursively.
        if (buffer_.size() == 0) {
            beast::error_code ec;
            const std::size_t written = http::write(stream_, *serializer_, ec);
            if (ec != net::error::would_block && ec != net::error::try_again)
                return on_write(counted, ec, written);
        }
    }
    expire_after(context_->limits.write_timeout);
    http::async_write(
        stream_, *serializer_,
        beast::bind_front_handler(&HttpSession::on_write, this->shared_from_this(), counted));
}

template <class Stream>
void HttpSession<Stream>::on_write(bool counted, beast::error_code ec, std::size_t) {
    const bool keep_alive = response_.keep_alive();
    serializer_.reset();
    response_ = {};
    if (counted) --context_->in_flight;
    if (ec) return;  // gone, or not reading within write_timeout
    if (!keep_alive) return do_linger();
    answered_ = true;
    do_read();
}

template <class Stream>
void HttpSession<Stream>::reject(http::status status) {
    const unsigned version = parser_->is_header_done() ? parser_->get().version() : 11;
    send(error_response(status, version, false), false);
}

template <class Stream>
void HttpSession<Stream>::do_shutdown() {
    // A clean end of our side; the session ends with it.
    if constexpr (kIsTls<Stream>) {
        expire_after(kLingerTime);  // our close_notify, even to a client that does not read
        stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
        beast::error_code ignored;
        tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    }
}

template <class Stream>
void HttpSession<Stream>::do_linger() {
    // Drain what the client still sends (bounded in time), so that the kernel
    // does not answer it with a reset that could destroy our reply. A plain
    // connection is half-closed first; TLS has no half-close OpenSSL would let
    // us read after, and the client, told `Connection: close`, closes itself.
    if constexpr (!kIsTls<Stream>) {
        beast::error_code ignored;
        tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    }
    expire_after(kLingerTime);
    stream_.async_read_some(
        net::buffer(discard_),
        beast::bind_front_handler(&HttpSession::on_linger, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_linger(beast::error_code ec, std::size_t) {
    if (ec) return;  // EOF, timeout or reset: the session ends here
    stream_.async_read_some(
        net::buffer(discard_),
        beast::bind_front_handler(&HttpSession::on_linger, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::expire_after(std::chrono::steady_clock::duration timeout) {
    expired_ = false;
    deadline_at_ = coarse_now() + timeout;
    // A later deadline is seen when the armed timer fires; only an earlier
    // one needs the timer moved.
    if (deadline_at_ < armed_at_) arm_deadline();
}

template <class Stream>
void HttpSession<Stream>::expire_never() {
    expired_ = false;
    deadline_at_ = std::chrono::steady_clock::time_point::max();
}

template <class Stream>
void HttpSession<Stream>::arm_deadline() {
    armed_at_ = deadline_at_;
    deadline_.expires_at(armed_at_);  // a wait for a later time ends, and is seen as superseded
    // The timer holds the session weakly: an ended session is not kept for it.
    deadline_.async_wait([weak = this->weak_from_this(), id = ++arm_id_](beast::error_code ec) {
        if (auto self = weak.lock()) self->on_deadline(id, ec);
    });
}

template <class Stream>
void HttpSession<Stream>::on_deadline(std::uint64_t id, beast::error_code ec) {
    if (id != arm_id_) return;  // superseded by an earlier deadline
    armed_at_ = std::chrono::steady_clock::time_point::max();
    if (ec) return;
    if (deadline_at_ == std::chrono::steady_clock::time_point::max()) return;  // nothing waits now
    if (std::chrono::steady_clock::now() < deadline_at_) return arm_deadline();  // moved later
    expired_ = true;
    tcp().cancel();  // the pending operation ends with operation_aborted
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace srmi::server
