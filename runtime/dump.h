#pragma once
// Debug dumps of each compilation stage, selected by the environment:
//   KILN_DUMP=ir,passes,fusion,llvm,asm,opencl (or "all") prints them to stderr
//                                          (a list with another name is
//                                          ignored, with a warning);
//   KILN_DUMP_DIR=dir                      writes each to its own file in
//                                          dir instead (created if needed;
//                                          stderr, with a warning, if not).
#include <string>

namespace kiln::runtime {

bool dump_enabled(const std::string& stage);
// Emits `text` for `stage` ("ir", "fusion", ...); `name` tells the file
// apart (e.g. the kernel's name). A no-op unless the stage is enabled.
void dump(const std::string& stage, const std::string& name, const std::string& text);

}  // namespace kiln::runtime
