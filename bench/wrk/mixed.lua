-- The soak's traffic, per connection (run it with -t N -c N so that each
-- connection is its own thread and keeps its order): reads, writes, a
-- listing, and an identifier added then removed, over and over. "{T}" is the
-- wrk thread's number, so connections never write the same identifier. The
-- added one's name also carries the soak's slice (BENCH_SOAK_SLICE): a slice
-- can end between the add and the remove, and the next slice's add must not
-- find it there (the driver removes such leftovers between slices).
local next_thread = 0

function setup(thread)
    thread:set("tid", next_thread)
    next_thread = next_thread + 1
end

local requests = {}
local n = 0

local function call(method, params)
    return string.format('{"jsonrpc":"2.0","method":"%s","params":%s,"id":1}', method, params)
end

function init(args)
    local t = tostring(tid or 0)
    local tmp = "tmp" .. (os.getenv("BENCH_SOAK_SLICE") or "0") .. "_" .. t
    local headers = {["Content-Type"] = "application/json"}
    local bodies = {}
    for i = 1, 20 do
        table.insert(bodies, call("sr_get_status", '{"group":"core"}'))
        table.insert(bodies, call("sr_get_status", '{"group":"soak","identifier":"w' .. t .. '"}'))
    end
    local batch = {}
    for k = 0, 9 do
        table.insert(batch, string.format(
            '{"jsonrpc":"2.0","method":"sr_set_status","params":{"group":"soak","identifier":"w%s","status":%d,"details":"step %d"},"id":%d}',
            t, (k % 2 == 0) and -1 or 2, k, k + 1))
    end
    table.insert(bodies, "[" .. table.concat(batch, ",") .. "]")
    for k = 1, 5 do
        table.insert(bodies, call("sr_add_report",
            '{"group":"soak","identifier":"w' .. t .. '","report":"soak report ' .. k .. ' of a fixed length"}'))
    end
    table.insert(bodies, call("sr_list_status", '{"group":"soak"}'))
    table.insert(bodies, call("sr_list_reports", '{"group":"soak","identifier":"w' .. t .. '"}'))
    table.insert(bodies, call("sr_add_identifier", '{"group":"soak","identifier":"' .. tmp .. '","status":-1}'))
    table.insert(bodies, call("sr_add_report", '{"group":"soak","identifier":"' .. tmp .. '","report":"short-lived"}'))
    table.insert(bodies, call("sr_remove_identifier", '{"group":"soak","identifier":"' .. tmp .. '"}'))
    table.insert(bodies, call("sr_list_status", '{}'))
    for _, body in ipairs(bodies) do
        table.insert(requests, wrk.format("POST", wrk.path, headers, body))
    end
end

function request()
    n = n + 1
    if n > #requests then n = 1 end
    return requests[n]
end

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
