-- Give a visitor their code from a coupon pool: the same code every time, never one code to two visitors.
-- KEYS[1]: pool_available (SET)   KEYS[2]: pool_owners (HASH code -> visitor)
-- KEYS[3]: pool_visitors (HASH visitor -> "code|expires_at")   KEYS[4]: pool_loaded (STRING, set by seed_codes)
-- ARGV[1]: visitor id
-- ARGV[2]: the pool's kind: "list" (take a unique code from KEYS[1]), "generated" (record ARGV[3], unique),
--          "shared" (ARGV[3] for all)
-- ARGV[3]: the code for "generated" and "shared"
-- ARGV[4]: expires_at for a new assignment (seconds; 0 = never)
-- ARGV[5]: time to live of the pool's keys (seconds)
-- Returns {"code|expires_at", 1 if assigned now, 0 if the visitor had it}; false when the list is exhausted;
-- "taken" when a "generated" code already belongs to someone; "unseeded" when a "list" pool's codes are not
-- loaded (never seeded, or Redis lost them).
local existing = redis.call('HGET', KEYS[3], ARGV[1])
if existing then
  return {existing, 0}
end
local code
if ARGV[2] == 'list' then
  code = redis.call('SPOP', KEYS[1])
  if not code then
    if redis.call('EXISTS', KEYS[4]) == 0 then
      return 'unseeded'
    end
    return false
  end
  redis.call('HSET', KEYS[2], code, ARGV[1])
elseif ARGV[2] == 'generated' then
  if redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[1]) == 0 then
    return 'taken'
  end
  code = ARGV[3]
else
  code = ARGV[3]
end
local assignment = code .. '|' .. ARGV[4]
redis.call('HSET', KEYS[3], ARGV[1], assignment)
for i = 1, 4 do
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[5]))
end
return {assignment, 1}
