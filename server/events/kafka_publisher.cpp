// Kafka publisher: librdkafka's producer on the subscriber's own thread.
// librdkafka connects, retries and keeps order by itself (idempotence: no
// duplicates, no reordering across retries); this loop feeds it a bounded
// window of events, serves its delivery reports (the only thing that counts
// an event as delivered), and turns its errors into the subscriber's health.
//
// Payloads are copied into librdkafka (RD_KAFKA_MSG_F_COPY): it then owns
// every message it holds, so a handle destroyed with messages still inside
// leaks nothing and needs no per-message bookkeeping here; the copy is one
// small allocation per event.
//
// Like every sink, this writes no log lines at info or above (E_CORE_LOG
// subscribers would get events about the sink): librdkafka's own logs go to
// spdlog at debug.
#include "server/events/kafka_publisher.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

namespace srmi::server {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Nothing queued, nothing in flight: how long to sleep on the channel
/// before serving librdkafka's callbacks (errors) again.
constexpr milliseconds kIdleWait{100};
/// Something in flight: how long one rd_kafka_poll waits for a report.
constexpr milliseconds kReportWait{10};
/// Not known to be connected and idle: how often to ask for metadata, and
/// for how long at most (this thread waits meanwhile; events queue up).
constexpr milliseconds kProbeEvery{1000};
constexpr milliseconds kProbeTimeout{250};
/// At the end: how long to wait for the reports of purged messages (they
/// come at once; this bounds a surprise).
constexpr milliseconds kPurgeReports{2000};

struct ConfDeleter {
    void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct TopicConfDeleter {
    void operator()(rd_kafka_topic_conf_t* conf) const { rd_kafka_topic_conf_destroy(conf); }
};

/// Sets `name` on `conf`, or throws BadSocket with librdkafka's reason.
void set_global(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
    std::array<char, 512> error{};
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
        throw BadSocket(error.data());
    }
}

std::string milliseconds_text(milliseconds d) {
    return std::to_string(std::max<std::int64_t>(d.count(), 0));
}

}  // namespace

class KafkaProducer {
  public:
    KafkaProducer(const KafkaSocket& socket, const BrokerOptions& options)
        : topic_(socket.topic),
          key_(socket.key),
          window_(std::max<std::size_t>(options.window, 1)) {
        conf_.reset(rd_kafka_conf_new());
        auto* conf = conf_.get();
        set_global(conf, "bootstrap.servers", socket.bootstrap_servers);
        set_global(conf, "client.id", "srmi");
        // acks is a topic property: librdkafka puts it on the default topic
        // configuration, which the topic handle below uses.
        set_global(conf, "acks", "all");
        set_global(conf, "enable.idempotence", "true");
        set_global(conf, "reconnect.backoff.ms", milliseconds_text(options.reconnect_min));
        set_global(conf, "reconnect.backoff.max.ms", milliseconds_text(options.reconnect_max));
        set_global(conf, "socket.connection.setup.timeout.ms",
                   milliseconds_text(std::max(options.connect_timeout, milliseconds(1000))));
        for (const auto& [name, value] : socket.global_properties) set_global(conf, name, value);
        // A t. property must be a topic property: checked on a topic
        // configuration of its own (which refuses the global ones), then set
        // through the global one like acks above, so that it overrides ours.
        const std::unique_ptr<rd_kafka_topic_conf_t, TopicConfDeleter> check(
            rd_kafka_topic_conf_new());
        for (const auto& [name, value] : socket.topic_properties) {
            std::array<char, 512> error{};
            if (rd_kafka_topic_conf_set(check.get(), name.c_str(), value.c_str(), error.data(),
                                        error.size()) != RD_KAFKA_CONF_OK) {
                throw BadSocket(error.data());
            }
            set_global(conf, name, value);
        }
        // TLS is asked for with g.security.protocol; srmi's CA file serves
        // unless the socket names its own.
        if (!options.tls_ca_file.empty() && uses_tls() && !is_set("ssl.ca.location")) {
            set_global(conf, "ssl.ca.location", options.tls_ca_file);
        }
        rd_kafka_conf_set_opaque(conf, this);
        rd_kafka_conf_set_dr_msg_cb(conf, &KafkaProducer::on_delivery);
        rd_kafka_conf_set_error_cb(conf, &KafkaProducer::on_error);
        rd_kafka_conf_set_log_cb(conf, &KafkaProducer::on_log);
        if (auto error = open()) throw BadSocket(*error);
    }

    ~KafkaProducer() { close_handle(); }

    KafkaProducer(const KafkaProducer&) = delete;
    KafkaProducer& operator=(const KafkaProducer&) = delete;

