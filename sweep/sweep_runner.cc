#include "sweep/sweep_runner.h"

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "attack/attack_settings.h"
#include "attack/server_behaviour.h"
#include "attack/victim.h"
#include "client/seeds.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "server/checkpoint.h"
#include "experiment/attack_and_score.h"
#include "sweep/defense.h"
#include "sweep/sweep_training.h"
#include "sweep/update_parts.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

constexpr uint64_t kCellDefenseStream = 0x4344;  // "CD": the attacked update's defense noise

// Runs work(i) for i in [0, n) on `jobs` threads. Stops handing out items
// after the first error or once `stop` is raised; returns the first error.
absl::Status RunParallel(size_t n, int64_t jobs, const std::atomic<bool>& stop,
                         const std::function<absl::Status(size_t)>& work) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  absl::Status first_error;
  auto worker = [&] {
    while (!stop.load() && !failed.load()) {
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      absl::Status s = work(i);
      if (!s.ok() && !(absl::IsCancelled(s) && stop.load())) {
        std::lock_guard<std::mutex> lock(mutex);
        if (first_error.ok()) first_error = s;
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int64_t t = 0; t < std::max<int64_t>(1, std::min<int64_t>(jobs, static_cast<int64_t>(n))); ++t) {
    threads.emplace_back(worker);
  }
  for (std::thread& t : threads) t.join();
  return first_error;
}

// Progress of one phase: "12/40, 190s elapsed, about 443s left".
class PhaseClock {
 public:
  explicit PhaseClock(int64_t total) : total_(total), start_(absl::Now()) {}
  std::string Tick() {
    const int64_t done = ++done_;
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start_);
    const double left = elapsed / done * (total_ - done);
    return absl::StrFormat("%d/%d, %.0fs elapsed, about %.0fs left", done, total_, elapsed, left);
  }

 private:
  const int64_t total_;
  const absl::Time start_;
  std::atomic<int64_t> done_{0};
};

absl::StatusOr<TrainingRow> RunTraining(const SweepConfig& c, const TrainingJob& job, const DatasetSplits& data,
                                        const std::atomic<bool>& stop) {
  const absl::Time start = absl::Now();
  BIOFED_ASSIGN_OR_RETURN(TrainedFederation trained, TrainFederation(c, job, data, stop));
  TrainingRow row;
  row.key = job.Key();
  row.model = job.model;
  row.mechanisms = job.mechanisms;
  row.defense = job.defense;
  row.seed = job.seed;
  row.rounds = trained.rounds;
  row.state = job.converged ? "converged" : "mid";
  row.plateaued = trained.plateaued;
  row.test_accuracy = trained.test_accuracy;
  row.test_loss = trained.test_loss;
  row.dp_epsilon = trained.dp_epsilon;
  row.dp_delta = kSweepDpDelta;
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& [round, accuracy] : trained.accuracy_curve) curve.push_back({round, accuracy});
  row.accuracy_curve_json = curve.dump();
  Checkpoint checkpoint;
  checkpoint.run_id = job.Key();
  checkpoint.completed_rounds = trained.rounds;
  checkpoint.model = std::move(trained.model);
  row.model_state.bytes = EncodeCheckpoint(checkpoint);
  row.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return row;
}

// The victim's update with the cell's update-level defense applied, and the
// norm of what the attacker then sees. Without one (none, or DP-SGD, which
// acted in the training loop) the update stays on the device.
absl::StatusOr<double> DefendUpdate(const AttackCell& cell, const Defense& defense, UpdateRecord& record) {
  if (defense.kind != Defense::Kind::kNone && defense.kind != Defense::Kind::kDpSgd) {
    TensorTable table;
    for (const NamedTensor& t : record.update) {
      BIOFED_ASSIGN_OR_RETURN(HostTensor host, ToHostTensor(t.name, t.tensor, TensorRole::kParameter));
      table.push_back(std::move(host));
    }
    BIOFED_RETURN_IF_ERROR(ApplyDefense(
        defense, MixSeed(static_cast<uint64_t>(cell.seed), kCellDefenseStream, static_cast<uint64_t>(cell.batch_size)),
        table));
    for (size_t i = 0; i < table.size(); ++i) record.update[i].tensor = ToTorch(table[i]);
  }
  double squared = 0;
  for (const NamedTensor& t : record.update) squared += t.tensor.to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(squared);
}

