//! The Lua scripts that make each multi-key step atomic in Redis: one script runs at a
//! time, so a group's counters, history, members and its channel's messages always
//! agree, whichever node runs them.

use std::sync::LazyLock;

use redis::Script;

/// Joins a group. KEYS: members, seq, history, events, order, the node's member index.
/// ARGV: member id, card JSON without its order, channel, notice payload ('' for none),
/// alive-key prefix, index entry, the most members to list (-1: no limit).
/// Returns `{members (id, card …), seq, history, event, count, listed}`: a group of up
/// to that many members is listed, members of dead nodes left out, and counted from the
/// list; a bigger one is counted whole (a dead node's members until they are swept) and
/// not listed, so that a join costs the same in a room of ten thousand as in one of ten.
pub static JOIN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local order = redis.call('INCR', KEYS[5])
local card = cjson.decode(ARGV[2])
card.order = order
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(card))
redis.call('SADD', KEYS[6], ARGV[6])
for i = 2, 5 do redis.call('PERSIST', KEYS[i]) end
local live = {}
local count = redis.call('HLEN', KEYS[1])
local limit = tonumber(ARGV[7])
local listed = 0
if limit < 0 or count <= limit then
  listed = 1
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local node = cjson.decode(all[i + 1]).node
    if redis.call('EXISTS', ARGV[5] .. node) == 1 then
      table.insert(live, all[i]); table.insert(live, all[i + 1])
    end
  end
  count = #live / 2
end
local event = redis.call('INCR', KEYS[4])
if ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[3], 't|' .. string.format('%d', event) .. '||' .. ARGV[1] .. '\n' .. ARGV[4])
end
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
return {live, seq, redis.call('LRANGE', KEYS[3], 0, -1), event, count, listed}
"#,
    )
});

/// Leaves a group. KEYS: members, seq, history, events, order. ARGV: member id, channel,
/// retention in ms. The others are told the farewell stored in the member's card (none:
/// nothing). An empty group keeps its counters and history for the retention period
/// (none: at once).
pub static LEAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local card = redis.call('HGET', KEYS[1], ARGV[1])
if card then
  redis.call('HDEL', KEYS[1], ARGV[1])
  local farewell = cjson.decode(card).farewell
  if type(farewell) == 'string' and farewell ~= '' then
    local event = redis.call('INCR', KEYS[4])
    redis.call('PUBLISH', ARGV[2], 't|' .. string.format('%d', event) .. '||' .. ARGV[1] .. '\n' .. farewell)
  end
end
if redis.call('HLEN', KEYS[1]) == 0 then
  if tonumber(ARGV[3]) > 0 and redis.call('EXISTS', KEYS[3]) == 1 then
    for i = 2, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
  else
    redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  end
end
return 1
"#,
    )
});

/// Publishes to a group. KEYS: seq, history, events. ARGV: channel, kind ('t'/'b'),
/// payload or the part before the seq, the part after the seq ('' and history 0 for a
/// plain message), history length (0: not sequenced). Returns the seq (0 if none).
pub static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local event = redis.call('INCR', KEYS[3])
local keep = tonumber(ARGV[5])
if keep < 0 then
  redis.call('PUBLISH', ARGV[1], ARGV[2] .. '|' .. string.format('%d', event) .. '||\n' .. ARGV[3])
  return 0
end
local seq = redis.call('INCR', KEYS[1])
local message = ARGV[3] .. string.format('%d', seq) .. ARGV[4]
if keep > 0 then
  redis.call('RPUSH', KEYS[2], message)
  redis.call('LTRIM', KEYS[2], -keep, -1)
end
redis.call('PUBLISH', ARGV[1], 't|' .. string.format('%d', event) .. '|' .. string.format('%d', seq) .. '|\n' .. message)
return seq
"#,
    )
});

/// Takes a pairing address. KEYS: peer, node's peer index. ARGV: holder
/// (`{node}/{generation}`), index entry, node, generation. A newer generation of the same
/// node already there is kept (two attaches of one node raced). Returns the previous
/// holder ('' if none), or the kept one prefixed with '!'.
pub static ATTACH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local previous = redis.call('GET', KEYS[1]) or ''
local node, generation = string.match(previous, '^(.*)/(%d+)$')
if node == ARGV[3] and tonumber(generation) > tonumber(ARGV[4]) then
  return '!' .. previous
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return previous
"#,
    )
});

/// Lets go of a pairing address held by a node whose connection is gone (a connection
/// ending, a dead node's, or one whose release failed), with a display's pairing code:
/// only if that node still holds it. KEYS: peer, the node's
/// peer index, code-of ('' for a controller). ARGV: node, index entry, code key prefix,
/// generation limit: only a generation below it is forgotten (newer ones were attaching
/// when the node listed what it holds).
pub static FORGET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local holder = redis.call('GET', KEYS[1]) or ''
local node, generation = string.match(holder, '^(.*)/(%d+)$')
if node ~= ARGV[1] or tonumber(generation) >= tonumber(ARGV[4]) then return 0 end
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
if KEYS[3] ~= '' then
  local code = redis.call('GET', KEYS[3])
  if code then redis.call('DEL', KEYS[3], ARGV[3] .. code) end
end
return 1
"#,
    )
});

/// Who holds a pairing address, if its node is alive. KEYS: peer. ARGV: alive-key prefix.
/// Returns the holder or ''.
pub static HOLDER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local holder = redis.call('GET', KEYS[1])
if not holder then return '' end
local node = string.match(holder, '^(.*)/')
if redis.call('EXISTS', ARGV[1] .. node) == 1 then return holder end
return ''
"#,
    )
});

/// Announces a catalogue change with the next catalogue version, so that a node can tell
/// when it missed one. KEYS: version. ARGV: channel, change JSON.
pub static CATALOG_CHANGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local version = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], string.format('%d', version) .. '\n' .. ARGV[2])
return version
"#,
    )
});

/// The live code of a display or a new one. KEYS: code-of, candidate code key.
/// ARGV: candidate, uuid, ttl ms. Returns `{code, ms left}`, or false if the candidate
/// is taken (the caller draws another).
pub static ISSUE_CODE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, redis.call('PTTL', KEYS[1])} end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return {ARGV[1], tonumber(ARGV[3])}
"#,
    )
});

/// Takes a pairing-code lookup from a client address's budget. KEYS: guesses. ARGV:
/// misses allowed, window ms. Returns `{1, 0}` when taken, `{0, ms until the window
/// ends}` when the budget is spent.
pub static ATTEMPT_GUESS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local misses = tonumber(redis.call('GET', KEYS[1]) or '0')
if misses >= tonumber(ARGV[1]) then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); left = tonumber(ARGV[2]) end
  return {0, left}
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, 0}
"#,
    )
});

/// Gives a lookup back to its address's budget (the code was live). KEYS: guesses.
pub static GIVE_BACK_GUESS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1
"#,
    )
});
