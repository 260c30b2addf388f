// measure: runs a command and writes its wall time, user and system CPU time (seconds, to the
// microsecond) and peak resident memory (kB) to a file, as "WALL USER SYS MAXRSS_KB". Like
// /usr/bin/time, but precise enough for a 30 ms dump and with nothing to install.
//
//   measure OUTFILE COMMAND [ARGS...]   (exits with the command's status; 127: it could not run)
//
// Used by bench/run.sh. Not a test.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

namespace {

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: measure OUTFILE COMMAND [ARGS...]\n");
    return 2;
  }
  const double t0 = now();
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("measure: fork");
    return 127;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    std::perror("measure: exec");
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      std::perror("measure: wait4");
      return 127;
    }
  }
  const double wall = now() - t0;
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::perror("measure: open");
    return 127;
  }
  std::fprintf(out, "%.6f %.6f %.6f %ld\n", wall, seconds(ru.ru_utime), seconds(ru.ru_stime),
               ru.ru_maxrss);
  std::fclose(out);
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
