-- Append an entry to a visitor's feed, once per client id.
-- KEYS[1]: the feed (keys.feed, STREAM)   KEYS[2]: client id -> entry id (keys.chat_ids, HASH)
-- ARGV[1]: the entry's type (t)   ARGV[2]: its data (d)   ARGV[3]: time to live of both keys (seconds)
-- ARGV[4]: the client id, or '' for none   ARGV[5]: about how many entries the feed keeps (MAXLEN ~)
-- Returns {entry id, 1} when added; {the earlier entry id, 0} when the client id was seen before.
if ARGV[4] ~= '' then
  local seen = redis.call('HGET', KEYS[2], ARGV[4])
  if seen then
    return {seen, 0}
  end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', tonumber(ARGV[5]), '*', 't', ARGV[1], 'd', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[4], id)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
end
return {id, 1}
