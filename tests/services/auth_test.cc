// The tokens file parser and the role table of services/auth.h: what a valid file gives,
// every error names its line and field and never echoes a token, which role grants which
// permission, and what replacing an Authorizer's tokens reports.
#include "services/auth.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// sha256("test"), as `printf %s test | sha256sum` prints it.
constexpr char kTestHash[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

std::string HashOf(const std::string& token) { return TokenHash(token); }

TEST(TokenHash, IsLowercaseHexSha256LikeSha256sum) {
  EXPECT_EQ(TokenHash("test"), kTestHash);
  EXPECT_EQ(TokenHash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ParseTokens, ReadsEveryFieldSkippingCommentsAndBlankLines) {
  const std::string file = "# hash name role initiatives\n\n" + HashOf("p") +
                           "  crm-export\tproducer q4-launch,q3-push,q3-push\n" +
                           "   # indented comment\n" + HashOf("r") + " board-bot reader *\n";
  absl::StatusOr<TokenTable> table = ParseTokens(file, "tokens.txt");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->size(), 2u);
  const TokenGrant& producer = table->at(HashOf("p"));
  EXPECT_EQ(producer.name, "crm-export");
  EXPECT_EQ(producer.role, Role::kProducer);
  EXPECT_FALSE(producer.all_initiatives);
  EXPECT_THAT(producer.initiatives, ElementsAre("q3-push", "q4-launch"));
  EXPECT_TRUE(producer.Covers("q3-push"));
  EXPECT_FALSE(producer.Covers("q3"));
  const TokenGrant& reader = table->at(HashOf("r"));
  EXPECT_EQ(reader.role, Role::kReader);
  EXPECT_TRUE(reader.all_initiatives);
  EXPECT_TRUE(reader.Covers("anything"));
}

// The error for `file` (one bad line after a good one and a comment: line 3).
std::string ErrorOf(const std::string& bad_line) {
  const std::string file = HashOf("ok") + " ok admin *\n# comment\n" + bad_line + "\n";
  absl::StatusOr<TokenTable> table = ParseTokens(file, "tokens.txt");
  EXPECT_FALSE(table.ok()) << bad_line;
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(table.status().message());
}

TEST(ParseTokens, WrongFieldCountNamesTheLine) {
  EXPECT_THAT(ErrorOf(HashOf("x") + " name reader"),
              HasSubstr("tokens.txt:3: expected 4 fields (sha256-hex name role initiatives), "
                        "found 3"));
}

TEST(ParseTokens, TokenInPlaceOfItsHashIsRefusedWithoutEchoingIt) {
  const std::string message = ErrorOf("s3cr3t-token-value name reader *");
  EXPECT_THAT(message, HasSubstr("tokens.txt:3: hash:"));
  EXPECT_THAT(message, HasSubstr("sha256sum"));
  EXPECT_THAT(message, Not(HasSubstr("s3cr3t")));
  // Uppercase hex is not what sha256sum prints: refused the same way.
  std::string upper = HashOf("x");
  for (char& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_THAT(ErrorOf(upper + " name reader *"), HasSubstr("tokens.txt:3: hash:"));
}

TEST(ParseTokens, BadNameRoleOrInitiativeNamesTheField) {
  EXPECT_THAT(ErrorOf(HashOf("x") + " bad/name reader *"),
              HasSubstr("tokens.txt:3: name 'bad/name' must be"));
  EXPECT_THAT(ErrorOf(HashOf("x") + " name writer *"),
              HasSubstr("tokens.txt:3: role 'writer' must be producer, reader or admin"));
  EXPECT_THAT(ErrorOf(HashOf("x") + " name reader q3-push,Bad"),
              HasSubstr("tokens.txt:3: initiatives: 'Bad' is not an initiative name"));
  EXPECT_THAT(ErrorOf(HashOf("x") + " name reader q3-push,,q4"),
              HasSubstr("tokens.txt:3: initiatives: '' is not an initiative name"));
}

TEST(ParseTokens, NameThatLooksLikeATokenOrHashIsRefusedWithoutQuotingIt) {
  const std::string hash = HashOf("x");
  const std::string hex_token = HashOf("a token made with openssl rand -hex 32");
  const std::string alnum_token = "Zq8vN2kLm4Tx7Rb1Wc9Yd3Hf6Gj0PsAe";  // 32 letters and digits.
  for (const std::string& name : {hex_token, hash, alnum_token, hex_token.substr(0, 32)}) {
    const std::string message = ErrorOf(hash + " " + name + " reader *");
    EXPECT_THAT(message, HasSubstr("tokens.txt:3: the name looks like a token or hash; names "
                                   "are labels such as crm-export"));
    EXPECT_THAT(message, Not(HasSubstr(name.substr(0, 12))));
  }
  // Labels, however long, stay valid: 31 letters and digits in a row at most.
  const std::string label = "export-" + std::string(31, 'a') + "-" + std::string(24, '7');
  absl::StatusOr<TokenTable> table = ParseTokens(hash + " " + label + " reader *\n", "t");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->at(hash).name, label);
}

// Every run of 12 characters of `secret`.
std::vector<std::string> Windows(const std::string& secret) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 12 <= secret.size(); ++i) out.push_back(secret.substr(i, 12));
  return out;
}

