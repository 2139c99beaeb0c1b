import { afterAll, describe, expect, test } from 'bun:test'
import { EventSource } from 'eventsource'
import { until } from '../support/server'
import { feed, shapes, startFixture } from './fixture'

// The WHATWG EventSource (npm `eventsource`) against the same server: what browsers do.
const fx = startFixture()
afterAll(() => fx.server.stop())

describe('EventSource (npm eventsource) against sse() with a registry', () => {
	test('reconnects after the stream ends, sending the last id', async () => {
		const before = fx.hits('/count').length
		const source = new EventSource(fx.url('/count'))
		const got: { n: number; id: string }[] = []
		source.addEventListener('count', (e) => got.push({ n: JSON.parse(e.data).n, id: e.lastEventId }))
		await until(() => got.length >= 7, 3000, 'seven events over three connections')
		source.close()
		expect(got.slice(0, 7)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => ({ n, id: String(n) })))
		expect(fx.hits('/count').slice(before, before + 3).map((r) => r.lastEventId)).toEqual([null, '3', '6'])
	})

	test('reads text events as sent and JSON events as the registry encodes them', async () => {
		const source = new EventSource(fx.url('/shapes'))
		const got: { event: string; data: string }[] = []
		for (const name of ['note', 'any']) source.addEventListener(name, (e) => got.push({ event: name, data: e.data }))
		await until(() => got.length === shapes.length, 2000, 'every shape')
		source.close()
		expect(got.map((m) => ({ event: m.event, data: feed.decode(m.event as 'any', m.data) }))).toEqual(shapes)
	})

	test('no reconnect after close()', async () => {
		const before = fx.hits('/count').length
		const source = new EventSource(fx.url('/count'))
		let n = 0
		source.addEventListener('count', () => {
			n++
			source.close()
		})
		await until(() => n === 1, 2000, 'one event')
		await Bun.sleep(150)
		expect(source.readyState).toBe(EventSource.CLOSED)
		expect(n).toBe(1)
		expect(fx.hits('/count').length - before).toBe(1)
	})

	for (const [path, why] of [
		['/no-content', 'HTTP 204'],
		['/broken', 'a non-2xx status'],
		['/plain', 'a wrong content type']
	] as const)
		test(`${why} stops it: error, CLOSED, no reconnect`, async () => {
			const before = fx.hits(path).length
			const source = new EventSource(fx.url(path))
			let errors = 0
			source.onerror = () => errors++
			await until(() => errors === 1, 2000, 'the error event')
			await Bun.sleep(60)
			expect(source.readyState).toBe(EventSource.CLOSED)
			expect(fx.hits(path).length - before).toBe(1)
			source.close()
		})

	test('close() ends the request: the server sees the client leave', async () => {
		const left = fx.seen.left
		const source = new EventSource(fx.url('/forever'))
		await new Promise((resolve) => source.addEventListener('count', resolve, { once: true }))
		source.close()
		await until(() => fx.seen.left === left + 1, 1000, 'the server to see the client leave')
	})
})
