// The gRPC transport of the federation driver (experiment/federation_driver.h);
// built only with the federation layer. RunFederation's kGrpc.
#ifndef BIOFED_EXPERIMENT_GRPC_FEDERATION_H_
#define BIOFED_EXPERIMENT_GRPC_FEDERATION_H_

#include <atomic>

#include "absl/status/statusor.h"
#include "experiment/federation_driver.h"
#include "experiment/round_row.h"
#include "server/checkpoint.h"

namespace biofed {

// The study's row of a round the server closed.
RoundRow RoundRowOf(const RoundSummary& summary);

// INVALID_ARGUMENT for a plan the protocol cannot carry (no clients, a share
// other than the pseudo-gradient); otherwise as RunFederation.
absl::StatusOr<FederationRun> RunGrpcFederation(const FederationPlan& plan, const FederationHooks& hooks,
                                                const std::atomic<bool>* stop);

}  // namespace biofed

#endif  // BIOFED_EXPERIMENT_GRPC_FEDERATION_H_
