// Process-wide allocator tuning for programs that move large tensors
// around repeatedly (the federation server, simulations, benchmarks).
#ifndef BIOFED_COMMON_MEMORY_H_
#define BIOFED_COMMON_MEMORY_H_

namespace biofed {

// glibc serves blocks above 128 KiB-32 MiB with fresh mmap()s and returns
// them on free(), so every round's 40 MB update buffers page-fault and are
// zeroed by the kernel again. Threads other than the main one allocate from
// arenas of their own, whose 64 MiB heaps are unmapped as soon as they
// empty: the server's receive and aggregation threads hit that on every few
// rounds (one 40 MB buffer = 9766 page faults, 35 ms). This keeps freed
// large blocks in the one main heap for reuse (the peak footprint is
// unchanged). Threads then share the heap's lock: the sweep CLI test (two
// cells training and attacking in parallel) took 68.1 s with it and 68.0 s
// without. Call once, early, in main().
void KeepLargeAllocations();

}  // namespace biofed

#endif  // BIOFED_COMMON_MEMORY_H_
