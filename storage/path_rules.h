// Path rules shared by the store and the backup service: where a directory really is, and
// whether one lies inside another (so a checkpoint or backup never lands in the data dir).
#ifndef FIELDLOOP_STORAGE_PATH_RULES_H_
#define FIELDLOOP_STORAGE_PATH_RULES_H_

#include <filesystem>
#include <string>

namespace fieldloop::storage {

// `path` made absolute, with the symbolic links of its existing part resolved and no
// trailing separator.
std::filesystem::path ResolvedPath(const std::string& path);

// True if `path` is `dir` or lies under it (both ResolvedPath).
bool IsSameOrInside(const std::filesystem::path& path, const std::filesystem::path& dir);

}  // namespace fieldloop::storage

#endif  // FIELDLOOP_STORAGE_PATH_RULES_H_
