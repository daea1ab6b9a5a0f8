-- Add unique codes from a pool's codes file that were never given out (idempotent).
-- KEYS[1]: pool_available (SET)   KEYS[2]: pool_owners (HASH code -> visitor)
-- KEYS[3]: pool_loaded (STRING): marks the pool loaded, so that an empty KEYS[1] reads as exhausted, not lost
-- ARGV[1]: time to live of the pool's keys (seconds);  ARGV[2..n]: the codes
-- Returns the number of codes newly made available.
local added = 0
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    added = added + redis.call('SADD', KEYS[1], ARGV[i])
  end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
redis.call('SET', KEYS[3], '1', 'EX', tonumber(ARGV[1]))
return added
