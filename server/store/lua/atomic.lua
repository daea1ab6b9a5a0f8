-- Several commands on the keys of one slot, run at once: what MULTI/EXEC does, in one call that
-- one Redis server and a Redis Cluster run alike (server/store/redis_client.py, Atomic).
-- KEYS: the keys the commands touch, each named once (they share a hash tag: one slot).
-- ARGV: per command: N, the number of its arguments after the key; its name; the index of its key
--   in KEYS; then its N arguments.
-- Returns each command's reply, in order.
local replies = {}
local at = 1
while at <= #ARGV do
  local count = tonumber(ARGV[at])
  local key = KEYS[tonumber(ARGV[at + 2])]
  replies[#replies + 1] = redis.call(ARGV[at + 1], key, unpack(ARGV, at + 3, at + 2 + count))
  at = at + 3 + count
end
return replies
