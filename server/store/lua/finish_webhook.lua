-- Record one attempt of a delivery (a webhook's, a LINE push's).
-- KEYS[1]: the delivery (keys.queue_delivery, HASH)   KEYS[2]: its endpoint's due deliveries (keys.queue_due, ZSET)
-- KEYS[3] (only for a delivery in a lane): its lane (keys.queue_lane, LIST)
-- ARGV[1]: the delivery id   ARGV[2]: outcome: "delivered", "retry" or "failed"   ARGV[3]: when the attempt ended
-- ARGV[4]: the receiver's HTTP status (0: none)   ARGV[5]: the error, one line ('' after a success)
-- ARGV[6]: when a retry is due   ARGV[7]: time to live of the keys (seconds)
-- A delivery already delivered (by another process whose lease this one outlived) stays delivered,
-- one in a lane already failed stays failed (its lane has moved on); one no longer kept (trimmed, expired) is only taken off the due list and its lane. A delivery
-- finished (delivered or failed) leaves its lane, and the lane's next delivery is due at ARGV[3].
-- Returns 1 if recorded.
local recorded = 1
local done = true
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  recorded = 0
else
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  redis.call('HINCRBY', KEYS[1], 'tries', 1)
  redis.call('HSET', KEYS[1], 'last_at', ARGV[3], 'last_status', ARGV[4], 'last_error', ARGV[5])
  local status = redis.call('HGET', KEYS[1], 'status')
  if ARGV[2] == 'delivered' then
    redis.call('HSET', KEYS[1], 'status', 'delivered', 'next_at', 0)
    redis.call('ZREM', KEYS[2], ARGV[1])
  elseif status == 'delivered' or (KEYS[3] and status == 'failed') then
    redis.call('ZREM', KEYS[2], ARGV[1])
  elseif ARGV[2] == 'retry' then
    redis.call('HSET', KEYS[1], 'status', 'pending', 'next_at', ARGV[6])
    redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
    done = false
  else
    redis.call('HSET', KEYS[1], 'status', 'failed', 'next_at', 0)
    redis.call('ZREM', KEYS[2], ARGV[1])
  end
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[7]))
end
if KEYS[3] and done then
  local first = redis.call('LINDEX', KEYS[3], 0)
  redis.call('LREM', KEYS[3], 0, ARGV[1])
  if first == ARGV[1] then
    local next = redis.call('LINDEX', KEYS[3], 0)
    if next then
      redis.call('ZADD', KEYS[2], ARGV[3], next)
      redis.call('EXPIRE', KEYS[2], tonumber(ARGV[7]))
    end
  end
end
return recorded
