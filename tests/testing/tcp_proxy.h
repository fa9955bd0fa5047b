// TcpProxy: a TCP forwarder between a client and a server on loopback whose network path a
// test can kill. Until Freeze() it copies bytes both ways; from then on no byte moves in
// either direction while every socket stays open, as when the path between two peers dies
// (a machine loses power, a NAT or VPN drops its state) and no FIN or RST reaches either.
// Only a protocol-level probe (an HTTP/2 keepalive ping) can tell the peer is gone.
#ifndef FIELDLOOP_TESTS_TESTING_TCP_PROXY_H_
#define FIELDLOOP_TESTS_TESTING_TCP_PROXY_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace fieldloop::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1:0 and forwards each connection it accepts to
  // 127.0.0.1:`target_port` (one thread per connection). A connection that cannot be made
  // to the target is closed. port() is 0 when the proxy could not listen.
  explicit TcpProxy(int target_port) : target_port_(target_port) {
    if (pipe(stop_pipe_) != 0 || pipe(freeze_pipe_) != 0) return;
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd_ < 0) return;
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof addr;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  // Ends every connection (both peers see it closed) and joins the threads.
  ~TcpProxy() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake(stop_pipe_[1]);
    if (accept_thread_.joinable()) accept_thread_.join();
    // The accept loop has ended: nothing is added to these any more.
    std::vector<std::thread> pumps;
    std::vector<int> sockets;
    {
      absl::MutexLock lock(&mu_);
      pumps.swap(pump_threads_);
      sockets.swap(sockets_);
    }
    for (std::thread& t : pumps) t.join();
    for (int fd : sockets) close(fd);
    for (int fd : {listen_fd_, stop_pipe_[0], stop_pipe_[1], freeze_pipe_[0], freeze_pipe_[1]}) {
      if (fd >= 0) close(fd);
    }
  }

  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // The port clients connect to; 0 when the proxy could not listen.
  int port() const { return port_; }
  // "127.0.0.1:<port>", for a gRPC channel.
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Stops forwarding, both ways, on every connection (and on those accepted later); the
  // sockets stay open and nothing more is read from them, so bytes sent from now on are
  // held in kernel buffers and never delivered. Returns once no thread moves a byte any
  // more. Idempotent; there is no thaw.
  void Freeze() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (!frozen_) {
      frozen_ = true;
      Wake(freeze_pipe_[1]);
    }
    mu_.Await(absl::Condition(
        +[](int* moving) { return *moving == 0; }, &moving_));
  }

  // Connections accepted so far.
  int accepted() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  // Makes the read end of `pipe_write_fd`'s pipe readable for good (it is never read).
  static void Wake(int pipe_write_fd) {
    if (pipe_write_fd < 0) return;
    const char byte = 1;
    while (write(pipe_write_fd, &byte, 1) < 0 && errno == EINTR) {
    }
  }

  static void Prepare(int fd) {
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }

  void AcceptLoop() {
    for (;;) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      if ((fds[0].revents & POLLIN) == 0) continue;
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      const int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in target = Loopback(target_port_);
      if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
        close(client);
        if (server >= 0) close(server);
        continue;
      }
      Prepare(client);
      Prepare(server);
      absl::MutexLock lock(&mu_);
      ++accepted_;
      sockets_.push_back(client);
      sockets_.push_back(server);
      pump_threads_.emplace_back([this, client, server] { Pump(client, server); });
    }
  }

  // Moves bytes between `a` and `b` until either end closes (then both are shut down, so
  // the other peer sees the end too), the proxy stops, or it is frozen (then it parks
  // until the proxy stops, leaving both sockets open and unread).
  void Pump(int a, int b) ABSL_LOCKS_EXCLUDED(mu_) {
    std::string a_to_b;  // Read from a, not yet written to b.
    std::string b_to_a;
    for (;;) {
      pollfd fds[4] = {
          {a, static_cast<short>(a_to_b.empty() ? POLLIN : 0), 0},
          {b, static_cast<short>(b_to_a.empty() ? POLLIN : 0), 0},
          {stop_pipe_[0], POLLIN, 0},
          {freeze_pipe_[0], POLLIN, 0},
      };
      if (!b_to_a.empty()) fds[0].events |= POLLOUT;
      if (!a_to_b.empty()) fds[1].events |= POLLOUT;
      if (poll(fds, 4, -1) < 0 && errno != EINTR) break;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        if (frozen_) {
          mu_.Await(absl::Condition(&stopping_));
          return;
        }
        ++moving_;
      }
      const bool open = Transfer(fds[0], &a_to_b, &b_to_a) && Transfer(fds[1], &b_to_a, &a_to_b);
      {
        absl::MutexLock lock(&mu_);
        --moving_;
      }
      if (!open) break;
    }
    shutdown(a, SHUT_RDWR);
    shutdown(b, SHUT_RDWR);
  }

  // Reads what `polled` has into *from_it and writes *to_it into it, as far as poll said
  // it can. False when its peer closed the connection or it failed.
  static bool Transfer(const pollfd& polled, std::string* from_it, std::string* to_it) {
    if (polled.revents & POLLOUT) {
      const ssize_t n = send(polled.fd, to_it->data(), to_it->size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
      if (n > 0) to_it->erase(0, static_cast<size_t>(n));
    }
    if (polled.revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!from_it->empty()) return (polled.revents & (POLLHUP | POLLERR)) == 0;
      char buf[64 * 1024];
      const ssize_t n = recv(polled.fd, buf, sizeof buf, 0);
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      from_it->append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  const int target_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};    // Readable once the proxy stops.
  int freeze_pipe_[2] = {-1, -1};  // Readable once the proxy is frozen.
  std::thread accept_thread_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool frozen_ ABSL_GUARDED_BY(mu_) = false;
  int moving_ ABSL_GUARDED_BY(mu_) = 0;  // Pumps between poll and their next poll.
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
  // Added by the accept loop; joined and closed by the destructor.
  std::vector<std::thread> pump_threads_ ABSL_GUARDED_BY(mu_);
  std::vector<int> sockets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_TCP_PROXY_H_
