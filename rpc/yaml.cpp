// read_yaml and write_yaml: libyaml's event parser and emitter, mapped to and
// from nlohmann's ordered JSON.
#include "rpc/yaml.h"

#include <yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <regex>

namespace srmi::rpc {

namespace {

// --- reading -------------------------------------------------------------------

class EventReader {
  public:
    explicit EventReader(std::string_view text) {
        yaml_parser_initialize(&parser_);
        yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                     text.size());
    }
    ~EventReader() {
        if (has_event_) yaml_event_delete(&event_);
        yaml_parser_delete(&parser_);
    }
    EventReader(const EventReader&) = delete;
    EventReader& operator=(const EventReader&) = delete;

    /// The next event; valid until the next call.
    const yaml_event_t& next() {
        if (has_event_) yaml_event_delete(&event_);
        has_event_ = false;
        if (yaml_parser_parse(&parser_, &event_) == 0) {
            throw YamlError("YAML line " + std::to_string(parser_.problem_mark.line + 1) + ": " +
                            (parser_.problem != nullptr ? parser_.problem : "unreadable"));
        }
        has_event_ = true;
        return event_;
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw YamlError("YAML line " + std::to_string(event_.start_mark.line + 1) + ": " + what);
    }

  private:
    yaml_parser_t parser_{};
    yaml_event_t event_{};
    bool has_event_ = false;
};

Json plain_scalar(const std::string& text) {
    // YAML 1.2 core schema.
    static const std::regex integer(R"([-+]?[0-9]+)");
    static const std::regex decimal(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
        return nullptr;
    }
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    if (std::regex_match(text, integer))
        return Json::parse(text.front() == '+' ? text.substr(1) : text);
    if (std::regex_match(text, decimal)) return std::stod(text);
    return text;
}

Json read_node(EventReader& reader, const yaml_event_t& event);

Json read_scalar(const yaml_event_t& event) {
    std::string text(reinterpret_cast<const char*>(event.data.scalar.value),
                     event.data.scalar.length);
    if (event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && event.data.scalar.tag == nullptr) {
        return plain_scalar(text);
    }
    return text;
}

Json read_node(EventReader& reader, const yaml_event_t& event) {
    switch (event.type) {
        case YAML_SCALAR_EVENT:
            return read_scalar(event);
        case YAML_SEQUENCE_START_EVENT: {
            Json out = Json::array();
            while (true) {
                const auto& item = reader.next();
                if (item.type == YAML_SEQUENCE_END_EVENT) return out;
                out.push_back(read_node(reader, item));
            }
        }
        case YAML_MAPPING_START_EVENT: {
            Json out = Json::object();
            while (true) {
                const auto& key_event = reader.next();
                if (key_event.type == YAML_MAPPING_END_EVENT) return out;
                if (key_event.type != YAML_SCALAR_EVENT) reader.fail("a key that is not a scalar");
                const std::string key(reinterpret_cast<const char*>(key_event.data.scalar.value),
                                      key_event.data.scalar.length);
                if (out.contains(key)) reader.fail("key '" + key + "' twice");
                out[key] = read_node(reader, reader.next());
            }
        }
        case YAML_ALIAS_EVENT:
            reader.fail("aliases are not read");
        default:
            reader.fail("unexpected YAML event");
    }
}

// --- writing -------------------------------------------------------------------

int append_output(void* data, unsigned char* buffer, size_t size) {
    static_cast<std::string*>(data)->append(reinterpret_cast<const char*>(buffer), size);
    return 1;
}

// Whether a plain `text` could read as something other than this string, in
// YAML 1.1 (PyYAML: yes/no/on/off, 0x.., 1_000, 12:30, dates) or 1.2. Errs on
// the side of quoting: anything that starts like a number.
bool needs_quotes(const std::string& text) {
    if (text.empty()) return true;
    if (std::string_view("0123456789+-.~=").find(text.front()) != std::string_view::npos) {
        return true;
    }
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static constexpr std::array<std::string_view, 10> kWords = {"true", "false", "yes", "no", "on",
                                                                "off",  "null",  "y",   "n",  "<<"};
    return std::find(kWords.begin(), kWords.end(), lower) != kWords.end();
}

bool multi_line(const Json& value) {
    return value.is_string() && value.get_ref<const std::string&>().find('\n') != std::string::npos;
}

// Short collections of scalars (and of such collections) read best on one line.
bool fits_flow(const Json& value, std::size_t& budget) {
    if (!value.is_structured()) {
        if (multi_line(value)) return false;
        const auto size = value.dump().size() + 2;
        if (size > budget) return false;
        budget -= size;
        return true;
    }
    for (const auto& [key, item] : value.items()) {
        if (key.size() + 2 > budget) return false;
        budget -= key.size() + 2;
        if (!fits_flow(item, budget)) return false;
    }
    return true;
}

class Emitter {
  public:
    Emitter() {
        yaml_emitter_initialize(&emitter_);
        yaml_emitter_set_output(&emitter_, append_output, &out_);
        yaml_emitter_set_unicode(&emitter_, 1);
        yaml_emitter_set_indent(&emitter_, 2);
        yaml_emitter_set_width(&emitter_, -1);  // never folds a line
    }
    ~Emitter() { yaml_emitter_delete(&emitter_); }
    Emitter(const Emitter&) = delete;
    Emitter& operator=(const Emitter&) = delete;

