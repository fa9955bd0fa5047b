// The bundled example initiative (examples/q3-push) as IngestRequests, for tests that need
// realistic records. Needs `data = ["//examples:q3_push"]`.
#ifndef FIELDLOOP_TESTS_TESTING_EXAMPLE_RECORDS_H_
#define FIELDLOOP_TESTS_TESTING_EXAMPLE_RECORDS_H_

#include <fstream>
#include <string>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "proto/fieldloop/v1/ingest.pb.h"
#include "tests/testing/subprocess.h"

namespace fieldloop::testing {

// Feedback events and transcripts, then win/loss notes, in file order. Lines that do not
// parse are skipped (the example files have none; record_files tests cover parsing).
inline std::vector<fieldloop::v1::IngestRequest> ExampleRecords() {
  std::vector<fieldloop::v1::IngestRequest> out;
  for (const char* name : {"feedback.jsonl", "win_loss.jsonl"}) {
    std::ifstream in(Runfile(std::string("examples/q3-push/") + name));
    std::string line;
    while (std::getline(in, line)) {
      fieldloop::v1::IngestRequest r;
      if (google::protobuf::util::JsonStringToMessage(line, &r).ok()) out.push_back(r);
    }
  }
  return out;
}

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_EXAMPLE_RECORDS_H_