TEST(ParseTokens, ASecretPastedIntoAnyFieldIsNeverQuotedInTheError) {
  const std::string hash = HashOf("x");
  const std::string hex_secret = HashOf("secret");  // openssl rand -hex 32.
  // 64-character secrets as operators make them: hex, base64, and letters with dashes.
  const std::vector<std::string> secrets = {
      hex_secret,
      "k7Q+Zp0/vN3xR8mW2bT5yL1cF6hJ9dS4gA0eU7iO3qK8wE2rY5tB1nM6vC9xZ4==",
      "tok-" + std::string("Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kM9nP2r") + "-sT5uV8xY1zA4cD7e",
  };
  for (const std::string& secret : secrets) {
    ASSERT_EQ(secret.size(), 64u) << secret;
    std::vector<std::string> lines = {
        hash + " " + secret + " reader *",                // As the name.
        hash + " name " + secret + " *",                  // As the role.
        hash + " name reader * " + secret,                // As a fifth field.
        hash + " " + secret.substr(0, 40) + " reader *",  // Its first 40 characters as the name.
    };
    // 64 lowercase hex digits are a well-formed hash and a valid initiative name: such a
    // line parses, and nothing is quoted.
    if (secret != hex_secret) {
      lines.push_back(secret + " name reader *");                // In place of the hash.
      lines.push_back(hash + " name reader " + secret);          // As the initiatives.
      lines.push_back(hash + " name reader q3-push," + secret);  // As one of them.
    }
    for (const std::string& line : lines) {
      const std::string message = ErrorOf(line);
      EXPECT_THAT(message, HasSubstr("tokens.txt:3: ")) << line;
      for (const std::string& window : Windows(secret)) {
        ASSERT_THAT(message, Not(HasSubstr(window))) << line;
      }
    }
  }
}

TEST(ParseTokens, ALongBadFieldIsDescribedByItsLength) {
  EXPECT_THAT(ErrorOf(HashOf("x") + " name administrator *"),
              HasSubstr("tokens.txt:3: role (13 characters, not quoted) must be producer, "
                        "reader or admin"));
  EXPECT_THAT(ErrorOf(HashOf("x") + " name reader q3-push,Q4-Enterprise-Push"),
              HasSubstr("tokens.txt:3: initiatives: (18 characters, not quoted) is not an "
                        "initiative name"));
  EXPECT_THAT(ErrorOf(HashOf("x") + " " + std::string(65, 'n') + " reader *"),
              HasSubstr("the name looks like a token or hash"));
  EXPECT_THAT(ErrorOf(HashOf("x") + " " + std::string(20, 'n') + "/" + " reader *"),
              HasSubstr("tokens.txt:3: name (21 characters, not quoted) must be 1 to 64 of"));
}

TEST(ParseTokens, DuplicateHashOrNameIsRefused) {
  EXPECT_THAT(ErrorOf(HashOf("ok") + " other reader *"),
              HasSubstr("tokens.txt:3: hash: the same token hash is on an earlier line"));
  EXPECT_THAT(ErrorOf(HashOf("x") + " ok reader *"),
              HasSubstr("tokens.txt:3: name 'ok' is already used by an earlier line"));
}

