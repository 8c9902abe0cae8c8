// CTest label `soak`: 20 clients over TLS for many short FedSGD rounds
// while a fault injector stops clients at random (mid-round too) and starts
// them again, the server is stopped and restarted twice mid-round, a rogue
// client sends a malformed update in every round it is given, and two slow
// clients submit only after their round has closed. At the end: nothing
// crashed, every completed round is in the checkpoint and in the results
// database exactly once, the global model equals a replay of the accepted
// updates as the auditor observed them, and neither the rogue nor the slow
// clients ever changed the model.
#include <sqlite3.h>

#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attack/observer_client.h"
#include "client/federated_client.h"
#include "common/log.h"
#include "common/runtime.h"
#include "experiment/grpc_federation.h"
#include "models/model_state.h"
#include "server/aggregation.h"
#include "server/checkpoint.h"
#include "simulate/results_store.h"
#include "tests/testing/federation_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;

constexpr int kClients = 20;
constexpr int kSamplesPerClient = 16;
constexpr int64_t kRounds = 24;
constexpr absl::Duration kDeadline = absl::Milliseconds(1500);
constexpr char kAuditorToken[] = "soak-auditor-token-0123456789";
constexpr char kRogueToken[] = "soak-rogue-token-0123456789";

std::string ClientToken(int i) { return "soak-client-" + std::to_string(i) + "-token-0123456789"; }
std::string SlowToken(int i) { return "soak-slow-" + std::to_string(i) + "-token-0123456789"; }

// 8x8 inputs keep the MLP (64-1000-10) small enough to observe every update.
ModelSpec SoakSpec() { return ModelSpec{Architecture::kMlp, {1, 8, 8}, 10, 0, 0}; }

CredentialStore SoakCredentials() {
  CredentialStore c;
  for (int i = 0; i < kClients; ++i) EXPECT_THAT(c.Add("c" + std::to_string(i), {Role::kClient}, ClientToken(i)), IsOk());
  for (int i = 0; i < 2; ++i) EXPECT_THAT(c.Add("slow" + std::to_string(i), {Role::kClient}, SlowToken(i)), IsOk());
  EXPECT_THAT(c.Add("rogue", {Role::kClient}, kRogueToken), IsOk());
  EXPECT_THAT(c.Add("auditor", {Role::kAuditor}, kAuditorToken), IsOk());
  return c;
}

// What the auditor saw: for each (round, client) the last observation
// (a round reopened after a server restart supersedes its lost attempt).
class ObservationArchive {
 public:
  void Add(ObserverSession::Tables tables) {
    std::lock_guard<std::mutex> lock(mutex_);
    const v1::UpdateHeader& h = tables.header.update();
    latest_[{h.round(), h.client_id()}] = std::move(tables);
    ++count_;
  }
  const ObserverSession::Tables* Find(int64_t round, const std::string& client) const {
    auto it = latest_.find({round, client});
    return it == latest_.end() ? nullptr : &it->second;
  }
  int64_t count() const { return count_; }

 private:
  std::mutex mutex_;
  std::map<std::pair<int64_t, std::string>, ObserverSession::Tables> latest_;
  int64_t count_ = 0;
};

// One client slot: a FederatedClient that the fault injector may stop at
// any moment; the slot starts a fresh one (same credential) after a pause.
struct ClientSlot {
  std::atomic<bool> stop{false};
  std::atomic<int> kills{0};
  absl::Status final_status;
};

// An update that fits `model`'s schema (the model's own values).
TensorTable WellFormedUpdate(const TensorTable& model) {
  TensorTable update = UpdateSchema(model);
  for (HostTensor& t : update) t.bytes = FindTensor(model, t.name)->bytes;
  return update;
}

