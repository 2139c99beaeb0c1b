import { afterAll, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { openapi } from '@elysiajs/openapi'
import { streaming, events } from 'sluice'
import { listen } from '../support/server'

const feed = events({ tick: t.Object({ n: t.Number() }), note: t.String() })
const app = new Elysia()
	.use(openapi())
	.use(streaming())
	.get('/ticks', ({ sse }) => sse([{ event: 'tick', data: { n: 1 } }], { events: feed }), {
		sseEvents: feed,
		detail: { tags: ['streams'] }
	})
	.get('/notes', ({ sse }) => sse([{ event: 'note', data: 'x' }], { events: feed.pick('note') }), {
		sseEvents: feed.pick('note')
	})
const server = listen(app)
afterAll(() => server.stop())

test('sse() routes show in the OpenAPI document as text/event-stream, one schema per event', async () => {
	const doc = (await (await fetch(server.url + '/openapi/json')).json()) as { paths: Record<string, any> }
	const ticks = doc.paths['/ticks'].get.responses['200'].content['text/event-stream'].schema.oneOf
	expect(ticks.map((s: { title: string }) => s.title)).toEqual(['tick', 'note'])
	expect(doc.paths['/ticks'].get.tags).toEqual(['streams']) // the route's own detail is kept
	expect(ticks[0].properties.event.const).toBe('tick')
	expect(ticks[0].properties.data).toMatchObject({ type: 'object', properties: { n: { type: 'number' } } })
	expect(ticks[1].properties.data.type).toBe('string')
	expect(ticks[1].description).toContain('raw text')
	const notes = doc.paths['/notes'].get.responses['200'].content['text/event-stream'].schema.oneOf
	expect(notes.map((s: { title: string }) => s.title)).toEqual(['note'])
})

test('a route limited with pick() refuses the other events', async () => {
	const limited = new Elysia()
		.use(streaming())
		.get('/notes', ({ sse }) => sse([{ event: 'tick', data: { n: 1 } }] as never, { events: feed.pick('note') }))
	const s = listen(limited)
	try {
		const text = await (await fetch(s.url + '/notes')).text()
		expect(text).not.toContain('event: tick')
		expect(text).toContain('event: error')
		expect(text).toContain('not a registered event (known: note)')
	} finally {
		await s.stop()
	}
})
