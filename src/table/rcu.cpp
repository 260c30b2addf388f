// liburcu's default (memb) flavour; every table in the process uses it.
#include <urcu.h>

#include "flowtop/core/tsan.hpp"
#include "flowtop/table/flow_table.hpp"

namespace flowtop::table {

using core::liburcu_call;

RcuThread::RcuThread() {
  rcu_register_thread();
}
RcuThread::~RcuThread() {
  rcu_unregister_thread();
}

RcuReadGuard::RcuReadGuard() {
  rcu_read_lock();
}
RcuReadGuard::~RcuReadGuard() {
  rcu_read_unlock();
}

void rcu_barrier_all() {
  liburcu_call([] { rcu_barrier(); });
}

}  // namespace flowtop::table
