import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../plugins'
import { RawClient } from './support/raw-http'
import { startEach, until } from './support/server'

const start = startEach()
const linesOf = (text: string) => text.split('\n').slice(0, -1).map((l) => JSON.parse(l))
const deferred = () => {
	let resolve!: () => void
	const promise = new Promise<void>((r) => (resolve = r))
	return { promise, resolve }
}

describe('ndjson()', () => {
	test('one JSON text per line, each ending in \\n, with the streaming headers', async () => {
		const { url } = start(
			new Elysia().use(streaming()).get('/n', ({ ndjson }) =>
				ndjson(async function* () {
					yield { a: 1, text: 'two\nlines' }
					yield [1, 2]
					yield 'str'
					yield 0
					yield false
					yield null
				})
			)
		)
		const res = await fetch(`${url}/n`)
		expect(res.status).toBe(200)
		expect(res.headers.get('content-type')).toBe('application/x-ndjson')
		expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
		expect(res.headers.get('x-accel-buffering')).toBe('no')
		const text = await res.text()
		expect(text).toBe('{"a":1,"text":"two\\nlines"}\n[1,2]\n"str"\n0\nfalse\nnull\n')
	})

	test('a sync iterable, an array and a callback that sends through the handle', async () => {
		const { url } = start(
			new Elysia()
				.use(streaming())
				.get('/array', ({ ndjson }) => ndjson([{ i: 0 }, { i: 1 }]))
				.get('/sync', ({ ndjson }) =>
					ndjson(
						(function* () {
							for (let i = 0; i < 5000; i++) yield { i }
						})()
					)
				)
				.get('/handle', ({ ndjson }) =>
					ndjson<{ n: number }>(async (s) => {
						for (let n = 0; n < 3; n++) await s.send({ n })
						s.close()
					})
				)
		)
		expect(linesOf(await (await fetch(`${url}/array`)).text())).toEqual([{ i: 0 }, { i: 1 }])
		const sync = linesOf(await (await fetch(`${url}/sync`)).text())
		expect(sync.length).toBe(5000)
		expect(sync.every((r, i) => r.i === i)).toBe(true)
		expect(linesOf(await (await fetch(`${url}/handle`)).text())).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }])
	})

	test('a slow producer: each record reaches the client before the next one is made', async () => {
		const gates = [deferred(), deferred(), deferred()]
		const { port } = start(
			new Elysia().use(streaming()).get('/slow', ({ ndjson }) =>
				ndjson(async function* () {
					for (let i = 0; i < 3; i++) {
						yield { i }
						await gates[i]!.promise
					}
				})
			)
		)
		const client = await RawClient.request(port, '/slow')
		for (let i = 0; i < 3; i++) {
			// Record i arrives while the producer still waits on gate i.
			await client.waitFor((c) => c.body.includes(`{"i":${i}}\n`))
			expect(linesOf(client.body)).toEqual(Array.from({ length: i + 1 }, (_, k) => ({ i: k })))
			gates[i]!.resolve()
		}
		await client.waitFor((c) => c.raw.includes('\r\n0\r\n\r\n'))
		client.destroy()
	})

	test('a burst is batched into few writes, and every record still arrives in order', async () => {
		const { port } = start(
			new Elysia().use(streaming()).get('/burst', ({ ndjson }) =>
				ndjson(async function* () {
					for (let i = 0; i < 20_000; i++) yield { i, pad: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }
				})
			)
		)
		const client = await RawClient.request(port, '/burst')
		await client.waitFor((c) => c.raw.includes('\r\n0\r\n\r\n'), 10_000)
		const records = linesOf(client.body)
		expect(records.length).toBe(20_000)
		expect(records.every((r, i) => r.i === i)).toBe(true)
		// 20,000 records of ~70 bytes in chunks of several KB, not one chunk per record.
		const chunkCount = client.raw.toString('latin1').split('\r\n').filter((l) => /^[0-9a-f]+$/.test(l)).length
		expect(chunkCount).toBeLessThan(2000)
		client.destroy()
	})

	test('a mid-stream error ends the stream with the error line and goes to the app error hook', async () => {
		const seen: unknown[] = []
		const { url } = start(
			new Elysia()
				.use(streaming())
				.onError(({ error }) => {
					seen.push(error)
				})
				.get('/fail', ({ ndjson }) =>
					ndjson(async function* () {
						yield { n: 1 }
						yield { n: 2 }
						throw new Error('disk on fire')
					})
				)
				.get('/unencodable', ({ ndjson }) => ndjson([{ ok: true }, undefined]))
		)
		const res = await fetch(`${url}/fail`)
		expect(res.status).toBe(200)
		expect(linesOf(await res.text())).toEqual([{ n: 1 }, { n: 2 }, { error: 'disk on fire', records: 2 }])
		await until(() => seen.length === 1, 1000, 'the error hook')
		expect((seen[0] as Error).message).toBe('disk on fire')
		// A record JSON cannot represent is an error too, not a silently dropped line.
		const bad = linesOf(await (await fetch(`${url}/unencodable`)).text())
		expect(bad[0]).toEqual({ ok: true })
		expect(bad[1]).toMatchObject({ records: 1 })
		expect(bad[1].error).toContain('JSON value')
	})

	test('in production the error line hides the message', async () => {
		const { url } = start(
			new Elysia().use(streaming({ ndjson: { exposeErrors: false } })).onError(() => {}).get('/fail', ({ ndjson }) =>
				ndjson(async function* () {
					yield 1
					throw new Error('secret path /etc/x')
				})
			)
		)
		expect(await (await fetch(`${url}/fail`)).text()).toBe('1\n{"error":"Internal Server Error","records":1}\n')
	})

	test('the stream is registered with the connection manager while it is open', async () => {
		const gate = deferred()
		const app = new Elysia().use(streaming()).get('/live', ({ ndjson }) =>
			ndjson(async function* () {
				yield { hello: 1 }
				await gate.promise
			})
		)
		const { port } = start(app)
		const registry = app.decorator.connections
		const client = await RawClient.request(port, '/live', { headers: { 'user-agent': 'ndjson-test' } })
		await client.waitFor((c) => c.body.includes('\n'))
		expect(registry.count).toBe(1)
		expect(registry.list()[0]).toMatchObject({ kind: 'ndjson', route: '/live', userAgent: 'ndjson-test', eventsSent: 1 })
		gate.resolve()
		await until(() => registry.count === 0, 1000, 'the registry to drop the stream')
		client.destroy()
	})

	test('heartbeats, when asked for, are empty lines', async () => {
		const gate = deferred()
		const { port } = start(
			new Elysia().use(streaming()).get('/idle', ({ ndjson }) =>
				ndjson(
					async function* () {
						yield 1
						await gate.promise
					},
					{ heartbeatMs: 40 }
				)
			)
		)
		const client = await RawClient.request(port, '/idle')
		await client.waitFor((c) => c.body.startsWith('1\n\n\n'))
		gate.resolve()
		client.destroy()
	})

	test('a connection limit refuses a new ndjson stream with 503 and Retry-After, before its producer runs', async () => {
		const gate = deferred()
		let started = 0
		const app = new Elysia().use(streaming({ connections: { maxStreams: 1 } })).get('/one', ({ ndjson }) =>
			ndjson(async function* () {
				started++
				yield { open: true }
				await gate.promise
			})
		)
		const { port, url } = start(app)
		const first = await RawClient.request(port, '/one')
		await first.waitFor((c) => c.body.includes('\n'))
		const second = await fetch(`${url}/one`)
		expect(second.status).toBe(503)
		expect(second.headers.get('retry-after')).toBe('5')
		await second.text()
		expect(started).toBe(1)
		gate.resolve()
		first.destroy()
	})
})
