#include "services/queue/live_feed.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/common/logging.h"
#include "services/common/proto_time.h"
#include "services/common/redis_value.h"
#include "services/common/rpc.h"
#include "services/common/stream_follower.h"

namespace prima::queue {

namespace {

constexpr int kSnapshotCalls = 10;  // BoardUpdate.KIND_SNAPSHOT: at most 10

bool IsFinal(v1::TicketStatus status) {
  return status == v1::TICKET_STATUS_COMPLETED ||
         status == v1::TICKET_STATUS_NO_SHOW ||
         status == v1::TICKET_STATUS_CANCELLED ||
         status == v1::TICKET_STATUS_EXPIRED;
}

grpc::Status ShuttingDown() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
}

// What a ticket watcher reports: position, estimate or status (or the queue
// or counter the ticket is in) changed.
bool TicketChanged(const v1::Ticket& before, const v1::Ticket& now) {
  return before.status() != now.status() ||
         before.position() != now.position() ||
         before.estimated_wait_seconds() != now.estimated_wait_seconds() ||
         before.open_counters() != now.open_counters() ||
         before.service_id() != now.service_id() ||
         before.target_counter_id() != now.target_counter_id() ||
         before.counter_id() != now.counter_id();
}

// Called now: it became CALLED, or was recalled.
bool TicketCalled(const v1::Ticket& before, const v1::Ticket& now) {
  return now.status() == v1::TICKET_STATUS_CALLED &&
         (before.status() != v1::TICKET_STATUS_CALLED ||
          before.recall_count() != now.recall_count());
}

bool SameCounts(const std::vector<v1::ServiceWaiting>& a,
                const std::vector<v1::ServiceWaiting>& b) {
  return std::equal(
      a.begin(), a.end(), b.begin(), b.end(),
      [](const v1::ServiceWaiting& x, const v1::ServiceWaiting& y) {
        return x.service_id() == y.service_id() && x.waiting() == y.waiting();
      });
}

// One entry of kLiveStreamKey.
struct LiveEntry {
  std::string office;
  std::string ticket;
  std::optional<v1::BoardCall> call;  // for "call" entries
};

// `fields`: one stream entry's field list.
std::optional<LiveEntry> ParseEntry(const RedisValue& fields) {
  LiveEntry parsed;
  std::string kind;
  v1::BoardCall call;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& name = fields.elements[i].str;
    const std::string& value = fields.elements[i + 1].str;
    if (name == "o") {
      parsed.office = value;
    } else if (name == "k") {
      kind = value;
    } else if (name == "t") {
      parsed.ticket = value;
    } else if (name == "n") {
      call.set_ticket_number(value);
    } else if (name == "c") {
      call.set_counter_id(value);
    } else if (name == "cn") {
      call.set_counter_name(value);
    } else if (name == "s") {
      call.set_service_id(value);
    } else if (name == "r") {
      call.set_recall(value == "1");
    } else if (name == "ms") {
      int64_t ms = 0;
      if (absl::SimpleAtoi(value, &ms)) {
        *call.mutable_call_time() = ToProtoTime(absl::FromUnixMillis(ms));
      }
    }
  }
  if (parsed.office.empty()) return std::nullopt;
  if (kind == "call") parsed.call = std::move(call);
  return parsed;
}

// What the hub sees of a stream.
class Watcher : public std::enable_shared_from_this<Watcher> {
 public:
  virtual ~Watcher() = default;
  // Finishes the stream with `status` as soon as no write is in flight.
  virtual void Shutdown(const grpc::Status& status) = 0;
  // Sends a heartbeat if the stream has been idle for the heartbeat interval.
  virtual void Beat(absl::Time now) = 0;
};

class BoardWatcher;
class TicketWatcher;

}  // namespace

class LiveFeed::Hub : public std::enable_shared_from_this<Hub> {
 public:
  Hub(QueueStore& store, const Clock& clock, Options options)
      : store_(store), clock_(clock), options_(options) {}

