#include "services/queue/wait_simulation.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <queue>
#include <random>
#include <vector>

#include "services/queue/queue_rules.h"

namespace prima::queue {
namespace {

struct SimTicket {
  double issue = 0;  // simulated seconds from the opening
  bool priority = false;
  int64_t estimate = 0;
  int64_t naive = 0;
  double per_counter = 0;
};

struct Counter {
  bool open = false;  // OPEN (not paused, not yet closed)
  bool busy = false;  // a ticket is CALLED or SERVING here
};

enum class EventKind { kArrival, kCounterDone, kCounterOpen, kCounterPause };

struct Event {
  double time = 0;
  EventKind kind = EventKind::kArrival;
  int counter = -1;
  // For kCounterDone: the service duration to add to the mean, or < 0 for a
  // no-show.
  double service_seconds = -1;
  int64_t order = 0;  // ties: first scheduled, first handled
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    if (a.time != b.time) return a.time > b.time;
    return a.order > b.order;
  }
};

class Day {
 public:
  explicit Day(const SimulationConfig& config)
      : config_(config),
        random_(config.seed),
        counters_(std::max(config.counters, 0)) {}

  SimulationResult Run() {
    const int n = static_cast<int>(counters_.size());
    const int late = std::clamp(config_.late_counters, 0, n);
    const int lunch = std::clamp(config_.lunch_counters, 0, n);
    for (int i = 0; i < n; ++i) {
      // The last `late` counters open late; the first `lunch` pause for lunch.
      const double open_at =
          i >= n - late ? config_.late_open_minutes * 60.0 : 0.0;
      Schedule(
          {.time = open_at, .kind = EventKind::kCounterOpen, .counter = i});
      if (i < lunch) {
        const double pause = config_.lunch_start_minute * 60.0;
        Schedule(
            {.time = pause, .kind = EventKind::kCounterPause, .counter = i});
        Schedule({.time = pause + config_.lunch_minutes * 60.0,
                  .kind = EventKind::kCounterOpen,
                  .counter = i});
      }
    }
    ScheduleNextArrival(0);

    const double end = config_.day_minutes * 60.0;
    while (!events_.empty() && events_.top().time < end) {
      const Event event = events_.top();
      events_.pop();
      now_ = event.time;
      switch (event.kind) {
        case EventKind::kArrival:
          Issue();
          ScheduleNextArrival(now_);
          break;
        case EventKind::kCounterDone:
          counters_[event.counter].busy = false;
          if (event.service_seconds >= 0) Learn(event.service_seconds);
          break;
        case EventKind::kCounterOpen:
          counters_[event.counter].open = true;
          break;
        case EventKind::kCounterPause:
          // A busy counter finishes its ticket; it just calls nobody new.
          counters_[event.counter].open = false;
          break;
      }
      CallAtIdleCounters();
    }
    result_.expired = static_cast<int64_t>(priority_.size() + regular_.size());
    return result_;
  }

 private:
  void Schedule(Event event) {
    event.order = next_order_++;
    events_.push(event);
  }

  // Poisson arrivals with a rate that is higher in the morning peak, drawn by
  // thinning a process at the peak rate.
  void ScheduleNextArrival(double after) {
    const double capacity_per_second =
        counters_.size() / (config_.mean_service_minutes * 60.0);
    const double base_rate = config_.load * capacity_per_second;
    const double max_rate = base_rate * std::max(config_.peak_factor, 1.0);
    if (max_rate <= 0) return;
    std::exponential_distribution<double> gap(max_rate);
    std::uniform_real_distribution<double> unit(0, 1);
    double t = after;
    while (true) {
      t += gap(random_);
      if (t >= config_.last_issue_minute * 60.0) return;
      const double rate = t < config_.peak_minutes * 60.0
                              ? base_rate * config_.peak_factor
                              : base_rate;
      if (unit(random_) * max_rate <= rate) break;
    }
    Schedule({.time = t, .kind = EventKind::kArrival});
  }

  // IssueTicket: the inputs exactly as the store knows them at issue time.
  void Issue() {
    std::uniform_real_distribution<double> unit(0, 1);
    SimTicket ticket{.issue = now_,
                     .priority = unit(random_) < config_.priority_share};
    WaitInputs inputs;
    // Priority tickets are called before regular ones at every counter.
    inputs.ahead = static_cast<int64_t>(ticket.priority ? priority_.size()
                                                        : priority_.size() +
                                                              regular_.size());
    for (const Counter& counter : counters_) {
      if (!counter.open) continue;
      ++inputs.open_counters;
      if (counter.busy) ++inputs.busy_counters;
    }
    inputs.recent_service_seconds = mean_service_seconds_;
    inputs.samples = samples_;
    inputs.target_waiting_minutes = config_.target_minutes;
    ticket.estimate = EstimateWaitSeconds(inputs);
    ticket.naive = NaiveWaitSeconds(inputs);
    ticket.per_counter = static_cast<double>(ticket.naive) /
                         std::max<int64_t>(inputs.open_counters, 1);
    (ticket.priority ? priority_ : regular_).push_back(ticket);
  }

