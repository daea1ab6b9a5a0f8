-- Count one hit in each of a counter's fixed windows; a window starts at its first hit.
-- KEYS[i]: the counter of window i (keys.hits)
-- ARGV[i]: the length of window i in seconds (its key's time to live)
-- Returns, per window, {hits in it so far, this one included; seconds until it starts again}.
local result = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i])
  local hits = redis.call('INCR', key)
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    redis.call('EXPIRE', key, window)
    ttl = window
  end
  result[i] = {hits, ttl}
end
return result