// The malformed updates the rogue client cycles through; each must be refused.
std::vector<testing::Submission> RogueSubmissions(const TensorTable& valid, const v1::TrainTask& task,
                                                  const std::string& id) {
  v1::UpdateHeader header;
  header.set_client_id(id);
  header.set_round(task.round());
  header.set_model_version(task.model_version());
  header.set_num_examples(8);
  header.set_lr(task.lr());
  header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
  std::vector<testing::Submission> bad;
  auto base = [&] {
    testing::Submission s;
    s.token = kRogueToken;
    s.header = header;
    s.tensors = valid;
    return s;
  };
  testing::Submission wrong_shape = base();
  wrong_shape.tensors[0].shape = {wrong_shape.tensors[0].shape[1], wrong_shape.tensors[0].shape[0] + 1};
  wrong_shape.tensors[0].bytes.resize(wrong_shape.tensors[0].bytes.size() + 4 * wrong_shape.tensors[0].shape[0]);
  bad.push_back(wrong_shape);
  testing::Submission nan = base();
  nan.tensors[1].mutable_floats()[0] = std::nanf("");
  bad.push_back(nan);
  testing::Submission checksum = base();
  checksum.crc_of_first = 0xdeadbeef;
  bad.push_back(checksum);
  testing::Submission truncated = base();
  truncated.withhold_bytes = 4;
  truncated.send_trailer = false;
  bad.push_back(truncated);
  testing::Submission stale = base();
  stale.header.set_round(task.round() - 1);
  bad.push_back(stale);
  testing::Submission future = base();
  future.header.set_round(task.round() + 1);
  bad.push_back(future);
  testing::Submission wrong_dtype = base();
  wrong_dtype.tensors[1].dtype = DType::kFloat64;
  HostBytes& doubled = wrong_dtype.tensors[1].bytes;
  doubled.append(doubled.data(), doubled.size());
  bad.push_back(wrong_dtype);
  testing::Submission forged = base();
  forged.token = "not-a-token-of-this-federation";
  bad.push_back(forged);
  testing::Submission impersonation = base();
  impersonation.header.set_client_id("c0");
  bad.push_back(impersonation);
  return bad;
}

// A client speaking the protocol directly (the rogue and the slow ones).
class RawClient {
 public:
  RawClient(const std::string& address, const ChannelSecurity& tls, std::string token)
      : stub_(v1::Federation::NewStub(MakeFederationChannel(address, tls).value())), token_(std::move(token)) {}

  // Joins when it has not yet, then pulls briefly: the next train task, or
  // nullopt when there is none now.
  std::optional<v1::TrainTask> NextTask() {
    if (id_.empty()) {
      auto joined = testing::JoinAs(*stub_, token_);
      if (!joined.ok()) {
        absl::SleepFor(absl::Milliseconds(100));
        return std::nullopt;
      }
      id_ = joined->client_id();
    }
    // A restarted server knows only the clients that joined it since.
    if (testing::PullAs(*stub_, token_, id_).status().code() == absl::StatusCode::kNotFound) Rejoin();
    return testing::AwaitTrainTask(*stub_, token_, id_, absl::Milliseconds(200));
  }

  // Joins again (as a real client does when the server does not know it).
  void Rejoin() { testing::JoinAs(*stub_, token_).IgnoreError(); }

  v1::Federation::Stub& stub() { return *stub_; }
  const std::string& id() const { return id_; }

 private:
  std::unique_ptr<v1::Federation::Stub> stub_;
  std::string token_;
  std::string id_;
};

// The federation the soak test runs: FedSGD, 8 updates to close a round,
// short deadlines and timeouts, a checkpoint, and an observation log long
// enough for the auditor to see every accepted update.
FederationConfig SoakConfig(const std::string& checkpoint_path) {
  FederationConfig config;
  config.run_id = "soak";
  config.model_spec_json = ModelSpecToJson(SoakSpec());
  config.dataset = "synthetic";
  config.rounds = kRounds;
  config.mode = TrainingMode::kFedSgd;
  config.lr = 0.05;
  config.batch_size = 8;
  config.min_clients = 8;
  config.round_deadline = kDeadline;
  config.client_timeout = absl::Seconds(2);
  config.poll_interval = absl::Milliseconds(20);
  config.checkpoint_path = checkpoint_path;
  config.observation_log_limit = 4 * kRounds * (kClients + 3);
  return config;
}

