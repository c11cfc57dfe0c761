#include "tests/testing/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace prima::testing {

absl::StatusOr<std::string> HttpGet(int port, absl::string_view path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  timeval timeout{5, 0};  // a hung server fails the test instead of hanging it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to port ", port));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return absl::UnavailableError("send failed");
  }
  std::string response;
  char buffer[16384];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    response.append(buffer, static_cast<size_t>(n));
  }
  if (n < 0) return absl::DeadlineExceededError("no complete response");
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) {
    return absl::InternalError(absl::StrCat("no HTTP header end: ", response));
  }
  const std::string status_line = response.substr(0, response.find("\r\n"));
  if (!absl::StrContains(status_line, " 200")) {
    return absl::InternalError(status_line);
  }
  return response.substr(body + 4);
}

std::optional<double> MetricValue(
    absl::string_view exposition, absl::string_view name,
    const std::map<std::string, std::string>& labels) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) continue;
    absl::string_view series = line.substr(0, space);
    std::map<std::string, std::string> found;
    const size_t brace = series.find('{');
    if (series.substr(0, brace) != name) continue;
    if (brace != absl::string_view::npos) {
      // Label values here hold no '"' or ',' (method names, codes, ids).
      absl::string_view inner =
          series.substr(brace + 1, series.size() - brace - 2);
      for (absl::string_view pair : absl::StrSplit(inner, ',')) {
        const size_t eq = pair.find('=');
        if (eq == absl::string_view::npos || pair.size() < eq + 3) continue;
        found[std::string(pair.substr(0, eq))] =
            std::string(pair.substr(eq + 2, pair.size() - eq - 3));
      }
    }
    if (found != labels) continue;
    double value = 0;
    if (!absl::SimpleAtod(line.substr(space + 1), &value)) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

}  // namespace prima::testing
