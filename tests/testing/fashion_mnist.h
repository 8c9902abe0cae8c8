// The embedded Fashion-MNIST (Debian's dataset-fashion-mnist), loaded once
// per test binary and shared read-only by its tests.
#ifndef BIOFED_TESTS_TESTING_FASHION_MNIST_H_
#define BIOFED_TESTS_TESTING_FASHION_MNIST_H_

#include "data/dataset.h"

namespace biofed::testing {

inline const DatasetSplits& FashionMnist() {
  static const auto* data = new DatasetSplits(LoadDataset("fashion-mnist", "").value());
  return *data;
}

}  // namespace biofed::testing

#endif  // BIOFED_TESTS_TESTING_FASHION_MNIST_H_
