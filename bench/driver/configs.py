"""What the run generates for srmi and wrk: the config files and the request
bodies of bench/wrk/post.lua."""
import json
import os

from .client import rpc


def small_config(path, **settings):
    """The config every srmi here starts with: group `bench` (main, fan, the
    writers' w0..w15), group `mem` for the memory scenario, group `soak`;
    `settings` are further keys (event_queue_limit=...)."""
    config = {**settings, "groups": [
        {"name": "bench", "identifiers": ["main", "fan"] + [f"w{i}" for i in range(16)]},
        {"name": "mem", "identifiers": ["main"]},
        {"name": "soak", "identifiers": ["main"] + [f"w{i}" for i in range(16)]},
    ]}
    with open(path, "w") as f:
        json.dump(config, f)
    return path


def groups_config(path, groups, ids):
    """A config with `groups` groups g0.. of `ids` identifiers i0.. each."""
    names = [f"i{i}" for i in range(ids)]
    with open(path, "w") as f:
        json.dump({"groups": [{"name": f"g{g}", "identifiers": names} for g in range(groups)]}, f,
                  separators=(",", ":"))
    return path


def bodies(directory):
    """Request bodies for wrk (post.lua); {T} is the wrk thread's number.
    Returns {name: path}."""
    os.makedirs(directory, exist_ok=True)
    contents = {
        # As a client writes it: params before id.
        "get_status_core": {"jsonrpc": "2.0", "method": "sr_get_status", "params": {"group": "core"}, "id": 1},
        # 100 sets of one identifier per connection, alternating 1 and 2: every
        # one is a change (an event), also from one batch to the next (ends at 2).
        "set_status_batch": [rpc("sr_set_status", {"group": "bench", "identifier": "w{T}", "status": 1 + k % 2},
                                 k + 1) for k in range(100)],
        "add_report_batch": [rpc("sr_add_report", {"group": "bench", "identifier": "w{T}",
                                                   "report": f"bench report {k:03d} of a fixed length"}, k + 1)
                             for k in range(100)],
    }
    paths = {}
    for name, body in contents.items():
        paths[name] = os.path.join(directory, name + ".json")
        with open(paths[name], "w") as f:
            f.write(json.dumps(body, separators=(",", ":")))
    return paths
