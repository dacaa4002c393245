// read_json: a recursive-descent reader that mirrors nlohmann's lexer and
// DOM parser rule for rule (see each rule's comment), building the same Json.
#include "rpc/json_reader.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

namespace srmi::rpc {

namespace {

/// Objects up to this many keys find a repeated key by a linear search, as
/// nlohmann's ordered_map does; larger ones keep an index, which nlohmann
/// lacks (a megabyte of distinct keys made it compare for seconds).
constexpr std::size_t kLinearKeys = 16;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Reader {
  public:
    Reader(std::string_view text, std::size_t max_depth)
        : p_(text.data()), end_(text.data() + text.size()), depth_left_(max_depth) {}

    bool document(Json& out) {
        skip_bom();
        return value(out) && at_end();
    }

    // A byte order mark is skipped (nlohmann's skip_bom).
    void skip_bom() {
        if (end_ - p_ >= 3 && static_cast<unsigned char>(p_[0]) == 0xEF &&
            static_cast<unsigned char>(p_[1]) == 0xBB &&
            static_cast<unsigned char>(p_[2]) == 0xBF) {
            p_ += 3;
        }
    }

    bool at_end() {
        skip_whitespace();
        // Nothing may follow, but nlohmann's lexer takes a NUL byte for the
        // end of the input, and so ignores whatever comes after one.
        return p_ == end_ || *p_ == '\0';
    }

    char peek() {
        skip_whitespace();
        return p_ == end_ ? '\0' : *p_;
    }

    // The pull reader's members: the caller has seen the opening character.
    bool object_members(const std::function<bool(std::string& key)>& member) {
        return each_member(member);
    }

    bool array_elements(const std::function<bool()>& element) { return container(']', element); }

    bool string_value(std::string& out) { return peek() == '"' && string(out); }

    bool value(Json& out) {
        skip_whitespace();
        if (p_ == end_) return false;
        switch (*p_) {
            case '{':
                return object(out);
            case '[':
                return array(out);
            case '"': {
                std::string text;
                if (!string(text)) return false;
                out = std::move(text);
                return true;
            }
            case 't':
                return literal("true", out, true);
            case 'f':
                return literal("false", out, false);
            case 'n':
                return literal("null", out, nullptr);
            default:
                return number(out);
        }
    }

  private:
    void skip_whitespace() {
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
    }

    template <class T>
    bool literal(std::string_view word, Json& out, T v) {
        if (static_cast<std::size_t>(end_ - p_) < word.size() ||
            std::string_view(p_, word.size()) != word) {
            return false;
        }
        p_ += word.size();
        out = v;
        return true;
    }

    // The frame both containers share: `open` already seen, then no element
    // or elements separated by commas, then `close`; each element read by
    // `element`. Counts the nesting.
    template <class Element>
    bool container(char close, Element element) {
        if (depth_left_ == 0) return false;
        --depth_left_;
        ++p_;  // the opening bracket
        skip_whitespace();
        if (p_ < end_ && *p_ == close) {
            ++p_;
            ++depth_left_;
            return true;
        }
        for (;;) {
            if (!element()) return false;
            skip_whitespace();
            if (p_ == end_) return false;
            if (*p_ == ',') {
                ++p_;
                continue;
            }
            if (*p_ != close) return false;
            ++p_;
            ++depth_left_;
            return true;
        }
    }

    bool object(Json& out) {
        out = Json::object();
        auto& members = out.get_ref<Json::object_t&>();
        members.reserve(4);  // a request's envelope: grown once, not three times
        std::unordered_map<std::string, std::size_t> index;  // once past kLinearKeys
        return each_member([&](std::string& key) {
            Json member;
            if (!value(member)) return false;
            add_member(members, index, std::move(key), std::move(member));
            return true;
        });
    }

    // An object's frame: `{` already seen, then `"key":` and the value read by
    // `member(key)`, for each member.
    template <class Member>
    bool each_member(Member&& member) {
        return container('}', [&] {
            skip_whitespace();
            if (p_ == end_ || *p_ != '"') return false;
            std::string key;
            if (!string(key)) return false;
            skip_whitespace();
            if (p_ == end_ || *p_ != ':') return false;
            ++p_;
            return member(key);
        });
    }

    // A key given twice keeps its first place and takes the last value
    // (nlohmann's parser assigns through operator[]).
    static void add_member(Json::object_t& members,
                           std::unordered_map<std::string, std::size_t>& index, std::string key,
                           Json member) {
        Json* existing = nullptr;
        if (members.size() <= kLinearKeys) {
            for (auto& [k, v] : members) {
                if (k == key) {
                    existing = &v;
                    break;
                }
            }
        } else {
            if (index.empty()) {
                std::size_t i = 0;
                for (const auto& entry : members) index.emplace(entry.first, i++);
            }
            if (auto it = index.find(key); it != index.end()) {
                existing = &(members.begin() + static_cast<std::ptrdiff_t>(it->second))->second;
            }
        }
        if (existing != nullptr) {
            *existing = std::move(member);
            return;
        }
        if (!index.empty()) index.emplace(key, members.size());
        members.emplace_back(std::move(key), std::move(member));
    }

    bool array(Json& out) {
        out = Json::array();
        auto& elements = out.get_ref<Json::array_t&>();
        return container(']', [&] {
            elements.emplace_back();
            return value(elements.back());
        });
    }

    // Four hex digits of a \u escape.
    bool hex4(std::uint32_t& cp) {
        if (end_ - p_ < 4) return false;
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hex_value(p_[i]);
            if (h < 0) return false;
            cp = (cp << 4) | static_cast<std::uint32_t>(h);
        }
        p_ += 4;
        return true;
    }

