// The redis transport's history: read in pages, bounded by bytes as well as frames, expiring
// when a topic goes quiet (if asked), and a full history replayed whole to a client that reads.
import { afterAll, describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import net from 'node:net'
import { Hub, HubEvents } from '../../src/hub'
import type { Frame } from '../../src/hub/transport'
import { redis, type RedisTransport, type RedisTransportOptions } from '../../src/hub/redis'
import { ResponseStream } from '../../src/stream'
import { until } from '../support/server'
import { needService, redisAnswers, redisUrl } from '../support/services'
import { dropTestKeys, redisServerInstalled, startOwnRedis, uniquePrefix, type OwnRedis } from '../support/redis-server'
import { idsOf, parseEvents } from '../hub/sse-events'
import { readTextInto } from '../support/read-text'

const { skip } = needService('redis', (await redisAnswers()) && redisServerInstalled)
const encoder = new TextEncoder()
const body = (text: string) => encoder.encode(`data: ${text}\n\n`)
const ids = (frames: Frame[]) => frames.map((f) => Number(f.id))
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const open: RedisTransport[] = []
const servers: OwnRedis[] = []
const clients: RedisClient[] = []

async function transport(url: string, prefix: string, options: RedisTransportOptions = {}) {
	const t = redis({ url, prefix, onError: () => {}, ...options })
	open.push(t)
	expect(await t.ready()).toBe(true)
	return t
}

function client(url = redisUrl): RedisClient {
	const c = new RedisClient(url, { autoReconnect: false })
	clients.push(c)
	return c
}

/** Every command the Redis at `port` runs, Lua's included, as MONITOR prints them. */
async function monitor(port: number): Promise<{ lines: string[]; close(): void }> {
	const socket = net.connect(port, '127.0.0.1')
	await new Promise((resolve) => socket.once('connect', resolve))
	const lines: string[] = []
	let rest = ''
	socket.setEncoding('utf8')
	socket.on('data', (d: string) => {
		const parts = (rest + d).split('\r\n')
		rest = parts.pop()!
		lines.push(...parts)
	})
	socket.write('MONITOR\r\n')
	await until(() => lines[0] === '+OK', 2000, 'MONITOR')
	return { lines, close: () => socket.destroy() }
}

/** An SSE stream whose body is read as it arrives. */
function reader() {
	const stream = new ResponseStream({ contentType: 'text/event-stream', heartbeatMs: 0 })
	const state = { text: '', stream }
	void readTextInto(stream.response, state)
	return state
}

afterAll(async () => {
	await Promise.all(open.map((t) => t.close()))
	for (const c of clients) c.close()
	await Promise.all(servers.map((s) => s.stop()))
	if (!skip) await dropTestKeys(redisUrl)
})

describe.skipIf(skip)('redis history', () => {
	test('replay and catch-up read in pages (XRANGE ... COUNT), never a whole stream in one reply', async () => {
		const server = await startOwnRedis()
		servers.push(server)
		const t = await transport(server.url, uniquePrefix('pages'), { pageFrames: 10 })
		for (let i = 1; i <= 95; i++) await t.publish('p', body(`m${i}`))
		const seen = await monitor(server.port)
		const whole = await t.replay('p', '0')
		expect([whole.complete, ids(whole.frames)]).toEqual([true, range(1, 95)])
		expect(ids((await t.replay('p', undefined, 40)).frames)).toEqual(range(56, 95))
		const page = await t.replay('p', '20', 0, { maxFrames: 7 })
		expect([page.complete, page.more, ids(page.frames)]).toEqual([true, true, range(21, 27)])
		// A page stops at its bytes too (frames of 16 or 17 bytes here): a client that does not read holds little.
		const small = await t.replay('p', '20', 0, { maxFrames: 100, maxBytes: 50 })
		expect([small.more, ids(small.frames)]).toEqual([true, range(21, 22)])
		const lastPage = await t.replay('p', undefined, 40, { maxFrames: 100, maxBytes: 50 })
		expect([lastPage.complete, lastPage.more, ids(lastPage.frames)]).toEqual([true, true, range(56, 57)])
		const end = await t.replay('p', '90', 0, { maxFrames: 7 })
		expect([end.more, ids(end.frames)]).toEqual([undefined, range(91, 95)])
		// A listener that joins after frames it missed catches up from history, also in pages.
		const got: Frame[] = []
		t.listen('p', (f) => got.push(f))
		await t.replay('p', undefined)
		await t.publish('p', body('live'))
		await until(() => got.length > 0)
		seen.close()
		const reads = seen.lines.filter((l) => /"X(REV)?RANGE"/i.test(l))
		expect(reads.length).toBeGreaterThan(10)
		for (const line of reads) expect(line).toMatch(/"COUNT" "\d+"/i)
		for (const line of reads) expect(Number(/"COUNT" "(\d+)"/i.exec(line)![1])).toBeLessThanOrEqual(11)
	})

	test('frames are decoded once per process: a live frame and the replays of it, by any number of clients, are one object', async () => {
		const prefix = uniquePrefix('shared')
		const t = await transport(redisUrl, prefix)
		const live: Frame[] = []
		t.listen('s', (f) => live.push(f))
		await t.replay('s', undefined) // the subscription is live
		for (let i = 1; i <= 20; i++) await t.publish('s', body(`s${i}`))
		await until(() => live.length === 20)
		const replays = await Promise.all(Array.from({ length: 10 }, () => t.replay('s', '0', 0, { maxFrames: 100 })))
		for (const r of replays) {
			expect(ids(r.frames)).toEqual(range(1, 20))
			r.frames.forEach((f, i) => expect(f).toBe(live[i]!))
		}
		// A topic whose ids started over (its keys gone) never gets the old bytes for a reused id.
		await client().send('DEL', [`${prefix}:{s}:h`])
		await client().send('XADD', [`${prefix}:{s}:h`, '1-0', 'f', 'id: 1\ndata: other\n\n'])
		const reused = await t.replay('s', '0', 0, { maxFrames: 1 })
		expect(new TextDecoder().decode(reused.frames[0]!.bytes)).toBe('id: 1\ndata: other\n\n')
	})

	test('history is bounded by bytes as well as frames: the oldest go first, and a replay before them is incomplete', async () => {
		const prefix = uniquePrefix('bytes')
		const t = await transport(redisUrl, prefix, { history: { maxFrames: 1000, maxBytes: 1000 } })
		// Frames of 107 and 108 bytes: nine fit in 1,000 bytes, not ten.
		for (let i = 1; i <= 30; i++) await t.publish('b', body('x'.repeat(90 + (i % 2))))
		const r = client()
		const entries: [string, string[]][] = await r.send('XRANGE', [`${prefix}:{b}:h`, '-', '+'])
		const sizes = entries.map(([, f]) => Buffer.byteLength(f[1]!))
		const total = sizes.reduce((a, b) => a + b, 0)
		expect(total).toBeLessThanOrEqual(1000)
		expect(total + 108).toBeGreaterThan(1000) // not one frame more than needed was trimmed
		expect(Number(await r.get(`${prefix}:{b}:b`))).toBe(total)
		const oldest = Number.parseInt(entries[0]![0])
		expect(oldest).toBe(30 - entries.length + 1)
		const before = await t.replay('b', String(oldest - 2))
		expect([before.complete, ids(before.frames)]).toEqual([false, range(oldest, 30)])
		const edge = await t.replay('b', String(oldest - 1))
		expect([edge.complete, ids(edge.frames)]).toEqual([true, range(oldest, 30)])
		// The frame bound still holds beside the byte bound.
		const few = await transport(redisUrl, prefix, { history: { maxFrames: 3, maxBytes: 1000 } })
		await few.publish('b', body('y'))
		expect(Number(await r.send('XLEN', [`${prefix}:{b}:h`]))).toBe(3)
	})

	test('topicTtlMs: a quiet topic\'s keys expire; a publish keeps them; ids go on from what this process saw', async () => {
		const prefix = uniquePrefix('ttl')
		const t = await transport(redisUrl, prefix, { topicTtlMs: 400 })
		const keys = ['n', 'h', 'b'].map((k) => `${prefix}:{quiet}:${k}`)
		const r = client()
		for (let i = 1; i <= 3; i++) await t.publish('quiet', body(`q${i}`))
		for (const key of keys) {
			const ttl = Number(await r.send('PTTL', [key]))
			expect(ttl).toBeGreaterThan(0)
			expect(ttl).toBeLessThanOrEqual(400)
		}
		// Publishing keeps the topic alive past one TTL.
		for (let i = 0; i < 4; i++) {
			await Bun.sleep(150)
			await t.publish('quiet', body('still here'))
		}
		expect(Number(await r.send('EXISTS', keys))).toBe(3)
		const quietSince = performance.now()
		while (Number(await r.send('EXISTS', keys)) > 0) {
			expect(performance.now() - quietSince).toBeLessThan(3000)
			await Bun.sleep(50)
		}
		// Gone from Redis; this process saw id 7, so the topic's next id is 8, not 1.
		expect((await t.publish('quiet', body('again'))).id).toBe('8')
		// A transport without a TTL leaves keys for good.
		const keepPrefix = uniquePrefix('no-ttl')
		const keep = await transport(redisUrl, keepPrefix)
		await keep.publish('kept', body('k'))
		expect(Number(await r.send('PTTL', [`${keepPrefix}:{kept}:n`]))).toBe(-1)
	})

	test('a full history (frames of odd sizes, filled near its byte bound) reaches a reconnecting client whole, in pages, with no cut-off', async () => {
		const prefix = uniquePrefix('whole')
		const t = await transport(redisUrl, prefix, { pageFrames: 64 })
		const hub = new Hub({ transport: t })
		// 600 frames of 1,933 to 1,943 characters: the 1 MiB history drops the oldest ~65.
		for (let i = 1; i <= 600; i++) await hub.publish('w', 'tick', 'x'.repeat(1933 + ((i * 37) % 11)))
		const oldest = Number.parseInt((await client().send('XRANGE', [`${prefix}:{w}:h`, '-', '+', 'COUNT', '1']))[0][0])
		expect(oldest).toBeGreaterThan(1)
		const readers = Array.from({ length: 5 }, () => reader())
		readers.forEach((r, i) => hub.subscribe(r.stream, 'w', { lastEventId: i % 2 ? '1' : String(oldest - 1) }))
		await until(() => readers.every((r) => r.text.includes('id: 600\n')), 10_000, 'every replay to end')
		readers.forEach((r, i) => {
			const events = parseEvents(r.text)
			expect(events.filter((e) => e.event === HubEvents.slowConsumer)).toEqual([])
			expect(events.filter((e) => e.event === HubEvents.replayIncomplete).length).toBe(i % 2)
			expect(idsOf(r.text)).toEqual(range(oldest, 600))
		})
		await hub.publish('w', 'tick', 'live')
		await until(() => readers.every((r) => r.text.includes('id: 601\n')))
		for (const r of readers) r.stream.close()
	}, 20_000)
})
