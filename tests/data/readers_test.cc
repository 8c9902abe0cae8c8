#include <cstdio>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/cifar_reader.h"
#include "data/dataset.h"
#include "data/idx_reader.h"
#include "tests/testing/dataset_files.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;
using ::biofed::testing::TempDir;

// Writes a complete IDX dataset directory: 6 train and 4 test images of 5x3.
void WriteIdxSplits(const TempDir& dir, bool gzip) {
  auto put = [&](const std::string& name, const std::string& bytes) {
    dir.Write(gzip ? name + ".gz" : name, gzip ? biofed::testing::Gzip(bytes) : bytes);
  };
  put("train-images-idx3-ubyte", biofed::testing::IdxImages(6, 5, 3));
  put("train-labels-idx1-ubyte", biofed::testing::IdxLabels({0, 1, 2, 3, 4, 9}));
  put("t10k-images-idx3-ubyte", biofed::testing::IdxImages(4, 5, 3));
  put("t10k-labels-idx1-ubyte", biofed::testing::IdxLabels({5, 6, 7, 8}));
}

class IdxSplitsTest : public ::testing::TestWithParam<bool> {};

TEST_P(IdxSplitsTest, LoadsRawAndGzipFiles) {
  TempDir dir;
  WriteIdxSplits(dir, /*gzip=*/GetParam());
  auto splits = LoadDataset("mnist", dir.path());
  ASSERT_THAT(splits, IsOk());
  EXPECT_EQ(splits->train.images.sizes(), (std::vector<int64_t>{6, 1, 5, 3}));
  EXPECT_EQ(splits->test.images.sizes(), (std::vector<int64_t>{4, 1, 5, 3}));
  EXPECT_EQ(splits->train.labels[5].item<int64_t>(), 9);
  // Pixel (i=2, row 1, col 2) is (2 + 1 * 3 + 2) % 256 = 7 by construction.
  EXPECT_EQ(splits->train.images[2][0][1][2].item<uint8_t>(), 7);
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxSplitsTest, ::testing::Values(false, true));

TEST(IdxReaderTest, RejectsBadMagic) {
  std::string bytes = biofed::testing::IdxImages(2, 2, 2);
  bytes[3] = 0x01;
  EXPECT_THAT(ParseIdxImages(bytes, "imgs.idx"), StatusIs(absl::StatusCode::kDataLoss, "imgs.idx: bad IDX magic"));
}

TEST(IdxReaderTest, RejectsTruncatedImages) {
  std::string bytes = biofed::testing::IdxImages(3, 4, 4);
  bytes.resize(bytes.size() - 5);
  EXPECT_THAT(ParseIdxImages(bytes, "imgs.idx"), StatusIs(absl::StatusCode::kDataLoss, "truncated"));
}

TEST(IdxReaderTest, RejectsTruncatedHeader) {
  std::string bytes = biofed::testing::IdxImages(3, 4, 4).substr(0, 10);
  EXPECT_THAT(ParseIdxImages(bytes, "imgs.idx"), StatusIs(absl::StatusCode::kDataLoss, "truncated IDX header"));
}

TEST(IdxReaderTest, RejectsWrongCountWithTrailingBytes) {
  std::string bytes = biofed::testing::IdxLabels({1, 2, 3}) + "xx";
  EXPECT_THAT(ParseIdxLabels(bytes, 10, "labels.idx"), StatusIs(absl::StatusCode::kDataLoss, "wrong count"));
}

TEST(IdxReaderTest, RejectsLabelOutOfRange) {
  EXPECT_THAT(ParseIdxLabels(biofed::testing::IdxLabels({1, 10}), 10, "labels.idx"),
              StatusIs(absl::StatusCode::kDataLoss, "label 10 of sample 1 is out of range"));
}

TEST(IdxReaderTest, RejectsImageLabelCountMismatch) {
  TempDir dir;
  const std::string images = dir.Write("i", biofed::testing::IdxImages(3, 2, 2));
  const std::string labels = dir.Write("l", biofed::testing::IdxLabels({1, 2}));
  EXPECT_THAT(LoadIdxDataset("mnist", images, labels, 10),
              StatusIs(absl::StatusCode::kDataLoss, "holds 3 images but"));
}

TEST(IdxReaderTest, RejectsTruncatedGzipStream) {
  TempDir dir;
  std::string gz = biofed::testing::Gzip(biofed::testing::IdxImages(50, 28, 28));
  gz.resize(gz.size() / 2);
  const std::string path = dir.Write("half.gz", gz);
  EXPECT_THAT(ReadMaybeGzipped(path), StatusIs(absl::StatusCode::kDataLoss, "half.gz"));
}

