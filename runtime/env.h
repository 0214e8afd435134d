#pragma once
// kiln's environment variables (KILN_*), read and checked in one way: a
// value that is not valid is never used as it is. It is ignored, with one
// warning on stderr per variable and value ("kiln: warning: ignoring
// KILN_NUM_THREADS=99999999999: expected an integer from 1 to 16; using
// 2"), and the default applies. An unset or empty variable means the
// default, silently.
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::runtime {

// The value of `name`, or "" when it is unset.
std::string env_string(const char* name);

// The decimal integer in `name` if it lies in [min, max]; else `fallback`.
int64_t env_int(const char* name, int64_t fallback, int64_t min, int64_t max);

// The value of `name` if it is one of `choices` (exactly); else `fallback`.
std::string env_choice(const char* name, const std::string& fallback, const std::vector<std::string>& choices);

// Prints "kiln: warning: ignoring NAME=VALUE: WHY" to stderr, the first time
// for this variable and value only.
void env_warn_once(const char* name, const std::string& value, const std::string& why);

}  // namespace kiln::runtime
