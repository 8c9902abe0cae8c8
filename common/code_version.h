// The version of the code a result came from, recorded with every study.
#ifndef BIOFED_COMMON_CODE_VERSION_H_
#define BIOFED_COMMON_CODE_VERSION_H_

#include <string>

namespace biofed {

// The build's code version ("0.x.y-<git commit>", "+dirty" when the tree was
// modified at configure time), or "unknown".
std::string CodeVersion();

}  // namespace biofed

#endif  // BIOFED_COMMON_CODE_VERSION_H_
