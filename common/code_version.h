// The version of the code a result came from, recorded with every study.
#ifndef BIOFED_COMMON_CODE_VERSION_H_
#define BIOFED_COMMON_CODE_VERSION_H_

#include <string>

namespace biofed {

// The code version of this binary's build: "0.x.y-<git describe>", with
// "+dirty" when tracked files differed from the commit at build time;
// "0.x.y-unknown" outside a git checkout.
std::string CodeVersion();

}  // namespace biofed

#endif  // BIOFED_COMMON_CODE_VERSION_H_
