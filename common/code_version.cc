#include "common/code_version.h"

// BIOFED_CODE_VERSION, written at build time by common/code_version.cmake.
#include "code_version.inc"

namespace biofed {

std::string CodeVersion() { return BIOFED_CODE_VERSION; }

}  // namespace biofed
