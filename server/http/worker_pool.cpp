// The pool's threads and bookkeeping live here so the header shows only the
// contract. One mutex guards all shared state: every critical section is a few
// pointer moves and clock reads, never a job or the hook.
#include "server/http/worker_pool.h"

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <iterator>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace srmi::server {

namespace {

using Clock = std::chrono::steady_clock;
using Job = std::function<void()>;

void validate(const WorkerPoolOptions& options) {
    if (options.min_workers < 1)
        throw std::invalid_argument("worker pool: min_workers must be at least 1");
    if (options.max_workers < options.min_workers)
        throw std::invalid_argument("worker pool: max_workers must not be below min_workers");
    if (options.sample_period <= std::chrono::milliseconds::zero())
        throw std::invalid_argument("worker pool: sample_period must be positive");
    if (options.idle_samples < 1)
        throw std::invalid_argument("worker pool: idle_samples must be at least 1");
}

}  // namespace

class WorkerPool::Impl {
public:
    Impl(WorkerPoolOptions options, ScaleHook hook) : options_(options), hook_(std::move(hook)) {
        validate(options_);
    }

    ~Impl() { shutdown(); }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    /// If this throws, the destructor still stops whatever was started.
    void start() {
        {
            std::lock_guard lock(mutex_);
            last_sample_ = Clock::now();
            for (unsigned i = 0; i < options_.min_workers; ++i) start_worker_locked();
        }
        monitor_ = std::thread([this] { run_monitor(); });
    }

    void submit(Job job) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;  // `job` is destroyed after the lock is released
            queue_.push_back(std::move(job));
        }
        work_ready_.notify_one();
    }

    unsigned workers() const {
        std::lock_guard lock(mutex_);
        return static_cast<unsigned>(active_.size());
    }

    int load() const {
        std::lock_guard lock(mutex_);
        return load_;
    }

    /// Idempotent; after it no thread of the pool runs.
    void shutdown() noexcept {
        std::deque<Job> discarded;
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            discarded.swap(queue_);
        }
        work_ready_.notify_all();
        monitor_wake_.notify_all();
        // Outside the lock: a job's captures may run code that calls submit().
        discarded.clear();
        // The monitor first, so that no worker is started behind our back.
        if (monitor_.joinable()) monitor_.join();
        std::vector<std::unique_ptr<Worker>> all;
        {
            std::lock_guard lock(mutex_);
            all = std::move(active_);
            active_.clear();
            std::move(retired_.begin(), retired_.end(), std::back_inserter(all));
            retired_.clear();
        }
        for (auto& worker : all) {
            if (worker->thread.joinable()) worker->thread.join();
        }
    }

