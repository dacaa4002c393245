// Config: command-line and JSON config parsing, strict so that mistakes are
// reported at start-up instead of surfacing as odd behaviour later.
#include "server/config.h"

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <charconv>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_set>

#include "core/detail/folded_map.h"
#include "server/arguments.h"

namespace srmi::server {

namespace {

// Ordered: the file's order of keys, which is also the order in which unknown
// keys are named.
using json = nlohmann::ordered_json;

constexpr std::array kLogLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
constexpr unsigned kMaxThreads = 256;
constexpr std::size_t kMaxBodyLimit = std::size_t{1} << 30;
constexpr std::size_t kMaxReportsLimit = 1'000'000;
constexpr std::int64_t kMaxThresholdUs = 3'600'000'000;
constexpr std::int64_t kMaxQueueLimit = 1'000'000;
constexpr std::int64_t kMaxMemory = std::int64_t{1} << 50;
constexpr std::int64_t kMaxHistoryChanges = 10'000'000;
constexpr std::int64_t kMaxHistoryAge = 10LL * 366 * 24 * 3600;  // ten years of seconds
constexpr std::int64_t kMaxBatch = 1'000'000;
constexpr std::int64_t kMaxJsonDepth = 1000;  // nlohmann dumps recursively: keep stacks safe
constexpr std::int64_t kMaxConnections = 1'000'000;
constexpr std::int64_t kMaxTimeoutMs = 3'600'000;
constexpr std::int64_t kMaxHeaderLimit = std::int64_t{1} << 20;

// The limits, by config key and flag; each strictly positive.
struct LimitKey {
    const char* key;
    const char* flag;
    std::int64_t max;
};
constexpr std::array<LimitKey, 7> kLimitKeys = {{
    {"max_connections", "--max-connections", kMaxConnections},
    {"header_timeout_ms", "--header-timeout-ms", kMaxTimeoutMs},
    {"body_timeout_ms", "--body-timeout-ms", kMaxTimeoutMs},
    {"idle_timeout_ms", "--idle-timeout-ms", kMaxTimeoutMs},
    {"write_timeout_ms", "--write-timeout-ms", kMaxTimeoutMs},
    {"header_limit", "--header-limit", kMaxHeaderLimit},
    {"url_limit", "--url-limit", kMaxHeaderLimit},
}};

void set_limit(ConnectionLimits& limits, std::string_view key, std::int64_t value) {
    const auto ms = std::chrono::milliseconds(value);
    const auto size = static_cast<std::size_t>(value);
    if (key == "max_connections") limits.max_connections = size;
    if (key == "header_timeout_ms") limits.header_timeout = ms;
    if (key == "body_timeout_ms") limits.body_timeout = ms;
    if (key == "idle_timeout_ms") limits.idle_timeout = ms;
    if (key == "write_timeout_ms") limits.write_timeout = ms;
    if (key == "header_limit") limits.header_limit = size;
    if (key == "url_limit") limits.url_limit = size;
}

template <class Int>
Int parse_number(const std::string& text, const std::string& what, Int min, Int max) {
    Int value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value < min ||
        value > max) {
        throw ConfigError(what + ": '" + text + "' is not a number from " + std::to_string(min) +
                          " to " + std::to_string(max));
    }
    return value;
}

std::string check_log_level(const std::string& level, const std::string& what) {
    for (const char* known : kLogLevels) {
        if (level == known) return level;
    }
    throw ConfigError(what + ": unknown log level '" + level +
                      "' (trace, debug, info, warn, error, critical, off)");
}

std::string check_profiling(const std::string& state, const std::string& what) {
    if (state == "on" || state == "off") return state;
    throw ConfigError(what + ": '" + state + "' is neither on nor off");
}

// --- JSON config --------------------------------------------------------------

class FileReader {
  public:
    explicit FileReader(std::string path) : path_(std::move(path)) {}

    [[noreturn]] void fail(const std::string& where, const std::string& what) const {
        throw ConfigError(path_ + ": " + where + ": " + what);
    }

    void only_keys(const json& object, const std::string& where,
                   std::initializer_list<const char*> keys) const {
        for (const auto& [key, value] : object.items()) {
            bool known = false;
            for (const char* k : keys) known = known || key == k;
            if (!known) fail(where, "unknown key '" + key + "'");
        }
    }

    std::string string(const json& v, const std::string& where) const {
        if (!v.is_string()) fail(where, "must be a string");
        return v.get<std::string>();
    }

    std::int64_t integer(const json& v, const std::string& where, std::int64_t min,
                         std::int64_t max) const {
        if (!v.is_number_integer()) fail(where, "must be an integer");
        const bool too_big =
            v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max);
        const auto n = too_big ? max : v.get<std::int64_t>();
        if (too_big || n < min || n > max) {
            fail(where, "must be from " + std::to_string(min) + " to " + std::to_string(max));
        }
        return n;
    }

