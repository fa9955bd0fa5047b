// TempDir: a fresh directory under the test's TEST_TMPDIR, removed with its contents when
// the object goes out of scope.
#ifndef FIELDLOOP_TESTS_TESTING_TEMP_DIR_H_
#define FIELDLOOP_TESTS_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"

namespace fieldloop::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = absl::StrCat(base ? base : "/tmp", "/fieldloop-XXXXXX");
    char* made = mkdtemp(tmpl.data());
    path_ = made ? made : tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside the directory.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_TEMP_DIR_H_
