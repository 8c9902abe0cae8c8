#include "common/memory.h"

#include <malloc.h>

namespace biofed {

void KeepLargeAllocations() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1 << 30);  // heap, not mmap, for blocks below 1 GiB
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // do not hand freed memory back at once
#endif
}

}  // namespace biofed
