-- Give a lease back; a completed run leaves a done marker behind.
--
-- KEYS[1]  lease key
-- KEYS[2]  index key (sorted set: lease key -> expiry, ms)
-- ARGV[1]  holder token
-- ARGV[2]  "1" when the run completed, "0" otherwise
-- ARGV[3]  done retention in milliseconds
--
-- Returns 1 when the lease was ours and is released (done marker or deleted), 2 when the
-- lease had expired, nobody took the occurrence since, and the completed run marks it done,
-- 0 when nothing changed: the key is another holder's live lease or a done marker already,
-- or an incomplete run's lease expired. Another holder's lease is never touched.

local current = redis.call('GET', KEYS[1])
local completed = ARGV[2] == '1'
if current == ARGV[1] then
  redis.call('ZREM', KEYS[2], KEYS[1])
  if completed then
    redis.call('SET', KEYS[1], 'done:' .. ARGV[1], 'PX', tonumber(ARGV[3]))
  else
    redis.call('DEL', KEYS[1])
  end
  return 1
end
if current == false and completed then
  -- The run outlived its lease but finished, and no one has taken the occurrence: without a
  -- marker a replica reaching it late would run it a second time.
  redis.call('ZREM', KEYS[2], KEYS[1])
  redis.call('SET', KEYS[1], 'done:' .. ARGV[1], 'PX', tonumber(ARGV[3]))
  return 2
end
return 0
