#include "experiment/federation_driver.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <mutex>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/model.h"
#include "tests/testing/status_matchers.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;

// 60 random 28x28 images in 10 classes, shared by three clients of 20.
FederationPlan SmallPlan(bool fedsgd) {
  torch::manual_seed(11);
  auto train = std::make_shared<Dataset>();
  train->name = "random";
  train->images = torch::randint(0, 256, {60, 1, 28, 28}, torch::kLong).to(torch::kUInt8);
  train->labels = torch::randint(0, 10, {60}, torch::kLong);
  train->num_classes = 10;
  const Normalization norm{{0.5}, {0.25}};
  FederationPlan plan;
  plan.spec.split_gamma = 2;
  plan.initial_model = ModelStateTable(BuildModel(plan.spec, 3).value());
  plan.dataset = "random";
  BiomodOptions biomod;
  biomod.fuzzy_learning_rates = biomod.rejuvenation = biomod.weight_splitting = true;
  for (int k = 0; k < 3; ++k) {
    std::vector<int64_t> indices;
    for (int i = 0; i < 20; ++i) indices.push_back(k * 20 + i);
    plan.clients.push_back(
        {"c" + std::to_string(k), 100u + k, biomod, LocalData{train, indices, norm}, DpSgdOptions{}});
  }
  plan.rounds = 3;
  plan.task.fedsgd = fedsgd;
  plan.task.lr = 0.1;
  plan.task.batch_size = 8;
  plan.observed_rounds = {1, 3};
  plan.observed_clients = {"c1"};
  return plan;
}

struct Observed {
  std::mutex mutex;
  std::map<int64_t, CaptureFile> by_round;
};

FederationHooks Collect(Observed& observed) {
  FederationHooks hooks;
  hooks.on_update = [&](CaptureFile c) {
    std::lock_guard<std::mutex> lock(observed.mutex);
    observed.by_round[c.record.round] = std::move(c);
  };
  return hooks;
}

// The same plan over both transports: the same global model bit for bit
// after every round's aggregation, the same per-round examples and training
// loss, and the same observed updates (what the client sent) with the same
// true batch. FedSGD and FedAvg (several local steps with a shuffled order).
TEST(FederationDriverTest, BothTransportsGiveTheSameModelAndObservations) {
  for (bool fedsgd : {true, false}) {
    SCOPED_TRACE(fedsgd ? "fedsgd" : "fedavg");
    const FederationPlan plan = SmallPlan(fedsgd);
    Observed local_seen, grpc_seen;
    auto local = RunFederation(plan, Transport::kInProcess, Collect(local_seen));
    auto grpc = RunFederation(plan, Transport::kGrpc, Collect(grpc_seen));
    ASSERT_THAT(local, IsOk());
    ASSERT_THAT(grpc, IsOk());
    ASSERT_EQ(local->model.size(), grpc->model.size());
    for (size_t i = 0; i < local->model.size(); ++i) {
      EXPECT_EQ(local->model[i].name, grpc->model[i].name);
      EXPECT_EQ(std::string_view(local->model[i].bytes), std::string_view(grpc->model[i].bytes)) << local->model[i].name;
    }
    EXPECT_NE(std::string_view(local->model[0].bytes), std::string_view(plan.initial_model[0].bytes));
    ASSERT_EQ(local->rounds.size(), 3u);
    ASSERT_EQ(grpc->rounds.size(), 3u);
    for (size_t r = 0; r < 3; ++r) {
      EXPECT_EQ(local->rounds[r].examples, grpc->rounds[r].examples);
      EXPECT_EQ(local->rounds[r].participants, 3);
      EXPECT_DOUBLE_EQ(local->rounds[r].train_loss, grpc->rounds[r].train_loss);
    }
    ASSERT_EQ(local_seen.by_round.size(), 2u);
    ASSERT_EQ(grpc_seen.by_round.size(), 2u);
    for (auto& [round, a] : local_seen.by_round) {
      const CaptureFile& b = grpc_seen.by_round.at(round);
      EXPECT_EQ(a.record.client_id, "c1");
      EXPECT_EQ(b.record.client_id, "c1");
      EXPECT_EQ(a.record.local_steps, b.record.local_steps);
      EXPECT_EQ(a.record.num_examples, b.record.num_examples);
      ASSERT_EQ(a.record.update.size(), b.record.update.size());
      for (size_t i = 0; i < a.record.update.size(); ++i) {
        EXPECT_TRUE(torch::equal(a.record.update[i].tensor, b.record.update[i].tensor)) << a.record.update[i].name;
      }
      for (size_t i = 0; i < a.record.global_state.size(); ++i) {
        EXPECT_TRUE(torch::equal(a.record.global_state[i].tensor, b.record.global_state[i].tensor));
      }
      EXPECT_TRUE(torch::equal(a.audit->images, b.audit->images));
      EXPECT_TRUE(torch::equal(a.audit->labels, b.audit->labels));
      EXPECT_EQ(a.audit->client_seed, 101u);
      EXPECT_EQ(a.audit->biomod, b.audit->biomod);
    }
  }
}