  QueueStore& store() { return store_; }
  const Clock& clock() const { return clock_; }
  const Options& options() const { return options_; }

  // Registers a new stream unless the server is full or stopping.
  absl::Status AdmitBoard(const std::string& office,
                          const std::shared_ptr<BoardWatcher>& watcher);
  // Returns the batch sequence number at admission (see PlaceTicket).
  absl::StatusOr<uint64_t> AdmitTicket(
      const std::shared_ptr<TicketWatcher>& watcher);
  // Files an admitted ticket watcher under its office once its office is
  // known. Returns whether a batch was applied since `admitted_seq` (the
  // watcher must then re-read, as it may have missed that batch).
  bool PlaceTicket(const std::string& office,
                   const std::shared_ptr<TicketWatcher>& watcher,
                   uint64_t admitted_seq);
  void Remove(Watcher* watcher);
  int size() const;

  // A store read may start (false once stopped). Every true needs an EndRead.
  bool BeginRead();
  void EndRead();

  // The follower's batch.
  void Apply(std::vector<LiveEntry> entries);
  void BeatAll(absl::Time now);
  // Refuses new streams and reads, and finishes the open streams.
  void Stop(const grpc::Status& status);
  // Waits (bounded) for the store reads in flight, so `store_` is not used
  // after the LiveFeed is gone.
  void AwaitReads(absl::Duration timeout);

 private:
  struct Entry {
    std::shared_ptr<Watcher> watcher;
    std::string office;  // "" for a ticket watcher not placed yet
  };
  // One office's board read; at most one in flight, repeated once if a batch
  // touched the office meanwhile.
  struct BoardRead {
    bool again = false;
  };

  absl::Status AdmitLocked(const std::shared_ptr<Watcher>& watcher,
                           std::string office)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshBoard(const std::string& office);
  void ReadBoard(const std::string& office);
  void OnBoard(const std::string& office, absl::StatusOr<Board> board);
  std::vector<std::shared_ptr<BoardWatcher>> BoardsOf(
      const std::string& office);

  QueueStore& store_;
  const Clock& clock_;
  const Options options_;

  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  int reads_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<Watcher*, Entry> all_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<
      std::string, absl::flat_hash_map<Watcher*, std::shared_ptr<BoardWatcher>>>
      boards_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<
      std::string,
      absl::flat_hash_map<Watcher*, std::shared_ptr<TicketWatcher>>>
      tickets_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, BoardRead> board_reads_ ABSL_GUARDED_BY(mu_);
};

