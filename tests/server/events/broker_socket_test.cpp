// Broker socket strings: OpenSIPS's event_rabbitmq and event_kafka syntax,
// their defaults, and a refusal that names the problem for each mistake.
#include "server/events/broker_socket.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using srmi::server::BadSocket;
using srmi::server::KafkaKey;
using srmi::server::parse_kafka_socket;
using srmi::server::parse_rabbitmq_socket;
using srmi::server::redact_socket;

/// What `parse` says of `rest`, or "(accepted)".
template <class Parse>
std::string refusal_of(Parse parse, const char* rest) {
    try {
        parse(rest);
    } catch (const BadSocket& e) {
        return e.what();
    }
    return "(accepted)";
}

std::string refusal_of_rabbitmq(const char* rest) {
    return refusal_of(parse_rabbitmq_socket, rest);
}
std::string refusal_of_kafka(const char* rest) { return refusal_of(parse_kafka_socket, rest); }

}  // namespace

TEST_CASE("rabbitmq: defaults are guest:guest, port 5672 and the default exchange") {
    const auto s = parse_rabbitmq_socket("127.0.0.1/pike");
    CHECK(s.user == "guest");
    CHECK(s.password == "guest");
    CHECK(s.broker.host == "127.0.0.1");
    CHECK(s.broker.port == 5672);
    CHECK(s.exchange.empty());
    CHECK(s.routing_key == "pike");
    CHECK_FALSE(s.persistent);
    CHECK_FALSE(s.tls);
}

TEST_CASE("rabbitmq: user, password, port, params and routing key as OpenSIPS writes them") {
    const auto s = parse_rabbitmq_socket(
        "srmi:s3cret@mq.example.com:5671/exchange=amq.topic;persistent;tls_domain=mq?srmi.status");
    CHECK(s.user == "srmi");
    CHECK(s.password == "s3cret");
    CHECK(s.broker.host == "mq.example.com");
    CHECK(s.broker.port == 5671);
    CHECK(s.exchange == "amq.topic");
    CHECK(s.persistent);
    CHECK(s.tls);
    CHECK(s.routing_key == "srmi.status");

    const auto user_only = parse_rabbitmq_socket("admin@[::1]/q");
    CHECK(user_only.user == "admin");
    CHECK(user_only.password == "guest");
    CHECK(user_only.broker.host == "::1");
    CHECK(user_only.broker.bracketed);
    // A password may hold '@': the login ends at the last one before the '/'.
    const auto at_sign = parse_rabbitmq_socket("srmi:p@ss@h/k");
    CHECK(at_sign.password == "p@ss");
    CHECK(at_sign.broker.host == "h");
    // An '@' in the routing key is the key's own.
    CHECK(parse_rabbitmq_socket("h/a@b").routing_key == "a@b");
    CHECK(parse_rabbitmq_socket("h/a@b").user == "guest");
}

TEST_CASE("rabbitmq: every mistake is refused with its reason") {
    CHECK(refusal_of_rabbitmq("127.0.0.1").starts_with("missing '/ROUTING_KEY'"));
    CHECK(refusal_of_rabbitmq("127.0.0.1/").starts_with("missing routing key"));
    CHECK(refusal_of_rabbitmq("127.0.0.1/exchange=x?").starts_with("missing routing key"));
    CHECK(refusal_of_rabbitmq("/pike").starts_with("missing host"));
    CHECK(refusal_of_rabbitmq("h:0/pike") == "port 0 out of range (1-65535)");
    CHECK(refusal_of_rabbitmq("h:x/pike").starts_with("bad port 'x'"));
    CHECK(refusal_of_rabbitmq("h/colour=red?k").starts_with("unknown parameter 'colour'"));
    CHECK(refusal_of_rabbitmq("h/exchange?k") == "'exchange' needs a value (exchange=NAME)");
    CHECK(refusal_of_rabbitmq("h/persistent=yes?k") == "'persistent' takes no value");
    CHECK(refusal_of_rabbitmq("h/;?k").starts_with("empty parameter"));
    CHECK(refusal_of_rabbitmq(":pw@h/k").starts_with("empty user"));
    CHECK(refusal_of_rabbitmq("::1/k").starts_with("an IPv6 address goes in brackets"));
}

TEST_CASE("kafka: brokers, topic, properties by prefix, and the record key") {
    const auto s = parse_kafka_socket(
        "k1:9092,k2,[::1]:19092/srmi-status?g.linger.ms=5&t.message.timeout.ms=30000&"
        "key=group/identifier&g.client.id=a=b");
    CHECK(s.bootstrap_servers == "k1:9092,k2,[::1]:19092");
    CHECK(s.topic == "srmi-status");
    REQUIRE(s.global_properties.size() == 2);
    CHECK(s.global_properties[0] == std::pair<std::string, std::string>{"linger.ms", "5"});
    CHECK(s.global_properties[1] == std::pair<std::string, std::string>{"client.id", "a=b"});
    REQUIRE(s.topic_properties.size() == 1);
    CHECK(s.topic_properties[0].first == "message.timeout.ms");
    CHECK(s.key == KafkaKey::kGroupIdentifier);

    CHECK(parse_kafka_socket("k/t").key == KafkaKey::kNone);
    CHECK(parse_kafka_socket("k/t?key=group").key == KafkaKey::kGroup);
    CHECK(parse_kafka_socket("k/t?key=identifier").key == KafkaKey::kIdentifier);
}

TEST_CASE("kafka: every mistake is refused with its reason") {
    CHECK(refusal_of_kafka("k1:9092").starts_with("missing '/TOPIC'"));
    CHECK(refusal_of_kafka("/t").starts_with("missing broker"));
    CHECK(refusal_of_kafka("k1,,k2/t").starts_with("missing host"));
    CHECK(refusal_of_kafka("k1:99999/t") == "port 99999 out of range (1-65535)");
    CHECK(refusal_of_kafka("k1/").starts_with("missing topic"));
    CHECK(refusal_of_kafka("k1/?g.a=1").starts_with("missing topic"));
    CHECK(refusal_of_kafka("k1/t?linger.ms=5").starts_with("unknown property 'linger.ms'"));
    CHECK(refusal_of_kafka("k1/t?g.=5").starts_with("unknown property 'g.'"));
    CHECK(refusal_of_kafka("k1/t?g.linger.ms")
              .starts_with("property 'g.linger.ms' is not NAME=VALUE"));
    CHECK(refusal_of_kafka("k1/t?key=callid").starts_with("unknown key 'callid'"));
}

TEST_CASE("a password never shows in what others read") {
    CHECK(redact_socket("rabbitmq:srmi:s3cret@h/k") == "rabbitmq:srmi@h/k");
    CHECK(redact_socket("rabbitmq:srmi@h/k") == "rabbitmq:srmi@h/k");
    CHECK(redact_socket("rabbitmq:h/a:b@c") == "rabbitmq:h/a:b@c");
    CHECK(redact_socket("rabbitmq:h:5672/k") == "rabbitmq:h:5672/k");
    CHECK(redact_socket("rabbitmq:srmi:p@ss@h/k") == "rabbitmq:srmi@h/k");
    CHECK(redact_socket("udp:127.0.0.1:9") == "udp:127.0.0.1:9");
    CHECK(redact_socket("kafka:k/t?g.sasl.username=u&g.sasl.password=pw&key=group&"
                        "g.sasl.oauthbearer.client.secret=s") ==
          "kafka:k/t?g.sasl.username=u&g.sasl.password=***&key=group&"
          "g.sasl.oauthbearer.client.secret=***");
    CHECK(redact_socket("kafka:k/t") == "kafka:k/t");
}
