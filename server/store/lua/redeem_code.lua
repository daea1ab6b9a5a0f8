-- Mark a unique or generated code redeemed, once.
-- KEYS[1]: pool_owners (HASH code -> visitor)   KEYS[2]: pool_redeemed (HASH code -> second)
-- ARGV[1]: the code   ARGV[2]: now (seconds)   ARGV[3]: time to live (seconds)
-- Returns "unknown" (never given out), "redeemed" (already) or "ok".
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 'unknown'
end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then
  return 'redeemed'
end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 'ok'
