#include "format/run_names.h"

#include <iterator>
#include <random>

namespace mlruns::detail {
namespace {

constexpr std::string_view kAdjectives[] = {
    "agile", "amber", "ample", "ancient", "arctic", "ardent", "astute", "austere", "autumn", "azure",
    "balmy", "bashful", "bold", "bouncy", "brave", "breezy", "bright", "brisk", "bubbly", "calm",
    "candid", "careful", "casual", "cheery", "chilly", "civic", "clever", "cloudy", "coastal", "cosmic",
    "cozy", "crisp", "curious", "daring", "dapper", "dashing", "dazzling", "deft", "delicate", "devout",
    "diligent", "dreamy", "dusty", "eager", "earnest", "easy", "elated", "electric", "elegant", "epic",
    "exotic", "fabled", "fair", "faithful", "fancy", "fearless", "feisty", "fervent", "fiery", "flawless",
    "fleet", "fluffy", "fond", "frank", "friendly", "frosty", "gallant", "gentle", "giddy", "gifted",
    "gleeful", "glossy", "golden", "graceful", "grand", "gritty", "hardy", "hasty", "hazy", "hearty",
    "heroic", "honest", "hopeful", "humble", "icy", "ideal", "idle", "jazzy", "jolly", "jovial",
    "joyful", "keen", "kind", "lavish", "lively", "lofty", "loyal", "lucid", "lucky", "lunar",
    "majestic", "mellow", "merry", "mighty", "misty", "modest", "mossy", "nimble", "noble", "novel",
    "placid", "plucky", "polar", "polite", "proud", "quaint", "quick", "quiet", "radiant", "rapid",
    "regal", "robust", "rosy", "rugged", "rustic", "sandy", "serene", "sharp", "shiny", "silent",
    "silky", "sleek", "smooth", "snappy", "snowy", "solar", "sparkly", "spry", "steady", "stellar",
    "stoic", "sturdy", "sunny", "swift", "tender", "thrifty", "tidy", "timely", "tranquil", "trusty",
    "upbeat", "valiant", "vibrant", "vivid", "warm", "wily", "windy", "wise", "witty",
};

constexpr std::string_view kAnimals[] = {
    "albatross", "alpaca", "ant", "antelope", "ape", "armadillo", "badger", "bat", "bear", "beaver",
    "bee", "bison", "boar", "bobcat", "buffalo", "camel", "carp", "cat", "chicken", "chimp",
    "cobra", "cod", "colt", "condor", "coyote", "crab", "crane", "cricket", "crow", "deer",
    "dingo", "dog", "dolphin", "donkey", "dove", "duck", "eagle", "eel", "elk", "emu",
    "falcon", "ferret", "finch", "fish", "flamingo", "fly", "fox", "frog", "gazelle", "gecko",
    "gerbil", "gnu", "goat", "goose", "gopher", "gull", "hare", "hawk", "hen", "heron",
    "hippo", "horse", "hound", "hyena", "ibis", "iguana", "impala", "jackal", "jay", "kite",
    "koala", "lamb", "lark", "lemur", "lion", "lizard", "llama", "lynx", "mole", "moose",
    "moth", "mouse", "mule", "newt", "otter", "owl", "ox", "panda", "panther", "parrot",
    "pelican", "penguin", "pig", "pigeon", "pike", "pony", "puma", "quail", "rabbit", "ram",
    "rat", "raven", "robin", "salmon", "seal", "shark", "sheep", "shrew", "skunk", "sloth",
    "snail", "snake", "sparrow", "squid", "stork", "swan", "tapir", "tiger", "toad", "trout",
    "turtle", "wasp", "whale",
};

}  // namespace

std::size_t run_name_adjective_count() { return std::size(kAdjectives); }
std::size_t run_name_animal_count() { return std::size(kAnimals); }
std::string_view run_name_adjective(std::size_t i) { return kAdjectives[i]; }
std::string_view run_name_animal(std::size_t i) { return kAnimals[i]; }

std::string generate_run_name() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> adj(0, std::size(kAdjectives) - 1);
  std::uniform_int_distribution<std::size_t> animal(0, std::size(kAnimals) - 1);
  std::uniform_int_distribution<int> number(0, 1000);
  std::string name;
  for (int attempt = 0; attempt < 10; ++attempt) {
    name = std::string(kAdjectives[adj(rng)]) + "-" + std::string(kAnimals[animal(rng)]) + "-" +
           std::to_string(number(rng));
    if (name.size() <= 20) return name;
  }
  name.resize(20);
  return name;
}

}  // namespace mlruns::detail
