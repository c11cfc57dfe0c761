#pragma once

// A deterministic simulation of one office day, in simulated time only (no
// Redis, no gRPC, no clock), to measure the wait estimate against what really
// happens: tickets arrive, counters call them in the queue's order, and each
// ticket's estimate at issue time is compared with its real wait.

#include <cstdint>
#include <string>

namespace prima::queue {

struct SimulationConfig {
  uint64_t seed = 1;
  // The office day: counters call from minute 0 to `day_minutes`; tickets are
  // issued until `last_issue_minute` and still waiting at the end expire.
  int day_minutes = 480;  // 08:00-16:00
  int last_issue_minute = 450;
  // Counters serving the one simulated service.
  int counters = 4;
  // Of those, how many open `late_open_minutes` after the opening (the
  // officer arrives late or comes from another desk).
  int late_counters = 1;
  int late_open_minutes = 60;
  // Of those, how many pause for lunch (PauseCounter .. ResumeCounter).
  int lunch_counters = 1;
  int lunch_start_minute = 240;  // 12:00
  int lunch_minutes = 60;
  // The directory's target minutes per ticket (what the naive estimate
  // multiplies by the position).
  int target_minutes = 10;
  // What serving a ticket really takes (call to completion): lognormal with
  // this mean and coefficient of variation.
  double mean_service_minutes = 6;
  double service_cv = 0.6;
  // Arrivals: Poisson, `load` × the full staff's capacity (counters / mean
  // service time) outside the peak, `peak_factor` times that in the morning
  // peak (the first `peak_minutes`).
  double load = 0.8;
  double peak_factor = 1.5;
  int peak_minutes = 120;
  // Share of ELDERLY/DISABLED/PREGNANT tickets (called before regular ones).
  double priority_share = 0.1;
  // Share of called citizens who do not come; the officer marks NO_SHOW after
  // `no_show_minutes` (not a completion: it does not enter the mean).
  double no_show_share = 0.05;
  double no_show_minutes = 2;
};

// Sums over the tickets called during the simulated day(s); a ticket's error
// is |estimate at issue - real wait from issue to first call|.
struct SimulationResult {
  int64_t tickets = 0;  // issued and called
  int64_t expired = 0;  // still waiting at the end of the day
  double real_wait_seconds = 0;
  double estimate_abs_error_seconds = 0;
  double naive_abs_error_seconds = 0;
  // A stronger baseline than the naive one: position × target / open
  // counters (what the estimate is before it uses history and idle counters).
  double per_counter_abs_error_seconds = 0;
  // Sum of estimate - real wait: > 0 when the estimate runs high.
  double estimate_error_seconds = 0;
  // Tickets whose estimate was within ±5 minutes of the real wait.
  int64_t estimate_within_5_minutes = 0;
  int64_t naive_within_5_minutes = 0;

  double MeanRealWaitSeconds() const;
  double EstimateMaeSeconds() const;
  double NaiveMaeSeconds() const;
  double PerCounterMaeSeconds() const;
  double EstimateBiasSeconds() const;
  double EstimateWithin5MinutesShare() const;
  double NaiveWithin5MinutesShare() const;
  // Adds another day's sums.
  void Add(const SimulationResult& other);
};

SimulationResult SimulateDay(const SimulationConfig& config);
// `days` days with seeds config.seed, config.seed + 1, ...
SimulationResult SimulateDays(const SimulationConfig& config, int days);

}  // namespace prima::queue
