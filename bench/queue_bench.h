#pragma once

// The queue's measurements beyond unary load (prima-bench queue-memory,
// queue-watch) and the names of the bench directory that scripts/bench-queue
// applies (keep the two in step).

#include <string>

#include "absl/status/statusor.h"
#include "prima/queue/v1/queue.grpc.pb.h"

namespace prima::bench {

// scripts/bench-queue: offices bench-queue-<o> (o < kQueueBenchOffices), open
// all day, each with counters bench-queue-<o>-<c> (1 <= c <=
// kQueueBenchCounters) serving the services bench-queue-a .. -d.
inline constexpr int kQueueBenchOffices = 8;
inline constexpr int kQueueBenchCounters = 16;
inline constexpr int kQueueBenchServices = 4;
inline constexpr char kQueueBenchAgency[] = "bench-queue";
inline constexpr char kQueueBenchWatchOffice[] = "bench-queue-watch";
inline constexpr char kQueueBenchWatchCounter[] = "bench-queue-watch-1";

std::string QueueBenchOffice(int office);
std::string QueueBenchService(int service);  // 0 -> bench-queue-a
std::string QueueBenchCounter(int office, int counter);
std::string QueueBenchOfficer(int office, int counter);

// An officer token of the bench agency for `officer`, signed with
// PRIMA_JWT_SECRET (or var/dev-jwt-secret).
absl::StatusOr<std::string> QueueBenchOfficerToken(const std::string& officer);

// Blocking, as `token`'s officer: completes `ticket_id` at the counter.
absl::Status CompleteQueueBenchTicket(
    prima::queue::v1::QueueService::Stub& stub, const std::string& counter_id,
    const std::string& token, const std::string& ticket_id);
// Opens the counter (a no-op when this officer has it open already) and
// completes a ticket an interrupted run left CALLED there.
absl::Status OpenQueueBenchCounter(prima::queue::v1::QueueService::Stub& stub,
                                   const std::string& counter_id,
                                   const std::string& token);

struct QueueMemoryOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  int tickets = 100000;
};
// Issues `tickets` WAITING tickets through the real QueueStore into that Redis
// and prints used_memory per ticket with a breakdown by key kind.
int RunQueueMemory(const QueueMemoryOptions& options);

struct QueueWatchOptions {
  std::string addr = "127.0.0.1:50052";
  std::string call_addr;  // where the calls go (default: addr)
  int watchers = 1000;
  int calls = 200;
  int channels = 8;
  std::string interval = "20ms";
};
// Opens `watchers` WatchOffice streams to the bench watch office, then makes
// `calls` IssueTicket + CallNext + CompleteService rounds and prints the delay
// from each CallNext reply to its KIND_CALL at every watcher.
int RunQueueWatch(const QueueWatchOptions& options);

}  // namespace prima::bench
