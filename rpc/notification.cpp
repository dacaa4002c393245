// Notifications: member order as OpenSIPS writes them (jsonrpc, method,
// params); both forms give the same bytes for the same event.
#include "rpc/notification.h"

#include <charconv>
#include <memory>
#include <string>
#include <type_traits>

#include "rpc/json_writer.h"

namespace srmi::rpc {

core::EventPayload render_notification(const core::Event& event) {
    std::string text;
    text.reserve(64 + 32 * event.params.size());
    JsonWriter out(text);
    out.raw(R"({"jsonrpc":"2.0","method":)").string(event.name).raw(R"(,"params":{)");
    bool first = true;
    for (const auto& param : event.params) {
        if (!first) out.raw(',');
        first = false;
        out.key(param.name);
        std::visit(
            [&](const auto& value) {
                using T = std::decay_t<decltype(value)>;
                if constexpr (std::is_same_v<T, std::string_view>) {
                    out.string(value);
                } else if constexpr (std::is_same_v<T, std::int64_t>) {
                    out.integer(value);
                } else {
                    char buffer[24];
                    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
                    out.raw(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
                }
            },
            param.value);
    }
    out.raw("}}");
    return std::make_shared<const std::string>(std::move(text));
}

core::EventPayload make_notification(std::string_view event, const Json& params) {
    Json message = Json::object();
    message["jsonrpc"] = "2.0";
    message["method"] = event;
    message["params"] = params;
    return std::make_shared<const std::string>(
        message.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace srmi::rpc
