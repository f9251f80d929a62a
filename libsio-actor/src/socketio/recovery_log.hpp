// One namespace's memory for connection state recovery on one node: the
// replayable events it delivered, in delivery order, and the state of its
// sockets that disconnected. Lives inside the namespace's adapter actor.
//
// Offsets: each event starts at one node (its origin, a random id per process)
// with that origin's next sequence number. Every node delivers the events of
// one origin in that origin's order, but events of several origins may
// interleave differently on different nodes. So the offset appended to an
// event is this node's vector "origin -> last sequence number delivered"
// right after it: a client that returns anywhere missed exactly the events
// with a larger number than its vector names for their origin.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/packet.hpp"
#include "sio/json.hpp"
#include "sio/recovery_options.hpp"

namespace sio::socketio {

/// origin -> last sequence number delivered.
using offset_vector = std::map<std::string, std::uint64_t>;

/// A new origin: 8 random characters of [0-9a-z].
std::string make_origin_id();

/// "origin.seq-origin.seq..." (origins are [0-9a-z]).
std::string encode_offset(const offset_vector& v);
/// Nullopt for anything encode_offset() cannot have made, or too long.
std::optional<offset_vector> decode_offset(std::string_view text);

/// A replayable event as a log keeps it.
struct logged_event {
  std::string origin;
  std::uint64_t seq = 0;
  std::vector<engineio::packet_ptr> encoded;
};

/// What a socket leaves behind when it disconnects for a reason it can recover from.
struct persisted_session {
  std::string pid;
  std::string sid;
  std::vector<std::string> rooms; // its own id's room included
  json data;
  /// Restores so far: a checkpoint of a later generation replaces an earlier
  /// one wherever it arrives first (two owners' messages are not ordered).
  std::uint64_t generation = 0;
  /// When the socket was first created (ms since the epoch, its first node's
  /// clock; kept across restores). An origin the client's offset does not
  /// name sent nothing while the socket lived on its node (every node gets
  /// every broadcast, and every offset names all the origins its node
  /// knows): only its events after this time can have been missed.
  std::int64_t born_ms = 0;
  /// Came from another node's memory (hand-over or replica): this node's
  /// local events (its local() broadcasts) were never for it.
  bool moved = false;
  /// Handed over by another node (the one the client left, or one that kept
  /// a replica): the events it missed that that node has. The node the
  /// client came back to merges them with its own, without duplicates: its
  /// log may lack some (it started later), and only that node had its
  /// socket.emit()s.
  std::vector<logged_event> handed_events;
};

/// How far a replica (another node's socket, kept here in case that node
/// dies) is from being restorable.
enum class replica_kind : std::uint8_t {
  connected,    // its socket is live on its owner: not restorable here
  disconnected, // it left for a recoverable reason, or its owner is gone
  forget,       // it left for good (a message only, never kept)
};

/// `theirs` (events of another node's log) placed into `mine` (this node's
/// missed events, in delivery order) by origin number: each goes before the
/// first event of its origin with a larger number, or at the end; one that
/// `mine` has already (same origin and number) is left out.
std::vector<logged_event> merge_by_origin(std::vector<logged_event> mine,
                                          std::vector<logged_event> theirs);

/// Now, in ms since the epoch (persisted_session::born_ms).
std::int64_t wall_clock_ms();

/// Node's reasons after which a socket's state is kept ("transport close", ...).
bool is_recoverable_reason(const std::string& reason);

class recovery_log {
public:
  using clock = std::chrono::steady_clock;
  using packets = std::vector<engineio::packet_ptr>;

  recovery_log(std::string origin, recovery_options opts);

  const std::string& origin() const noexcept { return origin_; }
  const recovery_options& options() const noexcept { return opts_; }

  /// The sequence number of the next event that starts on this node.
  std::uint64_t next_seq() { return ++own_seq_; }

  /// Event (origin, seq) is delivered now: returns the offset to append to it.
  std::string advance(const std::string& origin, std::uint64_t seq, clock::time_point now);

