// same_json: equality of two JSON trees with the kind of every number and the
// order of keys, which Json's operator== overlooks (it finds 1u == 1 and
// compares numbers by value). For read_json's comparisons with nlohmann.
#pragma once

#include "rpc/dispatcher.h"

namespace srmi::test {

inline bool same_json(const rpc::Json& a, const rpc::Json& b) {
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
