-- Compare-and-set of one visitor's state.
-- KEYS[1]: the visitor's state hash (keys.visitor): fields v (version) and s (state blob)
-- ARGV[1]: the version the caller read (0 when the visitor was unknown)
-- ARGV[2]: the new state blob
-- ARGV[3]: time to live in seconds (the site's retention)
-- Returns 1 when stored (the version becomes ARGV[1] + 1), 0 when someone else wrote first.
local current = redis.call('HGET', KEYS[1], 'v')
if (tonumber(current) or 0) ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', tonumber(ARGV[1]) + 1, 's', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
