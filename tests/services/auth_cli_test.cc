// TLS and access tokens end to end with the binaries: fieldloopd started with --tls_cert,
// --tls_key and --auth_tokens; `fieldloop push` and `fieldloop themes` with --tls_ca and
// --token_file (or FIELDLOOP_TOKEN); the refusals they print; a token rotated by editing
// the file and sending SIGHUP; fieldloopd refusing a non-loopback address without TLS and
// tokens, saying why.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace fieldloop {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::Runfile;
using testing::Subprocess;

constexpr char kProducerToken[] = "cli-producer-8fJq2";
constexpr char kReaderToken[] = "cli-reader-Lm3x0";
constexpr char kOtherReaderToken[] = "cli-reader-other-7Yh1";

testing::Finished Fieldloop(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Runfile("services/cli/fieldloop")};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunToEnd(argv);
}

class AuthCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    auto certs = testing::MakeTestCerts(certs_dir_.path(), &error);
    ASSERT_TRUE(certs.has_value()) << error;
    certs_ = *certs;
    tokens_ = dir_.Sub("tokens.txt");
    std::ofstream(tokens_) << services::TokenHash(kProducerToken) << " loader producer q3-push\n"
                           << services::TokenHash(kReaderToken) << " viewer reader q3-push\n"
                           << services::TokenHash(kOtherReaderToken) << " other reader q4\n";
    producer_file_ = WriteToken("producer.token", kProducerToken);
    reader_file_ = WriteToken("reader.token", kReaderToken);
    other_reader_file_ = WriteToken("other.token", kOtherReaderToken);
    records_ = dir_.Sub("feedback.jsonl");
    std::ofstream records(records_);
    for (int i = 0; i < 6; ++i) {
      records << "{\"feedback_event\": {\"id\": \"fb-" << i
              << "\", \"initiative\": \"q3-push\", \"source\": \"SOURCE_CALL\", \"rep_id\": "
                 "\"rep-1\", \"region\": \"NA\", \"segment\": \"SMB\", \"occurred_at\": "
                 "\"2026-09-01T10:00:00Z\", \"text\": \"Buyer pushed back on price versus "
                 "Acme CRM "
              << i << "\"}}\n";
    }
    records.close();
    daemon_ =
        testing::StartDaemon(dir_.Sub("data"), &address_,
                             {"--tls_cert=" + certs_.server_cert, "--tls_key=" + certs_.server_key,
                              "--auth_tokens=" + tokens_, "--output_root=" + dir_.Sub("out")});
    ASSERT_NE(daemon_, nullptr) << "fieldloopd did not come up";
  }

  void TearDown() override {
    if (daemon_ == nullptr) return;
    daemon_->Signal(SIGTERM);
    const int status = daemon_->Wait();
    const std::string output = daemon_->DrainOutput();
    EXPECT_EQ(status, 0) << output;
    for (const char* token : {kProducerToken, kReaderToken, kOtherReaderToken}) {
      EXPECT_THAT(output, Not(HasSubstr(token)));  // Its event log never shows a token.
    }
  }

  std::string WriteToken(const std::string& name, const std::string& token) {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << token << "\n";
    return path;
  }

  testing::TempDir certs_dir_;
  testing::TempDir dir_;
  testing::TestCerts certs_;
  std::string tokens_, producer_file_, reader_file_, other_reader_file_, records_;
  std::string address_;
  std::unique_ptr<Subprocess> daemon_;
};

TEST_F(AuthCliTest, PushAndThemesWorkWithTheCaAndTheirTokens) {
  testing::Finished push = Fieldloop({"push", "--server", address_, "--quiet", "--tls_ca",
                                      certs_.ca, "--token_file", producer_file_, records_});
  ASSERT_EQ(push.status, 0) << push.output;
  EXPECT_THAT(push.output, HasSubstr("6 accepted"));
  // Themes trail acks: wait for them through the reader's token.
  testing::Finished themes;
  for (int attempt = 0; attempt < 100; ++attempt) {
    themes = Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--tls_ca",
                        certs_.ca, "--token_file", reader_file_});
    if (themes.status != 0 || themes.output.find("mentions") != std::string::npos) break;
  }
  ASSERT_EQ(themes.status, 0) << themes.output;
  EXPECT_THAT(themes.output, HasSubstr("mentions"));
}

TEST_F(AuthCliTest, ThemesWithoutTokenOrOutsideItsScopeIsRefused) {
  testing::Finished anonymous =
      Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--tls_ca", certs_.ca});
  EXPECT_EQ(anonymous.status, 2) << anonymous.output;
  EXPECT_THAT(anonymous.output, HasSubstr("fieldloop themes: no access token"));

  testing::Finished other = Fieldloop({"themes", "--server", address_, "--initiative", "q3-push",
                                       "--tls_ca", certs_.ca, "--token_file", other_reader_file_});
  EXPECT_EQ(other.status, 2) << other.output;
  EXPECT_THAT(other.output, HasSubstr("token 'other' may not touch initiative 'q3-push'"));
  EXPECT_THAT(other.output, Not(HasSubstr(kOtherReaderToken)));

  // Without --tls_ca the client speaks plaintext to a TLS server: no connection.
  testing::Finished plaintext =
      Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--token_file",
                 reader_file_, "--connect_timeout", "2"});
  EXPECT_EQ(plaintext.status, 1) << plaintext.output;
  EXPECT_THAT(plaintext.output, HasSubstr("cannot connect to"));
}

