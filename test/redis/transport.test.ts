import { afterAll, describe, expect, test } from 'bun:test'
import type { Frame } from '../../src/hub/transport'
import { redis, RedisUnavailableError, type RedisTransport } from '../../src/hub/redis'
import { until } from '../support/server'
import { needService, redisAnswers, redisUrl } from '../support/services'
import { dropTestKeys, uniquePrefix } from '../support/redis-server'
import { freePort } from '../support/example'
import { RedisClient } from 'bun'

const { skip } = needService('redis', await redisAnswers())
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const body = (text: string) => encoder.encode(`data: ${text}\n\n`)
const open: RedisTransport[] = []

/** A transport on the shared Redis; errors are collected, not printed. */
async function transport(prefix: string, options: Parameters<typeof redis>[0] = {}) {
	const errors: Error[] = []
	const t = redis({ url: redisUrl, prefix, onError: (e) => errors.push(e), ...options })
	open.push(t)
	expect(await t.ready()).toBe(true)
	return Object.assign(t, { errors })
}

function collect(t: RedisTransport, topic: string) {
	const frames: Frame[] = []
	const stop = t.listen(topic, (f) => frames.push(f))
	return { frames, stop, ids: () => frames.map((f) => Number(f.id)) }
}

afterAll(async () => {
	await Promise.all(open.map((t) => t.close()))
	if (!skip) await dropTestKeys(redisUrl)
})