TEST(ParseTokens, FileWithoutTokensIsRefused) {
  absl::StatusOr<TokenTable> table = ParseTokens("# only a comment\n\n", "tokens.txt");
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(table.status().message(), HasSubstr("tokens.txt: no token"));
}

TEST(ReadTokensFile, MissingFileNamesThePath) {
  testing::TempDir dir;
  absl::StatusOr<TokenTable> table = ReadTokensFile(dir.Sub("missing.txt"));
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(table.status().message(), HasSubstr("--auth_tokens: cannot read '"));
  EXPECT_THAT(table.status().message(), HasSubstr("missing.txt"));
}

TEST(ReadTokensFile, ErrorsNameTheFile) {
  testing::TempDir dir;
  const std::string path = dir.Sub("tokens.txt");
  std::ofstream(path) << HashOf("a") << " a reader *\n" << HashOf("b") << " b root *\n";
  absl::StatusOr<TokenTable> table = ReadTokensFile(path);
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(table.status().message(), HasSubstr(path + ":2: role 'root'"));
}

TEST(Grants, RolesGrantTheDocumentedPermissions) {
  EXPECT_TRUE(Grants(Role::kProducer, Permission::kIngest));
  EXPECT_TRUE(Grants(Role::kProducer, Permission::kWaitApplied));
  EXPECT_FALSE(Grants(Role::kProducer, Permission::kRead));
  EXPECT_FALSE(Grants(Role::kProducer, Permission::kAdmin));
  EXPECT_FALSE(Grants(Role::kReader, Permission::kIngest));
  EXPECT_TRUE(Grants(Role::kReader, Permission::kRead));
  EXPECT_TRUE(Grants(Role::kReader, Permission::kWaitApplied));
  EXPECT_FALSE(Grants(Role::kReader, Permission::kAdmin));
  for (Permission p :
       {Permission::kIngest, Permission::kRead, Permission::kWaitApplied, Permission::kAdmin}) {
    EXPECT_TRUE(Grants(Role::kAdmin, p));
  }
}

TEST(Authorizer, ReplaceTokensPutsTheNewTableInForceAndSaysWhatChangedByName) {
  absl::StatusOr<TokenTable> before =
      ParseTokens(HashOf("a") + " kept reader *\n" + HashOf("b") + " gone reader *\n" +
                      HashOf("c") + " rotated producer q3\n" + HashOf("d") +
                      " rescoped reader q3\n" + HashOf("e") + " promoted reader *\n",
                  "before");
  ASSERT_TRUE(before.ok()) << before.status();
  Authorizer authorizer(*std::move(before), nullptr, nullptr);
  EXPECT_EQ(authorizer.token_count(), 5u);
  absl::StatusOr<TokenTable> after = ParseTokens(
      HashOf("a") + " kept reader *\n" + HashOf("c2") + " rotated producer q3\n" + HashOf("d") +
          " rescoped reader q3,q4\n" + HashOf("e") + " promoted admin *\n" + HashOf("f") +
          " zeta reader *\n" + HashOf("g") + " new reader *\n",
      "after");
  ASSERT_TRUE(after.ok()) << after.status();
  absl::StatusOr<TokenChanges> changes = authorizer.ReplaceTokens(*std::move(after));
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->tokens, 6u);
  EXPECT_THAT(changes->added, ElementsAre("new", "zeta"));
  EXPECT_THAT(changes->removed, ElementsAre("gone"));
  EXPECT_THAT(changes->changed, ElementsAre("promoted", "rescoped", "rotated"));
  EXPECT_EQ(authorizer.token_count(), 6u);
}

TEST(Authorizer, WithoutAccessControlThereAreNoTokensToReplace) {
  Authorizer authorizer;
  absl::StatusOr<TokenTable> tokens = ParseTokens(HashOf("a") + " a reader *\n", "tokens");
  ASSERT_TRUE(tokens.ok());
  absl::StatusOr<TokenChanges> changes = authorizer.ReplaceTokens(*std::move(tokens));
  EXPECT_EQ(changes.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(authorizer.enabled());
  EXPECT_EQ(authorizer.token_count(), 0u);
}

}  // namespace
}  // namespace fieldloop::services
