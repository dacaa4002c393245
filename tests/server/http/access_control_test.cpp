// Access control end to end: token config, the loopback-only default, and
// 401/403 over real sockets for every kind of path.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "server/http/access_control.h"
#include "server/config.h"
#include "tests/support/rpc_over_http.h"
#include "tests/support/test_server.h"

using namespace srmi;
using json = nlohmann::json;
namespace http = boost::beast::http;
namespace beast = boost::beast;

namespace {

constexpr const char* kReadToken = "read-token-0123456789abcdef";
constexpr const char* kWriteToken = "write-token-0123456789abcdef";
constexpr const char* kAdminToken = "admin-token-0123456789abcdef";
constexpr const char* kDbToken = "db-producer-0123456789abcdef";

/// A config file in the temp dir, removed with the object.
struct ConfigFile {
    std::string path;
    explicit ConfigFile(const std::string& text) {
        char name[] = "/tmp/srmi-access-XXXXXX";
        const int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::ofstream(path) << text;
    }
    ~ConfigFile() { std::remove(path.c_str()); }
};

server::CommandLine parse(std::vector<std::string> args) {
    args.insert(args.begin(), "srmi");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return server::parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(const std::string& config_text, std::vector<std::string> args = {}) {
    ConfigFile file(config_text);
    args.insert(args.begin(), {"--config", file.path});
    try {
        parse(std::move(args));
    } catch (const server::ConfigError& e) {
        return e.what();
    }
    return "no error";
}

std::string hex(const std::array<std::uint8_t, 32>& digest) {
    std::string out;
    char buf[3];
    for (auto b : digest) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        out += buf;
    }
    return out;
}

/// The conformance groups plus db and web, four tokens, probes closed or open.
server::Config protected_config(bool open_probes = false) {
    const std::string sha = hex(server::sha256(kWriteToken));
    ConfigFile file(R"({"groups": ["db", "web"], "tokens": [
        {"name": "grafana", "token": ")" + std::string(kReadToken) + R"(", "role": "read"},
        {"name": "ops", "token_sha256": ")" + sha + R"(", "role": "write"},
        {"name": "root", "token": ")" + std::string(kAdminToken) + R"(", "role": "admin"},
        {"name": "db-producer", "token": ")" + std::string(kDbToken) + R"(", "role": "write", "groups": ["db"]}
    ], "open_probes": )" + std::string(open_probes ? "true" : "false") + "}");
    auto config = parse({"--config", file.path, "--listen", "127.0.0.1:0"}).config;
    config.threads = 2;
    return config;
}

test::StringResponse post_as(test::HttpClient& client, const std::string& token, const json& request,
                             const std::string& scheme = "Bearer") {
    http::request<http::string_body> req{http::verb::post, "/mi", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    if (!token.empty()) req.set(http::field::authorization, scheme + " " + token);
    req.body() = request.dump();
    req.prepare_payload();
    return client.send(req);
}

test::StringResponse get_as(test::HttpClient& client, const std::string& target, const std::string& token) {
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    return client.send(req);
}

json request_of(const std::string& method, const json& params) {
    return {{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", 1}};
}

/// Padded base64 of `in`, as a browser sends it.
std::string base64(const std::string& in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                       reinterpret_cast<const unsigned char*>(in.data()),
                                       static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(length));
    return out;
}

}  // namespace

TEST_CASE("tokens in the config file: roles, digests, limits, clear refusals") {
    SUBCASE("accepted forms") {
        auto config = protected_config();
        REQUIRE(config.credentials.size() == 4);
        CHECK(config.credentials[0].caller.name == "grafana");
        CHECK(config.credentials[0].caller.role == rpc::Role::kRead);
        CHECK(config.credentials[1].token_sha256 == server::sha256(kWriteToken));
        CHECK(config.credentials[3].caller.groups == std::vector<std::string>{"db"});
        CHECK_FALSE(config.open_probes);
    }
    SUBCASE("refusals name the problem") {
        CHECK(error_of(R"({"tokens": [{"token": "short", "role": "read"}]})")
                  .find("tokens[0].token: must have at least 16 characters") != std::string::npos);
        CHECK(error_of(R"({"tokens": [{"token": "0123456789abcdef0"}]})").find("missing 'role'") !=
              std::string::npos);
        CHECK(error_of(R"({"tokens": [{"token": "0123456789abcdef0", "role": "root"}]})")
                  .find("'root' is not a role") != std::string::npos);
        CHECK(error_of(R"({"tokens": [{"role": "read"}]})").find("exactly one of 'token' and 'token_sha256'") !=
              std::string::npos);
        CHECK(error_of(R"({"tokens": [{"token_sha256": "abc", "role": "read"}]})")
                  .find("64 hexadecimal digits") != std::string::npos);
        CHECK(error_of(R"({"tokens": [{"token": "0123456789 abcdef0", "role": "read"}]})")
                  .find("printable ASCII") != std::string::npos);
        CHECK(error_of(R"({"tokens": [{"token": "0123456789abcdef0", "role": "read", "groups": ["nope"]}]})")
                  .find("limited to group 'nope', which is not a declared group") != std::string::npos);
        CHECK(error_of(R"({"tokens": [{"token": "0123456789abcdef0", "role": "read"},
                                      {"token": "0123456789abcdef0", "role": "admin"}]})")
                  .find("given twice") != std::string::npos);
        CHECK(error_of(R"({"tokens": [{"token": "0123456789abcdef0", "role": "read", "scope": 1}]})")
                  .find("unknown key 'scope'") != std::string::npos);
        CHECK(error_of(R"({"max_batch": 0})").find("max_batch") != std::string::npos);
    }
}