describe.skipIf(skip)('redis transport', () => {
	test('a frame published on one process reaches every process, publisher included, once, in id order, as the same bytes', async () => {
		const prefix = uniquePrefix('fanout')
		const [a, b] = [await transport(prefix), await transport(prefix)]
		const onA = collect(a, 'news')
		const onB = collect(b, 'news')
		await a.replay('news', undefined) // waits until the subscription is live
		await b.replay('news', undefined)
		const published: Frame[] = []
		for (let i = 1; i <= 50; i++) published.push(await b.publish('news', body(`n${i}`)))
		expect(published.map((f) => f.id)).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)))
		await until(() => onA.frames.length >= 50 && onB.frames.length >= 50, 3000, '50 frames on both')
		await Bun.sleep(50)
		for (const got of [onA.frames, onB.frames]) {
			expect(got.map((f) => f.id)).toEqual(published.map((f) => f.id))
			expect(got.map((f) => decoder.decode(f.bytes))).toEqual(published.map((f) => decoder.decode(f.bytes)))
		}
		expect(decoder.decode(onA.frames[6]!.bytes)).toBe('id: 7\ndata: n7\n\n')
		expect(onA.frames[0]!.topic).toBe('news')
	})

	test('concurrent publishers on two processes share one id sequence; every listener sees it in the same order', async () => {
		const prefix = uniquePrefix('order')
		const [a, b] = [await transport(prefix), await transport(prefix)]
		const onA = collect(a, 't')
		const onB = collect(b, 't')
		await Promise.all([a.replay('t', undefined), b.replay('t', undefined)])
		const sent = await Promise.all(
			Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).publish('t', body(`${i % 2 ? 'a' : 'b'}${i}`)))
		)
		expect(new Set(sent.map((f) => f.id)).size).toBe(200)
		await until(() => onA.frames.length >= 200 && onB.frames.length >= 200, 3000, '200 frames')
		const expected = Array.from({ length: 200 }, (_, i) => i + 1)
		expect(onA.ids()).toEqual(expected)
		expect(onB.ids()).toEqual(expected)
		// The bytes with a given id are the bytes its publisher encoded.
		const byId = new Map(sent.map((f) => [f.id, decoder.decode(f.bytes)]))
		for (const f of onA.frames) expect(decoder.decode(f.bytes)).toBe(byId.get(f.id)!)
	})

	test('frames are carried byte for byte: multi-byte text, CR, NUL; bytes that are not UTF-8 are refused and nothing is sent', async () => {
		const prefix = uniquePrefix('bytes')
		const a = await transport(prefix)
		const on = collect(a, 'b')
		await a.replay('b', undefined)
		const text = 'data: héllo 𝄞 世界 \u0000 ok\r\ndata: ✓\n\n'
		const frame = await a.publish('b', encoder.encode(text))
		await until(() => on.frames.length === 1, 2000, 'the frame')
		const want = encoder.encode(`id: 1\n${text}`)
		expect(frame.bytes).toEqual(want)
		expect(on.frames[0]!.bytes).toEqual(want)
		expect((await a.replay('b', '0')).frames[0]!.bytes).toEqual(want)
		expect(a.publish('b', new Uint8Array([0x64, 0x3a, 0xff, 0x0a, 0x0a]))).rejects.toThrow(/UTF-8/)
		await Bun.sleep(50)
		expect((await a.replay('b', '0')).frames.length).toBe(1)
		expect((await a.publish('b', body('next'))).id).toBe('2')
	})

	test('replay: frames after an id, the last K, and an unknown, too old or malformed id marked incomplete', async () => {
		const prefix = uniquePrefix('replay')
		const a = await transport(prefix, { history: { maxFrames: 5 } })
		for (let i = 1; i <= 10; i++) await a.publish('r', body(`m${i}`))
		const ids = (r: { frames: Frame[] }) => r.frames.map((f) => Number(f.id))

		const after7 = await a.replay('r', '7')
		expect(after7.complete).toBe(true)
		expect(ids(after7)).toEqual([8, 9, 10])
		expect(decoder.decode(after7.frames[0]!.bytes)).toBe('id: 8\ndata: m8\n\n')

		expect(await a.replay('r', '10')).toEqual({ frames: [], complete: true })
		const edge = await a.replay('r', '5') // the oldest kept is 6: nothing missed
		expect([edge.complete, ids(edge)]).toEqual([true, [6, 7, 8, 9, 10]])

		const old = await a.replay('r', '2') // 3..5 were trimmed away
		expect([old.complete, ids(old)]).toEqual([false, [6, 7, 8, 9, 10]])
		expect((await a.replay('r', '99')).complete).toBe(false)
		expect((await a.replay('r', 'abc')).complete).toBe(false)
		expect((await a.replay('r', '-1')).complete).toBe(false)

		expect(ids(await a.replay('r', undefined, 3))).toEqual([8, 9, 10])
		expect(ids(await a.replay('r', undefined, 50))).toEqual([6, 7, 8, 9, 10])
		expect(await a.replay('r', undefined)).toEqual({ frames: [], complete: true })
		expect(await a.replay('never-published', '0')).toEqual({ frames: [], complete: true })
	})

	test('a listener that joins while others publish misses nothing between its replay and live frames, and has the replay\'s frames when it resolves', async () => {
		const prefix = uniquePrefix('join')
		const [a, b] = [await transport(prefix, { history: { maxFrames: 5000 } }), await transport(prefix, { history: { maxFrames: 5000 } })]
		let publishing = true
		const publisher = (async () => {
			let n = 0
			while (publishing && n < 2000) await b.publish('j', body(`x${++n}`))
		})()
		await Bun.sleep(30)
		const on = collect(a, 'j')
		const history = await a.replay('j', '0')
		expect(history.complete).toBe(true)
		expect(history.frames.length).toBeGreaterThan(0)
		// As with memory: when replay() resolves, listeners already had its newest frame
		// (pub/sub can lag the history reply; a caller holding live frames relies on this).
		expect(on.ids().at(-1)!).toBeGreaterThanOrEqual(Number(history.frames.at(-1)!.id))
		await Bun.sleep(50)
		publishing = false
		await publisher
		const last = Number((await a.replay('j', undefined, 1)).frames[0]!.id)
		await until(() => on.ids().at(-1) === last, 3000, 'the last frame live')
		const seen = new Set([...history.frames.map((f) => Number(f.id)), ...on.ids()])
		expect(seen.size).toBe(last)
		expect(on.frames.length).toBeGreaterThan(0)
		expect(on.ids()).toEqual(Array.from({ length: on.frames.length }, (_, i) => on.ids()[0]! + i))
	})

	test('presence counts are summed over processes; a closed process leaves the total at once', async () => {
		const prefix = uniquePrefix('presence')
		const [a, b] = [await transport(prefix), await transport(prefix)]
		a.setCounts({ total: 3, 'topic:chat': 2 })
		b.setCounts({ total: 4, 'topic:chat': 1, 'topic:news': 3 })
		await until(() => true)
		let counts: Record<string, number> = {}
		for (let i = 0; i < 100 && counts.total !== 7; i++) (counts = await a.clusterCounts()), await Bun.sleep(10)
		expect(counts).toEqual({ total: 7, 'topic:chat': 3, 'topic:news': 3 })
		expect(await b.clusterCounts()).toEqual(counts)
		b.setCounts({ total: 1 })
		await until(() => true)
		for (let i = 0; i < 100 && counts.total !== 4; i++) (counts = await a.clusterCounts()), await Bun.sleep(10)
		expect(counts).toEqual({ total: 4, 'topic:chat': 2 })
		await b.close()
		expect(await a.clusterCounts()).toEqual({ total: 3, 'topic:chat': 2 })
	})

	test('presence counts of thousands of topics (one per user) are written and summed', async () => {
		const prefix = uniquePrefix('many-counts')
		const [a, b] = [await transport(prefix), await transport(prefix)]
		// Past what one Lua unpack takes (about 8,000 values: 4,000 counts).
		const many: Record<string, number> = { total: 6000 }
		for (let i = 0; i < 6000; i++) many[`topic:user:${i}`] = 1
		a.setCounts(many)
		b.setCounts({ total: 1, 'topic:user:0': 1 })
		let counts: Record<string, number> = {}
		for (let i = 0; i < 100 && counts.total !== 6001; i++) (counts = await b.clusterCounts()), await Bun.sleep(10)
		expect(Object.keys(counts)).toHaveLength(6001)
		expect(counts['topic:user:0']).toBe(2)
		expect(counts['topic:user:5999']).toBe(1)
	})

	test('a process killed without cleanup stops counting within its TTL', async () => {
		const prefix = uniquePrefix('ttl')
		const a = await transport(prefix, { presenceTtlMs: 600 })
		a.setCounts({ total: 1 })
		const child = Bun.spawn(['bun', 'run', `${import.meta.dir}/fixtures/counting-process.ts`], {
			env: { ...process.env, REDIS_URL: redisUrl, PREFIX: prefix, TTL: '600', TOTAL: '5' },
			stdout: 'pipe',
			stderr: 'inherit'
		})
		try {
			await until(() => true)
			const reader = child.stdout.getReader()
			expect(decoder.decode((await reader.read()).value)).toContain('ready')
			let counts: Record<string, number> = {}
			for (let i = 0; i < 100 && counts.total !== 6; i++) (counts = await a.clusterCounts()), await Bun.sleep(10)
			expect(counts.total).toBe(6)
			// Past several heartbeats, the live process still counts.
			await Bun.sleep(1000)
			expect((await a.clusterCounts()).total).toBe(6)
			child.kill('SIGKILL')
			await child.exited
			const killedAt = performance.now()
			while ((await a.clusterCounts()).total !== 1) {
				expect(performance.now() - killedAt).toBeLessThan(600 + 300)
				await Bun.sleep(20)
			}
		} finally {
			child.kill('SIGKILL')
		}
	}, 15_000)

	test('closed: publish is refused with a clear error', async () => {
		const a = await transport(uniquePrefix('closed'))
		await a.close()
		expect(a.publish('x', body('y'))).rejects.toBeInstanceOf(RedisUnavailableError)
	})

	test('bad options are refused at once; a Redis error reply is reported as such; the password stays out of messages', async () => {
		expect(() => redis({ history: { maxFrames: 0 } })).toThrow(/history.maxFrames must be a positive integer/)
		expect(() => redis({ presenceTtlMs: -1 })).toThrow(/presenceTtlMs must be a positive integer/)

		const prefix = uniquePrefix('errors')
		const a = await transport(prefix)
		const admin = new RedisClient(redisUrl)
		await admin.send('HSET', [`${prefix}:{t}:n`, 'not', 'a counter'])
		admin.close()
		const refused = await a.publish('t', body('x')).catch((e) => e)
		expect(refused).not.toBeInstanceOf(RedisUnavailableError)
		expect(refused.message).toMatch(/Redis refused the publish to "t": .*WRONGTYPE/)

		const errors: Error[] = []
		const nowhere = redis({ url: `redis://:hunter2@127.0.0.1:${freePort()}`, onError: (e) => errors.push(e) })
		open.push(nowhere)
		const failed = await nowhere.publish('t', body('x')).catch((e) => e)
		expect(failed).toBeInstanceOf(RedisUnavailableError)
		await until(() => errors.length > 0, 3000, 'a reported error')
		for (const text of [failed.message, nowhere.url, ...errors.map((e) => e.message)]) expect(text).not.toContain('hunter2')
		expect(nowhere.url).toContain('***')
	})
})
