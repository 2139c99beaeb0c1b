import type { RedisClient } from 'bun'

/**
 * Publish, atomically: next id from the topic's counter, `id: <n>\n` + body,
 * appended to the history stream (entry id `<n>-0`) and PUBLISHed. One
 * script, so the PUBLISH order is the id order on every subscriber.
 *
 * A missing counter (a new topic, an expired one, or a Redis that restarted
 * without persistence) is seeded from the highest id the publishing process has
 * seen (ARGV[4]) or the history's last entry, so ids never go back to a value
 * clients already hold.
 *
 * The history is bounded by frames (ARGV[3]) and by bytes (ARGV[5]), the oldest
 * frames trimmed first; its byte count is kept in its own key. With a TTL
 * (ARGV[6] ms, 0 for none) every key of the topic expires after that long
 * without a publish.
 *
 * KEYS: counter, stream, bytes. ARGV: channel, body, maxlen, floor, maxbytes, ttl.
 */
export const PUBLISH = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  local floor = tonumber(ARGV[4]) or 0
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  if last[1] then
    local seen = tonumber(string.match(last[1][1], '^(%d+)'))
    if seen > floor then floor = seen end
  end
  redis.call('SET', KEYS[1], string.format('%d', floor))
end
local id = string.format('%d', redis.call('INCR', KEYS[1]))
local frame = 'id: ' .. id .. '\\n' .. ARGV[2]
local len = redis.call('XLEN', KEYS[2])
local bytes = tonumber(redis.call('GET', KEYS[3]) or '-1')
if bytes < 0 then
  -- A history written without a byte count: counted once.
  bytes = 0
  local from = '-'
  repeat
    local batch = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', 100)
    for _, e in ipairs(batch) do bytes = bytes + string.len(e[2][2]); from = '(' .. e[1] end
  until #batch < 100
end
redis.call('XADD', KEYS[2], id .. '-0', 'f', frame)
len = len + 1
bytes = bytes + string.len(frame)
local maxlen = tonumber(ARGV[3])
local maxbytes = tonumber(ARGV[5])
local cut = nil
local from = '-'
while len > 0 and (len > maxlen or bytes > maxbytes) do
  local batch = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', 4)
  for _, e in ipairs(batch) do
    if not (len > 0 and (len > maxlen or bytes > maxbytes)) then break end
    bytes = bytes - string.len(e[2][2])
    len = len - 1
    cut = tonumber(string.match(e[1], '^(%d+)'))
    from = '(' .. e[1]
  end
end
-- MINID trims the ids below it: n-0 and older go, n+1-0 stays.
if cut then redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', cut) .. '-1') end
redis.call('SET', KEYS[3], string.format('%d', bytes))
local ttl = tonumber(ARGV[6])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
redis.call('PUBLISH', ARGV[1], frame)
return id
`

/**
 * Raises a topic's counter to at least ARGV[1]: after Redis comes back empty,
 * every process that saw a topic puts back the highest id it saw, so the next
 * id is above any a client may hold, whichever process publishes first. With
 * a TTL (ARGV[2] ms, 0 for none) the counter expires as the topic's keys do.
 *
 * KEYS: counter.
 */
export const RAISE_COUNTER = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
  if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
return 1
`

// Lua: one page of the stream KEYS[2] after entry id `from` (exclusive): at most `maxn`
// entries and `maxb` bytes (a larger first entry still comes alone). Sets `page` and `more`.
const READ_PAGE = `
local page = {}
local more = 0
local bytes = 0
while more == 0 and #page < maxn do
  -- One entry past what the page can take: its presence says more are left.
  local want = math.min(64, maxn - #page + 1)
  local batch = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', want)
  for _, e in ipairs(batch) do
    local size = string.len(e[2][2])
    if #page >= maxn or (#page > 0 and bytes + size > maxb) then more = 1; break end
    page[#page + 1] = e
    bytes = bytes + size
    from = '(' .. e[1]
  end
  if #batch < want then break end
end
if more == 0 and #page >= maxn and redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', 1)[1] then more = 1 end
`

/**
 * One page of history after an id: { complete (1|0), entries, more (1|0) }.
 * Complete when the id is one this topic has given out and nothing after it
 * was trimmed away; more when entries are left after the page.
 *
 * KEYS: counter, stream. ARGV: after id, most entries, most bytes.
 */
export const REPLAY_AFTER = `
local counter = tonumber(redis.call('GET', KEYS[1]) or '0')
local after = tonumber(ARGV[1])
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local firstId = counter + 1
if first[1] then firstId = tonumber(string.match(first[1][1], '^(%d+)')) end
local complete = 0
if after <= counter and after >= firstId - 1 then complete = 1 end
local from = '(' .. ARGV[1] .. '-0'
local maxn = tonumber(ARGV[2])
local maxb = tonumber(ARGV[3])
${READ_PAGE}
return { complete, page, more }
`

/**
 * The first page of the last ARGV[1] frames: { after, entries, more }, where
 * `after` is the id the page starts after (ids are consecutive: the last k
 * frames are those after counter - k).
 *
 * KEYS: counter, stream. ARGV: k, most entries, most bytes.
 */
export const REPLAY_LAST = `
local after = tonumber(redis.call('GET', KEYS[1]) or '0') - tonumber(ARGV[1])
if after < 0 then after = 0 end
local from = '(' .. string.format('%d', after) .. '-0'
local maxn = tonumber(ARGV[2])
local maxb = tonumber(ARGV[3])
${READ_PAGE}
return { after, page, more }
`

/**
 * This process's counts: replaces its hash, sets its TTL, and records it in the
 * process set with its expiry time, so a process that stops refreshing stops
 * counting once its TTL passes.
 *
 * KEYS: process set, this process's hash. ARGV: process id, ttl ms, field, value, ...
 * (set 500 fields at a time: Lua unpacks at most about 8,000 values, and per-user topics make more)
 */
export const SET_COUNTS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', KEYS[2])
for i = 3, #ARGV, 1000 do redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV))) end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
`

/**
 * Counts summed over live processes: drops expired processes from the set, then
 * adds up their hashes. Returns a flat [field, sum, ...] list.
 *
 * KEYS: process set. ARGV: hash key prefix (the process id is appended).
 */
export const CLUSTER_COUNTS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local sums = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local h = redis.call('HGETALL', ARGV[1] .. id)
  for i = 1, #h, 2 do sums[h[i]] = (sums[h[i]] or 0) + tonumber(h[i + 1]) end
end
local out = {}
for k, v in pairs(sums) do out[#out + 1] = k; out[#out + 1] = string.format('%d', v) end
return out
`

const shaOf = new Map<string, string>()
const sha1 = (script: string) => {
	let sha = shaOf.get(script)
	if (!sha) shaOf.set(script, (sha = new Bun.CryptoHasher('sha1').update(script).digest('hex')))
	return sha
}

/**
 * Runs `script` by its SHA (EVALSHA) and falls back to EVAL when the server does
 * not have it cached (first use, or after a restart flushed the cache).
 * Arguments may be bytes: Bun's `send` passes a Uint8Array through unchanged.
 */
export async function runScript(
	client: RedisClient,
	script: string,
	keys: string[],
	args: (string | Uint8Array)[]
): Promise<any> {
	const rest = [String(keys.length), ...keys, ...args] as string[]
	try {
		return await client.send('EVALSHA', [sha1(script), ...rest])
	} catch (error) {
		if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error
		return client.send('EVAL', [script, ...rest])
	}
}
