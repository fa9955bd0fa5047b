// EventLog: fieldloopd's log of notable events, one line per event (docs/operations.md,
// "Logs", lists every event the server writes).
//
// The contract:
// - A line is `<time> <LEVEL> <component>: <message>\n`, for example
//   `2026-11-25T17:30:00.123Z INFO ingest: stream from 127.0.0.1:5555 ended: 399 records, ...`.
//   <time> is RFC 3339 in UTC with milliseconds, read from the Clock given at construction;
//   <LEVEL> is DEBUG, INFO, WARNING or ERROR.
// - Levels are ordered debug < info < warning < error. A line below the configured level is
//   dropped before anything is formatted (Debug/Info/Warning/Error check the level first), so
//   a DEBUG call costs one comparison at the default level.
// - A line is written whole: the line is built first, then written with one fwrite and
//   flushed under a mutex, so lines of concurrent writers never interleave.
// - One event, one line: control characters (newline, tab, ...) and bytes that are not valid
//   UTF-8 in the component or message are written as `\xNN` escapes.
// - What callers put in a message is their responsibility, and the rule is: counts, ids,
//   names, paths, durations and reasons; never the text of a record (notes, transcripts)
//   and never a secret (a webhook URL is logged as TasksWebhook::display_url(), without its
//   user, password or query).
// Thread-safe. No global state: the server owns one and hands `EventLog*` to its parts; a
// part given nullptr logs nothing.
#ifndef FIELDLOOP_SERVICES_EVENT_LOG_H_
#define FIELDLOOP_SERVICES_EVENT_LOG_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/clock.h"

namespace fieldloop::services {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "DEBUG", "INFO", "WARNING" or "ERROR".
absl::string_view LogLevelName(LogLevel level);

// Parses a --log_level value: "debug", "info", "warning" or "error", in any case. Returns
// InvalidArgument naming the flag, the value and the accepted values otherwise.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text);

// Returns `text` as written in a log line: control characters (below 0x20, and 0x7f) and
// bytes that are not part of valid UTF-8 become `\xNN`; everything else is unchanged.
std::string EscapeForLog(absl::string_view text);

// True for the 1st, 2nd, 4th, 8th, ... occurrence (`n` counted from 1): which of a run of
// repeated failures (a retry loop) is worth a line, so a failure that lasts stays visible
// without flooding the log.
inline bool IsLoggedRepeat(uint64_t n) { return n > 0 && (n & (n - 1)) == 0; }

class EventLog {
 public:
  // Writes lines of `level` and above to `out` with times from `clock`. `clock` and `out`
  // must outlive the log; `out` is not closed. nullptr `out` means stderr.
  EventLog(const Clock* clock, LogLevel level = LogLevel::kInfo, FILE* out = nullptr);
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  LogLevel level() const { return level_; }

  // True iff a line of `level` is written. Check it before building an expensive message
  // by hand; the formatting methods below check it themselves.
  bool Enabled(LogLevel level) const { return level >= level_; }

  // Writes one line (when Enabled(level)) with `message` as given.
  void Write(LogLevel level, absl::string_view component, absl::string_view message)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Formats with absl::StrFormat (checked at compile time) and writes one line, only when
  // Enabled(level): below the level nothing is formatted.
  template <typename... Args>
  void Debug(absl::string_view component, const absl::FormatSpec<Args...>& format,
             const Args&... args) {
    if (Enabled(LogLevel::kDebug)) {
      Write(LogLevel::kDebug, component, absl::StrFormat(format, args...));
    }
  }
  template <typename... Args>
  void Info(absl::string_view component, const absl::FormatSpec<Args...>& format,
            const Args&... args) {
    if (Enabled(LogLevel::kInfo)) {
      Write(LogLevel::kInfo, component, absl::StrFormat(format, args...));
    }
  }
  template <typename... Args>
  void Warning(absl::string_view component, const absl::FormatSpec<Args...>& format,
               const Args&... args) {
    if (Enabled(LogLevel::kWarning)) {
      Write(LogLevel::kWarning, component, absl::StrFormat(format, args...));
    }
  }
  template <typename... Args>
  void Error(absl::string_view component, const absl::FormatSpec<Args...>& format,
             const Args&... args) {
    if (Enabled(LogLevel::kError)) {
      Write(LogLevel::kError, component, absl::StrFormat(format, args...));
    }
  }

 private:
  const Clock* const clock_;
  const LogLevel level_;
  FILE* const out_;
  absl::Mutex mu_;  // One line at a time, in clock order.
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_EVENT_LOG_H_
