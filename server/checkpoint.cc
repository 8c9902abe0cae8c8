#include "server/checkpoint.h"

#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/json_value.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "wire/crc32c.h"

namespace biofed {
namespace {

using Json = nlohmann::json;

constexpr char kMagic[8] = {'B', 'I', 'O', 'F', 'E', 'D', 'C', 'K'};
constexpr uint32_t kVersion = 1;
constexpr size_t kPreamble = 8 + 4 + 8;
constexpr uint64_t kMaxTensorBytes = uint64_t{1} << 34;

template <typename T>
void AppendLittleEndian(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86-64 and aarch64 are little-endian
  out.append(bytes, sizeof(T));
}

template <typename T>
T ReadLittleEndian(const std::string& in, size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(T));
  return value;
}

Json SummaryJson(const RoundSummary& s) {
  return {{"round", s.round},
          {"participants", s.participants},
          {"dropped", s.dropped},
          {"examples", s.examples},
          {"rejected_updates", s.rejected_updates},
          {"train_loss", s.train_loss},
          {"test_accuracy", s.test_accuracy},
          {"test_loss", s.test_loss},
          {"seconds", s.seconds}};
}

Json HistoryArray(const std::vector<RoundSummary>& history) {
  Json rounds = Json::array();
  for (const RoundSummary& s : history) rounds.push_back(SummaryJson(s));
  return rounds;
}

// JSON has no NaN or infinity: nlohmann writes them as null, read back as
// NaN (a client's loss before it was checked, a diverged model's test loss).
double NumberOrNaN(const Json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : JsonAs<double>(j);
}

RoundSummary SummaryFromJson(const Json& j) {
  RoundSummary s;
  s.round = JsonAs<int64_t>(j.at("round"));
  s.participants = JsonAs<std::vector<std::string>>(j.at("participants"));
  s.dropped = JsonAs<std::vector<std::string>>(j.at("dropped"));
  s.examples = JsonAs<int64_t>(j.at("examples"));
  s.rejected_updates = JsonAs<int64_t>(j.at("rejected_updates"));
  s.train_loss = NumberOrNaN(j.at("train_loss"));
  s.test_accuracy = NumberOrNaN(j.at("test_accuracy"));
  s.test_loss = NumberOrNaN(j.at("test_loss"));
  s.seconds = NumberOrNaN(j.at("seconds"));
  return s;
}

absl::StatusOr<Checkpoint> ParseCheckpoint(const std::string& bytes, const std::string& source) {
  auto fail = [&](const std::string& why) { return absl::DataLossError(absl::StrCat(source, ": ", why)); };
  if (bytes.size() < kPreamble || std::memcmp(bytes.data(), kMagic, 8) != 0) return fail("not a biofed checkpoint");
  const uint32_t version = ReadLittleEndian<uint32_t>(bytes, 8);
  if (version != kVersion) return fail(absl::StrCat("unsupported checkpoint version ", version));
  const uint64_t header_size = ReadLittleEndian<uint64_t>(bytes, 12);
  if (header_size > bytes.size() - kPreamble) return fail("truncated header");
  const Json h = Json::parse(bytes.substr(kPreamble, header_size));
  const size_t data_start = kPreamble + header_size;
  const uint64_t data_size = bytes.size() - data_start;
  Checkpoint c;
  c.run_id = JsonAs<std::string>(h.at("run_id"));
  c.model_spec_json = JsonAs<std::string>(h.at("model_spec"));
  c.completed_rounds = JsonAs<int64_t>(h.at("completed_rounds"));
  if (c.completed_rounds < 0) return fail("negative completed_rounds");
  for (const Json& s : h.at("history")) c.history.push_back(SummaryFromJson(s));
  for (const Json& e : h.at("tensors")) {
    HostTensor t;
    t.name = JsonAs<std::string>(e.at("name"));
    auto dtype = DTypeFromInt(JsonAs<int>(e.at("dtype")));
    auto role = TensorRoleFromInt(JsonAs<int>(e.at("role")));
    if (!dtype.ok() || !role.ok()) return fail(absl::StrCat("tensor '", t.name, "': bad dtype or role"));
    t.dtype = *dtype;
    t.role = *role;
    t.shape = JsonAs<std::vector<int64_t>>(e.at("shape"));
    auto expected = CheckedByteCount(t.shape, t.dtype, kMaxTensorBytes);
    if (!expected.ok()) return fail(absl::StrCat("tensor '", t.name, "': ", expected.status().message()));
    const uint64_t offset = JsonAs<uint64_t>(e.at("offset"));
    const uint64_t size = JsonAs<uint64_t>(e.at("bytes"));
    if (size != *expected) return fail(absl::StrCat("tensor '", t.name, "': byte count does not match its shape"));
    if (offset > data_size || size > data_size - offset) return fail(absl::StrCat("tensor '", t.name, "' is truncated"));
    t.bytes.assign(bytes.data() + data_start + offset, size);
    if (Crc32c(t.bytes.data(), t.bytes.size()) != JsonAs<uint32_t>(e.at("crc32c"))) {
      return fail(absl::StrCat("checksum mismatch in tensor '", t.name, "'"));
    }
    c.model.push_back(std::move(t));
  }
  return c;
}

}  // namespace

std::string RoundHistoryJson(const std::vector<RoundSummary>& history) { return HistoryArray(history).dump(); }

std::string EncodeCheckpoint(const Checkpoint& c) {
  Json tensors = Json::array();
  uint64_t offset = 0;
  for (const HostTensor& t : c.model) {
    tensors.push_back({{"name", t.name},
                       {"dtype", static_cast<int>(t.dtype)},
                       {"shape", t.shape},
                       {"role", static_cast<int>(t.role)},
                       {"offset", offset},
                       {"bytes", t.bytes.size()},
                       {"crc32c", Crc32c(t.bytes.data(), t.bytes.size())}});
    offset += t.bytes.size();
  }
  const Json header = {{"run_id", c.run_id},
                       {"model_spec", c.model_spec_json},
                       {"completed_rounds", c.completed_rounds},
                       {"history", HistoryArray(c.history)},
                       {"tensors", tensors}};
  const std::string json = header.dump();
  std::string out(kMagic, 8);
  AppendLittleEndian<uint32_t>(out, kVersion);
  AppendLittleEndian<uint64_t>(out, json.size());
  out += json;
  out.reserve(out.size() + offset);
  for (const HostTensor& t : c.model) out.append(t.bytes.data(), t.bytes.size());
  return out;
}

absl::StatusOr<Checkpoint> DecodeCheckpoint(const std::string& bytes, const std::string& source) {
  try {
    return ParseCheckpoint(bytes, source);
  } catch (const Json::exception& e) {
    return absl::DataLossError(absl::StrCat(source, ": malformed checkpoint header: ", e.what()));
  }
}

absl::Status WriteCheckpoint(const std::string& path, const Checkpoint& checkpoint) {
  return WriteFileAtomically(path, EncodeCheckpoint(checkpoint));
}

absl::StatusOr<Checkpoint> ReadCheckpoint(const std::string& path) {
  BIOFED_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return DecodeCheckpoint(bytes, path);
}

}  // namespace biofed
