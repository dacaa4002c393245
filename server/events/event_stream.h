// EventStream: GET /events, raised events as Server-Sent Events.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>

#include "core/event_hub.h"
#include "server/http/session_context.h"

namespace srmi::server {

/// The events a GET /events target asks for (`?event=NAME`, repeatable; none
/// means all), or the text of the error for an unknown name.
std::variant<std::vector<int>, std::string> event_filter(std::string_view target,
                                                         const core::EventHub& hub);

/// A connection handed over by HttpSession after a GET /events (plain or
/// TLS, as `Stream` says): a tap on the hub that writes each event as one
/// `data:` line. Its queue is bounded like a subscriber's (oldest dropped); a
/// comment line every few seconds keeps proxies from timing out and reveals
/// dead clients, and a client that does not read a write within
/// `limits.write_timeout` is dropped. Ends when the client leaves or the hub
/// closes it.
template <class Stream>
class EventStream : public core::EventSink, public std::enable_shared_from_this<EventStream<Stream>> {
public:
    EventStream(Stream&& stream, std::shared_ptr<SessionContext> context, core::EventHub& hub,
                std::size_t queue_limit);
    ~EventStream() override;

    /// Sends the response header and starts streaming `event_ids` (empty: all).
    void start(std::vector<int> event_ids);

    void push(core::EventPayload payload) override;
    std::uint64_t dropped() const override;
    void close() override;
    std::string_view transport() const override { return "sse"; }

private:
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void do_watch();
    void on_watch(boost::beast::error_code ec, std::size_t bytes);
    void do_heartbeat();
    void end();
    boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }

    Stream stream_;
    std::shared_ptr<SessionContext> context_;
    core::EventHub& hub_;
    const std::size_t queue_limit_;
    boost::asio::steady_timer heartbeat_;
    boost::asio::ip::tcp::endpoint client_;
    boost::asio::ip::tcp::endpoint local_;

    mutable std::mutex mutex_;  // guards the fields below: push() comes from any thread
    std::deque<std::string> queue_;
    std::uint64_t dropped_ = 0;
    bool writing_ = false;
    bool closed_ = false;
    std::uint64_t tap_id_ = 0;

    std::string current_;  // being written; touched only on the strand
    std::array<char, 512> discard_{};
};

extern template class EventStream<PlainStream>;
extern template class EventStream<TlsStream>;

}  // namespace srmi::server
