// broadcast through streaming() on a real Bun.serve, read by raw sockets and the eventsource client.
import { afterAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { EventSource } from 'eventsource'
import { streaming } from '../../plugins'; import { HubEvents } from '../../src/hub'
import { listen, until } from '../support/server'
import { RawClient } from '../support/raw-http'
import { idsOf, parseEvents } from './sse-events'

const registry = {
	check(event: string, data: unknown) {
		if (event === 'tick' && typeof data !== 'number') throw new Error('tick data must be a number')
	}
}
const app = new Elysia()
	.use(streaming({ broadcast: { registry } }))
	.get('/room', ({ subscribe, query }) =>
		subscribe('room', { last: Number(query.last ?? 0), retryMs: 500 })
	)
	.post('/room/:n', async ({ broadcast, params, status }) => {
		try {
			return (await broadcast.publish('room', 'tick', Number.isNaN(Number(params.n)) ? params.n : Number(params.n))).id
		} catch (error) {
			return status(400, (error as Error).message)
		}
	})
const server = listen(app)
afterAll(() => server.stop())
const publish = (n: number | string) => fetch(`${server.url}/room/${n}`, { method: 'POST' })

describe('broadcast over the wire', () => {
	test('opens at once, registers the stream with its topic, and fans out to every client', async () => {
		const clients = await Promise.all([1, 2, 3].map(() => RawClient.request(server.port, '/room')))
		for (const c of clients) await c.waitFor((x) => x.body.startsWith('retry: 500\n\n'))
		expect(clients[0]!.status).toBe(200)
		expect(clients[0]!.head).toMatch(/content-type: text\/event-stream/i)
		expect(app.decorator.broadcast.count('room')).toBe(3)
		const live = app.decorator.connections.list().filter((c) => c.topics.includes('room'))
		expect(live.length).toBe(3)
		const ids: string[] = []
		for (let n = 0; n < 5; n++) ids.push(await (await publish(n)).text())
		const last = ids.at(-1)!
		for (const c of clients) await c.waitFor((x) => x.body.includes(`id: ${last}\n`))
		const bodies = clients.map((c) => c.body)
		expect(bodies[1]).toBe(bodies[0]!)
		expect(bodies[2]).toBe(bodies[0]!)
		expect(parseEvents(bodies[0]!).map((e) => e.data)).toEqual(['0', '1', '2', '3', '4'])
		// The registry sees the last id sent.
		await until(() => app.decorator.connections.list().every((c) => c.lastEventId === last))
		for (const c of clients) c.destroy()
		await until(() => app.decorator.broadcast.count('room') === 0, 100, 'subscribers gone within 100 ms')
		expect(app.decorator.connections.count).toBe(0)
	})

	test('publish refuses data the registry refuses: 400, nothing sent', async () => {
		const c = await RawClient.request(server.port, '/room')
		await c.waitFor((x) => x.body.length > 0)
		const refused = await publish('nope')
		expect(refused.status).toBe(400)
		expect(await refused.text()).toContain('tick data must be a number')
		const id = await (await publish(7)).text()
		await c.waitFor((x) => x.body.includes(`id: ${id}\n`))
		expect(parseEvents(c.body).map((e) => e.data)).toEqual(['7'])
		c.destroy()
	})

	test('Last-Event-ID header: exactly the missed frames, then live ones', async () => {
		const first = Number(await (await publish(100)).text())
		for (let n = 101; n < 105; n++) await publish(n)
		const c = await RawClient.request(server.port, '/room', { headers: { 'Last-Event-ID': String(first + 1) } })
		await c.waitFor((x) => x.body.includes(`id: ${first + 4}\n`))
		await publish(105)
		await c.waitFor((x) => x.body.includes(`id: ${first + 5}\n`))
		expect(idsOf(c.body)).toEqual([first + 2, first + 3, first + 4, first + 5])
		c.destroy()
	})

	test('an unknown Last-Event-ID: replay-incomplete, then live', async () => {
		const c = await RawClient.request(server.port, '/room', { headers: { 'Last-Event-ID': '123456789' } })
		await c.waitFor((x) => x.body.includes(HubEvents.replayIncomplete))
		const id = await (await publish(1)).text()
		await c.waitFor((x) => x.body.includes(`id: ${id}\n`))
		const events = parseEvents(c.body)
		expect(events.map((e) => e.event)).toEqual([HubEvents.replayIncomplete, 'tick'])
		c.destroy()
	})

	test('the last K frames on join', async () => {
		let last = ''
		for (let n = 0; n < 5; n++) last = await (await publish(n)).text()
		const c = await RawClient.request(server.port, '/room?last=3')
		await c.waitFor((x) => x.body.includes(`id: ${last}\n`))
		expect(idsOf(c.body)).toEqual([Number(last) - 2, Number(last) - 1, Number(last)])
		c.destroy()
	})

	test('the eventsource client reconnects with its last id and misses nothing', async () => {
		const got: number[] = []
		const es = new EventSource(`${server.url}/room`)
		es.addEventListener('tick', (e) => got.push(Number(e.lastEventId)))
		await until(() => es.readyState === EventSource.OPEN)
		const from = Number(await (await publish(1)).text())
		await until(() => got.includes(from))
		// Drop every connection from the server side; publish while the client is away.
		for (const c of app.decorator.connections.list()) app.decorator.connections.close(c.id)
		for (let n = 0; n < 3; n++) await publish(n)
		await until(() => got.includes(from + 3), 5000, 'reconnect and replay')
		es.close()
		expect(got).toEqual([from, from + 1, from + 2, from + 3])
	})
})
