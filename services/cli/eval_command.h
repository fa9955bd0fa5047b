// `fieldloop eval`: runs the server's normalization and clusterer in-process over a labeled
// JSON Lines file ({"id","text","label"} per line, in stream order) and scores the themes.
#ifndef FIELDLOOP_SERVICES_CLI_EVAL_COMMAND_H_
#define FIELDLOOP_SERVICES_CLI_EVAL_COMMAND_H_

#include <cstdio>
#include <optional>
#include <string>

namespace fieldloop::cli {

struct EvalOptions {
  std::string file;
  bool json = false;
  // Overrides of the clusterer's defaults, for experiments only.
  std::optional<double> create_threshold;
  std::optional<double> size_gain;
  std::optional<bool> bigrams;
  std::optional<double> merge_threshold;
  std::optional<int64_t> merge_interval;
  std::optional<int64_t> max_terms;
  std::optional<double> fade;
};

// Returns 0 on success, 1 on a usage or file error (message on `err`).
int RunEval(const EvalOptions& options, std::FILE* out, std::FILE* err);

}  // namespace fieldloop::cli

#endif  // FIELDLOOP_SERVICES_CLI_EVAL_COMMAND_H_
