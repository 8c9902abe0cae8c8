// Process-wide allocator tuning for programs that move large tensors
// around repeatedly (the federation server, simulations, benchmarks).
#ifndef BIOFED_COMMON_MEMORY_H_
#define BIOFED_COMMON_MEMORY_H_

namespace biofed {

// glibc serves blocks above 128 KiB-32 MiB with fresh mmap()s and returns
// them on free(), so every round's 40 MB update buffers page-fault and are
// zeroed by the kernel again. This keeps freed large blocks in the heap for
// reuse (the peak footprint is unchanged). Call once, early, in main().
void KeepLargeAllocations();

}  // namespace biofed

#endif  // BIOFED_COMMON_MEMORY_H_
