#pragma once
// 客户分级: the contribution-score model (seed 003 客户分层) and its trial calculation (试算).
// Pure: the service feeds it indicator values read from the customer file and applies what the
// user accepts; tests call it directly.
//
// A score is a weighted sum of indicators, each scored linearly up to its full mark and capped
// there, so a billionaire does not outweigh everything else; weights add up to 100, scores run
// 0..10000 (hundredths of a point). Tier t (1..4) starts at thresholds[t-1]; below the first
// threshold a customer is tier 0. Integer arithmetic: the same data give the same tiers on any
// machine, in a trial and when applied.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/json.hpp"

namespace kefu::crm {

inline constexpr int kTiers = 5;  // 0 普通, 1 银卡, 2 金卡, 3 白金, 4 钻石; the router's levels

// What a score may be computed from: columns of the customer file, and tenure.
struct IndicatorInfo {
  const char* code;
  const char* label_zh;
  const char* label_en;
  const char* unit;  // fen, day, count
};
const std::vector<IndicatorInfo>& indicator_catalogue();

struct Indicator {
  std::string code;
  int weight = 0;         // percent
  int64_t full_mark = 0;  // the value that earns the whole weight
};

struct GradingModel {
  std::vector<Indicator> indicators;
  std::array<int64_t, kTiers - 1> thresholds{};  // minimum score of tiers 1..4, ascending

  // Every problem at once, fields named like "indicators[1].weight"; throws Error 422.
  static GradingModel parse(const json::value& v);
  json::object to_json() const;

  int64_t score(const int64_t* values) const;  // values in indicator order
  int tier_of(int64_t score) const;
};

// The distribution a model gives, against the tiers customers have now.
struct TrialResult {
  int64_t customers = 0;
  std::array<int64_t, kTiers> per_tier{};
  std::array<std::array<int64_t, kTiers>, kTiers> moves{};  // [from][to]
  std::array<int64_t, 20> histogram{};                      // scores in 5-point bins
  int64_t up = 0, down = 0, same = 0;

  void add(int current_tier, int64_t score, int new_tier);
  json::object to_json() const;
};

}  // namespace kefu::crm
