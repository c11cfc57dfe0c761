#pragma once

// A plain HTTP/1.0 GET on loopback, and reading Prometheus text, for the
// tests that scrape a service's /metrics.

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prima::testing {

// The body of GET http://127.0.0.1:<port><path>; an error unless 200.
absl::StatusOr<std::string> HttpGet(int port, absl::string_view path);

// The value of the sample `name` whose labels are exactly `labels` in a
// Prometheus text exposition; nullopt when there is none.
std::optional<double> MetricValue(
    absl::string_view exposition, absl::string_view name,
    const std::map<std::string, std::string>& labels = {});

}  // namespace prima::testing
