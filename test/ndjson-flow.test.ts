import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { serverTiming } from '@elysiajs/server-timing'
import { streaming, type ResponseStream } from '../plugins'
import { RawClient } from './support/raw-http'
import { startEach, until } from './support/server'

const start = startEach()

/** Counts body bytes as they arrive and lets RawClient keep only a small tail (a long stream would fill memory). */
function countBytes(client: RawClient) {
	const seen = { bytes: 0 }
	client.socket.on('data', (d: Buffer) => {
		seen.bytes += d.length
		if (client.raw.length > 1 << 20) client.raw = client.raw.subarray(client.raw.length - 4096)
	})
	return seen
}

describe('ndjson() flow control', () => {
	test('a 1 GB stream read by a slow client (its first 96 MB, in small sips): the producer is paused, server memory stays bounded', async () => {
		const record = JSON.stringify({ pad: 'x'.repeat(1000) }) + '\n' // 1,011 bytes
		const total = Math.ceil(2 ** 30 / record.length) // 1 GB of records
		let produced = 0
		let stream: ResponseStream | undefined
		let ended = false
		const { port } = start(
			new Elysia().use(streaming()).get('/big', ({ ndjson }) =>
				ndjson(async function* (handle) {
					stream = handle.stream
					try {
						for (let i = 0; i < total; i++) {
							produced += record.length
							yield { pad: 'x'.repeat(1000) }
						}
					} finally {
						ended = true
					}
				})
			)
		)
		const client = await RawClient.request(port, '/big')
		const received = countBytes(client)
		await client.waitFor((c) => c.status === 200)
		client.pause()
		// Paused: the producer fills what the sockets hold, then waits.
		let last = -1
		while (produced !== last) {
			last = produced
			await Bun.sleep(150)
		}
		const heapBefore = process.memoryUsage().heapUsed
		const stalledLead = produced - received.bytes
		expect(stalledLead).toBeLessThan(16 * 2 ** 20)
		expect(stream!.unsentBytes).toBeLessThan(2 * 2 ** 20)
		// Read slowly, a little at a time: the producer never gets far ahead of the client.
		let maxLead = 0
		while (received.bytes < 96 * 2 ** 20) {
			client.resume()
			await Bun.sleep(5)
			client.pause()
			await Bun.sleep(5)
			maxLead = Math.max(maxLead, produced - received.bytes)
		}
		expect(maxLead).toBeLessThan(16 * 2 ** 20)
		expect(produced).toBeLessThan(total * record.length / 4)
		Bun.gc(true)
		expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 2 ** 20)
		client.destroy()
		await until(() => ended, 1000, "the producer's finally")
	}, 30_000)

	test('a disconnect stops an idle producer (its finally runs) within 100 ms', async () => {
		let endedAt = 0
		let opened = false
		const { port } = start(
			new Elysia().use(streaming()).get('/idle', ({ ndjson }) =>
				ndjson(async function* ({ sleep }) {
					opened = true
					try {
						yield { hello: true }
						for (;;) await sleep(10_000)
					} finally {
						endedAt = performance.now()
					}
				})
			)
		)
		const client = await RawClient.request(port, '/idle')
		await client.waitFor((c) => c.body.includes('\n'))
		expect(opened).toBe(true)
		const droppedAt = performance.now()
		client.destroy()
		await until(() => endedAt > 0, 1000, "the producer's finally")
		expect(endedAt - droppedAt).toBeLessThan(100)
	})

	test('a disconnect stops a producer blocked by backpressure within 100 ms', async () => {
		let produced = 0
		let endedAt = 0
		const { port } = start(
			new Elysia().use(streaming()).get('/fast', ({ ndjson }) =>
				ndjson(
					(function* () {
						try {
							for (;;) {
								produced++
								yield { pad: 'y'.repeat(200) }
							}
						} finally {
							endedAt = performance.now()
						}
					})()
				)
			)
		)
		const client = await RawClient.request(port, '/fast')
		await client.waitFor((c) => c.status === 200)
		client.pause()
		let last = -1
		while (produced !== last) {
			last = produced
			await Bun.sleep(100)
		}
		expect(endedAt).toBe(0)
		const droppedAt = performance.now()
		client.destroy()
		await until(() => endedAt > 0, 1000, "the producer's finally")
		expect(endedAt - droppedAt).toBeLessThan(100)
	})

	test('a client that goes away mid-stream is not reported as an error', async () => {
		const errors: unknown[] = []
		let endedAt = 0
		const { port } = start(
			new Elysia()
				.use(streaming())
				.onError(({ error }) => {
					errors.push(error)
				})
				.get('/tick', ({ ndjson }) =>
					ndjson(async function* ({ sleep }) {
						try {
							for (let i = 0; ; i++) {
								yield { i }
								await sleep(5)
							}
						} finally {
							endedAt = performance.now()
						}
					})
				)
		)
		const client = await RawClient.request(port, '/tick')
		await client.waitFor((c) => c.body.includes('{"i":3}'))
		client.destroy()
		await until(() => endedAt > 0, 1000, "the producer's finally")
		await Bun.sleep(20)
		expect(errors).toEqual([])
	})

	test('a .trace() on the app (server-timing) changes nothing: backpressure holds, a disconnect stops the producer', async () => {
		let produced = 0
		let endedAt = 0
		const { port } = start(
			new Elysia()
				.use(serverTiming())
				.use(streaming())
				.get('/traced', ({ ndjson }) =>
					ndjson(async function* () {
						try {
							for (;;) {
								produced++
								yield { pad: 'z'.repeat(500) }
							}
						} finally {
							endedAt = performance.now()
						}
					})
				)
		)
		const client = await RawClient.request(port, '/traced')
		await client.waitFor((c) => c.status === 200)
		client.pause()
		let last = -1
		while (produced !== last) {
			last = produced
			await Bun.sleep(100)
		}
		// Paused, bounded: a few MB of socket buffers, not an ever-growing queue.
		expect(produced * 512).toBeLessThan(32 * 2 ** 20)
		const droppedAt = performance.now()
		client.destroy()
		await until(() => endedAt > 0, 1000, "the producer's finally")
		expect(endedAt - droppedAt).toBeLessThan(100)
	})
})
