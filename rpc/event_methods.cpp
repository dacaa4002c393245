// events_list, event_subscribe, subscribers_list, raise_event: the Event
// Interface's MI commands, adapting JSON parameters to core::EventHub.
#include <string>

#include "rpc/methods.h"
#include "rpc/notification.h"
#include "rpc/param_values.h"

namespace srmi::rpc {

namespace {

constexpr int kDefaultExpire = 3600;

RpcError bad_parameter_value() { return {400, "Bad parameter value", std::nullopt}; }
RpcError event_not_published() { return {404, "Event not published", std::nullopt}; }
RpcError subscriber_does_not_exist() { return {404, "Subscriber does not exist", std::nullopt}; }

Json event_object(const core::EventInfo& e) {
    Json out = Json::object();
    out["name"] = e.name;
    out["id"] = e.id;
    return out;
}

Json subscribers_object(const core::EventSubscribers& entry) {
    Json out = event_object(entry.event);
    Json list = Json::array();
    for (const auto& s : entry.subscribers) {
        Json item = Json::object();
        item["socket"] = s.socket;
        item["expire"] = s.expire;
        if (s.ttl > 0) {
            item["ttl"] = s.ttl;
        } else {
            item["ttl"] = "expired";
        }
        item["dropped"] = s.dropped;
        if (s.health) {
            item["connected"] = s.health->connected;
            item["confirmed"] = s.health->confirmed;
            if (!s.health->error.empty()) item["error"] = s.health->error;
        }
        list.push_back(std::move(item));
    }
    out["Subscribers"] = std::move(list);
    return out;
}

// raise_event's params: an object, an array, or a string holding a JSON
// object (as OpenSIPS clients send it).
std::optional<Json> event_params(const Json& value, std::size_t max_depth) {
    if (value.is_object() || value.is_array()) return value;
    if (value.is_string()) {
        // A string is parsed here, past the dispatcher's check of the body:
        // its nesting is bounded the same, or dumping the event would recurse
        // as deep as a client likes.
        if (nests_deeper_than(value.get_ref<const std::string&>(), max_depth)) return std::nullopt;
        auto parsed = Json::parse(value.get_ref<const std::string&>(), nullptr, false);
        if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) return parsed;
    }
    return std::nullopt;
}

// The types the event methods' parameters and results share.
void add_event_schemas(Dispatcher& dispatcher) {
    dispatcher.add_schema({"EventName", R"yaml(
description: |
  An event name as `events_list` shows it, matched exactly
  (case-sensitive, as OpenSIPS does), e.g. `E_CORE_SR_STATUS_CHANGED`.
  A name that is not published, or a value that is not a string, gets
  the method's error: 400 `Bad parameter value` (`event_subscribe`),
  404 `Event not published` (`subscribers_list`), 404
  `Event not registered` (`raise_event`).
type: string
examples: [E_CORE_SR_STATUS_CHANGED, E_CORE_LOG]
)yaml"});
    dispatcher.add_schema({"EventSocket", R"yaml(
description: |
  Where a subscriber receives its events: `udp:HOST:PORT` (IPv6:
  `udp:[::1]:PORT`), `unix:/path`, `tcp:HOST:PORT`,
  `http://HOST[:PORT]/path`, `https://HOST[:PORT]/path`, or a message
  broker in OpenSIPS's syntax:
  `rabbitmq:[USER[:PASSWORD]@]HOST[:PORT]/[PARAMS?]ROUTING_KEY` (PARAMS
  `exchange=NAME`, `persistent`, `tls_domain=NAME`, separated by `;`)
  and `kafka:BROKER[:PORT][,BROKER...]/TOPIC[?PROPERTIES]` (`g.NAME=VALUE`,
  `t.NAME=VALUE` librdkafka properties and `key=group|identifier|group/identifier`,
  joined by `&`). Subscriptions are keyed by this exact text. An unusable
  socket, an unknown parameter, a property librdkafka rejects or a login
  the broker refuses gets 400 `Bad parameter value` with `data`
  `bad socket 'SOCKET': REASON`; a broker that cannot be reached is
  subscribed (see `subscribers_list`).
type: string
examples: ['udp:127.0.0.1:9999', 'tcp:127.0.0.1:9999', 'unix:/run/events.sock', 'http://127.0.0.1:8080/hook',
           'https://hooks.example.com/opensips', 'rabbitmq:127.0.0.1/srmi',
           'rabbitmq:srmi:secret@mq.example.com:5671/exchange=amq.topic;persistent;tls_domain=mq?srmi.status',
           'kafka:127.0.0.1:9092/srmi-status?g.linger.ms=5&key=group/identifier']
)yaml"});
    dispatcher.add_schema({"ExpireParam", R"yaml(
description: |
  The subscription's lifetime in seconds (default 3600): a 32-bit
  integer, or a string holding one in decimal. 0 removes the
  subscription (OK even when there was none). Subscribing the same
  event and socket again refreshes the lifetime instead of adding a
  second subscriber. Negative: -32602 `Negative expire value`; not an
  integer: -32602 `Parameter 'expire' must be an integer`.
oneOf:
  - type: integer
    minimum: 0
    maximum: 2147483647
  - type: string
    pattern: '^\+?[0-9]+$'
)yaml"});
    dispatcher.add_schema({"RaiseEventParamsParam", R"yaml(
description: |
  The raised event's parameters: an object (named parameters, sent as
  the notification's `params` object), an array (unnamed values, sent
  as a `params` array), or a string holding a JSON object or array (as
  OpenSIPS clients send it). Anything else: -32602
  `Parameter 'params' must be an object, an array or a string holding one`.
  Without it, the notification's `params` is `{}`.
oneOf:
  - type: object
  - type: array
  - type: string
    description: JSON text of an object or an array.
    contentMediaType: application/json
)yaml"});
    dispatcher.add_schema({"EventInfo", R"yaml(
type: object
required: [name, id]
additionalProperties: false
properties:
  name:
    $ref: '#/components/schemas/EventName'
  id:
    description: The event's id, counting from 0 in publication order.
    type: integer
    minimum: 0
)yaml"});
    dispatcher.add_schema({"Subscriber", R"yaml(
description: One subscription of a socket to an event.
type: object
required: [socket, expire, ttl, dropped]
additionalProperties: false
properties:
  socket:
    description: The socket as it was subscribed.
    type: string
  expire:
    description: The lifetime asked for, in seconds.
    type: integer
    minimum: 1
  ttl:
    description: |
      Seconds left before the subscription expires, or the string
      `expired` for one past its expiry that is not purged yet.
    oneOf:
      - type: integer
        minimum: 1
      - const: expired
  dropped:
    description: |
      Events this subscriber lost because its queue was full (or, for
      http://, not delivered; for a broker, refused by it or given up at
      shutdown).
    type: integer
    minimum: 0
  connected:
    description: Broker subscribers only (rabbitmq:, kafka:) - whether srmi holds a working connection to the broker now.
    type: boolean
  confirmed:
    description: Broker subscribers only - events the broker confirmed (RabbitMQ publisher confirms, Kafka delivery reports).
    type: integer
    minimum: 0
  error:
    description: Broker subscribers only, while not connected - the last failure, e.g. `cannot connect to 127.0.0.1:5672 - a socket error occurred`.
    type: string
examples:
  - {socket: 'udp:127.0.0.1:9999', expire: 3600, ttl: 3600, dropped: 0}
  - {socket: 'rabbitmq:127.0.0.1/srmi', expire: 3600, ttl: 3541, dropped: 0, connected: true, confirmed: 1250}
)yaml"});
    dispatcher.add_schema({"EventSubscribers", R"yaml(
description: An event and its subscribers.
type: object
required: [name, id, Subscribers]
additionalProperties: false
properties:
  name:
    $ref: '#/components/schemas/EventName'
  id:
    type: integer
    minimum: 0
  Subscribers:
    type: array
    items:
      $ref: '#/components/schemas/Subscriber'
)yaml"});
}

}  // namespace

void add_event_methods(Dispatcher& dispatcher, core::EventHub& hub) {
    add_event_schemas(dispatcher);

    dispatcher.add({
        .name = "events_list",
        .help = "lists all the events published",
        .recipes = {{{},
                     [&hub](const Params&) -> Reply {
                         Json events = Json::array();
                         for (const auto& e : hub.events()) events.push_back(event_object(e));
                         Json out = Json::object();
                         out["Events"] = std::move(events);
                         return out;
                     }}},
        .qualified_name = "evi:list",
        .role = Role::kRead,
        .result = R"yaml(
description: |
  Every event one can subscribe to, in id order: OpenSIPS's core events
  0..6, then `E_PROFILING_PROC` (7) when profiling is configured, then
  srmi's own `E_SRMI_REPORT_ADDED`.
type: object
required: [Events]
additionalProperties: false
properties:
  Events:
    type: array
    minItems: 7
    items:
      $ref: '#/components/schemas/EventInfo'
examples:
  - Events:
      - {name: E_CORE_SR_STATUS_CHANGED, id: 0}
      - {name: E_CORE_THRESHOLD, id: 1}
      - {name: E_CORE_SHM_THRESHOLD, id: 2}
      - {name: E_CORE_PKG_THRESHOLD, id: 3}
      - {name: E_CORE_PROC_AUTO_SCALE, id: 4}
      - {name: E_CORE_TCP_DISCONNECT, id: 5}
      - {name: E_CORE_LOG, id: 6}
      - {name: E_SRMI_REPORT_ADDED, id: 7}
)yaml",
    });

    auto subscribe = [&hub](const Params& p) -> Reply {
        int expire = kDefaultExpire;
        if (p.has("expire")) {
            auto value = int_value(p["expire"]);
            if (!value) return errors::invalid_params("Parameter 'expire' must be an integer");
            if (*value < 0) return errors::invalid_params("Negative expire value");
            expire = *value;
        }
        auto event = string_value(p["event"]);
        auto socket = string_value(p["socket"]);
        if (!event || !socket) return bad_parameter_value();
        auto outcome = hub.subscribe(*event, *socket, expire);
        if (auto* error = std::get_if<std::pair<core::EventErrc, std::string>>(&outcome)) {
            // Unsubscribing what is not subscribed leaves the wanted state: OK.
            if (error->first == core::EventErrc::unknown_subscriber) return "OK";
            RpcError answer = bad_parameter_value();
            answer.data = error->second;
            return answer;
        }
        return "OK";
    };
    dispatcher.add({
        .name = "event_subscribe",
        .help = "subscribes a socket to an event (expire in seconds, 0 unsubscribes)",
        .recipes = {{{"event", "socket"}, subscribe}, {{"event", "socket", "expire"}, subscribe}},
        .qualified_name = "evi:subscribe",
        .role = Role::kAdmin,
        .params = {{"event", schema_ref("EventName")},
                   {"socket", schema_ref("EventSocket")},
                   {"expire", schema_ref("ExpireParam")}},
        .result = schema_ref("OkResult"),
        .errors = {{400, "Bad parameter value", "unknown event", "the event is not published"},
                   {400, "Bad parameter value", "bad socket 'SOCKET': REASON",
                    "the socket cannot be used"},
                   {400, "Bad parameter value", "",
                    "`event` or `socket` is not a string (no `data`)"},
                   {-32602, "Invalid params", "Negative expire value", ""},
                   {-32602, "Invalid params", "Parameter 'expire' must be an integer", ""}},
    });

    auto list_one = [&hub](const Params& p) -> Reply {
        auto event = string_value(p["event"]);
        if (!event) return event_not_published();
        std::optional<std::string_view> socket;
        if (p.has("socket")) {
            socket = string_value(p["socket"]);
            if (!socket) return subscriber_does_not_exist();
        }
        auto found = hub.subscribers(*event, socket);
        if (auto* error = std::get_if<core::EventErrc>(&found)) {
            return *error == core::EventErrc::unknown_event ? event_not_published()
                                                            : subscriber_does_not_exist();
        }
        Json out = Json::object();
        out["Event"] = subscribers_object(std::get<core::EventSubscribers>(found));
        return out;
    };
    dispatcher.add({
        .name = "subscribers_list",
        .help = "lists the subscribers of all events, of one event, or one subscriber",
        .recipes = {{{},
                     [&hub](const Params&) -> Reply {
                         Json events = Json::array();
                         for (const auto& entry : hub.subscribers()) {
                             events.push_back(subscribers_object(entry));
                         }
                         Json out = Json::object();
                         out["Events"] = std::move(events);
                         return out;
                     }},
                    {{"event"}, list_one},
                    {{"event", "socket"}, list_one}},
        .qualified_name = "evi:subscribers",
        .role = Role::kRead,
        .params = {{"event", schema_ref("EventName")}, {"socket", schema_ref("EventSocket")}},
        .result = R"yaml(
description: |
  Without params: `{"Events": [...]}`, the events that have at least
  one subscriber, in id order (`[]` when none has). With `event`:
  `{"Event": {...}}`, that event with its subscribers (possibly none).
  With `event` and `socket`: `{"Event": {...}}` with only that
  subscriber. `/events` streams are not subscribers and are not listed.
oneOf:
  - title: all events
    type: object
    required: [Events]
    additionalProperties: false
    properties:
      Events:
        type: array
        items:
          allOf:
            - $ref: '#/components/schemas/EventSubscribers'
            - properties:
                Subscribers:
                  minItems: 1
  - title: one event
    type: object
    required: [Event]
    additionalProperties: false
    properties:
      Event:
        $ref: '#/components/schemas/EventSubscribers'
examples:
  - Events:
      - name: E_CORE_SR_STATUS_CHANGED
        id: 0
        Subscribers:
          - {socket: 'udp:127.0.0.1:9999', expire: 3600, ttl: 3600, dropped: 0}
  - Event:
      name: E_CORE_LOG
      id: 6
      Subscribers: []
)yaml",
        .errors = {{404, "Event not published", "", "the event is not published"},
                   {404, "Subscriber does not exist", "",
                    "the socket is not subscribed to the event (or is not a string)"}},
    });

    auto raise = [&hub, &dispatcher](const Params& p) -> Reply {
        Json params = Json::object();
        if (p.has("params")) {
            auto parsed = event_params(p["params"], dispatcher.limits().max_depth);
            if (!parsed) {
                return errors::invalid_params(
                    "Parameter 'params' must be an object, an array or a string holding one");
            }
            params = std::move(*parsed);
        }
        auto name = string_value(p["event"]);
        const auto id = name ? hub.find(*name) : std::nullopt;
        if (!id) return RpcError{404, "Event not registered", std::nullopt};
        if (!hub.wanted(*id)) return RpcError{480, "Temporarily Unavailable", std::nullopt};
        if (hub.raise(*id, make_notification(*name, params)) == 0) {
            return RpcError{480, "Temporarily Unavailable", std::nullopt};
        }
        return "OK";
    };
    dispatcher.add({
        .name = "raise_event",
        .help = "raises an event to its subscribers, with optional parameters",
        .recipes = {{{"event"}, raise}, {{"event", "params"}, raise}},
        .qualified_name = "evi:raise",
        .role = Role::kAdmin,
        .params = {{"event", schema_ref("EventName")},
                   {"params", schema_ref("RaiseEventParamsParam")}},
        .result = schema_ref("OkResult"),
        .errors = {{-32602, "Invalid params",
                    "Parameter 'params' must be an object, an array or a string holding one", ""},
                   {404, "Event not registered", "", "the event is not published"},
                   {480, "Temporarily Unavailable", "",
                    "the event has no subscriber (and no `/events` stream watches it)"}},
    });
}

}  // namespace srmi::rpc