// Client i (its own slice of `data`): a real FederatedClient, started again
// (new seed, after a random pause) each time the injector stops it, until a
// run ends otherwise; that status and the number of stops land in `slot`.
void RunClientThroughKills(int i, const std::string& address, const ChannelSecurity& tls,
                           const std::shared_ptr<Dataset>& data, const Normalization& norm, ClientSlot& slot) {
  std::mt19937 rng(1000 + i);
  LocalData local{data, {}, norm};
  for (int64_t s = i * kSamplesPerClient; s < (i + 1) * kSamplesPerClient; ++s) local.indices.push_back(s);
  for (int life = 0;; ++life) {
    slot.stop = false;
    FederatedClientOptions o;
    o.address = address;
    o.security = tls;
    o.token = ClientToken(i);
    o.seed = 100 * life + i;
    o.max_unavailable = absl::Seconds(60);
    o.max_backoff = absl::Milliseconds(200);
    o.stop = &slot.stop;
    slot.final_status = FederatedClient(o, local).Run();
    if (!absl::IsCancelled(slot.final_status)) return;
    ++slot.kills;
    absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(100, 800)(rng)));
  }
}

// The rogue: a valid credential that sends a malformed update (one of
// RogueSubmissions in turn) whenever it has a task, until `over`.
void RunRogue(const std::string& address, const ChannelSecurity& tls, const TensorTable& initial_table,
              const std::atomic<bool>& over, std::atomic<int>& sent, std::atomic<int>& accepted) {
  RawClient client(address, tls, kRogueToken);
  const TensorTable valid = WellFormedUpdate(initial_table);
  size_t next = 0;
  while (!over) {
    const std::optional<v1::TrainTask> task = client.NextTask();
    if (!task) continue;
    auto bad = RogueSubmissions(valid, *task, client.id());
    const absl::Status status = testing::Submit(client.stub(), bad[next++ % bad.size()]);
    ++sent;
    if (status.ok()) ++accepted;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// `kClients` x `kSamplesPerClient` random 8x8 images in 10 classes.
std::shared_ptr<Dataset> SyntheticData() {
  torch::manual_seed(11);
  auto data = std::make_shared<Dataset>();
  data->name = "synthetic";
  data->images = torch::randint(0, 256, {kClients * kSamplesPerClient, 1, 8, 8}, torch::kUInt8);
  data->labels = torch::randint(0, 10, {kClients * kSamplesPerClient}, torch::kLong);
  data->num_classes = 10;
  return data;
}

// The auditor: observes into `archive`, reconnecting after each server
// restart (a new server's log starts with its own first accepted update). A
// stream ends with an error when its server goes away and with OK when the
// federation has finished and every observation was delivered.
void ArchiveObservations(ObserverSession& observer, ObservationArchive& archive, const std::atomic<bool>& over) {
  while (true) {
    const absl::Status streamed = observer.ObserveTables(v1::ObserveRequest(), [&](ObserverSession::Tables t) {
      archive.Add(std::move(t));
      return true;
    });
    if (streamed.ok() && over) return;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

// Stops the server twice, at a random moment within rounds kRounds/3 and
// 2kRounds/3, and starts a new one (`start`) that resumes from the
// checkpoint the old one wrote.
void RestartTwice(std::unique_ptr<testing::RunningFederation>& f,
                  const std::function<std::unique_ptr<testing::RunningFederation>()>& start,
                  const std::string& checkpoint_path) {
  std::mt19937 rng(3);
  for (int64_t after : {kRounds / 3, 2 * kRounds / 3}) {
    const absl::Time end = absl::Now() + absl::Seconds(120);
    while (f->core->completed_rounds() < after && absl::Now() < end) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_GE(f->core->completed_rounds(), after);
    absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(0, 1400)(rng)));
    f->Stop();
    auto checkpoint = ReadCheckpoint(checkpoint_path);
    ASSERT_THAT(checkpoint, IsOk());
    absl::SleepFor(absl::Milliseconds(300));
    f = start();
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->core->completed_rounds(), checkpoint->completed_rounds);
    EXPECT_EQ(f->core->current_model()->at(0).bytes, checkpoint->model[0].bytes);
  }
}

// A slow client's turn: with `task` in hand, waits (heartbeating, joining
// again after a server restart) until the task's round has closed, then
// submits a well-formed update for it, which the server must refuse.
absl::Status SubmitAfterTheRoundClosed(RawClient& client, const std::string& token, const v1::TrainTask& task,
                                       const TensorTable& initial_table, const std::atomic<bool>& over) {
  const int64_t round = task.round();
  absl::SleepFor(kDeadline);
  while (!over) {
    grpc::ClientContext context;
    testing::Authorize(&context, token);
    v1::HeartbeatRequest request;
    request.set_client_id(client.id());
    v1::HeartbeatReply reply;
    const grpc::Status beat = client.stub().Heartbeat(&context, request, &reply);
    if (beat.error_code() == grpc::StatusCode::NOT_FOUND) client.Rejoin();  // the server restarted
    if (beat.ok() && (reply.current_round() > round || reply.finished())) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  testing::Submission late;
  late.token = token;
  late.tensors = WellFormedUpdate(initial_table);
  late.header.set_client_id(client.id());
  late.header.set_round(round);
  late.header.set_model_version(task.model_version());
  late.header.set_num_examples(kSamplesPerClient);
  late.header.set_lr(task.lr());
  late.header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
  return testing::Submit(client.stub(), late);
}

// A slow client: takes a task, waits until its round has closed, then
// submits a well-formed update, which must be refused as stale; until `over`.
void RunSlow(int s, const std::string& address, const ChannelSecurity& tls, const TensorTable& initial_table,
             const std::atomic<bool>& over, std::atomic<int>& sent, std::atomic<int>& accepted) {
  RawClient client(address, tls, SlowToken(s));
  while (!over) {
    const std::optional<v1::TrainTask> task = client.NextTask();
    if (!task) continue;
    ++sent;
    if (SubmitAfterTheRoundClosed(client, SlowToken(s), *task, initial_table, over).ok()) ++accepted;
  }
}

// Stops a random client every 150-450 ms until `over`.
void InjectFaults(std::vector<ClientSlot>& slots, const std::atomic<bool>& over) {
  std::mt19937 rng(7);
  while (!over) {
    absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(150, 450)(rng)));
    slots[std::uniform_int_distribution<int>(0, kClients - 1)(rng)].stop = true;
  }
}

