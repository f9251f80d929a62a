#include "roster.hpp"

#include <algorithm>
#include <chrono>
#include <list>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

namespace chat {

namespace {

using roster_join_atom = caf::atom_constant<caf::atom("chat_join")>;
using roster_leave_atom = caf::atom_constant<caf::atom("chat_leave")>;
using roster_flush_atom = caf::atom_constant<caf::atom("chat_flush")>;
using roster_count_atom = caf::atom_constant<caf::atom("chat_count")>;

using clock = std::chrono::steady_clock;

constexpr auto min_flush_interval = std::chrono::milliseconds{250};
/// The cluster-wide count is refreshed at most this often (one fetch_sockets).
constexpr auto min_count_interval = std::chrono::seconds{2};
/// The page lists the first users by name; above this it shows counts only,
/// and joins and leaves are no longer announced one by one.
constexpr std::size_t max_listed_users = 100;

/// Applies joins and leaves from every socket's actor in one order and sends
/// them on coalesced: at most one "users" (and, in a small chat, one join and
/// one leave notice) per flush interval, which grows with the number of users
/// so that the packets per second stay within the budget.
struct roster_state {
  std::list<std::string> users; // in order of arrival
  std::unordered_map<std::string, std::list<std::string>::iterator> position;
  std::vector<std::string> joined; // since the last flush
  std::vector<std::string> left;
  std::vector<std::string> last_listed; // the names the clients were last sent
  sio::json last_listed_json = sio::json::array();
  std::size_t online = 0; // clients of the whole cluster, last counted
  bool flush_pending = false;
  bool count_pending = false;
  clock::time_point last_flush{};
  static inline const char* name = "sio-chat-roster";
};

std::string describe(const std::vector<std::string>& ids, const std::string& verb) {
  std::string text;
  auto shown = std::min<std::size_t>(ids.size(), 3);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0)
      text += (i + 1 == shown && ids.size() == shown) ? " and " : ", ";
    text += ids[i];
  }
  if (ids.size() > shown)
    text += " and " + std::to_string(ids.size() - shown) + " others";
  return text + " " + verb;
}

sio::json change_notice(const std::string& kind, const std::vector<std::string>& ids,
                        const std::string& verb) {
  sio::json n = sio::json::object();
  n["kind"] = kind;
  n["text"] = describe(ids, verb);
  n["count"] = ids.size();
  sio::json listed = sio::json::array();
  for (std::size_t i = 0; i < ids.size() && i < max_listed_users; ++i)
    listed.push_back(ids[i]);
  n["ids"] = std::move(listed);
  return n;
}

/// Packets per client in one flush: the "users" event, plus up to two
/// notices while the chat is small.
std::size_t packets_per_client(std::size_t users) {
  return users <= max_listed_users ? 3 : 1;
}

/// The "users" event without the names: how many here and in the cluster.
sio::json user_counts(const roster_state& st, bool clustered) {
  sio::json users = sio::json::object();
  users["count"] = st.users.size();
  users["online"] = clustered ? std::max(st.online, st.users.size()) : st.users.size();
  users["truncated"] = st.users.size() > max_listed_users;
  return users;
}

clock::duration flush_interval(std::size_t users, std::size_t budget) {
  auto packets = users * packets_per_client(users);
  auto spread = std::chrono::milliseconds{packets * 1000 / std::max<std::size_t>(budget, 1)};
  return std::max<clock::duration>(min_flush_interval, spread);
}

