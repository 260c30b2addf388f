#include "flowtop/sys/unique_fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace flowtop::sys {
namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

TEST(UniqueFdTest, UniqueFd_ClosesOnDestruction) {
  int raw = -1;
  {
    const UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    raw = fd.get();
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFdTest, UniqueFd_MoveTransfersOwnership) {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int raw = a.get();
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT: the moved-from state is the contract
  EXPECT_EQ(b.get(), raw);
  UniqueFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(is_open(raw));
  c.reset();
  EXPECT_FALSE(c.valid());
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFdTest, UniqueFd_ResetToTheSameFdKeepsItOpen) {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int raw = a.get();
  a.reset(raw);
  EXPECT_TRUE(is_open(raw));
  EXPECT_EQ(a.release(), raw);
  EXPECT_FALSE(a.valid());
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

TEST(UniqueFdTest, ThrowErrno_CarriesCodeAndContext) {
  try {
    throw_errno(ENOENT, "open /nowhere");
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_EQ(std::string(e.what()), "open /nowhere: No such file or directory");
    return;
  }
  ADD_FAILURE() << "no exception";
}

TEST(UniqueFdTest, ThrowErrno_UsesErrno) {
  errno = EACCES;
  EXPECT_THROW(
      {
        try {
          throw_errno("write x");
        } catch (const std::system_error& e) {
          EXPECT_EQ(e.code().value(), EACCES);
          throw;
        }
      },
      std::system_error);
}

}  // namespace
}  // namespace flowtop::sys