// The results database holds every completed round of `run_id`, once and
// in order, with the checkpoint's participant count.
void ExpectRoundsInDatabase(const std::string& path, int64_t run_id, const Checkpoint& checkpoint) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* query = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT round, participants FROM rounds WHERE run_id = ? ORDER BY round", -1,
                               &query, nullptr),
            SQLITE_OK);
  sqlite3_bind_int64(query, 1, run_id);
  int64_t rows = 0;
  while (sqlite3_step(query) == SQLITE_ROW) {
    ASSERT_LT(rows, kRounds);
    EXPECT_EQ(sqlite3_column_int64(query, 0), rows + 1);
    EXPECT_EQ(sqlite3_column_int64(query, 1), static_cast<int64_t>(checkpoint.history[rows].participants.size()));
    ++rows;
  }
  sqlite3_finalize(query);
  sqlite3_close(db);
  EXPECT_EQ(rows, kRounds);
}

// Replays `history` on `model` from the updates the auditor observed: each
// round's participants are clients (never the rogue or a slow one), each
// trained on the model the replay had reached, and their aggregate is the
// next model. Counts the updates aggregated into `aggregated`.
void ReplayObservedRounds(const std::vector<RoundSummary>& history, const ObservationArchive& archive, double step,
                          TensorTable* model, int64_t* aggregated) {
  for (const RoundSummary& s : history) {
    std::vector<ClientUpdate> updates;
    for (const std::string& p : s.participants) {
      EXPECT_TRUE(p.rfind("c", 0) == 0) << "round " << s.round << " aggregated " << p;
      const ObserverSession::Tables* seen = archive.Find(s.round, p);
      ASSERT_NE(seen, nullptr) << "the auditor never saw " << p << "'s update of round " << s.round;
      ASSERT_EQ(seen->model.size(), model->size());
      for (size_t t = 0; t < model->size(); ++t) {
        ASSERT_EQ(seen->model[t].bytes, (*model)[t].bytes) << "round " << s.round << ": the model " << p << " trained on";
      }
      updates.push_back({p, seen->header.update().num_examples(), seen->update});
    }
    std::vector<const ClientUpdate*> pointers;
    for (const ClientUpdate& u : updates) pointers.push_back(&u);
    auto next = Aggregate(*model, pointers, step);
    ASSERT_THAT(next, IsOk());
    *model = std::move(*next);
    *aggregated += static_cast<int64_t>(updates.size());
  }
}

