-- Record one attempt of a webhook delivery.
-- KEYS[1]: the delivery (keys.webhook_delivery, HASH)   KEYS[2]: its endpoint's due deliveries (keys.webhook_due, ZSET)
-- ARGV[1]: the delivery id   ARGV[2]: outcome: "delivered", "retry" or "failed"   ARGV[3]: when the attempt ended
-- ARGV[4]: the receiver's HTTP status (0: none)   ARGV[5]: the error, one line ('' after a success)
-- ARGV[6]: when a retry is due   ARGV[7]: time to live of both keys (seconds)
-- A delivery already delivered (by another process whose lease this one outlived) stays delivered;
-- one no longer kept (trimmed, expired) is only taken off the due list. Returns 1 if recorded.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HINCRBY', KEYS[1], 'tries', 1)
redis.call('HSET', KEYS[1], 'last_at', ARGV[3], 'last_status', ARGV[4], 'last_error', ARGV[5])
local status = redis.call('HGET', KEYS[1], 'status')
if ARGV[2] == 'delivered' then
  redis.call('HSET', KEYS[1], 'status', 'delivered', 'next_at', 0)
  redis.call('ZREM', KEYS[2], ARGV[1])
elseif status == 'delivered' then
  redis.call('ZREM', KEYS[2], ARGV[1])
elseif ARGV[2] == 'retry' then
  redis.call('HSET', KEYS[1], 'status', 'pending', 'next_at', ARGV[6])
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
else
  redis.call('HSET', KEYS[1], 'status', 'failed', 'next_at', 0)
  redis.call('ZREM', KEYS[2], ARGV[1])
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[7]))
return 1
