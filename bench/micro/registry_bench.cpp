// core::Registry alone: one identifier's status read and write, a report
// added, and the full listing, in a registry of 10 000 groups x 10 identifiers.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/micro/fixtures.h"

namespace srmi::bench {
namespace {

// Spread over the groups, so that lookups do not hit one hot cache line.
std::vector<std::string> sample_groups() {
    std::vector<std::string> names;
    for (std::size_t g = 0; g < kGroups; g += 97) names.push_back(group_name(g));
    return names;
}

void BM_RegistryStatus(benchmark::State& state) {
    auto& registry = big_registry();
    const auto groups = sample_groups();
    std::size_t n = 0;
    for (auto _ : state) {
        auto answer = registry.status(groups[n++ % groups.size()], "i3");
        benchmark::DoNotOptimize(answer);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RegistryStatus)->ThreadRange(1, 2)->UseRealTime();

// Every write is a change (status alternates), as in the writes scenario.
void BM_RegistrySetStatus(benchmark::State& state) {
    auto& registry = big_registry();
    const auto groups = sample_groups();
    std::size_t n = 0;
    // Threads write different identifiers, so that each write changes a status.
    const std::string identifier =
        identifier_name(static_cast<std::size_t>(state.thread_index()) % kIdentifiersPerGroup);
    for (auto _ : state) {
        auto done = registry.set_status(groups[n % groups.size()], identifier,
                                        1 + static_cast<int>((n / groups.size()) % 2));
        benchmark::DoNotOptimize(done);
        ++n;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RegistrySetStatus)->ThreadRange(1, 2)->UseRealTime();

void BM_RegistrySetStatusWithDetails(benchmark::State& state) {
    auto& registry = big_registry();
    const auto groups = sample_groups();
    std::size_t n = 0;
    for (auto _ : state) {
        auto done =
            registry.set_status(groups[n % groups.size()], "i5",
                                -1 - static_cast<int>((n / groups.size()) % 2), "warming up");
        benchmark::DoNotOptimize(done);
        ++n;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RegistrySetStatusWithDetails);

// Rings fill up to their 50 reports, then overwrite: the steady state.
void BM_RegistryAddReport(benchmark::State& state) {
    auto& registry = big_registry();
    const auto groups = sample_groups();
    const std::string text(static_cast<std::size_t>(state.range(0)), 'r');
    std::size_t n = 0;
    for (auto _ : state) {
        auto done = registry.add_report(groups[n++ % groups.size()], "i7", text);
        benchmark::DoNotOptimize(done);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RegistryAddReport)->Arg(32)->Arg(256);

void BM_RegistryListStatusOneGroup(benchmark::State& state) {
    auto& registry = big_registry();
    for (auto _ : state) {
        auto list = registry.list_status("g5000");
        benchmark::DoNotOptimize(list);
    }
}
BENCHMARK(BM_RegistryListStatusOneGroup);

// 10 000 groups x 10 identifiers copied out (no JSON yet).
void BM_RegistryListStatusAll(benchmark::State& state) {
    auto& registry = big_registry();
    for (auto _ : state) {
        auto list = registry.list_status();
        benchmark::DoNotOptimize(list);
    }
    state.SetItemsProcessed(state.iterations() *
                            static_cast<std::int64_t>(kGroups * kIdentifiersPerGroup));
    state.counters["identifiers"] = static_cast<double>(kGroups * kIdentifiersPerGroup);
}
BENCHMARK(BM_RegistryListStatusAll)->Unit(benchmark::kMillisecond);

// Adding and removing an identifier at run time.
void BM_RegistryAddRemoveIdentifier(benchmark::State& state) {
    auto& registry = big_registry();
    for (auto _ : state) {
        core::IdentifierSpec spec;
        spec.name = "tmp";
        auto added = registry.add_identifier("g42", spec);
        auto removed = registry.remove_identifier("g42", "tmp");
        benchmark::DoNotOptimize(added);
        benchmark::DoNotOptimize(removed);
    }
}
BENCHMARK(BM_RegistryAddRemoveIdentifier);

}  // namespace
}  // namespace srmi::bench
