import { afterAll, describe, expect, test } from 'bun:test'
import { type ClusterNode, postJson, startNode } from '../support/cluster'
import { dropTestKeys, redisServerInstalled, startOwnRedis, uniquePrefix, type OwnRedis } from '../support/redis-server'
import { needService, redisAnswers, redisUrl } from '../support/services'
import { readSse, type SseReader } from '../support/sse-reader'
import { until } from '../support/server'

// Two (or more) server processes that share broadcast through Redis.
const { skip } = needService('redis', (await redisAnswers()) && redisServerInstalled)
const nodes: ClusterNode[] = []
const readers: SseReader[] = []
const servers: OwnRedis[] = []

async function cluster(n: number, env: Record<string, string> = {}): Promise<ClusterNode[]> {
	const prefix = uniquePrefix('cluster')
	const started = await Promise.all(
		Array.from({ length: n }, () => startNode('redis/fixtures/node.ts', { REDIS_URL: redisUrl, PREFIX: prefix, ...env }))
	)
	nodes.push(...started)
	return started
}

/** Subscribes; Last-Event-ID 0 makes the server wait until its Redis subscription is live. */
async function subscribe(node: ClusterNode, topic: string, lastEventId = '0'): Promise<SseReader> {
	const reader = await readSse(`${node.url}/stream/${topic}`, { lastEventId })
	readers.push(reader)
	expect(reader.status).toBe(200)
	return reader
}

// Published as event 'message', the default type: the frame may leave the field out.
const messages = (r: SseReader) => r.events.filter((e) => (e.event ?? 'message') === 'message')
const ids = (r: SseReader) => messages(r).map((e) => Number(e.id))
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function counts(node: ClusterNode): Promise<Record<string, number>> {
	return (await fetch(`${node.url}/counts`)).json() as Promise<Record<string, number>>
}
async function connections(node: ClusterNode): Promise<Record<string, unknown>> {
	return (await fetch(`${node.url}/connections`)).json() as Promise<Record<string, unknown>>
}

afterAll(async () => {
	for (const r of readers) r.close()
	await Promise.all(nodes.map((n) => n.kill()))
	await Promise.all(servers.map((s) => s.stop()))
	if (!skip) await dropTestKeys(redisUrl)
})