namespace {

// The write machinery shared by both kinds of stream: one write in flight,
// the next update chosen by the subclass when it completes, heartbeats when
// idle, and exactly one Finish once no write is in flight. gRPC is never
// called with `mu_` held (its reactions may run inline).
//
// Ownership: the stream owns itself (`self_`) from creation until OnDone;
// Redis callbacks in flight hold further references, so a late callback
// finds a finished stream, never a deleted one.
template <typename Update>
class Stream : public grpc::ServerWriteReactor<Update>, public Watcher {
 public:
  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      write_in_flight_ = false;
      if (!ok && !finish_now_.has_value()) {
        finish_now_ =
            grpc::Status(grpc::StatusCode::CANCELLED, "the stream was closed");
      }
    }
    Pump();
  }

  void OnCancel() override {
    Shutdown(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    hub_->Remove(this);
    Logged();
    std::shared_ptr<Watcher> last_reference = std::move(self_);
    // `this` may be deleted when `last_reference` goes.
  }

  void Shutdown(const grpc::Status& status) override {
    {
      absl::MutexLock lock(&mu_);
      if (!finish_now_.has_value()) finish_now_ = status;
    }
    Pump();
  }

  void Beat(absl::Time now) override {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || write_in_flight_ || !snapshot_sent_ ||
          finish_now_.has_value() || finish_when_drained_.has_value() ||
          HasPendingLocked() || now - last_write_ < hub_->options().heartbeat) {
        return;
      }
      heartbeat_due_ = true;
    }
    Pump();
  }

  // Called once, right after creation, to hand the stream its own reference.
  void Own(std::shared_ptr<Watcher> self) { self_ = std::move(self); }

 protected:
  explicit Stream(std::shared_ptr<LiveFeed::Hub> hub)
      : hub_(std::move(hub)), last_write_(absl::Now()) {}

  // Under mu_: whether an update waits to be sent.
  virtual bool HasPendingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Under mu_: moves the next update into *out (kind and payload; the time is
  // stamped here). False when nothing waits.
  virtual bool TakeNextLocked(Update* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Writes the stream's end line (called from OnDone).
  virtual void Logged() = 0;

  // Starts the next write, or the finish, if the stream is idle.
  void Pump() {
    std::optional<grpc::Status> finish;
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || write_in_flight_) return;
      if (finish_now_.has_value()) {
        finish = finish_now_;
      } else if (TakeNextLocked(&out_)) {
        write = true;
      } else if (heartbeat_due_) {
        out_.Clear();
        out_.set_kind(Update::KIND_HEARTBEAT);
        write = true;
      } else if (finish_when_drained_.has_value()) {
        finish = finish_when_drained_;
      }
      if (write) {
        heartbeat_due_ = false;
        write_in_flight_ = true;
        last_write_ = absl::Now();
        *out_.mutable_time() = ToProtoTime(hub_->clock().Now());
        ++sent_;
      }
      if (finish.has_value()) {
        finished_ = true;
        end_code_ = finish->error_code();
      }
    }
    // `out_` is left alone until OnWriteDone: only the thread that set
    // write_in_flight_ touches it until then.
    if (write) {
      this->StartWrite(&out_);
    } else if (finish.has_value()) {
      this->Finish(*std::move(finish));
    }
  }

  const std::shared_ptr<LiveFeed::Hub> hub_;
  absl::Mutex mu_;
  // The first message (the snapshot) went out; heartbeats may follow.
  bool snapshot_sent_ ABSL_GUARDED_BY(mu_) = false;
  // Finish at once (error, cancel, shutdown); pending updates are dropped.
  std::optional<grpc::Status> finish_now_ ABSL_GUARDED_BY(mu_);
  // Finish once everything pending is sent (a final ticket).
  std::optional<grpc::Status> finish_when_drained_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::StatusCode end_code_ ABSL_GUARDED_BY(mu_) = grpc::StatusCode::OK;
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;

 private:
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool heartbeat_due_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_write_ ABSL_GUARDED_BY(mu_);
  Update out_;  // the write in flight
  std::shared_ptr<Watcher> self_;
};

class BoardWatcher final : public Stream<v1::BoardUpdate> {
 public:
  BoardWatcher(std::shared_ptr<LiveFeed::Hub> hub, std::string office)
      : Stream(std::move(hub)), office_(std::move(office)) {}

  const std::string& office() const { return office_; }

  // Runs `precheck` (if any), then reads the board for the snapshot.
  void Begin(LiveFeed::Precheck precheck) {
    if (precheck == nullptr) return ReadSnapshot();
    precheck([self = std::static_pointer_cast<BoardWatcher>(
                  shared_from_this())](absl::Status status) {
      if (!status.ok())
        return self->Shutdown(StreamEndStatus("WatchOffice", status));
      self->ReadSnapshot();
    });
  }

