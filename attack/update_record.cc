#include "attack/update_record.h"

#include <zlib.h>

#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/json_value.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

constexpr char kMagic[8] = {'B', 'I', 'O', 'F', 'E', 'D', 'U', 'R'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kMaxHeader = 64ull << 20;
constexpr int64_t kMaxDims = 8;

using Json = nlohmann::json;

uint32_t Crc(const char* data, size_t n) {
  return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(n)));
}

template <typename T>
void AppendLe(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}

template <typename T>
T ReadLe(const std::string& in, size_t offset) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[offset + i])) << (8 * i);
  return static_cast<T>(v);
}

class TensorWriter {
 public:
  Json Add(const std::string& name, const torch::Tensor& t_in) {
    const torch::Tensor t = t_in.detach().to(torch::kCPU).contiguous();
    TORCH_CHECK(t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kLong,
                "capture tensors are float32 or int64, '", name, "' is ", t.scalar_type());
    const size_t nbytes = t.numel() * t.element_size();
    const size_t offset = data_.size();
    data_.append(static_cast<const char*>(t.data_ptr()), nbytes);  // x86-64: little-endian
    return {{"name", name},
            {"dtype", t.scalar_type() == torch::kFloat ? "float32" : "int64"},
            {"shape", t.sizes().vec()},
            {"offset", offset},
            {"nbytes", nbytes},
            {"crc32", Crc(data_.data() + offset, nbytes)}};
  }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

Json SpecJson(const ModelSpec& s) { return Json::parse(ModelSpecToJson(s)); }

absl::StatusOr<torch::Tensor> DecodeTensor(const Json& entry, const std::string& data,
                                           const std::string& source) {
  const std::string name = JsonAs<std::string>(entry.at("name"));
  const std::string dtype = JsonAs<std::string>(entry.at("dtype"));
  const auto shape = JsonAs<std::vector<int64_t>>(entry.at("shape"));
  const auto offset = JsonAs<uint64_t>(entry.at("offset"));
  const auto nbytes = JsonAs<uint64_t>(entry.at("nbytes"));
  const auto crc = JsonAs<uint32_t>(entry.at("crc32"));
  auto bad = [&](const std::string& what) {
    return absl::DataLossError(absl::StrCat(source, ": tensor '", name, "': ", what));
  };
  if (dtype != "float32" && dtype != "int64") return bad("unknown dtype " + dtype);
  if (static_cast<int64_t>(shape.size()) > kMaxDims) return bad("too many dimensions");
  uint64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0 || d > (int64_t{1} << 40)) return bad("bad dimension");
    numel *= static_cast<uint64_t>(d);
    if (numel > (uint64_t{1} << 40)) return bad("too many elements");
  }
  const uint64_t element = dtype == "float32" ? 4 : 8;
  if (numel * element != nbytes) return bad("byte count does not match shape");
  if (offset > data.size() || nbytes > data.size() - offset) return bad("extends past the end of the file");
  if (Crc(data.data() + offset, nbytes) != crc) return bad("checksum mismatch");
  torch::Tensor t = torch::empty(shape, dtype == "float32" ? torch::kFloat : torch::kLong);
  std::memcpy(t.data_ptr(), data.data() + offset, nbytes);
  return t;
}

absl::StatusOr<std::vector<NamedTensor>> DecodeGroup(const Json& header, const std::string& group,
                                                     const std::string& data, const std::string& source) {
  std::vector<NamedTensor> out;
  std::set<std::string> seen;
  for (const Json& entry : header.at("tensors")) {
    const std::string full = JsonAs<std::string>(entry.at("name"));
    if (full.rfind(group + "/", 0) != 0) continue;
    if (!seen.insert(full).second) {
      return absl::DataLossError(absl::StrCat(source, ": tensor '", full, "' appears twice"));
    }
    BIOFED_ASSIGN_OR_RETURN(torch::Tensor t, DecodeTensor(entry, data, source));
    out.push_back({full.substr(group.size() + 1), t});
  }
  return out;
}