TEST_CASE("without tokens only loopback may be listened on, unless --insecure") {
    const std::string refused = "refusing to listen on 0.0.0.0 without access control";
    CHECK(error_of("{}", {"--listen", "0.0.0.0:8888"}).find(refused) != std::string::npos);
    CHECK(error_of("{}", {"--listen", "[::]:8888"}).find("refusing to listen on ::") != std::string::npos);
    CHECK(error_of("{}", {"--listen", "192.0.2.1:8888"}).find("refusing") != std::string::npos);
    CHECK(error_of("{}", {"--listen", "127.0.0.1:8888"}) == "no error");
    CHECK(error_of("{}", {"--listen", "[::1]:8888"}) == "no error");
    CHECK(error_of("{}", {"--listen", "0.0.0.0:8888", "--insecure"}) == "no error");
    CHECK(error_of(R"({"tokens": [{"token": "0123456789abcdef0", "role": "read"}]})", {"--listen", "0.0.0.0:8888"}) ==
          "no error");
}

TEST_CASE("a protected server answers 401 without a valid token, 403 beyond the role") {
    test::TestServer server(protected_config());
    test::HttpClient client(server.port());
    const json get_db = request_of("sr_get_status", {{"group", "db"}});
    const json set_db = request_of("sr_set_status", {{"group", "db"}, {"status", 4}});
    const json set_web = request_of("sr_set_status", {{"group", "web"}, {"status", 4}});

    SUBCASE("no token: 401 with challenges, on every path, keep-alive kept") {
        for (const auto* target : {"/mi", "/metrics", "/", "/livez", "/readyz", "/health/db", "/events"}) {
            INFO(target);
            auto res = std::string(target) == "/mi" ? post_as(client, "", get_db) : get_as(client, target, "");
            CHECK(res.result_int() == 401);
            std::vector<std::string> challenges;
            for (const auto& field : res) {
                if (field.name() == http::field::www_authenticate) challenges.emplace_back(field.value());
            }
            CHECK(challenges == std::vector<std::string>{R"(Bearer realm="srmi")", R"(Basic realm="srmi", charset="UTF-8")"});
            CHECK(res.keep_alive());
        }
    }
    SUBCASE("a wrong token is invalid_token; near misses too") {
        for (const std::string& token : {std::string("nope"), std::string(kReadToken) + "x",
                                        std::string(kReadToken).substr(1), std::string(kReadToken).substr(0, 16)}) {
            auto res = post_as(client, token, get_db);
            CHECK(res.result_int() == 401);
            CHECK(res[http::field::www_authenticate] == R"(Bearer realm="srmi", error="invalid_token")");
        }
        CHECK(post_as(client, kReadToken, get_db, "Token").result_int() == 401);  // unknown scheme
    }
    SUBCASE("read token: reads; a write is a JSON-RPC 403") {
        auto res = post_as(client, kReadToken, get_db);
        REQUIRE(res.result_int() == 200);
        CHECK(json::parse(res.body())["result"]["Status"] == 1);
        res = post_as(client, kReadToken, set_db);
        REQUIRE(res.result_int() == 200);
        auto error = json::parse(res.body())["error"];
        CHECK(error["code"] == 403);
        CHECK(error["message"] == "Forbidden");
        for (const auto* target : {"/metrics", "/livez", "/readyz", "/health/db", "/"}) {
            INFO(target);
            CHECK(get_as(client, target, kReadToken).result_int() == 200);
        }
    }
    SUBCASE("write token (configured by digest) writes; admin-only methods stay 403") {
        auto res = post_as(client, kWriteToken, set_db);
        CHECK(json::parse(res.body())["result"] == "OK");
        res = post_as(client, kWriteToken, request_of("event_subscribe", {{"event", "E_CORE_LOG"}, {"socket", "udp:127.0.0.1:9"}}));
        CHECK(json::parse(res.body())["error"]["code"] == 403);
        res = post_as(client, kAdminToken, request_of("event_subscribe", {{"event", "E_CORE_LOG"}, {"socket", "udp:127.0.0.1:9"}}));
        CHECK(json::parse(res.body())["result"] == "OK");
    }
    SUBCASE("a producer's token writes its own group only") {
        CHECK(json::parse(post_as(client, kDbToken, set_db).body())["result"] == "OK");
        CHECK(json::parse(post_as(client, kDbToken, set_web).body())["error"]["code"] == 403);
        CHECK(json::parse(post_as(client, kAdminToken, request_of("sr_get_status", {{"group", "web"}})).body())["result"]["Status"] == 1);
    }
    SUBCASE("Basic authentication with the token as password (what a browser sends)") {
        auto res = post_as(client, base64(std::string("anyone:") + kWriteToken), set_db, "Basic");
        CHECK(json::parse(res.body())["result"] == "OK");
        CHECK(post_as(client, base64(std::string("anyone:") + "wrong-password-123456"), set_db, "Basic").result_int() == 401);
        CHECK(post_as(client, "%%%not-base64", set_db, "Basic").result_int() == 401);
        // Padding is optional (curl and browsers differ); a credential that is
        // not base64 (a '=' inside, a lone last character) is refused.
        const auto padded = base64(std::string("anyone:") + kWriteToken);
        REQUIRE(padded.back() == '=');
        const auto unpadded = padded.substr(0, padded.find('='));
        CHECK(post_as(client, unpadded, set_db, "Basic").result_int() == 200);
        CHECK(post_as(client, unpadded.substr(0, 4) + "=" + unpadded.substr(5), set_db, "Basic")
                  .result_int() == 401);
        CHECK(post_as(client, unpadded + "A", set_db, "Basic").result_int() == 401);
        CHECK(post_as(client, padded + "==", set_db, "Basic").result_int() == 401);
        CHECK(post_as(client, kWriteToken, set_db, "bearer").result_int() == 200);  // scheme is case-insensitive
    }
    SUBCASE("the event stream asks for a token too") {
        auto res = get_as(client, "/events", "");
        CHECK(res.result_int() == 401);
        test::HttpClient sse(server.port());
        http::request<http::string_body> req{http::verb::get, "/events", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, std::string("Bearer ") + kReadToken);
        http::write(sse.stream(), req);
        beast::flat_buffer buffer;
        http::response_parser<http::empty_body> parser;
        sse.stream().expires_after(std::chrono::seconds(5));
        http::read_header(sse.stream(), buffer, parser);
        CHECK(parser.get().result_int() == 200);
        CHECK(parser.get()[http::field::content_type] == "text/event-stream");
    }
}

TEST_CASE("open_probes leaves health checks open and everything else closed") {
    test::TestServer server(protected_config(/*open_probes=*/true));
    test::HttpClient client(server.port());
    for (const auto* target : {"/livez", "/readyz", "/health/db", "/health/db/main"}) {
        INFO(target);
        CHECK(get_as(client, target, "").result_int() == 200);
    }
    CHECK(get_as(client, "/metrics", "").result_int() == 401);
    CHECK(get_as(client, "/healthz", "").result_int() == 401);  // not a probe path: no hint either
    CHECK(post_as(client, "", request_of("sr_get_status", {{"group", "db"}})).result_int() == 401);
}