  void CallAtIdleCounters() {
    for (int i = 0; i < static_cast<int>(counters_.size()); ++i) {
      Counter& counter = counters_[i];
      if (!counter.open || counter.busy) continue;
      std::deque<SimTicket>& group = !priority_.empty() ? priority_ : regular_;
      if (group.empty()) return;
      Record(group.front());
      group.pop_front();
      counter.busy = true;
      std::uniform_real_distribution<double> unit(0, 1);
      if (unit(random_) < config_.no_show_share) {
        Schedule({.time = now_ + config_.no_show_minutes * 60.0,
                  .kind = EventKind::kCounterDone,
                  .counter = i});
      } else {
        const double duration = ServiceSeconds();
        Schedule({.time = now_ + duration,
                  .kind = EventKind::kCounterDone,
                  .counter = i,
                  .service_seconds = duration});
      }
    }
  }

  double ServiceSeconds() {
    const double cv = std::max(config_.service_cv, 0.01);
    const double sigma2 = std::log(1 + cv * cv);
    const double mu =
        std::log(config_.mean_service_minutes * 60.0) - sigma2 / 2;
    std::lognormal_distribution<double> duration(mu, std::sqrt(sigma2));
    return duration(random_);
  }

  // The store's exponentially weighted mean of call-to-completion seconds.
  void Learn(double service_seconds) {
    mean_service_seconds_ =
        samples_ == 0 ? service_seconds
                      : (1 - kServiceMeanWeight) * mean_service_seconds_ +
                            kServiceMeanWeight * service_seconds;
    ++samples_;
  }

  void Record(const SimTicket& ticket) {
    const double wait = now_ - ticket.issue;
    const double estimate_error = std::abs(ticket.estimate - wait);
    const double naive_error = std::abs(ticket.naive - wait);
    ++result_.tickets;
    result_.real_wait_seconds += wait;
    result_.estimate_abs_error_seconds += estimate_error;
    result_.naive_abs_error_seconds += naive_error;
    result_.per_counter_abs_error_seconds +=
        std::abs(ticket.per_counter - wait);
    result_.estimate_error_seconds += ticket.estimate - wait;
    if (estimate_error <= 300) ++result_.estimate_within_5_minutes;
    if (naive_error <= 300) ++result_.naive_within_5_minutes;
  }

  const SimulationConfig& config_;
  std::mt19937_64 random_;
  std::vector<Counter> counters_;
  std::priority_queue<Event, std::vector<Event>, Later> events_;
  int64_t next_order_ = 0;
  double now_ = 0;
  std::deque<SimTicket> priority_;
  std::deque<SimTicket> regular_;
  double mean_service_seconds_ = 0;
  int64_t samples_ = 0;
  SimulationResult result_;
};

double Ratio(double sum, int64_t count) {
  return count == 0 ? 0 : sum / static_cast<double>(count);
}

}  // namespace

double SimulationResult::MeanRealWaitSeconds() const {
  return Ratio(real_wait_seconds, tickets);
}
double SimulationResult::EstimateMaeSeconds() const {
  return Ratio(estimate_abs_error_seconds, tickets);
}
double SimulationResult::NaiveMaeSeconds() const {
  return Ratio(naive_abs_error_seconds, tickets);
}
double SimulationResult::PerCounterMaeSeconds() const {
  return Ratio(per_counter_abs_error_seconds, tickets);
}
double SimulationResult::EstimateBiasSeconds() const {
  return Ratio(estimate_error_seconds, tickets);
}
double SimulationResult::EstimateWithin5MinutesShare() const {
  return Ratio(static_cast<double>(estimate_within_5_minutes), tickets);
}
double SimulationResult::NaiveWithin5MinutesShare() const {
  return Ratio(static_cast<double>(naive_within_5_minutes), tickets);
}

void SimulationResult::Add(const SimulationResult& other) {
  tickets += other.tickets;
  expired += other.expired;
  real_wait_seconds += other.real_wait_seconds;
  estimate_abs_error_seconds += other.estimate_abs_error_seconds;
  naive_abs_error_seconds += other.naive_abs_error_seconds;
  per_counter_abs_error_seconds += other.per_counter_abs_error_seconds;
  estimate_error_seconds += other.estimate_error_seconds;
  estimate_within_5_minutes += other.estimate_within_5_minutes;
  naive_within_5_minutes += other.naive_within_5_minutes;
}

SimulationResult SimulateDay(const SimulationConfig& config) {
  return Day(config).Run();
}

SimulationResult SimulateDays(const SimulationConfig& config, int days) {
  SimulationResult total;
  SimulationConfig day_config = config;
  for (int d = 0; d < days; ++d) {
    day_config.seed = config.seed + static_cast<uint64_t>(d);
    total.Add(SimulateDay(day_config));
  }
  return total;
}

}  // namespace prima::queue
