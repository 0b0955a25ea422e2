-- Take the lease of one occurrence, in one round trip.
--
-- KEYS[1]  lease key      <prefix>{<resource>}:occurrence:<scheduled_at>
-- KEYS[2]  fencing key    <prefix>{<resource>}:fencing   (counter, never expires)
-- KEYS[3]  index key      <prefix>{<resource>}:index     (sorted set: lease key -> expiry, ms)
-- ARGV[1]  holder token (unique per acquire)
-- ARGV[2]  ttl in milliseconds
--
-- Returns the fencing token (an integer) when the lease is taken, or the string
-- "done" (the occurrence already ran) or "held" (another holder has it).
-- Leases expire by the server's own PX; no client clock is involved.

local current = redis.call('GET', KEYS[1])
if current then
  if string.sub(current, 1, 5) == 'done:' then
    return 'done'
  end
  return 'held'
end

local ttl = tonumber(ARGV[2])
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ttl) then
  return 'held'
end
local fencing = redis.call('INCR', KEYS[2])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZADD', KEYS[3], now + ttl, KEYS[1])
if redis.call('PTTL', KEYS[3]) < ttl then
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return fencing
