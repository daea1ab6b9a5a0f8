-- Queue one delivery in a lane: it is due at once if it is the lane's first, else when the one
-- before it is finished (finish_webhook.lua makes the next one due).
-- KEYS[1]: the delivery (keys.queue_delivery, HASH)   KEYS[2]: its endpoint's due deliveries (keys.queue_due, ZSET)
-- KEYS[3]: the site's recent deliveries (keys.queue_recent, ZSET)   KEYS[4]: the lane (keys.queue_lane, LIST)
-- ARGV[1]: the delivery id   ARGV[2]: when it was queued   ARGV[3]: when it is due   ARGV[4]: time to live (seconds)
-- ARGV[5], ARGV[6], ...: the delivery's fields and values
-- Only a lane's first delivery is ever in the due list, from its queueing until it is finished; a
-- first one that is not there was lost (trimmed, or expired while no process ran): it is skipped.
local ttl = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[3], ttl)
local first = redis.call('LINDEX', KEYS[4], 0)
if first and not redis.call('ZSCORE', KEYS[2], first) then
  redis.call('LPOP', KEYS[4])
  first = redis.call('LINDEX', KEYS[4], 0)
  if first then
    redis.call('ZADD', KEYS[2], ARGV[3], first)
  end
end
redis.call('RPUSH', KEYS[4], ARGV[1])
redis.call('EXPIRE', KEYS[4], ttl)
if redis.call('LINDEX', KEYS[4], 0) == ARGV[1] then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
redis.call('EXPIRE', KEYS[2], ttl)
return 1
