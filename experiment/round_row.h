// One closed round of a federation as a study records it: the test accuracy
// and loss of the new model, the clients' training loss, and who took part.
// Declared once (VisitFields) for the study's SQL and the reports. Torch-free
// plain data; thread-safe.
#ifndef BIOFED_EXPERIMENT_ROUND_ROW_H_
#define BIOFED_EXPERIMENT_ROUND_ROW_H_

#include <cstdint>
#include <type_traits>

#include "common/record_fields.h"

namespace biofed {

struct RoundRow {
  int64_t round = 0;
  double test_accuracy = 0, test_loss = 0, train_loss = 0;
  int64_t examples = 0, participants = 0, dropped = 0, rejected = 0;
  double seconds = 0;
};

template <typename Record, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Record>, RoundRow>, int> = 0>
void VisitFields(Record& r, Visitor&& v) {
  v("round", r.round);
  v("test_accuracy", r.test_accuracy);
  v("test_loss", r.test_loss);
  v("train_loss", r.train_loss);
  v("examples", r.examples);
  v("participants", r.participants);
  v("dropped", r.dropped);
  v("rejected", r.rejected);
  v("seconds", r.seconds);
}

}  // namespace biofed

#endif  // BIOFED_EXPERIMENT_ROUND_ROW_H_
