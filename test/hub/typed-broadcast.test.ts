// A broadcast with a typed event registry, read over the wire by sluice/client with the same registry.
import { afterAll, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { streaming, events, BroadcastDataError } from '../../plugins'
import { connect } from '../../src/client'
import { listen, until } from '../support/server'
import { RawClient } from '../support/raw-http'
import { parseEvents } from './sse-events'

const feed = events({
	value: t.Union([t.String(), t.Number()]),
	note: t.String(),
	point: t.Object({ x: t.Number(), label: t.String() }),
	message: t.Object({ text: t.String() })
})

const app = new Elysia()
	.use(streaming({ broadcast: { registry: feed } }))
	.get('/feed', ({ subscribe }) => subscribe('feed', { heartbeatMs: 0 }))
const server = listen(app)
const hub = app.decorator.broadcast
afterAll(() => server.stop())

test('connect({ events }) decodes exactly what was published, a union-typed event included', async () => {
	const published: [keyof typeof feed.Events, unknown][] = [
		['value', '42'],
		['value', 42],
		['value', 'true'],
		['value', 'two\nlines'],
		['note', '42'],
		['note', 'line 1\nline 2'],
		['point', { x: 1.5, label: '7' }],
		['message', { text: 'null' }]
	]
	const raw = await RawClient.request(server.port, '/feed')
	await raw.waitFor((c) => c.status === 200)
	const opened = Promise.withResolvers<void>()
	const reader = connect(`${server.url}/feed`, { events: feed, onOpen: () => opened.resolve() })
	const received = (async () => {
		const got: unknown[] = []
		for await (const m of reader) {
			got.push(m)
			if (got.length === published.length) break
		}
		return got
	})()
	await opened.promise
	await until(() => hub.count('feed') === 2)
	for (const [event, data] of published) await hub.publish('feed', event, data as never)

	expect(await received).toEqual(published.map(([event, data], i) => ({ event, data, id: String(i + 1) })))
	// On the wire: JSON for the union (its strings included), raw text for the string-only event.
	await raw.waitFor((c) => c.body.includes(`id: ${published.length}\n`))
	const texts = parseEvents(raw.body).map((e) => [e.event, e.data])
	expect(texts).toEqual([
		['value', '"42"'],
		['value', '42'],
		['value', '"true"'],
		['value', '"two\\nlines"'],
		['note', '42'],
		['note', 'line 1\nline 2'],
		['point', '{"x":1.5,"label":"7"}'],
		[undefined, '{"text":"null"}']
	])
	raw.destroy()
})

test('data the registry refuses is a BroadcastDataError naming the event; nothing is sent, no id is used', async () => {
	const before = (await hub.publish('feed', 'value', 1)).id
	// @ts-expect-error the run-time check of what the types refuse
	const refused = hub.publish('feed', 'point', { x: 'one', label: 'a' })
	await expect(refused).rejects.toBeInstanceOf(BroadcastDataError)
	await expect(refused).rejects.toThrow('sse event "point": Expected number at /x')
	expect((await hub.publish('feed', 'value', 2)).id).toBe(String(Number(before) + 1))
})
