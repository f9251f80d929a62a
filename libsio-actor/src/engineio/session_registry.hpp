// sid -> session actor, shared by the I/O threads (lookups on every polling
// request) and the session actors (which remove themselves when closed).
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>

namespace sio::engineio {

class session_registry {
public:
  void add(const std::string& sid, caf::actor session) {
    std::lock_guard<std::mutex> guard{mutex_};
    sessions_[sid] = std::move(session);
  }
  void remove(const std::string& sid) {
    std::lock_guard<std::mutex> guard{mutex_};
    sessions_.erase(sid);
  }
  std::optional<caf::actor> find(const std::string& sid) const {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = sessions_.find(sid);
    if (i == sessions_.end())
      return std::nullopt;
    return i->second;
  }
  std::size_t size() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return sessions_.size();
  }
  template <class F>
  void for_each(F f) const {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto& kv : sessions_)
      f(kv.first, kv.second);
  }

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, caf::actor> sessions_;
};

} // namespace sio::engineio
