#include "xgb_lambdamart.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <utility>

namespace hymir::bench {
namespace {

// "<what> failed: <XGBGetLastError() without its stack trace>".
std::string LastXgbError(std::string_view what) {
  const char* raw = XGBGetLastError();
  std::string_view msg = (raw != nullptr && *raw != '\0') ? raw : "unknown XGBoost error";
  if (size_t trace = msg.find("\nStack trace:"); trace != std::string_view::npos) {
    msg = msg.substr(0, trace);
  }
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.remove_suffix(1);
  std::string out(what);
  out += " failed: ";
  out += msg;
  return out;
}

// Owns one DMatrixHandle.
class DMatrix {
 public:
  DMatrix() = default;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix() {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
  }
  DMatrixHandle* out() { return &handle_; }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

// Checks the shape of `m`; returns an empty string when it is consistent.
std::string CheckMatrix(const RankingMatrix& m, std::string_view name) {
  std::string prefix = std::string(name) + " matrix: ";
  if (m.dim == 0) return prefix + "dim is 0";
  if (m.labels.empty()) return prefix + "no rows";
  if (m.x.size() != m.labels.size() * m.dim) {
    return prefix + "x has " + std::to_string(m.x.size()) +
           " values, expected rows * dim = " + std::to_string(m.labels.size() * m.dim);
  }
  if (m.groups.size() > std::numeric_limits<bst_ulong>::max()) return prefix + "too many groups";
  uint64_t sum = 0;
  for (unsigned g : m.groups) {
    if (g == 0) return prefix + "empty query group";
    sum += g;
  }
  if (sum != m.labels.size()) {
    return prefix + "groups sum to " + std::to_string(sum) + ", expected " + std::to_string(m.labels.size()) + " rows";
  }
  for (float label : m.labels) {
    if (!std::isfinite(label)) return prefix + "non-finite label";
  }
  return {};
}

// Builds a DMatrix with labels and query groups. Returns an error message or "".
std::string MakeDMatrix(const RankingMatrix& m, DMatrix* out) {
  const float kMissing = std::numeric_limits<float>::quiet_NaN();
  if (XGDMatrixCreateFromMat(m.x.data(), m.labels.size(), m.dim, kMissing, out->out()) != 0) {
    return LastXgbError("XGDMatrixCreateFromMat");
  }
  if (XGDMatrixSetFloatInfo(out->get(), "label", m.labels.data(), m.labels.size()) != 0) {
    return LastXgbError("XGDMatrixSetFloatInfo(label)");
  }
  if (XGDMatrixSetUIntInfo(out->get(), "group", m.groups.data(), m.groups.size()) != 0) {
    return LastXgbError("XGDMatrixSetUIntInfo(group)");
  }
  return {};
}

std::string FormatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

// Metrics XGBoost reports where larger is better.
bool Maximize(std::string_view metric) {
  for (std::string_view p : {"ndcg", "map", "auc", "aucpr", "pre", "interval-regression-accuracy"}) {
    if (metric.substr(0, p.size()) == p) return true;
  }
  return false;
}

// Parses the value of `valid-<metric>` from an XGBoosterEvalOneIter string
// such as "[12]\tvalid-ndcg@10:0.734512". Returns false if absent.
bool ParseEval(std::string_view eval, double* value) {
  const std::string_view key = "\tvalid-";
  size_t pos = eval.find(key);
  if (pos == std::string_view::npos) return false;
  size_t colon = eval.find(':', pos + key.size());
  if (colon == std::string_view::npos) return false;
  std::string number(eval.substr(colon + 1));
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (end == number.c_str()) return false;
  *value = v;
  return true;
}

}  // namespace

std::unique_ptr<XgbLambdaMart> XgbLambdaMart::Train(const RankingMatrix& train, const RankingMatrix& valid,
                                                    const XgbParams& params, std::string* error,
                                                    std::function<void(int round, double valid_ndcg)> progress) {
  auto fail = [error](std::string msg) -> std::unique_ptr<XgbLambdaMart> {
    if (error != nullptr) *error = std::move(msg);
    return nullptr;
  };
  if (std::string e = CheckMatrix(train, "train"); !e.empty()) return fail(e);
  if (std::string e = CheckMatrix(valid, "valid"); !e.empty()) return fail(e);
  if (valid.dim != train.dim) {
    return fail("valid dim " + std::to_string(valid.dim) + " != train dim " + std::to_string(train.dim));
  }
  if (params.rounds <= 0) return fail("rounds must be positive");
  if (params.eval_metric.empty()) return fail("eval_metric is empty");

  DMatrix dtrain;
  DMatrix dvalid;
  if (std::string e = MakeDMatrix(train, &dtrain); !e.empty()) return fail("train: " + e);
  if (std::string e = MakeDMatrix(valid, &dvalid); !e.empty()) return fail("valid: " + e);

  std::unique_ptr<XgbLambdaMart> model(new XgbLambdaMart());
  model->dim_ = train.dim;
  // Both matrices go into the booster's prediction cache. XGBoost reference-
  // counts them, so our handles may be freed when Train returns.
  DMatrixHandle cache[2] = {dtrain.get(), dvalid.get()};
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(cache, 2, &booster) != 0) return fail(LastXgbError("XGBoosterCreate"));
  model->booster_ = booster;

