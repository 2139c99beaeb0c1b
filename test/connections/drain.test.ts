import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { EventSource } from 'eventsource'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { streaming, ResponseStream, type CloseReason, type ConnectionsOptions } from '../../plugins'
import { streamContext } from '../../plugins/stream-context'
import { until } from '../support/server'
import { RawClient } from '../support/raw-http'

const clients: RawClient[] = []
const sources: EventSource[] = []
let running: { stop(force?: boolean): Promise<unknown>; server: unknown } | undefined
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy()
	for (const s of sources.splice(0)) s.close()
	if (running?.server) await running.stop(true)
	running = undefined
})

function start(connections: ConnectionsOptions) {
	const app = new Elysia()
		.use(streaming({ connections }))
		.get('/sse', ({ sse }) => sse(async (s) => s.sleep(60_000)))
		.get('/firehose', ({ sse }) =>
			sse(async (s) => {
				const block = 'x'.repeat(64 * 1024)
				while (await s.send('block', block));
			})
		)
		// An NDJSON-kind stream that never ends by itself: it has no farewell, so it gets the grace.
		.get('/ndjson', (context) => {
			const ctx = streamContext(context, context.connections, 'ndjson')
			const refused = ctx.admit()
			if (refused) return refused
			const stream = new ResponseStream({ request: ctx.request, server: ctx.server, contentType: 'application/x-ndjson' })
			ctx.onOpen(stream)
			stream.write('{"n":1}\n', 1)
			return stream.response
		})
	app.listen({ port: 0, hostname: '127.0.0.1' })
	running = app
	const registry = app.decorator.connections
	const reasons: CloseReason[] = []
	registry.onClose((_, reason) => reasons.push(reason))
	return { app, registry, port: app.server!.port as number, reasons }
}

async function open(port: number, path: string) {
	const client = await RawClient.request(port, path)
	clients.push(client)
	await client.waitFor((c) => c.status === 200)
	return client
}

/** Parses what an SSE client received with eventsource-parser (the oracle). */
function parsed(body: string) {
	const events: EventSourceMessage[] = []
	let retry: number | undefined
	const parser = createParser({ onEvent: (e) => events.push(e), onRetry: (ms) => (retry = ms) })
	parser.feed(body)
	return { events, retry }
}

const timed = async (run: () => Promise<unknown>) => {
	const t = performance.now()
	await run()
	return performance.now() - t
}

