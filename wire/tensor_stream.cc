#include "wire/tensor_stream.h"

#include <algorithm>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/untrusted_text.h"
#include "wire/crc32c.h"

namespace biofed {

void DescribeTable(const TensorTable& table, TensorSpecList* specs) {
  for (size_t i = 0; i < table.size(); ++i) {
    const HostTensor& t = table[i];
    v1::TensorSpec* spec = specs->Add();
    spec->set_name(t.name);
    spec->set_dtype(static_cast<v1::DType>(t.dtype));
    for (int64_t d : t.shape) spec->add_shape(d);
    spec->set_role(static_cast<v1::TensorRole>(t.role));
  }
}

bool ForEachChunk(const TensorTable& table, size_t chunk_bytes, const ChunkSink& sink) {
  if (chunk_bytes == 0) chunk_bytes = kDefaultChunkBytes;
  for (size_t i = 0; i < table.size(); ++i) {
    const HostBytes& bytes = table[i].bytes;
    uint32_t crc = 0;
    for (size_t offset = 0; offset < bytes.size(); offset += chunk_bytes) {
      TensorChunk chunk;
      chunk.tensor_index = static_cast<uint32_t>(i);
      chunk.offset = offset;
      chunk.bytes = std::string_view(bytes.data() + offset, std::min(chunk_bytes, bytes.size() - offset));
      crc = Crc32c(chunk.bytes.data(), chunk.bytes.size(), crc);
      if (offset + chunk.bytes.size() == bytes.size()) chunk.tensor_crc = crc;
      if (!sink(chunk)) return false;
    }
  }
  return true;
}

void FillTensorData(const TensorChunk& chunk, v1::TensorData* data) {
  data->set_tensor_index(chunk.tensor_index);
  data->set_offset(chunk.offset);
  data->set_payload(chunk.bytes.data(), chunk.bytes.size());
  if (chunk.tensor_crc) {
    data->set_tensor_crc32c(*chunk.tensor_crc);
  } else {
    data->clear_tensor_crc32c();
  }
}

namespace {

// A tensor name from the other side, quoted, escaped and bounded.
std::string Quoted(const std::string& name) { return absl::StrCat("'", EscapedForLog(name), "'"); }

// The byte size `spec` declares: RESOURCE_EXHAUSTED above the per-tensor
// limit, INVALID_ARGUMENT for a dtype or shape that has no size.
absl::StatusOr<uint64_t> DeclaredBytes(const v1::TensorSpec& spec, const WireLimits& limits) {
  auto dtype = DTypeFromInt(spec.dtype());
  if (!dtype.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", Quoted(spec.name()), ": ", dtype.status().message()));
  }
  const std::vector<int64_t> shape(spec.shape().begin(), spec.shape().end());
  auto bytes = CheckedByteCount(shape, *dtype, limits.max_tensor_bytes);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat("tensor ", Quoted(spec.name()), ": ", bytes.status().message()));
  }
  return *bytes;
}

// RESOURCE_EXHAUSTED when the declarations exceed a limit, whatever else is
// wrong with them: the sizes of all `declared` tensors.
absl::StatusOr<std::vector<uint64_t>> CheckSizes(const TensorSpecList& declared, const WireLimits& limits) {
  if (static_cast<size_t>(declared.size()) > limits.max_tensors) {
    return absl::ResourceExhaustedError(
        absl::StrCat(declared.size(), " tensors declared, the limit is ", limits.max_tensors));
  }
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (const v1::TensorSpec& spec : declared) {
    BIOFED_ASSIGN_OR_RETURN(const uint64_t bytes, DeclaredBytes(spec, limits));
    total += bytes;  // at most 4096 tensors of at most max_tensor_bytes each
    if (total > limits.max_total_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("declared tensors exceed the total size limit of ", limits.max_total_bytes, " bytes"));
    }
    sizes.push_back(bytes);
  }
  return sizes;
}

