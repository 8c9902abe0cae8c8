// The real Fashion-MNIST from Debian's dataset-fashion-mnist package.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/dataset.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

TEST(FashionMnistTest, LoadsTheDebianPackage) {
  auto splits = LoadDataset("fashion-mnist", "");
  ASSERT_THAT(splits, biofed::testing::IsOk());
  ASSERT_EQ(splits->train.size(), 60000);
  ASSERT_EQ(splits->test.size(), 10000);
  EXPECT_EQ(splits->train.images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  const torch::Tensor train_counts = torch::bincount(splits->train.labels, {}, 10);
  const torch::Tensor test_counts = torch::bincount(splits->test.labels, {}, 10);
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(train_counts[c].item<int64_t>(), 6000) << "class " << c;
    EXPECT_EQ(test_counts[c].item<int64_t>(), 1000) << "class " << c;
  }
  // Published Fashion-MNIST training statistics: mean 0.2860, std 0.3530.
  EXPECT_NEAR(splits->norm.mean[0], 0.2860, 5e-4);
  EXPECT_NEAR(splits->norm.std[0], 0.3530, 5e-4);
}

}  // namespace
}  // namespace biofed