absl::StatusOr<CellRow> RunCell(const SweepConfig& c, const AttackCell& cell, const DatasetSplits& data,
                                const torch::Device& device, SweepStore& store) {
  VictimOptions o;
  BIOFED_ASSIGN_OR_RETURN(o.architecture, ParseArchitecture(cell.model));
  BIOFED_ASSIGN_OR_RETURN(o.biomod, SweepBiomod(c, cell.mechanisms));
  o.batch_size = cell.batch_size;
  const SweepVictim victim = cell.Victim();
  o.clients = victim.clients;
  // What the client sends of its K local steps (one FedSGD step by
  // default): by default the pseudo-gradient (w - w') / lr, so WR's resets
  // are part of it.
  o.share = victim.share;
  o.local_steps = victim.local_steps;
  o.client_lr = victim.client_lr > 0 ? victim.client_lr : c.lr;
  o.seed = static_cast<uint64_t>(cell.seed);
  BIOFED_ASSIGN_OR_RETURN(const Defense defense, ParseDefense(cell.defense));
  o.dp = ClientDpSgd(defense);
  if (cell.trained()) {
    BIOFED_ASSIGN_OR_RETURN(std::string state, store.TrainedModel(cell.Training().Key()));
    BIOFED_ASSIGN_OR_RETURN(Checkpoint checkpoint, DecodeCheckpoint(state, cell.Training().Key()));
    o.initial_state = ToNamedTensors(checkpoint.model);
  }
  BIOFED_ASSIGN_OR_RETURN(AttackSpec attacker, CellAttacker(c, cell.attack, cell.iterations));
  attacker = WithProtocolWr(std::move(attacker), o.biomod.d_re, o.biomod.variant == RejuvenationVariant::kPaper);
  // An active attacker (imprint) is the server: it sends the victim its model.
  o.server = ServerBehaviourOf(attacker.config);
  BIOFED_ASSIGN_OR_RETURN(CaptureFile capture, MakeVictimCapture(o, data));
  BIOFED_ASSIGN_OR_RETURN(
      double norm, CallTorch("defending the update", [&] { return DefendUpdate(cell, defense, capture.record); }));
  BIOFED_ASSIGN_OR_RETURN(const UpdateParts parts, SplitUpdateAtResets(capture.record, *capture.audit));
  const AttackRequest request{attacker, cell.attack, static_cast<uint64_t>(cell.seed), 0, {}};
  BIOFED_ASSIGN_OR_RETURN(AttackOutcome outcome, AttackAndScore(request, capture.record, *capture.audit, device));
  CellRow row = CellRowOf(cell);
  row.scored = std::move(outcome.scored);
  row.update_norm = norm;
  row.reset_fraction = parts.reset_fraction;
  row.reset_norm = parts.reset_norm;
  row.gradient_part_norm = parts.gradient_norm;
  row.test_indices = absl::StrJoin(capture.audit->sample_indices, ",");
  // The K local steps take disjoint batches: each example is in one step's release.
  BIOFED_ASSIGN_OR_RETURN(row.dp_epsilon, DefenseEpsilon(defense, 1.0, 1));
  row.dp_delta = kSweepDpDelta;
  return row;
}

}  // namespace

double CellsPerHour(const ModelCellTimes& times, int64_t workers) {
  if (times.cells == 0 || times.seconds <= 0) return 0;
  return static_cast<double>(workers) * 3600.0 / (times.seconds / static_cast<double>(times.cells));
}

namespace {

// What the study does not hold yet: trainings in order, cells longest first.
struct PendingWork {
  std::vector<TrainingJob> trainings;
  std::vector<AttackCell> cells;
};

absl::StatusOr<PendingWork> PendingWorkOf(const std::vector<TrainingJob>& trainings,
                                          const std::vector<AttackCell>& cells, SweepStore& store) {
  BIOFED_ASSIGN_OR_RETURN(std::set<std::string> trained, store.FinishedTrainings());
  BIOFED_ASSIGN_OR_RETURN(std::set<std::string> finished, store.FinishedCells());
  PendingWork pending;
  for (const TrainingJob& j : trainings) {
    if (!trained.count(j.Key())) pending.trainings.push_back(j);
  }
  for (const AttackCell& cell : cells) {
    if (!finished.count(cell.Key())) pending.cells.push_back(cell);
  }
  pending.cells = LongestFirst(std::move(pending.cells));
  return pending;
}

}  // namespace

