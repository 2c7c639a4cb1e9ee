// Sparse files for the hostile-tree tests (issue 15: a hole costs no disk,
// and must cost no reads or memory either).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace mlruns::testing {

// `head`, then a hole up to byte `apparent`, then `tail`.
inline void write_sparse(const std::filesystem::path& p, std::string_view head, std::uint64_t apparent,
                         std::string_view tail) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size()));
  REQUIRE(::pwrite(fd, tail.data(), tail.size(), static_cast<off_t>(apparent)) == static_cast<ssize_t>(tail.size()));
  ::close(fd);
}

}  // namespace mlruns::testing