absl::StatusOr<CaptureFile> DecodeHeader(const Json& h, const std::string& data, const std::string& source) {
  CaptureFile capture;
  UpdateRecord& r = capture.record;
  const Json& spec = h.at("spec");
  auto parsed_spec = ModelSpecFromJson(spec.dump());
  if (!parsed_spec.ok()) return absl::DataLossError(absl::StrCat(source, ": ", parsed_spec.status().message()));
  r.spec = *parsed_spec;
  auto kind = ParseSharedKind(JsonAs<std::string>(h.at("kind")));
  if (!kind.ok()) return absl::DataLossError(absl::StrCat(source, ": ", kind.status().message()));
  r.kind = *kind;
  r.lr = JsonAs<double>(h.at("lr"));
  r.local_steps = JsonAs<int64_t>(h.at("local_steps"));
  r.batch_size = JsonAs<int64_t>(h.at("batch_size"));
  r.num_examples = JsonAs<int64_t>(h.at("num_examples"));
  r.batchnorm_train_mode = JsonAs<bool>(h.at("batchnorm_train_mode"));
  r.norm.mean = JsonAs<std::vector<double>>(h.at("norm_mean"));
  r.norm.std = JsonAs<std::vector<double>>(h.at("norm_std"));
  r.dataset = JsonAs<std::string>(h.at("dataset"));
  r.round = JsonAs<int64_t>(h.at("round"));
  // Captures written before federation client ids were names hold a number.
  const Json& client_id = h.at("client_id");
  r.client_id = client_id.is_string() ? JsonAs<std::string>(client_id) : std::to_string(JsonAs<int64_t>(client_id));
  if (h.contains("clients")) r.clients = JsonAs<int64_t>(h.at("clients"));
  if (!(r.lr > 0) || r.local_steps < 1 || r.batch_size < 1 || r.num_examples < 1 || r.clients < 1 ||
      static_cast<int64_t>(r.norm.mean.size()) != r.spec.input.channels ||
      r.norm.std.size() != r.norm.mean.size()) {
    return absl::DataLossError(absl::StrCat(source, ": inconsistent metadata"));
  }
  for (double s : r.norm.std) {
    if (!(s > 0)) return absl::DataLossError(absl::StrCat(source, ": normalisation std must be > 0"));
  }
  BIOFED_ASSIGN_OR_RETURN(r.global_state, DecodeGroup(h, "global", data, source));
  BIOFED_ASSIGN_OR_RETURN(r.update, DecodeGroup(h, "update", data, source));
  if (h.contains("audit")) {
    AuditRecord audit;
    const Json& a = h.at("audit");
    audit.client_seed = JsonAs<uint64_t>(a.at("client_seed"));
    audit.tau = JsonAs<double>(a.at("tau"));
    audit.biomod = JsonAs<std::string>(a.at("biomod"));
    if (a.contains("wr_d_re")) {
      audit.wr_d_re = JsonAs<double>(a.at("wr_d_re"));
      auto variant = ParseRejuvenationVariant(JsonAs<std::string>(a.at("wr_variant")));
      if (!(audit.wr_d_re > 0) || !variant.ok()) return absl::DataLossError(absl::StrCat(source, ": malformed audit WR"));
      audit.wr_variant = *variant;
    }
    if (a.contains("wr_every")) {
      auto schedule = ParseRejuvenationSchedule(JsonAs<std::string>(a.at("wr_every")));
      if (!schedule.ok()) return absl::DataLossError(absl::StrCat(source, ": malformed audit WR schedule"));
      audit.wr_every = *schedule;
    }
    if (a.contains("sample_indices")) audit.sample_indices = JsonAs<std::vector<int64_t>>(a.at("sample_indices"));
    BIOFED_ASSIGN_OR_RETURN(std::vector<NamedTensor> tensors, DecodeGroup(h, "audit", data, source));
    for (const NamedTensor& t : tensors) {
      if (t.name == "images") audit.images = t.tensor;
      if (t.name == "labels") audit.labels = t.tensor;
    }
    if (!audit.images.defined() || !audit.labels.defined() || audit.images.dim() != 4 ||
        audit.labels.dim() != 1 || audit.images.size(0) != audit.labels.size(0) ||
        audit.images.scalar_type() != torch::kFloat || audit.labels.scalar_type() != torch::kLong) {
      return absl::DataLossError(absl::StrCat(source, ": malformed audit images/labels"));
    }
    capture.audit = std::move(audit);
  }
  return capture;
}

}  // namespace

UpdateRecord RecordOfUpdate(const ModelSpec& spec, const TensorTable& global_model, const TensorTable& update,
                            const UpdateMeta& meta, const Normalization& norm, const std::string& dataset) {
  UpdateRecord r;
  r.spec = spec;
  r.global_state = ToNamedTensors(global_model);
  for (const HostTensor& t : update) {
    if (t.role == TensorRole::kParameter) r.update.push_back({t.name, ToTorch(t)});
  }
  r.kind = meta.kind;
  r.lr = meta.lr;
  r.local_steps = meta.local_steps;
  r.batch_size = meta.batch_size;
  r.num_examples = meta.num_examples;
  r.batchnorm_train_mode = meta.batchnorm_train_mode;
  r.norm = norm;
  r.dataset = dataset;
  r.round = meta.round;
  r.client_id = meta.client_id;
  return r;
}

