// Federation with real clients over gRPC: FedSGD equals a centralised step,
// the auditor sees exactly the client's bytes and the scorer rebuilds the
// true batch, clients ride out a server restart, TLS and mutual TLS refuse
// clients without the CA or a certificate; and (label long) 5 FedAvg rounds
// of the MLP on Fashion-MNIST with 3 clients reach 80% test accuracy.
#include <sys/resource.h>

#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attack/observer_client.h"
#include "client/federated_client.h"
#include "client/training_step.h"
#include "common/log.h"
#include "common/runtime.h"
#include "data/partition.h"
#include "models/model_state.h"
#include "server/model_evaluator.h"
#include "tests/testing/federation_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;

const char* const kTokens[] = {"client0-token-0123456789", "client1-token-0123456789", "client2-token-0123456789"};
constexpr char kAuditorToken[] = "auditor-token-0123456789";

// 200 random 1x28x28 images with random labels: enough to exercise training.
std::shared_ptr<Dataset> SyntheticDataset(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  auto d = std::make_shared<Dataset>();
  d->name = "synthetic";
  d->images = torch::randint(0, 256, {n, 1, 28, 28}, torch::kUInt8);
  d->labels = torch::randint(0, 10, {n}, torch::kLong);
  d->num_classes = 10;
  return d;
}

ModelSpec MlpSpec() { return ModelSpec{Architecture::kMlp, {1, 28, 28}, 10, 0, 0}; }

CredentialStore Credentials(int clients) {
  CredentialStore c;
  for (int i = 0; i < clients; ++i) EXPECT_THAT(c.Add("client" + std::to_string(i), {Role::kClient}, kTokens[i]), IsOk());
  EXPECT_THAT(c.Add("auditor", {Role::kAuditor, Role::kScorer}, kAuditorToken), IsOk());
  return c;
}

FederationConfig BaseConfig(int clients) {
  FederationConfig config;
  config.run_id = "test";
  config.model_spec_json = ModelSpecToJson(MlpSpec());
  config.dataset = "synthetic";
  config.min_clients = clients;
  config.poll_interval = absl::Milliseconds(10);
  return config;
}

FederatedClientOptions ClientOptions(const std::string& address, int i) {
  FederatedClientOptions o;
  o.address = address;
  o.security.insecure = true;
  o.token = kTokens[i];
  o.seed = 100 + i;
  o.max_unavailable = absl::Seconds(30);
  return o;
}

class FederationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    ConfigureThreads(1);
  }
};

TEST_F(FederationTest, FedSgdWithOneClientEqualsOneCentralizedStep) {
  auto data = SyntheticDataset(200, 1);
  const Normalization norm = ComputeNormalization(*data);
  FederationConfig config = BaseConfig(1);
  config.rounds = 1;
  config.mode = TrainingMode::kFedSgd;
  config.batch_size = 0;  // the whole partition
  config.lr = 0.1;
  auto initial = BuildModel(MlpSpec(), 5);
  ASSERT_THAT(initial, IsOk());
  auto f = testing::StartFederation(config, ModelStateTable(*initial), nullptr, Credentials(1));
  ASSERT_NE(f, nullptr);
  LocalData local{data, {}, norm};
  for (int64_t i = 0; i < 200; ++i) local.indices.push_back(i);
  FederatedClient client(ClientOptions(f->address(), 0), local);
  ASSERT_THAT(client.Run(), IsOk());
  ASSERT_EQ(f->core->completed_rounds(), 1);

  // Independently: one SGD step of the same model on all 200 samples.
  Model centralized = initial->Clone();
  TrainingStep step(centralized, BiomodOptions{}, OptimizerOptions{"sgd", 0.1, 0, 0}, 0);
  step.Step(NormalizedImages(*data, norm, torch::arange(200)), data->labels);
  const auto federated = ToNamedTensors(*f->core->current_model());
  const auto expected = centralized.named_state();
  ASSERT_EQ(federated.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(federated[i].name, expected[i].name);
    // Same gradient summed in another sample order, then (w - w')/lr * lr:
    // float32 rounding of values below 1, far under 1e-6.
    EXPECT_TRUE(torch::allclose(federated[i].tensor, expected[i].tensor, 0, 1e-6)) << expected[i].name;
  }
  EXPECT_FALSE(torch::equal(ToNamedTensors(ModelStateTable(*initial))[0].tensor, federated[0].tensor));
}

