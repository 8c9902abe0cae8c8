// `biofed client`: one federated client for real deployments.
#include <atomic>
#include <csignal>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "client/federated_client.h"
#include "common/files.h"
#include "common/log.h"
#include "common/runtime.h"
#include "data/partition.h"

namespace biofed {
namespace {

std::atomic<bool> stop_requested{false};
void OnSignal(int) { stop_requested.store(true); }

}  // namespace

int RunClientCommand(const std::vector<std::string>& args) {
  std::string server = "localhost:50051", ca, cert, key, server_name, token, token_file;
  bool insecure = false;
  std::string dataset = "fashion-mnist", data_dir, scheme = "iid", biomod_list = "none", device = "auto";
  int64_t partitions = 1, index = 0, partition_seed = 0, seed = -1, threads = 0, shards = 2;
  double alpha = 0.5, tau = 0.18, d_re = 14.0, max_unavailable_s = 120;
  FlagSet flags("client",
                "A federated client: joins the server with its token, trains its partition of the\n"
                "dataset each round it is sampled (with its own FL and WR state; WS is part of the\n"
                "server's model) and sends the update. Rides out server restarts by retrying.");
  flags.AddString("server", &server, "host:port of the federation server");
  flags.AddString("ca", &ca, "PEM of the CA that signed the server (default: system roots)");
  flags.AddString("cert", &cert, "PEM client certificate, for mutual TLS");
  flags.AddString("key", &key, "PEM client key, for mutual TLS");
  flags.AddString("server-name", &server_name, "name to check the server certificate against");
  flags.AddBool("insecure", &insecure, "plain TCP without TLS");
  flags.AddString("token", &token, "this client's credential (prefer --token-file)");
  flags.AddString("token-file", &token_file, "file holding the credential");
  flags.AddString("dataset", &dataset, "fashion-mnist, mnist, cifar10 or cifar100");
  flags.AddString("data-dir", &data_dir, "directory of the dataset files (default per dataset)");
  flags.AddString("partition", &scheme, "iid, dirichlet or shards");
  flags.AddInt("num-partitions", &partitions, "how many clients the training split is divided among");
  flags.AddInt("partition-index", &index, "this client's partition, in [0, num-partitions)");
  flags.AddDouble("alpha", &alpha, "Dirichlet concentration");
  flags.AddInt("shards", &shards, "shards per client");
  flags.AddInt("partition-seed", &partition_seed, "seed of the partition (the same for every client)");
  flags.AddString("biomod", &biomod_list, "none, or a comma list of fl, wr (ws comes with the server's model)");
  flags.AddDouble("tau", &tau, "FL spread");
  flags.AddDouble("d-re", &d_re, "WR distance");
  flags.AddInt("seed", &seed, "private seed of FL, WR and data order (-1: from the partition index)");
  flags.AddString("device", &device, "auto, cpu, cuda or cuda:N");
  flags.AddInt("threads", &threads, "LibTorch threads (0 = all cores)");
  flags.AddDouble("max-unavailable-s", &max_unavailable_s, "give up after the server is unreachable this long");
  if (auto exit = ParseOrExit(flags, args)) return *exit;

  if (!token_file.empty()) {
    auto text = ReadFile(token_file);
    if (!text.ok()) return Fail("client", text.status());
    token = std::string(absl::StripAsciiWhitespace(*text));
  }
  if (token.empty()) return Fail("client", absl::InvalidArgumentError("--token or --token-file is required"));
  if (index < 0 || index >= partitions) {
    return Fail("client", absl::InvalidArgumentError("--partition-index must be in [0, --num-partitions)"));
  }
  BiomodOptions base;
  base.tau = tau;
  base.d_re = d_re;
  auto biomod = ParseBiomod(biomod_list, base);
  if (!biomod.ok()) return Fail("client", biomod.status());
  if (biomod->weight_splitting) {
    return Fail("client", absl::InvalidArgumentError("ws is a property of the server's model (biofed server --ws-gamma)"));
  }
  ConfigureThreads(threads);
  auto data = LoadDataset(dataset, data_dir);
  if (!data.ok()) return Fail("client", data.status());
  const Dataset& train = data->train;
  std::vector<int64_t> labels(train.labels.data_ptr<int64_t>(), train.labels.data_ptr<int64_t>() + train.size());
  PartitionOptions options;
  options.scheme = scheme;
  options.num_clients = partitions;
  options.dirichlet_alpha = alpha;
  options.shards_per_client = shards;
  options.seed = static_cast<uint64_t>(partition_seed);
  auto partition = PartitionDataset(labels, train.num_classes, options);
  if (!partition.ok()) return Fail("client", partition.status());

  FederatedClientOptions o;
  o.address = server;
  o.security = ChannelSecurity{insecure, ca, cert, key, server_name};
  o.token = token;
  o.biomod = *biomod;
  o.biomod_name = BiomodName(*biomod);
  o.seed = seed >= 0 ? static_cast<uint64_t>(seed) : 0x5EED0000u + static_cast<uint64_t>(index);
  o.device = device;
  o.max_unavailable = absl::Seconds(max_unavailable_s);
  o.stop = &stop_requested;
  o.on_submitted = [](int64_t round, const LocalResult& r) {
    std::printf("round %lld: sent %lld examples in %lld steps, train loss %.4f\n", static_cast<long long>(round),
                static_cast<long long>(r.num_examples), static_cast<long long>(r.steps), r.train_loss);
    std::fflush(stdout);
  };
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  LocalData local{std::make_shared<const Dataset>(train), (*partition)[static_cast<size_t>(index)], data->norm};
  FederatedClient client(o, std::move(local));
  const absl::Status status = client.Run();
  if (status.code() == absl::StatusCode::kCancelled) return 130;
  if (!status.ok()) return Fail("client", status);
  return 0;
}

}  // namespace biofed
