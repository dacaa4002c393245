// Broker socket strings: the grammar of OpenSIPS's event_rabbitmq and
// event_kafka, with every refusal saying what was expected.
#include "server/events/broker_socket.h"

namespace srmi::server {

namespace {

constexpr std::string_view kRabbitMqSyntax =
    "rabbitmq:[USER[:PASSWORD]@]HOST[:PORT]/[PARAMS?]ROUTING_KEY";
constexpr std::string_view kKafkaSyntax =
    "kafka:BROKER[:PORT][,BROKER[:PORT]...]/TOPIC[?PROPERTIES]";
constexpr std::uint16_t kAmqpPort = 5672;
constexpr std::uint16_t kKafkaPort = 9092;

/// Calls `each(item)` for every `separator`-separated item of `list`.
template <class Each>
void for_each_item(std::string_view list, char separator, Each each) {
    while (true) {
        const auto end = list.find(separator);
        each(list.substr(0, end));
        if (end == std::string_view::npos) return;
        list.remove_prefix(end + 1);
    }
}

void read_rabbitmq_param(std::string_view item, RabbitMqSocket& out) {
    const auto eq = item.find('=');
    const auto key = item.substr(0, eq);
    const bool has_value = eq != std::string_view::npos;
    const auto value = has_value ? item.substr(eq + 1) : std::string_view{};
    if (key == "exchange") {
        if (!has_value) throw BadSocket("'exchange' needs a value (exchange=NAME)");
        out.exchange = std::string(value);
    } else if (key == "persistent") {
        if (has_value) throw BadSocket("'persistent' takes no value");
        out.persistent = true;
    } else if (key == "tls_domain") {
        // OpenSIPS names a TLS profile here; srmi has one client TLS set-up.
        out.tls = true;
    } else if (key.empty()) {
        throw BadSocket("empty parameter; expected exchange=NAME, persistent or tls_domain=NAME");
    } else {
        throw BadSocket("unknown parameter '" + std::string(key) +
                        "'; expected exchange=NAME, persistent or tls_domain=NAME");
    }
}

}  // namespace

RabbitMqSocket parse_rabbitmq_socket(std::string_view rest) {
    RabbitMqSocket out;
    // The login ends at the last '@' before the first '/': a password may
    // hold '@' (not '/', which ends the address, as in OpenSIPS).
    const auto at = rest.rfind('@', rest.find('/'));
    if (at != std::string_view::npos) {
        const auto userinfo = rest.substr(0, at);
        const auto colon = userinfo.find(':');
        out.user = std::string(userinfo.substr(0, colon));
        if (out.user.empty())
            throw BadSocket("empty user before '@'; expected " + std::string(kRabbitMqSyntax));
        if (colon != std::string_view::npos) out.password = std::string(userinfo.substr(colon + 1));
        rest.remove_prefix(at + 1);
    }
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
        throw BadSocket("missing '/ROUTING_KEY'; expected " + std::string(kRabbitMqSyntax));
    }
    out.broker = split_host_port(rest.substr(0, slash), kRabbitMqSyntax, kAmqpPort);
    auto path = rest.substr(slash + 1);
    if (const auto question = path.find('?'); question != std::string_view::npos) {
        for_each_item(path.substr(0, question), ';',
                      [&](std::string_view item) { read_rabbitmq_param(item, out); });
        path.remove_prefix(question + 1);
    }
    if (path.empty())
        throw BadSocket("missing routing key; expected " + std::string(kRabbitMqSyntax));
    out.routing_key = std::string(path);
    return out;
}

KafkaSocket parse_kafka_socket(std::string_view rest) {
    KafkaSocket out;
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
        throw BadSocket("missing '/TOPIC'; expected " + std::string(kKafkaSyntax));
    }
    const auto brokers = rest.substr(0, slash);
    if (brokers.empty()) throw BadSocket("missing broker; expected " + std::string(kKafkaSyntax));
    // Each broker is checked here, so that a typo is a 400 now instead of a
    // producer that never connects; librdkafka gets the list as written.
    for_each_item(brokers, ',', [](std::string_view broker) {
        split_host_port(broker, kKafkaSyntax, kKafkaPort);
    });
    out.bootstrap_servers = std::string(brokers);
    auto path = rest.substr(slash + 1);
    const auto question = path.find('?');
    out.topic = std::string(path.substr(0, question));
    if (out.topic.empty()) throw BadSocket("missing topic; expected " + std::string(kKafkaSyntax));
    if (question == std::string_view::npos) return out;
    for_each_item(path.substr(question + 1), '&', [&](std::string_view item) {
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            throw BadSocket("property '" + std::string(item) +
                            "' is not NAME=VALUE; expected g.NAME=VALUE, t.NAME=VALUE or key=...");
        }
        const auto name = item.substr(0, eq);
        const auto value = std::string(item.substr(eq + 1));
        if (name == "key") {
            if (value == "group") {
                out.key = KafkaKey::kGroup;
            } else if (value == "identifier") {
                out.key = KafkaKey::kIdentifier;
            } else if (value == "group/identifier") {
                out.key = KafkaKey::kGroupIdentifier;
            } else {
                throw BadSocket("unknown key '" + value +
                                "'; expected key=group, key=identifier or key=group/identifier");
            }
        } else if (name.starts_with("g.") && name.size() > 2) {
            out.global_properties.emplace_back(std::string(name.substr(2)), value);
        } else if (name.starts_with("t.") && name.size() > 2) {
            out.topic_properties.emplace_back(std::string(name.substr(2)), value);
        } else {
            throw BadSocket("unknown property '" + std::string(name) +
                            "'; expected g.NAME=VALUE, t.NAME=VALUE or key=...");
        }
    });
    return out;
}

std::string redact_socket(std::string_view socket) {
    if (socket.starts_with("kafka:")) {
        // Properties that hold secrets (sasl.password, ssl.key.password,
        // sasl.oauthbearer.client.secret, ...): their values go.
        const auto question = socket.find('?');
        if (question == std::string_view::npos) return std::string(socket);
        std::string out(socket.substr(0, question + 1));
        bool first = true;
        for_each_item(socket.substr(question + 1), '&', [&](std::string_view item) {
            if (!first) out += '&';
            first = false;
            const auto eq = item.find('=');
            const auto name = item.substr(0, eq);
            const bool secret = name.find("password") != std::string_view::npos ||
                                name.find("secret") != std::string_view::npos;
            out += secret && eq != std::string_view::npos ? std::string(name) + "=***"
                                                          : std::string(item);
        });
        return out;
    }
    if (!socket.starts_with("rabbitmq:")) return std::string(socket);
    const auto at = socket.rfind('@', socket.find('/'));
    if (at == std::string_view::npos) return std::string(socket);
    const auto colon = socket.find(':', 9);
    if (colon == std::string_view::npos || colon > at) return std::string(socket);
    return std::string(socket.substr(0, colon)) + std::string(socket.substr(at));
}

}  // namespace srmi::server
