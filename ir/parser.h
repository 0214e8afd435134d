#pragma once
#include <stdexcept>
#include <string>

#include "ir/function.h"

namespace kiln::ir {

// Thrown for text that is not a well-formed function. what() reads
// "<line>:<column>: <problem>" (1-based).
class ParseError : public std::invalid_argument {
 public:
  ParseError(int line, int column, const std::string& msg);
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  int line_, column_;
};

// Parses one function in the text form printed by print(). The result is
// verified (see verifier.h); a verification failure is reported as a
// ParseError at the offending op's line.
Function parse(const std::string& text);

}  // namespace kiln::ir