    std::string document(const Json& value) {
        yaml_event_t event;
        yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
        emit(event);
        yaml_document_start_event_initialize(&event, nullptr, nullptr, nullptr, 1);
        emit(event);
        node(value, false);
        yaml_document_end_event_initialize(&event, 1);
        emit(event);
        yaml_stream_end_event_initialize(&event);
        emit(event);
        return std::move(out_);
    }

  private:
    void emit(yaml_event_t& event) {
        if (yaml_emitter_emit(&emitter_, &event) == 0) {
            throw YamlError(std::string("YAML output: ") +
                            (emitter_.problem != nullptr ? emitter_.problem : "failed"));
        }
    }

    void scalar(const std::string& text, yaml_scalar_style_t style) {
        yaml_event_t event;
        yaml_scalar_event_initialize(&event, nullptr, nullptr,
                                     reinterpret_cast<const yaml_char_t*>(text.data()),
                                     static_cast<int>(text.size()), 1, 1, style);
        emit(event);
    }

    void string(const std::string& text, bool in_flow) {
        if (!in_flow && text.find('\n') != std::string::npos) {
            scalar(text, YAML_LITERAL_SCALAR_STYLE);
        } else {
            scalar(text,
                   needs_quotes(text) ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE);
        }
    }

    void node(const Json& value, bool in_flow) {
        yaml_event_t event;
        if (value.is_string()) return string(value.get_ref<const std::string&>(), in_flow);
        if (!value.is_structured()) return scalar(value.dump(), YAML_PLAIN_SCALAR_STYLE);
        std::size_t budget = 72;
        const bool flow = in_flow || value.empty() || fits_flow(value, budget);
        if (value.is_array()) {
            yaml_sequence_start_event_initialize(
                &event, nullptr, nullptr, 1,
                flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
            emit(event);
            for (const auto& item : value) node(item, flow);
            yaml_sequence_end_event_initialize(&event);
        } else {
            yaml_mapping_start_event_initialize(
                &event, nullptr, nullptr, 1,
                flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
            emit(event);
            for (const auto& [key, item] : value.items()) {
                string(key, true);
                node(item, flow);
            }
            yaml_mapping_end_event_initialize(&event);
        }
        emit(event);
    }

    yaml_emitter_t emitter_{};
    std::string out_;
};

}  // namespace

Json read_yaml(std::string_view text) {
    EventReader reader(text);
    if (reader.next().type != YAML_STREAM_START_EVENT) reader.fail("no YAML stream");
    const auto& start = reader.next();
    if (start.type == YAML_STREAM_END_EVENT) return nullptr;
    if (start.type != YAML_DOCUMENT_START_EVENT) reader.fail("no YAML document");
    Json value = read_node(reader, reader.next());
    if (reader.next().type != YAML_DOCUMENT_END_EVENT) reader.fail("more than one node");
    if (reader.next().type != YAML_STREAM_END_EVENT) reader.fail("more than one YAML document");
    return value;
}

std::string write_yaml(const Json& value) { return Emitter().document(value); }

}  // namespace srmi::rpc
