// fieldloop: the command-line client. `fieldloop help` lists the commands.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "services/cli/backup_commands.h"
#include "services/cli/board_commands.h"
#include "services/cli/eval_command.h"
#include "services/cli/forget_command.h"
#include "services/cli/push_command.h"
#include "services/cli/run_command.h"
#include "services/cli/themes_commands.h"

namespace {

constexpr char kUsage[] =
    "fieldloop: command-line client of fieldloopd.\n"
    "\n"
    "Commands:\n"
    "  push --server HOST:PORT [--initiative NAME] [--quiet] FILE...\n"
    "      Streams record files to the server: JSON Lines of IngestRequest, content inventory\n"
    "      CSV, onboarding metrics CSV (told apart by their first line; docs/formats.md).\n"
    "      CSV rows take their initiative from --initiative. Shows progress on a terminal,\n"
    "      ends with a summary and one 'file:line: field: reason' line per rejected record.\n"
    "      --quiet drops the progress line. --connect_timeout SECONDS (default 10) bounds\n"
    "      the wait for the server.\n"
    "      Exit status: 0 all accepted or duplicate, 2 some rejected or malformed,\n"
    "      1 usage, file or connection error.\n"
    "  eval [--json] FILE.jsonl\n"
    "      Runs the server's text normalization and theme clusterer over a labeled JSON\n"
    "      Lines file ({\"id\",\"text\",\"label\"} per line, in stream order) and prints\n"
    "      NMI, ARI, purity, the number of themes and documents/s (--json: one object with\n"
    "      keys nmi, ari, purity, themes, docs, docs_per_s). For experiments only:\n"
    "      --create_threshold X, --size_gain X, --bigrams / --nobigrams, --merge_threshold X,\n"
    "      --merge_interval N, --max_terms N, --fade_half_life N override the defaults.\n"
    "  run --initiative NAME [--feedback_stream FILE] [--win_loss_notes FILE]\n"
    "      [--content_inventory FILE] [--onboarding_metrics FILE] [--out DIR] [--as_of DATE]\n"
    "      [--data_dir DIR]\n"
    "      One-shot job without a server: loads the inputs into an embedded RocksDB\n"
    "      (default <out>/.fieldloop/data), clusters them into themes and writes\n"
    "      <out>/specs/projects/<initiative>/sales/enablement_feedback.md and\n"
    "      content_refresh.csv (as of DATE, default today UTC). Without feedback the board\n"
    "      is a stub and no CSV is written. Exit status: 0 done, 2 done but some records\n"
    "      were rejected (listed as file:line: field: reason), 1 usage or I/O error.\n"
    "  snapshot --server HOST:PORT [--initiative NAME] [--as_of DATE] [--connect_timeout S]\n"
    "      The weekly snapshot job: the server materializes the initiative (default: every\n"
    "      initiative it has) as of DATE (default its today, UTC), writing the board and plan\n"
    "      under its --output_root and a dated copy under .../sales/history/<ISO week>/.\n"
    "      Prints the paths. Exit status: 0 done, 2 some initiative failed, 1 usage or\n"
    "      connection error. --connect_timeout as for push.\n"
    "  import-plan [--server HOST:PORT | --out DIR | --data_dir DIR] [--initiative NAME] FILE\n"
    "      Imports people's edits from an edited content_refresh.csv: a row's status (open,\n"
    "      in_progress, done, wont_do), owner and due (YYYY-MM-DD) become edits where they\n"
    "      differ from the last materialized plan, and every later board and plan keep them.\n"
    "      Through a server with --server; otherwise into the one-shot store of `fieldloop\n"
    "      run` (<out>/.fieldloop/data, out default . as for run). The initiative defaults to\n"
    "      the one in a .../specs/projects/<initiative>/sales/ path. Exit status: 0 all rows\n"
    "      imported, 2 some rows skipped (printed as FILE: line N: field: reason), 1 usage,\n"
    "      file or connection error. With --server, --connect_timeout as for push.\n"
    "  themes --server HOST:PORT --initiative NAME [--order priority|mentions|recency]\n"
    "      [--region R] [--segment S] [--source SRC] [--since DATE] [--limit N] [--as_of DATE]\n"
    "      [--json]\n"
    "      The initiative's current themes (Themes.ListThemes): id, list (global, regional,\n"
    "      emerging), score, mentions, last seen and label, best first by --order (default\n"
    "      priority, the board's ranking). Filters keep themes with a mention from region R,\n"
    "      segment S, source SRC (call, ride_along, enablement_session, other, win_loss), last\n"
    "      seen on or after DATE. --limit N themes (default 20, 0: all). --json prints one\n"
    "      ThemeBrief JSON object per line.\n"
    "  theme ID --server HOST:PORT --initiative NAME [--as_of DATE] [--json]\n"
    "      Everything the board knows about one theme (Themes.GetTheme): counts, win/loss\n"
    "      figures, competitors, linked assets, tasks, proof points and quotes. A merged id\n"
    "      shows the theme it lives on in. --json prints the GetThemeResponse.\n"
    "  watch --server HOST:PORT --initiative NAME [--from_version V] [--json]\n"
    "      Follows theme changes (Themes.WatchThemes): a snapshot of every theme, then\n"
    "      CREATED, UPDATED and MERGED as records are applied, with 'caught up' lines giving\n"
    "      the version to resume after with --from_version V. Runs until interrupted or the\n"
    "      server stops.\n"
    "      Exit status of themes, theme and watch: 0 done, 2 the server refused the request,\n"
    "      1 usage or connection error; --connect_timeout as for push.\n"
    "  backup --server HOST:PORT --name NAME [--connect_timeout S]\n"
    "  backup --data_dir DIR --to NEWDIR\n"
    "      A consistent point-in-time copy of a store (a RocksDB checkpoint) that fieldloopd\n"
    "      --data_dir starts on. With --server: the running server writes it into the new\n"
    "      directory <its --backup_root>/NAME (NAME [a-z0-9][a-z0-9._-]{0,63}; fieldloopd needs\n"
    "      --backup_root) while ingest goes on. With --data_dir: the store of a stopped server\n"
    "      is copied into the new directory NEWDIR (refused while a server holds it). Prints\n"
    "      the path, size and records per initiative. Exit status: 0 done, 2 refused or\n"
    "      failed (backups off, bad name, the directory exists), 1 usage or connection error\n"
    "      or the store cannot be opened. --connect_timeout as for push.\n"
    "  forget --server HOST:PORT --initiative NAME (--record_id ID ... | --rep_id REP)\n"
    "      [--connect_timeout S]\n"
    "      Removes records of one initiative from the server's store and theme state\n"
    "      (Admin.Forget): those with the given ids (any kind; repeat --record_id), and with\n"
    "      --rep_id every feedback event, call transcript and onboarding metric row of that\n"
    "      rep. Themes are rebuilt from the records left (theme ids may change); the next\n"
    "      board no longer shows them. Boards already written, backups and webhook\n"
    "      deliveries are not touched; producers must stop sending the ids (a resent one is\n"
    "      stored again). Prints counts per kind. Exit status: 0 done (also when nothing\n"
    "      matched), 2 refused or failed, 1 usage or connection error.\n"
    "  restore --from BACKUP --data_dir NEWDIR\n"
    "      Copies a backup into the new data directory NEWDIR (full copies), checks that it\n"
    "      opens and prints what it holds; then start fieldloopd --data_dir=NEWDIR. Exit\n"
    "      status: 0 done, 1 usage error, NEWDIR exists, not a backup, or the copy failed.\n"
    "  help\n"
    "      Prints this text.\n"
    "\n"
    "Every command given --server also takes, for a server with TLS or access tokens\n"
    "(docs/operations.md, \"Access control and TLS\"):\n"
    "  --tls_ca FILE       TLS: PEM file of the CA that signed the server's certificate.\n"
    "  --tls_cert FILE, --tls_key FILE\n"
    "                      A client certificate and its key (a server with --tls_client_ca).\n"
    "  --token_file FILE   The access token, on the file's first line. Default: the\n"
    "                      FIELDLOOP_TOKEN environment variable. (No flag takes the token\n"
    "                      itself: it would show in ps.)\n";

// Parses "--name=value" or "--name value"; returns true and advances `i` when matched.
bool TakeFlag(const std::vector<std::string>& args, size_t& i, const char* name,
              std::string* value) {
  const std::string flag = std::string("--") + name;
  if (args[i] == flag) {
    if (i + 1 >= args.size()) return false;
    *value = args[++i];
    return true;
  }
  if (absl::StartsWith(args[i], flag + "=")) {
    *value = args[i].substr(flag.size() + 1);
    return true;
  }
  return false;
}

// Parses the TLS and token flags (--tls_ca, --tls_cert, --tls_key, --token_file) of a
// command that talks to a server; returns true and advances `i` when matched.
bool TakeTransportFlag(const std::vector<std::string>& args, size_t& i,
                       fieldloop::cli::TransportOptions* transport) {
  return TakeFlag(args, i, "tls_ca", &transport->tls_ca) ||
         TakeFlag(args, i, "tls_cert", &transport->tls_cert) ||
         TakeFlag(args, i, "tls_key", &transport->tls_key) ||
         TakeFlag(args, i, "token_file", &transport->token_file);
}

// Parses --connect_timeout SECONDS into `seconds`: returns 1 when taken, 0 when args[i] is
// another flag, -1 after printing the error for a bad value.
int TakeConnectTimeout(const char* command, const std::vector<std::string>& args, size_t& i,
                       int* seconds) {
  std::string value;
  if (!TakeFlag(args, i, "connect_timeout", &value)) return 0;
  if (!absl::SimpleAtoi(value, seconds) || *seconds < 0) {
    std::fprintf(stderr, "fieldloop %s: --connect_timeout must be a whole number of seconds\n",
                 command);
    return -1;
  }
  return 1;
}

int Push(const std::vector<std::string>& args) {
  fieldloop::cli::PushOptions options;
  options.progress = isatty(STDERR_FILENO);
  for (size_t i = 0; i < args.size(); ++i) {
    if (TakeFlag(args, i, "server", &options.server) ||
        TakeFlag(args, i, "initiative", &options.initiative) ||
        TakeTransportFlag(args, i, &options.transport)) {
      continue;
    }
    if (const int taken = TakeConnectTimeout("push", args, i, &options.connect_timeout_s)) {
      if (taken < 0) return fieldloop::cli::kPushUsageOrIo;
      continue;
    }
    if (args[i] == "--quiet") {
      options.progress = false;
      continue;
    }
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (absl::StartsWith(args[i], "--")) {
      std::fprintf(stderr, "fieldloop push: unknown flag %s\n\n%s", args[i].c_str(), kUsage);
      return fieldloop::cli::kPushUsageOrIo;
    }
    options.files.push_back(args[i]);
  }
  return fieldloop::cli::RunPush(options, stdout, stderr);
}

int Eval(const std::vector<std::string>& args) {
  fieldloop::cli::EvalOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--json") {
      options.json = true;
    } else if (args[i] == "--bigrams" || args[i] == "--nobigrams") {
      options.bigrams = args[i] == "--bigrams";
    } else if (const bool threshold = TakeFlag(args, i, "create_threshold", &value);
               threshold || TakeFlag(args, i, "size_gain", &value)) {
      double v;
      if (!absl::SimpleAtod(value, &v) || v <= 0) {
        std::fprintf(stderr, "fieldloop eval: --%s needs a positive number\n",
                     threshold ? "create_threshold" : "size_gain");
        return 1;
      }
      (threshold ? options.create_threshold : options.size_gain) = v;
    } else if (const bool merge = TakeFlag(args, i, "merge_threshold", &value);
               merge || TakeFlag(args, i, "fade_half_life", &value)) {
      double v;
      if (!absl::SimpleAtod(value, &v) || v < 0) {
        std::fprintf(stderr, "fieldloop eval: --%s needs a number >= 0\n",
                     merge ? "merge_threshold" : "fade_half_life");
        return 1;
      }
      (merge ? options.merge_threshold : options.fade) = v;
    } else if (const bool interval = TakeFlag(args, i, "merge_interval", &value);
               interval || TakeFlag(args, i, "max_terms", &value)) {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v) || v < 0) {
        std::fprintf(stderr, "fieldloop eval: --%s needs a whole number\n",
                     interval ? "merge_interval" : "max_terms");
        return 1;
      }
      (interval ? options.merge_interval : options.max_terms) = v;
    } else if (absl::StartsWith(args[i], "--")) {
      std::fprintf(stderr, "fieldloop eval: unknown flag %s\n\n%s", args[i].c_str(), kUsage);
      return 1;
    } else if (options.file.empty()) {
      options.file = args[i];
    } else {
      std::fprintf(stderr, "fieldloop eval: one file only\n");
      return 1;
    }
  }
  if (options.file.empty()) {
    std::fprintf(stderr, "fieldloop eval: no file given\n\n%s", kUsage);
    return 1;
  }
  return fieldloop::cli::RunEval(options, stdout, stderr);
}

