#include "services/satisfaction/response_export.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/logging.h"
#include "services/common/rpc.h"
#include "services/satisfaction/satisfaction_rules.h"

namespace prima::satisfaction {

namespace {

// Whether `r` is one of the export's: its local date in the period, and of
// the office asked for, if any.
bool InExport(const ExportQuery& query, const v1::Response& r) {
  const absl::CivilDay day(r.local_date().year(), r.local_date().month(),
                           r.local_date().day());
  return day >= query.first && day <= query.last &&
         (query.office_id.empty() || r.office_id() == query.office_id);
}

// Owns itself (`self_`) from StartResponseExport until OnDone; a page read in
// flight holds another reference, so a late reply finds a finished stream,
// never a deleted one. gRPC is never called with `mu_` held (its reactions
// may run inline).
class ExportStream final : public grpc::ServerWriteReactor<v1::Response>,
                           public std::enable_shared_from_this<ExportStream> {
 public:
  ExportStream(SatisfactionStore& store, ExportQuery query, int page_size)
      : store_(store),
        query_(std::move(query)),
        page_size_(page_size),
        window_(SubmitWindowOf(query_.first, query_.last)),
        start_(absl::Now()) {}

  void Begin(std::shared_ptr<ExportStream> self, ExportPrecheck precheck) {
    self_ = std::move(self);
    if (precheck == nullptr) return Go();
    precheck([self = shared_from_this()](absl::Status status) {
      if (!status.ok())
        return self->Stop(StreamEndStatus("ExportResponses", status));
      self->Go();
    });
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      write_in_flight_ = false;
      if (ok) ++sent_;
    }
    if (!ok) {
      return Stop(
          grpc::Status(grpc::StatusCode::CANCELLED, "the stream was closed"));
    }
    Pump();
  }

  void OnCancel() override {
    Stop(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&mu_);
      // Redis trouble is the server's; a cancel or a refusal is not.
      const bool server_fault = end_code_ == grpc::StatusCode::INTERNAL ||
                                end_code_ == grpc::StatusCode::UNAVAILABLE;
      Log(server_fault ? LogLevel::kWarn : LogLevel::kInfo,
          "response export ended",
          LogFields()
              .Add("agency", query_.agency_id)
              .Add("office", query_.office_id)
              .Add("code", static_cast<int>(end_code_))
              .Add("sent", sent_)
              .Add("latency_ms",
                   absl::ToDoubleMilliseconds(absl::Now() - start_)));
    }
    std::shared_ptr<ExportStream> last_reference = std::move(self_);
    // `this` may be deleted when `last_reference` goes.
  }

 private:
  // The precheck passed: the first page may be read.
  void Go() {
    {
      absl::MutexLock lock(&mu_);
      started_ = true;
    }
    Pump();
  }

  // Finishes the stream with `status` as soon as no write is in flight.
  void Stop(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (!finish_now_.has_value()) finish_now_ = status;
    }
    Pump();
  }

  // Starts what comes next, if nothing is in flight: the next write, else the
  // next page's read, else the finish.
  void Pump() {
    std::optional<grpc::Status> finish;
    bool read = false;
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || write_in_flight_) return;
      if (finish_now_.has_value()) {
        finish = finish_now_;
      } else if (!pending_.empty()) {
        out_ = std::move(pending_.front());
        pending_.pop_front();
        write_in_flight_ = true;
      } else if (!started_ || read_in_flight_) {
        return;
      } else if (more_) {
        read_in_flight_ = true;
        read = true;
      } else {
        finish = grpc::Status::OK;
      }
      if (finish.has_value()) {
        finished_ = true;
        end_code_ = finish->error_code();
      }
    }
    // `out_` is left alone until OnWriteDone: only the thread that set
    // write_in_flight_ touches it until then.
    if (finish.has_value()) return Finish(*std::move(finish));
    if (read) return Read();
    StartWrite(&out_);
  }

  void Read() {
    ResponseCursor after;
    {
      absl::MutexLock lock(&mu_);
      after = cursor_;
    }
    store_.ListResponses(
        query_.agency_id, window_.from, window_.to, after, page_size_,
        [self = shared_from_this()](absl::StatusOr<ResponsePage> page) mutable {
          self->OnPage(std::move(page));
        });
  }

  void OnPage(absl::StatusOr<ResponsePage> page) {
    {
      absl::MutexLock lock(&mu_);
      read_in_flight_ = false;
      if (!page.ok()) {
        if (!finish_now_.has_value())
          finish_now_ = StreamEndStatus("ExportResponses", page.status());
      } else if (!finished_) {
        // The window is wider than the period: each response's own local
        // date decides. A stored Response carries no citizen identity (the
        // ticket or complaint it came from stays with its invitation), so
        // it goes out as stored.
        for (v1::Response& r : page->responses) {
          if (InExport(query_, r)) pending_.push_back(std::move(r));
        }
        more_ = page->next.has_value();
        if (more_) cursor_ = *std::move(page->next);
      }
    }
    Pump();
  }

  SatisfactionStore& store_;
  const ExportQuery query_;
  const int page_size_;
  const SubmitWindow window_;
  const absl::Time start_;

  absl::Mutex mu_;
  // The precheck passed.
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  // Read but not yet written: the rest of one page.
  std::deque<v1::Response> pending_ ABSL_GUARDED_BY(mu_);
  // Where the next page starts, and whether there is one.
  ResponseCursor cursor_ ABSL_GUARDED_BY(mu_);
  bool more_ ABSL_GUARDED_BY(mu_) = true;
  bool read_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  // Finish at once (an error, a cancel); what is pending is dropped.
  std::optional<grpc::Status> finish_now_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::StatusCode end_code_ ABSL_GUARDED_BY(mu_) = grpc::StatusCode::OK;
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  v1::Response out_;  // the write in flight
  std::shared_ptr<ExportStream> self_;
};

}  // namespace

grpc::ServerWriteReactor<v1::Response>* StartResponseExport(
    SatisfactionStore& store, ExportQuery query, int page_size,
    ExportPrecheck precheck) {
  auto stream =
      std::make_shared<ExportStream>(store, std::move(query), page_size);
  stream->Begin(stream, std::move(precheck));
  return stream.get();
}

}  // namespace prima::satisfaction