    void run(BrokerChannel& channel) {
        channel_ = &channel;
        while (!channel.should_stop(in_flight_)) {
            if (fatal_) restart();
            if (!handle_) {
                channel.pause(kProbeEvery);  // librdkafka refused to start again
                if (!channel.should_stop(in_flight_)) reopen();
                continue;
            }
            const bool blocked = produce_queued();
            if (!connected_ && in_flight_ == 0 && Clock::now() >= next_probe_) probe();
            if (in_flight_ > 0 || blocked) {
                poll(kReportWait);
            } else {
                poll(milliseconds(0));
                if (!channel.has_queued()) channel.wait(kIdleWait);
            }
        }
        if (handle_ && in_flight_ > 0) {
            // Draining past its deadline, or unsubscribed: what librdkafka
            // still holds is given up, and its reports count it dropped.
            rd_kafka_purge(handle_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            const auto until = Clock::now() + kPurgeReports;
            while (in_flight_ > 0 && Clock::now() < until) poll(kReportWait);
        }
        publish_counts();
        channel.finished(in_flight_);  // reports that never came
        channel_ = nullptr;
    }

  private:
    /// Makes the handle from a copy of the configuration (kept for a restart
    /// after a fatal error); the reason when librdkafka refuses.
    std::optional<std::string> open() {
        std::array<char, 512> error{};
        ConfPtr conf(rd_kafka_conf_dup(conf_.get()));
        handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size());
        if (!handle_) return std::string(error.data());
        conf.release();  // the handle owns it now
        topic_handle_ = rd_kafka_topic_new(handle_, topic_.c_str(), nullptr);
        if (!topic_handle_) {
            const std::string reason = rd_kafka_err2str(rd_kafka_last_error());
            close_handle();
            return "topic '" + topic_ + "': " + reason;
        }
        return std::nullopt;
    }

    void close_handle() {
        if (topic_handle_) rd_kafka_topic_destroy(topic_handle_);
        if (handle_) rd_kafka_destroy(handle_);
        topic_handle_ = nullptr;
        handle_ = nullptr;
    }

    /// A fatal error (the idempotent producer lost its guarantees) leaves
    /// the handle unusable: its messages are given up (counted dropped) and
    /// a new handle takes over.
    void restart() {
        fatal_ = false;
        rd_kafka_purge(handle_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        const auto until = Clock::now() + kPurgeReports;
        while (in_flight_ > 0 && Clock::now() < until) poll(kReportWait);
        dropped_pending_ += in_flight_;
        in_flight_ = 0;
        publish_counts();
        close_handle();
        reopen();
    }

    void reopen() {
        if (auto error = open()) set_disconnected("cannot restart the producer: " + *error);
    }

    /// Hands librdkafka what is queued, up to the window; true when its
    /// queue is full (the rest went back to the channel).
    bool produce_queued() {
        if (in_flight_ >= window_) return false;
        std::deque<core::EventPayload> batch;
        channel_->take(batch, window_ - in_flight_);
        while (!batch.empty()) {
            const auto& text = *batch.front();
            const auto key = key_of(text);
            const int status =
                rd_kafka_produce(topic_handle_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                 const_cast<char*>(text.data()), text.size(),
                                 key ? key->data() : nullptr, key ? key->size() : 0, nullptr);
            if (status == 0) {
                ++in_flight_;
                batch.pop_front();
                continue;
            }
            const auto error = rd_kafka_last_error();
            if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL || error == RD_KAFKA_RESP_ERR__FATAL) {
                if (error == RD_KAFKA_RESP_ERR__FATAL) fatal_ = true;
                channel_->put_back(batch);
                return true;
            }
            // This message can never go (too large, say): not the others.
            spdlog::debug("kafka {}: event dropped: {}", topic_, rd_kafka_err2str(error));
            ++dropped_pending_;
            batch.pop_front();
        }
        return false;
    }

    /// The record key the socket asks for, from the notification's params;
    /// none when they are missing (such events go to any partition).
    std::optional<std::string> key_of(const std::string& text) const {
        if (key_ == KafkaKey::kNone) return std::nullopt;
        const auto json = nlohmann::json::parse(text, nullptr, false);
        if (json.is_discarded() || !json.is_object()) return std::nullopt;
        const auto params = json.find("params");
        if (params == json.end() || !params->is_object()) return std::nullopt;
        auto field = [&](const char* name) -> std::optional<std::string> {
            const auto it = params->find(name);
            if (it == params->end() || !it->is_string()) return std::nullopt;
            return it->get<std::string>();
        };
        switch (key_) {
            case KafkaKey::kGroup:
                return field("group");
            case KafkaKey::kIdentifier:
                return field("identifier");
            case KafkaKey::kGroupIdentifier: {
                auto group = field("group");
                auto identifier = field("identifier");
                if (!group || !identifier) return std::nullopt;
                return *group + "/" + *identifier;
            }
            case KafkaKey::kNone:
                break;
        }
        return std::nullopt;
    }

