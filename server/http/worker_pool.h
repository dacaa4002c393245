// WorkerPool: a thread pool whose size follows the measured load, so that a
// burst gets more workers and a quiet spell gives them back (the source of
// E_CORE_PROC_AUTO_SCALE).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace srmi::server {

struct WorkerPoolOptions {
    unsigned min_workers = 1;                      // >= 1
    unsigned max_workers = 4;                      // >= min_workers
    std::chrono::milliseconds sample_period{100};  // how often load is measured
    // % busy over the last sample: add a worker if the queue is not empty too
    int scale_up_load = 80;
    // % busy: remove a worker after `idle_samples` such samples in a row
    int scale_down_load = 20;
    int idle_samples = 10;
};

/// Told about every change of the pool size: the load (%) that caused it, up or down,
/// and the id of the worker started or stopped (ids count from 0 and are not reused).
using ScaleHook = std::function<void(int load_percent, bool up, int worker_id)>;

/// Runs submitted jobs, each exactly once unless the pool is destroyed first,
/// on between min_workers and max_workers threads. Every sample_period a
/// monitor thread measures the load (job time over worker time) and adds or
/// removes at most one worker. The hook runs on the monitor thread, outside
/// the pool's locks, once the change shows in workers(); an exception from it
/// is swallowed. All member functions are thread-safe.
class WorkerPool {
public:
    /// Starts min_workers workers (ids 0..min_workers-1) and the monitor.
    /// Throws std::invalid_argument for options outside the documented ranges
    /// (or a non-positive sample_period / idle_samples), and std::system_error
    /// if a thread cannot be started; nothing is left running then.
    WorkerPool(WorkerPoolOptions options, ScaleHook hook);

    /// Stops accepting jobs, discards (destroys unrun) the queued ones, lets
    /// running jobs finish and joins every thread. Returns as soon as the
    /// running jobs have returned; the monitor does not delay it.
    ~WorkerPool();

    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    /// Queues `job` to run once on some worker; never waits for a running job.
    /// A job that throws is counted and forgotten, and its worker carries on
    /// (an empty function counts as a throwing job). Once destruction has
    /// begun, jobs are dropped unrun.
    void submit(std::function<void()> job);

    /// The number of workers taking jobs now, within [min_workers, max_workers].
    /// A stopped worker no longer counts, even while it finishes its last job.
    unsigned workers() const;

    /// The load measured at the last sample, 0..100; 0 before the first one.
    int load() const;

private:
    class Impl;  // threads and locking stay in worker_pool.cpp
    std::unique_ptr<Impl> impl_;
};

}  // namespace srmi::server