int Run(const std::vector<std::string>& args) {
  fieldloop::cli::RunOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    if (TakeFlag(args, i, "initiative", &o.initiative) ||
        TakeFlag(args, i, "feedback_stream", &o.feedback_stream) ||
        TakeFlag(args, i, "win_loss_notes", &o.win_loss_notes) ||
        TakeFlag(args, i, "content_inventory", &o.content_inventory) ||
        TakeFlag(args, i, "onboarding_metrics", &o.onboarding_metrics) ||
        TakeFlag(args, i, "out", &o.out) || TakeFlag(args, i, "as_of", &o.as_of) ||
        TakeFlag(args, i, "data_dir", &o.data_dir)) {
      continue;
    }
    std::fprintf(stderr, "fieldloop run: unexpected argument %s\n\n%s", args[i].c_str(), kUsage);
    return 1;
  }
  return fieldloop::cli::RunOneShot(o, stdout, stderr);
}

int Snapshot(const std::vector<std::string>& args) {
  fieldloop::cli::SnapshotOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    if (TakeFlag(args, i, "server", &o.server) || TakeFlag(args, i, "initiative", &o.initiative) ||
        TakeFlag(args, i, "as_of", &o.as_of) || TakeTransportFlag(args, i, &o.transport)) {
      continue;
    }
    if (const int taken = TakeConnectTimeout("snapshot", args, i, &o.connect_timeout_s)) {
      if (taken < 0) return 1;
      continue;
    }
    std::fprintf(stderr, "fieldloop snapshot: unexpected argument %s\n\n%s", args[i].c_str(),
                 kUsage);
    return 1;
  }
  return fieldloop::cli::RunSnapshot(o, stdout, stderr);
}

