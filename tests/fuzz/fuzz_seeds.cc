// The seed corpus: small valid inputs of every target, made with the
// project's own writers (tests/fuzz/corpus/ holds their output; the replay
// test checks that every one of them is still accepted).
#include <zlib.h>

#include <torch/torch.h>

#include "attack/update_record.h"
#include "server/checkpoint.h"
#include "simulate/simulation_config.h"
#include "tests/fuzz/fuzz_targets.h"
#include "wire/tensor_stream.h"

namespace biofed::fuzz {
namespace {

void AppendBigEndian32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

std::string IdxImages(uint32_t count, uint32_t rows, uint32_t cols) {
  std::string out;
  AppendBigEndian32(out, 0x00000803);
  AppendBigEndian32(out, count);
  AppendBigEndian32(out, rows);
  AppendBigEndian32(out, cols);
  for (uint32_t i = 0; i < count * rows * cols; ++i) out.push_back(static_cast<char>((i * 37) & 0xff));
  return out;
}

std::string IdxLabels(uint32_t count) {
  std::string out;
  AppendBigEndian32(out, 0x00000801);
  AppendBigEndian32(out, count);
  for (uint32_t i = 0; i < count; ++i) out.push_back(static_cast<char>(i % 10));
  return out;
}

std::string Gzip(const std::string& raw) {
  z_stream stream{};
  deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, raw.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  stream.avail_in = static_cast<uInt>(raw.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string CifarRecords(int label_bytes, int count) {
  std::string out;
  for (int r = 0; r < count; ++r) {
    for (int l = 0; l < label_bytes; ++l) out.push_back(static_cast<char>((r + l) % 10));
    for (int i = 0; i < 3 * 32 * 32; ++i) out.push_back(static_cast<char>((i * 7 + r) & 0xff));
  }
  return out;
}

std::string Capture(bool with_audit) {
  CaptureFile capture;
  UpdateRecord& r = capture.record;
  r.spec.input = {1, 2, 2};
  r.spec.num_classes = 3;
  r.global_state = {{"fc.weight", torch::linspace(-1, 1, 12).reshape({3, 4})}, {"fc.bias", torch::zeros({3})}};
  r.update = {{"fc.weight", torch::full({3, 4}, 0.5)}, {"fc.bias", torch::ones({3})}};
  r.kind = SharedKind::kPseudoGradient;
  r.lr = 0.1;
  r.local_steps = 2;
  r.batch_size = 1;
  r.num_examples = 2;
  r.norm = {{0.5}, {0.25}};
  r.dataset = "fashion-mnist";
  r.round = 3;
  r.client_id = "c0";
  if (with_audit) {
    AuditRecord audit;
    audit.images = torch::rand({2, 1, 2, 2}, torch::TensorOptions().dtype(torch::kFloat));
    audit.labels = torch::tensor({0, 2}, torch::kLong);
    audit.client_seed = 42;
    audit.tau = 0.18;
    audit.biomod = "fl+wr+ws";
    capture.audit = audit;
  }
  return EncodeCapture(capture);
}

std::string CheckpointBytes() {
  Checkpoint checkpoint;
  checkpoint.run_id = "fuzz-seed";
  checkpoint.model_spec_json = R"({"architecture":"mlp","input":[1,2,2],"num_classes":3,"split_gamma":0})";
  checkpoint.completed_rounds = 2;
  checkpoint.model = FuzzUpdateModel();
  for (int64_t round = 1; round <= 2; ++round) {
    RoundSummary summary;
    summary.round = round;
    summary.participants = {"c0", "c1"};
    summary.dropped = {"c2"};
    summary.examples = 8;
    summary.train_loss = 1.5;
    summary.test_accuracy = 0.5;
    summary.seconds = 0.25;
    checkpoint.history.push_back(summary);
  }
  return EncodeCheckpoint(checkpoint);
}

std::string UpdateStream(bool with_audit, size_t chunk_bytes) {
  TensorTable update;
  for (const HostTensor& t : FuzzUpdateModel()) {
    if (t.dtype == DType::kFloat32) update.push_back(t);
  }
  for (HostTensor& t : update) {
    for (size_t i = 0; i < t.bytes.size() / sizeof(float); ++i) t.mutable_floats()[i] = 0.125f * static_cast<float>(i);
  }
  std::string out;
  v1::UpdateChunk chunk;
  v1::UpdateHeader* header = chunk.mutable_header();
  header->set_client_id("c0");
  header->set_round(1);
  header->set_num_examples(4);
  header->set_lr(0.1);
  header->set_local_steps(1);
  header->set_batch_size(4);
  (*header->mutable_metrics())["train_loss"] = 2.0;
  DescribeTable(update, header->mutable_tensors());
  out += FrameUpdateChunk(chunk.SerializeAsString());
  uint64_t total = 0;
  ForEachChunk(update, chunk_bytes, [&](const TensorChunk& part) {
    v1::UpdateChunk data;
    FillTensorData(part, data.mutable_data());
    out += FrameUpdateChunk(data.SerializeAsString());
    total += part.bytes.size();
    return true;
  });
  if (with_audit) {
    v1::UpdateChunk audit;
    audit.mutable_audit()->set_client_id("c0");
    audit.mutable_audit()->set_round(1);
    audit.mutable_audit()->set_dataset("fashion-mnist");
    audit.mutable_audit()->set_split("train");
    audit.mutable_audit()->set_batch_size(4);
    for (int64_t i : {5, 9, 2, 7}) audit.mutable_audit()->add_sample_indices(i);
    out += FrameUpdateChunk(audit.SerializeAsString());
  }
  v1::UpdateChunk trailer;
  trailer.mutable_trailer()->set_total_bytes(total);
  out += FrameUpdateChunk(trailer.SerializeAsString());
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SeedInputs(std::string_view target) {
  if (target == "idx") {
    return {{"valid-images.idx", IdxImages(3, 4, 4)},
            {"valid-images.idx.gz", Gzip(IdxImages(2, 5, 3))},
            {"valid-labels.idx", IdxLabels(12)},
            {"valid-labels.idx.gz", Gzip(IdxLabels(30))}};
  }
  if (target == "cifar") return {{"valid-cifar10.bin", CifarRecords(1, 2)}, {"valid-cifar100.bin", CifarRecords(2, 1)}};
  if (target == "capture") return {{"valid-record.bfu", Capture(false)}, {"valid-record-audit.bfu", Capture(true)}};
  if (target == "checkpoint") return {{"valid-checkpoint.bin", CheckpointBytes()}};
  if (target == "update_stream") {
    return {{"valid-one-chunk-per-tensor.bin", UpdateStream(false, 1 << 10)},
            {"valid-small-chunks-audit.bin", UpdateStream(true, 12)}};
  }
  if (target == "credentials") {
    return {{"valid-tokens.txt",
             "# name roles token\n"
             "c0 client 0123456789abcdef0123\n"
             "auditor auditor,scorer fedcba9876543210fedc\n"
             "\n"
             "c1   client   aaaaaaaaaaaaaaaaaaaa   # trailing comment\n"}};
  }
  if (target == "simulation_config") {
    return {{"valid-defaults.json", SimulationConfigJson(SimulationConfig{})},
            {"valid-partial.json", R"({"clients": 2, "rounds": 3, "biomods": ["none", "fl"], "attack_rounds": [1, 3]})"}};
  }
  return {};
}

}  // namespace biofed::fuzz