TEST_F(FederationTest, AuditorSeesExactlyTheClientsBytesAndScorerRebuildsTheBatch) {
  auto data = SyntheticDataset(200, 2);
  const Normalization norm = ComputeNormalization(*data);
  FederationConfig config = BaseConfig(2);
  config.rounds = 2;
  config.mode = TrainingMode::kFedSgd;
  config.batch_size = 4;
  config.collect_audit_manifests = true;
  config.observation_log_limit = 16;
  auto initial = BuildModel(MlpSpec(), 6);
  ASSERT_THAT(initial, IsOk());
  auto f = testing::StartFederation(config, ModelStateTable(*initial), nullptr, Credentials(2));
  ASSERT_NE(f, nullptr);

  std::mutex mutex;
  std::map<std::pair<int64_t, std::string>, LocalResult> sent;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(2);
  for (int i = 0; i < 2; ++i) {
    FederatedClientOptions o = ClientOptions(f->address(), i);
    o.biomod.fuzzy_learning_rates = true;
    const std::string id = "client" + std::to_string(i);
    o.on_submitted = [&, id](int64_t round, const LocalResult& r) {
      std::lock_guard<std::mutex> lock(mutex);
      sent[{round, id}] = r;
    };
    LocalData local{data, {}, norm};
    for (int64_t s = i * 100; s < (i + 1) * 100; ++s) local.indices.push_back(s);
    threads.emplace_back([&results, i, o, local] { results[i] = FederatedClient(o, local).Run(); });
  }
  ObserverOptions observer;
  observer.address = f->address();
  observer.security.insecure = true;
  observer.token = kAuditorToken;
  observer.norm = norm;
  auto session = ObserverSession::Open(observer);
  ASSERT_THAT(session, IsOk());
  std::vector<UpdateRecord> records;
  ASSERT_THAT(session->Observe(v1::ObserveRequest(), [&](UpdateRecord r) {
    records.push_back(std::move(r));
    return true;
  }), IsOk());
  for (auto& t : threads) t.join();
  for (const auto& r : results) ASSERT_THAT(r, IsOk());
  ASSERT_EQ(records.size(), 4u);  // 2 rounds x 2 clients

  DatasetSplits splits{*data, *data, norm};
  for (const UpdateRecord& r : records) {
    const LocalResult& truth = sent.at({r.round, r.client_id});
    EXPECT_EQ(r.kind, SharedKind::kPseudoGradient);
    EXPECT_EQ(r.batch_size, 4);
    EXPECT_EQ(r.local_steps, 1);
    ASSERT_EQ(r.update.size(), truth.update.size());
    for (const NamedTensor& u : r.update) {
      const HostTensor* t = FindTensor(truth.update, u.name);
      ASSERT_NE(t, nullptr);
      auto observed = ToHostTensor(u.name, u.tensor, TensorRole::kParameter);
      ASSERT_THAT(observed, IsOk());
      EXPECT_EQ(observed->bytes, t->bytes) << u.name;  // bit for bit
    }
    // The global model the auditor got is the version the client trained from.
    const auto version = f->core->Model(r.round - 1);
    if (version.ok()) {
      EXPECT_TRUE(torch::equal(ToNamedTensors(**version)[0].tensor, r.global_state[0].tensor));
    }
    auto manifest = session->FetchAuditManifest(r.round, r.client_id);
    ASSERT_THAT(manifest, IsOk());
    EXPECT_EQ(std::vector<int64_t>(manifest->sample_indices().begin(), manifest->sample_indices().end()),
              truth.sample_indices);
    auto audit = AuditFromManifest(*manifest, splits);
    ASSERT_THAT(audit, IsOk());
    EXPECT_TRUE(torch::equal(audit->images,
                             NormalizedImages(*data, norm, torch::tensor(truth.sample_indices, torch::kLong))));
    EXPECT_DOUBLE_EQ(audit->tau, 0.18);
  }
  // A client's credential cannot read manifests.
  ObserverOptions client_as_scorer = observer;
  client_as_scorer.token = kTokens[0];
  auto client_session = ObserverSession::Open(client_as_scorer);
  ASSERT_THAT(client_session, IsOk());
  EXPECT_EQ(client_session->FetchAuditManifest(1, "client0").status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(FederationTest, ClientsRideOutAServerRestart) {
  testing::TempDir dir;
  auto data = SyntheticDataset(200, 3);
  const Normalization norm = ComputeNormalization(*data);
  FederationConfig config = BaseConfig(2);
  config.rounds = 4;
  config.batch_size = 20;
  config.checkpoint_path = dir.File("server.ckpt");
  auto initial = BuildModel(MlpSpec(), 7);
  ASSERT_THAT(initial, IsOk());
  const TensorTable initial_table = ModelStateTable(*initial);
  auto f = testing::StartFederation(config, initial_table, nullptr, Credentials(2));
  ASSERT_NE(f, nullptr);
  const int port = f->server->port();
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(2);
  for (int i = 0; i < 2; ++i) {
    LocalData local{data, {}, norm};
    for (int64_t s = i * 100; s < (i + 1) * 100; ++s) local.indices.push_back(s);
    FederatedClientOptions o = ClientOptions(f->address(), i);
    threads.emplace_back([&results, i, o, local] { results[i] = FederatedClient(o, local).Run(); });
  }
  const absl::Time end = absl::Now() + absl::Seconds(60);
  while (f->core->completed_rounds() < 2 && absl::Now() < end) absl::SleepFor(absl::Milliseconds(2));
  ASSERT_GE(f->core->completed_rounds(), 2);
  f->Stop();  // possibly mid-round 3: that round is lost, rounds 1-2 are in the checkpoint
  auto checkpoint = ReadCheckpoint(config.checkpoint_path);
  ASSERT_THAT(checkpoint, IsOk());
  absl::SleepFor(absl::Milliseconds(500));

  f = testing::StartFederation(config, initial_table, nullptr, Credentials(2), {true, "", "", ""},
                               "127.0.0.1:" + std::to_string(port));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->core->completed_rounds(), checkpoint->completed_rounds);
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_THAT(r, IsOk());
  EXPECT_EQ(f->core->completed_rounds(), 4);
  ASSERT_EQ(f->core->history().size(), 4u);
  for (int64_t r = 0; r < 4; ++r) EXPECT_EQ(f->core->history()[r].round, r + 1);
}

std::string MakeCertificates(const std::string& dir) {
  const std::string command = std::string(BIOFED_SOURCE_DIR) + "/deploy/make-certs.sh " + dir +
                              " --client client0 2>/dev/null";
  EXPECT_EQ(std::system(command.c_str()), 0);
  return dir;
}

absl::Status JoinOver(const std::string& address, const ChannelSecurity& security) {
  auto channel = MakeFederationChannel(address, security);
  if (!channel.ok()) return channel.status();
  auto stub = v1::Federation::NewStub(*channel);
  grpc::ClientContext context;
  PrepareContext(&context, kTokens[0], absl::Seconds(5));
  v1::JoinReply reply;
  return FromGrpcStatus(stub->Join(&context, v1::JoinRequest(), &reply));
}

TEST_F(FederationTest, TlsRefusesAClientWithoutTheCa) {
  testing::TempDir dir;
  const std::string certs = MakeCertificates(dir.path());
  FederationConfig config = BaseConfig(1);
  ServerSecurity tls{false, certs + "/server.pem", certs + "/server.key", ""};
  auto f = testing::StartFederation(config, {testing::FloatTensor("w", {2}, 0)}, nullptr, Credentials(1), tls,
                                    "localhost:0");
  ASSERT_NE(f, nullptr);
  const std::string address = "localhost:" + std::to_string(f->server->port());
  testing::TempDir other_dir;
  const std::string other = MakeCertificates(other_dir.path());
  ChannelSecurity with_ca;
  with_ca.ca_path = other + "/ca.pem";  // another CA than the one that signed the server
  EXPECT_EQ(JoinOver(address, with_ca).code(), absl::StatusCode::kUnavailable);
  ChannelSecurity system_roots;  // no CA given: the development CA is unknown
  EXPECT_EQ(JoinOver(address, system_roots).code(), absl::StatusCode::kUnavailable);
  with_ca.ca_path = certs + "/ca.pem";
  EXPECT_THAT(JoinOver(address, with_ca), IsOk());
  ChannelSecurity plain;
  plain.insecure = true;
  EXPECT_EQ(JoinOver(address, plain).code(), absl::StatusCode::kUnavailable);
}

TEST_F(FederationTest, MutualTlsRefusesAClientWithoutACertificate) {
  testing::TempDir dir;
  const std::string certs = MakeCertificates(dir.path());
  FederationConfig config = BaseConfig(1);
  ServerSecurity mtls{false, certs + "/server.pem", certs + "/server.key", certs + "/ca.pem"};
  auto f = testing::StartFederation(config, {testing::FloatTensor("w", {2}, 0)}, nullptr, Credentials(1), mtls,
                                    "localhost:0");
  ASSERT_NE(f, nullptr);
  const std::string address = "localhost:" + std::to_string(f->server->port());
  ChannelSecurity no_certificate;
  no_certificate.ca_path = certs + "/ca.pem";
  EXPECT_EQ(JoinOver(address, no_certificate).code(), absl::StatusCode::kUnavailable);
  ChannelSecurity with_certificate = no_certificate;
  with_certificate.certificate_path = certs + "/client-client0.pem";
  with_certificate.private_key_path = certs + "/client-client0.key";
  EXPECT_THAT(JoinOver(address, with_certificate), IsOk());
}

// Label `long`: 100 client threads on loopback for 3 FedSGD rounds; every
// client's update is aggregated in every round. Prints time and peak memory
// (docs/benchmarks.md).
TEST_F(FederationTest, LongHundredClientsThreeRoundsLoseNoUpdate) {
  constexpr int kClients = 100;
  auto data = SyntheticDataset(kClients * 10, 9);
  const Normalization norm = ComputeNormalization(*data);
  CredentialStore credentials;
  std::vector<std::string> tokens;
  for (int i = 0; i < kClients; ++i) {
    tokens.push_back("load-client-token-" + std::to_string(1000 + i));
    ASSERT_THAT(credentials.Add("c" + std::to_string(1000 + i), {Role::kClient}, tokens.back()), IsOk());
  }
  FederationConfig config = BaseConfig(kClients);
  config.rounds = 3;
  config.mode = TrainingMode::kFedSgd;
  config.batch_size = 10;
  config.poll_interval = absl::Milliseconds(100);
  config.round_deadline = absl::Seconds(120);
  auto initial = BuildModel(MlpSpec(), 8);
  ASSERT_THAT(initial, IsOk());
  const absl::Time start = absl::Now();
  auto f = testing::StartFederation(config, ModelStateTable(*initial), nullptr, std::move(credentials));
  ASSERT_NE(f, nullptr);
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kClients);
  for (int i = 0; i < kClients; ++i) {
    FederatedClientOptions o = ClientOptions(f->address(), 0);
    o.token = tokens[i];
    o.seed = 5000 + i;
    LocalData local{data, {}, norm};
    for (int64_t s = i * 10; s < (i + 1) * 10; ++s) local.indices.push_back(s);
    threads.emplace_back([&results, i, o, local] { results[i] = FederatedClient(o, local).Run(); });
  }
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (const auto& r : results) ASSERT_THAT(r, IsOk());
  const auto history = f->core->history();
  ASSERT_EQ(history.size(), 3u);
  for (const RoundSummary& s : history) {
    EXPECT_EQ(s.participants.size(), static_cast<size_t>(kClients)) << "round " << s.round;
    EXPECT_TRUE(s.dropped.empty());
    EXPECT_EQ(s.examples, kClients * 10);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("100 clients x 3 rounds: %.1f s, peak RSS %.0f MiB\n", seconds, usage.ru_maxrss / 1024.0);
}

// Label `long`: the real Fashion-MNIST (Debian package dataset-fashion-mnist).
TEST_F(FederationTest, LongFedAvgMlpFashionMnistThreeClientsReaches80Percent) {
  ConfigureThreads(2);
  auto splits = LoadDataset("fashion-mnist", "");
  ASSERT_THAT(splits, IsOk());
  auto train = std::make_shared<const Dataset>(splits->train);
  std::vector<int64_t> labels(train->labels.data_ptr<int64_t>(), train->labels.data_ptr<int64_t>() + train->size());
  PartitionOptions partition;
  partition.num_clients = 3;
  partition.seed = 1;
  auto parts = PartitionDataset(labels, train->num_classes, partition);
  ASSERT_THAT(parts, IsOk());
  FederationConfig config = BaseConfig(3);
  config.dataset = "fashion-mnist";
  config.rounds = 5;
  config.lr = 0.05;
  config.batch_size = 32;
  config.local_epochs = 1;
  auto initial = BuildModel(MlpSpec(), 1);
  ASSERT_THAT(initial, IsOk());
  auto evaluator = MakeModelEvaluator(MlpSpec(), std::make_shared<const Dataset>(splits->test), splits->norm, "cpu");
  ASSERT_THAT(evaluator, IsOk());
  auto f = testing::StartFederation(config, ModelStateTable(*initial), *evaluator, Credentials(3));
  ASSERT_NE(f, nullptr);
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(3);
  for (int i = 0; i < 3; ++i) {
    // 10,000 of each client's ~20,000 IID samples keep the test under a minute on 2 cores.
    LocalData local{train, std::vector<int64_t>((*parts)[i].begin(), (*parts)[i].begin() + 10000), splits->norm};
    FederatedClientOptions o = ClientOptions(f->address(), i);
    threads.emplace_back([&results, i, o, local] { results[i] = FederatedClient(o, local).Run(); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) ASSERT_THAT(r, IsOk());
  const auto history = f->core->history();
  ASSERT_EQ(history.size(), 5u);
  for (const RoundSummary& s : history) {
    std::printf("round %lld: test accuracy %.4f, %lld examples, %.1f s\n", static_cast<long long>(s.round),
                s.test_accuracy, static_cast<long long>(s.examples), s.seconds);
  }
  EXPECT_GT(history.back().test_accuracy, 0.80);
}

}  // namespace
}  // namespace biofed