int ImportPlan(const std::vector<std::string>& args) {
  fieldloop::cli::ImportPlanOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    if (TakeFlag(args, i, "server", &o.server) || TakeFlag(args, i, "initiative", &o.initiative) ||
        TakeFlag(args, i, "out", &o.out) || TakeFlag(args, i, "data_dir", &o.data_dir) ||
        TakeTransportFlag(args, i, &o.transport)) {
      continue;
    }
    if (const int taken = TakeConnectTimeout("import-plan", args, i, &o.connect_timeout_s)) {
      if (taken < 0) return 1;
      continue;
    }
    if (absl::StartsWith(args[i], "--") || !o.file.empty()) {
      std::fprintf(stderr, "fieldloop import-plan: unexpected argument %s\n\n%s", args[i].c_str(),
                   kUsage);
      return 1;
    }
    o.file = args[i];
  }
  return fieldloop::cli::RunImportPlan(o, stdout, stderr);
}

// Parses the flags of themes, theme and watch; `positional` receives a non-flag argument
// (at most one). Returns false after printing the error.
bool ThemesFlags(const char* command, const std::vector<std::string>& args,
                 fieldloop::cli::ThemesOptions* o, std::string* positional) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string limit, from;
    if (TakeFlag(args, i, "server", &o->server) ||
        TakeFlag(args, i, "initiative", &o->initiative) || TakeFlag(args, i, "as_of", &o->as_of) ||
        TakeFlag(args, i, "region", &o->region) || TakeFlag(args, i, "segment", &o->segment) ||
        TakeFlag(args, i, "source", &o->source) || TakeFlag(args, i, "since", &o->since) ||
        TakeFlag(args, i, "order", &o->order) || TakeTransportFlag(args, i, &o->transport)) {
      continue;
    }
    if (args[i] == "--json") {
      o->json = true;
      continue;
    }
    if (TakeFlag(args, i, "limit", &limit)) {
      if (!absl::SimpleAtoi(limit, &o->limit) || o->limit < 0) {
        std::fprintf(stderr, "fieldloop %s: --limit '%s' is not a count\n", command, limit.c_str());
        return false;
      }
      continue;
    }
    if (TakeFlag(args, i, "from_version", &from)) {
      if (!absl::SimpleAtoi(from, &o->from_version) || o->from_version < 0) {
        std::fprintf(stderr, "fieldloop %s: --from_version '%s' is not a version\n", command,
                     from.c_str());
        return false;
      }
      continue;
    }
    if (const int taken = TakeConnectTimeout(command, args, i, &o->connect_timeout_s)) {
      if (taken < 0) return false;
      continue;
    }
    if (positional != nullptr && !absl::StartsWith(args[i], "--") && positional->empty()) {
      *positional = args[i];
      continue;
    }
    std::fprintf(stderr, "fieldloop %s: unexpected argument %s\n\n%s", command, args[i].c_str(),
                 kUsage);
    return false;
  }
  return true;
}