    /// Whether a broker answers: one metadata request for our topic.
    void probe() {
        const rd_kafka_metadata_t* metadata = nullptr;
        const auto error = rd_kafka_metadata(handle_, 0, topic_handle_, &metadata,
                                             static_cast<int>(kProbeTimeout.count()));
        if (metadata) rd_kafka_metadata_destroy(metadata);
        next_probe_ = Clock::now() + kProbeEvery;
        if (error == RD_KAFKA_RESP_ERR_NO_ERROR) set_connected();
    }

    /// Serves librdkafka's callbacks (on this thread), then tells the
    /// channel what they counted.
    void poll(milliseconds wait) {
        rd_kafka_poll(handle_, static_cast<int>(wait.count()));
        publish_counts();
    }

    void publish_counts() {
        if (confirmed_pending_ > 0) channel_->count_confirmed(confirmed_pending_);
        if (dropped_pending_ > 0) channel_->count_dropped(dropped_pending_);
        confirmed_pending_ = 0;
        dropped_pending_ = 0;
    }

    void set_connected() {
        if (connected_) return;
        connected_ = true;
        channel_->connected();
    }

    void set_disconnected(std::string reason, bool refused = false) {
        connected_ = false;
        next_probe_ = Clock::now() + kProbeEvery;
        channel_->disconnected(std::move(reason), refused);
    }

    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
        auto& self = *static_cast<KafkaProducer*>(opaque);
        if (self.in_flight_ > 0) --self.in_flight_;
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            ++self.confirmed_pending_;
            self.set_connected();
        } else {
            ++self.dropped_pending_;
            spdlog::debug("kafka {}: event dropped: {}", self.topic_,
                          rd_kafka_err2str(message->err));
        }
    }

    /// librdkafka's errors are all passing (it reconnects by itself) but
    /// the fatal one: until a delivery or a probe succeeds again, the
    /// subscriber shows as disconnected, with the reason.
    static void on_error(rd_kafka_t* handle, int error, const char* reason, void* opaque) {
        auto& self = *static_cast<KafkaProducer*>(opaque);
        spdlog::debug("kafka {}: {}: {}", self.topic_,
                      rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(error)), reason);
        if (!self.channel_) return;
        if (error == RD_KAFKA_RESP_ERR__FATAL) {
            std::array<char, 512> text{};
            rd_kafka_fatal_error(handle, text.data(), text.size());
            self.fatal_ = true;
            return self.set_disconnected("fatal: " + std::string(text.data()));
        }
        self.set_disconnected(reason, error == RD_KAFKA_RESP_ERR__AUTHENTICATION);
    }

    /// From librdkafka's own threads too: spdlog's loggers are thread-safe.
    static void on_log(const rd_kafka_t*, int level, const char* facility, const char* text) {
        spdlog::debug("librdkafka [{}] {}: {}", level, facility, text);
    }

    bool uses_tls() const {
        const auto protocol = value_of("security.protocol");
        return protocol && protocol->find("ssl") != std::string::npos;
    }
    bool is_set(const char* name) const {
        const auto value = value_of(name);
        return value && !value->empty();
    }
    std::optional<std::string> value_of(const char* name) const {
        std::array<char, 1024> value{};
        std::size_t size = value.size();
        if (rd_kafka_conf_get(conf_.get(), name, value.data(), &size) != RD_KAFKA_CONF_OK)
            return std::nullopt;
        return std::string(value.data());
    }

    const std::string topic_;
    const KafkaKey key_;
    const std::size_t window_;
    ConfPtr conf_;  // the handle's configuration, copied for each handle made
    rd_kafka_t* handle_ = nullptr;
    rd_kafka_topic_t* topic_handle_ = nullptr;
    // Below: this thread's only (librdkafka calls on_delivery and on_error
    // from rd_kafka_poll, on the thread that polls).
    BrokerChannel* channel_ = nullptr;  // while run() runs
    std::size_t in_flight_ = 0;         // produced, not yet reported
    std::uint64_t confirmed_pending_ = 0;
    std::uint64_t dropped_pending_ = 0;
    bool connected_ = false;
    bool fatal_ = false;
    Clock::time_point next_probe_{};
};

void KafkaProducerDeleter::operator()(KafkaProducer* producer) const { delete producer; }

KafkaProducerPtr make_kafka_producer(const KafkaSocket& socket, const BrokerOptions& options) {
    return KafkaProducerPtr(new KafkaProducer(socket, options));
}

void run_kafka_publisher(KafkaProducer& producer, BrokerChannel& channel) { producer.run(channel); }

}  // namespace srmi::server
