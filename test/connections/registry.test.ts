import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming, type CloseReason, type Connection } from '../../plugins'; import { sseStream } from '../../src/sse'
import { streamContext } from '../../plugins/stream-context'
import { listen, until, type TestServer } from '../support/server'
import { RawClient } from '../support/raw-http'

let server: TestServer | undefined
const clients: RawClient[] = []
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy()
	await server?.stop()
	server = undefined
})

/** An app with a few kinds of stream, and its registry. */
function start() {
	const app = new Elysia()
		// Every client is on 127.0.0.1, and one test opens 200 streams: no per-address limit.
		.use(streaming({ connections: { maxPerAddress: 0 } }))
		.get('/feed/:room', ({ sse }) =>
			sse(async (s) => {
				await s.send('tick', { n: 1 }, { id: 'a1' })
				await s.send('tick', { n: 2 }, { id: 'a2' })
				await s.sleep(60_000)
			})
		)
		.get('/other', ({ sse }) => sse(async (s) => s.sleep(60_000)))
		.get('/finite', ({ sse }) => sse(['one', 'two']))
		.get('/fails', ({ sse }) =>
			sse(async function* () {
				yield 'first'
				throw new Error('producer broke')
			})
		)
		// How broadcast opens a stream: through streamContext, with its topics.
		.get('/topics', (context) => {
			const ctx = streamContext(context, context.connections, 'sse', ['news', 'sport'])
			return ctx.admit() ?? sseStream(ctx, async (s) => s.sleep(60_000)).response
		})
		.onError(() => {})
	server = listen(app)
	return { app, registry: app.decorator.connections, port: server.port }
}

async function open(port: number, path: string, headers: Record<string, string> = {}) {
	const client = await RawClient.request(port, path, { headers })
	clients.push(client)
	await client.waitFor((c) => c.status === 200)
	return client
}

describe('registration', () => {
	test('a stream is registered with its route pattern, address, user agent, counters and last event id', async () => {
		const { registry, port } = start()
		const client = await open(port, '/feed/lobby', { 'User-Agent': 'sluice-test/1.0' })
		await client.waitFor((c) => c.body.includes('"n":2'))
		await until(() => registry.list()[0]?.eventsSent === 2)

		const [conn] = registry.list() as [Connection]
		expect(conn).toMatchObject({
			kind: 'sse',
			route: '/feed/:room',
			topics: [],
			address: '127.0.0.1',
			userAgent: 'sluice-test/1.0',
			eventsSent: 2,
			lastEventId: 'a2'
		})
		expect(conn.id).toBeGreaterThan(0)
		expect(Math.abs(conn.startedAt - Date.now())).toBeLessThan(5000)
		// What the client received (de-chunked) is exactly what the stream counted.
		expect(conn.bytesSent).toBe(Buffer.byteLength(client.body))
		expect(registry.get(conn.id)).toEqual(conn)
		expect(registry.get(999_999)).toBeUndefined()
	})

	test('counts are live: total, by route, by topic, by address and by kind', async () => {
		const { registry, port } = start()
		const a = await Promise.all([1, 2, 3].map(() => open(port, '/feed/a')))
		await open(port, '/other')
		await Promise.all([1, 2].map(() => open(port, '/topics')))
		await until(() => registry.count === 6)
		expect(registry.counts()).toEqual({
			total: 6,
			byRoute: { '/feed/:room': 3, '/other': 1, '/topics': 2 },
			byTopic: { news: 2, sport: 2 },
			byAddress: { '127.0.0.1': 6 },
			byKind: { sse: 6 },
			byUser: {}
		})
		expect(registry.list((c) => c.topics.includes('news'))).toHaveLength(2)

		a[0]!.destroy()
		a[1]!.destroy()
		clients[4]!.destroy()
		await until(() => registry.count === 3, 2000, 'counts to fall')
		expect(registry.counts()).toEqual({
			total: 3,
			byRoute: { '/feed/:room': 1, '/other': 1, '/topics': 1 },
			byTopic: { news: 1, sport: 1 },
			byAddress: { '127.0.0.1': 3 },
			byKind: { sse: 3 },
			byUser: {}
		})
	})

	test('open and close listeners see every stream, with why it ended; a remover stops them', async () => {
		const { registry, port } = start()
		const opened: Connection[] = []
		const closed: [Connection, CloseReason][] = []
		const stopOpen = registry.onOpen((c) => opened.push(c))
		registry.onClose((c, reason) => closed.push([c, reason]))
		const client = await open(port, '/feed/x')
		await until(() => opened.length === 1)
		expect(opened[0]!.route).toBe('/feed/:room')
		client.destroy()
		await until(() => closed.length === 1)
		expect(closed[0]![0].id).toBe(opened[0]!.id)
		expect(closed[0]![1]).toBe('client')
		stopOpen()
		await open(port, '/other')
		await until(() => registry.count === 1)
		expect(opened).toHaveLength(1)
	})
})

