import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { serverTiming } from '@elysiajs/server-timing'
import { EventSource } from 'eventsource'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { streaming } from '../plugins'
import { RawClient } from './support/raw-http'
import { startEach, until } from './support/server'

const start = startEach()

async function readEvents(res: Response): Promise<EventSourceMessage[]> {
	const events: EventSourceMessage[] = []
	const parser = createParser({ onEvent: (e) => events.push(e) })
	parser.feed(await res.text())
	return events
}

describe('sse()', () => {
	test('streams a generator, with the SSE headers', async () => {
		const { url } = start(
			new Elysia().use(streaming()).get('/e', ({ sse }) =>
				sse(async function* () {
					yield { event: 'tick', id: 1, data: { n: 1 } }
					yield { data: 'plain' }
				})
			)
		)
		const res = await fetch(`${url}/e`)
		expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
		expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
		expect(res.headers.get('x-accel-buffering')).toBe('no')
		expect(await readEvents(res)).toEqual([
			{ id: '1', event: 'tick', data: '{"n":1}' },
			{ id: undefined, event: undefined, data: 'plain' }
		])
	})

	test('sends numbers, booleans, null and arrays, including null mid-stream', async () => {
		const { url } = start(
			new Elysia().use(streaming()).get('/e', ({ sse }) => sse([0, true, null, 'after null', [1, 2], { data: false }]))
		)
		const events = await readEvents(await fetch(`${url}/e`))
		expect(events.map((e) => e.data)).toEqual(['0', 'true', 'null', 'after null', '[1,2]', 'false'])
	})

	test('a callback gets a handle: send, comment, lastEventId, close', async () => {
		// What the producer saw is checked here, not inside it: an expect failing in a
		// producer after its stream closed would go nowhere.
		const sendsAfterClose: boolean[] = []
		const { url } = start(
			new Elysia().use(streaming()).get('/e', ({ sse }) =>
				sse(async (s) => {
					await s.comment('hello')
					await s.send('resume', { from: s.lastEventId ?? null }, { id: 'a1' })
					s.close()
					sendsAfterClose.push(await s.send('late', 1))
				})
			)
		)
		const text = await (await fetch(`${url}/e`, { headers: { 'Last-Event-ID': '41' } })).text()
		expect(text).toBe(': \n\n: hello\n\nevent: resume\nid: a1\ndata: {"from":"41"}\n\n')
		const viaQuery = await readEvents(await fetch(`${url}/e?lastEventId=7`))
		expect(viaQuery[0]!.data).toBe('{"from":"7"}')
		await until(() => sendsAfterClose.length === 2, 2000, 'both producers to end')
		expect(sendsAfterClose).toEqual([false, false])
	})

	test('a callback may return a generator that uses the handle', async () => {
		const { url } = start(
			new Elysia().use(streaming()).get('/e', ({ sse }) =>
				sse(async function* (s) {
					for (let n = 0; n < 3; n++) {
						yield { id: n, data: n }
						await s.sleep(5)
					}
				})
			)
		)
		expect((await readEvents(await fetch(`${url}/e`))).map((e) => e.id)).toEqual(['0', '1', '2'])
	})

	test('opens with the retry hint when one is given', async () => {
		const { url } = start(new Elysia().use(streaming()).get('/e', ({ sse }) => sse([], { retryMs: 2500 })))
		expect(await (await fetch(`${url}/e`)).text()).toBe('retry: 2500\n\n')
	})

	test('the client sees the 200 before the first event exists', async () => {
		const { port } = start(
			new Elysia().use(streaming()).get('/e', ({ sse }) => sse(async function* () {
				await new Promise(() => {})
			}))
		)
		const client = await RawClient.request(port, '/e')
		await client.waitFor((c) => c.status === 200 && c.body === ': \n\n', 1000)
		client.destroy()
	})

	test("the plugin turns off Bun's idle timeout for its streams: a quiet one outlives it", async () => {
		let late!: () => void
		const app = new Elysia()
			.use(streaming())
			.get('/quiet', ({ sse }) =>
				sse(
					async (s) => {
						await s.send('open', 'yes')
						await new Promise<void>((resolve) => (late = resolve))
						await s.send('late', 'still here')
					},
					{ heartbeatMs: 0 }
				)
			)
			// Control: a quiet stream that is not ours, on the same server.
			.get('/plain', () => new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('open\n')) })))
			.listen({ port: 0, hostname: '127.0.0.1', idleTimeout: 1 })
		try {
			const port = app.server!.port as number
			const ours = await RawClient.request(port, '/quiet')
			const theirs = await RawClient.request(port, '/plain')
			await ours.waitFor((c) => c.body.includes('data: yes'))
			// Bun checks idle sockets every 4 s, so a 1 s timeout fires between 4 and 5 s.
			await until(() => theirs.closed, 8000, 'the control stream to be cut')
			await Bun.sleep(500)
			late()
			await ours.waitFor((c) => c.body.includes('still here'))
			expect(ours.closed).toBe(false)
			ours.destroy()
		} finally {
			await app.stop(true)
		}
	})

	test('an error mid-stream: an error frame, the app error hook, the stream closed, the server alive', async () => {
		const seen: string[] = []
		const { url } = start(
			new Elysia()
				.use(streaming())
				// The hook gets the context of the failed request, as for any error.
				.onError(({ error, path, request }) => {
					seen.push(`${request.method} ${path}: ${(error as Error).message}`)
				})
				.get('/e', ({ sse }) =>
					sse(async function* () {
						yield { data: 'before' }
						throw new Error('database went away')
					})
				)
				.get('/bad-name', ({ sse }) => sse([{ data: 1 }, { event: 'bad\nname', data: 2 }]))
				.get('/ok', () => 'still up')
		)
		const events = await readEvents(await fetch(`${url}/e`))
		expect(events).toEqual([
			{ id: undefined, event: undefined, data: 'before' },
			{ id: undefined, event: 'error', data: '{"message":"database went away"}' }
		])
		await until(() => seen.length === 1, 1000, 'the error hook')
		expect(seen).toEqual(['GET /e: database went away'])
		const bad = await readEvents(await fetch(`${url}/bad-name`))
		expect(bad.map((e) => e.event)).toEqual([undefined, 'error'])
		expect(bad[1]!.data).toContain('event')
		expect(await (await fetch(`${url}/ok`)).text()).toBe('still up')
	})

	test('hides error messages when told to (production)', async () => {
		const { url } = start(
			new Elysia().use(streaming({ sse: { exposeErrors: false } })).get('/e', ({ sse }) =>
				sse(async function* () {
					throw new Error('secret detail')
				})
			)
		)
		expect(await (await fetch(`${url}/e`)).text()).toContain('data: {"message":"Internal Server Error"}')
	})

	test('the handle signal aborts and the producer finally runs when the client leaves while parked', async () => {
		let stopped = 0
		let finallyAt = 0
		const { port } = start(
			new Elysia().use(streaming()).get('/e', ({ sse }) =>
				sse(async function* (s) {
					try {
						yield { data: 'first' }
						await s.sleep(60_000) // parked, waiting for data
					} finally {
						finallyAt = performance.now()
						stopped++
					}
				})
			)
		)
		const client = await RawClient.request(port, '/e')
		await client.waitFor((c) => c.body.includes('first'))
		const droppedAt = performance.now()
		client.destroy()
		await until(() => stopped === 1, 1000, 'the producer finally')
		expect(finallyAt - droppedAt).toBeLessThan(100)
	})

	test('the eventsource client reads the stream and resumes with Last-Event-ID', async () => {
		const seenIds: (string | null)[] = []
		const { url } = start(
			new Elysia().use(streaming()).get('/e', ({ sse, request }) => {
				seenIds.push(request.headers.get('last-event-id'))
				const from = Number(request.headers.get('last-event-id') ?? 0)
				// Two events per connection, then the server ends the stream: the client reconnects.
				return sse([{ id: from + 1, data: `n${from + 1}` }, { id: from + 2, data: `n${from + 2}` }], { retryMs: 10 })
			})
		)
		const es = new EventSource(`${url}/e`)
		const got: string[] = []
		es.onmessage = (e) => got.push(e.data)
		await until(() => got.length >= 6, 3000, 'six events over three connections')
		es.close()
		expect(got.slice(0, 6)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5', 'n6'])
		expect(seenIds.slice(0, 3)).toEqual([null, '2', '4'])
	})

	test('unicode survives the wire (eventsource client)', async () => {
		const text = 'héllo ✓ 🎉 中文 \u2028 end'
		const { url } = start(new Elysia().use(streaming()).get('/e', ({ sse }) => sse([{ data: text }, { data: 'a\nb' }])))
		const es = new EventSource(`${url}/e`)
		const got: string[] = []
		es.onmessage = (e) => got.push(e.data)
		await until(() => got.length >= 2, 2000, 'events')
		es.close()
		expect(got.slice(0, 2)).toEqual([text, 'a\nb'])
	})
})

