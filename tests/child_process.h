#pragma once
// Runs a piece of a test in a child process (fork), for tests whose failure
// would otherwise take the test binary down with it:
//
//   EXPECT_EQ(kiln_test::in_child([&]() -> std::string {
//     setrlimit(...);                 // process-wide state stays in the child
//     if (bad) return "what went wrong";
//     return "";                      // success
//   }, /*seconds=*/30), "");
//
// The child is killed by SIGALRM after `seconds`, so a regression that hangs
// (a blocking open, an endless loop) fails the test instead of hanging the
// suite; a signal that kills the child (SIGXFSZ, SIGSEGV) fails it too. The
// result is "" when the body returned "", else the body's message, what it
// threw, or how the child died. The body must not start processes of its
// own that outlive it (they would keep the result pipe open).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <functional>
#include <string>

namespace kiln_test {

inline std::string in_child(const std::function<std::string()>& body, unsigned seconds = 30) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe() failed";
  pid_t pid = fork();
  if (pid < 0) return "fork() failed";
  if (pid == 0) {
    close(fds[0]);
    alarm(seconds);
    std::string result;
    try {
      result = body();
    } catch (const std::exception& e) {
      result = std::string("threw: ") + e.what();
    } catch (...) {
      result = "threw a non-standard exception";
    }
    for (size_t done = 0; done < result.size();) {
      ssize_t n = write(fds[1], result.data() + done, result.size() - done);
      if (n <= 0) break;
      done += size_t(n);
    }
    _exit(result.empty() ? 0 : 1);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) out.append(buf, size_t(n));
    else if (n == 0 || errno != EINTR) break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return "the child was killed by signal " + std::to_string(sig) +
           (sig == SIGALRM ? " (timed out after " + std::to_string(seconds) + " s)" : "");
  }
  if (WEXITSTATUS(status) != 0) return out.empty() ? "the child exited with " + std::to_string(WEXITSTATUS(status)) : out;
  return "";
}

}  // namespace kiln_test
