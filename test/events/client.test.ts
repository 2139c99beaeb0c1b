import { afterAll, describe, expect, test } from 'bun:test'
import { t } from 'elysia'
import { events } from '../../src/events'
import { connect, SseClientError } from 'sluice/client'
import { until } from '../support/server'
import { feed, shapes, startFixture } from './fixture'

const fx = startFixture()
afterAll(() => fx.server.stop())

/** Collects up to `max` messages, then leaves the loop. */
async function take<T>(iterable: AsyncIterable<T>, max: number): Promise<T[]> {
	const out: T[] = []
	if (max === 0) return out
	for await (const m of iterable) {
		out.push(m)
		if (out.length >= max) break
	}
	return out
}

const errorOf = async (run: () => Promise<unknown>) => {
	try {
		await run()
	} catch (error) {
		return error as SseClientError
	}
	throw new Error('expected an error')
}

describe('connect(): typed values', () => {
	test('every data shape arrives exactly as sent, typed by the registry', async () => {
		const got = await take(connect(fx.url('/shapes'), { events: feed, reconnect: false }), 100)
		expect(got).toEqual(shapes)
	})

	test('without a registry, data is the raw text', async () => {
		const got = await take(connect(fx.url('/shapes'), { reconnect: false }), 100)
		expect(got[0]).toEqual({ event: 'note', data: '42' })
		expect(got[11]).toEqual({ event: 'any', data: '42' })
		expect(got[10]).toEqual({ event: 'any', data: '"42"' })
	})

	test('events the registry does not know are skipped', async () => {
		const got = await take(connect(fx.url('/mixed'), { events: feed, reconnect: false }), 10)
		expect(got).toEqual([{ event: 'note', data: 'kept' }])
	})

	test("a server's error frame is thrown, after the events before it", async () => {
		const got: unknown[] = []
		const error = await errorOf(async () => {
			for await (const m of connect(fx.url('/fails'), { events: feed })) got.push(m)
		})
		expect(got).toEqual([{ event: 'note', data: 'before' }])
		expect(error.kind).toBe('remote')
		expect(error.message).toContain('producer broke')
	})

	test('a send that fails the schema is not sent; the client gets the error', async () => {
		const got: unknown[] = []
		const error = await errorOf(async () => {
			for await (const m of connect(fx.url('/bad-send'), { events: feed })) got.push(m)
		})
		expect(got).toEqual([{ event: 'count', data: { n: 1 } }])
		expect(error.kind).toBe('remote')
		expect(error.message).toContain('"count"')
		expect(error.message).toContain('/n')
	})
})

describe('connect(): reconnects', () => {
	test('reconnects after the stream ends, sending the last id, and honours retry', async () => {
		const before = fx.hits('/count').length
		const delays: number[] = []
		const client = connect(fx.url('/count'), { events: feed, retryMs: 5000, onReconnect: ({ delayMs }) => delays.push(delayMs) })
		const got = await take(client, 7)
		expect(got.map((m) => (m.event === 'count' ? m.data.n : 0))).toEqual([1, 2, 3, 4, 5, 6, 7])
		expect(got.map((m) => m.id)).toEqual(['1', '2', '3', '4', '5', '6', '7'])
		expect(fx.hits('/count').slice(before).map((r) => r.lastEventId)).toEqual([null, '3', '6'])
		// The server said retry: 30, over our 5000: each wait is 30 ms plus at most 20% jitter.
		expect(delays.length).toBe(2)
		for (const d of delays) expect(d >= 30 && d <= 36).toBe(true)
		expect(client.lastEventId).toBe('7')
		expect(client.closed).toBe(true)
	})

	test('lastEventIdIn: query sends the last id as ?lastEventId= (no header: no CORS preflight)', async () => {
		const before = fx.hits('/count').length
		const got = await take(connect(fx.url('/count'), { events: feed, lastEventIdIn: 'query' }), 4)
		expect(got.map((m) => m.id)).toEqual(['1', '2', '3', '4'])
		const requests = fx.hits('/count').slice(before)
		expect(requests.map((r) => [r.search, r.lastEventId])).toEqual([
			['', null],
			['?lastEventId=3', null]
		])
	})

	test('starts from a given lastEventId, and follows a redirect', async () => {
		const got = await take(connect(fx.url('/redirect'), { events: feed, lastEventId: '40' }), 2)
		expect(got.map((m) => m.id)).toEqual(['41', '42'])
	})

	test('backs off while the server is unreachable, doubling up to maxRetryMs', async () => {
		const gone = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
		const url = `http://127.0.0.1:${gone.port}/`
		gone.stop(true)
		const delays: number[] = []
		const client = connect(url, {
			retryMs: 5,
			maxRetryMs: 20,
			jitter: 0,
			onReconnect: ({ delayMs }) => {
				delays.push(delayMs)
				if (delays.length === 5) client.close()
			}
		})
		expect(await take(client, 1)).toEqual([])
		expect(delays).toEqual([5, 10, 20, 20, 20])
	})

	test('no reconnect after close()', async () => {
		const before = fx.hits('/count').length
		const client = connect(fx.url('/count'), { events: feed })
		for await (const m of client) {
			expect(m.id).toBe('1')
			client.close()
		}
		await Bun.sleep(150) // five retry periods of the server
		expect(fx.hits('/count').length - before).toBe(1)
		// The events parsed with the first one were not handed out, nor recorded as seen.
		expect(client.lastEventId).toBe('1')
	})

	test('an aborted signal stops the reader', async () => {
		const abort = new AbortController()
		const client = connect(fx.url('/forever'), { events: feed, signal: abort.signal })
		const got: unknown[] = []
		for await (const m of client) {
			got.push(m)
			abort.abort()
		}
		expect(got.length).toBe(1)
		expect(client.closed).toBe(true)
	})
})

