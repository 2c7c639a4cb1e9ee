// Command-line errors of the mlruns CLI (see usage.h).
#include "usage.h"

#include <algorithm>
#include <iostream>
#include <limits>
#include <regex>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli_common.h"
#include "exit_codes.h"

namespace mlruns::cli {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus the swap of two neighbours
  // ("strat" -> "start" is one edit). Rows of (|b|+1), three kept.
  const std::size_t n = b.size();
  std::vector<std::size_t> prev2(n + 1), prev(n + 1), cur(n + 1);
  for (std::size_t j = 0; j <= n; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= n; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[n];
}

std::string suggest(std::string_view word, const std::vector<std::string>& candidates) {
  // Dashes do not count toward the length that sets the tolerance.
  std::string_view bare = word;
  while (!bare.empty() && bare.front() == '-') bare.remove_prefix(1);
  const std::size_t limit = bare.size() <= 4 ? 1 : bare.size() <= 8 ? 2 : 3;
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // Never a neighbour as far away as the word is long: "-V" is not "-h".
  if (best_distance <= limit && best_distance < bare.size()) return best;
  // A unique candidate that starts with the word (at least 3 characters of it).
  if (bare.size() < 3) return {};
  std::string prefixed;
  for (const std::string& c : candidates) {
    if (c.size() > word.size() && c.compare(0, word.size(), word) == 0) {
      if (!prefixed.empty()) return {};
      prefixed = c;
    }
  }
  return prefixed;
}

std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  for (const CLI::App* p = app.get_parent(); p != nullptr; p = p->get_parent()) path = p->get_name() + " " + path;
  return path;
}

const CLI::App& parsed_verb(const CLI::App& app) {
  const CLI::App* leaf = &app;
  for (;;) {
    const std::vector<CLI::App*> subs = leaf->get_subcommands();
    if (subs.empty()) return *leaf;
    leaf = subs.front();
  }
}

std::vector<const CLI::App*> visible_verbs(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
}

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      if (!o->nonpositional()) continue;
      for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
      for (const std::string& s : o->get_snames()) names.push_back("-" + s);
    }
  }
  return names;
}

namespace {

std::vector<std::string> verb_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* s : visible_verbs(app)) names.push_back(s->get_name());
  return names;
}

// The command whose arguments argv[index] is among: the root, then each
// parsed verb named before it.
const CLI::App* context_of(const CLI::App& root, const char* const* argv, int index) {
  const CLI::App* current = &root;
  for (int j = 1; j < index; ++j) {
    for (const CLI::App* s : current->get_subcommands()) {
      if (s->get_name() == argv[j]) {
        current = s;
        break;
      }
    }
  }
  return current;
}

std::string see_help(const CLI::App& app) { return "see '" + command_path(app) + " --help'"; }

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// The option given more than once on the command line, "" if none.
std::string repeated_option(const CLI::App& leaf, int argc, const char* const* argv) {
  const std::vector<std::string> names = option_names(leaf);
  std::vector<std::string> seen;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    word = word.substr(0, word.find('='));
    if (std::find(names.begin(), names.end(), word) == names.end()) continue;
    if (std::find(seen.begin(), seen.end(), word) != seen.end()) return word;
    seen.push_back(word);
  }
  return {};
}

// True if the comma-list option `name` of `leaf` was given a value of only
// commas and spaces (",": CLI11 drops the empty items and then finds no
// value), as `--name VALUE` or `--name=VALUE`.
bool given_only_commas(const CLI::App& leaf, const std::string& name, int argc, const char* const* argv) {
  const CLI::Option* option = leaf.get_option_no_throw(name);
  if (option == nullptr || option->get_delimiter() != ',') return false;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    const std::size_t eq = word.find('=');
    std::string value;
    if (eq != std::string::npos && word.rfind("--", 0) == 0 && option->check_name(word.substr(0, eq)))
      value = word.substr(eq + 1);
    else if (option->check_name(word) && i + 1 < argc)
      value = argv[i + 1];
    else
      continue;
    if (!value.empty() && value.find_first_not_of(", \t") == std::string::npos) return true;
  }
  return false;
}

// CLI11's wording of a bad option value, in plain words; "" if `what` is
// none of these:
//   "--max: 1 required TEXT missing"                -> "--max needs a value"
//   "--status: 1 required TEXT:{A,B} missing"       -> "--status needs one of A, B"
//   "--max: At Most 1 required but received 2"      -> "--max given twice"
//   "--view: delted not in {active,deleted,all}"    -> "'delted' is not a --view value (active, deleted, all);
//                                                       did you mean 'deleted'?"
// The option or positional `name` ("--width", "VERSION") of `leaf` or a
// level above it (globals fall through), or nullptr.
const CLI::Option* find_option(const CLI::App& leaf, const std::string& name) {
  for (const CLI::App* a = &leaf; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      if (o->get_name() == name || o->check_name(name)) return o;
    }
  }
  return nullptr;
}

