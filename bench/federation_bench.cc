// Throughput of one update through the whole federation path on loopback:
// the client encodes a 10M-parameter float32 update (CRC-32C, 1 MiB
// chunks) and sends it over gRPC as the real client does (SendUpdate), the
// server decodes and validates it (schema, checksum, finiteness), accepts
// it, and aggregates it into the global model. Bytes per second counts the
// update's 40 MB once. Plus the codec alone (encode, one copy standing for
// the transport, decode and assemble in memory) to show what the transport
// costs, and the checksum engines and aggregation alone.
#include <benchmark/benchmark.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <grpcpp/create_channel.h>

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/memory.h"
#include "server/aggregation.h"
#include "server/federation_server.h"
#include "wire/crc32c.h"
#include "wire/tensor_stream.h"
#include "wire/update_chunk_codec.h"
#include "wire/update_sender.h"

namespace biofed {
namespace {

constexpr char kToken[] = "bench-client-token-0123";

HostTensor Floats(const std::string& name, int64_t n, float value) {
  HostTensor t;
  t.name = name;
  t.shape = {n};
  t.bytes.resize(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) t.mutable_floats()[i] = value;
  return t;
}

// 10M parameters in a few layers, like a mid-sized CNN.
TensorTable TenMillionParameters(float value) {
  return {Floats("layer1.weight", 4000000, value), Floats("layer2.weight", 4000000, value),
          Floats("layer3.weight", 1999000, value), Floats("fc.weight", 1000, value)};
}

void BM_CodecInMemory(benchmark::State& state) {
  const TensorTable update = TenMillionParameters(0.5f);
  uint64_t bytes = 0;
  std::string message;
  UpdateChunkView view;
  for (auto _ : state) {
    v1::UpdateHeader header;
    DescribeTable(update, header.mutable_tensors());
    auto assembler = TableAssembler::Start(header.tensors(), nullptr, WireLimits{});
    ForEachChunk(update, kDefaultChunkBytes, [&](const TensorChunk& chunk) {
      // The copy the transport makes into its receive buffer, then the
      // server's decode and assembly.
      message = DataChunkPrefix(chunk.tensor_index, chunk.offset, chunk.bytes.size(), chunk.tensor_crc);
      message.append(chunk.bytes.data(), chunk.bytes.size());
      google::protobuf::io::ArrayInputStream input(message.data(), static_cast<int>(message.size()));
      return DecodeUpdateChunk(&input, &view).ok() &&
             assembler->Add(view.tensor_index, view.offset, view.payload, view.tensor_crc).ok();
    });
    auto table = assembler->Finish(true);
    benchmark::DoNotOptimize(table);
    bytes += 40000000;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_CodecInMemory)->Unit(benchmark::kMillisecond)->UseRealTime();

// Each CRC-32C engine on 64 KiB (in cache, as the server checksums a block
// just received) and on 40 MB (from memory, as a client checksums its
// update). Arguments: engine (0 table, 1 instruction), bytes.
void BM_Crc32c(benchmark::State& state) {
  const auto engine = static_cast<Crc32cEngine>(state.range(0));
  if (!Crc32cEngineAvailable(engine)) {
    state.SkipWithError("this CPU lacks the engine");
    return;
  }
  const std::string buffer(static_cast<size_t>(state.range(1)), '\x5a');
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = Crc32cUsing(engine, buffer.data(), buffer.size(), crc);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(1));
}
BENCHMARK(BM_Crc32c)->ArgsProduct({{0, 1}, {64 << 10, 40000000}})->Unit(benchmark::kMicrosecond);

// Aggregation alone: one 10M-parameter update applied to the model, the
// last step of BM_UpdateOverLoopback (reads 80 MB, writes 40 MB).
void BM_AggregateOneUpdate(benchmark::State& state) {
  KeepLargeAllocations();
  const TensorTable model = TenMillionParameters(0.1f);
  ClientUpdate update;
  update.client_id = "client";
  update.num_examples = 1;
  update.tensors = TenMillionParameters(0.01f);
  const std::vector<const ClientUpdate*> updates = {&update};
  for (auto _ : state) {
    absl::StatusOr<TensorTable> next = Aggregate(model, updates, 0.01);
    benchmark::DoNotOptimize(next);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 40000000);
}
BENCHMARK(BM_AggregateOneUpdate)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_UpdateOverLoopback(benchmark::State& state) {
  SetLogQuiet(true);
  KeepLargeAllocations();
  FederationConfig config;
  config.run_id = "bench";
  config.model_spec_json = "{}";
  config.rounds = 1000000;
  config.min_clients = 1;
  config.poll_interval = absl::Milliseconds(1);
  CredentialStore credentials;
  (void)credentials.Add("client", {Role::kClient}, kToken);
  auto core = FederationCore::Create(config, TenMillionParameters(0.1f), nullptr).value();
  core->Start();
  auto server = FederationServer::Start("127.0.0.1:0", ServerSecurity{true, "", "", ""}, core.get(),
                                        std::move(credentials)).value();
  grpc::ChannelArguments args;
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server->port()),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Federation::NewStub(channel);
  grpc::GenericStub updates(channel);
  const auto update = std::make_shared<const TensorTable>(TenMillionParameters(0.01f));
  {  // only a client that joined gets tasks
    grpc::ClientContext context;
    context.AddMetadata("authorization", std::string("Bearer ") + kToken);
    v1::JoinReply joined;
    if (!stub->Join(&context, v1::JoinRequest(), &joined).ok()) {
      state.SkipWithError("the benchmark client could not join");
      return;
    }
  }
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    v1::Task task;
    do {  // wait for the round to open
      grpc::ClientContext context;
      context.AddMetadata("authorization", std::string("Bearer ") + kToken);
      v1::PullTaskRequest request;
      request.set_client_id("client");
      stub->PullTask(&context, request, &task);
    } while (!task.has_train());
    const int64_t completed = core->completed_rounds();
    state.ResumeTiming();

    grpc::ClientContext context;
    context.AddMetadata("authorization", std::string("Bearer ") + kToken);
    v1::UpdateHeader header;
    header.set_client_id("client");
    header.set_round(task.train().round());
    header.set_model_version(task.train().model_version());
    header.set_num_examples(1);
    header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
    header.set_lr(0.01);
    v1::SubmitReply reply;
    const absl::Status status =
        SendUpdate(updates, &context, header, update, nullptr, kDefaultChunkBytes, &reply);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
    while (core->completed_rounds() == completed) {  // aggregation done
      absl::SleepFor(absl::Microseconds(50));
    }
    bytes += 40000000;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  server->Shutdown(absl::ZeroDuration());
  core->Stop();
}
BENCHMARK(BM_UpdateOverLoopback)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

}  // namespace
}  // namespace biofed