  void PushCalls(const std::vector<v1::BoardCall>& calls) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      for (const v1::BoardCall& call : calls) {
        if (pending_calls_.size() >= hub_->options().max_pending_calls) {
          pending_calls_.pop_front();
          ++dropped_calls_;
        }
        if (hub_->options().max_pending_calls > 0) {
          pending_calls_.push_back(call);
        } else {
          ++dropped_calls_;
        }
      }
    }
    Pump();
  }

  void PushCounts(const std::vector<v1::ServiceWaiting>& waiting) {
    {
      absl::MutexLock lock(&mu_);
      // Counts read before the snapshot are older than it.
      if (finished_ || !snapshot_read_) return;
      if (SameCounts(waiting, sent_counts_)) {
        pending_counts_.reset();
        return;
      }
      pending_counts_ = waiting;
    }
    Pump();
  }

 private:
  void ReadSnapshot() {
    if (!hub_->BeginRead()) return Shutdown(ShuttingDown());
    hub_->store().GetBoard(
        office_, [self = std::static_pointer_cast<BoardWatcher>(
                      shared_from_this())](absl::StatusOr<Board> board) {
          self->OnSnapshot(std::move(board));
          self->hub_->EndRead();
        });
  }

  void OnSnapshot(absl::StatusOr<Board> board) {
    if (!board.ok())
      return Shutdown(StreamEndStatus("WatchOffice", board.status()));
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      snapshot_.emplace();
      snapshot_->set_kind(v1::BoardUpdate::KIND_SNAPSHOT);
      for (const v1::ServiceWaiting& w : board->waiting) {
        *snapshot_->add_waiting() = w;
      }
      for (size_t i = 0; i < board->calls.size() && i < kSnapshotCalls; ++i) {
        *snapshot_->add_calls() = std::move(board->calls[i]);
      }
      sent_counts_ = std::move(board->waiting);
      snapshot_read_ = true;
    }
    Pump();
  }

  bool HasPendingLocked() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return snapshot_.has_value() ||
           (snapshot_taken_ &&
            (!pending_calls_.empty() || pending_counts_.has_value()));
  }

  bool TakeNextLocked(v1::BoardUpdate* out) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (snapshot_.has_value()) {
      *out = *std::move(snapshot_);
      snapshot_.reset();
      snapshot_taken_ = true;
      snapshot_sent_ = true;
      return true;
    }
    if (!snapshot_taken_) return false;
    if (!pending_calls_.empty()) {
      out->Clear();
      out->set_kind(v1::BoardUpdate::KIND_CALL);
      v1::BoardCall* call = out->add_calls();
      *call = std::move(pending_calls_.front());
      pending_calls_.pop_front();
      return true;
    }
    if (pending_counts_.has_value()) {
      out->Clear();
      out->set_kind(v1::BoardUpdate::KIND_COUNTS);
      for (const v1::ServiceWaiting& w : *pending_counts_) {
        *out->add_waiting() = w;
      }
      sent_counts_ = *std::move(pending_counts_);
      pending_counts_.reset();
      return true;
    }
    return false;
  }

  void Logged() override {
    absl::MutexLock lock(&mu_);
    Log(dropped_calls_ > 0 ? LogLevel::kInfo : LogLevel::kDebug,
        "board watch ended",
        LogFields()
            .Add("office", office_)
            .Add("code", static_cast<int>(end_code_))
            .Add("sent", sent_)
            .Add("dropped_calls", dropped_calls_));
  }

  const std::string office_;
  std::optional<v1::BoardUpdate> snapshot_ ABSL_GUARDED_BY(mu_);
  bool snapshot_read_ ABSL_GUARDED_BY(mu_) = false;
  bool snapshot_taken_ ABSL_GUARDED_BY(mu_) = false;
  // The counts the client has (or will have with the write in flight).
  std::vector<v1::ServiceWaiting> sent_counts_ ABSL_GUARDED_BY(mu_);
  std::optional<std::vector<v1::ServiceWaiting>> pending_counts_
      ABSL_GUARDED_BY(mu_);
  std::deque<v1::BoardCall> pending_calls_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class TicketWatcher final : public Stream<v1::TicketUpdate> {
 public:
  TicketWatcher(std::shared_ptr<LiveFeed::Hub> hub, std::string ticket_id,
                AccessProof proof)
      : Stream(std::move(hub)),
        ticket_id_(std::move(ticket_id)),
        proof_(std::move(proof)) {}

  // The first read: checks the proof and makes the snapshot.
  void Begin(uint64_t admitted_seq) {
    admitted_seq_ = admitted_seq;
    {
      absl::MutexLock lock(&mu_);
      read_in_flight_ = true;
    }
    Read();
  }

  // Something changed at the ticket's office: re-read it.
  void Refresh() {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || final_) return;
      if (read_in_flight_) {
        read_again_ = true;
        return;
      }
      read_in_flight_ = true;
    }
    Read();
  }

 private:
  void Read() {
    if (!hub_->BeginRead()) {
      {
        absl::MutexLock lock(&mu_);
        read_in_flight_ = false;
      }
      return Shutdown(ShuttingDown());
    }
    hub_->store().GetTicket(
        ticket_id_, proof_,
        [self = std::static_pointer_cast<TicketWatcher>(shared_from_this())](
            absl::StatusOr<v1::Ticket> ticket) {
          self->OnRead(std::move(ticket));
          self->hub_->EndRead();
        });
  }

  void OnRead(absl::StatusOr<v1::Ticket> ticket) {
    bool place = false;
    bool again = false;
    std::string office;
    absl::Status transient;
    {
      absl::MutexLock lock(&mu_);
      read_in_flight_ = false;
      if (!ticket.ok()) {
        const absl::StatusCode code = ticket.status().code();
        // The first read decides; later, only a ticket gone or out of reach
        // ends the stream (Redis trouble is retried with the next change).
        if (!have_ticket_ || code == absl::StatusCode::kNotFound ||
            code == absl::StatusCode::kPermissionDenied) {
          if (!finish_now_.has_value()) {
            finish_now_ = StreamEndStatus("WatchTicket", ticket.status());
          }
        } else {
          transient = ticket.status();
        }
      } else {
        ticket->clear_receipt_secret();
        if (!have_ticket_) {
          have_ticket_ = true;
          pending_.emplace();
          pending_->set_kind(v1::TicketUpdate::KIND_SNAPSHOT);
          *pending_->mutable_ticket() = *ticket;
          place = !IsFinal(ticket->status());
          office = ticket->office_id();
        } else {
          ApplyLocked(*ticket);
        }
        last_ = *std::move(ticket);
        if (IsFinal(last_.status())) {
          final_ = true;
          finish_when_drained_ = grpc::Status::OK;
        }
      }
      if (read_again_ && !final_ && !finish_now_.has_value() && !finished_) {
        read_again_ = false;
        read_in_flight_ = true;
        again = true;
      }
    }
    if (!transient.ok()) {
      Log(LogLevel::kWarn, "ticket watch: cannot re-read the ticket",
          LogFields()
              .Add("ticket", ticket_id_)
              .Add("error", transient.message()));
    }
    if (place &&
        hub_->PlaceTicket(
            office, std::static_pointer_cast<TicketWatcher>(shared_from_this()),
            admitted_seq_)) {
      if (!again) Refresh();
    }
    if (again) Read();
    Pump();
  }

  // A re-read ticket: queue what the client must hear, coalesced with what
  // it has not taken yet.
  void ApplyLocked(const v1::Ticket& now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::TicketUpdate::Kind kind;
    if (TicketCalled(last_, now)) {
      kind = v1::TicketUpdate::KIND_CALLED;
    } else if (TicketChanged(last_, now)) {
      kind = v1::TicketUpdate::KIND_CHANGED;
    } else {
      if (pending_.has_value()) *pending_->mutable_ticket() = now;
      return;
    }
    if (pending_.has_value()) {
      if (pending_->kind() == v1::TicketUpdate::KIND_SNAPSHOT) {
        kind = v1::TicketUpdate::KIND_SNAPSHOT;
      } else if (pending_->kind() == v1::TicketUpdate::KIND_CALLED &&
                 now.status() == v1::TICKET_STATUS_CALLED) {
        kind = v1::TicketUpdate::KIND_CALLED;
      }
    }
    pending_.emplace();
    pending_->set_kind(kind);
    *pending_->mutable_ticket() = now;
  }

  bool HasPendingLocked() const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return pending_.has_value();
  }

  bool TakeNextLocked(v1::TicketUpdate* out) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!pending_.has_value()) return false;
    *out = *std::move(pending_);
    pending_.reset();
    snapshot_sent_ = true;
    return true;
  }

  void Logged() override {
    absl::MutexLock lock(&mu_);
    Log(LogLevel::kDebug, "ticket watch ended",
        LogFields()
            .Add("ticket", ticket_id_)
            .Add("code", static_cast<int>(end_code_))
            .Add("sent", sent_));
  }

  const std::string ticket_id_;
  const AccessProof proof_;
  uint64_t admitted_seq_ = 0;  // set by Begin, before any read
  bool have_ticket_ ABSL_GUARDED_BY(mu_) = false;
  bool final_ ABSL_GUARDED_BY(mu_) = false;
  bool read_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool read_again_ ABSL_GUARDED_BY(mu_) = false;
  v1::Ticket last_ ABSL_GUARDED_BY(mu_);  // the latest read
  std::optional<v1::TicketUpdate> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

