import { afterAll, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { streaming, events } from 'sluice'
import { listen } from '../support/server'

const feed = events({ note: t.String(), maybe: t.Union([t.String(), t.Number()]), count: t.Object({ n: t.Number() }) })

const app = new Elysia()
	.use(streaming({ sse: { events: feed } })) // every sse() of the app is checked against feed
	.get('/wire', ({ sse }) =>
		sse(
			[
				{ event: 'note', data: '42' },
				{ event: 'maybe', data: '42' },
				{ event: 'maybe', data: 42 },
				{ comment: 'comments and retry hints carry no event' },
				{ retry: 100 }
			],
			{ events: feed }
		)
	)
	.get('/app-wide', ({ sse }) => sse([{ event: 'count', data: { n: 1 } }, { event: 'count', data: { n: '2' } }]))
	.get('/bare', ({ sse }) => sse(['a bare value is a "message" event']))
const server = listen(app)
afterAll(() => server.stop())

async function read(path: string): Promise<{ text: string; events: EventSourceMessage[] }> {
	const text = await (await fetch(server.url + path)).text()
	const events: EventSourceMessage[] = []
	createParser({ onEvent: (e) => events.push(e) }).feed(text)
	return { text, events }
}

test('on the wire: a string-only event is raw text, any other event is JSON, strings included', async () => {
	const { events } = await read('/wire')
	expect(events.map((e) => [e.event, e.data])).toEqual([
		['note', '42'],
		['maybe', '"42"'],
		['maybe', '42']
	])
})

test('a registry given to streaming() checks every sse() of the app: the bad event is not sent', async () => {
	const { text, events } = await read('/app-wide')
	expect(events.map((e) => e.event)).toEqual(['count', 'error'])
	expect(events[0]!.data).toBe('{"n":1}')
	expect(text).not.toContain('"2"')
	expect(JSON.parse(events[1]!.data).message).toBe('sse event "count": Expected number at /n')
})

test('with a registry, a bare value is checked as a "message" event', async () => {
	const { events } = await read('/bare')
	expect(events.map((e) => e.event)).toEqual(['error'])
	expect(JSON.parse(events[0]!.data).message).toContain('"message": not a registered event')
})