    // Defaults a group gives to the identifiers it lists by name only.
    core::IdentifierSpec identifier(const json& v, const std::string& where,
                                    const core::IdentifierSpec& defaults) const {
        core::IdentifierSpec spec = defaults;
        if (v.is_string()) {
            spec.name = v.get<std::string>();
        } else if (v.is_object()) {
            only_keys(v, where, {"name", "initial_status", "initial_details", "max_reports"});
            if (!v.contains("name")) fail(where, "missing 'name'");
            apply_spec_fields(v, where, spec);
            spec.name = string(v["name"], where + ".name");
        } else {
            fail(where, "must be a name or an object");
        }
        if (spec.name.empty()) fail(where, "identifier name is empty");
        return spec;
    }

    void apply_spec_fields(const json& v, const std::string& where,
                           core::IdentifierSpec& spec) const {
        if (v.contains("initial_status")) {
            spec.status = static_cast<int>(
                integer(v["initial_status"], where + ".initial_status", INT32_MIN, INT32_MAX));
        }
        if (v.contains("initial_details")) {
            spec.details = string(v["initial_details"], where + ".initial_details");
        }
        if (v.contains("max_reports")) {
            spec.max_reports = static_cast<std::size_t>(
                integer(v["max_reports"], where + ".max_reports", 0, kMaxReportsLimit));
        }
    }

    GroupConfig group(const json& v, const std::string& where) const {
        GroupConfig group;
        core::IdentifierSpec defaults;
        if (v.is_string()) {
            group.name = v.get<std::string>();
        } else if (v.is_object()) {
            only_keys(v, where,
                      {"name", "identifiers", "initial_status", "initial_details", "max_reports"});
            const auto name = v.find("name");
            if (name == v.end()) fail(where, "missing 'name'");
            if (!name->is_string()) fail(where + ".name", "must be a string");
            group.name = name->get<std::string>();
            apply_spec_fields(v, where, defaults);
            if (v.contains("identifiers")) {
                const auto& ids = v["identifiers"];
                if (!ids.is_array() || ids.empty()) {
                    fail(where + ".identifiers", "must be a non-empty array");
                }
                group.identifiers.reserve(ids.size());
                for (std::size_t i = 0; i < ids.size(); ++i) {
                    // A name alone (the usual entry) needs no `where`: built only for an object.
                    if (ids[i].is_string() && !ids[i].get_ref<const std::string&>().empty()) {
                        auto& spec = group.identifiers.emplace_back(defaults);
                        spec.name = ids[i].get<std::string>();
                        continue;
                    }
                    group.identifiers.push_back(identifier(
                        ids[i], where + ".identifiers[" + std::to_string(i) + "]", defaults));
                }
            }
        } else {
            fail(where, "must be a group name or an object");
        }
        if (group.identifiers.empty()) group.identifiers.push_back(defaults);
        return group;
    }

    rpc::Role role(const json& v, const std::string& where) const {
        const auto name = string(v, where);
        if (name == "read") return rpc::Role::kRead;
        if (name == "write") return rpc::Role::kWrite;
        if (name == "admin") return rpc::Role::kAdmin;
        fail(where, "'" + name + "' is not a role (read, write, admin)");
    }

    /// Role, group limits and name, shared by tokens and client certificates.
    Credential credential(const json& v, const std::string& where) const {
        Credential c;
        if (!v.contains("role")) fail(where, "missing 'role' (read, write or admin)");
        c.caller.role = role(v["role"], where + ".role");
        c.caller.name = v.contains("name") ? string(v["name"], where + ".name") : where;
        if (v.contains("groups")) {
            const auto& groups = v["groups"];
            if (!groups.is_array() || groups.empty())
                fail(where + ".groups", "must be a non-empty array of group names");
            for (std::size_t i = 0; i < groups.size(); ++i) {
                c.caller.groups.push_back(
                    string(groups[i], where + ".groups[" + std::to_string(i) + "]"));
            }
        }
        return c;
    }

    Credential token(const json& v, const std::string& where) const {
        if (!v.is_object())
            fail(where, "must be an object with 'token' (or 'token_sha256') and 'role'");
        only_keys(v, where, {"name", "token", "token_sha256", "role", "groups"});
        Credential c = credential(v, where);
        if (v.contains("token") == v.contains("token_sha256")) {
            fail(where, "needs exactly one of 'token' and 'token_sha256'");
        }
        if (v.contains("token")) {
            const auto text = string(v["token"], where + ".token");
            if (text.size() < kMinTokenLength) {
                fail(where + ".token",
                     "must have at least " + std::to_string(kMinTokenLength) + " characters");
            }
            for (char ch : text) {
                if (ch <= ' ' || ch > '~')
                    fail(where + ".token", "must be printable ASCII without spaces");
            }
            c.token_sha256 = sha256(text);
        } else {
            const auto hex = string(v["token_sha256"], where + ".token_sha256");
            if (hex.size() != 64) fail(where + ".token_sha256", "must be 64 hexadecimal digits");
            for (std::size_t i = 0; i < 32; ++i) {
                c.token_sha256[i] = parse_hex_byte(hex.substr(2 * i, 2), where + ".token_sha256");
            }
        }
        return c;
    }

