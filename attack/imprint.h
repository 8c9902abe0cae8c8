// The malicious server's imprint attack (Fowl et al., "Robbing the Fed",
// ICLR 2022), in two halves. The server sends the client a model with an
// imprint block in front (models/imprint_block.h) whose n bin rows all
// measure one statistic of the input, the image's mean normalised pixel
// (its brightness), and whose biases are minus that statistic's quantiles
// over data the server holds, so each example switches on the bins below its
// brightness. Every bin's weight gradient is then g * x summed over the
// examples it sees, its bias gradient g summed over them, with one g per
// example (every bin feeds the output through the same weights); between two
// neighbouring bins only the examples whose brightness falls between their
// thresholds differ, so (dW_k - dW_k+1) / (db_k - db_k+1) is one input,
// exactly, when a single example falls there. Stateless; thread-safe.
#ifndef BIOFED_ATTACK_IMPRINT_H_
#define BIOFED_ATTACK_IMPRINT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "models/model.h"
#include "wire/host_tensor.h"

namespace biofed {

// The server's construction: `classifier` (an honest model, e.g. the round's
// global model; its state is kept) behind an imprint block of `bins` bins
// whose thresholds are the brightness quantiles of `public_images`
// (normalised [N, C, H, W], data the server holds, not the client's). The
// block's output weights are all 1/bins, so the classifier sees each image
// shifted by at most about its brightness range. INVALID_ARGUMENT for an
// already imprinted classifier, bins outside [2, kMaxImprintBins], or fewer than 2 public images.
absl::StatusOr<Model> ImprintedModel(const Model& classifier, int64_t bins, const at::Tensor& public_images);

// The server's own data for the thresholds: the first 10,000 images of
// `split` (all of a smaller one), normalised [N, C, H, W].
at::Tensor ImprintPublicImages(const Dataset& split, const Normalization& norm);

// The block's entries of an imprinted model (imprint_bins.*, imprint_out.*),
// as host tensors: what a malicious server of a federation writes over every
// model it publishes (server/pinned_entries.h), so that its construction
// survives the clients' training.
TensorTable ImprintBlockEntries(const Model& imprinted);

struct ImprintRecovery {
  at::Tensor images;     // normalised [N, C, H, W], N <= max_images, strongest bins first
  int64_t occupied = 0;  // bins whose difference carried an example (before the cap)
};

// The recovery from what the client sent: `weight_gradient` [n, D] and
// `bias_gradient` [n] of the imprint bins (FL factors already divided out if
// the attacker knows them), ordered by `bias` [n], the biases the server
// sent. Returns at most `max_images` inputs of `shape` ([C, H, W]), from the
// neighbouring-bin differences with the largest bias-gradient difference;
// differences below 1e-5 of the largest are empty intervals (rounding) and
// are left out. Computed in float64.
ImprintRecovery RecoverImprintedInputs(const at::Tensor& weight_gradient, const at::Tensor& bias_gradient,
                                       const at::Tensor& bias, int64_t max_images, at::IntArrayRef shape);

}  // namespace biofed

#endif  // BIOFED_ATTACK_IMPRINT_H_