describe('sse() with a .trace() on the app (server-timing)', () => {
	const traced = () => new Elysia().use(serverTiming()).use(streaming())

	test('backpressure holds: a slow reader pauses the producer', async () => {
		let produced = 0
		const { port } = start(
			traced().get('/e', ({ sse }) =>
				sse(function* () {
					const data = 'x'.repeat(16 * 1024)
					for (;;) {
						produced++
						yield { data }
					}
				})
			)
		)
		const client = await RawClient.request(port, '/e')
		await client.waitFor((c) => c.raw.length > 0)
		client.pause()
		await Bun.sleep(300)
		const paused = produced
		await Bun.sleep(300)
		expect(produced).toBe(paused)
		expect(produced * 16 * 1024).toBeLessThan(32 * 1024 * 1024)
		client.destroy()
	})

	test('disconnect cleanup holds: the parked producer stops within 100 ms', async () => {
		let finallyAt = 0
		const { port } = start(
			traced().get('/e', ({ sse }) =>
				sse(async function* (s) {
					try {
						yield { data: 'first' }
						await s.sleep(60_000)
					} finally {
						finallyAt = performance.now()
					}
				})
			)
		)
		const client = await RawClient.request(port, '/e')
		await client.waitFor((c) => c.body.includes('first'))
		const droppedAt = performance.now()
		client.destroy()
		await until(() => finallyAt > 0, 1000, 'the producer finally')
		expect(finallyAt - droppedAt).toBeLessThan(100)
	})
})
