// The name a container's namespace is shown by (OWNER "curl@web"), from a process's cgroup file.
#include "enrich/foreign_netns.hpp"

#include <gtest/gtest.h>

namespace flowtop::enrich {
namespace {

TEST(CgroupLabel, DockerPodmanContainerdCrioAndLxcNames) {
  const std::string id = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081";
  EXPECT_EQ(cgroup_label("0::/system.slice/docker-" + id + ".scope\n"), "3f2a1b4c5d6e");
  EXPECT_EQ(cgroup_label("0::/machine.slice/libpod-" + id + ".scope/container\n"), "3f2a1b4c5d6e");
  EXPECT_EQ(cgroup_label("0::/machine.slice/libpod-" + id + ".scope\n"), "3f2a1b4c5d6e");
  EXPECT_EQ(cgroup_label("0::/kubepods.slice/kubepods-besteffort.slice/cri-containerd-" + id +
                         ".scope\n"),
            "3f2a1b4c5d6e");
  EXPECT_EQ(cgroup_label("0::/kubepods/crio-" + id + ".scope\n"), "3f2a1b4c5d6e");
  EXPECT_EQ(cgroup_label("0::/lxc.payload.web\n"), "web");
  EXPECT_EQ(cgroup_label("0::/docker/" + id + "\n"), "3f2a1b4c5d6e");  // no systemd
  EXPECT_EQ(cgroup_label("12:pids:/lxc/db\n1:name=systemd:/lxc/db\n0::/lxc/db\n"), "db");
}

TEST(CgroupLabel, NoContainerIsNoName) {
  EXPECT_EQ(cgroup_label("0::/\n"), "");
  EXPECT_EQ(cgroup_label("0::/user.slice/user-1000.slice/session-2.scope\n"), "");
  EXPECT_EQ(cgroup_label(""), "");
  EXPECT_EQ(cgroup_label("garbage without colons"), "");
  EXPECT_EQ(cgroup_label("0::/system.slice/docker-notanid.scope\n"), "notanid");
}

}  // namespace
}  // namespace flowtop::enrich
