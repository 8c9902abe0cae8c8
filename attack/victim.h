// A victim described by flags, turned into the capture an attacker would
// see: a global model (untrained, or trained for some steps), one client
// with its own biomod state training on a batch from the test split, and
// exactly what that client sends. Used by `biofed attack` without
// --capture and by the tests. Not thread-safe (uses LibTorch's global RNG
// only through seeded model construction).
#ifndef BIOFED_ATTACK_VICTIM_H_
#define BIOFED_ATTACK_VICTIM_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "attack/server_behaviour.h"
#include "attack/update_record.h"
#include "client/biomod_options.h"
#include "client/dp_sgd_options.h"
#include "data/dataset.h"

namespace biofed {

struct VictimOptions {
  Architecture architecture = Architecture::kMlp;
  BiomodOptions biomod;
  int64_t batch_size = 1;
  int64_t trained_steps = 0;     // global model trained this many SGD steps first
  // Or the global model's state given outright (e.g. a federation's after N
  // rounds); exclusive with trained_steps.
  std::vector<NamedTensor> initial_state;
  double train_lr = 0.1;         // for those steps (batch 100, momentum 0.9)
  SharedKind share = SharedKind::kGradient;
  int64_t local_steps = 1;       // with kPseudoGradient: K local steps of batch_size each
  double client_lr = 0.01;
  uint64_t seed = 0;             // model init, data choice and the client's private seed
  DpSgdOptions dp;               // the client trains with DP-SGD when enabled
  // What the server sends the client: the global model, or (malicious) that
  // model behind an imprint block whose thresholds come from the train
  // split, the server's own data (the client's batch is from the test split).
  ServerBehaviour server;
  // The round's clients the attacker sees together: 1, the one client's own
  // update; K > 1, the mean of K clients' updates (each its own batch of
  // the test split and its own private seed), what an observer of the
  // aggregate sees. The audit holds all K batches, client after client.
  int64_t clients = 1;
};

absl::StatusOr<CaptureFile> MakeVictimCapture(const VictimOptions& options, const DatasetSplits& data);

// The client's FL factors, as an adaptive attacker told its seed would
// compute them (per MechanismTargets of a model of `spec`).
std::vector<at::Tensor> ClientFuzzyFactors(const ModelSpec& spec, double tau, uint64_t client_seed);

// The weights the client's WR pass redrew in its one step, replayed from its
// seed on the global weights it received: per MechanismTargets tensor of the
// record's model, bool, true where reset (what mask:oracle leaves out).
// All false for a client without WR; FAILED_PRECONDITION for a WR client
// whose audit does not carry WR's parameters (not a fresh client's single
// step, e.g. an aggregate or a federation's client).
absl::StatusOr<std::vector<at::Tensor>> ClientResetMask(const UpdateRecord& record, const AuditRecord& audit);

}  // namespace biofed

#endif  // BIOFED_ATTACK_VICTIM_H_
