#include "socketio/recovery_log.hpp"

#include <algorithm>
#include <charconv>

#include "engineio/id_generator.hpp"

namespace sio::socketio {

namespace {

/// Bounds of an offset a client sends back: far above any real cluster.
constexpr std::size_t max_offset_length = 2048;
constexpr std::size_t max_offset_origins = 64;

/// An origin stays in the vector this long after its last event: by then
/// no log holds its events, so forgetting it cannot replay anything twice.
constexpr auto origin_grace = std::chrono::minutes{1};

bool is_origin_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

bool matches(const std::set<std::string>& rooms, const std::set<std::string>& except,
             const std::vector<std::string>& socket_rooms) {
  // Node's shouldIncludePacket(): in one of the rooms (or a namespace-wide
  // event), and in none of the excluded ones.
  bool included = rooms.empty();
  for (auto& r : socket_rooms) {
    if (except.count(r))
      return false;
    included = included || rooms.count(r) > 0;
  }
  return included;
}

} // namespace

std::string make_origin_id() {
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  unsigned char bytes[8];
  engineio::random_bytes(bytes, sizeof bytes);
  std::string out;
  for (auto b : bytes)
    out += digits[b % 36];
  return out;
}

std::string encode_offset(const offset_vector& v) {
  std::string out;
  for (auto& [origin, seq] : v) {
    if (!out.empty())
      out += '-';
    out += origin;
    out += '.';
    out += std::to_string(seq);
  }
  return out;
}

std::optional<offset_vector> decode_offset(std::string_view text) {
  if (text.empty() || text.size() > max_offset_length || text.back() == '-')
    return std::nullopt;
  offset_vector v;
  while (!text.empty()) {
    auto end = std::min(text.find('-'), text.size());
    auto item = text.substr(0, end);
    text.remove_prefix(end == text.size() ? end : end + 1);
    auto dot = item.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot + 1 == item.size())
      return std::nullopt;
    auto origin = item.substr(0, dot);
    if (!std::all_of(origin.begin(), origin.end(), is_origin_char))
      return std::nullopt;
    auto digits = item.substr(dot + 1);
    std::uint64_t seq = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
    if (ec != std::errc{} || ptr != digits.data() + digits.size())
      return std::nullopt;
    if (!v.emplace(std::string{origin}, seq).second || v.size() > max_offset_origins)
      return std::nullopt;
  }
  return v;
}

bool is_recoverable_reason(const std::string& reason) {
  // Node's RECOVERABLE_DISCONNECT_REASONS: the client did not choose to leave.
  return reason == "transport error" || reason == "transport close" || reason == "forced close"
         || reason == "ping timeout" || reason == "server shutting down"
         || reason == "forced server close";
}

recovery_log::recovery_log(std::string origin, recovery_options opts)
  : origin_(std::move(origin)), opts_(opts) {
}

std::string recovery_log::advance(const std::string& origin, std::uint64_t seq,
                                  clock::time_point now) {
  auto& o = origins_[origin];
  if (o.first == 0)
    o.first = seq;
  o.delivered = std::max(o.delivered, seq);
  o.last_seen = now;
  offset_vector v;
  for (auto& [name, state] : origins_)
    v.emplace(name, state.delivered);
  return encode_offset(v);
}

void recovery_log::append(const std::string& origin, std::uint64_t seq,
                          std::set<std::string> rooms, std::set<std::string> except, bool local,
                          packets encoded, clock::time_point now) {
  std::size_t bytes = 0;
  for (auto& p : encoded)
    bytes += p->wire().size();
  bytes_ += bytes;
  events_.push_back(event{origin, seq, std::move(rooms), std::move(except), local,
                          std::move(encoded), bytes, now, wall_clock_ms()});
  while (!events_.empty()
         && (events_.size() > opts_.max_log_events || bytes_ > opts_.max_log_bytes))
    drop_oldest_event();
}

void recovery_log::drop_oldest_event() {
  auto& e = events_.front();
  auto& o = origins_[e.origin];
  o.dropped = std::max(o.dropped, e.seq);
  bytes_ -= e.bytes;
  events_.pop_front();
}

void recovery_log::persist(persisted_session s, clock::time_point now) {
  auto pid = s.pid;
  sessions_[pid] = stored_session{std::move(s), now};
  session_order_.emplace_back(now, pid);
  while (sessions_.size() > opts_.max_sessions && !session_order_.empty()) {
    auto [at, oldest] = session_order_.front();
    session_order_.pop_front();
    auto i = sessions_.find(oldest);
    if (i != sessions_.end() && i->second.at == at)
      sessions_.erase(i);
  }
}

std::optional<persisted_session> recovery_log::take(const std::string& pid,
                                                    const std::string& offset,
                                                    clock::time_point now) {
  auto i = sessions_.find(pid);
  if (i == sessions_.end())
    return std::nullopt;
  auto stored = std::move(i->second);
  sessions_.erase(i);
  if (now - stored.at > opts_.max_disconnection_duration || !replayable_since(offset))
    return std::nullopt;
  replicas_.erase(pid); // restored here: a copy elsewhere is stale
  return std::move(stored.state);
}

