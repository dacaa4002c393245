// WorkerPool: every job runs once, the size follows the load within its
// bounds, and neither throwing jobs nor destruction with a backlog hurt it.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "server/http/worker_pool.h"

#include "tests/support/wait_until.h"

namespace {

using srmi::test::wait_until;

using namespace std::chrono_literals;
using srmi::server::WorkerPool;
using srmi::server::WorkerPoolOptions;

struct ScaleEvent {
    int load;
    bool up;
    int worker_id;
};

/// Collects the hook's calls, which come from the monitor thread.
struct HookLog {
    std::mutex mutex;
    std::vector<ScaleEvent> events;

    srmi::server::ScaleHook hook() {
        return [this](int load, bool up, int worker_id) {
            std::lock_guard lock(mutex);
            events.push_back({load, up, worker_id});
        };
    }
    std::vector<ScaleEvent> snapshot() {
        std::lock_guard lock(mutex);
        return events;
    }
    /// The size the events add up to. The hook runs after workers() changes,
    /// so a test that saw workers() change waits for this to catch up.
    int size_told(unsigned start) {
        std::lock_guard lock(mutex);
        int size = static_cast<int>(start);
        for (const auto& e : events) size += e.up ? 1 : -1;
        return size;
    }
};

/// Small periods so that growing and shrinking take a fraction of a second.
WorkerPoolOptions fast_options() {
    WorkerPoolOptions options;
    options.min_workers = 1;
    options.max_workers = 4;
    options.sample_period = 10ms;
    options.scale_up_load = 80;
    options.scale_down_load = 20;
    options.idle_samples = 3;
    return options;
}

/// Jobs of a few milliseconds each, topped up so that work is always waiting.
struct Burst {
    std::atomic<int> submitted{0};
    std::atomic<int> started{0};
    std::atomic<int> finished{0};

    /// Keeps a backlog queued until `enough` holds (true) or 5 s pass (false).
    bool feed_until(WorkerPool& pool, const std::function<bool()>& enough) {
        return wait_until([&] {
            while (submitted - started < 16) {
                ++submitted;
                pool.submit([this] {
                    ++started;
                    std::this_thread::sleep_for(3ms);  // the work itself: load is what is tested
                    ++finished;
                });
            }
            return enough();
        });
    }
    bool drained() const { return finished == submitted; }
};

}  // namespace

TEST_CASE("worker pool runs every submitted job exactly once") {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 2500;
    constexpr int kJobs = kThreads * kPerThread;
    std::vector<std::atomic<int>> runs(kJobs);
    std::atomic<int> done{0};
    {
        auto options = fast_options();
        options.min_workers = 2;
        WorkerPool pool(options, nullptr);
        std::vector<std::thread> submitters;
        for (int t = 0; t < kThreads; ++t) {
            submitters.emplace_back([&, t] {
                for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
                    pool.submit([&, i] {
                        ++runs[static_cast<std::size_t>(i)];
                        ++done;
                    });
                }
            });
        }
        for (auto& s : submitters) s.join();
        REQUIRE(wait_until([&] { return done == kJobs; }));
    }
    int wrong = 0;
    for (const auto& r : runs) wrong += r != 1 ? 1 : 0;
    CHECK(wrong == 0);
    CHECK(done == kJobs);
}

