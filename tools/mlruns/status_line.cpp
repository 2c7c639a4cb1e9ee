// The progress line of the mlruns CLI (see status_line.h).
#include "status_line.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "mlruns/text.h"

namespace mlruns::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct State {
  std::mutex mutex;
  std::condition_variable wake;
  std::thread ticker;
  bool running = false;
  bool stopping = false;
  bool drawn = false;       // the line is on the terminal now
  bool line_start = true;   // the last output ended a line: the line may go below it
  std::string what;         // the verb
  std::string text;         // from Progress; "" for the generic text
  Clock::time_point start;
  Clock::time_point last_draw;
};

State& state() {
  static State* s = new State;  // never destroyed: used until exit
  return *s;
}

void write_all(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(STDERR_FILENO, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return;  // a closed terminal: nothing to show progress on
    done += static_cast<std::size_t>(n);
  }
}

void erase_locked(State& s) {
  if (!s.drawn) return;
  write_all("\r\033[K");
  s.drawn = false;
}

void draw_locked(State& s) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - s.start).count();
  std::string line = "mlruns: " + (s.text.empty() ? s.what + ": working" : s.text) + " (" + std::to_string(secs) + " s)";
  // One terminal row, or '\r' would not go back to its start.
  winsize ws{};
  const std::size_t cols = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col - 1 : 79;
  write_all("\r\033[K" + fit_width(terminal_safe(line), cols));
  s.drawn = true;
  s.last_draw = Clock::now();
}

void tick(State& s) {
  std::unique_lock lock(s.mutex);
  while (!s.stopping) {
    s.wake.wait_for(lock, std::chrono::milliseconds(250));
    if (s.stopping) break;
    const auto now = Clock::now();
    if (now - s.start < std::chrono::seconds(1) || !s.line_start) continue;
    if (!s.drawn || now - s.last_draw >= std::chrono::milliseconds(500)) draw_locked(s);
  }
}

}  // namespace

void StatusLine::start(std::string what, bool enabled) {
  if (!enabled || ::isatty(STDERR_FILENO) == 0) return;
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (s.running) return;
  s.what = std::move(what);
  s.start = Clock::now();
  s.running = true;
  s.ticker = std::thread([&s] { tick(s); });
}

void StatusLine::stop() {
  State& s = state();
  {
    std::lock_guard lock(s.mutex);
    if (!s.running) return;
    s.stopping = true;
    erase_locked(s);
  }
  s.wake.notify_all();
  s.ticker.join();
  std::lock_guard lock(s.mutex);
  s.running = false;
  s.stopping = false;
}

void StatusLine::set_text(std::string text) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.text = std::move(text);
}

void StatusLine::hidden_while(const std::function<void()>& write, bool ends_line) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.running) {
    write();
    return;
  }
  erase_locked(s);
  write();
  s.line_start = ends_line;
}

}  // namespace mlruns::cli
