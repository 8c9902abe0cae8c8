// The server's aggregation rule, as an option: the example-weighted mean
// (server/aggregation.h, the FedAvg/FedSGD default) or a rule that one
// Byzantine client cannot steer with a huge update:
//
//   median          per coordinate, the median of the clients' values
//                   (even count: the mean of the two middle ones)
//   trimmed-mean:F  per coordinate, drop the floor(F * K) largest and the as
//                   many smallest of the K values, average the rest
//   norm-clip:C     each update's pseudo-gradient scaled down to L2 norm C
//                   when above it, then the example-weighted mean
//
// Median and trimmed mean weigh every client equally (num_examples is
// self-reported, so it is not trusted there) and apply to buffers (BatchNorm
// statistics) as to pseudo-gradients. norm-clip clips the parameters'
// pseudo-gradients only and takes the buffers' median. Pure functions;
// thread-safe.
#ifndef BIOFED_SERVER_ROBUST_AGGREGATION_H_
#define BIOFED_SERVER_ROBUST_AGGREGATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/aggregation.h"

namespace biofed {

struct Aggregator {
  enum class Kind { kMean, kMedian, kTrimmedMean, kNormClip };
  Kind kind = Kind::kMean;
  double trim_fraction = 0;  // trimmed-mean: in [0, 0.5)
  double clip_norm = 0;      // norm-clip: > 0
};

// "mean", "median", "trimmed-mean:F" or "norm-clip:C"; INVALID_ARGUMENT
// saying what is wrong otherwise.
absl::StatusOr<Aggregator> ParseAggregator(const std::string& text);
std::string AggregatorName(Aggregator aggregator);

// The next global model under `aggregator` (the mean: Aggregate itself):
// parameters w -> w - step * combined pseudo-gradient, buffers -> combined
// value, other tensors kept. The same errors as Aggregate.
absl::StatusOr<TensorTable> AggregateWith(const Aggregator& aggregator, const TensorTable& model,
                                          const std::vector<const ClientUpdate*>& updates, double step);

}  // namespace biofed

#endif  // BIOFED_SERVER_ROBUST_AGGREGATION_H_
