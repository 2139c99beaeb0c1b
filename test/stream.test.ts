import { afterEach, describe, expect, test } from 'bun:test'
import { ResponseStream, pump, type CloseReason } from '../src/stream'
import { RawClient } from './support/raw-http'
import { until } from './support/server'

// The stream core on a bare Bun.serve: no Elysia in the way.
const servers: { stop(force?: boolean): void }[] = []
afterEach(() => {
	for (const s of servers.splice(0)) s.stop(true)
})

function serve(handler: (req: Request, server: Bun.Server<unknown>) => Response, idleTimeout = 10) {
	const server = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout, fetch: handler })
	servers.push(server)
	return server.port as number
}

describe('ResponseStream', () => {
	test('sends the streaming headers, uncompressed', async () => {
		const port = serve((request, server) => {
			const s = new ResponseStream({ request, server, contentType: 'text/event-stream' })
			s.write('data: x\n\n')
			s.close()
			return s.response
		})
		const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'accept-encoding': 'gzip, br' } })
		expect(res.headers.get('content-type')).toBe('text/event-stream')
		expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
		expect(res.headers.get('x-accel-buffering')).toBe('no')
		expect(res.headers.get('content-encoding')).toBeNull()
		expect(await res.text()).toBe('data: x\n\n')
	})

	test('pauses a producer that outruns a slow reader, and resumes it', async () => {
		const chunk = 'x'.repeat(64 * 1024)
		let produced = 0
		let stream!: ResponseStream
		const port = serve((request, server) => {
			stream = new ResponseStream({ request, server, contentType: 'text/plain', heartbeatMs: 0, stallTimeoutMs: 0 })
			pump(stream, (function* () {
				for (;;) {
					produced++
					yield chunk
				}
			})(), (c) => c)
			return stream.response
		})
		const client = await RawClient.request(port, '/')
		await client.waitFor((c) => c.raw.length > 0)
		client.pause()
		await Bun.sleep(300)
		const whilePaused = produced
		await Bun.sleep(300)
		// Bounded: the producer stopped once the socket buffers filled (a few MB), not 100s of MB.
		expect(produced).toBe(whilePaused)
		expect(produced * chunk.length).toBeLessThan(32 * 1024 * 1024)
		expect(stream.backpressured).toBe(true)
		client.resume()
		await until(() => produced > whilePaused + 100, 3000, 'the producer to resume')
		client.destroy()
		await until(() => stream.closed, 1000, 'close after the client left')
	})

	test('runs cleanup within 100 ms of the client leaving, while the producer is parked', async () => {
		let stream!: ResponseStream
		let finallyRan = false
		const port = serve((request, server) => {
			stream = new ResponseStream({ request, server, contentType: 'text/event-stream' })
			pump(stream, (async function* () {
				try {
					yield 'data: first\n\n'
					await new Promise(() => {}) // parked for ever, waiting for data
				} finally {
					finallyRan = true
				}
			})(), (c) => c)
			return stream.response
		})
		const client = await RawClient.request(port, '/')
		await client.waitFor((c) => c.body.includes('data: first'))
		let closedAt = 0
		let reason: CloseReason | undefined
		stream.onClose((r) => {
			closedAt = performance.now()
			reason = r
		})
		const droppedAt = performance.now()
		client.destroy()
		await until(() => closedAt > 0, 1000, 'onClose')
		expect(closedAt - droppedAt).toBeLessThan(100)
		expect(reason).toBe('client')
		expect(stream.signal.aborted).toBe(true)
		// A generator parked on a promise that never settles cannot run its finally; the
		// handle's signal is how a producer stops at once (see the sse() tests).
		expect(finallyRan).toBe(false)
	})

	test('runs cleanup within 100 ms while the producer is parked on backpressure', async () => {
		let stream!: ResponseStream
		const port = serve((request, server) => {
			stream = new ResponseStream({ request, server, contentType: 'text/plain', stallTimeoutMs: 0 })
			const chunk = 'y'.repeat(64 * 1024)
			pump(stream, (function* () {
				for (;;) yield chunk
			})(), (c) => c)
			return stream.response
		})
		const client = await RawClient.request(port, '/')
		await client.waitFor((c) => c.raw.length > 0)
		client.pause()
		await until(() => stream.backpressured, 2000, 'backpressure')
		let closedAt = 0
		stream.onClose(() => (closedAt = performance.now()))
		const droppedAt = performance.now()
		client.destroy()
		await until(() => closedAt > 0, 1000, 'onClose')
		expect(closedAt - droppedAt).toBeLessThan(100)
	})

	test('sends no heartbeat while data flows', async () => {
		const port = serve((request, server) => {
			const s = new ResponseStream({ request, server, contentType: 'text/event-stream', heartbeatMs: 60 })
			let n = 0
			const timer = setInterval(() => (s.write(`data: ${n++}\n\n`, 1) || true) && n === 20 && (clearInterval(timer), s.close()), 15)
			return s.response
		})
		const text = await (await fetch(`http://127.0.0.1:${port}/`)).text()
		expect(text).toContain('data: 19\n\n')
		expect(text).not.toContain(':\n\n')
	})

	test('sends a heartbeat comment while idle', async () => {
		const port = serve((request, server) => {
			const s = new ResponseStream({ request, server, contentType: 'text/event-stream', heartbeatMs: 60 })
			s.write('data: hi\n\n', 1)
			return s.response
		})
		const client = await RawClient.request(port, '/')
		await client.waitFor((c) => c.body.split(':\n\n').length >= 4, 2000)
		expect(client.body.startsWith('data: hi\n\n:\n\n')).toBe(true)
		client.destroy()
	})

	test("turns off Bun's idle timeout: a quiet stream outlives it", async () => {
		let late!: () => void
		const port = serve((request, server) => {
			const s = new ResponseStream({ request, server, contentType: 'text/plain', heartbeatMs: 0, stallTimeoutMs: 0 })
			s.write('open\n')
			late = () => s.write('still here\n')
			return s.response
		}, 1)
		// Control: the same quiet stream without the stream core is cut by the 1 s idle timeout.
		const control = serve(() => new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('open\n')) })), 1)
		const ours = await RawClient.request(port, '/')
		const theirs = await RawClient.request(control, '/')
		// Bun checks idle sockets every 4 s, so a 1 s timeout fires between 4 and 5 s.
		await until(() => theirs.closed, 8000, 'the control stream to be cut')
		await Bun.sleep(500)
		late()
		await ours.waitFor((c) => c.body.includes('still here'))
		expect(ours.closed).toBe(false)
		expect(theirs.closed).toBe(true)
		ours.destroy()
	})

	test('closes a stalled stream (half-open client) after the stall timeout', async () => {
		let stream!: ResponseStream
		const port = serve((request, server) => {
			stream = new ResponseStream({ request, server, contentType: 'text/plain', heartbeatMs: 50, stallTimeoutMs: 200 })
			const chunk = 'z'.repeat(64 * 1024)
			pump(stream, (function* () {
				for (;;) yield chunk
			})(), (c) => c)
			return stream.response
		})
		const client = await RawClient.request(port, '/')
		await client.waitFor((c) => c.raw.length > 0)
		client.pause()
		await until(() => stream.closed, 2000, 'the stall timeout')
		expect(stream.closeReason).toBe('stalled')
		client.destroy()
	})

	test('counts bytes and events', async () => {
		let stream!: ResponseStream
		const port = serve((request, server) => {
			stream = new ResponseStream({ request, server, contentType: 'text/plain' })
			pump(stream, ['a\n', 'bb\n', 'ccc\n'], (c) => c).then(() => stream.close())
			return stream.response
		})
		expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('a\nbb\nccc\n')
		expect(stream.eventsSent).toBe(3)
		expect(stream.bytesSent).toBe(9)
	})
})

