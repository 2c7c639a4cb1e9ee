// Generated run names "<adjective>-<animal>-<n>", as MLflow makes them
// (spec §4.4): n uniform in 0..1000, at most 20 characters (redrawn up to 10
// times, then truncated). The word lists are mlruns' own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mlruns::detail {

std::size_t run_name_adjective_count();
std::size_t run_name_animal_count();
std::string_view run_name_adjective(std::size_t i);
std::string_view run_name_animal(std::size_t i);

// Thread-safe; uses a per-thread random generator.
std::string generate_run_name();

}  // namespace mlruns::detail
