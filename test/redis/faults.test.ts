import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import type { Frame } from '../../src/hub/transport'
import { redis, RedisUnavailableError, type RedisTransport } from '../../src/hub/redis'
import { until } from '../support/server'
import { needService, redisAnswers } from '../support/services'
import { type OwnRedis, redisServerInstalled, startOwnRedis, uniquePrefix } from '../support/redis-server'

// These tests stop and start a redis-server of their own (so they need its binary too).
const { skip } = needService('redis', (await redisAnswers()) && redisServerInstalled)
const body = (text: string) => new TextEncoder().encode(`data: ${text}\n\n`)
let server: OwnRedis
const open: RedisTransport[] = []

function transport(prefix: string, commandTimeoutMs = 2000) {
	const errors: Error[] = []
	const statuses: string[] = []
	const t = redis({
		url: server.url,
		prefix,
		presenceTtlMs: 1000,
		maxBackoffMs: 200,
		commandTimeoutMs,
		onError: (e) => errors.push(e),
		onStatus: (s) => statuses.push(s)
	})
	open.push(t)
	return Object.assign(t, { errors, statuses })
}

function collect(t: RedisTransport, topic: string) {
	const frames: Frame[] = []
	t.listen(topic, (f) => frames.push(f))
	return { frames, ids: () => frames.map((f) => Number(f.id)) }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

beforeAll(async () => {
	if (!skip) server = await startOwnRedis()
})
afterAll(async () => {
	await Promise.all(open.map((t) => t.close()))
	await server?.stop()
})

describe.skipIf(skip)('redis transport when Redis goes away', () => {
	test('Redis stopped and started again: publishes are refused meanwhile, errors are reported, delivery resumes with ids still increasing', async () => {
		const prefix = uniquePrefix('restart')
		const [a, b] = [transport(prefix), transport(prefix)]
		expect(await a.ready()).toBe(true)
		expect(await b.ready()).toBe(true)
		const onA = collect(a, 'f')
		await a.replay('f', undefined)
		for (let i = 1; i <= 5; i++) await b.publish('f', body(`before${i}`))
		await until(() => onA.frames.length === 5, 2000, 'frames before the outage')
		a.setCounts({ total: 2 })

		await server.stop()
		await until(() => !a.connected && !b.connected, 3000, 'both to notice')
		const refused = await b.publish('f', body('during')).catch((e) => e)
		expect(refused).toBeInstanceOf(RedisUnavailableError)
		expect(refused.message).toMatch(/unreachable; publish refused/)
		expect(await a.clusterCounts()).toEqual({ total: 2 }) // its own, while Redis is away
		expect(a.errors.some((e) => /lost the (subscriber|command) connection/.test(e.message))).toBe(true)
		expect(a.statuses).toEqual(['up', 'down'])
		await Bun.sleep(500) // several failed reconnects: reported once, not once per attempt
		expect(a.errors.filter((e) => /lost the subscriber/.test(e.message)).length).toBe(1)

		await server.start()
		expect(await a.ready(5000)).toBe(true)
		expect(await b.ready(5000)).toBe(true)
		expect(a.statuses).toEqual(['up', 'down', 'up'])
		await until(() => a.connected && b.connected, 3000, 'both up')
		// Redis lost the counter (no persistence): the processes that saw the topic put it back,
		// so even a process that never saw it publishes the next id, not 1 again.
		const admin = new RedisClient(server.url)
		for (let i = 0; i < 100 && (await admin.get(`${prefix}:{f}:n`)) !== '5'; i++) await Bun.sleep(10)
		admin.close()
		const newcomer = transport(prefix)
		expect(await newcomer.ready()).toBe(true)
		const after = await newcomer.publish('f', body('after'))
		expect(after.id).toBe('6')
		await until(() => onA.frames.length === 6, 3000, 'a frame after the outage')
		expect(onA.ids()).toEqual(range(1, 6))
		// And the presence counts were written again.
		let counts: Record<string, number> = {}
		for (let i = 0; i < 100 && counts.total !== 2; i++) (counts = await b.clusterCounts()), await Bun.sleep(20)
		expect(counts.total).toBe(2)
	}, 20_000)

	test('a dropped subscriber connection loses nothing: what was published meanwhile is read from history, in order, once', async () => {
		const prefix = uniquePrefix('gap')
		const [a, b] = [transport(prefix), transport(prefix)]
		await Promise.all([a.ready(), b.ready()])
		const onA = collect(a, 'g')
		await a.replay('g', undefined)
		const admin = new RedisClient(server.url)
		let n = 0
		const publisher = (async () => {
			while (n < 600) {
				await b.publish('g', body(`g${++n}`))
				if (n % 50 === 0) await Bun.sleep(5)
			}
		})()
		const killedAt: number[] = []
		for (let kill = 0; kill < 3; kill++) {
			await Bun.sleep(15)
			await admin.send('CLIENT', ['KILL', 'TYPE', 'pubsub'])
			killedAt.push(n)
		}
		expect(killedAt.at(-1)).toBeLessThan(600) // the drops happened mid-stream
		await publisher
		admin.close()
		await until(() => onA.frames.length >= 600, 5000, 'all 600 frames')
		await Bun.sleep(100)
		expect(onA.ids()).toEqual(range(1, 600))
		expect(a.errors.some((e) => /lost the subscriber connection/.test(e.message))).toBe(true)
	})

	test('a hung Redis (SIGSTOP) makes publish fail within the command timeout instead of hanging; the connections are replaced and delivery resumes', async () => {
		const prefix = uniquePrefix('hung')
		const [a, b] = [transport(prefix, 300), transport(prefix, 300)]
		await Promise.all([a.ready(), b.ready()])
		const onA = collect(a, 'h')
		await a.replay('h', undefined)
		for (let i = 1; i <= 3; i++) await b.publish('h', body(`h${i}`))
		await until(() => onA.frames.length === 3, 2000, 'frames before the hang')
		a.setCounts({ total: 1 })

		server.freeze()
		try {
			const refused = await b.publish('h', body('during')).catch((e) => e)
			expect(refused).toBeInstanceOf(RedisUnavailableError)
			expect(String(refused.cause?.message)).toMatch(/no answer from Redis within 300 ms/)
			expect(await a.clusterCounts()).toEqual({ total: 1 })
			// The PING watchdog finds the subscriber connection hung too.
			await until(() => a.errors.some((e) => /lost the subscriber connection/.test(e.message)), 3000, 'the hang to be noticed')
		} finally {
			server.thaw()
		}
		expect(await a.ready(3000)).toBe(true)
		expect(await b.ready(3000)).toBe(true)
		const after = await b.publish('h', body('after'))
		await until(() => onA.frames.at(-1)?.id === after.id, 3000, 'the frame after the hang')
		// In order, once each; 'during' may or may not have run when Redis woke up.
		expect(onA.ids()).toEqual(range(1, Number(after.id)))
	}, 20_000)
})
