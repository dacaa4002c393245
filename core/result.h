// Errc and Result: how the registry says what went wrong without throwing.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace srmi::core {

/// Every way a registry operation can be refused.
enum class Errc {
    group_not_found,       ///< no group of that name (case-insensitive)
    identifier_not_found,  ///< the group has no identifier of that name
    forbidden,             ///< a write from outside aimed at an internal group
    reports_disabled,      ///< the identifier was created with max_reports = 0
    already_exists,        ///< an identifier of that name is already in the group
    last_identifier,       ///< removing it would leave the group without identifiers
    invalid_name,          ///< an empty identifier name
    store_unavailable,     ///< the shared state store cannot take writes now
};

/// A value or the reason there is none. Cheap to move; never throws on access
/// when ok() was checked first.
template <class T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
    Result(Errc e) : v_(e) {}                  // NOLINT: implicit by design

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    const T& value() const& { return std::get<0>(v_); }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const T& operator*() const& { return std::get<0>(v_); }
    T&& operator*() && { return std::get<0>(std::move(v_)); }
    const T* operator->() const { return &std::get<0>(v_); }
    Errc error() const { return std::get<1>(v_); }

private:
    std::variant<T, Errc> v_;
};

/// Result of an operation that yields nothing but may be refused.
template <>
class Result<void> {
public:
    Result() = default;
    Result(Errc e) : failed_(true), e_(e) {}  // NOLINT: implicit by design

    bool ok() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return ok(); }
    Errc error() const {
        assert(failed_);
        return e_;
    }

private:
    bool failed_ = false;
    Errc e_ = Errc::group_not_found;
};

}  // namespace srmi::core
