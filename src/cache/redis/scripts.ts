/**
 * The Lua scripts behind the cache operations that read and then write: each runs atomically on
 * the Redis server. ioredis sends them with EVALSHA (falling back to EVAL once after a Redis
 * restart emptied its script cache).
 *
 * Every stored string is `<deadline>:<rest>`: the deadline in ms since the epoch (0 for none) on the
 * driver's clock, which is passed in as `now`; Redis's own clock only runs the PXAT backstop that
 * reclaims the memory a little after the deadline. `<rest>` is a value's JSON text, a rate-limit
 * window's count, or a lock's fencing token. Numbers are written with `%.0f`: Lua's tostring would
 * switch to exponent notation for large ones.
 */

const prelude = `
local function fmt(n) return string.format('%.0f', n) end
local function split(raw)
  local sep = string.find(raw, ':', 1, true)
  return tonumber(string.sub(raw, 1, sep - 1)), string.sub(raw, sep + 1), sep
end
local now = tonumber(ARGV[1])
`;

/** Deadline and separator fit in 17 bytes; 25 leaves room without reading a large value. */
const head = "redis.call('GETRANGE', KEYS[1], 0, 24)";

const scripts = {
  /** KEYS: value. ARGV: now, stored text, pxat ('' for none). → 1 when stored. */
  cairnSetIfAbsent: `${prelude}
local current = ${head}
if current ~= '' then
  local deadline = split(current)
  if deadline == 0 or deadline > now then return 0 end
end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
end
return 1`,

  /** KEYS: value. ARGV: now. → 1 when a live value was deleted (an expired one goes too). */
  cairnDelete: `${prelude}
local current = ${head}
if current == '' then return 0 end
redis.call('UNLINK', KEYS[1])
local deadline = split(current)
if deadline ~= 0 and deadline <= now then return 0 end
return 1`,

  /**
   * KEYS: value. ARGV: now, by. → {1, sum}, {0} when the value is not a safe integer, {2} when the
   * sum would leave the safe range. Only the first 64 bytes are read: a longer value cannot be one.
   * The sum goes back as text: ioredis 6.0's reply decoder rounds integers just below 2^53.
   */
  cairnIncrement: `${prelude}
local max = 9007199254740991
local current = redis.call('GETRANGE', KEYS[1], 0, 63)
if current ~= '' then
  local deadline, text, sep = split(current)
  if deadline == 0 or deadline > now then
    if #text > 17 or not (string.match(text, '^%-?0$') or string.match(text, '^%-?[1-9]%d*$')) then
      return {0}
    end
    local value = tonumber(text)
    if value > max or value < -max then return {0} end
    local sum = value + tonumber(ARGV[2])
    if sum > max or sum < -max then return {2} end
    redis.call('SET', KEYS[1], string.sub(current, 1, sep) .. fmt(sum), 'KEEPTTL')
    return {1, fmt(sum)}
  end
end
redis.call('SET', KEYS[1], '0:' .. ARGV[2])
return {1, ARGV[2]}`,

  /**
   * KEYS: counter. ARGV: now, limit, deadline of a window opened now, backstop grace.
   * Stored: `<window end>:<count>`. → {allowed, count in the window, resetAt}.
   */
  cairnRateLimit: `${prelude}
local limit = tonumber(ARGV[2])
local raw = redis.call('GET', KEYS[1])
local deadline, count = 0, 0
if raw then
  local d, c = split(raw)
  if d > now then deadline, count = d, tonumber(c) end
end
if deadline == 0 then deadline = tonumber(ARGV[3]) end
if count >= limit then return {0, count, deadline} end
count = count + 1
redis.call('SET', KEYS[1], fmt(deadline) .. ':' .. fmt(count), 'PXAT', fmt(deadline + tonumber(ARGV[4])))
return {1, count, deadline}`,

  /**
   * KEYS: lock, fencing counter. ARGV: now, deadline, pxat. Stored: `<deadline>:<token>`.
   * → the new token, or nil while a live lease holds the lock. The counter only grows: when it is
   * missing (a Redis restarted without persistence, or an eviction) it starts again from now × 1000,
   * above every token handed out before unless more than 1,000 locks a millisecond were taken.
   * The token goes back as text, like increment's sum.
   */
  cairnLock: `${prelude}
local raw = redis.call('GET', KEYS[1])
if raw and split(raw) > now then return false end
local token
if redis.call('EXISTS', KEYS[2]) == 1 then
  token = redis.call('INCR', KEYS[2])
else
  token = now * 1000
  redis.call('SET', KEYS[2], fmt(token))
end
token = fmt(token)
redis.call('SET', KEYS[1], ARGV[2] .. ':' .. token, 'PXAT', ARGV[3])
return token`,

  /** KEYS: lock. ARGV: now, token. → 1 when `token` held the lock and released it. */
  cairnUnlock: `${prelude}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local deadline, token = split(raw)
if deadline <= now or token ~= ARGV[2] then return 0 end
redis.call('UNLINK', KEYS[1])
return 1`,

  /** KEYS: lock. ARGV: now, token, new deadline, pxat. → 1 when `token` holds the lock. */
  cairnExtendLock: `${prelude}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local deadline, token = split(raw)
if deadline <= now or token ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3] .. ':' .. token, 'PXAT', ARGV[4])
return 1`,
} as const;

const keyCounts: Record<keyof typeof scripts, number> = {
  cairnSetIfAbsent: 1,
  cairnDelete: 1,
  cairnIncrement: 1,
  cairnRateLimit: 1,
  cairnLock: 2,
  cairnUnlock: 1,
  cairnExtendLock: 1,
};

/** The scripts as ioredis's `scripts` option: each becomes a method of the client. */
export const cacheScripts = Object.fromEntries(
  Object.entries(scripts).map(([name, lua]) => [
    name,
    { lua, numberOfKeys: keyCounts[name as keyof typeof scripts] },
  ]),
);

type Arg = string | number;

/** The methods the scripts add to a client. */
export interface CacheScripts {
  cairnSetIfAbsent(key: string, now: Arg, stored: string, pxat: Arg): Promise<number>;
  cairnDelete(key: string, now: Arg): Promise<number>;
  cairnIncrement(key: string, now: Arg, by: Arg): Promise<[number, string?]>;
  cairnRateLimit(
    key: string,
    now: Arg,
    limit: Arg,
    deadline: Arg,
    grace: Arg,
  ): Promise<[number, number, number]>;
  cairnLock(key: string, fence: string, now: Arg, deadline: Arg, pxat: Arg): Promise<string | null>;
  cairnUnlock(key: string, now: Arg, token: Arg): Promise<number>;
  cairnExtendLock(key: string, now: Arg, token: Arg, deadline: Arg, pxat: Arg): Promise<number>;
}