TEST(DatasetTest, MissingFileIsNamed) {
  TempDir dir;
  WriteIdxSplits(dir, false);
  ASSERT_EQ(std::remove(dir.File("t10k-labels-idx1-ubyte").c_str()), 0);
  EXPECT_THAT(LoadDataset("fashion-mnist", dir.path()),
              StatusIs(absl::StatusCode::kNotFound, "t10k-labels-idx1-ubyte"));
}

TEST(DatasetTest, UnknownDatasetIsRejected) {
  EXPECT_THAT(LoadDataset("imagenet", "/tmp"), StatusIs(absl::StatusCode::kInvalidArgument, "unknown dataset"));
}

TEST(CifarReaderTest, ParsesCifar10Records) {
  auto data = ParseCifar(biofed::testing::CifarRecords({3, 7}, false), CifarVariant::kCifar10, "b.bin");
  ASSERT_THAT(data, IsOk());
  EXPECT_EQ(data->images.sizes(), (std::vector<int64_t>{2, 3, 32, 32}));
  EXPECT_EQ(data->labels[1].item<int64_t>(), 7);
  // Record 1, green plane (offset 1024), row 0, col 5: (1 * 7 + 1029) % 256 = 12.
  EXPECT_EQ(data->images[1][1][0][5].item<uint8_t>(), (7 + 1029) % 256);
}

TEST(CifarReaderTest, ParsesCifar100FineLabels) {
  auto data = ParseCifar(biofed::testing::CifarRecords({99, 42}, true), CifarVariant::kCifar100, "t.bin");
  ASSERT_THAT(data, IsOk());
  EXPECT_EQ(data->num_classes, 100);
  EXPECT_EQ(data->labels[0].item<int64_t>(), 99);
  EXPECT_EQ(data->labels[1].item<int64_t>(), 42);
}

TEST(CifarReaderTest, RejectsTruncatedRecord) {
  std::string bytes = biofed::testing::CifarRecords({1, 2}, false);
  bytes.pop_back();
  EXPECT_THAT(ParseCifar(bytes, CifarVariant::kCifar10, "b.bin"),
              StatusIs(absl::StatusCode::kDataLoss, "b.bin: truncated"));
}

TEST(CifarReaderTest, RejectsLabelOutOfRange) {
  EXPECT_THAT(ParseCifar(biofed::testing::CifarRecords({1, 12}, false), CifarVariant::kCifar10, "b.bin"),
              StatusIs(absl::StatusCode::kDataLoss, "label 12 of record 1"));
}

TEST(CifarReaderTest, RejectsEmptyFile) {
  EXPECT_THAT(ParseCifar("", CifarVariant::kCifar100, "e.bin"),
              StatusIs(absl::StatusCode::kDataLoss, "e.bin: empty file"));
}

TEST(CifarReaderTest, LoadsSplitsFromDirectory) {
  TempDir dir;
  for (int i = 1; i <= 5; ++i) {
    dir.Write("data_batch_" + std::to_string(i) + ".bin", biofed::testing::CifarRecords({1, 2, 3}, false));
  }
  dir.Write("test_batch.bin", biofed::testing::CifarRecords({4, 5}, false));
  auto splits = LoadDataset("cifar10", dir.path());
  ASSERT_THAT(splits, IsOk());
  EXPECT_EQ(splits->train.size(), 15);
  EXPECT_EQ(splits->test.size(), 2);
  EXPECT_EQ(splits->norm.mean.size(), 3u);
}

TEST(NormalizationTest, MatchesHandComputedStatistics) {
  // Two 1x1x2 images with pixels {0, 255} and {51, 102}: values/255 are
  // {0, 1, 0.2, 0.4}; mean 0.4, population variance
  // (0.16 + 0.36 + 0.04 + 0) / 4 = 0.14.
  Dataset data;
  data.images = torch::tensor({0, 255, 51, 102}, torch::kByte).view({2, 1, 1, 2});
  data.labels = torch::tensor({0, 1}, torch::kLong);
  data.num_classes = 2;
  const Normalization norm = ComputeNormalization(data);
  EXPECT_NEAR(norm.mean[0], 0.4, 1e-12);
  EXPECT_NEAR(norm.std[0], std::sqrt(0.14), 1e-12);
  const torch::Tensor x = NormalizedImages(data, norm, torch::tensor({1}, torch::kLong));
  EXPECT_NEAR(x[0][0][0][0].item<float>(), (0.2 - 0.4) / std::sqrt(0.14), 1e-6);
  EXPECT_TRUE(torch::allclose(Denormalize(x, norm), torch::tensor({0.2f, 0.4f}).view({1, 1, 1, 2}),
                              1e-6, 1e-6));
}

}  // namespace
}  // namespace biofed
