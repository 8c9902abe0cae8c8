#include "common/code_version.h"

namespace biofed {

std::string CodeVersion() {
#ifdef BIOFED_CODE_VERSION
  return BIOFED_CODE_VERSION;
#else
  return "unknown";
#endif
}

}  // namespace biofed
