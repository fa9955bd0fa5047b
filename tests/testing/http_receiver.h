// HttpReceiver: a tiny HTTP/1.1 server on 127.0.0.1:<free port> for tests of clients such as
// the tasks webhook. A thread accepts connections, one thread per connection reads requests
// (Content-Length bodies, keep-alive), records each request's method, path, headers and
// body, and answers 200, or 503 for the first N requests (FailFirst). Hold() makes it
// record requests but answer none until Release(), like a receiver that never answers.
// Everything stops and joins in the destructor.
#ifndef FIELDLOOP_TESTS_TESTING_HTTP_RECEIVER_H_
#define FIELDLOOP_TESTS_TESTING_HTTP_RECEIVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace fieldloop::testing {

struct HttpRequest {
  std::string method;                          // "POST".
  std::string path;                            // "/hooks/tasks".
  std::map<std::string, std::string> headers;  // Names in lower case.
  std::string body;
  int answered = 0;  // Status code sent back; 0 while held or when the client left.
};

class HttpReceiver {
 public:
  HttpReceiver() {
    (void)!pipe(wake_);
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listen_fd_, 16) != 0) {
      std::abort();
    }
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~HttpReceiver() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    (void)!write(wake_[1], "x", 1);  // Never read: every poll below sees it from now on.
    acceptor_.join();
    std::vector<std::thread> connections;
    {
      absl::MutexLock lock(&mu_);
      connections.swap(connections_);
    }
    for (std::thread& t : connections) t.join();
    close(listen_fd_);
    close(wake_[0]);
    close(wake_[1]);
  }

  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port><path>".
  std::string Url(const std::string& path = "/") const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

  // Answers `status` (e.g. 503) to the next `n` requests, then 200 again.
  void FailFirst(int n, int status = 503) {
    absl::MutexLock lock(&mu_);
    fail_left_ = n;
    fail_status_ = status;
  }
  // Requests are recorded but not answered until Release (or destruction).
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }

  // The requests read so far, in arrival order.
  std::vector<HttpRequest> Requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  // Waits until at least `n` requests were read; false after `timeout`.
  bool AwaitRequests(size_t n, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  // Waits until `fd` is readable; false when the receiver stops first.
  bool WaitReadable(int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    while (true) {
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (fds[1].revents != 0) return false;
      if (fds[0].revents != 0) return true;
    }
  }

  void AcceptLoop() {
    while (WaitReadable(listen_fd_)) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      absl::MutexLock lock(&mu_);
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  // Reads requests from `fd` and answers them until the client closes or the receiver stops.
  void Serve(int fd) {
    std::string buffer;
    while (true) {
      HttpRequest request;
      if (!ReadRequest(fd, &buffer, &request)) break;
      size_t index;
      int status;
      {
        absl::MutexLock lock(&mu_);
        index = requests_.size();
        requests_.push_back(request);
        auto answer = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !held_ || stopping_; };
        mu_.Await(absl::Condition(&answer));
        if (stopping_) break;
        status = 200;
        if (fail_left_ > 0) {
          --fail_left_;
          status = fail_status_;
        }
        requests_[index].answered = status;
      }
      const std::string body = status == 200 ? "ok" : "unavailable";
      const std::string response = absl::StrCat(
          "HTTP/1.1 ", status, status == 200 ? " OK" : " Refused",
          "\r\nContent-Type: text/plain\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
      if (send(fd, response.data(), response.size(), MSG_NOSIGNAL) < 0) break;
    }
    close(fd);
  }

  // Reads one request into `request`, keeping bytes of the next one in `buffer`.
  bool ReadRequest(int fd, std::string* buffer, HttpRequest* request) {
    size_t header_end;
    while ((header_end = buffer->find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(fd, buffer)) return false;
    }
    const std::string head = buffer->substr(0, header_end);
    buffer->erase(0, header_end + 4);
    size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = request_line.find(' ', sp1 + 1);
    request->method = request_line.substr(0, sp1);
    request->path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      request->headers[name] = value;
    }
    if (auto it = request->headers.find("expect"); it != request->headers.end()) {
      const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      send(fd, go_on.data(), go_on.size(), MSG_NOSIGNAL);
    }
    size_t length = 0;
    if (auto it = request->headers.find("content-length"); it != request->headers.end()) {
      length = std::strtoul(it->second.c_str(), nullptr, 10);
    }
    while (buffer->size() < length) {
      if (!ReadMore(fd, buffer)) return false;
    }
    request->body = buffer->substr(0, length);
    buffer->erase(0, length);
    return true;
  }

  bool ReadMore(int fd, std::string* buffer) {
    if (!WaitReadable(fd)) return false;
    char chunk[4096];
    const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<size_t>(n));
    return true;
  }

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::thread acceptor_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int fail_left_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_status_ ABSL_GUARDED_BY(mu_) = 503;
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> connections_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_HTTP_RECEIVER_H_