int Themes(const std::vector<std::string>& args) {
  fieldloop::cli::ThemesOptions o;
  if (!ThemesFlags("themes", args, &o, nullptr)) return 1;
  return fieldloop::cli::RunListThemes(o, stdout, stderr);
}

int Theme(const std::vector<std::string>& args) {
  fieldloop::cli::ThemesOptions o;
  std::string id;
  if (!ThemesFlags("theme", args, &o, &id)) return 1;
  if (!id.empty() && (!absl::SimpleAtoi(id, &o.theme_id) || o.theme_id < 0)) {
    std::fprintf(stderr, "fieldloop theme: '%s' is not a theme id\n", id.c_str());
    return 1;
  }
  return fieldloop::cli::RunGetTheme(o, stdout, stderr);
}

int Watch(const std::vector<std::string>& args) {
  fieldloop::cli::ThemesOptions o;
  if (!ThemesFlags("watch", args, &o, nullptr)) return 1;
  return fieldloop::cli::RunWatchThemes(o, stdout, stderr);
}

int Backup(const std::vector<std::string>& args) {
  fieldloop::cli::BackupOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    if (TakeFlag(args, i, "server", &o.server) || TakeFlag(args, i, "name", &o.name) ||
        TakeFlag(args, i, "data_dir", &o.data_dir) || TakeFlag(args, i, "to", &o.to) ||
        TakeTransportFlag(args, i, &o.transport)) {
      continue;
    }
    if (const int taken = TakeConnectTimeout("backup", args, i, &o.connect_timeout_s)) {
      if (taken < 0) return 1;
      continue;
    }
    std::fprintf(stderr, "fieldloop backup: unexpected argument %s\n\n%s", args[i].c_str(), kUsage);
    return 1;
  }
  return fieldloop::cli::RunBackup(o, stdout, stderr);
}