private:
    /// One thread's record; all fields but `thread` are guarded by mutex_.
    struct Worker {
        int id = 0;
        std::thread thread;
        bool retiring = false;  // take no new job; leave once the current one returns
        bool exited = false;    // the loop has returned, so joining will not wait
        bool running = false;
        Clock::time_point since;  // start of the running job, or of the sample if later
        Clock::duration busy{};   // job time in the current sample not yet counted via `since`
    };

    struct Change {
        bool up;
        int worker_id;
    };

    /// Returns the new worker's id; if the thread cannot start, throws and
    /// leaves the pool as it was.
    int start_worker_locked() {
        auto worker = std::make_unique<Worker>();
        worker->id = next_id_;
        Worker& self = *worker;
        self.thread = std::thread([this, &self] { run_worker(self); });
        ++next_id_;
        active_.push_back(std::move(worker));
        return self.id;
    }

    void run_worker(Worker& self) {
        std::unique_lock lock(mutex_);
        for (;;) {
            work_ready_.wait(lock, [&] { return stopping_ || self.retiring || !queue_.empty(); });
            if (stopping_ || self.retiring) break;
            Job job = std::move(queue_.front());
            queue_.pop_front();
            self.running = true;
            self.since = Clock::now();
            lock.unlock();

            bool failed = false;
            try {
                job();
            } catch (...) {
                failed = true;  // the job's problem, not the pool's: keep the worker
            }
            job = nullptr;  // its captures die outside the lock too

            lock.lock();
            // Read after locking, so the monitor cannot have moved `since` past it.
            self.busy += Clock::now() - self.since;
            self.running = false;
            if (failed) ++failed_jobs_;
        }
        self.exited = true;
        // This worker may have taken a wake-up meant for a job; pass it on.
        if (!queue_.empty()) work_ready_.notify_one();
    }

    void run_monitor() {
        std::unique_lock lock(mutex_);
        for (;;) {
            if (monitor_wake_.wait_for(lock, options_.sample_period, [this] { return stopping_; }))
                return;
            const int load = measure_locked(Clock::now());
            load_ = load;
            const std::optional<Change> change = scale_locked(load);
            std::vector<std::unique_ptr<Worker>> finished = take_exited_locked();
            lock.unlock();

            for (auto& worker : finished) worker->thread.join();
            finished.clear();
            if (change) tell_hook(load, *change);

            lock.lock();
        }
    }

    /// Busy time of the active workers since the last sample over their
    /// capacity, as a percentage; a running job counts up to `now`.
    int measure_locked(Clock::time_point now) {
        Clock::duration busy{};
        for (auto& worker : active_) {
            if (worker->running) {
                worker->busy += now - worker->since;
                worker->since = now;
            }
            busy += worker->busy;
            worker->busy = Clock::duration::zero();
        }
        const Clock::duration capacity =
            (now - last_sample_) * static_cast<Clock::rep>(active_.size());
        last_sample_ = now;
        if (capacity <= Clock::duration::zero()) return 0;
        return std::clamp(static_cast<int>(busy * 100 / capacity), 0, 100);
    }

    std::optional<Change> scale_locked(int load) {
        // Capped so that a pool idling at its minimum for ever cannot overflow.
        idle_streak_ = load <= options_.scale_down_load
                           ? std::min(idle_streak_ + 1, options_.idle_samples)
                           : 0;
        const std::size_t size = active_.size();
        if (load >= options_.scale_up_load && !queue_.empty() && size < options_.max_workers) {
            try {
                const int id = start_worker_locked();
                idle_streak_ = 0;
                return Change{true, id};
            } catch (const std::exception&) {
                return std::nullopt;  // no thread to spare now; the next sample tries again
            }
        }
        if (idle_streak_ >= options_.idle_samples && size > options_.min_workers) {
            idle_streak_ = 0;
            return Change{false, retire_one_locked()};
        }
        return std::nullopt;
    }

    /// Prefers the newest idle worker, which leaves at once; a busy one
    /// leaves when its job returns. Either way it stops counting now.
    int retire_one_locked() {
        auto it = std::find_if(active_.rbegin(), active_.rend(),
                               [](const auto& w) { return !w->running; });
        if (it == active_.rend()) it = active_.rbegin();
        std::unique_ptr<Worker> worker = std::move(*it);
        active_.erase(std::next(it).base());
        worker->retiring = true;
        const int id = worker->id;
        retired_.push_back(std::move(worker));
        work_ready_.notify_all();
        return id;
    }

    std::vector<std::unique_ptr<Worker>> take_exited_locked() {
        std::vector<std::unique_ptr<Worker>> finished;
        auto still_running = std::partition(retired_.begin(), retired_.end(),
                                            [](const auto& w) { return !w->exited; });
        std::move(still_running, retired_.end(), std::back_inserter(finished));
        retired_.erase(still_running, retired_.end());
        return finished;
    }

    void tell_hook(int load, Change change) noexcept {
        if (!hook_) return;
        try {
            hook_(load, change.up, change.worker_id);
        } catch (...) {
            // A broken listener must not stop the pool from scaling.
        }
    }

    const WorkerPoolOptions options_;
    const ScaleHook hook_;  // called by the monitor thread only

    mutable std::mutex mutex_;
    std::condition_variable work_ready_;    // workers: a job, a retirement or shutdown
    std::condition_variable monitor_wake_;  // monitor: shutdown
    std::deque<Job> queue_;
    std::vector<std::unique_ptr<Worker>> active_;   // ascending id
    std::vector<std::unique_ptr<Worker>> retired_;  // stopped, not yet joined
    std::thread monitor_;
    bool stopping_ = false;
    int next_id_ = 0;
    int load_ = 0;
    int idle_streak_ = 0;
    Clock::time_point last_sample_;
    // Counted for a debugger's eyes; by design nothing reports it.
    std::uint64_t failed_jobs_ = 0;
};

WorkerPool::WorkerPool(WorkerPoolOptions options, ScaleHook hook)
    : impl_(std::make_unique<Impl>(options, std::move(hook))) {
    impl_->start();
}

// Shut down before impl_ starts dying, so that a job still running may call
// the pool (its submit() is then a no-op).
WorkerPool::~WorkerPool() { impl_->shutdown(); }

void WorkerPool::submit(std::function<void()> job) { impl_->submit(std::move(job)); }

unsigned WorkerPool::workers() const { return impl_->workers(); }

int WorkerPool::load() const { return impl_->load(); }

}  // namespace srmi::server
