// MoeModel::Backward: the gradient of the loss with respect to every
// parameter, from a forward pass's activations (RunForward with
// keep_activations) and the loss's gradients with respect to the scores,
// the gate's affinities and its logits.
#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "hymir/ranking/moe_model.h"

namespace hymir::ranking {

void MoeModel::Backward(const QueryGroup& group, const Forward& f, std::span<const double> score_grad,
                        std::span<const double> affinity_grad, std::span<const double> logit_grad,
                        std::vector<double>& grad) const {
  const size_t n = group.size(), d = input_dim();
  const int h = config_.expert_hidden, e = config_.routed_experts;
  grad.resize(params_.size(), 0.0);
  std::vector<double> own_x, own_hidden, own_out, gy(n), dh, mean, gain, w2eff, hty(h), ctx(h);
  // The forward pass's activations when it kept them, else recomputed.
  const bool kept = f.inputs.size() == n * d && f.hidden.size() == config_.shared_experts + f.routing.chosen.size();
  if (!kept) NormalizePairs(group, own_x);
  const std::vector<double>& x = kept ? f.inputs : own_x;
  const std::vector<double>* hidden_ptr = &own_hidden;
  const std::vector<double>* out_ptr = &own_out;

  // Backprop through one expert (evaluated in slot `slot` of the forward
  // pass) with upstream gradient gy (n).
  auto expert_backward = [&](int expert, size_t slot) {
    if (kept) {
      hidden_ptr = &f.hidden[slot];
      out_ptr = &f.outputs[slot];
    } else {
      ExpertForward(expert, x.data(), n, own_hidden, own_out);
    }
    const std::vector<double>& hidden = *hidden_ptr;
    const double* w1 = params_.data() + ExpertOffset(expert);
    const double* w2 = w1 + static_cast<size_t>(h) * d + h;
    double* gw1 = grad.data() + ExpertOffset(expert);
    double* gb1 = gw1 + static_cast<size_t>(h) * d;
    double* gw2 = gb1 + h;
    double* gb2 = gw2 + h;
    // hty = H^T gy: dL/dw2eff.
    cblas_dgemv(CblasRowMajor, CblasTrans, static_cast<int>(n), h, 1.0, hidden.data(), h, gy.data(), 1, 0.0, hty.data(),
                1);
    OutputWeights(expert, hidden, n, mean, gain, w2eff);
    for (int k = 0; k < h; ++k) gw2[k] += hty[k] * gain[k];
    std::fill(ctx.begin(), ctx.end(), 0.0);
    if (config_.list_context) {
      // w2eff = w2 * g, g = 1 + U m, m = mean_i h_i: dL/dg_k = w2_k hty_k.
      const double* u = w2 + h + 1 + (config_.linear_skip ? d : 0);
      double* gu = gb2 + 1 + (config_.linear_skip ? d : 0);
      for (int k = 0; k < h; ++k) {
        const double dg = w2[k] * hty[k];
        for (int l = 0; l < h; ++l) {
          gu[k * h + l] += dg * mean[l];
          ctx[l] += u[k * h + l] * dg;  // dL/dm_l
        }
      }
      for (double& c : ctx) c /= static_cast<double>(n);  // every h_i adds 1/n to m
    }
    if (config_.linear_skip)
      cblas_dgemv(CblasRowMajor, CblasTrans, static_cast<int>(n), static_cast<int>(d), 1.0, x.data(),
                  static_cast<int>(d), gy.data(), 1, 1.0, gb2 + 1, 1);
    dh.assign(n * h, 0.0);
    for (size_t i = 0; i < n; ++i) {
      *gb2 += gy[i];
      for (int k = 0; k < h; ++k) {
        if (hidden[i * h + k] > 0) {
          const double v = gy[i] * w2eff[k] + ctx[k];
          dh[i * h + k] = v;
          gb1[k] += v;
        }
      }
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, static_cast<int>(d), static_cast<int>(n), 1.0, dh.data(), h,
                x.data(), static_cast<int>(d), 1.0, gw1, static_cast<int>(d));
  };

  if (n > 0) {
    for (int s = 0; s < config_.shared_experts; ++s) {
      std::copy(score_grad.begin(), score_grad.end(), gy.begin());
      expert_backward(e + s, static_cast<size_t>(s));
    }
  }
  // dL/dw for each chosen expert, then through the weight normalisation.
  const Routing& r = f.routing;
  std::vector<double> dw(r.chosen.size(), 0.0);
  if (n > 0) {
    for (size_t c = 0; c < r.chosen.size(); ++c) {
      for (size_t i = 0; i < n; ++i) gy[i] = r.weights[c] * score_grad[i];
      expert_backward(r.chosen[c], static_cast<size_t>(config_.shared_experts) + c);  // points out_ptr at f_e(x)
      for (size_t i = 0; i < n; ++i) dw[c] += score_grad[i] * (*out_ptr)[i];
    }
  }
  std::vector<double> ds(e, 0.0);
  if (!affinity_grad.empty())
    for (int i = 0; i < e; ++i) ds[i] = affinity_grad[i];
  if (e > 1) {
    if (config_.top_k == 1) {
      ds[r.chosen[0]] += dw[0];
    } else {
      double z = 0, wdw = 0;
      for (size_t c = 0; c < r.chosen.size(); ++c) {
        z += r.affinity[r.chosen[c]];
        wdw += r.weights[c] * dw[c];
      }
      for (size_t c = 0; c < r.chosen.size(); ++c) ds[r.chosen[c]] += (dw[c] - wdw) / z;
    }
  }
  std::vector<double> du(e);
  for (int i = 0; i < e; ++i) {
    du[i] = ds[i] * r.affinity[i] * (1.0 - r.affinity[i]);
    if (!logit_grad.empty()) du[i] += logit_grad[i];
  }
  // Gate.
  std::vector<double> q, ghidden, logits;
  NormalizeQuery(group.query_features, q);
  const size_t qd = schema_.query_dim(), g = config_.gate_hidden;
  double* gp = grad.data() + GateOffset();
  if (g == 0) {
    for (int i = 0; i < e; ++i) {
      for (size_t j = 0; j < qd; ++j) gp[i * qd + j] += du[i] * q[j];
      gp[e * qd + i] += du[i];
    }
    return;
  }
  GateForward(q, ghidden, logits);
  const double* p = params_.data() + GateOffset();
  const double* w2 = p + g * qd + g;
  double* gb1 = gp + g * qd;
  double* gw2 = gb1 + g;
  double* gb2 = gw2 + e * g;
  std::vector<double> dgh(g, 0.0);
  for (int i = 0; i < e; ++i) {
    gb2[i] += du[i];
    for (size_t k = 0; k < g; ++k) {
      gw2[i * g + k] += du[i] * ghidden[k];
      dgh[k] += du[i] * w2[i * g + k];
    }
  }
  for (size_t k = 0; k < g; ++k) {
    if (ghidden[k] <= 0) continue;
    gb1[k] += dgh[k];
    for (size_t j = 0; j < qd; ++j) gp[k * qd + j] += dgh[k] * q[j];
  }
}

}  // namespace hymir::ranking