// ---- Hub ----

absl::Status LiveFeed::Hub::AdmitLocked(const std::shared_ptr<Watcher>& watcher,
                                        std::string office) {
  if (stopped_) return absl::UnavailableError("server shutting down");
  if (static_cast<int>(all_.size()) >= options_.max_watchers) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server already serves its maximum of ",
                     options_.max_watchers, " live watchers"));
  }
  all_[watcher.get()] = Entry{watcher, std::move(office)};
  if (options_.on_watchers_change) {
    options_.on_watchers_change(static_cast<int>(all_.size()));
  }
  return absl::OkStatus();
}

absl::Status LiveFeed::Hub::AdmitBoard(
    const std::string& office, const std::shared_ptr<BoardWatcher>& watcher) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = AdmitLocked(watcher, office); !s.ok()) return s;
  boards_[office][watcher.get()] = watcher;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> LiveFeed::Hub::AdmitTicket(
    const std::shared_ptr<TicketWatcher>& watcher) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = AdmitLocked(watcher, ""); !s.ok()) return s;
  return seq_;
}

bool LiveFeed::Hub::PlaceTicket(const std::string& office,
                                const std::shared_ptr<TicketWatcher>& watcher,
                                uint64_t admitted_seq) {
  absl::MutexLock lock(&mu_);
  auto it = all_.find(watcher.get());
  if (it == all_.end()) return false;  // already done
  it->second.office = office;
  tickets_[office][watcher.get()] = watcher;
  return seq_ != admitted_seq;
}

