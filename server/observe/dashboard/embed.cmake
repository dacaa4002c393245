# Turns the dashboard page into a C++ header, at build time:
#   cmake -DINPUT=index.html -DOUTPUT=dashboard_page.h -P embed.cmake
# The header holds the page as a raw string literal and the CSP source
# expressions ('sha256-...') of its one inline <style> and one inline <script>,
# so the Content-Security-Policy allows exactly those and nothing else inline.
cmake_minimum_required(VERSION 3.25)

if(NOT INPUT OR NOT OUTPUT)
  message(FATAL_ERROR "usage: cmake -DINPUT=page.html -DOUTPUT=header.h -P embed.cmake")
endif()

file(READ "${INPUT}" page)
string(FIND "${page}" "\r" carriage_return)
if(NOT carriage_return EQUAL -1)
  # Browsers hash the text after turning CRLF into LF; the hash would not match.
  message(FATAL_ERROR "${INPUT}: use LF line endings")
endif()

# The text between <tag> and </tag>, which must appear exactly once.
function(inline_block tag out)
  string(FIND "${page}" "<${tag}>" open)
  string(FIND "${page}" "<${tag}>" last_open REVERSE)
  string(FIND "${page}" "</${tag}>" close)
  string(FIND "${page}" "</${tag}>" last_close REVERSE)
  if(open EQUAL -1 OR close EQUAL -1 OR NOT open EQUAL last_open OR NOT close EQUAL last_close)
    message(FATAL_ERROR "${INPUT}: expected exactly one <${tag}> ... </${tag}>, without attributes")
  endif()
  string(LENGTH "<${tag}>" open_length)
  math(EXPR begin "${open} + ${open_length}")
  math(EXPR length "${close} - ${begin}")
  string(SUBSTRING "${page}" ${begin} ${length} block)
  set(${out} "${block}" PARENT_SCOPE)
endfunction()

# 'sha256-<base64 of the digest>' for `text`.
function(csp_hash text out)
  string(SHA256 hex "${text}")
  set(alphabet "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
  string(LENGTH "${hex}" hex_length)
  set(encoded "")
  set(at 0)
  while(at LESS hex_length)
    math(EXPR left "${hex_length} - ${at}")
    if(left GREATER 6)
      set(left 6)
    endif()
    string(SUBSTRING "${hex}" ${at} ${left} chunk)  # up to 3 bytes
    math(EXPR bytes "${left} / 2")
    while(left LESS 6)
      string(APPEND chunk "0")
      math(EXPR left "${left} + 1")
    endwhile()
    math(EXPR value "0x${chunk}")
    math(EXPR chars "${bytes} + 1")
    set(written 0)
    foreach(shift 18 12 6 0)
      if(written LESS chars)
        math(EXPR index "(${value} >> ${shift}) & 63")
        string(SUBSTRING "${alphabet}" ${index} 1 char)
        string(APPEND encoded "${char}")
      else()
        string(APPEND encoded "=")
      endif()
      math(EXPR written "${written} + 1")
    endforeach()
    math(EXPR at "${at} + 6")
  endwhile()
  set(${out} "sha256-${encoded}" PARENT_SCOPE)
endfunction()

inline_block(style style_text)
inline_block(script script_text)
csp_hash("${style_text}" style_hash)
csp_hash("${script_text}" script_hash)

set(delimiter "srmi_dashboard")
string(FIND "${page}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT}: contains the raw string delimiter )${delimiter}\"")
endif()

file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by embed.cmake; do not edit.
#pragma once

#include <string_view>

namespace srmi::server::generated {

inline constexpr std::string_view kDashboardHtml = R\"${delimiter}(${page})${delimiter}\";
inline constexpr std::string_view kDashboardStyleHash = \"${style_hash}\";
inline constexpr std::string_view kDashboardScriptHash = \"${script_hash}\";

}  // namespace srmi::server::generated
")
