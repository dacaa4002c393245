// HttpSession: the read -> handle -> write loop of Beast's example servers,
// plus 100-continue (curl sends it for bodies over 1 KiB) and a lingering
// close so that an error answer reaches a client still sending its body.
#include "server/http_session.h"

#include "server/event_stream.h"

#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

namespace srmi::server {

namespace beast = boost::beast;
namespace net = boost::asio;

namespace {
constexpr std::chrono::seconds kLingerTime{2};
}

HttpSession::HttpSession(net::ip::tcp::socket&& socket, std::shared_ptr<SessionContext> context)
    : stream_(std::move(socket)), context_(std::move(context)) {
    context_->connections.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ignored;
    client_ = stream_.socket().remote_endpoint(ignored);
    local_ = stream_.socket().local_endpoint(ignored);
}

HttpSession::~HttpSession() {
    if (handed_over_) return;  // the EventStream has the connection now
    context_->connections.fetch_sub(1, std::memory_order_relaxed);
    if (context_->on_disconnect) context_->on_disconnect(client_, local_);
}

void HttpSession::run() {
    // On the session's strand, as every later handler is.
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
}

void HttpSession::do_read() {
    parser_.emplace();
    parser_->body_limit(context_->body_limit);
    stream_.expires_after(context_->io_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
}

void HttpSession::on_header(beast::error_code ec, std::size_t bytes) {
    if (ec) return on_read(ec, bytes);
    const auto& request = parser_->get();
    if (beast::iequals(request[http::field::expect], "100-continue")) {
        interim_ = {http::status::continue_, request.version()};
        http::async_write(stream_, interim_,
                          beast::bind_front_handler(&HttpSession::on_continue_sent, shared_from_this()));
        return;
    }
    do_read_body();
}

void HttpSession::on_continue_sent(beast::error_code ec, std::size_t) {
    if (ec) return;  // the client is gone
    do_read_body();
}

void HttpSession::do_read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) {
        beast::error_code ignored;
        stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
        return;
    }
    if (ec == http::error::body_limit) return reject(http::status::payload_too_large);
    if (ec == http::error::header_limit) return reject(http::status::request_header_fields_too_large);
    if (ec == beast::error::timeout) {
        // Only a client that began a request is owed an answer.
        if (parser_->got_some()) return reject(http::status::request_timeout);
        return;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
        return reject(http::status::bad_request);
    }
    if (ec) return;  // reset, aborted: nothing to answer

    Request request = parser_->release();
    if (request.method() == http::verb::get && path_of(request.target()) == kEventsPath &&
        context_->hub != nullptr) {
        return start_event_stream(request);
    }
    ++context_->in_flight;
    if (context_->workers != nullptr) {
        // The handler runs on the pool; the answer comes back to our strand.
        context_->workers->submit([self = shared_from_this(), request = std::move(request)] {
            self->answer_when_durable(self->respond(request));
        });
        return;
    }
    answer_when_durable(respond(request));
}

void HttpSession::answer_when_durable(Response response) {
    // Runs on the thread that handled the request: the ticket is thread-local.
    const auto ticket = core::Registry::take_ticket();
    if (ticket == 0 || context_->journal == nullptr) {
        return net::dispatch(stream_.get_executor(),
                             [self = shared_from_this(), response = std::move(response)]() mutable {
                                 self->send(std::move(response), true);
                             });
    }
    // Acknowledged only once durable: the journal calls back after its commit.
    auto pending = std::make_shared<Response>(std::move(response));
    context_->journal->when_durable(ticket, [self = shared_from_this(), pending](bool ok) {
        if (!ok) {
            spdlog::error("a write could not be made durable; answering 500");
            *pending = error_response(http::status::internal_server_error, pending->version(), false);
        }
        net::post(self->stream_.get_executor(), [self, pending] { self->send(std::move(*pending), true); });
    });
}

Response HttpSession::respond(const Request& request) const {
    core::Registry::take_ticket();  // nothing of an earlier request on this thread counts
    auto* profiler = context_->profiler;
    if (profiler != nullptr) {
        profiler->begin("HTTP " + std::string(request.method_string()) + " " +
                        std::string(path_of(request.target())));
    }
    Response response = handle_request(request, context_->dispatcher, context_->probes, context_->metrics,
                                       context_->access, client_cn_);
    if (profiler != nullptr) profiler->end(static_cast<int>(response.result_int()));
    if (context_->draining) response.keep_alive(false);
    if (context_->access_log) {
        spdlog::info("{}:{} \"{} {}\" {} {}", client_.address().to_string(), client_.port(),
                     std::string(request.method_string()), std::string(request.target()),
                     response.result_int(), response.body().size());
    }
    return response;
}

void HttpSession::start_event_stream(const Request& request) {
    auto who = authorize(request, context_->access, client_cn_);
    if (auto* unauthorized = std::get_if<Response>(&who)) return send(std::move(*unauthorized), false);
    auto filter = event_filter(request.target(), *context_->hub);
    if (auto* error = std::get_if<std::string>(&filter)) {
        auto res = error_response(http::status::not_found, request.version(), request.keep_alive());
        res.body() = *error + "\n";
        res.prepare_payload();
        return send(std::move(res), false);
    }
    if (context_->access_log) spdlog::info("{}:{} \"GET {}\" event stream", client_.address().to_string(),
                                           client_.port(), std::string(request.target()));
    handed_over_ = true;
    auto stream = std::make_shared<EventStream>(std::move(stream_), context_, *context_->hub,
                                                context_->event_queue_limit);
    stream->start(std::get<std::vector<int>>(std::move(filter)));
}

void HttpSession::send(Response response, bool counted) {
    response_ = std::move(response);
    stream_.expires_after(context_->io_timeout);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), counted));
}

void HttpSession::on_write(bool counted, beast::error_code ec, std::size_t) {
    const bool keep_alive = response_.keep_alive();
    response_ = {};
    if (counted) --context_->in_flight;
    if (ec) return;
    if (!keep_alive) return do_linger();
    do_read();
}

void HttpSession::reject(http::status status) {
    const unsigned version = parser_->is_header_done() ? parser_->get().version() : 11;
    send(error_response(status, version, false), false);
}

void HttpSession::do_linger() {
    // Half-close, then drain what the client still sends (bounded in time), so
    // the kernel does not answer it with a reset that could destroy our reply.
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    stream_.async_read_some(net::buffer(discard_),
                            beast::bind_front_handler(&HttpSession::on_linger, shared_from_this()));
}

void HttpSession::on_linger(beast::error_code ec, std::size_t) {
    if (ec) return;  // EOF, timeout or reset: the session ends here
    stream_.async_read_some(net::buffer(discard_),
                            beast::bind_front_handler(&HttpSession::on_linger, shared_from_this()));
}

}  // namespace srmi::server
