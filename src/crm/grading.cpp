#include "crm/grading.hpp"

#include <algorithm>
#include <set>

namespace kefu::crm {

const std::vector<IndicatorInfo>& indicator_catalogue() {
  static const std::vector<IndicatorInfo> c = {
      {"assets_fen", "资产(存款/市值)", "Assets (deposits, holdings)", "fen"},
      {"liabilities_fen", "负债(贷款/融资)", "Liabilities (loans, margin)", "fen"},
      {"credit_limit_fen", "授信额度", "Credit limit", "fen"},
      {"turnover_fen", "年交易量", "Turnover, last 12 months", "fen"},
      {"commission_fen", "佣金贡献", "Commission, last 12 months", "fen"},
      {"products", "持有产品数", "Products held", "count"},
      {"tenure_days", "开户时长(天)", "Tenure (days)", "day"},
  };
  return c;
}

GradingModel GradingModel::parse(const json::value& v) {
  std::vector<FieldError> errs;
  GradingModel m;
  if (!v.is_object())
    throw Error::validation({{"model", "invalid_type", "the model is an object"}});
  const auto& o = v.as_object();
  const auto* inds = o.if_contains("indicators");
  if (!inds || !inds->is_array() || inds->as_array().empty() || inds->as_array().size() > 10) {
    errs.push_back({"indicators", "indicators_count", "choose 1 to 10 indicators"});
  } else {
    std::set<std::string> seen;
    int sum = 0;
    for (size_t i = 0; i < inds->as_array().size(); ++i) {
      std::string at = "indicators[" + std::to_string(i) + "]";
      const auto& e = inds->as_array()[i];
      if (!e.is_object()) {
        errs.push_back({at, "invalid_type", "an indicator is an object"});
        continue;
      }
      Indicator ind;
      if (auto s = get_string(e.as_object(), "code")) ind.code = *s;
      auto& cat = indicator_catalogue();
      if (std::none_of(cat.begin(), cat.end(), [&](auto& c) { return ind.code == c.code; }))
        errs.push_back({at + ".code", "unknown_indicator", "no such indicator"});
      else if (!seen.insert(ind.code).second)
        errs.push_back({at + ".code", "duplicate_indicator", "an indicator is chosen once"});
      auto w = get_int(e.as_object(), "weight");
      if (!w || *w < 1 || *w > 100)
        errs.push_back({at + ".weight", "out_of_range", "a weight is 1 to 100"});
      else
        ind.weight = int(*w), sum += ind.weight;
      auto f = get_int(e.as_object(), "full_mark");
      if (!f || *f < 1 || *f > int64_t(1) << 50)
        errs.push_back({at + ".full_mark", "out_of_range", "the full mark is a positive value"});
      else
        ind.full_mark = *f;
      m.indicators.push_back(std::move(ind));
    }
    if (errs.empty() && sum != 100)
      errs.push_back({"indicators", "weights_sum", "the weights must add up to 100"});
  }
  const auto* th = o.if_contains("thresholds");
  if (!th || !th->is_array() || th->as_array().size() != kTiers - 1) {
    errs.push_back({"thresholds", "thresholds_count", "give the lowest score of tiers 1 to 4"});
  } else {
    int64_t prev = 0;
    for (size_t i = 0; i < kTiers - 1; ++i) {
      std::string at = "thresholds[" + std::to_string(i) + "]";
      const auto& e = th->as_array()[i];
      // Points with up to two decimals, as the user types them (60, 72.5).
      double d = e.is_int64() ? double(e.as_int64()) : e.is_double() ? e.as_double() : -1;
      int64_t s = int64_t(d * 100 + 0.5);
      if (d <= 0 || d > 100) {
        errs.push_back({at, "out_of_range", "a threshold is a score above 0, at most 100"});
      } else if (s <= prev) {
        errs.push_back({at, "not_ascending", "each tier needs a higher score than the one below"});
      } else {
        m.thresholds[i] = s;
        prev = s;
      }
    }
  }
  if (!errs.empty()) throw Error::validation(std::move(errs));
  return m;
}

json::object GradingModel::to_json() const {
  json::array inds, th;
  for (auto& i : indicators)
    inds.push_back(
        json::object{{"code", i.code}, {"weight", i.weight}, {"full_mark", i.full_mark}});
  for (auto t : thresholds)
    th.push_back(t % 100 ? json::value(double(t) / 100) : json::value(t / 100));
  return {{"indicators", std::move(inds)}, {"thresholds", std::move(th)}};
}

int64_t GradingModel::score(const int64_t* values) const {
  int64_t s = 0;
  for (size_t i = 0; i < indicators.size(); ++i) {
    const auto& ind = indicators[i];
    int64_t v = std::clamp<int64_t>(values[i], 0, ind.full_mark);
    // weight × 100 × v / full, exact in 128 bits: full marks reach 2^50.
    s += int64_t((__int128)ind.weight * 100 * v / ind.full_mark);
  }
  return s;
}

int GradingModel::tier_of(int64_t score) const {
  int t = 0;
  while (t < kTiers - 1 && score >= thresholds[size_t(t)]) ++t;
  return t;
}

void TrialResult::add(int current_tier, int64_t score, int new_tier) {
  current_tier = std::clamp(current_tier, 0, kTiers - 1);
  ++customers;
  ++per_tier[size_t(new_tier)];
  ++moves[size_t(current_tier)][size_t(new_tier)];
  ++histogram[size_t(std::min<int64_t>(score / 500, 19))];
  if (new_tier > current_tier)
    ++up;
  else if (new_tier < current_tier)
    ++down;
  else
    ++same;
}

json::object TrialResult::to_json() const {
  json::array tiers, hist, mv;
  for (auto n : per_tier) tiers.push_back(n);
  for (auto n : histogram) hist.push_back(n);
  for (auto& row : moves) {
    json::array r;
    for (auto n : row) r.push_back(n);
    mv.push_back(std::move(r));
  }
  return {{"customers", customers},
          {"per_tier", std::move(tiers)},
          {"histogram", std::move(hist)},
          {"moves", std::move(mv)},
          {"up", up},
          {"down", down},
          {"same", same}};
}

}  // namespace kefu::crm
