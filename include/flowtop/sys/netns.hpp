#pragma once

#include <string>

namespace flowtop::sys {

/// Moves the calling thread into another network namespace (--netns): `spec` is a name kept by
/// `ip netns` (/run/netns/NAME), a path to a namespace file, or a process id (/proc/PID/ns/net).
/// Call it before any other thread starts: threads created afterwards inherit the namespace, and
/// every socket, /proc/net and /proc/sys/net read then belong to it. Throws std::runtime_error
/// with a message for the user ("no network namespace 'x' (not in /run/netns)").
void enter_netns(const std::string& spec);

}  // namespace flowtop::sys
