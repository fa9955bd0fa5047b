// TestCerts: a throwaway CA, a server certificate for 127.0.0.1 / localhost and a client
// certificate, made at test time with the `openssl` command (Debian's openssl package, in
// FIELDLOOP_PACKAGES) into a directory; nothing secret is checked in. Valid for 2 days.
#ifndef FIELDLOOP_TESTS_TESTING_TEST_CERTS_H_
#define FIELDLOOP_TESTS_TESTING_TEST_CERTS_H_

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace fieldloop::testing {

struct TestCerts {
  std::string ca;           // CA certificate (PEM), the --tls_ca / --tls_client_ca.
  std::string server_cert;  // Signed by ca; SAN IP:127.0.0.1, DNS:localhost.
  std::string server_key;
  std::string client_cert;  // Signed by ca; for client authentication.
  std::string client_key;
  std::string other_ca;  // An unrelated CA: what a client trusting the wrong CA has.
};

// Makes the certificates in `dir` (which must exist). Returns nullopt after writing the
// openssl output to `*error` when a command fails.
inline std::optional<TestCerts> MakeTestCerts(const std::string& dir, std::string* error) {
  const std::string log = dir + "/openssl.log";
  auto run = [&](const std::string& args) {
    const std::string command = "cd '" + dir + "' && openssl " + args + " >>openssl.log 2>&1";
    return std::system(command.c_str()) == 0;
  };
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  const std::string ca_ext =
      " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";
  std::ofstream(dir + "/server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                     << "basicConstraints=CA:FALSE\n"
                                     << "extendedKeyUsage=serverAuth\n";
  std::ofstream(dir + "/client.ext") << "basicConstraints=CA:FALSE\n"
                                     << "extendedKeyUsage=clientAuth\n";
  const bool ok =
      run("req -x509" + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=fieldloop-test-ca" +
          ca_ext) &&
      run("req -x509" + ec +
          " -keyout other_ca.key -out other_ca.pem -days 2 "
          "-subj /CN=unrelated-ca" +
          ca_ext) &&
      run("req" + ec + " -keyout server.key -out server.csr -subj /CN=localhost") &&
      run("x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 "
          "-extfile server.ext -out server.pem") &&
      run("req" + ec + " -keyout client.key -out client.csr -subj /CN=fieldloop-test-client") &&
      run("x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 2 "
          "-extfile client.ext -out client.pem");
  if (!ok) {
    std::ifstream in(log);
    std::ostringstream text;
    text << in.rdbuf();
    *error = "openssl failed:\n" + text.str();
    return std::nullopt;
  }
  TestCerts certs;
  certs.ca = dir + "/ca.pem";
  certs.server_cert = dir + "/server.pem";
  certs.server_key = dir + "/server.key";
  certs.client_cert = dir + "/client.pem";
  certs.client_key = dir + "/client.key";
  certs.other_ca = dir + "/other_ca.pem";
  return certs;
}

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_TEST_CERTS_H_