bool recovery_log::replayable_since(const std::string& offset) const {
  auto since = decode_offset(offset);
  if (!since)
    return false;
  for (auto& [origin, state] : origins_) {
    auto j = since->find(origin);
    if (state.dropped > (j == since->end() ? 0 : j->second))
      return false;
  }
  return true;
}

void recovery_log::keep_replica(persisted_session s, const std::string& owner, replica_kind kind,
                                clock::time_point now) {
  auto i = replicas_.find(s.pid);
  if (i != replicas_.end() && i->second.state.generation > s.generation)
    return; // an older owner's late message
  if (kind == replica_kind::forget) {
    if (i != replicas_.end())
      replicas_.erase(i);
    return;
  }
  bool restorable = kind == replica_kind::disconnected;
  if (i == replicas_.end()) {
    if (replicas_.size() >= opts_.max_replicas)
      return; // bounded: this socket is not recoverable should its node die
    auto pid = s.pid;
    replicas_.emplace(std::move(pid), replica{std::move(s), owner, restorable, now});
    return;
  }
  auto& r = i->second;
  // Kept while restorable: the window started when it first became so.
  bool was_restorable = r.restorable && r.owner == owner;
  r.state = std::move(s);
  r.owner = owner;
  r.restorable = restorable;
  if (!was_restorable || !restorable)
    r.at = now;
}

std::string recovery_log::replica_owner(const std::string& pid) const {
  auto i = replicas_.find(pid);
  return i == replicas_.end() ? std::string{} : i->second.owner;
}

void recovery_log::owner_gone(const std::string& owner, clock::time_point now) {
  for (auto& [pid, r] : replicas_)
    if (r.owner == owner && !r.restorable) {
      r.restorable = true;
      r.at = now;
    }
}

std::optional<persisted_session> recovery_log::take_replica(const std::string& pid,
                                                            const std::string& offset,
                                                            bool owner_gone,
                                                            clock::time_point now) {
  auto i = replicas_.find(pid);
  if (i == replicas_.end())
    return std::nullopt;
  if (!i->second.restorable && !owner_gone)
    return std::nullopt; // live on its owner: a second connection gets no copy
  auto r = std::move(i->second);
  replicas_.erase(i);
  if ((r.restorable && now - r.at > opts_.max_disconnection_duration)
      || !replayable_since(offset))
    return std::nullopt;
  r.state.moved = true;
  return std::move(r.state);
}

std::vector<logged_event> recovery_log::missed(const offset_vector& since,
                                               const std::vector<std::string>& rooms,
                                               which kind, std::int64_t born_ms) const {
  std::vector<logged_event> out;
  for (auto& e : events_) {
    auto j = since.find(e.origin);
    if ((j != since.end() && e.seq <= j->second) || (j == since.end() && e.at_ms < born_ms) || (kind == which::only_local && !e.local)
        || (kind == which::not_local && e.local))
      continue;
    if (matches(e.rooms, e.except, rooms))
      out.push_back(logged_event{e.origin, e.seq, e.encoded});
  }
  return out;
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

bool recovery_log::covers(const std::string& offset) const {
  auto since = decode_offset(offset);
  if (!since)
    return false;
  for (auto& [origin, state] : origins_) {
    auto j = since->find(origin);
    auto needed = (j == since->end() ? 0 : j->second) + 1;
    if (state.first > needed)
      return false;
  }
  return true;
}

std::vector<logged_event> merge_by_origin(std::vector<logged_event> mine,
                                          std::vector<logged_event> theirs) {
  std::set<std::pair<std::string, std::uint64_t>> have;
  for (auto& m : mine)
    have.emplace(m.origin, m.seq);
  for (auto& e : theirs) {
    if (have.count({e.origin, e.seq}))
      continue;
    auto later = std::find_if(mine.begin(), mine.end(), [&](const logged_event& m) {
      return m.origin == e.origin && m.seq > e.seq;
    });
    mine.insert(later, std::move(e));
  }
  return mine;
}

void recovery_log::expire(clock::time_point now) {
  auto window = opts_.max_disconnection_duration;
  while (!events_.empty() && now - events_.front().at > window)
    drop_oldest_event();
  while (!session_order_.empty() && now - session_order_.front().first > window) {
    auto [at, pid] = session_order_.front();
    session_order_.pop_front();
    auto i = sessions_.find(pid);
    if (i != sessions_.end() && i->second.at == at)
      sessions_.erase(i);
  }
  // A sweep over every replica, so at most once a second (expire() runs per event).
  if (now - last_replica_sweep_ >= std::chrono::seconds{1}) {
    last_replica_sweep_ = now;
    for (auto i = replicas_.begin(); i != replicas_.end();) {
    if (i->second.restorable && now - i->second.at > window)
        i = replicas_.erase(i);
      else
        ++i;
    }
  }
  for (auto i = origins_.begin(); i != origins_.end();) {
    if (i->first != origin_ && now - i->second.last_seen > window + origin_grace)
      i = origins_.erase(i);
    else
      ++i;
  }
}

} // namespace sio::socketio