void LiveFeed::Hub::Remove(Watcher* watcher) {
  // Destroyed after the lock is released.
  std::shared_ptr<Watcher> entry_ref;
  std::shared_ptr<BoardWatcher> board_ref;
  std::shared_ptr<TicketWatcher> ticket_ref;
  absl::MutexLock lock(&mu_);
  auto it = all_.find(watcher);
  if (it == all_.end()) return;
  entry_ref = std::move(it->second.watcher);
  const std::string office = std::move(it->second.office);
  all_.erase(it);
  if (options_.on_watchers_change) {
    options_.on_watchers_change(static_cast<int>(all_.size()));
  }
  if (office.empty()) return;
  if (auto b = boards_.find(office); b != boards_.end()) {
    if (auto w = b->second.find(watcher); w != b->second.end()) {
      board_ref = std::move(w->second);
      b->second.erase(w);
      if (b->second.empty()) boards_.erase(b);
    }
  }
  if (auto t = tickets_.find(office); t != tickets_.end()) {
    if (auto w = t->second.find(watcher); w != t->second.end()) {
      ticket_ref = std::move(w->second);
      t->second.erase(w);
      if (t->second.empty()) tickets_.erase(t);
    }
  }
}

int LiveFeed::Hub::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(all_.size());
}

bool LiveFeed::Hub::BeginRead() {
  absl::MutexLock lock(&mu_);
  if (stopped_) return false;
  ++reads_in_flight_;
  return true;
}

