import { afterEach, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { connectionsPlugin, streamPlugin, streaming } from '../plugins'
import net from 'node:net'
import { RawClient } from './support/raw-http'
import { startEach, until } from './support/server'

// stream(): text or bytes on the stream core, over real sockets.
const start = startEach()
const clients: RawClient[] = []
afterEach(() => {
	for (const c of clients.splice(0)) c.destroy()
})

test('a CSV export from a generator: its content type and headers, every row in order', async () => {
	const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `name ${i}` }))
	const app = new Elysia().use(streamPlugin()).get('/export.csv', ({ stream }) =>
		stream(
			function* () {
				yield 'id,name\n'
				for (const row of rows) yield `${row.id},${row.name}\n`
			},
			{ contentType: 'text/csv; charset=utf-8', headers: { 'content-disposition': 'attachment; filename="export.csv"' } }
		)
	)
	const { url } = start(app)
	const response = await fetch(`${url}/export.csv`)
	expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8')
	expect(response.headers.get('content-disposition')).toBe('attachment; filename="export.csv"')
	expect(response.headers.get('cache-control')).toContain('no-transform')
	expect(await response.text()).toBe('id,name\n' + rows.map((r) => `${r.id},${r.name}\n`).join(''))
})

test('bytes go out as they are, between text chunks, and text/plain is the default', async () => {
	const bytes = new Uint8Array([0, 255, 128, 10, 13, 0xc3])
	const app = new Elysia().use(streamPlugin()).get('/mixed', ({ stream }) =>
		stream(async function* () {
			yield 'head:'
			yield bytes
			await Bun.sleep(5)
			yield ':tail'
		})
	)
	const { url } = start(app)
	const response = await fetch(`${url}/mixed`)
	expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8')
	const body = new Uint8Array(await response.arrayBuffer())
	expect([...body]).toEqual([...new TextEncoder().encode('head:'), ...bytes, ...new TextEncoder().encode(':tail')])
})

test('a callback writes through its handle, lines arrive as written, close() ends the response', async () => {
	const results: boolean[] = []
	const app = new Elysia().use(streamPlugin()).get('/log', ({ stream }) =>
		stream(async (h) => {
			for (let n = 1; n <= 3; n++) {
				results.push(await h.write(`line ${n}\n`))
				await h.sleep(10)
			}
			h.close()
			results.push(await h.write('after close\n'))
		})
	)
	const { url } = start(app)
	expect(await (await fetch(`${url}/log`)).text()).toBe('line 1\nline 2\nline 3\n')
	await until(() => results.length === 4, 2000, 'the producer to end')
	expect(results).toEqual([true, true, true, false])
})

test('backpressure: a producer waits while the client does not read, and every byte arrives once it does', async () => {
	const chunk = 'x'.repeat(64 * 1024)
	const total = 256 // 16 MB: far more than the socket buffers hold
	let written = 0
	const app = new Elysia().use(streamPlugin()).get('/big', ({ stream }) =>
		stream(async (h) => {
			for (let i = 0; i < total; i++) {
				if (!(await h.write(chunk))) return
				written++
			}
		})
	)
	const { port } = start(app)
	let received = 0
	let ended = false
	const socket = net.connect(port, '127.0.0.1')
	socket.on('data', (d: Buffer) => (received += d.length))
	socket.on('close', () => (ended = true))
	socket.write('GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
	socket.pause()
	await until(() => written > 0, 5000, 'the first writes')
	// Stalled: the count stops moving while the client reads nothing.
	let seen = -1
	await until(
		() => {
			const still = written === seen
			seen = written
			return still
		},
		5000,
		'the producer to wait'
	)
	await Bun.sleep(100)
	expect(written).toBe(seen)
	expect(written).toBeLessThan(total)
	socket.resume()
	await until(() => ended, 30_000, 'the end of the response')
	expect(written).toBe(total)
	expect(received).toBeGreaterThan(total * chunk.length)
})

test('a client that leaves: the producer waiting in sleep() runs its finally within milliseconds, and the stream is unregistered', async () => {
	let finished = 0
	const app = new Elysia()
		.use(streaming())
		.get('/wait', ({ stream }) =>
			stream(async function* (h) {
				try {
					yield 'started\n'
					await h.sleep(60_000)
				} finally {
					finished = performance.now()
				}
			})
		)
	const { port } = start(app)
	const client = await RawClient.request(port, '/wait')
	await client.waitFor((c) => c.body.includes('started'))
	expect(app.decorator.connections.counts().byKind).toEqual({ stream: 1 })
	const left = performance.now()
	client.destroy()
	await until(() => finished > 0, 5000, 'the finally block')
	// Well under the 60 s the producer was waiting for; the margin is for a busy machine.
	expect(finished - left).toBeLessThan(2000)
	await until(() => app.decorator.connections.counts().total === 0, 2000, 'unregistration')
})

test('an error mid-stream cuts the response and reaches the app error hooks', async () => {
	const seen: unknown[] = []
	const app = new Elysia()
		.use(streamPlugin())
		.onError(({ error }) => {
			seen.push(error)
		})
		.get('/fails', ({ stream }) =>
			stream(async function* () {
				yield 'partial\n'
				await Bun.sleep(5)
				throw new Error('source failed')
			})
		)
	const { port } = start(app)
	const client = await RawClient.request(port, '/fails')
	await client.waitFor((c) => c.closed || c.raw.includes('0\r\n\r\n'))
	expect(client.body).toBe('partial\n')
	await until(() => seen.length === 1, 2000, 'the error hook')
	expect((seen[0] as Error).message).toBe('source failed')
	client.destroy()
})

test('limits apply: past maxStreams a stream() request gets 503 with Retry-After', async () => {
	const app = new Elysia()
		.use(connectionsPlugin({ maxStreams: 1 }))
		.use(streamPlugin())
		.get('/hold', ({ stream }) => stream(async (h) => void (await h.write('held\n'), await h.sleep(60_000))))
	const { port, url } = start(app)
	const first = await RawClient.request(port, '/hold')
	clients.push(first)
	await first.waitFor((c) => c.body.includes('held'))
	const second = await fetch(`${url}/hold`)
	expect(second.status).toBe(503)
	expect(second.headers.get('retry-after')).toBeTruthy()
	first.destroy()
})
