// How much of an attacked update is WR's: which weights the client reset in
// its step, and the update's size there and elsewhere. Recorded with every
// sweep row, so a result can be read against how much WR did.
#ifndef BIOFED_SWEEP_UPDATE_PARTS_H_
#define BIOFED_SWEEP_UPDATE_PARTS_H_

#include <limits>

#include "absl/status/statusor.h"
#include "attack/update_record.h"

namespace biofed {

struct UpdateParts {
  // Of the weights WR acts on (MechanismTargets), the fraction the client's
  // step reset (0 without WR).
  double reset_fraction = std::numeric_limits<double>::quiet_NaN();
  // L2 norms of the parameter entries of the update the attacker sees (after
  // the cell's defense) at the reset positions and at every other position. On the pseudo-gradient share the first is the reset
  // part (w - reset(w)) / lr plus the gradient there; on the raw and gradient
  // shares, which carry no resets, it is only the gradient at those positions.
  double reset_norm = std::numeric_limits<double>::quiet_NaN();
  double gradient_norm = std::numeric_limits<double>::quiet_NaN();
};

// The parts of one fresh client's single-step update (the resets replayed
// from the audit, ClientResetMask). An aggregate of several clients has no
// one client's resets, and the resets of K > 1 local steps are not
// replayed: all NaN. FAILED_PRECONDITION when the audit cannot
// replay the client's WR pass.
absl::StatusOr<UpdateParts> SplitUpdateAtResets(const UpdateRecord& record, const AuditRecord& audit);

}  // namespace biofed

#endif  // BIOFED_SWEEP_UPDATE_PARTS_H_
