// How both state stores call back a writer waiting for durability: an
// exception from the callback is logged and dropped, never let into the
// store's own thread.
#pragma once

#include <spdlog/spdlog.h>

#include <exception>
#include <functional>

namespace srmi::server::detail {

inline void call_durability_callback(const std::function<void(bool ok)>& done, bool ok) {
    try {
        done(ok);
    } catch (const std::exception& e) {
        spdlog::error("state store: a durability callback threw: {}", e.what());
    } catch (...) {
        spdlog::error("state store: a durability callback threw");
    }
}

}  // namespace srmi::server::detail
