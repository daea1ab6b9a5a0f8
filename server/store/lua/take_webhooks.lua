-- Take an endpoint's due webhook deliveries: nobody else takes them until their lease ends.
-- KEYS[1]: the endpoint's due deliveries (keys.queue_due, ZSET delivery id -> due second)
-- ARGV[1]: now (seconds)   ARGV[2]: the lease's end (seconds)   ARGV[3]: at most this many
-- ARGV[4]: time to live of KEYS[1] (seconds)
-- Returns the ids taken, oldest due first.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
end
if #ids > 0 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
end
return ids
