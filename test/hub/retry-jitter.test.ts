// Reconnects are spread: the retry hints of a drain and of a slow-consumer cut-off carry jitter,
// and sluice/client adds its own on every reconnect, so a thousand clients do not return at once.
import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { jitteredRetry } from '../../src/sse/retry'
import { OptionError } from '../../src/errors'
import { connect } from '../../src/client'
import { listen, until } from '../support/server'
import { RawClient } from '../support/raw-http'

const retriesOf = (body: string) => [...body.matchAll(/(?:^|\n)retry: (\d+)\n/g)].map((m) => Number(m[1]))

describe('retry jitter', () => {
	test('jitteredRetry spreads over ms .. ms * (1 + jitter); 0 turns it off; a bad jitter is refused', () => {
		const samples = Array.from({ length: 2000 }, () => jitteredRetry(1000, 0.5))
		expect(Math.min(...samples)).toBeGreaterThanOrEqual(1000)
		expect(Math.max(...samples)).toBeLessThanOrEqual(1500)
		// Spread over the range, not bunched: both ends are reached (each with probability ~1 - 1e-90).
		expect(Math.min(...samples)).toBeLessThan(1050)
		expect(Math.max(...samples)).toBeGreaterThan(1450)
		expect(jitteredRetry(1000, 0)).toBe(1000)
		expect(() => jitteredRetry(1000, -1)).toThrow(OptionError)
		expect(() => jitteredRetry(1000, Number.NaN)).toThrow(OptionError)
	})

	test('a drain tells each SSE client a different retry within retryMs .. retryMs * 1.5', async () => {
		const app = new Elysia()
			.use(streaming({ connections: { drain: { graceMs: 1000, retryMs: 1000 } } }))
			.get('/feed', ({ subscribe }) => subscribe('feed', { heartbeatMs: 0 }))
		const server = listen(app)
		const clients = await Promise.all(Array.from({ length: 40 }, () => RawClient.request(server.port, '/feed')))
		await until(() => app.decorator.broadcast.count('feed') === 40)
		await app.stop()
		await Promise.all(clients.map((c) => c.waitFor((x) => x.body.includes('event: shutdown'), 3000)))
		const retries = clients.map((c) => retriesOf(c.body).at(-1)!)
		for (const c of clients) c.destroy()
		for (const r of retries) {
			expect(r).toBeGreaterThanOrEqual(1000)
			expect(r).toBeLessThanOrEqual(1500)
		}
		expect(new Set(retries).size).toBeGreaterThan(20)
	})

	test('retryJitter: 0 sends the drain\'s retryMs as it is', async () => {
		const app = new Elysia()
			.use(streaming({ connections: { drain: { graceMs: 1000, retryMs: 1234, retryJitter: 0 } } }))
			.get('/feed', ({ subscribe }) => subscribe('feed', { heartbeatMs: 0 }))
		const server = listen(app)
		const client = await RawClient.request(server.port, '/feed')
		await until(() => app.decorator.broadcast.count('feed') === 1)
		await app.stop()
		await client.waitFor((x) => x.body.includes('event: shutdown'), 3000)
		client.destroy()
		expect(retriesOf(client.body)).toEqual([1234])
	})

	test('sluice/client adds its own jitter to every reconnect, not only the first', async () => {
		let opened = 0
		// Each stream ends at once with retry: 100: the client reconnects after every one.
		const server = Bun.serve({
			port: 0,
			hostname: '127.0.0.1',
			fetch: () => {
				opened++
				return new Response(`retry: 100\nid: ${opened}\ndata: ${opened}\n\n`, { headers: { 'content-type': 'text/event-stream' } })
			}
		})
		const delays: number[] = []
		const client = connect(`http://127.0.0.1:${server.port}/`, { jitter: 0.5, onReconnect: ({ delayMs }) => delays.push(delayMs) })
		try {
			for await (const m of client) if (Number(m.data) >= 8) break
		} finally {
			client.close()
			server.stop(true)
		}
		expect(delays.length).toBe(7)
		for (const d of delays) {
			expect(d).toBeGreaterThanOrEqual(100)
			expect(d).toBeLessThanOrEqual(150)
		}
		expect(new Set(delays).size).toBeGreaterThan(1)
	}, 10_000)
})
