#pragma once

// The server stream behind ExportResponses: an agency's responses of a period
// of local dates, oldest first, read from the store a page at a time.
//
// One write is in flight at a time, and the next page is read only once every
// response of the previous one is written, so a slow reader holds at most one
// page in memory and costs Redis nothing while it lags. A cancelled or broken
// stream finishes as soon as no write is in flight; a page read still in
// flight then finds the stream finished and reads no further.

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "prima/satisfaction/v1/satisfaction.pb.h"
#include "services/satisfaction/satisfaction_store.h"

namespace prima::satisfaction {

// What to export (validated and authorized by the adapter).
struct ExportQuery {
  std::string agency_id;
  std::string office_id;  // "" for every office of the agency
  // The period's local dates, inclusive: a response is in when its
  // local_date (its office's date) lies between them.
  absl::CivilDay first;
  absl::CivilDay last;
};

// An asynchronous check run before the first read (e.g. that the office is
// the agency's): it calls its argument once, on any thread; an error finishes
// the stream with that status and no message.
using ExportPrecheck =
    absl::AnyInvocable<void(absl::AnyInvocable<void(absl::Status)>)>;

// Starts the stream; the handler returns it. `store` must outlive the stream
// (the server's shutdown waits for it). `page_size`: responses per store read
// (1-kMaxResponsePage). `precheck` may be null.
grpc::ServerWriteReactor<v1::Response>* StartResponseExport(
    SatisfactionStore& store, ExportQuery query, int page_size,
    ExportPrecheck precheck);

}  // namespace prima::satisfaction
