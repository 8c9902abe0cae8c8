#include "sweep/update_parts.h"

#include <cmath>
#include <map>
#include <string>

#include <torch/torch.h>

#include "attack/victim.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/model.h"

namespace biofed {

absl::StatusOr<UpdateParts> SplitUpdateAtResets(const UpdateRecord& record, const AuditRecord& audit) {
  // An aggregate has no one client's resets; K > 1 steps' are not replayed.
  if (record.clients > 1 || record.local_steps > 1) return UpdateParts{};
  BIOFED_ASSIGN_OR_RETURN(const std::vector<torch::Tensor> reset, ClientResetMask(record, audit));
  return CallTorch("splitting the update at the resets", [&]() -> absl::StatusOr<UpdateParts> {
    BIOFED_ASSIGN_OR_RETURN(const Model model, BuildModel(record.spec, 0));
    const std::vector<NamedTensor> targets = model.MechanismTargets();
    std::map<std::string, torch::Tensor> reset_of;
    for (size_t i = 0; i < targets.size(); ++i) reset_of[targets[i].name] = reset[i];
    double reset_count = 0, target_count = 0, reset_squared = 0, other_squared = 0;
    for (const NamedTensor& t : record.update) {
      const torch::Tensor u = t.tensor.to(torch::kDouble).cpu();
      const auto r = reset_of.find(t.name);
      if (r == reset_of.end()) {
        other_squared += u.pow(2).sum().item<double>();
        continue;
      }
      const torch::Tensor mask = r->second.to(torch::kBool).cpu();
      if (mask.sizes() != u.sizes()) return absl::InternalError("a reset mask of the wrong shape for " + t.name);
      reset_count += static_cast<double>(mask.sum().item<int64_t>());
      target_count += static_cast<double>(mask.numel());
      reset_squared += u.masked_select(mask).pow(2).sum().item<double>();
      other_squared += u.masked_select(~mask).pow(2).sum().item<double>();
    }
    UpdateParts parts;
    parts.reset_fraction = target_count > 0 ? reset_count / target_count : 0;
    parts.reset_norm = std::sqrt(reset_squared);
    parts.gradient_norm = std::sqrt(other_squared);
    return parts;
  });
}

}  // namespace biofed