    Credential client_cert(const json& v, const std::string& where) const {
        if (!v.is_object()) fail(where, "must be an object with 'cn' and 'role'");
        only_keys(v, where, {"name", "cn", "role", "groups"});
        Credential c = credential(v, where);
        if (!v.contains("cn")) fail(where, "missing 'cn' (the client certificate's Common Name)");
        c.client_cn = string(v["cn"], where + ".cn");
        if (c.client_cn.empty()) fail(where + ".cn", "is empty");
        return c;
    }

    std::uint8_t parse_hex_byte(const std::string& two, const std::string& where) const {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(two.data(), two.data() + two.size(), value, 16);
        if (ec != std::errc() || end != two.data() + two.size())
            fail(where, "must be 64 hexadecimal digits");
        return static_cast<std::uint8_t>(value);
    }

    bool boolean(const json& v, const std::string& where) const {
        if (!v.is_boolean()) fail(where, "must be true or false");
        return v.get<bool>();
    }

  private:
    std::string path_;
};

void check_credentials(const Config& config) {
    std::set<std::array<std::uint8_t, 32>> tokens;
    std::set<std::string> names;
    for (const auto& c : config.credentials) {
        if (c.client_cn.empty() && !tokens.insert(c.token_sha256).second) {
            throw ConfigError("access token of '" + c.caller.name + "' is given twice");
        }
        if (!c.client_cn.empty() && config.tls_client_ca.empty()) {
            throw ConfigError(
                "client_certs need tls_client_ca: without it no client certificate is asked for");
        }
        if (!c.client_cn.empty() && !names.insert(c.client_cn).second) {
            throw ConfigError("client certificate CN '" + c.client_cn + "' is given twice");
        }
        for (const auto& group : c.caller.groups) {
            bool known = false;
            for (const auto& g : config.groups)
                known = known || core::detail::equal_folded(g.name, group);
            if (!known) {
                throw ConfigError("'" + c.caller.name + "' is limited to group '" + group +
                                  "', which is not a declared group");
            }
        }
    }
}

/// Without credentials anyone who can connect may change the registry: only
/// loopback then, unless the operator says --insecure.
void check_exposure(const Config& config) {
    // Mutual TLS is access control too: only holders of a certificate of
    // tls_client_ca get through the handshake.
    if (!config.credentials.empty() || !config.tls_client_ca.empty() || config.insecure) return;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(config.listen_host, ec);
    if (!ec && address.is_loopback()) return;
    throw ConfigError("refusing to listen on " + config.listen_host +
                      " without access control: anyone who can reach it could change the registry. "
                      "Configure \"tokens\" (docs/security.md) or pass --insecure");
}

void check_ready_requires(const Config& config) {
    for (const auto& name : config.ready_requires) {
        bool known = core::detail::equal_folded(name, "core");
        for (const auto& g : config.groups)
            known = known || core::detail::equal_folded(g.name, name);
        if (!known)
            throw ConfigError("ready_requires names '" + name + "', which is not a declared group");
    }
}

void check_tls(const Config& config) {
    if (config.tls_cert.empty() != config.tls_key.empty()) {
        throw ConfigError(config.tls_cert.empty()
                              ? "tls_key is set without tls_cert; HTTPS needs both"
                              : "tls_cert is set without tls_key; HTTPS needs both");
    }
    if (!config.tls_client_ca.empty() && config.tls_cert.empty()) {
        throw ConfigError(
            "tls_client_ca is set without tls_cert and tls_key; mutual TLS needs HTTPS");
    }
}

// The index of the first group, in file order, whose name an earlier group
// has (case-insensitively), or groups.size(). By sorted hashes: no node or
// copy per name, where a config may hold 10 000 groups.
std::size_t first_repeated_group(const std::vector<GroupConfig>& groups) {
    std::vector<std::pair<std::size_t, std::size_t>> by_hash;  // (hash of name, index)
    by_hash.reserve(groups.size());
    for (std::size_t i = 0; i < groups.size(); ++i) {
        by_hash.emplace_back(core::detail::FoldedHash{}(groups[i].name), i);
    }
    std::sort(by_hash.begin(), by_hash.end());
    std::size_t first = groups.size();
    for (std::size_t run = 0; run < by_hash.size();) {
        std::size_t end = run + 1;
        while (end < by_hash.size() && by_hash[end].first == by_hash[run].first) ++end;
        for (std::size_t i = run + 1; i < end; ++i) {  // index order within a run
            for (std::size_t j = run; j < i; ++j) {
                if (core::detail::equal_folded(groups[by_hash[i].second].name,
                                               groups[by_hash[j].second].name)) {
                    first = std::min(first, by_hash[i].second);
                }
            }
        }
        run = end;
    }
    return first;
}

