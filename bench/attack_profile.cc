// Where an Inverting Gradients iteration's time goes: runs the real attack
// path (RunAttack) on a synthetic victim under LibTorch's profiler and prints
// each operator's self time per iteration, the autograd engine's own share
// and the wall time per iteration. Not a benchmark (the profiler adds its own
// cost per op); the speed figures come from biofed_attack_bench.
//
// usage: biofed_attack_profile MODEL BATCH [ITERATIONS [THREADS [TOP]]]
//   e.g. biofed_attack_profile resnet20 1 100 2 25
// BIOFED_PROFILE_SHAPES=1 keys the operators by their input shapes too.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include "attack/attack.h"
#include "bench/bench_fixtures.h"
#include "common/memory.h"
#include "common/runtime.h"

namespace biofed {
namespace {

namespace prof = torch::autograd::profiler;

struct OpTime {
  double self_us = 0;
  double total_us = 0;  // including nested ranges
  int64_t calls = 0;
};

// "name [2, 3] [3]" for an event recorded with input shapes.
std::string Key(const prof::LegacyEvent& e, bool with_shapes) {
  std::string key = e.name();
  if (!with_shapes) return key;
  for (const auto& shape : e.shapes()) {
    key += " [";
    for (size_t i = 0; i < shape.size(); ++i) key += (i ? ", " : "") + std::to_string(shape[i]);
    key += "]";
  }
  return key;
}

// Self time per range name (and input shapes): a range's time less the time
// of the ranges nested in it, per thread.
std::map<std::string, OpTime> SelfTimes(const prof::thread_event_lists& lists, bool with_shapes) {
  std::map<std::string, OpTime> out;
  for (const auto& events : lists) {
    struct Open {
      const prof::LegacyEvent* push;
      double child_us;
    };
    std::vector<Open> stack;
    for (const prof::LegacyEvent& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0});
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double total = open.push->cpuElapsedUs(e);
        OpTime& t = out[Key(*open.push, with_shapes)];
        t.self_us += total - open.child_us;
        t.total_us += total;
        ++t.calls;
        if (!stack.empty()) stack.back().child_us += total;
      }
    }
  }
  return out;
}

void PrintRows(std::vector<std::pair<std::string, OpTime>> rows, int64_t iterations, double total_us, size_t top,
               bool by_total) {
  std::sort(rows.begin(), rows.end(), [by_total](const auto& a, const auto& b) {
    return by_total ? a.second.total_us > b.second.total_us : a.second.self_us > b.second.self_us;
  });
  std::printf("%-90s %10s %8s %10s %8s\n", "op", "self ms/it", "share", "total ms/it", "calls/it");
  for (size_t i = 0; i < std::min(top, rows.size()); ++i) {
    const OpTime& t = rows[i].second;
    std::printf("%-90.90s %10.3f %7.1f%% %10.3f %8.1f\n", rows[i].first.c_str(), t.self_us / 1e3 / iterations,
                100 * t.self_us / total_us, t.total_us / 1e3 / iterations, static_cast<double>(t.calls) / iterations);
  }
}

// The operators by self time, then the autograd engine's node evaluations
// (each backward node with everything it ran) by total time.
void Print(const std::map<std::string, OpTime>& times, int64_t iterations, double wall_ms, size_t top) {
  std::vector<std::pair<std::string, OpTime>> rows(times.begin(), times.end()), nodes;
  double total_us = 0;
  int64_t calls = 0;
  for (const auto& r : rows) {
    total_us += r.second.self_us;
    calls += r.second.calls;
    if (r.first.rfind("autograd::engine::evaluate_function: ", 0) == 0) nodes.push_back(r);
  }
  std::printf("wall %.2f ms per iteration (profiled); recorded self time %.2f ms; %.0f ops per iteration\n",
              wall_ms / iterations, total_us / 1e3 / iterations, static_cast<double>(calls) / iterations);
  PrintRows(rows, iterations, total_us, top, /*by_total=*/false);
  std::printf("\nbackward nodes, by total time\n");
  PrintRows(nodes, iterations, total_us, top, /*by_total=*/true);
}

int Main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL BATCH [ITERATIONS [THREADS [TOP]]]\n", argv[0]);
    return 2;
  }
  const auto architecture = ParseArchitecture(argv[1]);
  if (!architecture.ok()) {
    std::fprintf(stderr, "%s\n", std::string(architecture.status().message()).c_str());
    return 2;
  }
  const int64_t batch = std::atoll(argv[2]);
  AttackConfig config;
  config.iterations = argc > 3 ? std::atoll(argv[3]) : 100;
  config.report_every = 0;
  ConfigureThreads(argc > 4 ? std::atoll(argv[4]) : 2);
  const size_t top = argc > 5 ? std::atoll(argv[5]) : 30;
  KeepLargeAllocations();
  const UpdateRecord record = bench::SyntheticRecord(*architecture, batch);
  AttackConfig warm_up = config;
  warm_up.iterations = 5;
  (void)RunAttack(record, {}, ThreatModel{}, warm_up, torch::kCPU);  // allocator, oneDNN primitives
  std::map<std::string, OpTime> times;
  const bool with_shapes = std::getenv("BIOFED_PROFILE_SHAPES") != nullptr;
  const auto start = std::chrono::steady_clock::now();
  {
    prof::TLSLegacyProfilerGuard guard(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU, with_shapes),
        [&](const prof::thread_event_lists& lists) { times = SelfTimes(lists, with_shapes); });
    const auto result = RunAttack(record, {}, ThreatModel{}, config, torch::kCPU);
    if (!result.ok()) {
      std::fprintf(stderr, "%s\n", std::string(result.status().message()).c_str());
      return 1;
    }
  }
  const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s batch %lld, %lld iterations, %d threads\n", argv[1], static_cast<long long>(batch),
              static_cast<long long>(config.iterations), torch::get_num_threads());
  Print(times, config.iterations, wall_ms, top);
  return 0;
}

}  // namespace
}  // namespace biofed

int main(int argc, char** argv) { return biofed::Main(argc, argv); }