// What a value of `option` must be, from its CLI11 type ("INT", "UINT",
// "FLOAT", ...): "an integer", "a whole number (0 or more)", "a number";
// for a flag (--json=abc), "true or false".
std::string kind_of(const CLI::Option* option) {
  if (option != nullptr && option->get_expected_max() == 0) return "true or false (a flag needs no value)";
  std::string type = option == nullptr ? "" : option->get_type_name();
  type = type.substr(0, type.find(':'));
  if (type == "INT") return "an integer";
  if (type == "UINT") return "a whole number (0 or more)";
  if (type == "FLOAT" || type == "NUMBER") return "a number";
  return "a valid value";
}

std::string plain_value_error(const CLI::App& leaf, const std::string& what, int argc, const char* const* argv) {
  std::smatch m;
  // Conversions and ranges (every number option and positional, e.g.
  // `models set-alias m a b`, `plot --width abc`):
  //   "Could not convert: VERSION = b"                 -> "VERSION: 'b' is not an integer"
  //   "--width: Value abc not in range 30 to 10000"     -> "--width: 'abc' is not an integer from 30 to 10000"
  static const std::regex convert(R"(^Could not convert: (\S+) = (.*)$)");
  static const std::regex range(R"(^(\S+): Value (.*) not in range (\S+) to (\S+)$)");
  static const std::regex true_false(R"(^(\S+): Should be true/false or a number$)");
  static const std::regex required(R"(^(\S+) is required$)");
  static const std::regex excludes(R"(^(\S+) excludes (\S+)$)");
  static const std::regex requires_(R"(^(\S+) requires (\S+)$)");
  if (std::regex_match(what, m, convert))
    return m[1].str() + ": '" + m[2].str() + "' is not " + kind_of(find_option(leaf, m[1]));
  if (std::regex_match(what, m, range)) {
    const std::string kind = kind_of(find_option(leaf, m[1]));
    return m[1].str() + ": '" + m[2].str() + "' is not " + (kind == "a number" ? kind : std::string("an integer")) +
           " from " + m[3].str() + " to " + m[4].str();
  }
  if (std::regex_match(what, m, true_false)) return m[1].str() + " takes no value (it is a flag)";
  if (std::regex_match(what, m, required)) return "needs " + m[1].str() + "; " + see_help(leaf);
  if (std::regex_match(what, m, excludes))
    return m[1].str() + " and " + m[2].str() + " cannot be given together; " + see_help(leaf);
  if (std::regex_match(what, m, requires_)) return m[1].str() + " needs " + m[2].str() + " as well; " + see_help(leaf);
  static const std::regex count(R"(^Expected (exactly|at least) (\d+) arguments to (\S+), got (\d+)$)");
  if (std::regex_match(what, m, count))
    return m[3].str() + " takes " + (m[1] == "exactly" ? "" : "at least ") + m[2].str() + " values, got " + m[4].str();
  static const std::regex missing(R"(^(\S+): \d+ required (\S+) missing$)");
  static const std::regex at_most(R"(^(?:(\S+): )?At Most \d+ required but received (\d+)$)");
  static const std::regex not_in(R"(^(\S+): (.*) not in \{(.*)\}$)");
  auto listed = [](const std::string& set) {
    std::vector<std::string> items;
    std::string item;
    std::istringstream in(set);
    while (std::getline(in, item, ',')) items.push_back(item);
    return items;
  };
  if (std::regex_match(what, m, missing)) {
    if (given_only_commas(leaf, m[1].str(), argc, argv)) return empty_list_error(m[1].str());
    const std::string type = m[2];
    const std::size_t brace = type.find(":{");
    if (brace != std::string::npos && type.back() == '}')
      return m[1].str() + " needs one of " + join(listed(type.substr(brace + 2, type.size() - brace - 3)));
    return m[1].str() + " needs a value";
  }
  if (std::regex_match(what, m, at_most)) {
    const std::string name = m[1].matched ? m[1].str() : repeated_option(leaf, argc, argv);
    const std::string times = m[2] == "2" ? "twice" : m[2].str() + " times";
    return (name.empty() ? std::string("an option") : name) + " given " + times + "; give it once";
  }
  if (std::regex_match(what, m, not_in)) {
    const std::vector<std::string> values = listed(m[3]);
    const std::string near = suggest(m[2].str(), values);
    return "'" + m[2].str() + "' is not a " + m[1].str() + " value (" + join(values) + ")" +
           (near.empty() ? "" : "; did you mean '" + near + "'?");
  }
  return {};
}

