#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace prima::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Spawns with stdout/stderr redirected to files in `dir`; returns the pid or
// -1.
pid_t Spawn(const std::vector<std::string>& argv_in,
            const std::vector<std::string>& env_in, const std::string& dir) {
  std::vector<std::string> argv_strings = argv_in;
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = env_in;
  env_strings.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  const std::string out_path = dir + "/out";
  const std::string err_path = dir + "/err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int spawned =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return spawned == 0 ? pid : -1;
}

int Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

absl::StatusOr<std::string> MakeTempDir(absl::string_view prefix) {
  std::string tmpl =
      std::filesystem::temp_directory_path() / absl::StrCat(prefix, "XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  return tmpl;
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
  ProcessResult result;
  const std::string dir = MakeTempDir("prima-proc-").value_or("");
  if (dir.empty()) return result;
  const pid_t pid = Spawn(argv, env, dir);
  if (pid > 0) {
    result.exit_code = Reap(pid);
    result.out = ReadFile(dir + "/out");
    result.err = ReadFile(dir + "/err");
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& env)
    : dir_(MakeTempDir("prima-proc-").value_or("")) {
  if (!dir_.empty()) pid_ = Spawn(argv, env, dir_);
}

BackgroundProcess::~BackgroundProcess() {
  Stop(SIGTERM);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

int BackgroundProcess::Stop(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  const int code = Reap(pid_);
  pid_ = -1;
  return code;
}

std::string BackgroundProcess::StderrText() const {
  return ReadFile(dir_ + "/err");
}

std::unique_ptr<BackgroundProcess> StartServiceProcess(
    const std::string& binary, const std::string& listen,
    const std::string& redis_url, const std::string& jwt_secret,
    const std::vector<std::string>& extra_env) {
  // getenv finds the first of two equal names: extra_env goes first.
  std::vector<std::string> env = extra_env;
  env.insert(env.end(),
             {"PRIMA_LISTEN=" + listen, "PRIMA_REDIS_URL=" + redis_url,
              "PRIMA_JWT_SECRET=" + jwt_secret, "PRIMA_LOG_LEVEL=warn",
              "PRIMA_METRICS_LISTEN=127.0.0.1:0"});
  return std::make_unique<BackgroundProcess>(std::vector<std::string>{binary},
                                             std::move(env));
}

}  // namespace prima::testing
