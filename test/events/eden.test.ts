import { afterAll, describe, expect, test } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import { edenSse } from 'sluice/client'
import { until } from '../support/server'
import { feed, shapes, startFixture } from './fixture'

const fx = startFixture()
const app = fx.app.get('/json', () => ({ at: 'x', n: 1 }))
afterAll(() => fx.server.stop())

describe('Eden treaty with edenSse()', () => {
	const api = treaty<typeof app>(fx.server.url, edenSse({ events: feed }))

	test('an sse() route yields exactly what was sent, typed as the route events', async () => {
		const { data, error, status } = await api.shapes.get()
		expect(error).toBeNull()
		expect(status).toBe(200)
		const got = []
		for await (const m of data!) got.push(m)
		expect(got).toEqual(shapes)
	})

	test('values are typed by the registry: count data is an object with a number', async () => {
		const { data } = await api.count.get()
		const ns: number[] = []
		for await (const m of data!) if (m.event === 'count') ns.push(m.data.n)
		expect(ns).toEqual([1, 2, 3])
	})

	test('break closes the request: the server sees the client leave', async () => {
		const left = fx.seen.left
		const { data } = await api.forever.get()
		for await (const m of data!) {
			expect(m).toEqual({ event: 'count', data: { n: 1 } })
			break
		}
		await until(() => fx.seen.left === left + 1, 1000, 'the server to see the client leave')
	})

	test('other responses are left to Eden', async () => {
		expect((await api.json.get()).data).toEqual({ at: 'x', n: 1 })
		const broken = await api.broken.get()
		expect(broken.status).toBe(500)
		expect(broken.data).toBeNull()
		expect(broken.error?.status).toBe(500)
	})

	test('without a registry, data is the raw text of each event', async () => {
		const raw = treaty<typeof app>(fx.server.url, edenSse())
		const { data } = await raw.shapes.get()
		const got = []
		for await (const m of data!) got.push(m.data)
		expect(got[0]).toBe('42')
		expect(got[5]).toBe('first line\nsecond line\n\nfourth')
	})
})

