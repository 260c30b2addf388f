#pragma once

namespace flowtop::app {

/// The whole program: parses the command line, checks privileges, sets up kernel settings, runs the
/// collector and the output, restores everything on every exit path. Returns the exit status.
/// Main thread.
int run(int argc, char** argv);

}  // namespace flowtop::app
