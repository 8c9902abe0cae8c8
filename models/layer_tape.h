// A record of the Linear and Conv2d layers a forward pass ran, for code that
// needs a layer's weight gradient in factored form rather than the gradient
// itself: the gradient of a layer y = W x (or a convolution) is a sum over
// examples and positions of outer products of dL/dy with x, so with y and x
// recorded, dL/dy from autograd gives everything the gradient is made of.
//
// While a LayerTape lives on a thread, SplitLinearForward and
// SplitConv2dForward (models/weight_split.h), which the models run their
// weight layers through (not the classifiers, nor the imprint block's
// layers: those stay off the tape), append one TapedLayer per call on that
// thread; with no tape they record nothing and cost one thread-local read. A tape is
// used on the thread that made it and not shared; tapes do not nest.
//
// What a user of the factors relies on, true of every model here: a taped
// weight enters the forward pass only through its taped layer, and a taped
// output is not modified in place afterwards (`output_version` lets a user
// check the latter).
#ifndef BIOFED_MODELS_LAYER_TAPE_H_
#define BIOFED_MODELS_LAYER_TAPE_H_

#include <vector>

#include <torch/types.h>

namespace biofed {

struct TapedLayer {
  // The layer's weight parameter as registered (under WS the raw weight,
  // before its block sum).
  torch::Tensor weight;
  torch::Tensor input;  // [B, in] or [B, C, H, W]
  // The product of the input with the weight the layer applied (bias
  // included; under WS the block-summed weight, before the outputs are
  // repeated): dL/d(output) is the weight gradient's other factor.
  torch::Tensor output;
  // WS factor: the raw weight's gradient repeats the applied weight's
  // gradient in blocks of this many rows. 1 without WS.
  int64_t split_gamma = 1;
  bool convolution = false;
  std::vector<int64_t> kernel, stride, padding;  // convolutions only
  // output's version counter when recorded (LayerTape::Record sets it).
  int64_t output_version = 0;
};

class LayerTape {
 public:
  // Starts recording on this thread. Throws c10::Error when a tape is
  // already recording there.
  LayerTape();
  ~LayerTape();
  LayerTape(const LayerTape&) = delete;
  LayerTape& operator=(const LayerTape&) = delete;

  const std::vector<TapedLayer>& layers() const { return layers_; }

  // Appends `layer` to this thread's tape, if one is recording.
  static void Record(TapedLayer layer);
  static bool Recording();

 private:
  std::vector<TapedLayer> layers_;
};

}  // namespace biofed

#endif  // BIOFED_MODELS_LAYER_TAPE_H_
