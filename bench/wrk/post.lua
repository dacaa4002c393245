-- POSTs one fixed JSON body to the URL wrk was given (keep-alive).
-- The body is read from the file named by BENCH_BODY; "{T}" in it is replaced
-- by the wrk thread's number (0, 1, ...), so that with -t N -c N each
-- connection can write its own identifier. done() prints one line
-- "BENCH_JSON {...}" with the figures bench/driver/wrk.py reads.
local next_thread = 0

function setup(thread)
    thread:set("tid", next_thread)
    next_thread = next_thread + 1
end

function init(args)
    local path = os.getenv("BENCH_BODY")
    local file = assert(io.open(path, "rb"), "BENCH_BODY: cannot open " .. tostring(path))
    local body = file:read("*a")
    file:close()
    body = body:gsub("{T}", tostring(tid or 0))
    wrk.method = "POST"
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
end

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