TEST_F(AuthCliTest, TokenComesFromTheEnvironmentWithoutTokenFile) {
  setenv("FIELDLOOP_TOKEN", kOtherReaderToken, 1);
  testing::Finished other =
      Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--tls_ca", certs_.ca});
  unsetenv("FIELDLOOP_TOKEN");
  EXPECT_EQ(other.status, 2) << other.output;
  EXPECT_THAT(other.output, HasSubstr("token 'other' may not touch"));
}

TEST_F(AuthCliTest, UnreadableTokenFileIsAUsageError) {
  testing::Finished missing =
      Fieldloop({"themes", "--server", address_, "--initiative", "q3-push", "--tls_ca", certs_.ca,
                 "--token_file", dir_.Sub("missing.token")});
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("--token_file: cannot read '"));
}

TEST_F(AuthCliTest, SighupRotatesATokenWithoutARestartAndABrokenFileChangesNothing) {
  constexpr char kRotatedToken[] = "cli-producer-rotated-Vb62k";
  const std::string rotated_file = WriteToken("rotated.token", kRotatedToken);
  const auto push = [&](const std::string& token_file) {
    return Fieldloop({"push", "--server", address_, "--quiet", "--tls_ca", certs_.ca,
                      "--token_file", token_file, records_});
  };
  // The new line, replacing the producer's (same name, new token), written as operators
  // are told to: a new file renamed over the old one.
  const auto replace_tokens = [&](const std::string& producer_line) {
    const std::string next = tokens_ + ".new";
    std::ofstream(next) << producer_line << services::TokenHash(kReaderToken)
                        << " viewer reader q3-push\n"
                        << services::TokenHash(kOtherReaderToken) << " other reader q4\n";
    ASSERT_EQ(std::rename(next.c_str(), tokens_.c_str()), 0);
  };
  const std::string rotated_line =
      services::TokenHash(kRotatedToken) + " loader producer q3-push\n";

  // A broken file: the reload fails, the process goes on with the old tokens.
  replace_tokens(services::TokenHash(kRotatedToken) + " loader writer q3-push\n");
  daemon_->Signal(SIGHUP);
  std::optional<std::string> error = daemon_->WaitForLine("reloading the tokens failed");
  ASSERT_TRUE(error.has_value());
  EXPECT_THAT(*error, HasSubstr(tokens_ + ":1: role 'writer'"));
  testing::Finished refused = push(rotated_file);
  EXPECT_NE(refused.status, 0) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("the access token is not valid"));

  // The fixed file: the rotated token works, the one it replaced no longer does.
  replace_tokens(rotated_line);
  daemon_->Signal(SIGHUP);
  std::optional<std::string> reloaded = daemon_->WaitForLine("INFO auth: reloaded");
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_THAT(*reloaded, HasSubstr("3 tokens in force; 0 added, 0 removed, 1 changed (loader)"));
  testing::Finished accepted = push(rotated_file);
  ASSERT_EQ(accepted.status, 0) << accepted.output;
  EXPECT_THAT(accepted.output, HasSubstr("6 accepted"));
  testing::Finished old = push(producer_file_);
  EXPECT_NE(old.status, 0) << old.output;
  EXPECT_THAT(old.output, HasSubstr("the access token is not valid"));
  // TearDown: SIGTERM still stops it cleanly (exit 0), and no token reached its output.
}

TEST(FieldloopdAuth, NonLoopbackWithoutTlsAndTokensIsRefusedSayingWhy) {
  testing::TempDir dir;
  const std::string tokens = dir.Sub("tokens.txt");
  std::ofstream(tokens) << services::TokenHash("t") << " someone reader *\n";
  const testing::Finished no_tls =
      testing::RunToEnd({Runfile("services/fieldloopd"), "--listen=0.0.0.0:0",
                         "--data_dir=" + dir.Sub("data"), "--auth_tokens=" + tokens});
  EXPECT_EQ(no_tls.status, 1) << no_tls.output;
  EXPECT_THAT(no_tls.output,
              HasSubstr("fieldloopd: --listen='0.0.0.0:0' is not a loopback address and "
                        "fieldloopd has no TLS (--tls_cert, --tls_key), so the access tokens "
                        "would travel in clear text"));
  EXPECT_THAT(no_tls.output, Not(HasSubstr("listening on")));
}

TEST(FieldloopdAuth, HelpListsTheSecurityFlags) {
  Subprocess daemon({Runfile("services/fieldloopd"), "--helpfull"});
  const std::string out = daemon.DrainOutput();
  daemon.Wait();
  for (const char* flag : {"--tls_cert", "--tls_key", "--tls_client_ca", "--auth_tokens"}) {
    EXPECT_THAT(out, HasSubstr(flag));
  }
  EXPECT_THAT(out, HasSubstr("On SIGHUP reads the --auth_tokens file again"));
  const testing::Finished help = Fieldloop({"help"});
  for (const char* flag :
       {"--tls_ca", "--tls_cert", "--tls_key", "--token_file", "FIELDLOOP_TOKEN"}) {
    EXPECT_THAT(help.output, HasSubstr(flag));
  }
}

}  // namespace
}  // namespace fieldloop
