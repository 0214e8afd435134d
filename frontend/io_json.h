#pragma once
// A small JSON reader and string writer for safetensors headers
// (frontend/io_safetensors.cpp). Internal to frontend/.
#include <string>
#include <utility>
#include <vector>

namespace kiln::io::detail {

struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  // An object's (name, value); a struct rather than std::pair, which needs
  // Json complete here (clang with libstdc++ rejects the pair).
  struct Member;
  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;  // a string's value, or a number's digits as written
  std::vector<Json> items;      // array
  std::vector<Member> members;  // object, in order
};

struct Json::Member {
  std::string first;
  Json second;
};

// Parses `text` (the whole of it, up to trailing white space). On bad
// input returns false with `error` saying what and where.
bool parse_json(const std::string& text, Json* out, std::string* error);

// `s` as a quoted JSON string.
std::string json_quote(const std::string& s);

}  // namespace kiln::io::detail
