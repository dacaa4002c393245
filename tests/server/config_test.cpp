// Command line and config file: defaults, overrides, and clear refusals.
#include "server/config.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

using srmi::server::Action;
using srmi::server::CommandLine;
using srmi::server::ConfigError;

CommandLine parse(std::vector<std::string> args) {
    args.insert(args.begin(), "srmi");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return srmi::server::parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> args) {
    try {
        parse(std::move(args));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

/// A config file in the temp dir, removed with the object.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& text) {
        char name[] = "/tmp/srmi-config-XXXXXX";
        const int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::ofstream(path) << text;
    }
    ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("defaults") {
    auto cl = parse({});
    CHECK(cl.action == Action::kServe);
    CHECK(cl.config.listen_host == "127.0.0.1");
    CHECK(cl.config.listen_port == 8888);
    CHECK(cl.config.body_limit == 1024 * 1024);
    CHECK(cl.config.threads == 0);
    CHECK(cl.config.log_level == "info");
    CHECK_FALSE(cl.config.access_log);
    CHECK(cl.config.groups.empty());
}

TEST_CASE("flags") {
    SUBCASE("help and version") {
        CHECK(parse({"--help"}).action == Action::kHelp);
        CHECK(parse({"-V"}).action == Action::kVersion);
    }
    SUBCASE("listen, both spellings, IPv6") {
        auto cl = parse({"--listen", "0.0.0.0:9000", "--insecure"});
        CHECK(cl.config.listen_host == "0.0.0.0");
        CHECK(cl.config.listen_port == 9000);
        cl = parse({"--listen=[::1]:0"});
        CHECK(cl.config.listen_host == "::1");
        CHECK(cl.config.listen_port == 0);
    }
    SUBCASE("groups in order, each with main at 1 and 50 reports") {
        auto cl = parse({"--group", "custom", "--group=alarms"});
        REQUIRE(cl.config.groups.size() == 2);
        CHECK(cl.config.groups[0].name == "custom");
        CHECK(cl.config.groups[1].name == "alarms");
        REQUIRE(cl.config.groups[0].identifiers.size() == 1);
        CHECK(cl.config.groups[0].identifiers[0].name == "main");
        CHECK(cl.config.groups[0].identifiers[0].status == 1);
        CHECK(cl.config.groups[0].identifiers[0].max_reports == 50);
    }
    SUBCASE("threads, log level, access log") {
        auto cl = parse({"--threads", "3", "--log-level", "debug", "--access-log"});
        CHECK(cl.config.threads == 3);
        CHECK(cl.config.log_level == "debug");
        CHECK(cl.config.access_log);
    }
}

TEST_CASE("bad flags are refused with a message naming the problem") {
    CHECK(error_of({"--bogus"}) == "unknown option '--bogus'");
    CHECK(error_of({"--listen"}) == "option --listen needs a value");
    CHECK(error_of({"--insecure=yes"}) == "option --insecure takes no value");
    CHECK(error_of({"--lis", "127.0.0.1:0"}) == "unknown option '--lis'");  // no abbreviations
    CHECK(error_of({"--bogus=1"}) == "unknown option '--bogus'");
    CHECK(error_of({"serve"}) == "unknown option 'serve'");  // main takes "serve" off first
    CHECK(error_of({"--operand", "x"}) == "unknown option '--operand'");
    CHECK(error_of({"--listen", "localhost"}).find("HOST:PORT") != std::string::npos);
    CHECK(error_of({"--listen", "1.2.3.4:99999"}).find("99999") != std::string::npos);
    CHECK(error_of({"--threads", "x"}).find("--threads") != std::string::npos);
    CHECK(error_of({"--log-level", "loud"}).find("loud") != std::string::npos);
    CHECK(error_of({"--group", "a", "--group", "A"}) == "group 'A' is declared twice");
    CHECK(error_of({"--group", "Core"}) == "group name 'core' is reserved for the server itself");
    CHECK(error_of({"--config", "/nonexistent/srmi.json"}) ==
          "/nonexistent/srmi.json: cannot be read");
}

TEST_CASE("config file: comments, groups with identifiers, flags win") {
    TempFile file(R"({
        // where to listen
        "listen": "127.0.0.1:7000",
        "threads": 2, "body_limit": 4096, "log_level": "warn", "access_log": true,
        /* public groups */
        "groups": [
            "plain",
            {"name": "db", "initial_status": -1, "initial_details": "unknown", "max_reports": 5,
             "identifiers": ["main", {"name": "replica", "initial_status": 2, "max_reports": 0}]}
        ]
    })");
    auto cl = parse({"--config", file.path, "--listen", "127.0.0.1:7001", "--group", "extra"});
    const auto& c = cl.config;
    CHECK(c.listen_port == 7001);
    CHECK(c.threads == 2);
    CHECK(c.body_limit == 4096);
    CHECK(c.log_level == "warn");
    CHECK(c.access_log);
    REQUIRE(c.groups.size() == 3);
    CHECK(c.groups[0].name == "plain");
    CHECK(c.groups[0].identifiers.size() == 1);
    CHECK(c.groups[2].name == "extra");
    const auto& db = c.groups[1];
    REQUIRE(db.identifiers.size() == 2);
    CHECK(db.identifiers[0].name == "main");
    CHECK(db.identifiers[0].status == -1);
    CHECK(db.identifiers[0].details == std::optional<std::string>("unknown"));
    CHECK(db.identifiers[0].max_reports == 5);
    CHECK(db.identifiers[1].name == "replica");
    CHECK(db.identifiers[1].status == 2);
    CHECK(db.identifiers[1].max_reports == 0);
}

