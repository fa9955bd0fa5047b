// Key encoding of the fieldloop RocksDB store. Documented in docs/storage.md.
//
// Every key starts with the initiative name followed by a 0x00 byte. Initiative names
// match [a-z0-9][a-z0-9._-]{0,63}, so they never contain 0x00, and all keys of one
// initiative form one contiguous range that sorts before any longer initiative sharing its
// prefix ("ab\0..." < "ab-\0..."). Sequence numbers are 8-byte big-endian so that byte
// order is numeric order.
#ifndef FIELDLOOP_STORAGE_KEYS_H_
#define FIELDLOOP_STORAGE_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace fieldloop::storage {

using SequenceNumber = uint64_t;

// Kind of a stored record. The numeric values are stored on disk: never renumber.
enum class RecordKind : uint8_t {
  kFeedbackEvent = 1,
  kCallTranscript = 2,
  kWinLossNote = 3,
  kContentAsset = 4,
  kOnboardingMetric = 5,
};

// Returns true if `value` is one of the RecordKind values above.
bool IsValidRecordKind(uint8_t value);

// Appends `value` to `out` as 8 bytes, most significant first.
void PutBigEndian64(std::string* out, uint64_t value);

// Reads 8 big-endian bytes from the start of `in`. Requires in.size() >= 8.
uint64_t GetBigEndian64(absl::string_view in);

// "<initiative>\0": the prefix of every key of `initiative`.
std::string InitiativePrefix(absl::string_view initiative);

// events CF: "<initiative>\0<seq:be64>".
std::string EventKey(absl::string_view initiative, SequenceNumber seq);

// ids CF (dedupe index): "<initiative>\0<kind:1 byte><id>", value = seq:be64.
std::string IdKey(absl::string_view initiative, RecordKind kind, absl::string_view id);

// assets and metrics CFs (latest state): "<initiative>\0<id>".
std::string StateKey(absl::string_view initiative, absl::string_view id);

// meta CF: "seq\0<initiative>" holds the last sequence number given in the initiative.
std::string LastSequenceKey(absl::string_view initiative);

// meta CF: "applied\0<initiative>" holds the applied watermark of the theme state.
std::string AppliedKey(absl::string_view initiative);

// meta CF key holding the schema version of the store, as a decimal string.
inline constexpr absl::string_view kSchemaVersionKey = "schema_version";

}  // namespace fieldloop::storage

#endif  // FIELDLOOP_STORAGE_KEYS_H_