// The auditor's connection options.
ObserverOptions AuditorOptions(const std::string& address, const ChannelSecurity& tls) {
  ObserverOptions options;
  options.address = address;
  options.security = tls;
  options.token = kAuditorToken;
  return options;
}

// Every completed round, once and in order, is in the checkpoint and in the
// results database; the checkpoint's model and `final_model` both equal the
// replay of the observed accepted updates, round by round, so no round took
// an update from the rogue or a slow client.
void ExpectEveryRoundKeptAndReplayed(const FederationConfig& config, const std::string& db_path, int64_t run_id,
                                     const TensorTable& initial_table, const ObservationArchive& archive,
                                     const TensorTable& final_model, int64_t* aggregated) {
  auto checkpoint = ReadCheckpoint(config.checkpoint_path);
  ASSERT_THAT(checkpoint, IsOk());
  ASSERT_EQ(checkpoint->completed_rounds, kRounds);
  ASSERT_EQ(checkpoint->history.size(), static_cast<size_t>(kRounds));
  for (int64_t r = 0; r < kRounds; ++r) EXPECT_EQ(checkpoint->history[r].round, r + 1);
  ASSERT_NO_FATAL_FAILURE(ExpectRoundsInDatabase(db_path, run_id, *checkpoint));

  TensorTable replay = initial_table;
  ASSERT_NO_FATAL_FAILURE(
      ReplayObservedRounds(checkpoint->history, archive, config.server_lr * config.lr, &replay, aggregated));
  ASSERT_EQ(replay.size(), checkpoint->model.size());
  ASSERT_EQ(replay.size(), final_model.size());
  for (size_t t = 0; t < replay.size(); ++t) {
    EXPECT_EQ(replay[t].bytes, checkpoint->model[t].bytes) << replay[t].name;
    EXPECT_EQ(replay[t].bytes, final_model[t].bytes) << replay[t].name;
  }
}

class SoakTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    ConfigureThreads(1);
  }
};

