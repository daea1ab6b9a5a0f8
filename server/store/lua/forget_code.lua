-- Forget who got a coupon pool's code, keeping what stops the code being given out or redeemed
-- again (docs/privacy.md): the visitor's assignment goes; a unique or generated code stays in the
-- owners, with an empty owner instead of the visitor id.
-- KEYS[1]: pool_owners (HASH code -> visitor)   KEYS[2]: pool_visitors (HASH visitor -> "code|expires_at")
-- ARGV[1]: visitor id
-- Returns the code the visitor had, or false.
local assignment = redis.call('HGET', KEYS[2], ARGV[1])
if not assignment then
  return false
end
redis.call('HDEL', KEYS[2], ARGV[1])
local code = string.match(assignment, '^(.*)|[^|]*$') or assignment
if redis.call('HGET', KEYS[1], code) == ARGV[1] then
  redis.call('HSET', KEYS[1], code, '')
end
return code
