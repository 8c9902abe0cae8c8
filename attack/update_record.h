// What the attacker attacks: an update record. It holds the round's global
// model (architecture including WS, and its state), exactly what the client
// sent, and the metadata the threat model allows. A capture file may also
// carry an audit section (the true batch, the client's private seed) that
// only the scorer and an explicitly adaptive attacker may read; the attack
// functions take the record alone.
//
// File format (".bfu", little-endian): the 8 bytes "BIOFEDUR", a uint32
// version (1), a uint64 header length, a UTF-8 JSON header, then the tensor
// bytes. The header describes every tensor (name, dtype float32|int64,
// shape, offset into the data section, byte count, CRC-32). Readers check
// every field against the file. Stateless functions; thread-safe.
#ifndef BIOFED_ATTACK_UPDATE_RECORD_H_
#define BIOFED_ATTACK_UPDATE_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/biomod_options.h"
#include "client/update_share.h"
#include "data/dataset.h"
#include "models/model.h"
#include "wire/host_tensor.h"

namespace biofed {

struct UpdateRecord {
  ModelSpec spec;
  std::vector<NamedTensor> global_state;  // parameters and buffers of the round's model
  std::vector<NamedTensor> update;        // per parameter, what the client sent
  SharedKind kind = SharedKind::kGradient;
  double lr = 0.01;
  int64_t local_steps = 1;
  int64_t batch_size = 1;
  int64_t num_examples = 1;
  bool batchnorm_train_mode = true;  // the BatchNorm mode the client trained in
  Normalization norm;                // the dataset's public statistics
  std::string dataset;
  int64_t round = 0;
  std::string client_id;
  // How many clients' updates this is the mean of: 1 for one client's own,
  // K for the aggregate of K clients (what secure aggregation, or the change
  // of the global model, reveals). num_examples counts all of theirs.
  int64_t clients = 1;
};

// Kept apart from the record: the true batch and the client's private
// state, for scoring and for an adaptive attacker that is told the factors.
struct AuditRecord {
  at::Tensor images;  // normalised [N, C, H, W], the client's local data in step order
  at::Tensor labels;  // int64 [N]
  uint64_t client_seed = 0;  // of an aggregate: its first client's
  double tau = 0.0;   // FL spread; 0 when the client ran without FL
  std::string biomod; // the client's mechanisms, e.g. "fl+wr+ws"
  // WR as the client ran it, for a scorer or an oracle attacker that replays
  // the resets of its step (ClientResetMask): d_re > 0 only for a fresh
  // client's single step (a victim of `attack` or `sweep`, whose WR stream
  // starts at 0), 0 otherwise.
  double wr_d_re = 0;
  RejuvenationVariant wr_variant = RejuvenationVariant::kReference;
  // Its schedule: a client that ran WR only after its update was taken
  // (round-end) sent no resets.
  RejuvenationSchedule wr_every;
  // The batch's indices in the dataset split it was drawn from (the test
  // split for a victim of attack or sweep), in step order; empty when not
  // known (capture files older than the key).
  std::vector<int64_t> sample_indices;
};

struct CaptureFile {
  UpdateRecord record;
  std::optional<AuditRecord> audit;
};


// What a client declares with its update (the protocol's update header).
struct UpdateMeta {
  SharedKind kind = SharedKind::kPseudoGradient;
  double lr = 0.01;
  int64_t local_steps = 1;
  int64_t batch_size = 1;
  int64_t num_examples = 1;
  bool batchnorm_train_mode = true;
  int64_t round = 0;
  std::string client_id;
};

// The record an attacker holds of one accepted update: the round's global
// model, the parameters' entries of exactly what the client sent (host
// tensors as they travelled), and the declared metadata. The same for an
// observer of a gRPC federation and for the in-process transport.
UpdateRecord RecordOfUpdate(const ModelSpec& spec, const TensorTable& global_model, const TensorTable& update,
                            const UpdateMeta& meta, const Normalization& norm, const std::string& dataset);

// The true batch of `indices` (step order) in `split`, normalised, and the
// client's private state as the audit section holds it. INVALID_ARGUMENT for
// no index or one out of range.
absl::StatusOr<AuditRecord> AuditOfSamples(const Dataset& split, const Normalization& norm,
                                           const std::vector<int64_t>& indices, uint64_t client_seed, double tau,
                                           const std::string& biomod);

// Serialises (record, audit) to the file format's bytes.
std::string EncodeCapture(const CaptureFile& capture);
// Parses bytes; returns DATA_LOSS naming `source` and the fault for
// anything malformed (bad magic, truncated, bad JSON, bad tensor entry,
// checksum mismatch).
absl::StatusOr<CaptureFile> DecodeCapture(const std::string& bytes, const std::string& source);

absl::Status WriteCaptureFile(const std::string& path, const CaptureFile& capture);
absl::StatusOr<CaptureFile> ReadCaptureFile(const std::string& path);

}  // namespace biofed

#endif  // BIOFED_ATTACK_UPDATE_RECORD_H_
