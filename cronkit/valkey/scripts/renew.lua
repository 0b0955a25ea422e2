-- Extend a lease, if it is still ours.
--
-- KEYS[1]  lease key
-- KEYS[2]  index key (sorted set: lease key -> expiry, ms)
-- ARGV[1]  holder token
-- ARGV[2]  ttl in milliseconds
--
-- Returns 1 when the lease was extended, 0 when it is gone or held by someone else.

if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local ttl = tonumber(ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[2], now + ttl, KEYS[1])
if redis.call('PTTL', KEYS[2]) < ttl then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
