// pull_json: a tree rebuilt with rpc::JsonPullReader, containers member by
// member, so that tests and the fuzzer can compare the pull reader with
// read_json.
#pragma once

#include <string>
#include <utility>

#include "rpc/json_reader.h"

namespace srmi::test {

/// Reads the next value of `in` into `out`: objects and arrays through
/// object() and array(), strings through string(), the rest through value().
/// A key given twice keeps its first place and takes the last value, as
/// read_json does.
inline bool pull_json(rpc::JsonPullReader& in, rpc::Json& out) {
    switch (in.peek()) {
        case '{':
            out = rpc::Json::object();
            return in.object([&](std::string& key) {
                rpc::Json member;
                if (!pull_json(in, member)) return false;
                out[key] = std::move(member);
                return true;
            });
        case '[':
            out = rpc::Json::array();
            return in.array([&] {
                out.push_back(rpc::Json());
                return pull_json(in, out.back());
            });
        case '"': {
            std::string text;
            if (!in.string(text)) return false;
            out = std::move(text);
            return true;
        }
        default:
            return in.value(out);
    }
}

}  // namespace srmi::test