// The error for `word`, which no verb or option of `at` is: an unknown
// option or verb (with the nearest name, if one is near) or one argument
// too many.
std::string unknown_word(const CLI::App& at, const std::string& word) {
  const std::string where = at.get_parent() == nullptr ? "" : " for '" + command_path(at) + "'";
  if (word.size() > 1 && word[0] == '-') {
    const std::string name = word.substr(0, word.find('='));
    const std::string near = suggest(name, option_names(at));
    if (near == name)  // a real option where no option is taken (after '--', or as a value)
      return "option '" + name + "' is not taken here" + where + "; " + see_help(at);
    return "unknown option '" + name + "'" + where +
           (near.empty() ? "; " + see_help(at) : "; did you mean '" + near + "'?");
  }
  if (!visible_verbs(at).empty()) {
    const std::string near = suggest(word, verb_names(at));
    return "unknown verb '" + word + "'" + where +
           (near.empty() ? "; " + see_help(at) : "; did you mean '" + near + "'?");
  }
  return "unexpected argument '" + word + "'" + where + "; " + see_help(at);
}

// The verb of `at` named `word`, or nullptr.
const CLI::App* verb_named(const CLI::App& at, std::string_view word) {
  for (const CLI::App* s : at.get_subcommands([](const CLI::App*) { return true; }))
    if (s->get_name() == word) return s;
  return nullptr;
}

}  // namespace

int rewrite_help(const CLI::App& app, std::vector<const char*>& args) {
  // `help` where a verb is expected: after the verbs that lead to it.
  const CLI::App* at = &app;
  std::size_t h = 1;
  for (; h < args.size(); ++h) {
    if (std::string_view(args[h]) == "help" && !visible_verbs(*at).empty() && verb_named(*at, "help") == nullptr) break;
    at = verb_named(*at, args[h]);
    if (at == nullptr) return -1;  // not a help request: parsed as usual
  }
  if (h == args.size()) return -1;
  // The words after it name the verb to explain, level by level; options
  // there (`help -h`, `help models register --json`) ask for nothing more.
  std::vector<const char*> verbs;
  for (std::size_t j = h + 1; j < args.size(); ++j) {
    if (args[j][0] == '-') continue;
    verbs.push_back(args[j]);
    const CLI::App* next = verb_named(*at, args[j]);
    if (next == nullptr) {
      std::cerr << app.get_name() << ": " << unknown_word(*at, args[j]) << '\n';
      return kExitUsage;
    }
    at = next;
  }
  args.resize(h);
  args.insert(args.end(), verbs.begin(), verbs.end());
  args.push_back("--help");
  return -1;
}

int report_usage_error(CLI::App& app, const CLI::ParseError& e, int argc, const char* const* argv) {
  if (dynamic_cast<const CLI::Success*>(&e) != nullptr) return app.exit(e);  // --help, --version: stdout, 0
  if (argc <= 1) {
    std::cout << app.help();  // `mlruns` alone: the first screen is the help
    return kExitUsage;
  }

  // The first word no level took: a misspelled verb or option, or one too many.
  const std::vector<std::string> left = app.remaining(/*recurse=*/true);
  int first = -1;
  for (int i = 1; i < argc && first < 0; ++i) {
    if (std::find(left.begin(), left.end(), argv[i]) != left.end()) first = i;
  }
  std::string message;
  if (first >= 0) {
    message = unknown_word(*context_of(app, argv, first), argv[first]);
  } else {
    const CLI::App& leaf = parsed_verb(app);
    const std::string what = e.what();
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && what.rfind("A subcommand", 0) == 0) {
      message = "'" + command_path(leaf) + "' needs a verb: " + join(verb_names(leaf)) + "; " + see_help(leaf);
    } else {
      const std::string plain = plain_value_error(leaf, what, argc, argv);
      message = (leaf.get_parent() == nullptr ? "" : command_path(leaf).substr(app.get_name().size() + 1) + ": ") +
                (plain.empty() ? what + "; " + see_help(leaf) : plain);
    }
  }
  std::cout.flush();
  std::cerr << app.get_name() << ": " << message << '\n';
  return kExitUsage;
}

}  // namespace mlruns::cli
