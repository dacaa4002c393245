// PostgresState without a server: URIs shown without their password, and the
// refusals made before connecting. (The store against a real PostgreSQL
// server: tests/server/state/cluster_test.py.)
#include "server/state/postgres_state.h"

#include <doctest/doctest.h>

#include <string>

using srmi::server::PostgresOptions;
using srmi::server::PostgresState;
using srmi::server::StateError;

TEST_CASE("a URI is shown without its password") {
    CHECK(PostgresState::redacted("postgresql://srmi:s3cret@db:5432/srmi") ==
          "postgresql://srmi:***@db:5432/srmi");
    CHECK(PostgresState::redacted("postgresql://srmi@db/srmi") == "postgresql://srmi@db/srmi");
    CHECK(PostgresState::redacted("postgresql://db/srmi?password=s3cret&sslmode=require") ==
          "postgresql://db/srmi?password=***&sslmode=require");
    CHECK(PostgresState::redacted("postgresql://u:p@w:rd@db/x") == "postgresql://u:***@db/x");
}

TEST_CASE("a malformed URI or node name is refused before connecting, password unshown") {
    srmi::core::Registry registry;
    auto refusal = [&](std::string uri, std::string node) -> std::string {
        try {
            PostgresState state(PostgresOptions{uri, node}, registry);
        } catch (const StateError& e) {
            return e.what();
        }
        return "accepted";
    };
    const auto bad = refusal("postgresql://u:s3cret@[db/x", "a");
    CHECK(bad.find("not a PostgreSQL connection URI") != std::string::npos);
    CHECK(bad.find("s3cret") == std::string::npos);
    CHECK(refusal("host=db dbname=x", "a").find("give a URI") != std::string::npos);
    CHECK(refusal("postgresql://db/x", "").find("--node-name") != std::string::npos);
    CHECK(refusal("postgresql://db/x", "two words").find("--node-name") != std::string::npos);
    CHECK(refusal("postgresql://db/x", "a") == "accepted");
}
