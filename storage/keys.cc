#include "storage/keys.h"

#include "absl/strings/str_cat.h"

namespace fieldloop::storage {

bool IsValidRecordKind(uint8_t value) { return value >= 1 && value <= 5; }

void PutBigEndian64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t GetBigEndian64(absl::string_view in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(in[i]);
  return value;
}

std::string InitiativePrefix(absl::string_view initiative) {
  std::string key(initiative);
  key.push_back('\0');
  return key;
}

std::string EventKey(absl::string_view initiative, SequenceNumber seq) {
  std::string key = InitiativePrefix(initiative);
  PutBigEndian64(&key, seq);
  return key;
}

std::string IdKey(absl::string_view initiative, RecordKind kind, absl::string_view id) {
  std::string key = InitiativePrefix(initiative);
  key.push_back(static_cast<char>(kind));
  key.append(id.data(), id.size());
  return key;
}

std::string StateKey(absl::string_view initiative, absl::string_view id) {
  return absl::StrCat(InitiativePrefix(initiative), id);
}

std::string AppliedKey(absl::string_view initiative) {
  return absl::StrCat(absl::string_view("applied\0", 8), initiative);
}

std::string LastSequenceKey(absl::string_view initiative) {
  return absl::StrCat(absl::string_view("seq\0", 4), initiative);
}

}  // namespace fieldloop::storage
