// Streams with an identity: a user and an expiry given to sse(), ndjson(), stream(), subscribe(),
// counted and listed by user, closed by user or topic, ended at expiresAt with a last frame.
import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { ConnectionRegistry, identityOf, type Connection } from '../../src/connections'
import { SluiceError } from '../../src/errors'
import { fetchNdjson, NdjsonStreamError } from '../../src/client'
import { ResponseStream, type CloseReason } from '../../src/stream'
import { startEach, until } from '../support/server'
import { readSse } from '../support/sse-reader'

const start = startEach()

/** An app whose routes open streams as `?user=` with `?ttl=` ms left, and its registry's closes. */
function identityApp() {
	const closes: { connection: Connection; reason: CloseReason; at: number }[] = []
	const app = new Elysia()
		.use(streaming({ connections: { maxPerAddress: 0 }, broadcast: { sse: { heartbeatMs: 0 } } }))
		.onStart(({ decorator }) => {
			;(decorator.connections as ConnectionRegistry).onClose((connection, reason) => closes.push({ connection, reason, at: Date.now() }))
		})
		.get('/room/:topic', ({ subscribe, params, query }) =>
			subscribe(params.topic, {
				user: query.user,
				expiresAt: query.ttl ? Date.now() + Number(query.ttl) : undefined,
				presence: { join: (count, user) => ({ count, user }), leave: (count, user) => ({ count, user }) }
			})
		)
		.get('/rooms', ({ subscribe, query }) =>
			subscribe(['lobby', 'desk'], {
				user: query.user,
				presence: { join: (count, user) => ({ count, user }), leave: (count, user) => ({ count, user }) }
			})
		)
		.get('/sse', ({ sse, query }) =>
			sse(async (s) => void (await s.send('hello', { n: 1 }), await s.sleep(60_000).catch(() => {})), { user: query.user, heartbeatMs: 0 })
		)
		.get('/ndjson', ({ ndjson, query }) =>
			ndjson<{ n: number }>(
				async (h) => {
					await h.send({ n: 1 })
					await h.send({ n: 2 })
					await h.sleep(60_000).catch(() => {})
				},
				{ user: query.user, expiresAt: new Date(Date.now() + Number(query.ttl ?? 60_000)) }
			)
		)
		.get('/text', ({ stream, query }) =>
			stream(async (h) => void (await h.write('a\n'), await h.sleep(60_000).catch(() => {})), { user: query.user })
		)
		.post('/close', ({ connections, query }) => ({ closed: connections.close({ user: query.user, topic: query.topic }) }))
		.post('/publish/:topic/:n', async ({ broadcast, params }) => (await broadcast.publish(params.topic, 'tick', { n: Number(params.n) })).id)
	const server = start(app)
	const registry = () => app.decorator.connections as ConnectionRegistry
	return { server, registry, closes, url: server.url }
}

