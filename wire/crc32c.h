// CRC-32C (Castagnoli), the per-tensor checksum of the wire format. Two
// engines give the same value: the SSE4.2 crc32 instruction on three
// interleaved streams (about 18 GB/s in cache on the dev VM, 7.5 from
// memory) and a table (0.36 GB/s); Crc32c uses the instruction when the
// CPU has it. Thread-safe.
#ifndef BIOFED_WIRE_CRC32C_H_
#define BIOFED_WIRE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace biofed {

// Extends `crc` (0 to start) over `size` bytes at `data`.
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

enum class Crc32cEngine { kTable, kInstruction };

// Whether this CPU can run `engine` (kTable: always).
bool Crc32cEngineAvailable(Crc32cEngine engine);

// Crc32c computed by `engine`, or by the table when the CPU lacks it: for
// tests and benchmarks of each engine.
uint32_t Crc32cUsing(Crc32cEngine engine, const void* data, size_t size, uint32_t crc);

}  // namespace biofed

#endif  // BIOFED_WIRE_CRC32C_H_