void check_identifiers(const GroupConfig& g) {
    const auto& list = g.identifiers;
    auto twice = [&](const std::string& name) {
        return ConfigError("group '" + g.name + "': identifier '" + name + "' is declared twice");
    };
    constexpr std::size_t kPairwise = 16;
    if (list.size() <= kPairwise) {  // the usual group: comparing pairs of hashes beats a set
        std::array<std::size_t, kPairwise> hashes;
        for (std::size_t i = 0; i < list.size(); ++i) {
            hashes[i] = core::detail::FoldedHash{}(list[i].name);
            for (std::size_t j = 0; j < i; ++j) {
                if (hashes[i] == hashes[j] &&
                    core::detail::equal_folded(list[i].name, list[j].name)) {
                    throw twice(list[i].name);
                }
            }
        }
        return;
    }
    std::unordered_set<std::string_view, core::detail::FoldedHash, core::detail::FoldedEqual> ids;
    ids.reserve(list.size());
    for (const auto& id : list) {
        if (!ids.insert(id.name).second) throw twice(id.name);
    }
}

void check_groups(const std::vector<GroupConfig>& groups) {
    const std::size_t repeated = first_repeated_group(groups);
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto& g = groups[i];
        if (g.name.empty()) throw ConfigError("group name is empty");
        if (core::detail::equal_folded(g.name, "core")) {
            throw ConfigError("group name 'core' is reserved for the server itself");
        }
        if (i == repeated) throw ConfigError("group '" + g.name + "' is declared twice");
        check_identifiers(g);
    }
}

// The usual large config, read by nlohmann's SAX parser straight into
// GroupConfig without a tree: groups given by name, or as objects of a "name"
// and "identifiers" listed by name. 10 000 groups of 10 took 7 ms to build as
// a tree, 7 ms to copy out and 4 ms to free. Any other shape (other group
// keys, a key given twice, an empty list) or an error makes it return false,
// and the tree path then reads the file, with its messages; the other
// top-level members are built into `root` as nlohmann's parser builds them.
class PlainGroupsReader {
  public:
    PlainGroupsReader(json& root, std::vector<GroupConfig>& groups)
        : root_(root), groups_(groups) {}

    bool null() { return scalar(nullptr); }
    bool boolean(bool value) { return scalar(value); }
    bool number_integer(json::number_integer_t value) { return scalar(value); }
    bool number_unsigned(json::number_unsigned_t value) { return scalar(value); }
    bool number_float(json::number_float_t value, const std::string&) { return scalar(value); }
    bool binary(json::binary_t&) { return false; }
    bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }

    bool string(std::string& value) {
        switch (state_) {
            case State::kMember:
                return scalar(std::move(value));
            case State::kGroups: {
                GroupConfig& g = groups_.emplace_back();
                g.name = std::move(value);
                g.identifiers.emplace_back();
                return true;
            }
            case State::kGroupName:
                groups_.back().name = std::move(value);
                state_ = State::kGroup;
                return true;
            case State::kIdentifiers:
                if (value.empty()) return false;
                scratch_.emplace_back().name = std::move(value);
                return true;
            default:
                return false;
        }
    }

    bool start_object(std::size_t) {
        switch (state_) {
            case State::kStart:
                root_ = json::object();
                state_ = State::kRoot;
                return true;
            case State::kMember:
                return open(json::object());
            case State::kGroups:
                groups_.emplace_back();
                named_ = listed_ = false;
                state_ = State::kGroup;
                return true;
            default:
                return false;
        }
    }

    bool key(std::string& key) {
        switch (state_) {
            case State::kRoot:
                if (key == "groups") {
                    if (grouped_) return false;
                    grouped_ = true;
                    state_ = State::kGroupsStart;
                    return true;
                }
                if (root_.contains(key)) return false;
                slot_ = &root_[key];
                state_ = State::kMember;
                return true;
            case State::kMember:
                slot_ = &(*open_.back())[key];
                return true;
            case State::kGroup:
                if (key == "name" && !named_) {
                    named_ = true;
                    state_ = State::kGroupName;
                    return true;
                }
                if (key == "identifiers" && !listed_) {
                    listed_ = true;
                    scratch_.clear();
                    state_ = State::kIdentifiersStart;
                    return true;
                }
                return false;
            default:
                return false;
        }
    }

    bool end_object() {
        switch (state_) {
            case State::kRoot:
                state_ = State::kEnd;
                return true;
            case State::kMember:
                return close();
            case State::kGroup:
                if (!listed_) groups_.back().identifiers.emplace_back();
                state_ = State::kGroups;
                return named_;
            default:
                return false;
        }
    }

    bool start_array(std::size_t) {
        switch (state_) {
            case State::kMember:
                return open(json::array());
            case State::kGroupsStart:
                state_ = State::kGroups;
                return true;
            case State::kIdentifiersStart:
                state_ = State::kIdentifiers;
                return true;
            default:
                return false;
        }
    }

    bool end_array() {
        switch (state_) {
            case State::kMember:
                return close();
            case State::kGroups:
                state_ = State::kRoot;
                return true;
            case State::kIdentifiers: {
                // Moved into a vector of their number: growing each group's
                // own by doubling took several allocations and half again
                // the memory per group.
                if (scratch_.empty()) return false;
                auto& ids = groups_.back().identifiers;
                ids.assign(std::make_move_iterator(scratch_.begin()),
                           std::make_move_iterator(scratch_.end()));
                state_ = State::kGroup;
                return true;
            }
            default:
                return false;
        }
    }

  private:
    enum class State {
        kStart,             // before the top-level object
        kRoot,              // in it, between members
        kMember,            // a member other than "groups", built as a tree
        kGroupsStart,       // after "groups":
        kGroups,            // in the groups array, between groups
        kGroup,             // in a group object, between its members
        kGroupName,         // after "name":
        kIdentifiersStart,  // after "identifiers":
        kIdentifiers,       // in the identifiers array
        kEnd,               // after the top-level object
    };

    // Where a member's next value goes: the member itself, the next element
    // of the open array, or the slot of the key just read.
    json& target() {
        if (open_.empty() || open_.back()->is_object()) return *slot_;
        open_.back()->push_back(nullptr);
        return open_.back()->back();
    }

    template <class T>
    bool scalar(T&& value) {
        if (state_ != State::kMember) return false;
        target() = std::forward<T>(value);
        if (open_.empty()) state_ = State::kRoot;
        return true;
    }

    bool open(json empty) {
        json& container = target();
        container = std::move(empty);
        open_.push_back(&container);
        return true;
    }

    bool close() {
        open_.pop_back();
        if (open_.empty()) state_ = State::kRoot;
        return true;
    }

    json& root_;
    std::vector<GroupConfig>& groups_;
    State state_ = State::kStart;
    bool grouped_ = false, named_ = false, listed_ = false;
    json* slot_ = nullptr;
    std::vector<json*> open_;  // the containers of the member being built
    // A group's identifiers, read into one reused list.
    std::vector<core::IdentifierSpec> scratch_;
};

}  // namespace

