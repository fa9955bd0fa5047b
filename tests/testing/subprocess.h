// Subprocess: runs a program of this repository (a Bazel data dependency) for tests that
// need a real process: crash, signal and CLI tests.
#ifndef FIELDLOOP_TESTS_TESTING_SUBPROCESS_H_
#define FIELDLOOP_TESTS_TESTING_SUBPROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fieldloop::testing {

// Path of a runfile such as "services/fieldloopd".
inline std::string Runfile(const std::string& path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(dir ? dir : ".") + "/" + (ws ? ws : "fieldloop") + "/" + path;
}

class Subprocess {
 public:
  // Starts `argv` with stdout and stderr captured (stderr merged into stdout).
  explicit Subprocess(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];
  }
  ~Subprocess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      Wait();
    }
    if (out_fd_ >= 0) close(out_fd_);
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // Reads output until a line containing `needle` arrives; returns that line, or nullopt
  // on end of output or after `timeout`.
  std::optional<std::string> WaitForLine(
      const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      size_t nl;
      while ((nl = buffer_.find('\n', scanned_)) != std::string::npos) {
        std::string line = buffer_.substr(scanned_, nl - scanned_);
        scanned_ = nl + 1;
        if (line.find(needle) != std::string::npos) return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !ReadSome(static_cast<int>(left.count()))) return std::nullopt;
    }
  }

  // Sends `sig`.
  void Signal(int sig) { kill(pid_, sig); }

  // Waits for exit; returns the exit status, or 128+signal when killed by a signal.
  int Wait() {
    if (exited_) return status_;
    int raw = 0;
    waitpid(pid_, &raw, 0);
    exited_ = true;
    status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return status_;
  }

  // All output read so far plus whatever remains until the process closes it.
  std::string DrainOutput() {
    while (ReadSome(30000)) {
    }
    return buffer_;
  }

 private:
  bool ReadSome(int timeout_ms) {
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) return false;
    buffer_.append(buf, n);
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  size_t scanned_ = 0;
  bool exited_ = false;
  int status_ = -1;
};

// Starts fieldloopd (a data dependency: //services:fieldloopd) on a free loopback port
// over `data_dir` with `extra_flags`; sets `*address` from its "listening on" line.
// Returns nullptr (and leaves `*address` alone) when it does not come up.
// A program run to its end: its exit status and its output (stdout and stderr, merged).
struct Finished {
  int status;
  std::string output;
};
inline Finished RunToEnd(const std::vector<std::string>& argv) {
  Subprocess p(argv);
  std::string output = p.DrainOutput();
  return {p.Wait(), std::move(output)};
}

inline std::unique_ptr<Subprocess> StartDaemon(const std::string& data_dir, std::string* address,
                                               std::vector<std::string> extra_flags = {}) {
  std::vector<std::string> argv = {Runfile("services/fieldloopd"), "--listen=127.0.0.1:0",
                                   "--data_dir=" + data_dir};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  auto p = std::make_unique<Subprocess>(argv);
  std::optional<std::string> line = p->WaitForLine("listening on ");
  if (!line) return nullptr;
  const size_t at = line->find("listening on ") + 13;
  *address = line->substr(at, line->find(' ', at) - at);
  return p;
}

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_SUBPROCESS_H_