  /// Keeps the delivered event for replay; drops the oldest beyond the bounds.
  /// `local`: only this node delivered it (no other node's log has it).
  void append(const std::string& origin, std::uint64_t seq, std::set<std::string> rooms,
              std::set<std::string> except, bool local, packets encoded,
              clock::time_point now);

  void persist(persisted_session s, clock::time_point now);

  /// The session `pid` left (removed: it is restored once), if it is not
  /// older than the window and every event it may have missed since
  /// `offset` is still here.
  std::optional<persisted_session> take(const std::string& pid, const std::string& offset,
                                        clock::time_point now);

  enum class which { all, only_local, not_local };
  /// The events a socket in `rooms` missed since `since`, in delivery order;
  /// only_local: those only this node delivered; not_local: the others.
  /// `born_ms`: persisted_session::born_ms (events of origins `since` does
  /// not name that were logged before it are not missed).
  std::vector<logged_event> missed(const offset_vector& since,
                                   const std::vector<std::string>& rooms,
                                   which kind = which::all, std::int64_t born_ms = 0) const;

  // -- replicas: other nodes' sockets, kept in case their node dies --------

  /// Keeps (or updates, unless `s` is of an older generation) the state of a
  /// socket owned by `owner` (a member's address); `forget` drops it.
  void keep_replica(persisted_session s, const std::string& owner, replica_kind kind,
                    clock::time_point now);
  void drop_replica(const std::string& pid) { replicas_.erase(pid); }
  /// The owner of replica `pid` (empty: none here).
  std::string replica_owner(const std::string& pid) const;
  /// Every replica of `owner` becomes restorable: that node is gone.
  void owner_gone(const std::string& owner, clock::time_point now);
  /// As take(), for a replica that is restorable (disconnected, or
  /// `owner_gone`: its owner is not reachable).
  std::optional<persisted_session> take_replica(const std::string& pid, const std::string& offset,
                                                bool owner_gone, clock::time_point now);

  /// False if this log cannot have every event after `offset`: for an
  /// origin it knows, its first event here came after the next one the
  /// client needs (this node started, or joined, later).
  bool covers(const std::string& offset) const;

  /// Drops events and sessions older than the window.
  void expire(clock::time_point now);

  std::size_t event_count() const noexcept { return events_.size(); }
  std::size_t session_count() const noexcept { return sessions_.size(); }
  std::size_t replica_count() const noexcept { return replicas_.size(); }

private:
  struct event {
    std::string origin;
    std::uint64_t seq;
    std::set<std::string> rooms;
    std::set<std::string> except;
    bool local;
    packets encoded;
    std::size_t bytes;
    clock::time_point at;
    std::int64_t at_ms; // wall clock, for persisted_session::born_ms
  };
  struct stored_session {
    persisted_session state;
    clock::time_point at;
  };
  struct origin_state {
    std::uint64_t delivered = 0; // last sequence number delivered here
    std::uint64_t dropped = 0;   // last sequence number dropped from the log
    std::uint64_t first = 0;     // first sequence number delivered here
    clock::time_point last_seen;
  };

  struct replica {
    persisted_session state;
    std::string owner;
    bool restorable = false;
    clock::time_point at; // since when restorable
  };

  void drop_oldest_event();
  /// False when an event after `offset` that the bounds dropped could have
  /// been for the socket (a fresh socket is honest, a partial replay is not).
  bool replayable_since(const std::string& offset) const;

  std::string origin_;
  recovery_options opts_;
  std::uint64_t own_seq_ = 0;
  std::map<std::string, origin_state> origins_;
  std::deque<event> events_;
  std::size_t bytes_ = 0;
  std::map<std::string, stored_session> sessions_;
  std::deque<std::pair<clock::time_point, std::string>> session_order_; // (at, pid), oldest first
  std::map<std::string, replica> replicas_; // pid -> replica
  clock::time_point last_replica_sweep_{};
};

} // namespace sio::socketio