describe.skipIf(skip)('broadcast across processes through Redis', () => {
	test('a client on A receives what is published on B, exactly once, in order', async () => {
		const [a, b] = await cluster(2)
		const onA = await subscribe(a, 'room')
		const onB = await subscribe(b, 'room')
		await until(() => onA.comments + onA.events.length > 0 && onB.comments + onB.events.length > 0, 3000, 'streams open')
		await Bun.sleep(100) // the replay (none) went out: the subscription is live
		for (let i = 1; i <= 100; i++) expect((await postJson(`${b.url}/publish/room`, { n: i })).status).toBe(200)
		await until(() => messages(onA).length >= 100 && messages(onB).length >= 100, 5000, '100 messages on A and B')
		await Bun.sleep(100)
		expect(ids(onA)).toEqual(range(1, 100))
		expect(ids(onB)).toEqual(range(1, 100))
		expect(messages(onA).map((e) => JSON.parse(e.data).n)).toEqual(range(1, 100))
	}, 20_000)

	test('A is killed mid-stream; the client reconnects to B with Last-Event-ID and gets exactly the frames it missed', async () => {
		const [a, b] = await cluster(2)
		const first = await subscribe(a, 'k')
		await until(() => first.comments + first.events.length > 0, 3000, 'stream open')
		await Bun.sleep(100)
		const total = 150
		let published = 0
		const publisher = (async () => {
			while (published < total) {
				expect((await postJson(`${b.url}/publish/k`, { n: published + 1 })).status).toBe(200)
				published++
				await Bun.sleep(2)
			}
		})()
		await until(() => messages(first).length >= 30, 5000, '30 messages before the kill')
		await a.kill()
		await until(() => first.ended, 3000, 'the stream to end with A')
		const lastSeen = messages(first).at(-1)!.id!
		expect(published).toBeLessThan(total) // A died mid-stream
		const second = await subscribe(b, 'k', lastSeen)
		await publisher
		await until(() => messages(second).at(-1)?.id === String(total), 5000, 'the last message on B')
		await Bun.sleep(100)
		expect(second.events.some((e) => e.event?.includes('replay-incomplete'))).toBe(false)
		expect([...ids(first), ...ids(second)]).toEqual(range(1, total))
	}, 20_000)

	test('Redis stopped mid-stream and started again: both processes keep their streams, refuse publishes meanwhile, deliver across again, and a client that left meanwhile resumes with nothing missed', async () => {
		const server = await startOwnRedis()
		servers.push(server)
		const prefix = uniquePrefix('outage')
		const [a, b] = await Promise.all(
			[0, 1].map(() => startNode('redis/fixtures/node.ts', { REDIS_URL: server.url, PREFIX: prefix, WAIT_MS: '300' }))
		)
		nodes.push(a!, b!)
		const onA = await subscribe(a!, 'o')
		const onB = await subscribe(b!, 'o')
		const leaver = await subscribe(a!, 'o')
		await Bun.sleep(100)
		for (let i = 1; i <= 5; i++) expect((await postJson(`${b!.url}/publish/o`, { n: i })).status).toBe(200)
		await until(() => [onA, onB, leaver].every((r) => messages(r).length === 5), 3000, '5 messages before the outage')

		await server.stop()
		await Bun.sleep(300)
		const refused = await postJson(`${a!.url}/publish/o`, { n: 'during' })
		expect(refused.status).toBe(503)
		expect(refused.body.error).toMatch(/unreachable; publish refused/)
		const beats = [onA.comments, onB.comments]
		leaver.close()
		// Resuming while Redis is away: history cannot be read, and the client is told so.
		const early = await subscribe(b!, 'o', '3')
		await until(() => early.events.some((e) => e.event === 'sluice:replay-incomplete'), 3000, 'the replay-incomplete notice')
		early.close()
		await Bun.sleep(300)
		// Still open and still heartbeating: local streams live through the outage.
		expect([onA.ended, onB.ended]).toEqual([false, false])
		expect(onA.comments).toBeGreaterThan(beats[0]!)
		expect(onB.comments).toBeGreaterThan(beats[1]!)

		await server.start()
		let status = 0
		for (let i = 0; i < 100 && status !== 200; i++) {
			status = (await postJson(`${b!.url}/publish/o`, { n: 6 })).status
			if (status !== 200) await Bun.sleep(50)
		}
		expect(status).toBe(200)
		// A reconnects on its own schedule (backoff), not B's: a refused publish sends nothing, so retry it.
		status = 0
		for (let i = 0; i < 100 && status !== 200; i++) {
			status = (await postJson(`${a!.url}/publish/o`, { n: 7 })).status
			if (status !== 200) await Bun.sleep(50)
		}
		expect(status).toBe(200)
		await until(() => messages(onA).length === 7 && messages(onB).length === 7, 5000, 'messages after the outage')
		expect(ids(onA)).toEqual(range(1, 7))
		expect(ids(onB)).toEqual(range(1, 7))
		expect([onA.ended, onB.ended]).toEqual([false, false])
		expect(a!.errors()).toMatch(/lost the (subscriber|command) connection/)
		// The client that left during the outage comes back with its Last-Event-ID: nothing missed.
		const back = await subscribe(a!, 'o', messages(leaver).at(-1)!.id)
		await until(() => messages(back).length === 2, 3000, 'the missed messages')
		await Bun.sleep(100)
		expect(ids(back)).toEqual([6, 7])
		expect(back.events.some((e) => e.event === 'sluice:replay-incomplete')).toBe(false)
	}, 20_000)

	test('presence: A and B agree on the cluster totals (topics and connections); a killed process leaves them within the TTL', async () => {
		const ttl = 1000
		const [a, b] = await cluster(2, { PRESENCE_TTL: String(ttl) })
		for (let i = 0; i < 3; i++) await subscribe(a!, 'p')
		for (let i = 0; i < 2; i++) await subscribe(b!, 'p')
		await subscribe(b!, 'q')
		const both = async () => [await counts(a!), await counts(b!)]
		let seen: Record<string, number>[] = []
		for (let i = 0; i < 100; i++) {
			seen = await both()
			if (seen.every((c) => c.p === 5 && c.q === 1)) break
			await Bun.sleep(20)
		}
		expect(seen).toEqual([
			{ p: 5, q: 1 },
			{ p: 5, q: 1 }
		])
		// The connection manager's counts, summed the same way.
		const managers = await Promise.all([connections(a!), connections(b!)])
		for (const m of managers) expect(m).toMatchObject({ total: 6, byKind: { sse: 6 }, byTopic: { p: 5, q: 1 }, byAddress: {} })

		await b!.kill()
		const killedAt = performance.now()
		while ((await counts(a!)).p !== 3) {
			expect(performance.now() - killedAt).toBeLessThan(ttl + 500)
			await Bun.sleep(25)
		}
		expect(await counts(a!)).toEqual({ p: 3 })
		expect(await connections(a!)).toMatchObject({ total: 3, byTopic: { p: 3 } })
	}, 20_000)
})