void LiveFeed::Hub::EndRead() {
  absl::MutexLock lock(&mu_);
  --reads_in_flight_;
}

std::vector<std::shared_ptr<BoardWatcher>> LiveFeed::Hub::BoardsOf(
    const std::string& office) {
  std::vector<std::shared_ptr<BoardWatcher>> boards;
  absl::MutexLock lock(&mu_);
  if (auto it = boards_.find(office); it != boards_.end()) {
    for (const auto& [key, watcher] : it->second) boards.push_back(watcher);
  }
  return boards;
}

void LiveFeed::Hub::Apply(std::vector<LiveEntry> entries) {
  struct Touched {
    std::vector<v1::BoardCall> calls;
    std::vector<std::shared_ptr<BoardWatcher>> boards;
    std::vector<std::shared_ptr<TicketWatcher>> tickets;
  };
  const absl::Time now = clock_.Now();
  absl::btree_map<std::string, Touched> offices;
  for (LiveEntry& entry : entries) {
    Touched& touched = offices[entry.office];
    if (entry.call.has_value()) {
      // Entries written before the scripts carried the call's time.
      if (!entry.call->has_call_time()) {
        *entry.call->mutable_call_time() = ToProtoTime(now);
      }
      touched.calls.push_back(*std::move(entry.call));
    }
  }
  {
    absl::MutexLock lock(&mu_);
    ++seq_;
    for (auto& [office, touched] : offices) {
      if (auto it = boards_.find(office); it != boards_.end()) {
        for (const auto& [key, watcher] : it->second) {
          touched.boards.push_back(watcher);
        }
      }
      if (auto it = tickets_.find(office); it != tickets_.end()) {
        for (const auto& [key, watcher] : it->second) {
          touched.tickets.push_back(watcher);
        }
      }
    }
  }
  for (auto& [office, touched] : offices) {
    if (!touched.boards.empty()) {
      if (!touched.calls.empty()) {
        for (const auto& board : touched.boards)
          board->PushCalls(touched.calls);
      }
      RefreshBoard(office);
    }
    for (const auto& ticket : touched.tickets) ticket->Refresh();
  }
}

void LiveFeed::Hub::RefreshBoard(const std::string& office) {
  {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = board_reads_.try_emplace(office);
    if (!inserted) {
      it->second.again = true;
      return;
    }
  }
  ReadBoard(office);
}

void LiveFeed::Hub::ReadBoard(const std::string& office) {
  if (!BeginRead()) {
    absl::MutexLock lock(&mu_);
    board_reads_.erase(office);
    return;
  }
  store_.GetBoard(
      office, [hub = shared_from_this(), office](absl::StatusOr<Board> board) {
        hub->OnBoard(office, std::move(board));
        hub->EndRead();
      });
}

void LiveFeed::Hub::OnBoard(const std::string& office,
                            absl::StatusOr<Board> board) {
  if (board.ok()) {
    for (const auto& watcher : BoardsOf(office)) {
      watcher->PushCounts(board->waiting);
    }
  } else {
    Log(LogLevel::kWarn, "board watch: cannot re-read the board",
        LogFields()
            .Add("office", office)
            .Add("error", board.status().message()));
  }
  bool again = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = board_reads_.find(office);
    if (it != board_reads_.end() && it->second.again) {
      it->second.again = false;
      again = true;
    } else if (it != board_reads_.end()) {
      board_reads_.erase(it);
    }
  }
  if (again) ReadBoard(office);
}

void LiveFeed::Hub::BeatAll(absl::Time now) {
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    absl::MutexLock lock(&mu_);
    watchers.reserve(all_.size());
    for (const auto& [key, entry] : all_) watchers.push_back(entry.watcher);
  }
  for (const auto& watcher : watchers) watcher->Beat(now);
}

void LiveFeed::Hub::Stop(const grpc::Status& status) {
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    for (const auto& [key, entry] : all_) watchers.push_back(entry.watcher);
  }
  for (const auto& watcher : watchers) watcher->Shutdown(status);
}

