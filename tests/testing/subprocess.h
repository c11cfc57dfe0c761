#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prima::testing {

// A fresh directory under the system's temp dir, named `prefix`XXXXXX.
absl::StatusOr<std::string> MakeTempDir(absl::string_view prefix);

struct ProcessResult {
  int exit_code = -1;  // -1 when it could not start or died by a signal
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] is the binary's path) with exactly `env` plus PATH as
// its environment, so the caller's PRIMA_* variables never leak in; waits and
// collects its exit code, stdout and stderr.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env);

// A process left running in the background with its stderr in a file; SIGTERM
// and reaped on destruction unless stopped earlier.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv,
                    const std::vector<std::string>& env);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool started() const { return pid_ > 0; }
  // Sends `signal` and waits; returns the exit code (-1 if killed by a signal).
  int Stop(int signal);
  std::string StderrText() const;

 private:
  pid_t pid_ = -1;
  std::string dir_;
};

// A Prima service binary serving on `listen` against `redis_url`, verifying
// HS256 tokens with `jwt_secret`, logging at warn, metrics on a free port (so
// parallel tests never collide on the default one): how end-to-end tests
// start the real servers. `extra_env` ("NAME=value") wins over those.
std::unique_ptr<BackgroundProcess> StartServiceProcess(
    const std::string& binary, const std::string& listen,
    const std::string& redis_url, const std::string& jwt_secret,
    const std::vector<std::string>& extra_env = {});

}  // namespace prima::testing
