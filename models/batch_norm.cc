#include "models/batch_norm.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace biofed {
namespace {

// Elements one parallel_for task should cover at least (ATen uses the same
// figure internally; its constant is not public API).
constexpr int64_t kGrainElements = 32768;

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The batch statistics of a forward pass, per channel: constants for the
// backward pass (not autograd inputs).
struct BatchStatistics {
  Tensor mean, invstd;
  double eps;
};

// (gx, gw, gb) of BatchNorm in training mode for the output gradient gy.
class BatchNormBackwardFunction : public torch::autograd::Function<BatchNormBackwardFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& gy, const Tensor& weight,
                               BatchStatistics stats) {
    ctx->save_for_backward({x, gy, weight});
    ctx->saved_data["mean"] = stats.mean;
    ctx->saved_data["invstd"] = stats.invstd;
    ctx->set_materialize_grads(false);
    auto [gx, gw, gb] = at::native_batch_norm_backward(gy, x, weight, c10::nullopt, c10::nullopt, stats.mean,
                                                       stats.invstd, /*train=*/true, stats.eps, {true, true, true});
    return {gx, gw, gb};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads);
};

// The derivative of S = <ggx, gx> + <ggw, gw> + <ggb, gb> with respect to x,
// gy and w, where per channel (M values, x^ = (x - mean) s, s = invstd,
// gamma the weight, sums over the channel's values):
//   gb = sum gy,  gw = sum gy x^,  gx = gamma s (gy - gb / M - x^ gw / M).
// With A = sum ggx gy - sum ggx sum gy / M, B = sum ggx x^, P = sum gy x^,
// and ds/dx = -s^2 x^ / M, dx^_i/dx_j = s (d_ij - 1/M - x^_i x^_j / M):
//   dS/dx  = x^ (gamma s^2 / M (3 B P / M - A) - ggw s P / M)
//            - gamma s^2 P / M (ggx - sum ggx / M) + (ggw s - gamma s^2 B / M) (gy - sum gy / M)
//   dS/dgy = gamma s (ggx - sum ggx / M - x^ B / M) + ggw x^ + ggb
//   dS/dw  = s (A - B P / M)
// An absent ggx, ggw or ggb is zero. One pass over a channel for the five
// sums (in double) and one for the outputs, channels in parallel: the
// composite of ATen operators this replaces cost ~35 operator calls per
// layer, which dominated at ResNet20's sizes.
struct DoubleBackwardInputs {
  Tensor x, gy, ggx;                        // [N, C, H, W]; ggx may be undefined
  Tensor gamma, mean, invstd, ggw, ggb;     // [C]; ggw, ggb may be undefined
};

void DoubleBackwardChannels(const DoubleBackwardInputs& in, int64_t begin, int64_t end, float* dx, float* dgy,
                            float* dw) {
  const int64_t n = in.x.size(0), c = in.x.size(1), hw = in.x.numel() / (n * c);
  const double m = static_cast<double>(n * hw);
  const float *x = in.x.data_ptr<float>(), *gy = in.gy.data_ptr<float>();
  const float* ggx = in.ggx.defined() ? in.ggx.data_ptr<float>() : nullptr;
  for (int64_t ch = begin; ch < end; ++ch) {
    const double mu = in.mean.data_ptr<float>()[ch], s = in.invstd.data_ptr<float>()[ch];
    const double gamma = in.gamma.data_ptr<float>()[ch];
    const double ggw = in.ggw.defined() ? in.ggw.data_ptr<float>()[ch] : 0.0;
    const double ggb = in.ggb.defined() ? in.ggb.data_ptr<float>()[ch] : 0.0;
    double sum_gy = 0, p = 0, sum_ggx = 0, ggx_gy = 0, b = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t base = (i * c + ch) * hw;
      for (int64_t j = base; j < base + hw; ++j) {
        const double xhat = (x[j] - mu) * s;
        sum_gy += gy[j];
        p += gy[j] * xhat;
        if (ggx) {
          sum_ggx += ggx[j];
          ggx_gy += ggx[j] * static_cast<double>(gy[j]);
          b += ggx[j] * xhat;
        }
      }
    }
    const double a = ggx_gy - sum_ggx * sum_gy / m;
    const double gamma_s = gamma * s, gamma_s2_m = gamma_s * s / m;
    const double dx_xhat = gamma_s2_m * (3 * b * p / m - a) - ggw * s * p / m;
    const double dx_gy = ggw * s - gamma_s2_m * b, dx_ggx = -gamma_s2_m * p;
    const double dx_const = -dx_gy * sum_gy / m - dx_ggx * sum_ggx / m;
    const double dgy_xhat = ggw - gamma_s * b / m, dgy_const = ggb - gamma_s * sum_ggx / m;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t base = (i * c + ch) * hw;
      for (int64_t j = base; j < base + hw; ++j) {
        const double xhat = (x[j] - mu) * s;
        const double g = ggx ? ggx[j] : 0.0;
        if (dx) dx[j] = static_cast<float>(xhat * dx_xhat + gy[j] * dx_gy + g * dx_ggx + dx_const);
        if (dgy) dgy[j] = static_cast<float>(xhat * dgy_xhat + g * gamma_s + dgy_const);
      }
    }
    if (dw) dw[ch] = static_cast<float>(s * (a - b * p / m));
  }
}