describe('unregistration, however a stream ends', () => {
	test('200 clients dropped abruptly while idle: every one unregistered, every count back to zero', async () => {
		const { registry, port } = start()
		const closed: CloseReason[] = []
		registry.onClose((_, reason) => closed.push(reason))
		const many = await Promise.all(Array.from({ length: 200 }, (_, i) => open(port, i % 2 ? '/topics' : '/other')))
		await until(() => registry.count === 200, 5000, '200 streams')
		expect(registry.counts().byTopic).toEqual({ news: 100, sport: 100 })
		for (const client of many) client.destroy()
		await until(() => registry.count === 0, 5000, 'every stream to be unregistered')
		expect(registry.counts()).toEqual({ total: 0, byRoute: {}, byTopic: {}, byAddress: {}, byKind: {}, byUser: {} })
		expect(closed).toEqual(Array(200).fill('client'))
	})

	const ended = async (path: string, end: (ctx: { client: RawClient; registry: ReturnType<typeof start>['registry'] }) => unknown) => {
		const { registry, port } = start()
		const reasons: CloseReason[] = []
		registry.onClose((_, reason) => reasons.push(reason))
		const client = await open(port, path)
		await end({ client, registry })
		await until(() => registry.count === 0, 2000, 'the stream to be unregistered')
		expect(registry.counts()).toEqual({ total: 0, byRoute: {}, byTopic: {}, byAddress: {}, byKind: {}, byUser: {} })
		return { reasons, client }
	}

	test('the client drops the connection abruptly', async () => {
		const { reasons } = await ended('/topics', ({ client }) => client.destroy())
		expect(reasons).toEqual(['client'])
	})

	test('the producer finishes', async () => {
		const { reasons, client } = await ended('/finite', () => {})
		expect(reasons).toEqual(['done'])
		await client.waitFor((c) => c.body.endsWith('data: two\n\n'))
	})

	test('the producer throws', async () => {
		const { reasons, client } = await ended('/fails', () => {})
		expect(reasons).toEqual(['error'])
		await client.waitFor((c) => c.body.includes('event: error'))
	})

	test('the server closes it through the registry', async () => {
		const { reasons, client } = await ended('/feed/x', ({ registry }) => {
			const [conn] = registry.list()
			expect(registry.close(conn!.id)).toBe(true)
			expect(registry.close(conn!.id)).toBe(false)
		})
		expect(reasons).toEqual(['server'])
		// The response ends properly: the chunked terminator arrives.
		await client.waitFor((c) => c.raw.includes('0\r\n\r\n'))
	})

	test('the server stops', async () => {
		const { registry, port } = start()
		const reasons: CloseReason[] = []
		registry.onClose((_, reason) => reasons.push(reason))
		await Promise.all([open(port, '/feed/a'), open(port, '/topics')])
		await until(() => registry.count === 2)
		await server!.stop()
		server = undefined
		expect(registry.count).toBe(0)
		expect(reasons).toEqual(['server', 'server'])
	})
})