int Forget(const std::vector<std::string>& args) {
  fieldloop::cli::ForgetOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string id;
    if (TakeFlag(args, i, "record_id", &id)) {
      o.record_ids.push_back(id);
      continue;
    }
    if (TakeFlag(args, i, "server", &o.server) || TakeFlag(args, i, "initiative", &o.initiative) ||
        TakeFlag(args, i, "rep_id", &o.rep_id) || TakeTransportFlag(args, i, &o.transport)) {
      continue;
    }
    if (const int taken = TakeConnectTimeout("forget", args, i, &o.connect_timeout_s)) {
      if (taken < 0) return 1;
      continue;
    }
    std::fprintf(stderr, "fieldloop forget: unexpected argument %s\n\n%s", args[i].c_str(), kUsage);
    return 1;
  }
  return fieldloop::cli::RunForget(o, stdout, stderr);
}

int Restore(const std::vector<std::string>& args) {
  fieldloop::cli::RestoreOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    if (TakeFlag(args, i, "from", &o.from) || TakeFlag(args, i, "data_dir", &o.data_dir)) {
      continue;
    }
    std::fprintf(stderr, "fieldloop restore: unexpected argument %s\n\n%s", args[i].c_str(),
                 kUsage);
    return 1;
  }
  return fieldloop::cli::RunRestore(o, stdout, stderr);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 1 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "push") return Push(args);
  if (command == "eval") return Eval(args);
  if (command == "run") return Run(args);
  if (command == "snapshot") return Snapshot(args);
  if (command == "import-plan") return ImportPlan(args);
  if (command == "themes") return Themes(args);
  if (command == "theme") return Theme(args);
  if (command == "watch") return Watch(args);
  if (command == "backup") return Backup(args);
  if (command == "restore") return Restore(args);
  if (command == "forget") return Forget(args);
  std::fprintf(stderr, "fieldloop: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 1;
}
