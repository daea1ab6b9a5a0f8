-- Compare-and-set of one visitor's state; on a conflict, what is stored instead, so that the
-- caller can retry without reading it first (server/ingest.py keeps a cache of states).
-- KEYS[1]: the visitor's state hash (keys.visitor): fields v (version) and s (state blob)
-- ARGV[1]: the version the caller last saw (0: the visitor must not exist)
-- ARGV[2]: the new state blob
-- ARGV[3]: time to live in seconds (the site's retention)
-- Returns {1, new version} when stored, {0, current version, current blob or nil} when not.
-- A version never repeats for a key, even after it expired: a new key's first version is the
-- server's clock in microseconds (each write then adds 1), so a cached (state, version) that
-- outlived its key can never match the key written again.
local current = redis.call('HGET', KEYS[1], 'v')
local expected = tonumber(ARGV[1])
if (tonumber(current) or 0) ~= expected then
  return {0, current or '0', redis.call('HGET', KEYS[1], 's')}
end
local version
if expected == 0 then
  local now = redis.call('TIME')
  version = string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2]))
else
  version = string.format('%d', expected + 1)
end
redis.call('HSET', KEYS[1], 'v', version, 's', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, version}