  const std::pair<const char*, std::string> settings[] = {
      {"booster", "gbtree"},
      {"objective", params.objective},
      {"eval_metric", params.eval_metric},
      {"eta", FormatDouble(params.eta)},
      {"max_depth", std::to_string(params.max_depth)},
      {"min_child_weight", FormatDouble(params.min_child_weight)},
      {"subsample", FormatDouble(params.subsample)},
      {"colsample_bytree", FormatDouble(params.colsample)},
      {"tree_method", params.tree_method},
      {"seed", std::to_string(params.seed)},
      {"verbosity", "1"},  // warnings only
  };
  for (const auto& [name, value] : settings) {
    if (XGBoosterSetParam(booster, name, value.c_str()) != 0) {
      return fail(LastXgbError(std::string("XGBoosterSetParam(") + name + "=" + value + ")"));
    }
  }
  if (params.threads > 0) {
    std::string n = std::to_string(params.threads);
    if (XGBoosterSetParam(booster, "nthread", n.c_str()) != 0) {
      return fail(LastXgbError("XGBoosterSetParam(nthread=" + n + ")"));
    }
  }

  const bool maximize = Maximize(params.eval_metric);
  DMatrixHandle eval_sets[1] = {dvalid.get()};
  const char* eval_names[1] = {"valid"};
  int best = -1;
  double best_score = 0;
  int round = 0;
  for (; round < params.rounds; ++round) {
    if (XGBoosterUpdateOneIter(booster, round, dtrain.get()) != 0) {
      return fail(LastXgbError("XGBoosterUpdateOneIter(round " + std::to_string(round) + ")"));
    }
    const char* eval = nullptr;
    if (XGBoosterEvalOneIter(booster, round, eval_sets, eval_names, 1, &eval) != 0) {
      return fail(LastXgbError("XGBoosterEvalOneIter(round " + std::to_string(round) + ")"));
    }
    double score = 0;
    if (eval == nullptr || !ParseEval(eval, &score)) {
      return fail(std::string("cannot parse the evaluation result \"") + (eval != nullptr ? eval : "") + "\"");
    }
    if (progress) progress(round, score);
    // The first round is the best so far; later rounds must improve on a
    // finite score (a NaN best is replaced by any finite one).
    bool improved =
        std::isfinite(score) && (!std::isfinite(best_score) || (maximize ? score > best_score : score < best_score));
    if (best < 0 || improved) {
      best = round;
      best_score = score;
    }
    if (params.early_stopping > 0 && round - best >= params.early_stopping) {
      ++round;
      break;
    }
  }
  model->best_iteration_ = params.use_all_rounds ? round - 1 : best;
  model->best_score_ = best_score;
  model->rounds_trained_ = round;
  return model;
}

std::vector<float> XgbLambdaMart::Predict(const float* x, size_t rows, size_t dim) const {
  std::lock_guard<std::mutex> lock(mu_);
  last_error_.clear();
  if (rows == 0) return {};
  if (dim != dim_) {
    last_error_ = "Predict: dim " + std::to_string(dim) + " != model dim " + std::to_string(dim_);
    return {};
  }
  if (x == nullptr) {
    last_error_ = "Predict: null features";
    return {};
  }
  DMatrix dm;
  if (XGDMatrixCreateFromMat(x, rows, dim, std::numeric_limits<float>::quiet_NaN(), dm.out()) != 0) {
    last_error_ = LastXgbError("XGDMatrixCreateFromMat");
    return {};
  }
  std::string config = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": )" +
                       std::to_string(best_iteration_ + 1) + R"(, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong ndim = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDMatrix(booster_, dm.get(), config.c_str(), &shape, &ndim, &result) != 0) {
    last_error_ = LastXgbError("XGBoosterPredictFromDMatrix");
    return {};
  }
  bst_ulong n = 1;
  for (bst_ulong i = 0; i < ndim; ++i) n *= shape[i];
  if (n != rows || result == nullptr) {
    last_error_ =
        "XGBoosterPredictFromDMatrix returned " + std::to_string(n) + " values for " + std::to_string(rows) + " rows";
    return {};
  }
  return std::vector<float>(result, result + rows);
}

std::string XgbLambdaMart::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

XgbLambdaMart::~XgbLambdaMart() {
  if (booster_ != nullptr) XGBoosterFree(booster_);
}

std::vector<double> XgbLambdaMart::FeatureGain() const {
  std::lock_guard<std::mutex> lock(mu_);
  bst_ulong n = 0, dims = 0;
  const char** names = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  if (XGBoosterFeatureScore(booster_, R"({"importance_type": "total_gain"})", &n, &names, &dims, &shape, &scores) != 0)
    return {};
  // Unnamed features come back as "f<column>"; unused columns are absent.
  std::vector<double> gain(dim_, 0.0);
  for (bst_ulong i = 0; i < n; ++i) {
    const std::string name = names[i];
    if (name.size() < 2 || name[0] != 'f') continue;
    const size_t col = std::stoul(name.substr(1));
    if (col < dim_) gain[col] = scores[i];
  }
  return gain;
}

}  // namespace hymir::bench
