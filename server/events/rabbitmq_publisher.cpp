// RabbitMQ publisher: rabbitmq-c's blocking calls on the subscriber's own
// thread, bounded by timeouts. Messages are pipelined within a window and
// confirmed by the broker (confirm.select); a connection that fails or stops
// confirming is remade, and its unconfirmed messages are sent again in their
// order: delivery is at least once across a broker failure.
#include "server/events/rabbitmq_publisher.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/time.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>

namespace srmi::server {

namespace {

using Clock = std::chrono::steady_clock;
constexpr amqp_channel_t kChannel = 1;
constexpr int kFrameMax = 131072;  // rabbitmq-c's default
constexpr char kVhost[] = "/";     // OpenSIPS's syntax names none
constexpr std::chrono::milliseconds kIdlePoll{200};
constexpr std::chrono::milliseconds kConfirmPoll{20};
// The goodbye at the end (channel.close, connection.close), each bounded.
constexpr std::chrono::milliseconds kGoodbye{500};

timeval to_timeval(std::chrono::milliseconds d) {
    const auto ms = std::max<std::int64_t>(d.count(), 0);
    return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

std::string text_of(amqp_bytes_t bytes) {
    return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

/// Why an AMQP call failed, in words; `refused` when the broker said no to
/// the login (ACCESS_REFUSED).
struct Failure {
    std::string text;
    bool refused = false;
};

std::optional<Failure> failure_of(const amqp_rpc_reply_t& reply, std::string_view what) {
    switch (reply.reply_type) {
        case AMQP_RESPONSE_NORMAL:
            return std::nullopt;
        case AMQP_RESPONSE_NONE:
            return Failure{std::string(what) + ": the broker closed the connection"};
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return Failure{std::string(what) + ": " + amqp_error_string2(reply.library_error)};
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            break;
    }
    if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
        // ACCESS_REFUSED: the login; NOT_ALLOWED: no permission on the vhost.
        return Failure{
            std::string(what) + ": " + text_of(close->reply_text),
            close->reply_code == AMQP_ACCESS_REFUSED || close->reply_code == AMQP_NOT_ALLOWED};
    }
    if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
        return Failure{std::string(what) + ": " + text_of(close->reply_text),
                       close->reply_code == AMQP_ACCESS_REFUSED};
    }
    return Failure{std::string(what) + ": refused by the broker"};
}

struct ConnectionDeleter {
    void operator()(amqp_connection_state_t state) const { amqp_destroy_connection(state); }
};
using Connection = std::unique_ptr<amqp_connection_state_t_, ConnectionDeleter>;

/// A published message: its delivery tag, its text, whether it is
/// confirmed (a broker may confirm out of order).
struct InFlight {
    std::uint64_t tag;
    core::EventPayload payload;
    Clock::time_point sent;
    bool confirmed = false;
};

class RabbitMqPublisher {
  public:
    RabbitMqPublisher(const RabbitMqSocket& socket, const BrokerOptions& options,
                      BrokerChannel& channel)
        : socket_(socket), options_(options), channel_(channel) {
        properties_._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
        properties_.content_type = amqp_cstring_bytes("application/json");
        properties_.delivery_mode = socket_.persistent ? 2 : 1;
    }

    void run() {
        while (!channel_.should_stop(in_flight_.size())) {
            if (!connection_) {
                if (!connect()) continue;
            }
            publish_queued();
            if (connection_) read_confirms();
        }
        std::size_t lost = 0;
        for (const auto& m : in_flight_) lost += m.confirmed ? 0 : 1;
        if (connection_ && !channel_.cut_short()) {
            // A goodbye the broker logs as such, not as a lost client; brief,
            // since shutdown waits for it.
            const auto brief = to_timeval(kGoodbye);
            amqp_set_rpc_timeout(connection_.get(), &brief);
            amqp_channel_close(connection_.get(), kChannel, AMQP_REPLY_SUCCESS);
            amqp_connection_close(connection_.get(), AMQP_REPLY_SUCCESS);
        }
        drop_connection();
        channel_.finished(lost);
    }

  private:
    /// One attempt, after the back-off; false (and the back-off grown) when
    /// it failed.
    bool connect() {
        if (backoff_.count() > 0) channel_.pause(backoff_);
        if (channel_.should_stop(in_flight_.size())) return false;
        auto failure = open();
        if (!failure) {
            backoff_ = std::chrono::milliseconds(0);
            channel_.connected();
            return true;
        }
        drop_connection();
        channel_.disconnected(std::move(failure->text), failure->refused);
        backoff_ = backoff_.count() == 0 ? options_.reconnect_min
                                         : std::min(backoff_ * 2, options_.reconnect_max);
        return false;
    }

