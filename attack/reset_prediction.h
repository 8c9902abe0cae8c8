// A WR-aware attacker without audit data: which weights the client's WR pass
// reset in its step, predicted from what the attacker sees, the round's
// global weights and the update. WR resets weight w of a tensor with
// probability erfc(|w| / (sigma sqrt 2)), sigma = max|W| / d_re (the
// reference law; the paper's is half of it), to a fresh draw from
// U(-max|W|, max|W|): a reset entry of the pseudo-gradient is
// (w - fresh) / lr, far larger than a gradient entry at a small lr.
//
// The rule, per tensor: a weight whose reset probability p is below
// kNegligibleResetProbability cannot have been reset, so those weights'
// update entries show what gradient-only magnitudes look like (their
// density f_g, estimated in a window of x / 1.5 to 1.5 x). A weight that can
// be reset is predicted reset where the posterior odds
// p / (1 - p) f_r(|u|) / f_g(|u|) exceed 1, f_r the density of
// |w - fresh| / lr (lr / m up to (m - |w|) / lr, half that up to
// (m + |w|) / lr, 0 beyond: a larger entry is no reset), among entries
// above the median of the nonzero gradient-only ones. An entry above
// every gradient-only one is then reset wherever a reset could reach it,
// so a reset is missed only when |w - fresh| is within about 2 lr max|g| of
// zero. A tensor with fewer than kMinGradientOnly gradient-only weights
// (counting only nonzero ones) falls back to the expected count: its
// largest eligible entries,
// mu + 3 sqrt(mu) of them, mu the sum of the reset probabilities.
#ifndef BIOFED_ATTACK_RESET_PREDICTION_H_
#define BIOFED_ATTACK_RESET_PREDICTION_H_

#include <cstdint>
#include <vector>

#include <ATen/Tensor.h>

#include "absl/status/statusor.h"
#include "attack/update_record.h"

namespace biofed {

inline constexpr double kNegligibleResetProbability = 1e-6;
inline constexpr int64_t kMinGradientOnly = 16;

// The predicted reset positions of one tensor (bool, its shape), from the
// global weight the client received, the pseudo-gradient entry it sent, its
// declared lr and the protocol's d_re and WR law (`paper_law`: half the
// reference's probability). Same device as the inputs.
at::Tensor PredictTensorResets(const at::Tensor& global_weight, const at::Tensor& update, double lr, double d_re,
                               bool paper_law = false);

// Per MechanismTargets tensor of the record's model, as ClientResetMask
// returns the true ones. INVALID_ARGUMENT when d_re is not > 0 or the
// update lacks a target.
absl::StatusOr<std::vector<at::Tensor>> PredictResetMask(const UpdateRecord& record, double d_re,
                                                         bool paper_law = false);

}  // namespace biofed

#endif  // BIOFED_ATTACK_RESET_PREDICTION_H_
