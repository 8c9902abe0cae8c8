#include "wire/tensor_stream.h"

#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "wire/crc32c.h"

namespace biofed {

void DescribeTable(const TensorTable& table, TensorSpecList* specs) {
  for (const HostTensor& t : table) {
    v1::TensorSpec* spec = specs->Add();
    spec->set_name(t.name);
    spec->set_dtype(static_cast<v1::DType>(t.dtype));
    for (int64_t d : t.shape) spec->add_shape(d);
    spec->set_role(static_cast<v1::TensorRole>(t.role));
    spec->set_crc32c(Crc32c(t.bytes.data(), t.bytes.size()));
  }
}

bool ForEachChunk(const TensorTable& table, size_t chunk_bytes, const ChunkSink& sink) {
  if (chunk_bytes == 0) chunk_bytes = kDefaultChunkBytes;
  for (size_t i = 0; i < table.size(); ++i) {
    const std::string& bytes = table[i].bytes;
    for (size_t offset = 0; offset < bytes.size(); offset += chunk_bytes) {
      const size_t n = std::min(chunk_bytes, bytes.size() - offset);
      if (!sink(static_cast<uint32_t>(i), offset, std::string_view(bytes.data() + offset, n))) return false;
    }
  }
  return true;
}

void FillTensorData(uint32_t tensor_index, uint64_t offset, std::string_view bytes, v1::TensorData* data) {
  data->set_tensor_index(tensor_index);
  data->set_offset(offset);
  data->set_payload(bytes.data(), bytes.size());
}

absl::StatusOr<TableAssembler> TableAssembler::Start(const TensorSpecList& declared, const TensorTable* schema,
                                                     const WireLimits& limits) {
  if (static_cast<size_t>(declared.size()) > limits.max_tensors) {
    return absl::ResourceExhaustedError(
        absl::StrCat(declared.size(), " tensors declared, the limit is ", limits.max_tensors));
  }
  TableAssembler a;
  std::unordered_set<std::string> names;
  uint64_t total = 0;
  for (const v1::TensorSpec& spec : declared) {
    HostTensor t;
    t.name = spec.name();
    if (!names.insert(t.name).second) return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' declared twice"));
    auto dtype = DTypeFromInt(spec.dtype());
    if (!dtype.ok()) return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "': ", dtype.status().message()));
    auto role = TensorRoleFromInt(spec.role());
    if (!role.ok()) return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "': ", role.status().message()));
    t.dtype = *dtype;
    t.role = *role;
    t.shape.assign(spec.shape().begin(), spec.shape().end());
    auto bytes = CheckedByteCount(t.shape, t.dtype, limits.max_tensor_bytes);
    if (!bytes.ok()) return absl::Status(bytes.status().code(), absl::StrCat("tensor '", t.name, "': ", bytes.status().message()));
    total += *bytes;
    if (total > limits.max_total_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("declared tensors exceed the total size limit of ", limits.max_total_bytes, " bytes"));
    }
    if (schema != nullptr) {
      const HostTensor* want = FindTensor(*schema, t.name);
      if (want == nullptr) return absl::InvalidArgumentError(absl::StrCat("unexpected tensor '", t.name, "'"));
      if (want->dtype != t.dtype) {
        return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' has dtype ", DTypeName(t.dtype),
                                                       ", expected ", DTypeName(want->dtype)));
      }
      if (want->shape != t.shape) {
        return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' has shape ", ShapeString(t.shape),
                                                       ", expected ", ShapeString(want->shape)));
      }
      if (want->role != t.role) {
        return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' has the wrong role"));
      }
    }
    t.bytes.resize(*bytes);
    a.table_.push_back(std::move(t));
    a.checksums_.push_back(spec.crc32c());
  }
  if (schema != nullptr) {
    for (const HostTensor& want : *schema) {
      if (names.count(want.name) == 0) return absl::InvalidArgumentError(absl::StrCat("missing tensor '", want.name, "'"));
    }
  }
  a.received_.assign(a.table_.size(), 0);
  return a;
}

absl::Status TableAssembler::Add(uint32_t index, uint64_t offset, std::string_view payload) {
  if (index >= table_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("chunk for tensor index ", index, " of ", table_.size()));
  }
  HostTensor& t = table_[index];
  if (offset != received_[index]) {
    return absl::InvalidArgumentError(absl::StrCat("chunk of tensor '", t.name, "' at offset ", offset,
                                                   ", expected offset ", received_[index]));
  }
  if (payload.size() > t.bytes.size() - offset) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' gets more bytes than its declared ",
                                                   t.bytes.size()));
  }
  if (!payload.empty()) std::memcpy(t.bytes.data() + offset, payload.data(), payload.size());
  received_[index] += payload.size();
  bytes_received_ += payload.size();
  return absl::OkStatus();
}

absl::StatusOr<TensorTable> TableAssembler::Finish(bool require_finite) {
  for (size_t i = 0; i < table_.size(); ++i) {
    const HostTensor& t = table_[i];
    if (received_[i] != t.bytes.size()) {
      return absl::DataLossError(absl::StrCat("truncated: tensor '", t.name, "' has ", received_[i], " of ",
                                              t.bytes.size(), " bytes"));
    }
    if (Crc32c(t.bytes.data(), t.bytes.size()) != checksums_[i]) {
      return absl::DataLossError(absl::StrCat("checksum mismatch in tensor '", t.name, "'"));
    }
  }
  std::string bad;
  if (require_finite && !AllFinite(table_, &bad)) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", bad, "' holds a NaN or infinite value"));
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