void LiveFeed::Hub::AwaitReads(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return reads_in_flight_ == 0;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&idle), timeout)) {
    Log(LogLevel::kWarn, "live feed: store reads still in flight at stop",
        LogFields().Add("reads", reads_in_flight_));
  }
}

// ---- LiveFeed ----

LiveFeed::LiveFeed(QueueStore& store, RedisEndpoint endpoint,
                   const Clock& clock, Options options)
    : endpoint_(std::move(endpoint)),
      options_(options),
      hub_(std::make_shared<Hub>(store, clock, options)) {}

LiveFeed::~LiveFeed() { Stop(); }

void LiveFeed::Start() {
  if (stopped_.load() || follower_.joinable()) return;
  follower_ = std::thread([this] { Follow(); });
  heartbeat_ = std::thread([this] { Beat(); });
}

void LiveFeed::Stop() {
  if (stopped_.exchange(true)) return;
  stop_.Notify();
  // No new streams or reads from here on; the open streams finish.
  hub_->Stop(ShuttingDown());
  if (follower_.joinable()) follower_.join();
  if (heartbeat_.joinable()) heartbeat_.join();
  hub_->AwaitReads(options_.redis_timeout + absl::Seconds(1));
}

bool LiveFeed::WaitUntilFollowing(absl::Duration timeout) const {
  return following_.WaitForNotificationWithTimeout(timeout);
}

int LiveFeed::watchers() const { return hub_->size(); }

grpc::ServerWriteReactor<v1::TicketUpdate>* LiveFeed::WatchTicket(
    grpc::CallbackServerContext* /*context*/, std::string ticket_id,
    AccessProof proof) {
  auto watcher = std::make_shared<TicketWatcher>(hub_, std::move(ticket_id),
                                                 std::move(proof));
  absl::StatusOr<uint64_t> admitted_seq = hub_->AdmitTicket(watcher);
  if (!admitted_seq.ok()) {
    return FailedStream<v1::TicketUpdate>(admitted_seq.status());
  }
  watcher->Own(watcher);
  watcher->Begin(*admitted_seq);
  return watcher.get();
}

grpc::ServerWriteReactor<v1::BoardUpdate>* LiveFeed::WatchOffice(
    grpc::CallbackServerContext* context, std::string office_id) {
  return WatchOffice(context, std::move(office_id), nullptr);
}

grpc::ServerWriteReactor<v1::BoardUpdate>* LiveFeed::WatchOffice(
    grpc::CallbackServerContext* /*context*/, std::string office_id,
    Precheck precheck) {
  auto watcher = std::make_shared<BoardWatcher>(hub_, office_id);
  if (absl::Status s = hub_->AdmitBoard(office_id, watcher); !s.ok()) {
    return FailedStream<v1::BoardUpdate>(s);
  }
  watcher->Own(watcher);
  watcher->Begin(std::move(precheck));
  return watcher.get();
}

void LiveFeed::Follow() {
  FollowStream(
      endpoint_,
      {.stream = kLiveStreamKey,
       .block = options_.block,
       .redis_timeout = options_.redis_timeout,
       .who = "live feed"},
      stop_,
      [this] {
        // Streams' snapshots are read after this, so they are newer.
        if (!following_.HasBeenNotified()) following_.Notify();
      },
      [this](const std::vector<const RedisValue*>& fields) {
        std::vector<LiveEntry> entries;
        for (const RedisValue* entry : fields) {
          if (std::optional<LiveEntry> parsed = ParseEntry(*entry)) {
            entries.push_back(*std::move(parsed));
          }
        }
        if (!entries.empty()) hub_->Apply(std::move(entries));
      });
}

void LiveFeed::Beat() {
  const absl::Duration tick = std::clamp(
      options_.heartbeat / 4, absl::Milliseconds(10), absl::Seconds(1));
  while (!stop_.WaitForNotificationWithTimeout(tick)) {
    hub_->BeatAll(absl::Now());
  }
}

}  // namespace prima::queue
