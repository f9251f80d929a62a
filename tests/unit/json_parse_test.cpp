// The linear-time JSON parser for untrusted input (socketio/json_parse.*):
// same results as nlohmann's parser, key order kept, duplicates as JSON.parse,
// limits with a clear error, and work that grows linearly with the input
// (counted, not timed).
#include "socketio/json_parse.hpp"

#include <catch2/catch.hpp>

#include <string>

#include "socketio/packet.hpp"

using namespace sio::socketio;
using sio::json;

namespace {

std::string wide_object(std::size_t n) {
  std::string s = "{";
  for (std::size_t i = 0; i < n; ++i) {
    if (i)
      s += ',';
    s += "\"key" + std::to_string(i) + "\":" + std::to_string(i);
  }
  return s + "}";
}

json parse_ok(std::string_view text, json_limits limits = {}) {
  std::string err;
  auto v = parse_json(text, limits, err);
  INFO(text << " -> " << err);
  REQUIRE(v);
  CHECK(err.empty());
  return *v;
}

std::string parse_error(std::string_view text, json_limits limits = {}) {
  std::string err;
  auto v = parse_json(text, limits, err);
  CHECK_FALSE(v);
  CHECK_FALSE(err.empty());
  return err;
}

} // namespace

TEST_CASE("json_parse: the same values as nlohmann's parser", "[json]") {
  const std::string samples[] = {
    "null", "true", "false", "0", "-12", "18446744073709551615", "1.5e3", "\"h\\u00e9llo\\n\"",
    "[]", "{}", "[1,[2,[3,{}]],\"x\"]", R"({"b":1,"a":{"z":[1,2],"y":null},"c":"é"})",
    R"([{"_placeholder":true,"num":0}])", wide_object(40),
  };
  for (const auto& text : samples) {
    auto expected = json::parse(text);
    auto got = parse_ok(text);
    CHECK(got == expected);
    CHECK(got.dump() == expected.dump()); // the same key order too
  }
}

TEST_CASE("json_parse: keys keep the client's order", "[json]") {
  auto v = parse_ok(R"({"zebra":1,"apple":2,"mango":{"y":1,"x":2}})");
  CHECK(v.dump() == R"({"zebra":1,"apple":2,"mango":{"y":1,"x":2}})");
}

TEST_CASE("json_parse: a repeated key keeps its first place and its last value", "[json]") {
  // As JSON.parse: {"a":1,"b":2,"a":3} is {a: 3, b: 2}.
  CHECK(parse_ok(R"({"a":1,"b":2,"a":3})").dump() == R"({"a":3,"b":2})");
  CHECK(parse_ok(R"({"a":{"x":1},"a":[2]})").dump() == R"({"a":[2]})");
  // Past the scanned size, through the hash index.
  std::string big = wide_object(100);
  big.pop_back();
  big += R"(,"key7":"again","key99":"last"})";
  auto v = parse_ok(big);
  CHECK(v.size() == 100);
  CHECK(v["key7"] == "again");
  CHECK(v["key99"] == "last");
  auto it = v.begin();
  std::advance(it, 7);
  CHECK(it.key() == "key7");
}

TEST_CASE("json_parse: malformed input is an error, never an exception", "[json]") {
  const char* bad[] = {"", "{", "[1,", "{\"a\" 1}", "tru", "[1]x", "\"\\u12\"", "1e999",
                       "{\"a\":1,}", "\xff"};
  for (const char* text : bad)
    parse_error(text);
}

TEST_CASE("json_parse: limits on members per object and values per text", "[json]") {
  json_limits limits;
  limits.max_object_members = 50;
  limits.max_values = 0;
  CHECK(parse_ok(wide_object(50), limits).size() == 50);
  CHECK(parse_error(wide_object(51), limits) == "JSON object with more than 50 members");
  // Repeats of a key are one member.
  CHECK(parse_ok(R"({"a":1,"a":2,"a":3})", json_limits{1, 0}).size() == 1);

  limits.max_object_members = 0;
  limits.max_values = 10;
  CHECK(parse_ok("[1,2,3,4,5,6,7,8,9]", limits).size() == 9); // 9 numbers and the array
  CHECK(parse_error("[1,2,3,4,5,6,7,8,9,10]", limits) == "JSON with more than 10 values");
  CHECK(parse_error(R"({"a":{"b":{"c":[1,2,3,4,5,6,7]}}})", limits)
        == "JSON with more than 10 values");
}