describe('drain on app.stop()', () => {
	test('app.stop() returns within the grace period while SSE clients are connected, each told why and when to retry', async () => {
		const graceMs = 1000
		const { app, registry, port, reasons } = start({ drain: { graceMs, retryMs: 2500 } })
		const raws = await Promise.all([1, 2].map(() => open(port, '/sse')))
		const shutdowns: string[] = []
		for (let i = 0; i < 3; i++) {
			const source = new EventSource(`http://127.0.0.1:${port}/sse`)
			source.addEventListener('shutdown', (e) => shutdowns.push(e.data))
			sources.push(source)
		}
		await until(() => registry.count === 5, 3000, 'five clients')

		const took = await timed(() => app.stop())
		expect(took).toBeLessThan(graceMs)
		expect(app.server).toBeNull()
		expect(registry.count).toBe(0)
		expect(reasons).toEqual(Array(5).fill('server'))

		for (const raw of raws) {
			await raw.waitFor((c) => c.closed || c.raw.includes('0\r\n\r\n'), 1000).catch(() => {})
			const { events, retry } = parsed(raw.body)
			expect(events.at(-1)).toMatchObject({ event: 'shutdown', data: '{"reason":"server shutting down"}' })
			// Spread by retryJitter (0.5): 2500 to 3750 ms.
			expect(retry).toBeGreaterThanOrEqual(2500)
			expect(retry).toBeLessThanOrEqual(3750)
		}
		await until(() => shutdowns.length === 3, 1000, 'EventSource clients to see the shutdown event')
		expect(new Set(shutdowns)).toEqual(new Set(['{"reason":"server shutting down"}']))
	})

	test('a stream without a farewell gets the grace to finish, then is cut, and stop() still returns in time', async () => {
		const graceMs = 300
		const { app, registry, port, reasons } = start({ drain: { graceMs } })
		const sse = await open(port, '/sse')
		await open(port, '/ndjson')
		await until(() => registry.count === 2)

		let stopped = false
		const t = performance.now()
		const stopping = app.stop().then(() => (stopped = true))
		// The SSE stream is told at once, while the NDJSON one still has its grace.
		await sse.waitFor((c) => c.body.includes('event: shutdown'), 250)
		expect(stopped).toBe(false)
		expect(registry.list().map((c) => c.kind)).toEqual(['ndjson'])

		await stopping
		// The NDJSON stream is cut when the grace ends; stop() returns right after, not later.
		expect(performance.now() - t).toBeLessThan(graceMs + 100)
		expect(reasons).toEqual(['server', 'server'])
		expect(registry.count).toBe(0)
	})

	test('a farewell set for NDJSON is sent as its last record, and the stream is closed at once', async () => {
		const { app, registry, port } = start({
			drain: { graceMs: 5000, reason: 'deploy' },
			farewells: { ndjson: ({ reason, retryMs }) => JSON.stringify({ shutdown: reason, retryMs }) + '\n' }
		})
		const client = await open(port, '/ndjson')
		await until(() => registry.count === 1)
		expect(await timed(() => app.stop())).toBeLessThan(1000)
		await client.waitFor((c) => c.body.split('\n').length === 3, 1000)
		const [first, farewell] = client.body.split('\n').filter(Boolean).map((line) => JSON.parse(line))
		expect(first).toEqual({ n: 1 })
		expect(farewell.shutdown).toBe('deploy')
		expect(farewell.retryMs).toBeGreaterThanOrEqual(1000)
		expect(farewell.retryMs).toBeLessThanOrEqual(1500)
	})

	test('a stream that ends by itself during the grace lets stop() return early', async () => {
		const { app, registry, port } = start({ drain: { graceMs: 5000 } })
		await open(port, '/ndjson')
		await until(() => registry.count === 1)
		const stopping = app.stop()
		await Bun.sleep(20)
		registry.close(registry.list()[0]!.id, 'done')
		expect(await timed(() => stopping)).toBeLessThan(1000)
	})

	test('a client that stopped reading cannot hold stop() past the grace', async () => {
		const graceMs = 400
		const { app, registry, port } = start({ drain: { graceMs } })
		const slow = await open(port, '/firehose')
		slow.pause()
		await until(() => (registry.list()[0]?.unsentBytes ?? 0) > 0, 2000, 'the server to fall behind the client')
		const took = await timed(() => app.stop())
		expect(took).toBeLessThan(graceMs + 100)
		expect(app.server).toBeNull()
	})

	test('while draining, a new NDJSON stream is refused with 503 and Retry-After; an SSE one gets its farewell as a 200', async () => {
		const { app, registry, port } = start({ drain: { graceMs: 5000, retryMs: 1500 }, retryAfterSeconds: 3 })
		await open(port, '/ndjson')
		await until(() => registry.count === 1)
		const stopping = app.stop()
		expect(registry.draining).toBe(true)

		const refused = await RawClient.request(port, '/ndjson')
		clients.push(refused)
		await refused.waitFor((c) => c.body.endsWith('}'))
		expect(refused.status).toBe(503)
		expect(refused.head).toMatch(/\r\nretry-after: 3\r\n/i)
		expect(JSON.parse(refused.body).reason).toBe('draining')

		// An EventSource gives up for good on a 503; a 200 that ends with retry: makes it come back.
		const late = await RawClient.request(port, '/sse')
		clients.push(late)
		await late.waitFor((c) => c.status === 200 && c.body.length > 0)
		expect(late.head).toMatch(/content-type: text\/event-stream/i)
		const farewell = parsed(late.body)
		expect(farewell.events).toEqual([{ event: 'shutdown', data: '{"reason":"server shutting down"}', id: undefined }])
		expect(farewell.retry).toBeGreaterThanOrEqual(1500)
		expect(farewell.retry).toBeLessThanOrEqual(2250)
		const source = new EventSource(`http://127.0.0.1:${port}/sse`)
		sources.push(source)
		await new Promise((resolve) => source.addEventListener('shutdown', resolve))
		await new Promise((resolve) => (source.onerror = resolve))
		expect(source.readyState).toBe(EventSource.CONNECTING)
		expect(registry.count).toBe(1)

		registry.close(registry.list()[0]!.id, 'done')
		await stopping
	})

	test('a stream registered directly while draining (no admit) is drained too', async () => {
		const { app, registry, port } = start({ drain: { graceMs: 5000 } })
		await open(port, '/ndjson')
		await until(() => registry.count === 1)
		const stopping = app.stop()
		const stream = new ResponseStream({ contentType: 'text/event-stream' })
		registry.add(stream, { kind: 'sse', route: '/direct', topics: ['news'] })
		expect(stream.closeReason).toBe('server')
		expect(registry.count).toBe(1)
		registry.close(registry.list()[0]!.id, 'done')
		await stopping
	})

	test("without the drain, Elysia's own stop() waits for open streams (the trap this closes)", async () => {
		const { app, registry, port } = start({ drain: false })
		await open(port, '/sse')
		await until(() => registry.count === 1)
		const server = app.server!
		const outcome = await Promise.race([app.stop().then(() => 'stopped'), Bun.sleep(300).then(() => 'waiting')])
		expect(outcome).toBe('waiting')
		server.stop(true)
	})
})