TEST_CASE("worker pool grows to max under a burst and shrinks back to min when idle") {
    const WorkerPoolOptions options = fast_options();
    HookLog log;
    Burst burst;  // before the pool: its jobs point at it
    WorkerPool pool(options, log.hook());
    CHECK(pool.workers() == options.min_workers);

    bool within_bounds = true;
    auto size_ok = [&] {
        const unsigned n = pool.workers();
        within_bounds = within_bounds && n >= options.min_workers && n <= options.max_workers;
        const int load = pool.load();
        within_bounds = within_bounds && load >= 0 && load <= 100;
    };

    REQUIRE(burst.feed_until(pool, [&] {
        size_ok();
        return pool.workers() == options.max_workers;
    }));
    REQUIRE(wait_until([&] { return burst.drained(); }));
    REQUIRE(wait_until([&] {
        size_ok();
        return pool.workers() == options.min_workers;
    }));
    CHECK(within_bounds);
    REQUIRE(wait_until([&] {
        return log.size_told(options.min_workers) == static_cast<int>(options.min_workers);
    }));

    const auto events = log.snapshot();
    int size = static_cast<int>(options.min_workers);
    int ups = 0;
    int downs = 0;
    int last_up_id = static_cast<int>(options.min_workers) - 1;  // the first workers are 0..min-1
    for (const auto& e : events) {
        CAPTURE(e.load);
        CAPTURE(e.worker_id);
        if (e.up) {
            ++ups;
            ++size;
            CHECK(e.load >= options.scale_up_load);
            CHECK(e.worker_id == last_up_id + 1);
            last_up_id = e.worker_id;
        } else {
            ++downs;
            --size;
            CHECK(e.load <= options.scale_down_load);
            CHECK(e.worker_id >= 0);
            CHECK(e.worker_id <= last_up_id);
        }
        CHECK(size >= static_cast<int>(options.min_workers));
        CHECK(size <= static_cast<int>(options.max_workers));
    }
    CHECK(ups >= static_cast<int>(options.max_workers - options.min_workers));
    CHECK(downs == ups);
    CHECK(size == static_cast<int>(options.min_workers));
    CHECK(!events.empty());
    CHECK(!events.back().up);
}

TEST_CASE("worker pool keeps scaling when the hook throws") {
    const WorkerPoolOptions options = fast_options();
    std::atomic<int> calls{0};
    Burst burst;
    WorkerPool pool(options, [&](int, bool, int) {
        ++calls;
        throw std::runtime_error("hook failure");
    });
    REQUIRE(burst.feed_until(pool, [&] { return pool.workers() == options.max_workers; }));
    // The hook runs after workers() changed; give the last call time to come.
    const int ups_needed = static_cast<int>(options.max_workers - options.min_workers);
    CHECK(wait_until([&] { return calls >= ups_needed; }));
    REQUIRE(wait_until([&] { return burst.drained(); }));
}

TEST_CASE("worker pool survives throwing jobs without losing a worker") {
    auto options = fast_options();
    options.min_workers = 1;
    options.max_workers = 1;  // the job after the throws can only run on the same worker
    WorkerPool pool(options, nullptr);
    std::atomic<int> after{0};
    pool.submit([] { throw std::runtime_error("job failure"); });
    pool.submit([] { throw 42; });
    pool.submit(nullptr);
    pool.submit([&] { ++after; });
    REQUIRE(wait_until([&] { return after == 1; }));
    CHECK(pool.workers() == 1);
}

TEST_CASE("worker pool rejects options outside their ranges") {
    auto options = fast_options();
    SUBCASE("no workers") { options.min_workers = 0; }
    SUBCASE("max below min") {
        options.min_workers = 3;
        options.max_workers = 2;
    }
    SUBCASE("no sample period") { options.sample_period = 0ms; }
    SUBCASE("no idle samples") { options.idle_samples = 0; }
    CHECK_THROWS_AS(WorkerPool(options, nullptr), std::invalid_argument);
}

TEST_CASE("worker pool destruction discards queued jobs and finishes the running one") {
    auto options = fast_options();
    options.max_workers = 1;
    auto pool = std::make_unique<WorkerPool>(options, nullptr);

    std::atomic<bool> running{false};
    std::atomic<bool> release{false};
    std::atomic<bool> finished{false};
    pool->submit([&] {
        running = true;
        wait_until([&] { return release.load(); }, 60s);
        finished = true;
    });
    REQUIRE(wait_until([&] { return running.load(); }));

    // Each queued job holds a copy of `token`, so its use count tells when
    // the destructor has thrown them away.
    auto token = std::make_shared<int>(0);
    std::atomic<int> ran{0};
    constexpr int kQueued = 100;
    for (int i = 0; i < kQueued; ++i) pool->submit([token, &ran] { ++ran; });
    CHECK(token.use_count() == kQueued + 1);

    std::thread destroyer([&] { pool.reset(); });
    const bool discarded = wait_until([&] { return token.use_count() == 1; });
    release = true;  // in any case, so that the destructor can return
    destroyer.join();
    CHECK(discarded);
    CHECK(finished);
    CHECK(ran == 0);
}
