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

file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by embed.cmake; do not edit.
#pragma once

#include <string_view>

namespace srmi::generated {

inline constexpr std::string_view kOpenapiPages = R\"${delimiter}(${text})${delimiter}\";

}  // namespace srmi::generated
")