    // One continuation byte of a UTF-8 sequence, within [lo, hi].
    bool next_in(unsigned char lo, unsigned char hi, std::string& out) {
        if (p_ == end_) return false;
        const auto c = static_cast<unsigned char>(*p_);
        if (c < lo || c > hi) return false;
        out += *p_++;
        return true;
    }

    bool string(std::string& out) {
        ++p_;  // the opening quote
        for (;;) {
            const char* run = p_;
            while (p_ < end_) {
                const auto c = static_cast<unsigned char>(*p_);
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
                ++p_;
            }
            out.append(run, static_cast<std::size_t>(p_ - run));
            if (p_ == end_) return false;
            const auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                ++p_;
                return true;
            }
            if (c < 0x20) return false;  // control characters must be escaped
            if (c == '\\') {
                if (!escape(out)) return false;
                continue;
            }
            // UTF-8, byte ranges as nlohmann's scan_string (RFC 3629: no
            // overlong forms, no surrogates, nothing above U+10FFFF).
            out += *p_++;
            bool ok = false;
            if (c >= 0xC2 && c <= 0xDF) {
                ok = next_in(0x80, 0xBF, out);
            } else if (c == 0xE0) {
                ok = next_in(0xA0, 0xBF, out) && next_in(0x80, 0xBF, out);
            } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
                ok = next_in(0x80, 0xBF, out) && next_in(0x80, 0xBF, out);
            } else if (c == 0xED) {
                ok = next_in(0x80, 0x9F, out) && next_in(0x80, 0xBF, out);
            } else if (c == 0xF0) {
                ok = next_in(0x90, 0xBF, out) && next_in(0x80, 0xBF, out) &&
                     next_in(0x80, 0xBF, out);
            } else if (c >= 0xF1 && c <= 0xF3) {
                ok = next_in(0x80, 0xBF, out) && next_in(0x80, 0xBF, out) &&
                     next_in(0x80, 0xBF, out);
            } else if (c == 0xF4) {
                ok = next_in(0x80, 0x8F, out) && next_in(0x80, 0xBF, out) &&
                     next_in(0x80, 0xBF, out);
            }
            if (!ok) return false;
        }
    }

    bool escape(std::string& out) {
        ++p_;  // the backslash
        if (p_ == end_) return false;
        switch (*p_++) {
            case '"':
                out += '"';
                return true;
            case '\\':
                out += '\\';
                return true;
            case '/':
                out += '/';
                return true;
            case 'b':
                out += '\b';
                return true;
            case 'f':
                out += '\f';
                return true;
            case 'n':
                out += '\n';
                return true;
            case 'r':
                out += '\r';
                return true;
            case 't':
                out += '\t';
                return true;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex4(cp)) return false;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    // A high surrogate must be followed by \u and a low one.
                    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
                    p_ += 2;
                    std::uint32_t low = 0;
                    if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return false;  // a low surrogate alone
                }
                append_utf8(out, cp);
                return true;
            }
            default:
                return false;
        }
    }

    bool number(Json& out) {
        // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        const char* start = p_;
        const bool negative = *p_ == '-';
        if (negative) ++p_;
        if (p_ == end_) return false;
        if (*p_ == '0') {
            ++p_;
        } else if (*p_ >= '1' && *p_ <= '9') {
            while (p_ < end_ && is_digit(*p_)) ++p_;
        } else {
            return false;
        }
        bool integer = true;
        if (p_ < end_ && *p_ == '.') {
            integer = false;
            ++p_;
            if (p_ == end_ || !is_digit(*p_)) return false;
            while (p_ < end_ && is_digit(*p_)) ++p_;
        }
        if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
            integer = false;
            ++p_;
            if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
            if (p_ == end_ || !is_digit(*p_)) return false;
            while (p_ < end_ && is_digit(*p_)) ++p_;
        }
        // strto* need a terminated copy; most numbers fit the small buffer.
        const std::string token(start, p_);
        const char* text = token.c_str();
        char* stop = nullptr;
        if (integer) {
            // As nlohmann: strtoull for a positive integer, strtoll for a
            // negative one; one that overflows is read as a double.
            errno = 0;
            if (negative) {
                const long long v = std::strtoll(text, &stop, 10);
                if (errno == 0) {
                    out = static_cast<std::int64_t>(v);
                    return true;
                }
            } else {
                const unsigned long long v = std::strtoull(text, &stop, 10);
                if (errno == 0) {
                    out = static_cast<std::uint64_t>(v);
                    return true;
                }
            }
        }
        const double v = std::strtod(text, &stop);
        if (!std::isfinite(v)) return false;  // nlohmann: "number overflow"
        out = v;
        return true;
    }

    const char* p_;
    const char* const end_;
    std::size_t depth_left_;
};

}  // namespace

bool read_json(std::string_view text, Json& out, std::size_t max_depth) {
    return Reader(text, max_depth).document(out);
}

struct JsonPullReader::Impl : Reader {
    using Reader::Reader;
};

JsonPullReader::JsonPullReader(std::string_view text, std::size_t max_depth)
    : impl_(std::make_unique<Impl>(text, max_depth)) {
    impl_->skip_bom();
}

JsonPullReader::~JsonPullReader() = default;

char JsonPullReader::peek() { return impl_->peek(); }

bool JsonPullReader::at_end() { return impl_->at_end(); }

bool JsonPullReader::value(Json& out) { return impl_->value(out); }

bool JsonPullReader::string(std::string& out) { return impl_->string_value(out); }

bool JsonPullReader::object(const std::function<bool(std::string& key)>& member) {
    return impl_->peek() == '{' && impl_->object_members(member);
}

bool JsonPullReader::array(const std::function<bool()>& element) {
    return impl_->peek() == '[' && impl_->array_elements(element);
}

}  // namespace srmi::rpc