describe('a user on streams', () => {
	test('counts and lists by user; presence events carry the user; close({ user }) and close({ topic }) end only theirs', async () => {
		const { url, registry } = identityApp()
		const alice1 = await readSse(`${url}/room/news?user=alice`)
		const alice2 = await readSse(`${url}/sse?user=alice`)
		const bob = await readSse(`${url}/room/news?user=bob`)
		const carol = await readSse(`${url}/room/sport?user=carol`)
		const anonymous = await readSse(`${url}/room/sport`)
		const text = await fetch(`${url}/text?user=dave`)
		await until(() => registry().count === 6, 2000, 'six streams')
		expect(registry().counts().byUser).toEqual({ alice: 2, bob: 1, carol: 1, dave: 1 })
		expect(registry().list({ user: 'alice' }).map((c) => [c.user, c.kind, c.topics])).toEqual([
			['alice', 'sse', ['news']],
			['alice', 'sse', []]
		])
		expect(registry().list({ topic: 'sport' }).map((c) => c.user)).toEqual(['carol', undefined])
		// Bob's join, as Alice sees it: the presence function was given his user.
		await until(() => alice1.events.some((e) => e.event === 'join' && JSON.parse(e.data).user === 'bob'), 2000, 'bob joins')
		expect(alice1.events.filter((e) => e.event === 'join').map((e) => JSON.parse(e.data))).toEqual([
			{ count: 1, user: 'alice' },
			{ count: 2, user: 'bob' }
		])

		const byUser = (await (await fetch(`${url}/close?user=alice`, { method: 'POST' })).json()) as { closed: number }
		expect(byUser.closed).toBe(2)
		await until(() => alice1.ended && alice2.ended, 2000, "alice's streams to end")
		await until(() => bob.events.some((e) => e.event === 'leave'), 2000, 'alice leaves')
		expect(JSON.parse(bob.events.find((e) => e.event === 'leave')!.data)).toEqual({ count: 1, user: 'alice' })
		expect(registry().counts().byUser).toEqual({ bob: 1, carol: 1, dave: 1 })

		const byTopic = (await (await fetch(`${url}/close?topic=sport`, { method: 'POST' })).json()) as { closed: number }
		expect(byTopic.closed).toBe(2)
		await until(() => carol.ended && anonymous.ended, 2000, "sport's streams to end")
		expect([bob.ended, registry().counts().byUser]).toEqual([false, { bob: 1, dave: 1 }])
		// Both: the user's streams on the topic only.
		expect(registry().close({ user: 'bob', topic: 'sport' })).toBe(0)
		expect(registry().close({ user: 'dave' })).toBe(1)
		expect(await text.text()).toBe('a\n')
		// No selector would close everything: refused.
		expect(() => registry().close({})).toThrow(/give a user or a topic/)
		bob.close()
	})

	test('a stream of many topics: its presence join and leave on each topic carry its user', async () => {
		const { url, registry } = identityApp()
		const alice = await readSse(`${url}/rooms?user=alice`)
		await until(() => registry().count === 1, 2000, "alice's stream")
		const bob = await readSse(`${url}/rooms?user=bob`)
		const presence = (event: string) =>
			alice.events
				.filter((e) => e.event === event)
				.map((e) => e.data)
				.sort()
		// Her own joins and Bob's, on each of the two topics.
		await until(() => presence('join').length === 4, 2000, 'four joins')
		const join = (count: number, user: string) => JSON.stringify({ count, user })
		expect(presence('join')).toEqual([join(1, 'alice'), join(1, 'alice'), join(2, 'bob'), join(2, 'bob')])
		bob.close()
		await until(() => presence('leave').length === 2, 2000, "bob's leaves")
		expect(presence('leave')).toEqual([join(1, 'bob'), join(1, 'bob')])
		alice.close()
	})

	test('identity options are checked', () => {
		expect(identityOf({ user: 'u', expiresAt: new Date(5) })).toEqual({ user: 'u', expiresAt: 5 })
		for (const bad of [{ user: '' }, { user: 'x'.repeat(257) }, { expiresAt: Number.NaN }, { expiresAt: new Date('nope') }, { user: 7 as never }])
			expect(() => identityOf(bad)).toThrow(SluiceError)
	})
})

