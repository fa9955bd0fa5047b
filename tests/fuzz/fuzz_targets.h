// Fuzz targets of the parsers that read hostile input (docs/hardening.md). Each takes raw
// bytes, runs one parser on them and abort()s when an invariant of its contract is broken;
// it returns 0 otherwise (libFuzzer's convention). The same functions serve libFuzzer
// (scripts/fuzz builds each file with -DFIELDLOOP_LIBFUZZER, which adds
// LLVMFuzzerTestOneInput) and the corpus replay test (//tests/fuzz:corpus_replay_test).
#ifndef FIELDLOOP_TESTS_FUZZ_FUZZ_TARGETS_H_
#define FIELDLOOP_TESTS_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace fieldloop::fuzz {

// JSON Lines / CSV record files: pipeline::ParseRecordFile and CheckRecordFile.
int FuzzRecordFile(const uint8_t* data, size_t size);
// Record validation: the bytes as a binary and as a JSON IngestRequest, then Validate.
int FuzzRecordValidator(const uint8_t* data, size_t size);
// Text normalization: TextNormalizer::Normalize (with and without bigrams) and Fold.
int FuzzTextNormalizer(const uint8_t* data, size_t size);
// Edited refresh plan CSV: pipeline::ParsePlanCsv.
int FuzzPlanImport(const uint8_t* data, size_t size);
// RFC 4180 splitting: pipeline::SplitCsv.
int FuzzCsvReader(const uint8_t* data, size_t size);

}  // namespace fieldloop::fuzz

// Aborts with the broken invariant when `cond` is false. abort() is what libFuzzer and the
// sanitizers report as a crash, with the input saved.
#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

// Defines LLVMFuzzerTestOneInput calling `fn` in the libFuzzer build only.
#ifdef FIELDLOOP_LIBFUZZER
#define FIELDLOOP_FUZZ_ENTRY(fn) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fn(data, size); }
#else
#define FIELDLOOP_FUZZ_ENTRY(fn)
#endif

#endif  // FIELDLOOP_TESTS_FUZZ_FUZZ_TARGETS_H_