    /// Lets the connection go; the channel stops watching its socket first.
    void drop_connection() {
        channel_.watch_socket(-1);
        connection_.reset();
    }

    std::optional<Failure> open() {
        drop_connection();
        connection_.reset(amqp_new_connection());
        if (!connection_) return Failure{"cannot allocate a connection"};
        auto* state = connection_.get();
        amqp_socket_t* socket =
            socket_.tls ? amqp_ssl_socket_new(state) : amqp_tcp_socket_new(state);
        if (!socket) return Failure{"cannot create a socket"};
        if (socket_.tls) {
            if (!options_.tls_ca_file.empty()) {
                if (amqp_ssl_socket_set_cacert(socket, options_.tls_ca_file.c_str()) !=
                    AMQP_STATUS_OK) {
                    return Failure{"cannot load the CA file " + options_.tls_ca_file};
                }
            }
            auto* context = static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket));
            if (options_.tls_ca_file.empty()) SSL_CTX_set_default_verify_paths(context);
            amqp_ssl_socket_set_verify_peer(socket, 1);
            // The name is checked by OpenSSL during the handshake, which
            // knows IP addresses in certificates too (rabbitmq-c's own check
            // compares DNS names only).
            amqp_ssl_socket_set_verify_hostname(socket, 0);
            auto* param = SSL_CTX_get0_param(context);
            const auto& host = socket_.broker.host;
            const bool set = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1 ||
                             X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
            if (!set)
                return Failure{"cannot check the broker's certificate against '" + host + "'"};
        }
        const auto timeout = to_timeval(options_.connect_timeout);
        amqp_set_handshake_timeout(state, &timeout);
        amqp_set_rpc_timeout(state, &timeout);
        const auto& broker = socket_.broker;
        const auto where = (broker.bracketed ? "[" + broker.host + "]" : broker.host) + ":" +
                           std::to_string(broker.port);
        if (const int status =
                amqp_socket_open_noblock(socket, broker.host.c_str(), broker.port, &timeout);
            status != AMQP_STATUS_OK) {
            return Failure{"cannot connect to " + where + ": " + amqp_error_string2(status)};
        }
        // From here a close or a drain's deadline can cut a blocked call.
        channel_.watch_socket(amqp_get_sockfd(state));
        // Heartbeats off: rabbitmq-c serves them only inside its calls, and
        // an idle subscriber makes none; a dead peer is found by the confirm
        // deadline instead.
        auto failure = failure_of(amqp_login(state, kVhost, 0, kFrameMax, 0, AMQP_SASL_METHOD_PLAIN,
                                             socket_.user.c_str(), socket_.password.c_str()),
                                  "login to " + where + " as '" + socket_.user + "'");
        if (failure) {
            // RabbitMQ tells a refused login by closing the connection.
            if (failure->text.ends_with("the broker closed the connection") ||
                failure->text.ends_with("connection closed unexpectedly")) {
                failure->refused = true;
            }
            return failure;
        }
        if (channel_.cut_short()) return Failure{"stopping"};
        amqp_channel_open(state, kChannel);
        if (auto f = failure_of(amqp_get_rpc_reply(state), "opening a channel")) return f;
        amqp_confirm_select(state, kChannel);
        if (auto f = failure_of(amqp_get_rpc_reply(state), "turning confirms on")) return f;
        next_tag_ = 1;
        return std::nullopt;
    }

    void publish_queued() {
        if (in_flight_.size() >= options_.window) return;
        std::deque<core::EventPayload> batch;
        channel_.take(batch, options_.window - in_flight_.size());
        const auto exchange = amqp_cstring_bytes(socket_.exchange.c_str());
        const auto routing_key = amqp_cstring_bytes(socket_.routing_key.c_str());
        const auto now = Clock::now();
        while (!batch.empty()) {
            auto& payload = batch.front();
            const amqp_bytes_t body{payload->size(), const_cast<char*>(payload->data())};
            const int status = amqp_basic_publish(connection_.get(), kChannel, exchange,
                                                  routing_key, 0, 0, &properties_, body);
            if (status != AMQP_STATUS_OK) {
                return lose(std::string("publishing: ") + amqp_error_string2(status), batch);
            }
            in_flight_.push_back(InFlight{next_tag_++, std::move(payload), now});
            batch.pop_front();
        }
    }

