// Many topics on one stream (issue 17), over real sockets, with the memory and the Redis transport:
// each frame marked with its topic, per-topic order, resume of every topic after a drop with no
// gap and no duplicate (a topic that had sent nothing yet included), topics added and removed on
// the open stream.
import { afterAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { createParser } from 'eventsource-parser'
import { streaming } from '../../plugins'
import { HubEvents, type Transport } from '../../src/hub'
import { redis } from '../../src/hub/redis'
import { parseCursor } from '../../src/hub/topic-cursor'
import { connect, edenSse } from '../../src/client'
import { treaty } from '@elysiajs/eden'
import { RawClient } from '../support/raw-http'
import { listen, until } from '../support/server'
import { needService, redisAnswers, redisUrl } from '../support/services'
import { dropTestKeys, uniquePrefix } from '../support/redis-server'

interface Got {
	topic?: string
	event: string
	data: string
	id?: string
}

/** The complete events in `text`, with the topic their `topic:` field names (eventsource-parser is the oracle). */
function events(text: string): Got[] {
	const out: Got[] = []
	let topic: string | undefined
	createParser({
		onEvent: (e) => {
			out.push({ topic, event: e.event ?? 'message', data: e.data, id: e.id })
			topic = undefined
		},
		onError: (e) => {
			if (e.type === 'unknown-field' && e.field === 'topic') topic = e.value
		}
	}).feed(text)
	return out
}

/** The data of each topic's `msg` events, in arrival order. */
function byTopic(got: Got[]): Record<string, string[]> {
	const out: Record<string, string[]> = {}
	for (const e of got) if (e.event === 'msg') (out[e.topic ?? '?'] ??= []).push(e.data)
	return out
}

const closers: (() => unknown)[] = []
afterAll(async () => {
	for (const close of closers.reverse()) await close()
})

function appWith(transport: Transport) {
	const app = new Elysia()
		.use(streaming({ transport, connections: { maxPerAddress: 0 } }))
		.get('/multi', ({ subscribe, query }) => subscribe(String(query.t).split(','), { heartbeatMs: 0 }))
	const server = listen(app)
	closers.push(() => server.stop())
	const hub = app.decorator.broadcast
	/**
	 * Until `topics` each have one subscriber and the transport listens to them (Redis: its
	 * SUBSCRIBE is acknowledged; a frame published before that reaches no subscriber, of one
	 * topic or many, and is replayed only to a client that resumes).
	 */
	const listening = async (topics: string[], n = 1) => {
		await until(() => topics.every((t) => hub.count(t) === n), 3000, 'subscribed')
		await Promise.all(topics.map((t) => hub.transport.replay(t, undefined, 0)))
	}
	return { app, server, hub, registry: app.decorator.connections, listening }
}

const { skip: noRedis } = needService('redis', await redisAnswers())

for (const kind of ['memory', 'redis'] as const) {
	describe.skipIf(kind === 'redis' && noRedis)(`many topics on one stream (${kind})`, () => {
		const prefix = uniquePrefix('topics')
		const transport = () => {
			if (kind === 'memory') return undefined
			const t = redis({ url: redisUrl, prefix, onError: () => {} })
			closers.push(() => dropTestKeys(redisUrl))
			return t
		}
		const { server, hub, registry, listening } = appWith(transport() as Transport)

		test('every frame is marked with its topic; each topic keeps its order; the event name stays the app’s', async () => {
			const topics = ['chat:42', 'notifications:alice', 'prices']
			const client = await RawClient.request(server.port, `/multi?t=${topics.join(',')}`)
			await client.waitFor((c) => c.status === 200)
			await listening(topics)
			const sent: Record<string, string[]> = {}
			// Interleaved, some in one tick (joined into one write), some apart.
			for (let i = 0; i < 90; i++) {
				const topic = topics[(i * 7) % 3]!
				const data = `${topic}#${i}`
				;(sent[topic] ??= []).push(data)
				const p = hub.publish(topic, 'msg', data)
				if (i % 4 === 0) await p
			}
			await client.waitFor((c) => events(c.body).filter((e) => e.event === "msg").length >= 90, 5000)
			client.destroy()
			const got = events(client.body).filter((e) => e.event === 'msg')
			expect(byTopic(got)).toEqual(sent)
			for (const e of got) expect(e.id!.length).toBeLessThan(128)
			// The id names where the client is in every topic.
			expect(parseCursor(got.at(-1)!.id)!.size).toBe(3)
		})

		test('a dropped stream resumes every topic where it was: no gap, no duplicate', async () => {
			const topics = ['a', 'b', 'quiet']
			const path = `/multi?t=${topics.join(',')}`
			const first = await RawClient.request(server.port, path)
			await listening(topics)
			// `quiet` sends nothing before the drop: its position is where it stood at subscribe.
			const published: Record<string, string[]> = { a: [], b: [], quiet: [] }
			const publish = async (topic: string, n: number) => {
				const data = `${topic}:${published[topic]!.length}`
				published[topic]!.push(data)
				await hub.publish(topic, 'msg', data)
			}
			let n = 0
			for (; n < 40; n++) await publish(n % 3 === 0 ? 'a' : 'b', n)
			await first.waitFor((c) => events(c.body).filter((e) => e.event === 'msg').length >= 20, 5000)
			// Cut while frames are still coming, then more on every topic while it is away.
			const more = (async () => {
				for (; n < 80; n++) await publish(n % 3 === 0 ? 'a' : 'b', n)
			})()
			first.socket.destroy()
			await more
			await until(() => topics.every((t) => hub.count(t) === 0), 3000, 'the first stream to leave')
			for (let i = 0; i < 5; i++) await publish('quiet', i)
			const before = events(first.body)
			const lastId = before.filter((e) => e.id).at(-1)!.id!
			const second = await RawClient.request(server.port, path, { headers: { 'Last-Event-ID': lastId } })
			await listening(topics)
			for (let i = 0; i < 6; i++) await publish(['a', 'b', 'quiet'][i % 3]!, i)
			const total = Object.values(published).reduce((s, l) => s + l.length, 0)
			const seen = () => byTopic([...before, ...events(second.body)])
			await second.waitFor(() => Object.values(seen()).reduce((s, l) => s + l.length, 0) >= total, 5000)
			second.destroy()
			expect(seen()).toEqual(published)
			expect(events(second.body).some((e) => e.event === HubEvents.replayIncomplete)).toBe(false)
		})

		test('a topic added to the open stream replays from the given id, then goes live; a removed one stops', async () => {
			const client = await RawClient.request(server.port, '/multi?t=room')
			await listening(['room'])
			const id = registry.list((c) => c.topics.includes('room') && c.route === '/multi').at(-1)!.id
			for (let i = 1; i <= 5; i++) await hub.publish('extra', 'msg', `extra:${i}`)
			const after = (await hub.publish('extra', 'msg', 'extra:6')).id
			for (let i = 7; i <= 8; i++) await hub.publish('extra', 'msg', `extra:${i}`)
			expect(hub.addTopic(id, 'extra', { after: Number(after) - 3 })).toBe(true)
			expect(hub.addTopic(id, 'extra')).toBe(false)
			expect(registry.get(id)!.topics).toEqual(['room', 'extra'])
			expect(registry.counts().byTopic.extra).toBe(1)
			await listening(['extra'])
			await hub.publish('extra', 'msg', 'extra:9')
			await hub.publish('room', 'msg', 'room:1')
			await client.waitFor((c) => byTopic(events(c.body)).room?.length === 1 && byTopic(events(c.body)).extra?.length === 6, 5000)
			expect(byTopic(events(client.body)).extra).toEqual(['extra:4', 'extra:5', 'extra:6', 'extra:7', 'extra:8', 'extra:9'])

			expect(hub.removeTopic(id, 'room')).toBe(true)
			expect(hub.topicsOf(id)).toEqual(['extra'])
			expect(registry.counts().byTopic.room).toBeUndefined()
			await hub.publish('room', 'msg', 'room:2')
			await hub.publish('extra', 'msg', 'extra:10')
			await client.waitFor((c) => byTopic(events(c.body)).extra?.length === 7, 5000)
			client.destroy()
			expect(byTopic(events(client.body)).room).toEqual(['room:1'])
		})

		test('sluice/client and Eden read each message’s topic as m.topic, the event name and data as sent', async () => {
			let seen = 0
			const read = async (source: AsyncIterable<any>) => {
				const out: unknown[] = []
				for await (const m of source) if (m.event === 'msg' && (seen++, out.push({ topic: m.topic, data: m.data })) === 2) break
				return out
			}
			const viaClient = read(connect(`${server.url}/multi?t=x1,x2`))
			const eden = treaty(server.url, edenSse()) as any
			const { data } = await eden.multi.get({ query: { t: 'x1,x2' } })
			const viaEden = read(data)
			await listening(['x1', 'x2'], 2)
			await hub.publish('x2', 'msg', 'two')
			// Each topic starts on its own (its head read, then live): x1's frame could pass x2's held one.
			await until(() => seen === 2, 5000, "both readers to get x2's frame")
			await hub.publish('x1', 'msg', 'one')
			const expected = [{ topic: 'x2', data: 'two' }, { topic: 'x1', data: 'one' }]
			expect(await viaClient).toEqual(expected)
			expect(await viaEden).toEqual(expected)
		})

		test('too many topics, or a name that cannot go in a field, is a 400 before any stream opens', async () => {
			const many = Array.from({ length: 9 }, (_, i) => `t${i}`).join(',')
			const response = await fetch(`http://127.0.0.1:${server.port}/multi?t=${many}`)
			expect(response.status).toBe(400)
			expect(await response.text()).toContain('at most 8 topics')
			const empty = await fetch(`http://127.0.0.1:${server.port}/multi?t=a,,b`)
			expect(empty.status).toBe(400)
		})
	})
}

describe('many topics on one stream: the stream’s own limit, filter and presence', () => {
	const app = new Elysia()
		.use(streaming({ connections: { maxPerAddress: 0 } }))
		.get('/slow', ({ subscribe }) => subscribe(['s1', 's2', 's3'], { heartbeatMs: 0, maxUnsentBytes: 64 * 1024 }))
		.get('/filtered', ({ subscribe }) =>
			subscribe(['f1', 'f2'], {
				heartbeatMs: 0,
				// Skips f2's frames marked "skip": the filter sees each frame's topic.
				filter: (frame) => !(frame.topic === 'f2' && frame.data === 'skip'),
				presence: { join: (count) => ({ count }), leave: (count) => ({ count }) }
			})
		)
	const server = listen(app)
	closers.push(() => server.stop())
	const hub = app.decorator.broadcast

	test('a client that does not read is cut once the stream’s unsent bytes pass its one limit, whatever the topics', async () => {
		const closed: string[] = []
		app.decorator.connections.onClose((c, reason) => c.route === '/slow' && closed.push(reason))
		const slow = await RawClient.request(server.port, '/slow')
		await slow.waitFor((c) => c.status === 200)
		await until(() => hub.count('s3') === 1, 3000, 'subscribed')
		slow.pause()
		const payload = 'x'.repeat(32 * 1024)
		// Far more than the socket buffers and the limit together, spread over the three topics.
		for (let i = 0; i < 2000 && closed.length === 0; i++) {
			await hub.publish(`s${(i % 3) + 1}`, 'msg', payload)
			if (i % 50 === 0) await Bun.sleep(1)
		}
		expect(closed).toEqual(['slow'])
		expect(['s1', 's2', 's3'].map((t) => hub.count(t))).toEqual([0, 0, 0])
		slow.resume()
		await slow.waitFor((c) => c.closed || c.body.includes(HubEvents.slowConsumer), 5000).catch(() => {})
		expect(slow.body).toContain(HubEvents.slowConsumer)
		slow.destroy()
	})

	test('a filter sees each frame’s topic; presence is announced on every topic of the stream', async () => {
		const watcher = await RawClient.request(server.port, '/filtered')
		await until(() => hub.count('f1') === 1 && hub.count('f2') === 1, 3000, 'subscribed')
		const other = await RawClient.request(server.port, '/filtered')
		// Its own joins (one here) and the other's (two here), on each topic.
		await watcher.waitFor((c) => events(c.body).filter((e) => e.event === 'join').length === 4, 5000)
		expect(events(watcher.body).filter((e) => e.event === 'join').map((e) => [e.topic, e.data]).sort()).toEqual([
			['f1', '{"count":1}'],
			['f1', '{"count":2}'],
			['f2', '{"count":1}'],
			['f2', '{"count":2}']
		])
		for (const [topic, data] of [['f2', 'skip'], ['f1', 'skip'], ['f2', 'keep']]) await hub.publish(topic!, 'msg', data)
		await watcher.waitFor((c) => byTopic(events(c.body)).f2?.length === 1, 5000)
		expect(byTopic(events(watcher.body))).toEqual({ f1: ['skip'], f2: ['keep'] })
		other.destroy()
		await watcher.waitFor((c) => events(c.body).filter((e) => e.event === 'leave').length === 2, 5000)
		watcher.destroy()
	})
})