describe('expiry', () => {
	test('an SSE subscription ends at expiresAt with sluice:expired and a retry hint; resumed from Last-Event-ID, nothing is missed', async () => {
		const { url, closes } = identityApp()
		for (let n = 1; n <= 3; n++) await fetch(`${url}/publish/feed/${n}`, { method: 'POST' })
		const opened = Date.now()
		// Read to the end: the body ends when the stream expires.
		const first = await (await fetch(`${url}/room/feed?user=alice&ttl=300`, { headers: { 'last-event-id': '0' } })).text()
		expect(Date.now() - opened).toBeGreaterThanOrEqual(290)
		const expired = closes.find((c) => c.reason === 'expired')!
		expect(expired.connection.user).toBe('alice')
		// Within 100 ms of expiresAt, never before it.
		const late = expired.at - expired.connection.expiresAt!
		expect(late).toBeGreaterThanOrEqual(0)
		expect(late).toBeLessThan(100)
		expect([...first.matchAll(/^id: (\d+)$/gm)].map((m) => m[1])).toEqual(['1', '2', '3', '4'])
		// The last frame: no id (the client resumes from the last real one), a retry hint spread by the jitter.
		const [, retry] = /\n\nevent: sluice:expired\nretry: (\d+)\ndata: \{"reason":"expired"\}\n\n$/.exec(first) ?? []
		expect(Number(retry)).toBeGreaterThanOrEqual(1000)
		expect(Number(retry)).toBeLessThanOrEqual(1500)

		// While the client is away (fetching a fresh token), the topic moves on.
		for (let n = 5; n <= 6; n++) await fetch(`${url}/publish/feed/${n}`, { method: 'POST' })
		const resumed = await readSse(`${url}/room/feed?user=alice&ttl=60000`, { lastEventId: '4' })
		// 4 was alice's own join; then her leave, the two ticks published while she was away, her new join.
		await until(() => resumed.events.filter((e) => e.id).length >= 4, 2000, 'the replay')
		expect(resumed.events.filter((e) => e.id).map((e) => [e.id, e.event])).toEqual([
			['5', 'leave'],
			['6', 'tick'],
			['7', 'tick'],
			['8', 'join']
		])
		resumed.close()
	})

	test('NDJSON ends with an {"error":"expired"} line after the records; a past expiresAt ends the stream at once', async () => {
		const { url, registry } = identityApp()
		const body = await (await fetch(`${url}/ndjson?user=ann&ttl=150`)).text()
		expect(body.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual([{ n: 1 }, { n: 2 }, { error: 'expired', records: 2 }])
		// sluice/client's reader hands out the records, then throws the expiry.
		const read: unknown[] = []
		const error = await (async () => {
			try {
				for await (const r of fetchNdjson(`${url}/ndjson?user=ann&ttl=150`)) read.push(r)
			} catch (caught) {
				return caught as NdjsonStreamError
			}
		})()
		expect([read, error?.message, error?.code]).toEqual([[{ n: 1 }, { n: 2 }], 'expired', 'NDJSON_STREAM_REMOTE'])
		// Already expired: it ends on the next turn of the event loop, whatever the producer sent by then.
		const past = await (await fetch(`${url}/ndjson?user=ann&ttl=-1000`)).text()
		expect(past).toMatch(/\{"error":"expired","records":\d\}\n$/)
		expect(registry().expiring).toBe(0)
	})

	test('2,000 streams expiring over 300 ms, a quarter closed before: every expiry within 100 ms, none early, none left queued', async () => {
		const registry = new ConnectionRegistry({ maxStreams: 0, maxPerAddress: 0 })
		const late: number[] = []
		const reasons = new Map<CloseReason, number>()
		registry.onClose((c, reason) => {
			reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
			if (reason === 'expired') late.push(Date.now() - c.expiresAt!)
		})
		const base = Date.now() + 50
		const streams = Array.from({ length: 2000 }, (_, i) => {
			const stream = new ResponseStream({ contentType: 'text/event-stream', heartbeatMs: 0, stallTimeoutMs: 0 })
			// Out of order, so the heap does its work.
			registry.add(stream, { kind: 'sse', route: '/x', topics: [], user: `u${i % 40}`, expiresAt: base + ((i * 7919) % 300) })
			return stream
		})
		expect(registry.expiring).toBe(2000)
		for (let i = 0; i < 2000; i += 4) streams[i]!.close('server')
		expect(registry.expiring).toBe(1500)
		await until(() => registry.count === 0, 3000, 'every stream to expire')
		expect(Object.fromEntries(reasons)).toEqual({ server: 500, expired: 1500 })
		expect(Math.min(...late)).toBeGreaterThanOrEqual(0)
		expect(Math.max(...late)).toBeLessThan(100)
		expect(registry.expiring).toBe(0)
		// Each got its last frame before it closed.
		expect(streams[1]!.eventsSent).toBe(1)
	})
})
