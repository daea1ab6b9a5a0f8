-- Add one flush of a site's traffic aggregates (server/insights/traffic.py), every day it touches.
-- KEYS: per day, its hash (keys.traffic) and then its HyperLogLog of visitors (keys.traffic_visitors).
-- ARGV[1]: seconds each key written is kept (its TTL, refreshed); ARGV[2]: the name a capped
--   kind's amount goes under once its group is full ("(other)"); ARGV[3]: G, the number of groups;
--   then G pairs (group, the most names it admits per day);
--   then per day, in the order of KEYS: C, then C quadruples (kind, its group or "", name, amount),
--   then V, then V visitor ids.
-- A name is admitted to a group when the field "group|name" exists (created with 0 on admission),
-- and "#group" counts the names admitted: names come first come, first admitted.
-- Returns nothing.
local ttl, other = tonumber(ARGV[1]), ARGV[2]
local limits = {}
local at = 4
for _ = 1, tonumber(ARGV[3]) do
  limits[ARGV[at]] = tonumber(ARGV[at + 1])
  at = at + 2
end
for k = 1, #KEYS, 2 do
  local hash, visitors_key = KEYS[k], KEYS[k + 1]
  local count = tonumber(ARGV[at])
  at = at + 1
  for _ = 1, count do
    local kind, group, name, amount = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
    at = at + 4
    if group ~= '' and name ~= other then
      local member = group .. '|' .. name
      if redis.call('HEXISTS', hash, member) == 0 then
        if tonumber(redis.call('HGET', hash, '#' .. group) or '0') < limits[group] then
          redis.call('HINCRBY', hash, '#' .. group, 1)
          redis.call('HINCRBY', hash, member, 0)
        else
          name = other
        end
      end
    end
    redis.call('HINCRBY', hash, kind .. '|' .. name, amount)
  end
  if count > 0 then
    redis.call('EXPIRE', hash, ttl)
  end
  local visitors = tonumber(ARGV[at])
  at = at + 1
  -- unpack() is limited to a few thousand values: add them in chunks.
  for first = at, at + visitors - 1, 1000 do
    redis.call('PFADD', visitors_key, unpack(ARGV, first, math.min(first + 999, at + visitors - 1)))
  end
  if visitors > 0 then
    redis.call('EXPIRE', visitors_key, ttl)
  end
  at = at + visitors
end
