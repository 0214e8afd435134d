#include "frontend/io_json.h"

#include <cctype>
#include <cstdint>

namespace kiln::io::detail {

namespace {

// Nesting deeper than this is refused, so that a hostile header cannot
// exhaust the stack (safetensors headers nest three deep).
constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  bool document(Json* out, std::string* error) {
    if (!value(out, 0)) {
      *error = error_ + " at byte " + std::to_string(i_);
      return false;
    }
    space();
    if (i_ != s_.size()) {
      *error = "trailing characters at byte " + std::to_string(i_);
      return false;
    }
    return true;
  }

 private:
  bool bad(const char* why) {
    error_ = why;
    return false;
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool literal(const char* word) {
    size_t n = std::char_traits<char>::length(word);
    if (s_.compare(i_, n, word) != 0) return bad("unexpected token");
    i_ += n;
    return true;
  }

  bool value(Json* out, int depth) {
    if (depth > kMaxDepth) return bad("nesting too deep");
    space();
    if (i_ >= s_.size()) return bad("unexpected end");
    char c = s_[i_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      out->kind = Json::Kind::string;
      return string(&out->text);
    }
    if (c == 't') return out->kind = Json::Kind::boolean, out->boolean = true, literal("true");
    if (c == 'f') return out->kind = Json::Kind::boolean, out->boolean = false, literal("false");
    if (c == 'n') return out->kind = Json::Kind::null, literal("null");
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return number(out);
    return bad("unexpected character");
  }

  bool object(Json* out, int depth) {
    out->kind = Json::Kind::object;
    ++i_;
    space();
    if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
    while (true) {
      space();
      if (i_ >= s_.size() || s_[i_] != '"') return bad("expected a member name");
      std::string key;
      if (!string(&key)) return false;
      space();
      if (i_ >= s_.size() || s_[i_] != ':') return bad("expected ':'");
      ++i_;
      Json v;
      if (!value(&v, depth + 1)) return false;
      out->members.push_back({std::move(key), std::move(v)});
      space();
      if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      return bad("expected ',' or '}'");
    }
  }

  bool array(Json* out, int depth) {
    out->kind = Json::Kind::array;
    ++i_;
    space();
    if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
    while (true) {
      Json v;
      if (!value(&v, depth + 1)) return false;
      out->items.push_back(std::move(v));
      space();
      if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      return bad("expected ',' or ']'");
    }
  }

  bool number(Json* out) {
    out->kind = Json::Kind::number;
    size_t start = i_;
    if (s_[i_] == '-') ++i_;
    auto digits = [&] {
      size_t d = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      return i_ > d;
    };
    if (!digits()) return bad("bad number");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return bad("bad number");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return bad("bad number");
    }
    out->text = s_.substr(start, i_ - start);
    return true;
  }

  bool hex4(uint32_t* v) {
    if (i_ + 4 > s_.size()) return bad("short \\u escape");
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : (c >= 'a' && c <= 'f')                     ? c - 'a' + 10
              : (c >= 'A' && c <= 'F')                     ? c - 'A' + 10
                                                           : -1;
      if (d < 0) return bad("bad \\u escape");
      *v = *v * 16 + uint32_t(d);
    }
    return true;
  }

  static void utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += char(cp);
    } else if (cp < 0x800) {
      *out += char(0xc0 | (cp >> 6));
      *out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      *out += char(0xe0 | (cp >> 12));
      *out += char(0x80 | ((cp >> 6) & 0x3f));
      *out += char(0x80 | (cp & 0x3f));
    } else {
      *out += char(0xf0 | (cp >> 18));
      *out += char(0x80 | ((cp >> 12) & 0x3f));
      *out += char(0x80 | ((cp >> 6) & 0x3f));
      *out += char(0x80 | (cp & 0x3f));
    }
  }

  bool string(std::string* out) {
    ++i_;  // the opening quote
    while (true) {
      if (i_ >= s_.size()) return bad("unterminated string");
      char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return bad("control character in string");
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (i_ >= s_.size()) return bad("unterminated string");
      char e = s_[i_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00) {  // a high surrogate: its pair follows
            uint32_t lo;
            if (s_.compare(i_, 2, "\\u") != 0) return bad("unpaired surrogate");
            i_ += 2;
            if (!hex4(&lo)) return false;
            if (lo < 0xdc00 || lo >= 0xe000) return bad("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            return bad("unpaired surrogate");
          }
          utf8(cp, out);
          break;
        }
        default: return bad("bad escape");
      }
    }
  }

  const std::string& s_;
  size_t i_ = 0;
  std::string error_;
};

}  // namespace

bool parse_json(const std::string& text, Json* out, std::string* error) {
  return Parser(text).document(out, error);
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace kiln::io::detail
