#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace flowtop::core {

template <class Sig>
class FunctionRef;

/// A non-owning, non-allocating reference to a callable; valid only while the callable lives.
template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  // The constraint keeps copies and moves of a FunctionRef on their own constructors: implicit
  // by design (a lambda converts where a FunctionRef is taken), and never chosen over a copy.
  // NOLINTBEGIN(google-explicit-constructor,bugprone-forwarding-reference-overload)
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
           std::is_invocable_r_v<R, F&, Args...>) FunctionRef(F&& f)
  noexcept
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* obj, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(obj))(std::forward<Args>(args)...);
        }) {}
  // NOLINTEND(google-explicit-constructor,bugprone-forwarding-reference-overload)

  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

}  // namespace flowtop::core
