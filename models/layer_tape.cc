#include "models/layer_tape.h"

#include <c10/util/Exception.h>
#include <torch/types.h>

namespace biofed {
namespace {

thread_local LayerTape* active_tape = nullptr;

}  // namespace

LayerTape::LayerTape() {
  TORCH_CHECK(active_tape == nullptr, "a layer tape is already recording on this thread");
  active_tape = this;
}

LayerTape::~LayerTape() { active_tape = nullptr; }

void LayerTape::Record(TapedLayer layer) {
  if (active_tape == nullptr) return;
  layer.output_version = layer.output._version();
  active_tape->layers_.push_back(std::move(layer));
}

bool LayerTape::Recording() { return active_tape != nullptr; }

}  // namespace biofed
