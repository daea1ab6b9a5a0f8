-- Compare-and-set of one conversation's record, and its place in the site's activity index.
-- KEYS[1]: the site's records (keys.conversations): HASH conversation id -> JSON record
-- KEYS[2]: the site's activity index (keys.conversation_activity): ZSET conversation id -> second
-- ARGV[1]: the conversation id
-- ARGV[2]: the version the caller read (0: no record yet); the stored record's is its JSON
--   field "version", 0 when it has none or is not JSON (written by an incompatible version)
-- ARGV[3]: the new record, whose "version" is ARGV[2] + 1
-- ARGV[4]: the second of its last activity (its score in the index)
-- ARGV[5]: time to live in seconds of both keys (the site's retention)
-- Returns 1 when stored, 0 when someone else wrote first (nothing is written).
local stored = redis.call('HGET', KEYS[1], ARGV[1])
local version = 0
if stored then
  local ok, record = pcall(cjson.decode, stored)
  if ok and type(record) == 'table' then
    version = tonumber(record.version) or 0
  end
end
if version ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
return 1
