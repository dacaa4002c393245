// same_json: equality of two JSON trees with the kind of every number and the
// order of keys, which Json's operator== overlooks (it finds 1u == 1 and
// compares numbers by value). For parse_json's comparisons with nlohmann.
#pragma once

#include "rpc/dispatcher.h"

namespace srmi::test {

/// True when `a` and `b` hold the same values of the same kinds with keys in
/// the same order; an integer zero matches either integer kind, as parse_json
/// reads `-0` as unsigned 0 where nlohmann reads a signed 0.
inline bool same_json(const rpc::Json& a, const rpc::Json& b) {
    if (a.is_number_integer() && b.is_number_integer() && a == 0 && b == 0) return true;
    if (a.type() != b.type()) return false;
    if (a.is_object() || a.is_array()) {
        if (a.size() != b.size()) return false;
        auto i = a.begin();
        auto j = b.begin();
        for (; i != a.end(); ++i, ++j) {
            if ((a.is_object() && i.key() != j.key()) || !same_json(*i, *j)) return false;
        }
        return true;
    }
    if (a.is_number_float()) {
        const double x = a.get<double>(), y = b.get<double>();
        return x == y || (x != x && y != y);
    }
    return a == b;
}

}  // namespace srmi::test
