#include "services/event_log.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace fieldloop::services {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], 0 when there is none (a lone
// continuation byte, an overlong form, a surrogate, past U+10FFFF, or cut short).
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // Allowed range of the second byte.
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;  // Overlong.
    if (c == 0xed) hi = 0x9f;  // Surrogates.
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;  // Overlong.
    if (c == 0xf4) hi = 0x8f;  // Past U+10FFFF.
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

void AppendEscaped(absl::string_view text, std::string* out) {
  out->reserve(out->size() + text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out->push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const size_t n = Utf8SequenceLength(text, i); n > 0) {
        out->append(text.data() + i, n);
        i += n;
        continue;
      }
    }
    absl::StrAppend(out, "\\x", absl::Hex(c, absl::kZeroPad2));
    ++i;
  }
}

}  // namespace

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warning") return LogLevel::kWarning;
  if (lower == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(absl::StrCat("--log_level: '", EscapeForLog(text),
                                                 "' is not one of debug, info, warning, error"));
}

std::string EscapeForLog(absl::string_view text) {
  std::string out;
  AppendEscaped(text, &out);
  return out;
}

EventLog::EventLog(const Clock* clock, LogLevel level, FILE* out)
    : clock_(clock), level_(level), out_(out != nullptr ? out : stderr) {}

void EventLog::Write(LogLevel level, absl::string_view component, absl::string_view message) {
  if (!Enabled(level)) return;
  std::string rest = absl::StrCat(" ", LogLevelName(level), " ");
  AppendEscaped(component, &rest);
  rest.append(": ");
  AppendEscaped(message, &rest);
  rest.push_back('\n');
  absl::MutexLock lock(&mu_);
  // The time is read under the lock, so times never go backwards down the file.
  std::string line = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", clock_->Now(), absl::UTCTimeZone());
  line.append(rest);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace fieldloop::services