TEST_CASE("json_parse: a wide object costs linear work", "[json]") {
  // Key probes (comparisons and hashes to find duplicates) for n and 4n
  // distinct keys: linear work grows ~4x, the old quadratic scan ~16x.
  json_parse_stats small, large;
  std::string err;
  REQUIRE(parse_json(wide_object(5000), {}, err, &small));
  REQUIRE(parse_json(wide_object(20000), {}, err, &large));
  CHECK(small.values == 5001);
  CHECK(large.values == 20001);
  INFO("probes: " << small.key_probes << " for 5000 keys, " << large.key_probes << " for 20000");
  CHECK(large.key_probes < 6 * small.key_probes);
  CHECK(large.key_probes < 10 * 20000); // a few per key, not thousands
}

TEST_CASE("json_parse: the Socket.IO decoder refuses packets over the limits", "[json]") {
  decoder_limits limits;
  limits.max_object_members = 3;
  decoder d{limits};
  CHECK(d.feed_text(R"(2["ev",{"a":1,"b":2,"c":3}])") == decoder::status::complete);
  CHECK(d.take().data->at(1).size() == 3);
  CHECK(d.feed_text(R"(2["ev",{"a":1,"b":2,"c":3,"d":4}])") == decoder::status::error);
  CHECK(d.error() == "invalid JSON payload: JSON object with more than 3 members");

  limits = decoder_limits{};
  limits.max_values = 4;
  decoder v{limits};
  CHECK(v.feed_text(R"(2["ev",1,2])") == decoder::status::complete);
  CHECK(v.feed_text(R"(2["ev",1,2,3])") == decoder::status::error);
  CHECK(v.error() == "invalid JSON payload: JSON with more than 4 values");
}

TEST_CASE("json_parse: encoding a wide object with binary is linear too", "[json]") {
  // deconstruct() appends members instead of out[key] (a scan each).
  json args = json::array({"ev", parse_ok(wide_object(20000))});
  args[1]["bin"] = json::binary({1, 2, 3});
  packet p{packet_type::event, "/", {}, args};
  auto e = encode(p);
  CHECK(e.attachments.size() == 1);
  CHECK(e.text.rfind("51-[\"ev\",{\"key0\":0,", 0) == 0);
}

TEST_CASE("json_parse: a lone UTF-16 surrogate becomes U+FFFD, as close to JSON.parse as UTF-8 gets",
          "[json]") {
  using sio::socketio::replace_lone_surrogates;
  CHECK_FALSE(replace_lone_surrogates(R"(["plain", "\u00e9", "\ud83d\ude00", "\\ud83d"])"));
  CHECK(replace_lone_surrogates(R"(["\ud83d"])") == std::string{R"(["\ufffd"])"});
  CHECK(replace_lone_surrogates(R"(["\ude00x", "a\uD83Db"])")
        == std::string{R"(["\ufffdx", "a\ufffdb"])"});
  CHECK(replace_lone_surrogates(R"(["\ud83d\ud83d\ude00"])")
        == std::string{R"(["\ufffd\ud83d\ude00"])"});
  sio::socketio::json_limits limits;
  std::string error;
  auto half = sio::socketio::parse_json(R"(["echo", "\ud83d"])", limits, error);
  REQUIRE(half);
  CHECK((*half)[1].get<std::string>() == "\xEF\xBF\xBD");
  auto whole = sio::socketio::parse_json(R"(["\ud83d\ude00"])", limits, error);
  REQUIRE(whole);
  CHECK((*whole)[0].get<std::string>() == "\xF0\x9F\x98\x80");
}
