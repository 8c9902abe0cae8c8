// `biofed client`: one federated client for real deployments.
#include <atomic>
#include <csignal>
#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/connection_flags.h"
#include "cli/flag_groups.h"
#include "client/federated_client.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "data/partition.h"

namespace biofed {
namespace {

std::atomic<bool> stop_requested{false};
void OnSignal(int) { stop_requested.store(true); }

struct ClientFlags {
  ConnectionFlags connection;
  DataFlags data;
  PartitionOptions partition;
  int64_t index = 0;
  int64_t partition_seed = 0;
  BiomodFlags biomod;
  int64_t seed = -1;
  ComputeFlags compute;
};

void AddFlags(FlagSet& flags, ClientFlags& f) {
  AddConnectionFlags(flags, &f.connection, /*token_flag=*/true);
  AddDataFlags(flags, &f.data);
  flags.AddString("partition", &f.partition.scheme, "iid, dirichlet or shards");
  flags.AddInt("num-partitions", &f.partition.num_clients, "how many clients the training split is divided among");
  flags.AddInt("partition-index", &f.index, "this client's partition, in [0, num-partitions)");
  flags.AddDouble("alpha", &f.partition.dirichlet_alpha, "Dirichlet concentration");
  flags.AddInt("shards", &f.partition.shards_per_client, "shards per client");
  flags.AddInt("partition-seed", &f.partition_seed, "seed of the partition (the same for every client)");
  AddBiomodFlags(flags, &f.biomod, "none, or fl, wr joined by + (ws comes with the server's model)");
  flags.AddInt("seed", &f.seed, "private seed of FL, WR and data order (-1: from the partition index)");
  AddComputeFlags(flags, &f.compute);
}

// This client's share of the training split.
absl::StatusOr<LocalData> Partition(const ClientFlags& f) {
  if (f.index < 0 || f.index >= f.partition.num_clients) {
    return absl::InvalidArgumentError("--partition-index must be in [0, --num-partitions)");
  }
  BIOFED_ASSIGN_OR_RETURN(DatasetSplits data, LoadData(f.data));
  const Dataset& train = data.train;
  std::vector<int64_t> labels(train.labels.data_ptr<int64_t>(), train.labels.data_ptr<int64_t>() + train.size());
  PartitionOptions options = f.partition;
  options.seed = static_cast<uint64_t>(f.partition_seed);
  BIOFED_ASSIGN_OR_RETURN(biofed::Partition partition, PartitionDataset(labels, train.num_classes, options));
  return LocalData{std::make_shared<const Dataset>(train), partition[static_cast<size_t>(f.index)], data.norm};
}

absl::StatusOr<FederatedClientOptions> ClientOptions(const ClientFlags& f) {
  FederatedClientOptions o;
  BIOFED_ASSIGN_OR_RETURN(o.biomod, ParseBiomodFlags(f.biomod));
  if (o.biomod.weight_splitting) {
    return absl::InvalidArgumentError("ws is a property of the server's model (biofed server --ws-gamma)");
  }
  BIOFED_ASSIGN_OR_RETURN(o.token, ReadToken(f.connection));
  o.address = f.connection.server;
  o.security = f.connection.security;
  o.biomod_name = BiomodName(o.biomod);
  o.seed = f.seed >= 0 ? static_cast<uint64_t>(f.seed) : 0x5EED0000u + static_cast<uint64_t>(f.index);
  o.device = f.compute.device;
  o.max_unavailable = absl::Seconds(f.connection.max_unavailable_s);
  o.stop = &stop_requested;
  o.on_submitted = [](int64_t round, const LocalResult& r) {
    std::printf("round %lld: sent %lld examples in %lld steps, train loss %.4f\n", static_cast<long long>(round),
                static_cast<long long>(r.num_examples), static_cast<long long>(r.steps), r.train_loss);
    std::fflush(stdout);
  };
  return o;
}

absl::Status RunClient(const ClientFlags& f) {
  BIOFED_ASSIGN_OR_RETURN(FederatedClientOptions options, ClientOptions(f));
  ConfigureThreads(f.compute.threads);
  BIOFED_ASSIGN_OR_RETURN(LocalData local, Partition(f));
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  return FederatedClient(options, std::move(local)).Run();
}

}  // namespace

int RunClientCommand(const std::vector<std::string>& args) {
  ClientFlags f;
  FlagSet flags("client",
                "A federated client: joins the server with its token, trains its partition of the\n"
                "dataset each round it is sampled (with its own FL and WR state; WS is part of the\n"
                "server's model) and sends the update. Rides out server restarts by retrying.");
  AddFlags(flags, f);
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  const absl::Status status = RunClient(f);
  if (status.code() == absl::StatusCode::kCancelled) return 130;
  if (!status.ok()) return Fail("client", status);
  return 0;
}

}  // namespace biofed
