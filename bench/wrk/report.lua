-- done(): the run's figures as one machine-readable line (latencies in us).
-- latency_hist is wrk's latency histogram ([us, requests] for each value
-- seen), so that runs made in parts can be joined into one distribution.
function done(summary, latency, requests)
    local e = summary.errors
    local hist = {}
    for i = 1, #latency do
        local value, count = latency(i)
        hist[i] = string.format("[%d,%d]", value, count)
    end
    io.write(string.format(
        'BENCH_JSON {"requests":%d,"bytes":%d,"duration_us":%d,' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
        '"latency_us":{"mean":%.1f,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},' ..
        '"latency_hist":[%s]}\n',
        summary.requests, summary.bytes, summary.duration,
        e.connect, e.read, e.write, e.status, e.timeout,
        latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency:percentile(99.9), latency.max, table.concat(hist, ",")))
end
