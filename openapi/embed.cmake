# Turns openapi/pages.yaml (the hand-written part of the API description) into
# a C++ header, at build time, for `srmi openapi`:
#   cmake -DINPUT=pages.yaml -DOUTPUT=openapi_pages.h -P embed.cmake
cmake_minimum_required(VERSION 3.25)

if(NOT INPUT OR NOT OUTPUT)
  message(FATAL_ERROR "usage: cmake -DINPUT=pages.yaml -DOUTPUT=header.h -P embed.cmake")
endif()

file(READ "${INPUT}" text)
set(delimiter "srmi_openapi")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT}: contains the raw string delimiter )${delimiter}\"")
endif()

# Compilers need not take string literals past 64 KiB (clang warns, and with
# -Werror fails), so the text is cut into parts of at most 30 000 bytes,
# joined again when the header's function is called.
string(LENGTH "${text}" length)
set(parts "")
set(begin 0)
while(begin LESS length)
  string(SUBSTRING "${text}" ${begin} 30000 part)
  string(APPEND parts "    R\"${delimiter}(${part})${delimiter}\",\n")
  math(EXPR begin "${begin} + 30000")
endwhile()

file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by embed.cmake; do not edit.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace srmi::generated {

inline constexpr std::string_view kOpenapiPagesParts[] = {
${parts}};

/// The whole of ${INPUT}.
inline std::string openapi_pages() {
    std::string text;
    for (std::string_view part : kOpenapiPagesParts) text += part;
    return text;
}

}  // namespace srmi::generated
")