// A defense runs on each client's update before it is sent, on both
// transports: zeroing every update leaves the model where it started.
TEST(FederationDriverTest, TheDefenseActsOnWhatTheClientSends) {
  FederationPlan plan = SmallPlan(true);
  plan.rounds = 1;
  plan.defend = [](int64_t, size_t, TensorTable& update) {
    for (HostTensor& t : update) {
      if (t.role == TensorRole::kParameter) t.bytes.assign(t.bytes.size(), '\0');
    }
    return absl::OkStatus();
  };
  for (Transport transport : {Transport::kInProcess, Transport::kGrpc}) {
    auto run = RunFederation(plan, transport, {});
    ASSERT_THAT(run, IsOk());
    for (size_t i = 0; i < run->model.size(); ++i) {
      if (run->model[i].role == TensorRole::kParameter) {
        EXPECT_EQ(std::string_view(run->model[i].bytes), std::string_view(plan.initial_model[i].bytes))
            << run->model[i].name;
      }
    }
  }
}

// A Byzantine client (c0) sends FLT_MAX for every parameter value: finite,
// so the server accepts it. Under the default mean it owns the model on
// both transports; under --aggregator median it cannot move any weight
// further than an honest client's pseudo-gradient does (the median of
// {FLT_MAX, g1, g2} is max(g1, g2)), and both transports agree bit for bit.
TEST(FederationDriverTest, TheMedianKeepsAByzantineClientFromOwningTheModel) {
  FederationPlan plan = SmallPlan(true);
  plan.rounds = 1;
  plan.defend = [](int64_t, size_t client, TensorTable& update) {
    if (client != 0) return absl::OkStatus();
    for (HostTensor& t : update) {
      if (t.role != TensorRole::kParameter) continue;
      for (size_t i = 0; i < t.bytes.size() / sizeof(float); ++i) t.mutable_floats()[i] = FLT_MAX;
    }
    return absl::OkStatus();
  };
  auto largest_weight = [](const TensorTable& model) {
    float largest = 0;
    for (const HostTensor& t : model) {
      if (t.role != TensorRole::kParameter) continue;
      for (size_t i = 0; i < t.bytes.size() / sizeof(float); ++i) largest = std::max(largest, std::abs(t.floats()[i]));
    }
    return largest;
  };
  for (const char* rule : {"mean", "median"}) {
    plan.aggregator = *ParseAggregator(rule);
    auto local = RunFederation(plan, Transport::kInProcess, {});
    auto grpc = RunFederation(plan, Transport::kGrpc, {});
    ASSERT_THAT(local, IsOk());
    ASSERT_THAT(grpc, IsOk());
    for (size_t i = 0; i < local->model.size(); ++i) {
      EXPECT_EQ(std::string_view(local->model[i].bytes), std::string_view(grpc->model[i].bytes)) << rule;
    }
    if (std::string(rule) == "mean") {
      EXPECT_GT(largest_weight(local->model), 1e30f);  // the attack works on the mean
    } else {
      // Initial weights and one honest SGD step (lr 0.1) on random data stay far below 100.
      EXPECT_LT(largest_weight(local->model), 100.f);
    }
  }
}

// A malicious server's entries (here the model's first entry, set to a
// constant no training gives) are in every model it publishes, on both
// transports: the global state each observed client trained from holds them,
// the clients' updates move them (non-zero), the aggregation's result does
// not keep that move, and everything else trains as usual.
TEST(FederationDriverTest, AMaliciousServerKeepsItsEntriesInEveryRound) {
  FederationPlan plan = SmallPlan(true);
  HostTensor pinned = plan.initial_model.front();
  ASSERT_EQ(pinned.role, TensorRole::kParameter);
  for (size_t i = 0; i < pinned.bytes.size() / sizeof(float); ++i) pinned.mutable_floats()[i] = 0.125f;
  plan.malicious_entries = {pinned};
  for (Transport transport : {Transport::kInProcess, Transport::kGrpc}) {
    SCOPED_TRACE(transport == Transport::kGrpc ? "grpc" : "in process");
    Observed seen;
    auto run = RunFederation(plan, transport, Collect(seen));
    ASSERT_THAT(run, IsOk());
    EXPECT_EQ(run->model.front().name, pinned.name);
    EXPECT_EQ(std::string_view(run->model.front().bytes), std::string_view(pinned.bytes));
    EXPECT_NE(std::string_view(run->model[1].bytes), std::string_view(plan.initial_model[1].bytes));
    ASSERT_EQ(seen.by_round.size(), 2u);
    for (const auto& [round, observed] : seen.by_round) {
      SCOPED_TRACE(round);
      EXPECT_TRUE(torch::all(observed.record.global_state.front().tensor == 0.125f).item<bool>());
      EXPECT_GT(observed.record.update.front().tensor.abs().max().item<float>(), 0.f);
    }
  }
}

// A pinned entry the model does not hold is refused before any round, on
// both transports.
TEST(FederationDriverTest, AMaliciousEntryTheModelLacksIsRefused) {
  FederationPlan plan = SmallPlan(true);
  HostTensor stray = plan.initial_model.front();
  stray.name = "no.such.weight";
  plan.malicious_entries = {stray};
  for (Transport transport : {Transport::kInProcess, Transport::kGrpc}) {
    auto run = RunFederation(plan, transport, {});
    EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(run.status().message().find("no.such.weight"), std::string::npos) << run.status();
  }
}

}  // namespace
}  // namespace biofed
