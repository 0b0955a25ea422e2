-- Give a lease back, if it is still ours; a completed run leaves a done marker behind.
--
-- KEYS[1]  lease key
-- KEYS[2]  index key (sorted set: lease key -> expiry, ms)
-- ARGV[1]  holder token
-- ARGV[2]  "1" when the run completed, "0" otherwise
-- ARGV[3]  done retention in milliseconds
--
-- Returns 1 when the lease was ours and is released, 0 when it had expired or is held by
-- another holder (then nothing changes: only the holder writes the occurrence's key).

if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('ZREM', KEYS[2], KEYS[1])
if ARGV[2] == '1' then
  redis.call('SET', KEYS[1], 'done:' .. ARGV[1], 'PX', tonumber(ARGV[3]))
else
  redis.call('DEL', KEYS[1])
end
return 1
