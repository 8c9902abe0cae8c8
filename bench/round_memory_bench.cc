// The server's memory and round time with many clients per round: a
// `biofed` federation server (FederationCore + FederationServer, insecure
// loopback) in a child process, and --clients light protocol-level clients
// in this one, each with its own credential, that join, pull their task and
// submit a prepared update of --values float32 values (the real wire path:
// SendUpdate, CRC-32C, 1 MiB chunks). Every client is sampled in every
// round. The child reports its peak resident memory (VmHWM), the most
// update bytes its open round held, and each round's time.
//
// Run it once per aggregator to compare the running mean (`mean`: one sum,
// whatever the round's size) with a rule that holds every update
// (`trimmed-mean:0`, which with equal example counts is the same mean).
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/federation_server.h"
#include "wire/update_sender.h"

namespace biofed {
namespace {

struct Options {
  int64_t clients = 1000;
  int64_t values = 250000;
  int64_t rounds = 2;
  int64_t threads = 32;
  std::string aggregator = "mean";
};

std::string Token(int64_t k) { return absl::StrCat("bench-client-", k, "-token-0123456789"); }
std::string ClientId(int64_t k) { return absl::StrCat("c", k); }

HostTensor Floats(int64_t n, float value) {
  HostTensor t;
  t.name = "w";
  t.shape = {n};
  t.bytes.resize(static_cast<size_t>(n) * sizeof(float));
  for (int64_t i = 0; i < n; ++i) t.mutable_floats()[i] = value;
  return t;
}

// Peak resident set of this process, in MiB (VmHWM of /proc/self/status).
double PeakResidentMiB() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      double kib = 0;
      status >> kib;
      return kib / 1024;
    }
    status.ignore(1 << 20, '\n');
  }
  return -1;
}

// The server process: writes its port to `out`, serves until the
// federation ends, then writes one line of figures and exits.
int RunServer(const Options& o, int out) {
  SetLogQuiet(true);
  FederationConfig config;
  config.run_id = "round-memory";
  config.model_spec_json = "{}";
  config.rounds = o.rounds;
  config.min_clients = o.clients;
  config.min_available = o.clients;
  config.round_deadline = absl::Seconds(600);
  config.client_timeout = absl::Seconds(600);
  config.poll_interval = absl::Milliseconds(20);
  auto aggregator = ParseAggregator(o.aggregator);
  if (!aggregator.ok()) return 2;
  config.aggregator = *aggregator;
  CredentialStore credentials;
  for (int64_t k = 0; k < o.clients; ++k) {
    if (!credentials.Add(ClientId(k), {Role::kClient}, Token(k)).ok()) return 2;
  }
  auto core = FederationCore::Create(config, {Floats(o.values, 0.f)}, nullptr);
  if (!core.ok()) return 2;
  (*core)->Start();
  auto server =
      FederationServer::Start("127.0.0.1:0", ServerSecurity{true, "", "", ""}, core->get(), std::move(credentials));
  if (!server.ok()) return 2;
  const std::string port = absl::StrCat((*server)->port(), "\n");
  if (write(out, port.data(), port.size()) != static_cast<ssize_t>(port.size())) return 2;
  const double baseline = PeakResidentMiB();
  size_t most_held = 0;
  while (!(*core)->WaitUntilFinished(absl::Milliseconds(5)))
    most_held = std::max(most_held, (*core)->round_bytes_held());
  std::string figures = absl::StrCat("peak_rss_mib ", PeakResidentMiB(), " rss_before_rounds_mib ", baseline,
                                     " most_update_bytes_held ", most_held, " round_seconds");
  for (const RoundSummary& s : (*core)->history()) absl::StrAppend(&figures, " ", s.seconds);
  figures += "\n";
  (*server)->Shutdown(absl::Seconds(1));
  (*core)->Stop();
  return write(out, figures.data(), figures.size()) == static_cast<ssize_t>(figures.size()) ? 0 : 2;
}

// A light client: its id, credential and stubs.
class LightClient {
 public:
  LightClient(const std::shared_ptr<grpc::Channel>& channel, int64_t k)
      : k_(k), stub_(v1::Federation::NewStub(channel)), generic_(channel) {}

  absl::Status Join() {
    grpc::ClientContext context;
    v1::JoinReply joined;
    const grpc::Status s = stub_->Join(Authorized(context), v1::JoinRequest(), &joined);
    return s.ok() ? absl::OkStatus() : absl::UnavailableError(absl::StrCat("join: ", s.error_message()));
  }

