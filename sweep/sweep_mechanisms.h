// A sweep's mechanisms axis: which of FL, WR, WS a cell's client runs, and
// the parameters it runs them with where they differ from the config's
// shared ones, so that tau, d_re, gamma and WR's variant are axes too.
// Torch-free plain data; thread-safe.
#ifndef BIOFED_SWEEP_SWEEP_MECHANISMS_H_
#define BIOFED_SWEEP_SWEEP_MECHANISMS_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/biomod_options.h"

namespace biofed {

// An entry of the axis: a subset ("none", "fl,wr", "fl+wr+ws"), optionally
// followed by parameters of its mechanisms over `shared`, each once:
// "fl+wr+tau:0.5+d-re:6" (tau belongs to FL; d-re, wr-variant and wr-every to WR;
// gamma to WS). INVALID_ARGUMENT naming the entry when an item is neither a
// mechanism nor a parameter, a value does not parse, or a parameter's
// mechanism is not in the subset (a parameter that changes nothing would
// split one configuration into two names).
absl::StatusOr<BiomodOptions> ParseSweepMechanisms(const std::string& text, const BiomodOptions& shared);

// The entry's canonical name: the subset's name (BiomodName), then
// "+key:value" for each parameter that differs from `shared`, in the order
// VisitParameters lists them. "fl+tau:0.18" with the shared tau 0.18 is "fl".
std::string SweepMechanismsName(const BiomodOptions& mechanisms, const BiomodOptions& shared);

}  // namespace biofed

#endif  // BIOFED_SWEEP_SWEEP_MECHANISMS_H_
