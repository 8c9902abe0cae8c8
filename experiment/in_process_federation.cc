// The in-process transport of experiment/federation_driver.h: every round,
// each client's LocalTrainer trains on the current global model, defends its
// update if the plan says so, and the updates are aggregated in client-id
// order, as FederationCore orders what it received.
#include <chrono>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "experiment/federation_driver.h"
#include "server/pinned_entries.h"
#include "server/robust_aggregation.h"

namespace biofed {
namespace {

using Clients = std::vector<std::unique_ptr<LocalTrainer>>;

UpdateMeta MetaOf(const FederationPlan& plan, const LocalResult& result, int64_t round, const std::string& client) {
  UpdateMeta meta;
  meta.kind = plan.task.share;
  meta.lr = plan.task.lr;
  meta.local_steps = result.steps;
  meta.batch_size = result.batch_size;
  meta.num_examples = result.num_examples;
  meta.round = round;
  meta.client_id = client;
  return meta;
}

// Hands an observed update, with its true batch, to the hook.
absl::Status Observe(const FederationPlan& plan, const FederationHooks& hooks, const ClientPlan& client,
                     const TensorTable& global, const LocalResult& result, int64_t round) {
  if (!hooks.on_update || !plan.observed_rounds.count(round) || !plan.observed_clients.count(client.id)) {
    return absl::OkStatus();
  }
  CaptureFile observed;
  observed.record = RecordOfUpdate(plan.spec, global, result.update, MetaOf(plan, result, round, client.id),
                                   client.data.norm, plan.dataset);
  const double tau = client.biomod.fuzzy_learning_rates ? client.biomod.tau : 0.0;
  BIOFED_ASSIGN_OR_RETURN(observed.audit, AuditOfSamples(*client.data.train, client.data.norm, result.sample_indices,
                                                         client.seed, tau, BiomodName(client.biomod)));
  hooks.on_update(std::move(observed));
  return absl::OkStatus();
}

// One round: every client trains from `global`, which becomes the
// aggregate. Returns the round's row.
absl::StatusOr<RoundRow> RunRound(const FederationPlan& plan, const FederationHooks& hooks, Clients& clients,
                                  int64_t round, TensorTable& global) {
  const auto start = std::chrono::steady_clock::now();
  LocalTask task = plan.task;
  task.round = round;
  std::map<std::string, ClientUpdate> updates;
  RoundRow row;
  row.round = round;
  double loss_sum = 0;
  for (size_t k = 0; k < plan.clients.size(); ++k) {
    const ClientPlan& client = plan.clients[k];
    BIOFED_ASSIGN_OR_RETURN(LocalResult result, clients[k]->Train(global, task, client.data));
    if (plan.defend) BIOFED_RETURN_IF_ERROR(plan.defend(round, k, result.update));
    BIOFED_RETURN_IF_ERROR(Observe(plan, hooks, client, global, result, round));
    loss_sum += result.train_loss * static_cast<double>(result.num_examples);
    row.examples += result.num_examples;
    updates[client.id] = {client.id, result.num_examples, std::move(result.update)};
  }
  std::vector<const ClientUpdate*> pointers;
  for (const auto& [id, update] : updates) pointers.push_back(&update);
  BIOFED_ASSIGN_OR_RETURN(global, AggregateWith(plan.aggregator, global, pointers, plan.server_lr * plan.task.lr));
  BIOFED_RETURN_IF_ERROR(WritePinnedEntries(plan.malicious_entries, global));
  row.participants = static_cast<int64_t>(updates.size());
  row.train_loss = row.examples > 0 ? loss_sum / static_cast<double>(row.examples) : 0.0;
  if (plan.evaluate && EvaluatedRound(plan, round)) {
    BIOFED_ASSIGN_OR_RETURN(EvaluationResult evaluation, plan.evaluate(global));
    row.test_accuracy = evaluation.accuracy;
    row.test_loss = evaluation.loss;
  }
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return row;
}

}  // namespace

absl::StatusOr<FederationRun> RunInProcessFederation(const FederationPlan& plan, const FederationHooks& hooks,
                                                     const std::atomic<bool>* stop) {
  if (plan.clients.empty() || plan.rounds < 1 || plan.evaluate_every < 1) {
    return absl::InvalidArgumentError("a federation needs clients, rounds >= 1 and evaluate_every >= 1");
  }
  BIOFED_ASSIGN_OR_RETURN(const torch::Device device, ResolveDevice(plan.device));
  Clients clients;
  for (const ClientPlan& c : plan.clients) {
    clients.push_back(std::make_unique<LocalTrainer>(plan.spec, c.biomod, c.seed, device, c.dp));
  }
  FederationRun run;
  run.model = plan.initial_model;
  BIOFED_RETURN_IF_ERROR(WritePinnedEntries(plan.malicious_entries, run.model));
  for (int64_t round = 1; round <= plan.rounds; ++round) {
    if (stop != nullptr && stop->load()) return absl::CancelledError("stopped");
    BIOFED_ASSIGN_OR_RETURN(RoundRow row, RunRound(plan, hooks, clients, round, run.model));
    if (hooks.on_round) hooks.on_round(row);
    run.rounds.push_back(row);
    if (hooks.finished && hooks.finished(row)) break;
  }
  return run;
}

bool EvaluatedRound(const FederationPlan& plan, int64_t round) {
  return round % plan.evaluate_every == 0 || round == plan.rounds;
}

}  // namespace biofed
