// rpc::Dispatcher::handle, JSON text in and out, over the 10 000 x 10
// registry: what a POST /mi costs without HTTP.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/micro/fixtures.h"
#include "rpc/dispatcher.h"
#include "rpc/methods.h"

namespace srmi::bench {
namespace {

const rpc::Dispatcher& dispatcher() {
    static rpc::Dispatcher* d = [] {
        auto* out = new rpc::Dispatcher();
        rpc::add_status_report_methods(*out, big_registry());
        return out;
    }();
    return *d;
}

// A batch of 100 sr_set_status over 10 identifiers of one group: each
// identifier is set 10 times, alternating 1 and 2, so that every write is a
// change, also from one batch to the next (it ends at 2 and starts at 1).
std::string set_status_batch() {
    rpc::Json batch = rpc::Json::array();
    for (int k = 0; k < 100; ++k) {
        batch.push_back({{"jsonrpc", "2.0"},
                         {"method", "sr_set_status"},
                         {"params",
                          {{"group", "g77"},
                           {"identifier", identifier_name(k % 10)},
                           {"status", 1 + (k / 10) % 2}}},
                         {"id", k + 1}});
    }
    return batch.dump();
}

// A batch of 100 sr_add_report over 10 identifiers of one group.
std::string add_report_batch() {
    rpc::Json batch = rpc::Json::array();
    for (int k = 0; k < 100; ++k) {
        batch.push_back({{"jsonrpc", "2.0"},
                         {"method", "sr_add_report"},
                         {"params",
                          {{"group", "g88"},
                           {"identifier", identifier_name(k % 10)},
                           {"report", "bench report text of moderate length"}}},
                         {"id", k + 1}});
    }
    return batch.dump();
}

void BM_DispatchGetStatus(benchmark::State& state) {
    const auto& d = dispatcher();
    const std::string body =
        R"({"jsonrpc":"2.0","method":"sr_get_status","params":{"group":"g1234"},"id":1})";
    for (auto _ : state) {
        auto answer = d.handle(body);
        benchmark::DoNotOptimize(answer);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DispatchGetStatus)->ThreadRange(1, 2)->UseRealTime();

void BM_DispatchSetStatusBatch100(benchmark::State& state) {
    const auto& d = dispatcher();
    const std::string body = set_status_batch();
    for (auto _ : state) {
        auto answer = d.handle(body);
        benchmark::DoNotOptimize(answer);
    }
    state.SetItemsProcessed(state.iterations() * 100);  // writes per second
}
BENCHMARK(BM_DispatchSetStatusBatch100)->Unit(benchmark::kMicrosecond);

void BM_DispatchAddReportBatch100(benchmark::State& state) {
    const auto& d = dispatcher();
    const std::string body = add_report_batch();
    for (auto _ : state) {
        auto answer = d.handle(body);
        benchmark::DoNotOptimize(answer);
    }
    state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_DispatchAddReportBatch100)->Unit(benchmark::kMicrosecond);

// The whole registry as JSON text: the issue's "under 20 ms" figure, minus HTTP.
void BM_DispatchListStatusAll(benchmark::State& state) {
    const auto& d = dispatcher();
    const std::string body = R"({"jsonrpc":"2.0","method":"sr_list_status","id":1})";
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto answer = d.handle(body);
        bytes = answer ? answer->size() : 0;
        benchmark::DoNotOptimize(answer);
    }
    state.counters["answer_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_DispatchListStatusAll)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace srmi::bench
