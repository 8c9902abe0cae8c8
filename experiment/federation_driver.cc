#include "experiment/federation_driver.h"

#ifdef BIOFED_WITH_FEDERATION
#include "experiment/grpc_federation.h"
#endif

namespace biofed {

absl::StatusOr<FederationRun> RunFederation(const FederationPlan& plan, Transport transport,
                                            const FederationHooks& hooks, const std::atomic<bool>* stop) {
  if (transport == Transport::kInProcess) return RunInProcessFederation(plan, hooks, stop);
#ifdef BIOFED_WITH_FEDERATION
  return RunGrpcFederation(plan, hooks, stop);
#else
  return absl::FailedPreconditionError(
      "this build has no gRPC federation (BIOFED_WITH_FEDERATION=OFF); the in-process transport runs the same plan");
#endif
}

}  // namespace biofed
