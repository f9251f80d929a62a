// sid -> session actor, shared by the I/O threads (lookups on every polling
// request) and the session actors (which remove themselves when closed). It
// also records which sessions are on WebSocket, so a polling request for one
// is refused before it reaches the session (Node's TRANSPORT_MISMATCH), and
// each session's protocol, so a POST body is decoded on the I/O thread.
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
  struct entry {
    caf::actor session;
    bool websocket = false;
    /// Engine.IO protocol revision: 4, or 3 for old clients (allow_eio3).
    int protocol = 4;
  };

  void add(const std::string& sid, caf::actor session, bool websocket = false,
           int protocol = 4) {
    std::lock_guard<std::mutex> guard{mutex_};
    sessions_[sid] = entry{std::move(session), websocket, protocol};
  }
  /// The session's transport is WebSocket now (it upgraded); polling is over.
  void set_websocket(const std::string& sid) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (auto i = sessions_.find(sid); i != sessions_.end())
      i->second.websocket = true;
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
    return i->second.session;
  }
  /// The session with its transport and protocol.
  std::optional<entry> find_entry(const std::string& sid) const {
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
      f(kv.first, kv.second.session);
  }

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> sessions_;
};

} // namespace sio::engineio