variable_list BatchNormBackwardFunction::backward(AutogradContext* ctx, variable_list grads) {
  TORCH_CHECK(!torch::GradMode::is_enabled(), "third derivatives of BatchNorm are not implemented");
  const variable_list saved = ctx->get_saved_variables();
  auto contiguous = [](const Tensor& t) { return t.defined() ? t.contiguous() : t; };
  const DoubleBackwardInputs in{saved[0].contiguous(),
                                saved[1].contiguous(),
                                contiguous(grads[0]),
                                saved[2].contiguous(),
                                ctx->saved_data.at("mean").toTensor().contiguous(),
                                ctx->saved_data.at("invstd").toTensor().contiguous(),
                                contiguous(grads[1]),
                                contiguous(grads[2])};
  Tensor dx, dgy, dw;
  if (ctx->needs_input_grad(0)) dx = at::empty_like(in.x);
  if (ctx->needs_input_grad(1)) dgy = at::empty_like(in.x);
  if (ctx->needs_input_grad(2)) dw = at::empty_like(in.gamma);
  const int64_t c = in.x.size(1), per_channel = in.x.numel() / c;
  at::parallel_for(0, c, std::max<int64_t>(1, kGrainElements / per_channel), [&](int64_t begin, int64_t end) {
    DoubleBackwardChannels(in, begin, end, dx.defined() ? dx.data_ptr<float>() : nullptr,
                           dgy.defined() ? dgy.data_ptr<float>() : nullptr, dw.defined() ? dw.data_ptr<float>() : nullptr);
  });
  return {dx, dgy, dw, Tensor()};
}

// BatchNorm in training mode; `running` = {running_mean, running_var},
// updated with `momentum` as the module does.
class BatchNormFunction : public torch::autograd::Function<BatchNormFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight, const Tensor& bias,
                        std::pair<Tensor, Tensor> running, double momentum, double eps) {
    auto [y, mean, invstd] =
        at::native_batch_norm(x, weight, bias, running.first, running.second, /*training=*/true, momentum, eps);
    ctx->save_for_backward({x, weight});
    ctx->saved_data["mean"] = mean;
    ctx->saved_data["invstd"] = invstd;
    ctx->saved_data["eps"] = eps;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const BatchStatistics stats{ctx->saved_data.at("mean").toTensor(), ctx->saved_data.at("invstd").toTensor(),
                                ctx->saved_data.at("eps").toDouble()};
    variable_list g = BatchNormBackwardFunction::apply(saved[0], grads[0], saved[1], stats);
    return {g[0], g[1], g[2], Tensor(), Tensor(), Tensor()};
  }
};

bool TakesOwnPath(const torch::nn::BatchNorm2dImpl& m, const Tensor& input) {
  return m.is_training() && m.options.affine() && m.options.track_running_stats() && m.options.momentum() &&
         input.device().is_cpu() && input.layout() == torch::kStrided && input.scalar_type() == torch::kFloat &&
         input.dim() == 4;
}

}  // namespace

Tensor BatchNorm2dForward(const torch::nn::BatchNorm2d& module, const Tensor& input) {
  torch::nn::BatchNorm2dImpl& m = *module.ptr();
  if (!TakesOwnPath(m, input)) return m.forward(input);
  TORCH_CHECK(input.numel() / input.size(1) != 1, "Expected more than 1 value per channel when training, got input size ",
              input.sizes());
  if (m.num_batches_tracked.defined()) m.num_batches_tracked += 1;
  return BatchNormFunction::apply(input, m.weight, m.bias, std::make_pair(m.running_mean, m.running_var),
                                  *m.options.momentum(), m.options.eps());
}

}  // namespace biofed