void parse_listen(const std::string& text, Config& config) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        throw ConfigError("listen address '" + text + "' must be HOST:PORT");
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) throw ConfigError("listen address '" + text + "' has no host");
    config.listen_port = parse_number<std::uint16_t>(text.substr(colon + 1),
                                                     "listen port in '" + text + "'", 0, 65535);
    config.listen_host = host;
}

void load_config_file(const std::string& path, Config& config) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    const std::string content = std::move(text).str();

    // nlohmann's parser, comments allowed: the SAX reader of plain group lists
    // first (start-up with a large config); what it refuses is read as a tree,
    // and an error there is reported with its place.
    json root;
    std::vector<GroupConfig> plain_groups;
    PlainGroupsReader plain_reader(root, plain_groups);
    const bool plain = json::sax_parse(content, &plain_reader, json::input_format_t::json,
                                       /*strict=*/true, /*ignore_comments=*/true);
    if (!plain) {
        try {
            root =
                json::parse(content, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
        } catch (const json::parse_error& e) {
            throw ConfigError(path + ": not valid JSON: " + e.what());
        }
    }
    FileReader reader(path);
    if (!root.is_object()) reader.fail("top level", "must be an object");
    reader.only_keys(root, "top level",
                     {"listen",
                      "threads",
                      "body_limit",
                      "log_level",
                      "access_log",
                      "groups",
                      "exec_threshold_us",
                      "log_event_enabled",
                      "event_queue_limit",
                      "registry_memory_limit",
                      "event_shm_threshold",
                      "event_pkg_threshold",
                      "pkg_memory_size",
                      "profiling_proc",
                      "min_workers",
                      "max_workers",
                      "ready_requires",
                      "state_dir",
                      "state",
                      "node_name",
                      "heartbeat_lapse",
                      "history_changes",
                      "history_age",
                      "tokens",
                      "client_certs",
                      "open_probes",
                      "max_batch",
                      "max_json_depth",
                      "tls_cert",
                      "tls_key",
                      "tls_client_ca",
                      "event_tls_ca",
                      "max_connections",
                      "header_timeout_ms",
                      "body_timeout_ms",
                      "idle_timeout_ms",
                      "write_timeout_ms",
                      "header_limit",
                      "url_limit"});

    if (root.contains("listen")) {
        try {
            parse_listen(reader.string(root["listen"], "listen"), config);
        } catch (const ConfigError& e) {
            reader.fail("listen", e.what());
        }
    }
    if (root.contains("threads")) {
        config.threads =
            static_cast<unsigned>(reader.integer(root["threads"], "threads", 0, kMaxThreads));
    }
    if (root.contains("body_limit")) {
        config.body_limit = static_cast<std::size_t>(
            reader.integer(root["body_limit"], "body_limit", 1, kMaxBodyLimit));
    }
    if (root.contains("log_level")) {
        try {
            config.log_level =
                check_log_level(reader.string(root["log_level"], "log_level"), "log_level");
        } catch (const ConfigError& e) {
            reader.fail("log_level", e.what());
        }
    }
    if (root.contains("access_log")) {
        if (!root["access_log"].is_boolean()) reader.fail("access_log", "must be true or false");
        config.access_log = root["access_log"].get<bool>();
    }
    if (root.contains("exec_threshold_us")) {
        config.exec_threshold_us =
            reader.integer(root["exec_threshold_us"], "exec_threshold_us", 0, kMaxThresholdUs);
    }
    if (root.contains("log_event_enabled")) {
        if (!root["log_event_enabled"].is_boolean())
            reader.fail("log_event_enabled", "must be true or false");
        config.log_event_enabled = root["log_event_enabled"].get<bool>();
    }
    if (root.contains("event_queue_limit")) {
        config.event_queue_limit = static_cast<std::size_t>(
            reader.integer(root["event_queue_limit"], "event_queue_limit", 1, kMaxQueueLimit));
    }
    if (root.contains("registry_memory_limit")) {
        config.registry_memory_limit = static_cast<std::uint64_t>(
            reader.integer(root["registry_memory_limit"], "registry_memory_limit", 0, kMaxMemory));
    }
    if (root.contains("pkg_memory_size")) {
        config.pkg_memory_size = static_cast<std::uint64_t>(
            reader.integer(root["pkg_memory_size"], "pkg_memory_size", 0, kMaxMemory));
    }
    for (auto [key, field] : {std::pair{"event_shm_threshold", &config.event_shm_threshold},
                              std::pair{"event_pkg_threshold", &config.event_pkg_threshold}}) {
        if (root.contains(key)) *field = static_cast<int>(reader.integer(root[key], key, 0, 100));
    }
    if (root.contains("min_workers")) {
        config.min_workers = static_cast<unsigned>(
            reader.integer(root["min_workers"], "min_workers", 1, kMaxThreads));
    }
    if (root.contains("max_workers")) {
        config.max_workers = static_cast<unsigned>(
            reader.integer(root["max_workers"], "max_workers", 0, kMaxThreads));
    }
    if (config.max_workers != 0 && config.max_workers < config.min_workers) {
        reader.fail("max_workers", "must be 0 (no pool) or at least min_workers");
    }
    if (root.contains("ready_requires")) {
        const auto& list = root["ready_requires"];
        if (!list.is_array()) reader.fail("ready_requires", "must be an array of group names");
        for (std::size_t i = 0; i < list.size(); ++i) {
            config.ready_requires.push_back(
                reader.string(list[i], "ready_requires[" + std::to_string(i) + "]"));
        }
    }
    for (auto [key, read] : {std::pair{"tokens", &FileReader::token},
                             std::pair{"client_certs", &FileReader::client_cert}}) {
        if (!root.contains(key)) continue;
        const auto& list = root[key];
        if (!list.is_array()) reader.fail(key, "must be an array");
        for (std::size_t i = 0; i < list.size(); ++i) {
            config.credentials.push_back(
                (reader.*read)(list[i], std::string(key) + "[" + std::to_string(i) + "]"));
        }
    }
    if (root.contains("open_probes"))
        config.open_probes = reader.boolean(root["open_probes"], "open_probes");
    if (root.contains("max_batch")) {
        config.max_batch =
            static_cast<std::size_t>(reader.integer(root["max_batch"], "max_batch", 1, kMaxBatch));
    }
    if (root.contains("max_json_depth")) {
        config.max_json_depth = static_cast<std::size_t>(
            reader.integer(root["max_json_depth"], "max_json_depth", 2, kMaxJsonDepth));
    }
    if (root.contains("state_dir"))
        config.state_dir = reader.string(root["state_dir"], "state_dir");
    if (root.contains("state")) {
        config.state_uri = reader.string(root["state"], "state");
        if (config.state_uri.empty()) reader.fail("state", "must be a postgresql:// URI");
    }
    if (root.contains("heartbeat_lapse")) {
        config.heartbeat_lapse =
            static_cast<int>(reader.integer(root["heartbeat_lapse"], "heartbeat_lapse", 1, 3600));
    }
    if (root.contains("history_changes")) {
        config.history_changes =
            reader.integer(root["history_changes"], "history_changes", 0, kMaxHistoryChanges);
    }
    if (root.contains("history_age")) {
        config.history_age = reader.integer(root["history_age"], "history_age", 1, kMaxHistoryAge);
    }
    if (root.contains("node_name")) {
        config.node_name = reader.string(root["node_name"], "node_name");
        if (config.node_name.empty()) reader.fail("node_name", "must be a non-empty name");
    }
    for (auto [key, field] :
         {std::pair{"tls_cert", &config.tls_cert}, std::pair{"tls_key", &config.tls_key},
          std::pair{"tls_client_ca", &config.tls_client_ca},
          std::pair{"event_tls_ca", &config.event_tls_ca}}) {
        if (!root.contains(key)) continue;
        *field = reader.string(root[key], key);
        if (field->empty()) reader.fail(key, "must be a file name");
    }
    for (const auto& limit : kLimitKeys) {
        if (root.contains(limit.key)) {
            set_limit(config.limits, limit.key,
                      reader.integer(root[limit.key], limit.key, 1, limit.max));
        }
    }
    if (root.contains("profiling_proc")) {
        config.profiling_proc = check_profiling(
            reader.string(root["profiling_proc"], "profiling_proc"), path + ": profiling_proc");
    }
    if (plain) {
        config.groups.insert(config.groups.end(), std::make_move_iterator(plain_groups.begin()),
                             std::make_move_iterator(plain_groups.end()));
    } else if (root.contains("groups")) {
        const auto& groups = root["groups"];
        if (!groups.is_array()) reader.fail("groups", "must be an array");
        config.groups.reserve(groups.size());
        for (std::size_t i = 0; i < groups.size(); ++i) {
            config.groups.push_back(reader.group(groups[i], "groups[" + std::to_string(i) + "]"));
        }
    }
    try {
        check_groups(config.groups);
    } catch (const ConfigError& e) {
        throw ConfigError(path + ": " + e.what());
    }
}

