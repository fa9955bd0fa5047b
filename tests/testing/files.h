// Reading a whole file in tests.
#ifndef FIELDLOOP_TESTS_TESTING_FILES_H_
#define FIELDLOOP_TESTS_TESTING_FILES_H_

#include <fstream>
#include <sstream>
#include <string>

namespace fieldloop::testing {

// The bytes of `path`; empty when it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_FILES_H_