absl::StatusOr<AuditRecord> AuditOfSamples(const Dataset& split, const Normalization& norm,
                                           const std::vector<int64_t>& indices, uint64_t client_seed, double tau,
                                           const std::string& biomod) {
  if (indices.empty()) return absl::InvalidArgumentError("no sample indices for the audited batch");
  for (int64_t i : indices) {
    if (i < 0 || i >= split.size()) {
      return absl::InvalidArgumentError(absl::StrCat("sample index ", i, " outside [0, ", split.size(), ")"));
    }
  }
  return CallTorch("rebuilding the audited batch", [&]() -> absl::StatusOr<AuditRecord> {
    const torch::Tensor idx = torch::tensor(indices, torch::kLong);
    AuditRecord audit;
    audit.images = NormalizedImages(split, norm, idx);
    audit.labels = split.labels.index_select(0, idx);
    audit.client_seed = client_seed;
    audit.tau = tau;
    audit.biomod = biomod;
    audit.sample_indices = indices;
    return audit;
  });
}

std::string EncodeCapture(const CaptureFile& capture) {
  const UpdateRecord& r = capture.record;
  TensorWriter writer;
  Json tensors = Json::array();
  for (const NamedTensor& t : r.global_state) tensors.push_back(writer.Add("global/" + t.name, t.tensor));
  for (const NamedTensor& t : r.update) tensors.push_back(writer.Add("update/" + t.name, t.tensor));
  Json header = {{"format", "biofed update record"},
                 {"spec", SpecJson(r.spec)},
                 {"kind", SharedKindName(r.kind)},
                 {"lr", r.lr},
                 {"local_steps", r.local_steps},
                 {"batch_size", r.batch_size},
                 {"num_examples", r.num_examples},
                 {"batchnorm_train_mode", r.batchnorm_train_mode},
                 {"norm_mean", r.norm.mean},
                 {"norm_std", r.norm.std},
                 {"dataset", r.dataset},
                 {"round", r.round},
                 {"client_id", r.client_id}};
  // Written for an aggregate only, so one client's record reads as before.
  if (r.clients > 1) header["clients"] = r.clients;
  if (capture.audit) {
    const AuditRecord& a = *capture.audit;
    tensors.push_back(writer.Add("audit/images", a.images.to(torch::kFloat)));
    tensors.push_back(writer.Add("audit/labels", a.labels.to(torch::kLong)));
    header["audit"] = {{"client_seed", a.client_seed}, {"tau", a.tau}, {"biomod", a.biomod}};
    if (a.wr_d_re > 0) {
      header["audit"]["wr_d_re"] = a.wr_d_re;
      header["audit"]["wr_variant"] = RejuvenationVariantName(a.wr_variant);
    }
    // Written off its default only, so older readers' files read as before.
    if (a.wr_every != RejuvenationSchedule{}) header["audit"]["wr_every"] = RejuvenationScheduleName(a.wr_every);
    if (!a.sample_indices.empty()) header["audit"]["sample_indices"] = a.sample_indices;
  }
  header["tensors"] = tensors;
  const std::string json = header.dump();
  std::string out(kMagic, sizeof(kMagic));
  AppendLe<uint32_t>(out, kVersion);
  AppendLe<uint64_t>(out, json.size());
  out += json;
  out += writer.data();
  return out;
}

absl::StatusOr<CaptureFile> DecodeCapture(const std::string& bytes, const std::string& source) {
  constexpr size_t kPrefix = sizeof(kMagic) + 4 + 8;
  if (bytes.size() < kPrefix) return absl::DataLossError(absl::StrCat(source, ": truncated (too short for a header)"));
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(absl::StrCat(source, ": not a biofed update record (bad magic)"));
  }
  const auto version = ReadLe<uint32_t>(bytes, 8);
  if (version != kVersion) {
    return absl::DataLossError(absl::StrCat(source, ": unsupported version ", version));
  }
  const auto header_size = ReadLe<uint64_t>(bytes, 12);
  if (header_size > kMaxHeader || header_size > bytes.size() - kPrefix) {
    return absl::DataLossError(absl::StrCat(source, ": truncated (header of ", header_size, " bytes)"));
  }
  const std::string data = bytes.substr(kPrefix + header_size);
  try {
    const Json header = Json::parse(bytes.begin() + kPrefix, bytes.begin() + kPrefix + header_size);
    return DecodeHeader(header, data, source);
  } catch (const Json::exception& e) {
    return absl::DataLossError(absl::StrCat(source, ": malformed header: ", e.what()));
  }
}

absl::Status WriteCaptureFile(const std::string& path, const CaptureFile& capture) {
  return WriteFileAtomically(path, EncodeCapture(capture));
}

absl::StatusOr<CaptureFile> ReadCaptureFile(const std::string& path) {
  BIOFED_ASSIGN_OR_RETURN(const std::string bytes, ReadFile(path));
  return DecodeCapture(bytes, path);
}

}  // namespace biofed