describe('pump', () => {
	test('joins a burst into few writes, and sends a lone item at once', async () => {
		let stream!: ResponseStream
		let release!: () => void
		const port = serve((request, server) => {
			stream = new ResponseStream({ request, server, contentType: 'text/plain' })
			pump(stream, (async function* () {
				for (let i = 0; i < 1000; i++) yield `${i}\n`
				await new Promise<void>((r) => (release = r))
				yield 'after the pause\n'
				await new Promise(() => {})
			})(), (c) => c)
			return stream.response
		})
		const client = await RawClient.request(port, '/')
		await client.waitFor((c) => c.body.includes('999\n'))
		// Chunked framing shows the writes: 1000 items went out in a handful of chunks.
		const chunks = client.raw.toString().split('\r\n').filter((l) => /^[0-9a-f]+$/.test(l)).length
		expect(chunks).toBeLessThan(10)
		release()
		await client.waitFor((c) => c.body.endsWith('after the pause\n'), 500)
		client.destroy()
	})

	test('rejects with what the source threw, after sending what came before', async () => {
		let result!: Promise<string>
		const port = serve((request, server) => {
			const s = new ResponseStream({ request, server, contentType: 'text/plain' })
			result = pump(s, (async function* () {
				yield 'one\n'
				throw new Error('source failed')
			})(), (c) => c)
				.then(() => 'resolved', (e: Error) => e.message)
				.finally(() => s.close())
			return s.response
		})
		expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('one\n')
		expect(await result).toBe('source failed')
	})
})