TEST_F(SoakTest, SoakTwentyClientsOverTlsWithFaults) {
  testing::TempDir dir;
  ASSERT_EQ(std::system((std::string(BIOFED_SOURCE_DIR) + "/deploy/make-certs.sh " + dir.path() + " 2>/dev/null").c_str()), 0);
  const ServerSecurity tls{false, dir.File("server.pem"), dir.File("server.key"), ""};
  ChannelSecurity client_tls;
  client_tls.ca_path = dir.File("ca.pem");
  const FederationConfig config = SoakConfig(dir.File("server.ckpt"));
  const std::shared_ptr<Dataset> data = SyntheticData();
  const Normalization norm = ComputeNormalization(*data);
  auto initial = BuildModel(SoakSpec(), 5);
  ASSERT_THAT(initial, IsOk());
  const TensorTable initial_table = ModelStateTable(*initial);
  auto store = ResultsStore::Open(dir.File("soak.db"));
  ASSERT_THAT(store, IsOk());
  auto run_id = (*store)->AddRun("soak", "none", "{}");
  ASSERT_THAT(run_id, IsOk());
  auto record_round = [&](const RoundSummary& s) {
    EXPECT_THAT((*store)->AddRound(*run_id, RoundRowOf(s)), IsOk()) << "round " << s.round;
  };
  auto start_server = [&](const std::string& address) {
    return testing::StartFederation(config, initial_table, nullptr, SoakCredentials(), tls, address, record_round);
  };
  auto f = start_server("localhost:0");
  ASSERT_NE(f, nullptr);
  const std::string address = "localhost:" + std::to_string(f->server->port());
  std::atomic<bool> over{false};

  // The auditor, the clients, the fault injector, the rogue, the slow clients.
  ObservationArchive archive;
  auto observer = ObserverSession::Open(AuditorOptions(address, client_tls));
  ASSERT_THAT(observer, IsOk());
  std::thread auditor([&] { ArchiveObservations(*observer, archive, over); });
  std::vector<ClientSlot> slots(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] { RunClientThroughKills(i, address, client_tls, data, norm, slots[i]); });
  }
  std::thread injector([&] { InjectFaults(slots, over); });
  std::atomic<int> rogue_sent{0}, rogue_accepted{0};
  std::thread rogue([&] { RunRogue(address, client_tls, initial_table, over, rogue_sent, rogue_accepted); });
  std::atomic<int> slow_sent{0}, slow_accepted{0};
  std::vector<std::thread> slow;
  for (int s = 0; s < 2; ++s) {
    slow.emplace_back([&, s] { RunSlow(s, address, client_tls, initial_table, over, slow_sent, slow_accepted); });
  }

  // Two server restarts, each at a random moment within a round.
  ASSERT_NO_FATAL_FAILURE(RestartTwice(f, [&] { return start_server(address); }, config.checkpoint_path));
  EXPECT_TRUE(f->core->WaitUntilFinished(absl::Seconds(180)));
  for (auto& t : clients) t.join();
  over = true;
  for (auto* t : {&auditor, &injector, &rogue}) t->join();
  for (auto& t : slow) t.join();

  // Every client ended with the federation; the injector did stop some.
  int kills = 0;
  for (const ClientSlot& slot : slots) {
    EXPECT_THAT(slot.final_status, IsOk());
    kills += slot.kills;
  }
  EXPECT_GE(kills, 10);
  EXPECT_GT(rogue_sent, 0);
  EXPECT_EQ(rogue_accepted, 0);
  EXPECT_GT(slow_sent, 0);
  EXPECT_EQ(slow_accepted, 0);

  // Every completed round, once and in order, in the checkpoint and in the
  // results database; the model is the replay of the observed updates.
  store->reset();
  int64_t aggregated = 0;
  ASSERT_NO_FATAL_FAILURE(ExpectEveryRoundKeptAndReplayed(config, dir.File("soak.db"), *run_id, initial_table, archive,
                                                          *f->core->current_model(), &aggregated));
  std::printf("soak: %lld rounds, %lld updates aggregated, %lld observed, %d client stops, %d rogue and %d late "
              "updates refused, 2 server restarts\n", static_cast<long long>(kRounds), static_cast<long long>(aggregated),
              static_cast<long long>(archive.count()), kills, rogue_sent.load(), slow_sent.load());
}

}  // namespace
}  // namespace biofed
