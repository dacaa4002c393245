// parse_json: simdjson's DOM copied into a Json tree; nlohmann's SAX parser
// building the same tree for whatever simdjson refuses.
#include "rpc/json_parse.h"

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace srmi::rpc {

namespace {

/// Objects up to this many keys find a repeated key by a linear search, as
/// ordered_json does; larger ones keep an index, which ordered_json lacks (a
/// megabyte of distinct keys made it compare for seconds).
constexpr std::size_t kLinearKeys = 16;

/// Bodies up to this size (a batch of a hundred calls) are read by the
/// thread's own parser, kept between calls; a larger one gets a parser of its
/// own, so that a thread does not keep ~15 bytes per byte of its largest
/// request for the rest of its life.
constexpr std::size_t kKeptParserBytes = 16 * 1024;

/// The members of one object being built. A key given twice keeps its first
/// place and takes the last value, as nlohmann's parser does (it assigns
/// through operator[]).
class Members {
  public:
    Members(Json& object, std::size_t expected) : members_(object.get_ref<Json::object_t&>()) {
        members_.reserve(expected);
    }

    /// Where the value of `key` goes; valid until the next call.
    Json& slot(std::string_view key) {
        if (members_.size() <= kLinearKeys) {
            for (auto& [k, v] : members_) {
                if (k == key) return v;
            }
        } else {
            if (index_.empty()) {
                std::size_t i = 0;
                for (const auto& entry : members_) index_.emplace(entry.first, i++);
            }
            const auto [it, added] = index_.try_emplace(std::string(key), members_.size());
            if (!added) return (members_.begin() + static_cast<std::ptrdiff_t>(it->second))->second;
        }
        return members_.emplace_back(std::string(key), nullptr).second;
    }

  private:
    Json::object_t& members_;
    std::unordered_map<std::string, std::size_t> index_;  // once past kLinearKeys
};

/// Copies simdjson's tree into `out`; false when it nests deeper than
/// `depth_left`.
bool copy(simdjson::dom::element in, Json& out, std::size_t depth_left) {
    using simdjson::dom::element_type;
    switch (in.type()) {
        case element_type::OBJECT: {
            if (depth_left == 0) return false;
            const simdjson::dom::object object = in.get_object().value_unsafe();
            out = Json::object();
            Members members(out, object.size());
            for (const auto field : object) {
                if (!copy(field.value, members.slot(field.key), depth_left - 1)) return false;
            }
            return true;
        }
        case element_type::ARRAY: {
            if (depth_left == 0) return false;
            const simdjson::dom::array array = in.get_array().value_unsafe();
            out = Json::array();
            auto& elements = out.get_ref<Json::array_t&>();
            elements.reserve(array.size());
            for (const auto element : array) {
                if (!copy(element, elements.emplace_back(), depth_left - 1)) return false;
            }
            return true;
        }
        case element_type::INT64: {
            // nlohmann keeps a non-negative integer unsigned.
            const std::int64_t value = in.get_int64().value_unsafe();
            if (value >= 0) {
                out = static_cast<std::uint64_t>(value);
            } else {
                out = value;
            }
            return true;
        }
        case element_type::UINT64:
            out = in.get_uint64().value_unsafe();
            return true;
        case element_type::DOUBLE:
            out = in.get_double().value_unsafe();
            return true;
        case element_type::STRING:
            out = std::string(in.get_string().value_unsafe());
            return true;
        case element_type::BOOL:
            out = in.get_bool().value_unsafe();
            return true;
        case element_type::NULL_VALUE:
            out = nullptr;
            return true;
    }
    return false;
}

/// nlohmann's SAX events to a Json tree, as its own DOM parser builds it, but
/// with Members' index and a bound on the nesting.
class TreeBuilder {
  public:
    TreeBuilder(Json& root, std::size_t max_depth) : root_(root), max_depth_(max_depth) {}

    bool null() { return put(nullptr); }
    bool boolean(bool value) { return put(value); }
    bool number_integer(Json::number_integer_t value) { return put(value); }
    bool number_unsigned(Json::number_unsigned_t value) { return put(value); }
    bool number_float(Json::number_float_t value, const std::string&) { return put(value); }
    bool string(std::string& value) { return put(std::move(value)); }
    bool binary(Json::binary_t&) { return false; }  // not in JSON text

    bool start_object(std::size_t) { return open(Json::object()); }
    bool key(std::string& key) {
        key_slot_ = &open_.back().members->slot(key);
        return true;
    }
    bool end_object() { return close(); }
    bool start_array(std::size_t) { return open(Json::array()); }
    bool end_array() { return close(); }

    bool parse_error(std::size_t, const std::string&, const Json::exception&) { return false; }

  private:
    struct Open {
        Json* container;
        std::unique_ptr<Members> members;  // objects only
    };

    // Where the next value goes: the root, the next element of the open
    // array, or the slot of the key just read.
    Json& target() {
        if (open_.empty()) return root_;
        if (open_.back().members) return *key_slot_;
        return open_.back().container->get_ref<Json::array_t&>().emplace_back();
    }

    template <class T>
    bool put(T&& value) {
        target() = std::forward<T>(value);
        return true;
    }

    bool open(Json empty) {
        if (open_.size() == max_depth_) return false;
        Json& container = target();
        container = std::move(empty);
        open_.push_back({&container, container.is_object() ? std::make_unique<Members>(container, 0)
                                                           : nullptr});
        return true;
    }

    bool close() {
        open_.pop_back();
        return true;
    }

    Json& root_;
    std::size_t max_depth_;
    std::vector<Open> open_;
    Json* key_slot_ = nullptr;
};

bool parse_with_simdjson(simdjson::dom::parser& parser, std::string_view text, Json& out,
                         std::size_t max_depth, bool& refused) {
    simdjson::dom::element root;
    if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root)) {
        refused = true;
        return false;
    }
    return copy(root, out, max_depth);
}

}  // namespace

bool parse_json(std::string_view text, Json& out, std::size_t max_depth) {
    bool refused = false;
    if (text.size() <= kKeptParserBytes) {
        thread_local simdjson::dom::parser parser;
        if (parse_with_simdjson(parser, text, out, max_depth, refused)) return true;
    } else {
        simdjson::dom::parser parser;
        if (parse_with_simdjson(parser, text, out, max_depth, refused)) return true;
    }
    // simdjson read it but it nests too deep: refused.
    if (!refused) return false;
    TreeBuilder builder(out, max_depth);
    return Json::sax_parse(text, &builder);
}

}  // namespace srmi::rpc
