// FanOutQueue tests: real io_contexts on real threads, since what the queue
// promises is about threads: the order of tasks pushed from several, and
// which thread is woken when.
#include "server/events/fan_out_queue.h"

#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/wait_until.h"

namespace {

using srmi::test::wait_until;

using namespace std::chrono_literals;
namespace net = boost::asio;
using srmi::server::FanOutQueue;

/// An io_context run by a thread of its own; `bind` marks that thread as an
/// I/O thread of the queue.
struct IoThread {
    net::io_context ioc{1};
    net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(ioc);
    std::thread thread;

    explicit IoThread(bool bind) {
        thread = std::thread([this, bind] {
            if (bind) FanOutQueue::bind_thread(ioc);
            ioc.run();
        });
    }
    ~IoThread() {
        work.reset();
        ioc.stop();
        thread.join();
    }
};

}  // namespace

TEST_CASE("tasks pushed from several I/O threads run on the events thread in the order pushed") {
    IoThread events(false);
    FanOutQueue queue(events.ioc);
    IoThread first(true), second(true);

    std::mutex order_mutex;  // held across numbering and pushing, as a changed identifier's lock is
    std::vector<int> pushed, ran;
    std::atomic<std::size_t> ran_count{0};
    std::atomic<bool> other_thread{false};
    constexpr int kPerThread = 500;
    auto push_some = [&] {
        for (int i = 0; i < kPerThread; ++i) {
            std::lock_guard lock(order_mutex);
            const int n = static_cast<int>(pushed.size());
            pushed.push_back(n);
            queue.push([&, n] {
                if (std::this_thread::get_id() != events.thread.get_id()) other_thread = true;
                ran.push_back(n);  // only the events thread touches `ran`
                ran_count.fetch_add(1, std::memory_order_release);
            });
        }
    };
    net::post(first.ioc, push_some);
    net::post(second.ioc, push_some);

    REQUIRE(
        wait_until([&] { return ran_count.load(std::memory_order_acquire) == 2u * kPerThread; }));
    std::lock_guard lock(order_mutex);
    CHECK(ran == pushed);
    CHECK_FALSE(other_thread.load());
}

TEST_CASE("the events thread is not woken while the handler that pushed still runs") {
    IoThread events(false);
    FanOutQueue queue(events.ioc);
    IoThread io(true);

    std::atomic<bool> ran{false}, ran_before_return{true};
    net::post(io.ioc, [&] {
        queue.push([&] { ran = true; });
        std::this_thread::sleep_for(FanOutQueue::kCoalesce * 5);  // the wake-up falls due meanwhile
        ran_before_return = ran.load();
    });
    REQUIRE(wait_until([&] { return ran.load(); }));
    CHECK_FALSE(ran_before_return.load());
}

TEST_CASE("a task pushed from a thread that runs no I/O context is run") {
    IoThread events(false);
    FanOutQueue queue(events.ioc);
    std::atomic<int> ran{0};
    queue.push([&] { ++ran; });
    queue.push([&] { ++ran; });
    CHECK(wait_until([&] { return ran.load() == 2; }));
}

TEST_CASE("flush() runs the tasks whose wake-up a stopped I/O context will never fire") {
    IoThread events(false);
    FanOutQueue queue(events.ioc);
    std::atomic<bool> ran{false}, pushed{false};
    {
        IoThread io(true);
        net::post(io.ioc, [&] {
            queue.push([&] { ran = true; });
            io.ioc.stop();  // as a shutdown does: the wake-up timer never fires
            pushed = true;
        });
        REQUIRE(wait_until([&] { return pushed.load(); }));
    }
    // Proving that something does not happen takes its time: five coalescing
    // periods, in which a wake-up timer would have run the task.
    std::this_thread::sleep_for(FanOutQueue::kCoalesce * 5);
    CHECK_FALSE(ran.load());
    queue.flush();
    CHECK(wait_until([&] { return ran.load(); }));

    std::atomic<bool> later{false};  // and the queue goes on working
    queue.push([&] { later = true; });
    CHECK(wait_until([&] { return later.load(); }));
}

TEST_CASE("beyond its limit the queue drops the oldest waiting tasks, counting each") {
    net::io_context events;  // not run yet: every task waits
    FanOutQueue queue(events, 4);
    std::vector<int> ran;
    for (int n = 1; n <= 10; ++n) queue.push([&ran, n] { ran.push_back(n); });
    CHECK(queue.dropped() == 6);
    events.poll();
    CHECK(ran == std::vector<int>{7, 8, 9, 10});
    CHECK(queue.dropped() == 6);
}