  // Pulls until the task of `round` comes, then submits `update` for it.
  absl::Status Submit(int64_t round, const std::shared_ptr<const TensorTable>& update) {
    v1::Task task;
    while (!task.has_train() || task.train().round() < round) {
      grpc::ClientContext context;
      v1::PullTaskRequest request;
      request.set_client_id(ClientId(k_));
      const grpc::Status s = stub_->PullTask(Authorized(context), request, &task);
      if (!s.ok()) return absl::UnavailableError(absl::StrCat("pull: ", s.error_message()));
      if (task.has_finish()) return absl::FailedPreconditionError("the federation ended early");
      if (!task.has_train()) absl::SleepFor(absl::Milliseconds(20));
    }
    grpc::ClientContext context;
    v1::UpdateHeader header;
    header.set_client_id(ClientId(k_));
    header.set_round(task.train().round());
    header.set_model_version(task.train().model_version());
    header.set_num_examples(10);
    header.set_lr(task.train().lr());
    header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
    v1::SubmitReply reply;
    return SendUpdate(generic_, Authorized(context), header, update, nullptr, kDefaultChunkBytes, &reply);
  }

 private:
  grpc::ClientContext* Authorized(grpc::ClientContext& context) const {
    context.AddMetadata("authorization", "Bearer " + Token(k_));
    return &context;
  }

  const int64_t k_;
  std::unique_ptr<v1::Federation::Stub> stub_;
  grpc::GenericStub generic_;
};

// The light clients on `o.threads` threads over 8 channels; each thread
// takes its clients round by round. Returns the failures (printed).
int RunClients(const Options& o, const std::string& port) {
  const auto update = std::make_shared<const TensorTable>(TensorTable{Floats(o.values, 0.01f)});
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < 8; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("biofed.bench_channel", c);  // distinct arguments: distinct connections
    channels.push_back(grpc::CreateCustomChannel("127.0.0.1:" + port, grpc::InsecureChannelCredentials(), args));
  }
  std::atomic<int> failures{0};
  auto count = [&](const absl::Status& s) {
    if (s.ok()) return;
    if (failures++ < 5) std::fprintf(stderr, "client failure: %s\n", s.ToString().c_str());
  };
  std::vector<std::thread> threads;
  for (int64_t t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<LightClient>> mine;
      for (int64_t k = t; k < o.clients; k += o.threads) {
        mine.push_back(std::make_unique<LightClient>(channels[k % channels.size()], k));
        count(mine.back()->Join());
      }
      for (int64_t round = 1; round <= o.rounds && failures == 0; ++round) {
        for (auto& client : mine) count(client->Submit(round, update));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return failures.load();
}

int Main(int argc, char** argv) {
  Options o;
  FlagSet flags("biofed_round_memory_bench",
                "The federation server's peak memory and round time with many light clients per round.");
  flags.AddInt("clients", &o.clients, "clients, all sampled in every round");
  flags.AddInt("values", &o.values, "float32 values per update (and in the model)");
  flags.AddInt("rounds", &o.rounds, "rounds");
  flags.AddInt("threads", &o.threads, "client threads in this process");
  flags.AddString("aggregator", &o.aggregator,
                  "mean (a running sum) or a rule that holds every update (trimmed-mean:0: the same mean, buffered)");
  if (absl::Status parsed = flags.Parse(std::vector<std::string>(argv + 1, argv + argc)); !parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.ToString().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::printf("%s", flags.Usage().c_str());
    return 0;
  }
  if (!ParseAggregator(o.aggregator).ok() || o.clients < 1 || o.values < 1 || o.rounds < 1 || o.threads < 1) {
    std::fprintf(stderr, "bad options (see --help)\n");
    return 2;
  }
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 2;
  const pid_t child = fork();  // before this process touches gRPC
  if (child < 0) return 2;
  if (child == 0) {
    close(pipe_fds[0]);
    _exit(RunServer(o, pipe_fds[1]));
  }
  close(pipe_fds[1]);
  FILE* from_server = fdopen(pipe_fds[0], "r");
  char line[4096];
  if (from_server == nullptr || std::fgets(line, sizeof line, from_server) == nullptr) {
    std::fprintf(stderr, "the server process did not start\n");
    return 2;
  }
  const std::string port(line, std::strcspn(line, "\n"));
  const absl::Time start = absl::Now();
  const int failures = RunClients(o, port);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const bool got = std::fgets(line, sizeof line, from_server) != nullptr;
  int status = 0;
  waitpid(child, &status, 0);
  std::printf(
      "clients %lld values %lld (update %.2f MiB) rounds %lld aggregator %s client_failures %d "
      "wall_seconds %.2f client_peak_rss_mib %.1f\nserver: %s",
      static_cast<long long>(o.clients), static_cast<long long>(o.values), o.values * 4.0 / (1 << 20),
      static_cast<long long>(o.rounds), o.aggregator.c_str(), failures, seconds, PeakResidentMiB(),
      got ? line : "no figures\n");
  return failures == 0 && got && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace biofed

int main(int argc, char** argv) { return biofed::Main(argc, argv); }