namespace {

/// The server's options, for Boost.Program_options: whether each takes a
/// value (what each means: usage()).
boost::program_options::options_description serve_options() {
    namespace po = boost::program_options;
    po::options_description options;
    for (const char* name : {"help", "version", "access-log", "log-events", "insecure"}) {
        options.add_options()(name, "");
    }
    for (const char* name :
         {"listen", "group", "config", "threads", "log-level", "exec-threshold-us",
          "profiling-proc", "state-dir", "state", "node-name", "heartbeat-lapse", "history-changes", "history-age", "tls-cert", "tls-key", "tls-client-ca", "event-tls-ca"}) {
        options.add_options()(name, po::value<std::string>());
    }
    for (const auto& limit : kLimitKeys) {
        options.add_options()(limit.flag + 2, po::value<std::string>());  // without "--"
    }
    return options;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
    CommandLine cl;
    std::vector<std::pair<std::string, std::string>> flags;  // applied after --config
    std::string config_path;

    std::vector<Argument> arguments;
    try {
        arguments = read_arguments(std::vector<std::string>(argv + std::min(argc, 1), argv + argc),
                                   serve_options());
    } catch (const ArgumentError& e) {
        throw ConfigError(e.what());
    }
    for (auto& [name, value] : arguments) {
        if (name.empty()) throw ConfigError("unknown option '" + value + "'");
        if (name == "help" || name == "version") {
            cl.action = name == "help" ? Action::kHelp : Action::kVersion;
            return cl;
        }
        if (name == "config") {
            if (!config_path.empty()) throw ConfigError("option --config given twice");
            config_path = value;
        } else {
            flags.emplace_back("--" + name, std::move(value));
        }
    }

    Config& config = cl.config;
    if (!config_path.empty()) load_config_file(config_path, config);
    for (const auto& [flag, value] : flags) {
        if (flag == "--listen") {
            parse_listen(value, config);
        } else if (flag == "--group") {
            if (value.empty()) throw ConfigError("--group needs a non-empty name");
            config.groups.push_back(GroupConfig{value, {core::IdentifierSpec{}}});
        } else if (flag == "--threads") {
            config.threads = parse_number<unsigned>(value, "--threads", 0, kMaxThreads);
        } else if (flag == "--log-level") {
            config.log_level = check_log_level(value, "--log-level");
        } else if (flag == "--access-log") {
            config.access_log = true;
        } else if (flag == "--log-events") {
            config.log_event_enabled = true;
        } else if (flag == "--insecure") {
            config.insecure = true;
        } else if (flag == "--state-dir") {
            if (value.empty()) throw ConfigError("--state-dir needs a directory");
            config.state_dir = value;
        } else if (flag == "--state") {
            if (value.empty()) throw ConfigError("--state needs a postgresql:// URI");
            config.state_uri = value;
        } else if (flag == "--heartbeat-lapse") {
            config.heartbeat_lapse = parse_number<int>(value, "--heartbeat-lapse", 1, 3600);
        } else if (flag == "--history-changes") {
            config.history_changes =
                parse_number<std::int64_t>(value, "--history-changes", 0, kMaxHistoryChanges);
        } else if (flag == "--history-age") {
            config.history_age = parse_number<std::int64_t>(value, "--history-age", 1, kMaxHistoryAge);
        } else if (flag == "--node-name") {
            if (value.empty()) throw ConfigError("--node-name needs a non-empty name");
            config.node_name = value;
        } else if (flag == "--profiling-proc") {
            config.profiling_proc = check_profiling(value, "--profiling-proc");
        } else if (flag == "--exec-threshold-us") {
            config.exec_threshold_us =
                parse_number<std::int64_t>(value, "--exec-threshold-us", 0, kMaxThresholdUs);
        } else if (flag == "--tls-cert" || flag == "--tls-key" || flag == "--tls-client-ca" ||
                   flag == "--event-tls-ca") {
            if (value.empty()) throw ConfigError(flag + " needs a file name");
            if (flag == "--tls-cert") config.tls_cert = value;
            if (flag == "--tls-key") config.tls_key = value;
            if (flag == "--tls-client-ca") config.tls_client_ca = value;
            if (flag == "--event-tls-ca") config.event_tls_ca = value;
        } else {
            for (const auto& limit : kLimitKeys) {
                if (flag == limit.flag) {
                    set_limit(config.limits, limit.key,
                              parse_number<std::int64_t>(value, flag, 1, limit.max));
                }
            }
        }
    }
    check_groups(config.groups);
    if (!config.state_uri.empty() && !config.state_dir.empty()) {
        throw ConfigError(
            "--state and --state-dir exclude each other: a PostgreSQL registry shared by several "
            "instances, or a SQLite file of one");
    }
    if (config.node_name.empty()) {
        config.node_name = config.listen_host + ":" + std::to_string(config.listen_port);
    }
    check_tls(config);
    check_ready_requires(config);
    check_credentials(config);
    check_exposure(config);
    return cl;
}

std::string usage() {
    return R"(Usage: srmi [serve] [OPTIONS]
       srmi call [--url URL] [--timeout SECONDS] [--raw-strings] METHOD [PARAM...]
       srmi watch [--url URL] [--pretty] [EVENT...]
       srmi openapi

Serves the OpenSIPS Status/Report registry over JSON-RPC 2.0 at POST /mi.

Subcommands:
  serve                serve (the default when no subcommand is given)
  call                 call a method of a running server and print its result;
                       'srmi call --help' for more
  watch                print a running server's events as they come (GET /events);
                       'srmi watch --help' for more
  openapi              print the OpenAPI document of the HTTP API (openapi/srmi.yaml)

Options (serve):
  --listen HOST:PORT   address to listen on (default 127.0.0.1:8888; [::1]:8888 for IPv6)
  --group NAME         declare a public group with identifier 'main', status 1 and
                       50 reports; repeat for more groups
  --config FILE        JSON config file (comments allowed); flags given beside it win
  --threads N          I/O threads (default 0 = one per core)
  --log-level LEVEL    trace, debug, info, warn, error, critical or off (default info)
  --access-log         log every HTTP request
  --exec-threshold-us N  raise E_CORE_THRESHOLD for requests slower than N
                       microseconds (default 0 = off)
  --log-events         raise E_CORE_LOG for every log line (log_event_enabled)
  --state-dir DIR      keep public groups durable in DIR/srmi-state.db (SQLite);
                       a restart, even after kill -9, restores every acknowledged write
  --state postgresql://USER[:PASSWORD]@HOST[:PORT]/DB
                       share the registry with every srmi given the same database
                       (docs/cluster.md); not with --state-dir
  --node-name NAME     this instance's name in the cluster group (default HOST:PORT)
  --heartbeat-lapse S  a member whose heartbeat lapses S seconds is unreachable (default 10)
  --history-changes N  status changes kept per identifier (default 10081: 7 days of one a minute; 0: none)
  --history-age S      seconds of status changes kept per identifier (default 604800: 7 days)
  --profiling-proc on|off  load request profiling (E_PROFILING_PROC and the
                       profiling_proc command), switched on or off
  --insecure           allow listening beyond loopback without access tokens
                       (anyone who can connect may then change the registry)
  --tls-cert FILE      serve HTTPS (only) with this PEM certificate chain ...
  --tls-key FILE       ... and this PEM private key; both or neither
  --tls-client-ca FILE require client certificates signed by these PEM CAs (mutual TLS)
  --event-tls-ca FILE  PEM CAs that verify https:// event receivers (default: the system's)
  --max-connections N  open connections at most (default 10000); more are closed at once
  --header-timeout-ms N  a request header must arrive within N ms of its first
                       byte, else 408 (default 10000)
  --body-timeout-ms N  a body must arrive within N ms of its header, else 408 (default 30000)
  --idle-timeout-ms N  close a kept-alive connection idle for N ms (default 60000)
  --write-timeout-ms N close a connection whose answer is not read within N ms (default 30000)
  --header-limit N     bytes of request header at most, else 431 (default 16384)
  --url-limit N        bytes of request target at most, else 414 (default 8192)
  -h, --help           print this help and exit
  -V, --version        print the version and exit

Exit status: 0 after a clean stop (SIGTERM/SIGINT), 1 when the server cannot
run (e.g. the address is in use), 2 for a bad option or config file.
)";
}

}  // namespace srmi::server