    /// Reads what the broker sent: confirmations, and closes.
    void read_confirms() {
        const bool more_to_send = in_flight_.size() < options_.window && channel_.has_queued();
        std::chrono::milliseconds wait{0};
        if (!more_to_send) {
            if (in_flight_.empty()) {
                channel_.wait(kIdlePoll);  // nothing sent: wait for events
            } else {
                wait = kConfirmPoll;
            }
        }
        auto tv = to_timeval(wait);
        while (connection_) {
            amqp_frame_t frame;
            const int status = amqp_simple_wait_frame_noblock(connection_.get(), &frame, &tv);
            if (status == AMQP_STATUS_TIMEOUT) break;
            if (status != AMQP_STATUS_OK) {
                return lose(std::string("connection lost: ") + amqp_error_string2(status));
            }
            if (frame.frame_type == AMQP_FRAME_METHOD) on_method(frame.payload.method);
            tv = to_timeval(std::chrono::milliseconds(0));  // then what is there already
        }
        if (!connection_) return;
        amqp_maybe_release_buffers(connection_.get());
        if (!in_flight_.empty() &&
            Clock::now() - in_flight_.front().sent > options_.confirm_timeout) {
            lose("no confirmation from the broker within " +
                 std::to_string(options_.confirm_timeout.count()) + " ms");
        }
    }

    void on_method(const amqp_method_t& method) {
        switch (method.id) {
            case AMQP_BASIC_ACK_METHOD: {
                const auto* ack = static_cast<const amqp_basic_ack_t*>(method.decoded);
                return settle(ack->delivery_tag, ack->multiple != 0, true);
            }
            case AMQP_BASIC_NACK_METHOD: {
                const auto* nack = static_cast<const amqp_basic_nack_t*>(method.decoded);
                return settle(nack->delivery_tag, nack->multiple != 0, false);
            }
            case AMQP_CHANNEL_CLOSE_METHOD: {
                // The broker refused what we publish (a missing exchange, a
                // permission): sending it again would be refused again.
                const auto* close = static_cast<const amqp_channel_close_t*>(method.decoded);
                amqp_channel_close_ok_t ok{};
                amqp_send_method(connection_.get(), kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
                std::uint64_t refused = 0;
                for (const auto& m : in_flight_) refused += m.confirmed ? 0 : 1;
                in_flight_.clear();
                channel_.count_dropped(refused);
                return lose("the broker closed the channel: " + text_of(close->reply_text));
            }
            case AMQP_CONNECTION_CLOSE_METHOD: {
                const auto* close = static_cast<const amqp_connection_close_t*>(method.decoded);
                amqp_connection_close_ok_t ok{};
                amqp_send_method(connection_.get(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
                return lose("the broker closed the connection: " + text_of(close->reply_text));
            }
            default:
                return;  // connection.blocked and the like: confirms will tell
        }
    }

    /// A confirmation (`ack`) or refusal of `tag`, or of every tag up to it.
    void settle(std::uint64_t tag, bool multiple, bool ack) {
        std::uint64_t settled = 0;
        for (auto& m : in_flight_) {
            if (m.tag > tag) break;
            if (m.confirmed || (!multiple && m.tag != tag)) continue;
            m.confirmed = true;
            ++settled;
        }
        while (!in_flight_.empty() && in_flight_.front().confirmed) in_flight_.pop_front();
        if (ack) {
            channel_.count_confirmed(settled);
        } else {
            channel_.count_dropped(settled);
        }
    }

    /// The connection is gone: what was sent and not confirmed goes back to
    /// the queue, in front of `unsent`, to go again on the next connection.
    void lose(std::string error, std::deque<core::EventPayload>& unsent) {
        std::deque<core::EventPayload> again;
        for (auto& m : in_flight_) {
            if (!m.confirmed) again.push_back(std::move(m.payload));
        }
        in_flight_.clear();
        for (auto& p : unsent) again.push_back(std::move(p));
        unsent.clear();
        channel_.put_back(again);
        drop_connection();
        channel_.disconnected(std::move(error));
        backoff_ = options_.reconnect_min;
    }
    void lose(std::string error) {
        std::deque<core::EventPayload> none;
        lose(std::move(error), none);
    }

    const RabbitMqSocket& socket_;
    const BrokerOptions& options_;
    BrokerChannel& channel_;
    amqp_basic_properties_t properties_{};
    Connection connection_;
    std::uint64_t next_tag_ = 1;
    std::deque<InFlight> in_flight_;
    std::chrono::milliseconds backoff_{0};
};

}  // namespace

void run_rabbitmq_publisher(const RabbitMqSocket& socket, const BrokerOptions& options,
                            BrokerChannel& channel) {
    RabbitMqPublisher(socket, options, channel).run();
}

}  // namespace srmi::server