TEST_CASE("groups listed by name read the same with or without the tree") {
    // A comment sends the file down the tree path (nlohmann's parser); without
    // one, groups of names are read straight into the config. Both must agree.
    auto groups_of = [](const std::string& text) {
        TempFile file(text);
        return parse({"--config", file.path}).config.groups;
    };
    auto same = [&](const std::string& text) {
        const auto straight = groups_of(text);
        const auto tree = groups_of("/* tree */" + text);
        REQUIRE(straight.size() == tree.size());
        for (std::size_t g = 0; g < tree.size(); ++g) {
            CHECK(straight[g].name == tree[g].name);
            REQUIRE(straight[g].identifiers.size() == tree[g].identifiers.size());
            for (std::size_t i = 0; i < tree[g].identifiers.size(); ++i) {
                const auto& a = straight[g].identifiers[i];
                const auto& b = tree[g].identifiers[i];
                CHECK(a.name == b.name);
                CHECK(a.status == b.status);
                CHECK(a.details == b.details);
                CHECK(a.max_reports == b.max_reports);
            }
        }
        return straight;
    };
    const auto groups = same(
        R"({"threads": 2, "groups": ["plain", {"name": "named"},
            {"identifiers": ["x", "y\u00e9", "\"q\""], "name": "db\/1"}], "log_level": "warn"})");
    REQUIRE(groups.size() == 3);
    CHECK(groups[0].identifiers.size() == 1);
    CHECK(groups[2].name == "db/1");
    CHECK(groups[2].identifiers[1].name == "y\xC3\xA9");
    CHECK(groups[2].identifiers[2].name == "\"q\"");

    // A key given twice: the tree keeps the last value, and so must the config.
    const auto last = same(R"({"groups": ["first"], "threads": 1, "groups": ["second"]})");
    REQUIRE(last.size() == 1);
    CHECK(last[0].name == "second");
    CHECK(same(R"({"groups": [{"name": "a", "name": "b"}]})").at(0).name == "b");
    // Identifier objects and group defaults are the tree path's, all the same.
    CHECK(
        same(
            R"({"groups": [{"name": "a", "max_reports": 3, "identifiers": ["i", {"name": "j"}]}]})")
            .at(0)
            .identifiers.at(1)
            .max_reports == 3);
    // A byte order mark, and the other settings beside the groups.
    TempFile bom(
        "\xEF\xBB\xBF"
        R"({"groups": ["g"], "threads": 3})");
    const auto with_bom = parse({"--config", bom.path}).config;
    CHECK(with_bom.threads == 3);
    REQUIRE(with_bom.groups.size() == 1);
    CHECK(with_bom.groups[0].name == "g");
}

TEST_CASE("bad config files name the file and the problem") {
    auto error_for = [](const std::string& text) {
        TempFile file(text);
        auto message = error_of({"--config", file.path});
        CHECK(message.rfind(file.path, 0) == 0);
        return message.substr(file.path.size());
    };
    CHECK(error_for("{").find("not valid JSON") != std::string::npos);
    CHECK(error_for("[]") == ": top level: must be an object");
    CHECK(error_for(R"({"listn": "x"})") == ": top level: unknown key 'listn'");
    CHECK(error_for(R"({"threads": "2"})") == ": threads: must be an integer");
    CHECK(error_for(R"({"body_limit": 0})").find("body_limit: must be from 1") !=
          std::string::npos);
    CHECK(error_for(R"({"groups": {}})") == ": groups: must be an array");
    CHECK(error_for(R"({"groups": [{"nam": "x"}]})") == ": groups[0]: unknown key 'nam'");
    CHECK(error_for(R"({"groups": [{"name": "x", "identifiers": []}]})") ==
          ": groups[0].identifiers: must be a non-empty array");
    CHECK(error_for(R"({"groups": [{"name": "x", "identifiers": ["a", "A"]}]})") ==
          ": group 'x': identifier 'A' is declared twice");
    // A large group is checked another way (hashed); the same answer.
    std::string many = R"({"groups": [{"name": "x", "identifiers": [)";
    for (int i = 0; i < 40; ++i) many += "\"id" + std::to_string(i) + "\",";
    many += R"("ID7"]}]})";
    CHECK(error_for(many) == ": group 'x': identifier 'ID7' is declared twice");
    CHECK(error_for(R"({"groups": [{"name": "core"}]})") ==
          ": group name 'core' is reserved for the server itself");
    // Among many groups, the first declared again (in file order) is named,
    // before the problems of the groups after it.
    std::string groups = R"({"groups": [)";
    for (int i = 0; i < 300; ++i) groups += "\"g" + std::to_string(i) + "\",";
    groups += R"("G250", {"name": "y", "identifiers": ["a", "a"]}, "g7", "G250"]})";
    CHECK(error_for(groups) == ": group 'G250' is declared twice");
    CHECK(error_for(R"({"groups": [{"name": "x", "max_reports": -1}]})").find("max_reports") !=
          std::string::npos);
    CHECK(error_for(R"({"log_level": "chatty"})").find("chatty") != std::string::npos);
}

