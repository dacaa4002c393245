// DispatcherCalls: JSON-RPC calls straight into a Dispatcher, for method tests.
#pragma once

#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "rpc/dispatcher.h"

namespace srmi::test {

/// Ordered, so that tests see the member order of the answers (OpenSIPS's).
using OrderedJson = nlohmann::ordered_json;

/// Builds each request as a client would and parses the answer text.
class DispatcherCalls {
public:
    explicit DispatcherCalls(const rpc::Dispatcher& dispatcher,
                             const rpc::Caller& caller = rpc::unrestricted_caller())
        : dispatcher_(dispatcher), caller_(caller) {}

    OrderedJson call(const std::string& method, const OrderedJson& params = nullptr) const {
        OrderedJson request{{"jsonrpc", "2.0"}, {"method", method}};
        if (!params.is_null()) request["params"] = params;
        request["id"] = 1;
        auto text = dispatcher_.handle(request.dump(), caller_);
        REQUIRE(text.has_value());
        return OrderedJson::parse(*text);
    }
    /// The `result` of a call that must succeed.
    OrderedJson result(const std::string& method, const OrderedJson& params = nullptr) const {
        OrderedJson answer = call(method, params);
        INFO(answer.dump());
        REQUIRE(answer.contains("result"));
        return answer["result"];
    }
    /// The `error` of a call that must fail.
    OrderedJson error(const std::string& method, const OrderedJson& params = nullptr) const {
        OrderedJson answer = call(method, params);
        INFO(answer.dump());
        REQUIRE(answer.contains("error"));
        return answer["error"];
    }

private:
    const rpc::Dispatcher& dispatcher_;
    const rpc::Caller& caller_;
};

}  // namespace srmi::test