// INVALID_ARGUMENT naming the first difference between `t` and `schema`.
absl::Status CheckAgainstSchema(const HostTensor& t, const TensorTable& schema) {
  const HostTensor* want = FindTensor(schema, t.name);
  if (want == nullptr) return absl::InvalidArgumentError(absl::StrCat("unexpected tensor ", Quoted(t.name)));
  if (want->dtype != t.dtype) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", Quoted(t.name), " has dtype ", DTypeName(t.dtype),
                                                   ", expected ", DTypeName(want->dtype)));
  }
  if (want->shape != t.shape) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", Quoted(t.name), " has shape ",
                                                   EscapedForLog(ShapeString(t.shape)), ", expected ",
                                                   ShapeString(want->shape)));
  }
  if (want->role != t.role) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", Quoted(t.name), " has the wrong role"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TableAssembler> TableAssembler::Start(const TensorSpecList& declared, const TensorTable* schema,
                                                     const WireLimits& limits) {
  // The limits first, so an oversized update is RESOURCE_EXHAUSTED even when
  // its shapes differ from the schema too.
  BIOFED_ASSIGN_OR_RETURN(const std::vector<uint64_t> sizes, CheckSizes(declared, limits));
  TableAssembler a;
  std::unordered_set<std::string> names;
  for (int i = 0; i < declared.size(); ++i) {
    const v1::TensorSpec& spec = declared[i];
    HostTensor t;
    t.name = spec.name();
    if (!names.insert(t.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", Quoted(t.name), " declared twice"));
    }
    auto role = TensorRoleFromInt(spec.role());
    if (!role.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", Quoted(t.name), ": ", role.status().message()));
    }
    t.dtype = *DTypeFromInt(spec.dtype());  // CheckSizes parsed it
    t.role = *role;
    t.shape.assign(spec.shape().begin(), spec.shape().end());
    if (schema != nullptr) BIOFED_RETURN_IF_ERROR(CheckAgainstSchema(t, *schema));
    t.bytes.ResizeUninitialized(sizes[i]);  // every byte is written before Finish succeeds
    a.table_.push_back(std::move(t));
    a.progress_.emplace_back();
  }
  if (schema != nullptr) {
    for (const HostTensor& want : *schema) {
      if (names.count(want.name) == 0) {
        return absl::InvalidArgumentError(absl::StrCat("missing tensor ", Quoted(want.name)));
      }
    }
  }
  return a;
}

// Small enough that a block just checksummed is still in L2 when it is
// copied.
constexpr size_t kCopyBlockBytes = size_t{64} << 10;

void TableAssembler::Copy(HostTensor& t, Progress& p, const char* data, size_t size) {
  const bool floating = t.dtype == DType::kFloat32 || t.dtype == DType::kFloat64;
  const uint64_t value_bytes = floating ? DTypeSize(t.dtype) : 1;
  while (size > 0) {
    const size_t n = std::min(size, kCopyBlockBytes);
    const uint64_t begin = p.received;
    const uint64_t end = begin + n;
    // The checksum reads the source block; the copy then finds it in cache,
    // tests each value on its way and writes the tensor without reading it
    // first.
    p.crc = Crc32c(data, n, p.crc);
    if (p.finite) {
      p.finite = CopyFiniteBypassingCache(t.dtype, begin, t.bytes.data() + begin, data, n);
    } else {
      CopyBypassingCache(t.bytes.data() + begin, data, n);
    }
    // A value split between the previous block and this one.
    const uint64_t split = begin / value_bytes * value_bytes;
    if (p.finite && split < begin && split + value_bytes <= end) {
      p.finite = FiniteValues(t.dtype, t.bytes.data() + split, value_bytes);
    }
    p.received = end;
    data += n;
    size -= n;
  }
}

absl::Status TableAssembler::Add(uint32_t index, uint64_t offset, absl::Span<const std::string_view> pieces,
                                 std::optional<uint32_t> tensor_crc) {
  if (index >= table_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("chunk for tensor index ", index, " of ", table_.size()));
  }
  HostTensor& t = table_[index];
  Progress& p = progress_[index];
  if (offset != p.received) {
    return absl::InvalidArgumentError(absl::StrCat("chunk of tensor ", Quoted(t.name), " at offset ", offset,
                                                   ", expected offset ", p.received));
  }
  uint64_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  if (size > t.bytes.size() - offset) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", Quoted(t.name), " gets more bytes than its declared ",
                                                   t.bytes.size()));
  }
  for (std::string_view piece : pieces) Copy(t, p, piece.data(), piece.size());
  bytes_received_ += size;
  if (p.received < t.bytes.size()) {
    if (tensor_crc) {
      return absl::InvalidArgumentError(
          absl::StrCat("a checksum on a chunk that does not end tensor ", Quoted(t.name)));
    }
  } else if (!tensor_crc) {
    return absl::DataLossError(absl::StrCat("tensor ", Quoted(t.name), " ended without its checksum"));
  } else if (*tensor_crc != p.crc) {
    return absl::DataLossError(absl::StrCat("checksum mismatch in tensor ", Quoted(t.name)));
  }
  return absl::OkStatus();
}

absl::StatusOr<TensorTable> TableAssembler::Finish(bool require_finite) {
  for (size_t i = 0; i < table_.size(); ++i) {
    const HostTensor& t = table_[i];
    const Progress& p = progress_[i];
    if (p.received != t.bytes.size()) {
      return absl::DataLossError(absl::StrCat("truncated: tensor ", Quoted(t.name), " has ", p.received, " of ",
                                              t.bytes.size(), " bytes"));
    }
  }
  if (require_finite) {
    for (size_t i = 0; i < table_.size(); ++i) {
      if (!progress_[i].finite) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor ", Quoted(table_[i].name), " holds a NaN or infinite value"));
      }
    }
  }
  return std::move(table_);
}

TensorTable UpdateSchema(const TensorTable& model) {
  TensorTable schema;
  for (const HostTensor& t : model) {
    if (t.dtype != DType::kFloat32 && t.dtype != DType::kFloat64) continue;
    HostTensor s;
    s.name = t.name;
    s.dtype = t.dtype;
    s.shape = t.shape;
    s.role = t.role;
    schema.push_back(std::move(s));
  }
  return schema;
}

}  // namespace biofed