TEST_CASE("event interface settings") {
    TempFile file(R"({"exec_threshold_us": 500, "log_event_enabled": true, "event_queue_limit": 8,
                      "registry_memory_limit": 4096, "event_shm_threshold": 80, "event_pkg_threshold": 90,
                      "pkg_memory_size": 1048576, "profiling_proc": "on", "min_workers": 2, "max_workers": 6})");
    const auto c = parse({"--config", file.path}).config;
    CHECK(c.exec_threshold_us == 500);
    CHECK(c.log_event_enabled);
    CHECK(c.event_queue_limit == 8);
    CHECK(c.registry_memory_limit == 4096);
    CHECK(c.event_shm_threshold == 80);
    CHECK(c.event_pkg_threshold == 90);
    CHECK(c.pkg_memory_size == 1048576);
    CHECK(c.profiling_proc == "on");
    CHECK(c.min_workers == 2);
    CHECK(c.max_workers == 6);

    const auto flags =
        parse({"--exec-threshold-us", "7", "--log-events", "--profiling-proc", "off"}).config;
    CHECK(flags.exec_threshold_us == 7);
    CHECK(flags.log_event_enabled);
    CHECK(flags.profiling_proc == "off");
    CHECK(parse({}).config.profiling_proc.empty());

    CHECK(error_of({"--profiling-proc", "maybe"}) ==
          "--profiling-proc: 'maybe' is neither on nor off");
    TempFile bad_pool(R"({"min_workers": 4, "max_workers": 2})");
    CHECK(error_of({"--config", bad_pool.path}) ==
          bad_pool.path + ": max_workers: must be 0 (no pool) or at least min_workers");
    TempFile bad_threshold(R"({"event_shm_threshold": 101})");
    CHECK(error_of({"--config", bad_threshold.path})
              .find("event_shm_threshold: must be from 0 to 100") != std::string::npos);
}

TEST_CASE("TLS settings: both files or neither, from the file or the flags") {
    const auto none = parse({}).config;
    CHECK(none.tls_cert.empty());
    CHECK(none.tls_key.empty());
    CHECK(none.tls_client_ca.empty());
    CHECK(none.event_tls_ca.empty());

    TempFile file(R"({"tls_cert": "/etc/srmi/cert.pem", "tls_key": "/etc/srmi/key.pem",
                      "tls_client_ca": "/etc/srmi/clients.pem", "event_tls_ca": "/etc/srmi/hooks.pem"})");
    const auto c = parse({"--config", file.path, "--tls-key", "/other/key.pem"}).config;
    CHECK(c.tls_cert == "/etc/srmi/cert.pem");
    CHECK(c.tls_key == "/other/key.pem");
    CHECK(c.tls_client_ca == "/etc/srmi/clients.pem");
    CHECK(c.event_tls_ca == "/etc/srmi/hooks.pem");

    const auto flags = parse({"--tls-cert", "c.pem", "--tls-key=k.pem", "--tls-client-ca", "ca.pem",
                              "--event-tls-ca", "hooks.pem"})
                           .config;
    CHECK(flags.tls_cert == "c.pem");
    CHECK(flags.tls_key == "k.pem");
    CHECK(flags.tls_client_ca == "ca.pem");
    CHECK(flags.event_tls_ca == "hooks.pem");

    CHECK(error_of({"--tls-cert", "c.pem"}) == "tls_cert is set without tls_key; HTTPS needs both");
    CHECK(error_of({"--tls-key", "k.pem"}) == "tls_key is set without tls_cert; HTTPS needs both");
    CHECK(error_of({"--tls-client-ca", "ca.pem"}) ==
          "tls_client_ca is set without tls_cert and tls_key; mutual TLS needs HTTPS");
    CHECK(error_of({"--tls-cert"}) == "option --tls-cert needs a value");
    CHECK(error_of({"--tls-cert="}) == "--tls-cert needs a file name");
    TempFile half(R"({"tls_cert": "c.pem"})");
    CHECK(error_of({"--config", half.path}) == "tls_cert is set without tls_key; HTTPS needs both");
    TempFile empty(R"({"tls_cert": ""})");
    CHECK(error_of({"--config", empty.path}) == empty.path + ": tls_cert: must be a file name");
    TempFile number(R"({"tls_key": 5})");
    CHECK(error_of({"--config", number.path}) == number.path + ": tls_key: must be a string");
}