describe('connect(): stops as EventSource does', () => {
	test('HTTP 204 ends the reader without an error or a reconnect', async () => {
		const before = fx.hits('/no-content').length
		expect(await take(connect(fx.url('/no-content'), { retryMs: 10 }), 5)).toEqual([])
		await Bun.sleep(60)
		expect(fx.hits('/no-content').length - before).toBe(1)
	})

	test('a non-2xx status throws and does not reconnect', async () => {
		const before = fx.hits('/broken').length
		const error = await errorOf(() => take(connect(fx.url('/broken'), { retryMs: 10 }), 5))
		expect(error).toBeInstanceOf(SseClientError)
		expect(error.kind).toBe('status')
		expect(error.status).toBe(500)
		await Bun.sleep(60)
		expect(fx.hits('/broken').length - before).toBe(1)
	})

	test('a wrong content type throws and does not reconnect', async () => {
		const before = fx.hits('/plain').length
		const error = await errorOf(() => take(connect(fx.url('/plain'), { retryMs: 10 }), 5))
		expect(error.kind).toBe('content-type')
		expect(error.message).toContain('text/plain')
		await Bun.sleep(60)
		expect(fx.hits('/plain').length - before).toBe(1)
	})
})

describe('connect(): leaving the loop closes the request', () => {
	const leaves = async (how: (client: AsyncIterable<unknown>) => Promise<void>) => {
		const left = fx.seen.left
		await how(connect(fx.url('/forever'), { events: feed }))
		await until(() => fx.seen.left === left + 1, 1000, 'the server to see the client leave')
	}

	test('break', () =>
		leaves(async (client) => {
			for await (const _ of client) break
		}))

	test('return', () =>
		leaves(async (client) => {
			const first = async () => {
				for await (const m of client) return m
			}
			expect(await first()).toEqual({ event: 'count', data: { n: 1 } })
		}))

	test('throw', () =>
		leaves(async (client) => {
			const error = await errorOf(async () => {
				for await (const _ of client) throw new Error('consumer failed')
			})
			expect(error.message).toBe('consumer failed')
		}))
})

describe('connect(): network', () => {
	test('a connection that breaks mid-stream is retried from the last id', async () => {
		const lastIds: (string | null)[] = []
		const raw = Bun.serve({
			port: 0,
			hostname: '127.0.0.1',
			fetch(request) {
				lastIds.push(request.headers.get('last-event-id'))
				const first = lastIds.length === 1
				const body = new ReadableStream({
					async pull(controller) {
						controller.enqueue(new TextEncoder().encode(first ? 'retry: 10\nevent: count\nid: 1\ndata: {"n":1}\n\n' : 'event: count\nid: 2\ndata: {"n":2}\n\n'))
						await Bun.sleep(20)
						if (first) controller.error(new Error('connection dropped'))
						else controller.close()
					}
				})
				return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
			}
		})
		try {
			const errors: unknown[] = []
			const got = await take(connect(`http://127.0.0.1:${raw.port}/`, { events: feed, onReconnect: ({ error }) => errors.push(error) }), 2)
			expect(got).toEqual([
				{ event: 'count', data: { n: 1 }, id: '1' },
				{ event: 'count', data: { n: 2 }, id: '2' }
			])
			expect(lastIds).toEqual([null, '1'])
			expect(errors.length).toBe(1)
			expect(errors[0]).toBeDefined() // the broken read, not a clean end
		} finally {
			raw.stop(true)
		}
	})

	test('a body that arrives one byte at a time (split UTF-8, split lines) decodes the same', async () => {
		let body = ''
		for (const s of shapes) body += feed.encode(s.event, s.data as never)
		const bytes = new TextEncoder().encode(body)
		const raw = Bun.serve({
			port: 0,
			hostname: '127.0.0.1',
			fetch: () =>
				new Response(
					new ReadableStream({
						type: 'direct',
						async pull(controller) {
							for (let i = 0; i < bytes.length; i++) {
								controller.write(bytes.subarray(i, i + 1))
								await controller.flush()
							}
							controller.close()
						}
					}),
					{ headers: { 'content-type': 'text/event-stream; charset=utf-8' } }
				)
		})
		try {
			expect(await take(connect(`http://127.0.0.1:${raw.port}/`, { events: feed, reconnect: false }), 100)).toEqual(shapes)
		} finally {
			raw.stop(true)
		}
	})
})

describe('connect(): validate', () => {
	test('with validate, data that does not match the client registry is an error naming event and path', async () => {
		// A client whose registry drifted from the server's: count.n is now a string.
		const drifted = events({ count: t.Object({ n: t.String() }) })
		const error = await errorOf(() => take(connect(fx.url('/count'), { events: drifted, validate: true }), 3))
		expect(error.kind).toBe('decode')
		expect(error.message).toContain('"count"')
		expect(error.message).toContain('/n')
		// Without validate, values are handed out as decoded.
		const got = await take(connect(fx.url('/count'), { events: drifted }), 1)
		expect(got).toEqual([{ event: 'count', data: { n: 1 as unknown as string }, id: '1' }])
	})
})
