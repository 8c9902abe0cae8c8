#include "common/memory.h"

#include <malloc.h>

namespace biofed {

void KeepLargeAllocations() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1 << 30);  // heap, not mmap, for blocks below 1 GiB
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // do not hand freed memory back at once
  // One arena for all threads: a thread's own arena lives in 64 MiB heaps
  // that glibc unmaps as soon as they empty, whatever the thresholds say.
  mallopt(M_ARENA_MAX, 1);
#endif
}

}  // namespace biofed
