-- Add many counters' hits in one window each; a window starts at its first hit.
-- KEYS[i]: counter i's current window (keys.shared_hits; one hash tag for all)
-- ARGV[1]: the window's length in seconds (each new key's time to live)
-- ARGV[i + 1]: the hits to add to counter i
-- Returns, per counter, {hits in its window so far, these included; seconds until it starts again}.
local window = tonumber(ARGV[1])
local result = {}
for i, key in ipairs(KEYS) do
  local hits = redis.call('INCRBY', key, tonumber(ARGV[i + 1]))
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    redis.call('EXPIRE', key, window)
    ttl = window
  end
  result[i] = {hits, ttl}
end
return result
