// CoreStatus: the states, details and reports come from OpenSIPS's core group.
#include "core/core_status.h"

namespace srmi::core {

CoreStatus::CoreStatus(Registry& registry)
    : handle_(registry.add_group("core", Visibility::kInternal,
                                 {IdentifierSpec{std::string(kMainIdentifier), kStateNone,
                                                 std::nullopt, kCoreMaxReports}})) {}

void CoreStatus::initializing() const {
    handle_.set_status(kMainIdentifier, kStateInitializing, "initializing");
    handle_.add_report(kMainIdentifier, "initializing");
}

void CoreStatus::running() const {
    handle_.set_status(kMainIdentifier, kStateRunning, "running");
    handle_.add_report(kMainIdentifier, "initialization completed, ready now");
}

void CoreStatus::terminating() const {
    handle_.set_status(kMainIdentifier, kStateTerminating, "shutting down");
}

}  // namespace srmi::core
