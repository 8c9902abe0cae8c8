// biofed: a federated-learning privacy testbed. `biofed <command> --help`.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/code_version.h"
#include "common/memory.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>&);
};

const Command kCommands[] = {
    {"train", "centralised training, baseline or biomod, or both with --compare",
     biofed::RunTrainCommand},
    {"attack", "reconstruct a client batch from its update and score it (gradient inversion)",
     biofed::RunAttackCommand},
    {"sweep", "the gradient-inversion grid (models x mechanisms x defenses x ...), resumable", biofed::RunSweepCommand},
#ifdef BIOFED_WITH_FEDERATION
    {"simulate", "baseline vs biomod federations on loopback, attacked while they train", biofed::RunSimulateCommand},
    {"server", "a federation server (gRPC, TLS): rounds, aggregation, checkpoints", biofed::RunServerCommand},
    {"audit", "the auditor: attacks observed updates, scores them, writes a study", biofed::RunAuditCommand},
    {"client", "a federated client: trains its partition and sends updates", biofed::RunClientCommand},
#endif
    {"report", "a self-contained HTML report of a study database", biofed::RunReportCommand},
    {"study", "merge the studies of a sharded sweep; what a study holds and lacks", biofed::RunStudyCommand},
    {"info", "list models (with parameter counts) and datasets", biofed::RunInfoCommand},
};

void PrintUsage(FILE* out) {
  std::fprintf(out, "usage: biofed <command> [flags]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out, "\n`biofed <command> --help` describes each command's flags; `biofed --version` prints the\n"
                    "code version every study records.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("%s\n", biofed::CodeVersion().c_str());
    return 0;
  }
  // Every command moves model-sized tensors (3 MB and up) in loops: without
  // this, glibc returns each freed block to the kernel and the next one page
  // faults (it cost IG on the MLP 40% of its speed).
  biofed::KeepLargeAllocations();
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(args);
  }
  std::fprintf(stderr, "biofed: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
