-- Send a kept webhook delivery again: pending, due now, its retries counted afresh.
-- KEYS[1]: the delivery (keys.queue_delivery, HASH)   KEYS[2]: its endpoint's due deliveries (keys.queue_due, ZSET)
-- ARGV[1]: the delivery id   ARGV[2]: now (seconds)   ARGV[3]: time to live of both keys (seconds)
-- Returns 1, or 0 when the delivery is not kept (any more).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'pending', 'tries', 0, 'since', ARGV[2], 'next_at', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1