caf::behavior roster_actor(caf::stateful_actor<roster_state>* self, sio::namespace_handle nsp,
                           roster_options opts) {
  auto flush = [self, nsp, opts] {
    auto& st = self->state;
    auto all = nsp.all(self);
    bool small = st.users.size() <= max_listed_users;
    if (small) {
      // A lone newcomer is not told of their own arrival (the welcome notice
      // did that); several at once each see the others.
      if (st.joined.size() == 1)
        all.except(st.joined.front()).emit("notice", change_notice("join", st.joined, "joined"));
      else if (!st.joined.empty())
        all.emit("notice", change_notice("join", st.joined, "joined"));
      if (!st.left.empty())
        all.emit("notice", change_notice("leave", st.left, "left"));
    }
    std::vector<std::string> listed;
    for (auto i = st.users.begin(); i != st.users.end() && listed.size() < max_listed_users; ++i)
      listed.push_back(*i);
    auto users = user_counts(st, opts.clustered);
    // The names only when they changed: a big chat's count moves all the
    // time, its first hundred names rarely. Newcomers get them with their
    // first update (one broadcast to them, encoded once).
    bool names_changed = listed != st.last_listed;
    if (names_changed) {
      st.last_listed = std::move(listed);
      st.last_listed_json = st.last_listed;
    }
    // Who is online on this node, to this node's clients: every node keeps
    // its own roster ("online" counts the whole cluster).
    auto here = all.local();
    if (small || names_changed) {
      users["users"] = st.last_listed_json;
      here.emit("users", std::move(users));
    } else if (st.joined.empty()) {
      here.emit("users", std::move(users));
    } else {
      here.except(st.joined).emit("users", users);
      users["users"] = st.last_listed_json;
      here.to(st.joined).emit("users", std::move(users));
    }
    st.joined.clear();
    st.left.clear();
    st.last_flush = clock::now();
  };
  auto count = [self, nsp] {
    auto& st = self->state;
    if (st.count_pending)
      return;
    st.count_pending = true;
    nsp.all(self).fetch_sockets([self](std::vector<sio::remote_socket> sockets) {
      self->state.online = sockets.size();
      self->state.count_pending = false;
    });
  };
  auto changed = [self, flush, opts] {
    auto& st = self->state;
    if (st.flush_pending)
      return;
    auto interval = flush_interval(st.users.size(), opts.packets_per_second);
    auto since = clock::now() - st.last_flush;
    if (since >= interval) {
      flush();
      return;
    }
    st.flush_pending = true;
    self->delayed_send(self, interval - since, roster_flush_atom::value);
  };
  if (opts.clustered) {
    count();
    self->delayed_send(self, min_count_interval, roster_count_atom::value);
  }
  return {
    [self, changed](roster_join_atom, const std::string& id) {
      auto& st = self->state;
      if (st.position.count(id) > 0)
        return;
      st.position.emplace(id, st.users.insert(st.users.end(), id));
      st.joined.push_back(id);
      changed();
    },
    [self, changed](roster_leave_atom, const std::string& id) {
      auto& st = self->state;
      auto i = st.position.find(id);
      if (i == st.position.end())
        return;
      st.users.erase(i->second);
      st.position.erase(i);
      auto j = std::find(st.joined.begin(), st.joined.end(), id);
      if (j != st.joined.end())
        st.joined.erase(j); // came and went within one interval: say nothing
      else if (st.users.size() < max_listed_users)
        st.left.push_back(id); // only a small chat announces leaves
      changed();
    },
    [self, flush](roster_flush_atom) {
      self->state.flush_pending = false;
      flush();
    },
    [self, count, opts](roster_count_atom) {
      count();
      auto interval = std::max<clock::duration>(
        min_count_interval, flush_interval(self->state.users.size(), opts.packets_per_second));
      self->delayed_send(self, interval, roster_count_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_roster(caf::actor_system& sys, sio::namespace_handle nsp, roster_options opts) {
  return sys.spawn(roster_actor, std::move(nsp), opts);
}

void roster_join(const caf::actor& roster, const std::string& id) {
  caf::anon_send(roster, roster_join_atom::value, id);
}

void roster_leave(const caf::actor& roster, const std::string& id) {
  caf::anon_send(roster, roster_leave_atom::value, id);
}

} // namespace chat
