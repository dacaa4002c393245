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

}  // namespace

void add_event_methods(Dispatcher& dispatcher, core::EventHub& hub) {
    dispatcher.add({"events_list",
                    "lists all the events published",
                    {{{},
                      [&hub](const Params&) -> Reply {
                          Json events = Json::array();
                          for (const auto& e : hub.events()) events.push_back(event_object(e));
                          Json out = Json::object();
                          out["Events"] = std::move(events);
                          return out;
                      }}},
                    "evi:list", Role::kRead});

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
    dispatcher.add({"event_subscribe",
                    "subscribes a socket to an event (expire in seconds, 0 unsubscribes)",
                    {{{"event", "socket"}, subscribe}, {{"event", "socket", "expire"}, subscribe}},
                    "evi:subscribe", Role::kAdmin});

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
    dispatcher.add({"subscribers_list",
                    "lists the subscribers of all events, of one event, or one subscriber",
                    {{{},
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
                    "evi:subscribers", Role::kRead});

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
    dispatcher.add({"raise_event",
                    "raises an event to its subscribers, with optional parameters",
                    {{{"event"}, raise}, {{"event", "params"}, raise}},
                    "evi:raise", Role::kAdmin});
}

}  // namespace srmi::rpc
