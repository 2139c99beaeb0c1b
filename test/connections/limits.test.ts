import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { EventSource } from 'eventsource'
import { streaming, ResponseStream, type ConnectionsOptions } from '../../plugins'
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

function start(connections: ConnectionsOptions) {
	let producersRun = 0
	const app = new Elysia()
		.use(streaming({ connections }))
		.get('/s', ({ sse }) =>
			sse(async (s) => {
				producersRun++
				await s.sleep(60_000)
			})
		)
		// A helper that forgets admit(): the limits still hold, its stream ends at once.
		.get('/careless', (context) => {
			const ctx = streamContext(context, context.connections, 'ndjson')
			const stream = new ResponseStream({ request: ctx.request, contentType: 'application/x-ndjson' })
			ctx.onOpen(stream)
			return stream.response
		})
	server = listen(app)
	return { registry: app.decorator.connections, port: server.port, producers: () => producersRun }
}

async function request(port: number, path: string, headers: Record<string, string> = {}) {
	const client = await RawClient.request(port, path, { headers })
	clients.push(client)
	await client.waitFor((c) => c.status > 0)
	return client
}

const bodyOf = async (client: RawClient) => {
	await client.waitFor((c) => c.body.endsWith('}'))
	return JSON.parse(client.body)
}

describe('limits, checked before a stream opens', () => {
	test('past maxStreams a new stream is answered 503 with Retry-After, and a freed slot lets one in', async () => {
		const { registry, port, producers } = start({ maxStreams: 2, retryAfterSeconds: 7 })
		const [first] = await Promise.all([request(port, '/s'), request(port, '/s')])
		await until(() => registry.count === 2)

		const refused = await request(port, '/s')
		expect(refused.status).toBe(503)
		expect(refused.head).toMatch(/\r\nretry-after: 7\r\n/i)
		expect(refused.head).toMatch(/content-type: application\/json/i)
		expect(await bodyOf(refused)).toEqual({
			error: 'too many open streams (limit 2)',
			reason: 'max-streams',
			retryAfter: 7
		})
		// Refused before opening: the producer never ran, nothing was registered.
		expect(producers()).toBe(2)
		expect(registry.count).toBe(2)

		first!.destroy()
		await until(() => registry.count === 1)
		expect((await request(port, '/s')).status).toBe(200)
		await until(() => registry.count === 2)
	})

	test('past maxPerAddress a new stream from that address is answered 429 with Retry-After', async () => {
		const { registry, port } = start({ maxPerAddress: 2 })
		await Promise.all([request(port, '/s'), request(port, '/s')])
		const refused = await request(port, '/s')
		expect(refused.status).toBe(429)
		expect(refused.head).toMatch(/\r\nretry-after: 5\r\n/i)
		expect((await bodyOf(refused)).reason).toBe('max-per-address')
		expect(registry.counts().byAddress).toEqual({ '127.0.0.1': 2 })
	})

	test('by default one address may hold 100 streams: the 101st is answered 429, and its connection closed', async () => {
		const { registry, port, producers } = start({})
		expect(registry.limits.maxPerAddress).toBe(100)
		const first = await Promise.all(Array.from({ length: 100 }, () => request(port, '/s')))
		expect(first.every((c) => c.status === 200)).toBe(true)
		const refused = await request(port, '/s')
		expect(refused.status).toBe(429)
		expect(refused.head).toMatch(/\r\nconnection: close\r\n/i)
		expect(await bodyOf(refused)).toEqual({
			error: 'too many open streams from this address (limit 100)',
			reason: 'max-per-address',
			retryAfter: 5
		})
		// A refused client holds no descriptor: the server closes its connection.
		await refused.waitFor((c) => c.closed)
		await until(() => producers() === 100)
		expect(registry.counts().byAddress).toEqual({ '127.0.0.1': 100 })
	})

	test('maxPerAddress: 0 (or Infinity) turns the per-address limit off', async () => {
		const { registry, port } = start({ maxPerAddress: 0 })
		const all = await Promise.all(Array.from({ length: 120 }, () => request(port, '/s')))
		expect(all.every((c) => c.status === 200)).toBe(true)
		await until(() => registry.count === 120)
	})

	test('maxPerAddress counts each address apart (addressOf reads a trusted proxy header)', async () => {
		const { registry, port } = start({
			maxPerAddress: 2,
			addressOf: (request, peer) => request.headers.get('x-client') ?? peer
		})
		const as = (who: string) => request(port, '/s', { 'X-Client': who })
		await Promise.all([as('10.0.0.1'), as('10.0.0.1')])
		expect((await as('10.0.0.1')).status).toBe(429)
		expect((await as('10.0.0.2')).status).toBe(200)
		await until(() => registry.count === 3)
		expect(registry.counts().byAddress).toEqual({ '10.0.0.1': 2, '10.0.0.2': 1 })
	})

	test('a browser-style EventSource refused with 503 fails and does not reconnect', async () => {
		const { registry, port } = start({ maxStreams: 1 })
		await request(port, '/s')
		await until(() => registry.count === 1)
		const source = new EventSource(`http://127.0.0.1:${port}/s`)
		const error = await new Promise<{ code?: number }>((resolve) => (source.onerror = resolve))
		expect(error.code).toBe(503)
		expect(source.readyState).toBe(EventSource.CLOSED)
		source.close()
	})

	test('a helper that skips admit() still cannot pass the limit', async () => {
		const { registry, port } = start({ maxStreams: 1 })
		await request(port, '/s')
		await until(() => registry.count === 1)
		const careless = await request(port, '/careless')
		await careless.waitFor((c) => c.raw.includes('\r\n\r\n'))
		expect(registry.count).toBe(1)
		expect(registry.metrics()).toContain('sluice_streams_refused_total{reason="max-streams"} 1')
	})
})
