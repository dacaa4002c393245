// StateError: a state store that cannot be used (exit 2 at start-up).
#pragma once

#include <stdexcept>

namespace srmi::server {

/// A state store that cannot be used; the message names it and the problem.
class StateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace srmi::server
