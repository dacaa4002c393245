// EventStream: one writer at a time on the connection's strand; push() only
// queues and, when the writer is idle, posts it. A watching read stays
// pending beside it, which both streams allow (TLS included: asio's SSL
// stream takes one read and one write at a time).
#include "server/events/event_stream.h"

#include "server/http/message.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

namespace srmi::server {

namespace beast = boost::beast;
namespace net = boost::asio;

namespace {

constexpr std::chrono::seconds kHeartbeat{15};

constexpr std::string_view kHeader =
    "HTTP/1.1 200 OK\r\n"
    "Server: srmi\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-store\r\n"
    "Connection: close\r\n"
    "X-Accel-Buffering: no\r\n"
    "\r\n"
    ": srmi event stream\n\n";

}  // namespace

std::variant<std::vector<int>, std::string> event_filter(std::string_view target,
                                                         const core::EventHub& hub) {
    std::vector<int> ids;
    // Query values decoded as forms send them: %XX, and '+' for a space.
    const auto url = boost::urls::parse_origin_form(target);
    if (!url) return "the request target is not a URL path and query";
    for (const auto& param : url->params()) {
        if (param.key != "event" || !param.has_value) continue;
        const auto id = hub.find(param.value);
        if (!id) return "unknown event '" + param.value + "'";
        ids.push_back(*id);
    }
    return ids;
}

template <class Stream>
EventStream<Stream>::EventStream(Stream&& stream, std::shared_ptr<SessionContext> context, core::EventHub& hub,
                                 std::size_t queue_limit)
    : stream_(std::move(stream)),
      context_(std::move(context)),
      hub_(hub),
      queue_limit_(queue_limit),
      heartbeat_(stream_.get_executor()) {
    beast::error_code ignored;
    client_ = tcp().socket().remote_endpoint(ignored);
    local_ = tcp().socket().local_endpoint(ignored);
}

template <class Stream>
EventStream<Stream>::~EventStream() {
    // The connection, counted by the HttpSession that handed it over, ends here.
    context_->connections.fetch_sub(1, std::memory_order_relaxed);
    if (context_->on_disconnect) context_->on_disconnect(client_, local_, kIsTls<Stream> ? "tls" : "tcp");
}

template <class Stream>
void EventStream<Stream>::start(std::vector<int> event_ids) {
    {
        std::lock_guard lock(mutex_);
        queue_.emplace_back(kHeader);
        writing_ = true;
    }
    // The watch starts first, with no deadline: tcp_stream applies a later
    // expires_after only to the operations not pending, here the writes.
    tcp().expires_never();
    tap_id_ = hub_.add_tap(std::move(event_ids), this->shared_from_this());
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
        self->do_watch();
        self->do_write();
        self->do_heartbeat();
    });
}

template <class Stream>
void EventStream<Stream>::push(core::EventPayload payload) {
    std::string frame;
    frame.reserve(payload->size() + 8);
    frame.append("data: ").append(*payload).append("\n\n");

    std::lock_guard lock(mutex_);
    if (closed_) return;
    if (queue_.size() >= queue_limit_) {
        queue_.pop_front();
        ++dropped_;
    }
    queue_.push_back(std::move(frame));
    if (!writing_) {
        writing_ = true;
        net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->do_write(); });
    }
}

template <class Stream>
std::uint64_t EventStream<Stream>::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

template <class Stream>
void EventStream<Stream>::close() {
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        closed_ = true;
        queue_.clear();
    }
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
        self->heartbeat_.cancel();
        beast::error_code ignored;
        self->tcp().socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
        self->tcp().close();
    });
}

template <class Stream>
void EventStream<Stream>::do_write() {
    {
        std::lock_guard lock(mutex_);
        if (closed_ || queue_.empty()) {
            writing_ = false;
            return;
        }
        current_ = std::move(queue_.front());
        queue_.pop_front();
    }
    // A client that stops reading is dropped: the expiry closes the socket.
    tcp().expires_after(context_->limits.write_timeout);
    net::async_write(stream_, net::buffer(current_),
                     beast::bind_front_handler(&EventStream::on_write, this->shared_from_this()));
}

template <class Stream>
void EventStream<Stream>::on_write(beast::error_code ec, std::size_t) {
    tcp().expires_never();
    if (ec) return end();
    do_write();
}

template <class Stream>
void EventStream<Stream>::do_watch() {
    // The client sends nothing more; a completed read means it left.
    stream_.async_read_some(net::buffer(discard_),
                            beast::bind_front_handler(&EventStream::on_watch, this->shared_from_this()));
}

template <class Stream>
void EventStream<Stream>::on_watch(beast::error_code ec, std::size_t) {
    if (ec) return end();
    do_watch();
}

template <class Stream>
void EventStream<Stream>::do_heartbeat() {
    heartbeat_.expires_after(kHeartbeat);
    heartbeat_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return;
        {
            std::lock_guard lock(self->mutex_);
            if (self->closed_) return;
            if (self->queue_.empty()) self->queue_.emplace_back(": keep-alive\n\n");
            if (!self->writing_) {
                self->writing_ = true;
                net::post(self->stream_.get_executor(), [self] { self->do_write(); });
            }
        }
        self->do_heartbeat();
    });
}

template <class Stream>
void EventStream<Stream>::end() {
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        first = !closed_;
    }
    // remove_tap() calls close(); the hub no longer holds us afterwards.
    if (first) hub_.remove_tap(tap_id_);
}

template class EventStream<PlainStream>;
template class EventStream<TlsStream>;

}  // namespace srmi::server
