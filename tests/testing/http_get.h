// HttpGet: one plain HTTP/1.0 GET over a socket, for tests of HTTP endpoints (the metrics
// endpoint) without an HTTP client library.
#ifndef FIELDLOOP_TESTS_TESTING_HTTP_GET_H_
#define FIELDLOOP_TESTS_TESTING_HTTP_GET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace fieldloop::testing {

struct HttpResponse {
  int status = 0;       // 200, 404, ...
  std::string headers;  // The status line and headers, as received.
  std::string body;
};

// GETs `path` from 127.0.0.1:`port` and reads the response until the server closes the
// connection (HTTP/1.0: no keep-alive, no chunking). nullopt when the connection fails,
// nothing arrives within 10 s, or the response has no status line.
inline std::optional<HttpResponse> HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string raw;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[8192];
      ssize_t n;
      while ((n = recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, n);
    }
  }
  close(fd);
  const size_t end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || end == std::string::npos) return std::nullopt;
  HttpResponse response;
  response.headers = raw.substr(0, end);
  response.body = raw.substr(end + 4);
  const size_t space = raw.find(' ');
  response.status = space == std::string::npos ? 0 : std::atoi(raw.c_str() + space + 1);
  return response;
}

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_HTTP_GET_H_
