// Routing benchmark (issue 4): 10,000 agents, 500 queues, 100 skills, 50,000 waiting tasks.
// Every agent is busy and the queues are full, the hard case: each finished task makes the
// agent choose among his queues' waiting tasks, and each new task looks for a free agent.
// The same workload runs through the naive full-scan router as the baseline, in this binary.
//   kefu_bench_acd [operations]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "acd/naive_router.hpp"
#include "acd/router.hpp"
#include "proc_status.hpp"

using namespace kefu::acd;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kAgents = 10'000, kQueues = 500, kSkills = 100, kWaiting = 50'000;

template <class R>
struct Result { double per_second; double p50_us, p99_us; long decisions; };

// timed: read the clock around every decision (for the percentiles); untimed: only around
// the whole loop (for the rate, without the clock's own cost).
template <class R>
Result<R> run(R& r, long ops, uint64_t seed, bool timed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> skill(0, kSkills - 1), level(1, 5), tier(0, 4), queue(0, kQueues - 1);
  for (int q = 0; q < kQueues; ++q) {
    QueueSpec s;
    s.skills = {q % kSkills};
    if (q >= kQueues / 2) s.skills.push_back((q * 7 + 3) % kSkills);
    s.strategy = Strategy(q % 7);
    s.weight_ms = (q % 3) * 5'000;
    r.add_queue(s);
  }
  for (int a = 0; a < kAgents; ++a) {
    AgentSpec s;
    s.level = level(rng);
    for (int k = 0; k < 8; ++k) s.skills.push_back(skill(rng));
    r.add_agent(s);
  }
  std::vector<Offer> out;
  Millis now = 0;
  for (int a = 0; a < kAgents; ++a) r.sign_in(a, true, now, out);
  TaskId next = 1;
  for (int i = 0; i < kWaiting + kAgents; ++i) r.enqueue(next++, queue(rng), tier(rng), now, out);
  for (int a = 0; a < kAgents; ++a) r.set_ready(a, true, now, out);
  std::vector<TaskId> busy;  // tasks being handled
  for (auto& o : out) busy.push_back(o.task);
  out.clear();

  std::vector<double> lat;
  lat.reserve(size_t(ops) * 2);
  long decisions = 0;
  auto start = Clock::now();
  for (long i = 0; i < ops; ++i) {
    now += 20;
    if (i % 1000 == 0) r.tick(now, out);
    // One agent finishes: he picks his next task (a decision).
    size_t k = size_t(rng() % busy.size());
    TaskId done = busy[k];
    auto t0 = timed ? Clock::now() : Clock::time_point{};
    r.finish(done, now, 180'000, out);
    auto t1 = timed ? Clock::now() : Clock::time_point{};
    busy[k] = busy.back();
    busy.pop_back();
    // One caller arrives: he looks for a free agent (a decision) and waits.
    r.enqueue(next++, queue(rng), tier(rng), now, out);
    if (timed) {
      auto t2 = Clock::now();
      lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      lat.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    }
    decisions += 2;
    for (auto& o : out) busy.push_back(o.task);
    out.clear();
    if (busy.empty()) break;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(lat.begin(), lat.end());
  if (lat.empty()) return {double(decisions) / secs, 0, 0, decisions};
  return {double(decisions) / secs, lat[lat.size() / 2], lat[size_t(double(lat.size()) * 0.99)], decisions};
}

}  // namespace

int main(int argc, char** argv) {
  long ops = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  RouterConfig cfg;
  {
    Router fast(cfg);
    auto rate = run(fast, ops, 42, false);
    Router r(cfg);
    auto res = run(r, ops, 42, true);
    std::printf("indexed router : %10.0f decisions/s  p50 %6.2f us  p99 %6.2f us  (%ld decisions, %zu waiting)\n",
                rate.per_second, res.p50_us, res.p99_us, res.decisions, r.waiting());
    std::printf("peak RSS after both indexed runs: %ld MiB\n", kefu::bench::status_kb("VmHWM") / 1024);
    NaiveRouter n(cfg);
    long naive_ops = std::max(200L, ops / 500);
    auto base = run(n, naive_ops, 42, true);
    std::printf("naive full scan: %10.0f decisions/s  p50 %6.2f us  p99 %6.2f us  (%ld decisions)\n",
                base.per_second, base.p50_us, base.p99_us, base.decisions);
    std::printf("ratio indexed / naive: %.0fx\n", res.per_second / base.per_second);
  }
  return 0;
}
