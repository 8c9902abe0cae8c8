#include "sweep/defense.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/dp_accounting.h"

namespace biofed {
namespace {

absl::Status CheckFloat32Parameters(const TensorTable& update) {
  for (const HostTensor& t : update) {
    if (t.role == TensorRole::kParameter && t.dtype != DType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat("defense: parameter ", t.name, " is ", DTypeName(t.dtype),
                                                     ", expected float32"));
    }
  }
  return absl::OkStatus();
}

size_t FloatCount(const HostTensor& t) { return t.bytes.size() / sizeof(float); }

void ClipAndNoise(const Defense& d, uint64_t seed, TensorTable& update) {
  double squared = 0;
  for (const HostTensor& t : update) {
    if (t.role != TensorRole::kParameter) continue;
    const float* v = t.floats();
    for (size_t i = 0; i < FloatCount(t); ++i) squared += static_cast<double>(v[i]) * v[i];
  }
  const double norm = std::sqrt(squared);
  const double scale = norm > d.clip ? d.clip / norm : 1.0;
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> noise(0.0, d.sigma * d.clip);
  for (HostTensor& t : update) {
    if (t.role != TensorRole::kParameter) continue;
    float* v = t.mutable_floats();
    for (size_t i = 0; i < FloatCount(t); ++i) {
      v[i] = static_cast<float>(v[i] * scale + (d.sigma > 0 ? noise(engine) : 0.0));
    }
  }
}

void KeepTopK(const Defense& d, TensorTable& update) {
  std::vector<float> magnitudes;
  for (HostTensor& t : update) {
    if (t.role != TensorRole::kParameter) continue;
    const size_t n = FloatCount(t);
    const size_t keep = static_cast<size_t>(std::ceil(d.fraction * static_cast<double>(n)));
    if (keep >= n) continue;
    float* v = t.mutable_floats();
    // Keep exactly `keep` entries: those above the keep-th largest magnitude,
    // then ties at it in index order.
    magnitudes.assign(n, 0.0f);
    for (size_t i = 0; i < n; ++i) magnitudes[i] = std::fabs(v[i]);
    std::nth_element(magnitudes.begin(), magnitudes.begin() + (keep - 1), magnitudes.end(), std::greater<float>());
    const float threshold = magnitudes[keep - 1];
    size_t above = 0;
    for (size_t i = 0; i < n; ++i) above += std::fabs(v[i]) > threshold;
    size_t ties_left = keep - above;
    for (size_t i = 0; i < n; ++i) {
      const float m = std::fabs(v[i]);
      if (m > threshold) continue;
      if (m == threshold && ties_left > 0) {
        --ties_left;
        continue;
      }
      v[i] = 0.0f;
    }
  }
}

}  // namespace

absl::StatusOr<Defense> ParseDefense(const std::string& spec) {
  const std::vector<std::string> parts = absl::StrSplit(spec, ':');
  Defense d;
  const auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("defense '", spec, "': ", why, " (forms: none, noise:CLIP:SIGMA, topk:FRACTION, dp:CLIP:SIGMA)"));
  };
  if (parts[0] == "none" && parts.size() == 1) return d;
  if (parts[0] == "noise" || parts[0] == "dp") {
    const bool dp = parts[0] == "dp";
    if (parts.size() != 3 || !absl::SimpleAtod(parts[1], &d.clip) || !absl::SimpleAtod(parts[2], &d.sigma)) {
      return bad(absl::StrCat("expected ", parts[0], ":CLIP:SIGMA"));
    }
    if (!(d.clip > 0) || !(dp ? d.sigma > 0 : d.sigma >= 0) || !std::isfinite(d.clip) || !std::isfinite(d.sigma)) {
      return bad(dp ? "CLIP and SIGMA must be > 0 and finite" : "CLIP must be > 0 and SIGMA >= 0, both finite");
    }
    d.kind = dp ? Defense::Kind::kDpSgd : Defense::Kind::kClippedNoise;
    return d;
  }
  if (parts[0] == "topk") {
    if (parts.size() != 2 || !absl::SimpleAtod(parts[1], &d.fraction)) return bad("expected topk:FRACTION");
    if (!(d.fraction > 0 && d.fraction <= 1)) return bad("FRACTION must be in (0, 1]");
    d.kind = Defense::Kind::kTopK;
    return d;
  }
  return bad("unknown defense");
}

std::string DefenseName(const Defense& d) {
  switch (d.kind) {
    case Defense::Kind::kNone: return "none";
    case Defense::Kind::kClippedNoise: return absl::StrFormat("noise:%g:%g", d.clip, d.sigma);
    case Defense::Kind::kTopK: return absl::StrFormat("topk:%g", d.fraction);
    case Defense::Kind::kDpSgd: return absl::StrFormat("dp:%g:%g", d.clip, d.sigma);
  }
  return "none";
}

absl::StatusOr<double> DefenseEpsilon(const Defense& d, double sampling_rate, int64_t steps) {
  if (d.kind != Defense::Kind::kDpSgd) return std::numeric_limits<double>::infinity();
  auto spent = DpSgdEpsilon({sampling_rate, d.sigma, steps}, kSweepDpDelta);
  if (!spent.ok()) return spent.status();
  return spent->epsilon;
}

DpSgdOptions ClientDpSgd(const Defense& d) {
  if (d.kind != Defense::Kind::kDpSgd) return {};
  return {d.clip, d.sigma};
}

absl::Status ApplyDefense(const Defense& d, uint64_t seed, TensorTable& update) {
  // DP-SGD acted inside the training loop.
  if (d.kind == Defense::Kind::kNone || d.kind == Defense::Kind::kDpSgd) return absl::OkStatus();
  if (auto s = CheckFloat32Parameters(update); !s.ok()) return s;
  if (d.kind == Defense::Kind::kClippedNoise) {
    ClipAndNoise(d, seed, update);
  } else {
    KeepTopK(d, update);
  }
  return absl::OkStatus();
}

}  // namespace biofed
