#include "storage/path_rules.h"

#include <system_error>

namespace fieldloop::storage {

std::filesystem::path ResolvedPath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  if (ec) p = std::filesystem::absolute(path).lexically_normal();
  std::string text = p.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

bool IsSameOrInside(const std::filesystem::path& path, const std::filesystem::path& dir) {
  const std::filesystem::path rel = path.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace fieldloop::storage