TEST_CASE("connection limits: documented defaults, strictly positive values") {
    const auto defaults = parse({}).config.limits;
    CHECK(defaults.max_connections == 10000);
    CHECK(defaults.header_timeout == std::chrono::milliseconds(10000));
    CHECK(defaults.body_timeout == std::chrono::milliseconds(30000));
    CHECK(defaults.idle_timeout == std::chrono::milliseconds(60000));
    CHECK(defaults.write_timeout == std::chrono::milliseconds(30000));
    CHECK(defaults.header_limit == 16384);
    CHECK(defaults.url_limit == 8192);

    TempFile file(R"({"max_connections": 5, "header_timeout_ms": 200, "body_timeout_ms": 300,
                      "idle_timeout_ms": 400, "write_timeout_ms": 500, "header_limit": 4096, "url_limit": 100})");
    const auto c = parse({"--config", file.path, "--idle-timeout-ms", "450"}).config.limits;
    CHECK(c.max_connections == 5);
    CHECK(c.header_timeout == std::chrono::milliseconds(200));
    CHECK(c.body_timeout == std::chrono::milliseconds(300));
    CHECK(c.idle_timeout == std::chrono::milliseconds(450));
    CHECK(c.write_timeout == std::chrono::milliseconds(500));
    CHECK(c.header_limit == 4096);
    CHECK(c.url_limit == 100);

    const auto flags =
        parse({"--max-connections", "7", "--header-timeout-ms", "1", "--body-timeout-ms=2",
               "--write-timeout-ms", "3", "--header-limit", "2048", "--url-limit", "64"})
            .config.limits;
    CHECK(flags.max_connections == 7);
    CHECK(flags.header_timeout == std::chrono::milliseconds(1));
    CHECK(flags.body_timeout == std::chrono::milliseconds(2));
    CHECK(flags.write_timeout == std::chrono::milliseconds(3));
    CHECK(flags.header_limit == 2048);
    CHECK(flags.url_limit == 64);

    CHECK(error_of({"--max-connections", "0"}) ==
          "--max-connections: '0' is not a number from 1 to 1000000");
    CHECK(error_of({"--header-timeout-ms", "-5"}).find("--header-timeout-ms") != std::string::npos);
    CHECK(error_of({"--url-limit", "x"}).find("--url-limit") != std::string::npos);
    for (const char* key : {"max_connections", "header_timeout_ms", "body_timeout_ms",
                            "idle_timeout_ms", "write_timeout_ms", "header_limit", "url_limit"}) {
        CAPTURE(key);
        TempFile zero(std::string(R"({")") + key + R"(": 0})");
        CHECK(error_of({"--config", zero.path}).find(std::string(key) + ": must be from 1 to") !=
              std::string::npos);
    }
}

TEST_CASE("a shared store: --state, --node-name, --heartbeat-lapse, and not with --state-dir") {
    auto cl = parse({"--state", "postgresql://srmi:pw@127.0.0.1/srmi", "--listen", "127.0.0.1:9001"});
    CHECK(cl.config.state_uri == "postgresql://srmi:pw@127.0.0.1/srmi");
    CHECK(cl.config.node_name == "127.0.0.1:9001");  // HOST:PORT by default
    CHECK(cl.config.heartbeat_lapse == 10);
    cl = parse({"--state", "postgresql://h/db", "--node-name", "a", "--heartbeat-lapse", "3"});
    CHECK(cl.config.node_name == "a");
    CHECK(cl.config.heartbeat_lapse == 3);
    CHECK(error_of({"--state", "postgresql://h/db", "--state-dir", "/tmp/x"})
              .find("exclude each other") != std::string::npos);
    CHECK(error_of({"--state", ""}).find("--state needs") != std::string::npos);
    CHECK(error_of({"--heartbeat-lapse", "0"}) != "no error");
    TempFile file(R"({"state": "postgresql://h/db", "node_name": "b", "heartbeat_lapse": 5})");
    cl = parse({"--config", file.path});
    CHECK(cl.config.state_uri == "postgresql://h/db");
    CHECK(cl.config.node_name == "b");
    CHECK(cl.config.heartbeat_lapse == 5);
}