absl::StatusOr<SweepCounts> RunSweep(const SweepConfig& c, SweepStore& store, int64_t jobs,
                                     const std::atomic<bool>& stop,
                                     const std::function<void(const std::string&)>& progress,
                                     const SweepShard& shard) {
  BIOFED_RETURN_IF_ERROR(ValidateSweepConfig(c));
  BIOFED_ASSIGN_OR_RETURN(const torch::Device device, ResolveDevice(c.device));  // no CUDA: refused before any work
  ConfigureThreads(1);
  const std::vector<AttackCell> cells = CellsOfShard(c, ExpandCells(c), shard);
  const std::vector<TrainingJob> trainings = TrainingJobsFor(cells);
  BIOFED_ASSIGN_OR_RETURN(PendingWork pending, PendingWorkOf(trainings, cells, store));
  const std::vector<TrainingJob>& pending_trainings = pending.trainings;
  const std::vector<AttackCell>& pending_cells = pending.cells;
  SweepCounts counts;
  counts.workers = std::max<int64_t>(1, jobs);
  counts.trainings = static_cast<int64_t>(trainings.size());
  counts.trainings_already_done = counts.trainings - static_cast<int64_t>(pending_trainings.size());
  counts.cells = static_cast<int64_t>(cells.size());
  counts.cells_already_done = counts.cells - static_cast<int64_t>(pending_cells.size());
  progress(absl::StrFormat("%s%d cells (%d already in the study), %d training federations (%d already in the "
                           "study), %d workers",
                           shard.whole() ? "" : absl::StrCat("shard ", shard.Name(), ": "), counts.cells,
                           counts.cells_already_done, counts.trainings, counts.trainings_already_done, jobs));
  if (pending_trainings.empty() && pending_cells.empty()) return counts;
  BIOFED_ASSIGN_OR_RETURN(DatasetSplits data, LoadDataset(c.dataset, c.data_dir));

  std::mutex progress_mutex;
  auto tell = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress(line);
  };
  std::atomic<int64_t> trainings_run{0}, cells_run{0};
  PhaseClock training_clock(static_cast<int64_t>(pending_trainings.size()));
  BIOFED_RETURN_IF_ERROR(RunParallel(pending_trainings.size(), jobs, stop, [&](size_t i) -> absl::Status {
    const TrainingJob& job = pending_trainings[i];
    auto row = CallTorch("training", [&] { return RunTraining(c, job, data, stop); });
    if (!row.ok()) {
      if (absl::IsCancelled(row.status())) return row.status();
      return absl::Status(row.status().code(), absl::StrCat("training ", job.Key(), ": ", row.status().message()));
    }
    BIOFED_RETURN_IF_ERROR(store.AddTraining(*row));
    ++trainings_run;
    tell(absl::StrFormat("trained %s: test accuracy %.4f after %d rounds (%.1fs) [%s]", job.Key(), row->test_accuracy,
                         row->rounds, row->seconds, training_clock.Tick()));
    return absl::OkStatus();
  }));
  PhaseClock cell_clock(static_cast<int64_t>(pending_cells.size()));
  const absl::Time cells_start = absl::Now();
  std::mutex times_mutex;  // guards counts.by_model
  if (!stop.load()) {
    BIOFED_RETURN_IF_ERROR(RunParallel(pending_cells.size(), jobs, stop, [&](size_t i) -> absl::Status {
      const AttackCell& cell = pending_cells[i];
      const absl::Time cell_start = absl::Now();
      auto row = CallTorch("attack cell", [&] { return RunCell(c, cell, data, device, store); });
      if (!row.ok()) {
        return absl::Status(row.status().code(), absl::StrCat("cell ", cell.Key(), ": ", row.status().message()));
      }
      BIOFED_RETURN_IF_ERROR(store.AddCell(*row));
      ++cells_run;
      {
        std::lock_guard<std::mutex> lock(times_mutex);
        ModelCellTimes& times = counts.by_model[cell.model];
        ++times.cells;
        times.seconds += absl::ToDoubleSeconds(absl::Now() - cell_start);
      }
      const ScoredAttack& scored = row->scored;
      tell(absl::StrFormat("%s: PSNR %.2f dB, SSIM %.3f, rel. error %.1f%% (%.1fs) [%s]", cell.Key(), scored.psnr,
                           scored.ssim, scored.relative_error_percent, scored.seconds, cell_clock.Tick()));
      return absl::OkStatus();
    }));
  }
  counts.cell_phase_seconds = absl::ToDoubleSeconds(absl::Now() - cells_start);
  counts.trainings_run = trainings_run.load();
  counts.cells_run = cells_run.load();
  counts.interrupted = stop.load();
  return counts;
}

}  // namespace biofed
