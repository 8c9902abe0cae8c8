// A malicious server's own entries of the global model: tensors it writes
// over every model version it publishes (the initial one included), so that
// the clients' training never moves them; e.g. the imprint block of
// attack/imprint.h, which must keep its construction round after round for
// the server to read the clients' inputs off their updates. An honest
// server pins nothing (the default everywhere). Torch-free; thread-safe.
#ifndef BIOFED_SERVER_PINNED_ENTRIES_H_
#define BIOFED_SERVER_PINNED_ENTRIES_H_

#include "absl/status/status.h"
#include "wire/host_tensor.h"

namespace biofed {

// INVALID_ARGUMENT naming the first pinned entry that `model` lacks or holds
// with another dtype, shape or role.
absl::Status CheckPinnedEntries(const TensorTable& model, const TensorTable& pinned);

// Writes each pinned entry over the model's entry of that name. The errors
// of CheckPinnedEntries, leaving `model` unchanged.
absl::Status WritePinnedEntries(const TensorTable& pinned, TensorTable& model);

}  // namespace biofed

#endif  // BIOFED_SERVER_PINNED_ENTRIES_H_
