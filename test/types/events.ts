// Type test: checked by `bunx tsc --noEmit`, never run. Each @ts-expect-error must be an error.
import { Elysia, t } from 'elysia'
import { treaty } from '@elysiajs/eden'
import { streaming } from 'sluice'
import { events } from '../../src/events'
import { connect, edenSse } from 'sluice/client'

const feed = events({ tick: t.Object({ n: t.Number() }), note: t.String() })

const app = new Elysia()
	.use(streaming())
	.get('/gen', ({ sse }) =>
		sse(
			async function* () {
				yield { event: 'tick', data: { n: 1 } }
				yield { event: 'note', data: 'hi', id: 1 }
			},
			{ events: feed }
		)
	)
	.get('/cb', ({ sse }) =>
		sse(
			async (s) => {
				await s.send('tick', { n: 1 })
				await s.send('note', 'x')
				// @ts-expect-error wrong payload
				await s.send('tick', { n: 'one' })
				// @ts-expect-error unknown event
				await s.send('nope', 1)
			},
			{ events: feed }
		)
	)
	.get('/bad', ({ sse }) =>
		// @ts-expect-error a yield of the wrong shape
		sse(
			async function* () {
				yield { event: 'tick', data: { n: 'x' } }
			},
			{ events: feed }
		)
	)

const api = treaty<typeof app>('http://localhost')
async function reads() {
	const { data } = await api.gen.get()
	if (!data) return
	for await (const m of data) {
		if (m.event === 'tick') {
			const n: number = m.data.n
			// @ts-expect-error tick data is not a string
			const s: string = m.data
		} else {
			const s: string = m.data
			// @ts-expect-error only two events
			m.event === 'other'
		}
	}
}
void reads

// sluice/client: connect() is typed by the registry; without one, data is the raw text.
async function clientReads() {
	for await (const m of connect('http://localhost/gen', { events: feed })) {
		if (m.event === 'tick') {
			const n: number = m.data.n
		}
		// @ts-expect-error not an event of feed
		if (m.event === 'other') void 0
		// On a stream of many topics each message says its topic (docs/topics.md).
		const topic: string | undefined = m.topic
		// @ts-expect-error it may be absent (a stream of one topic)
		const sure: string = m.topic
	}
	for await (const m of connect('http://localhost/gen')) {
		const text: string = m.data
	}
	const api = treaty<typeof app>('http://localhost', edenSse({ events: feed }))
	const { data } = await api.cb.get()
	for await (const m of data!) {
		// @ts-expect-error note data is a string, tick data an object: narrow first
		const n: number = m.data.n
		// Eden's data has the topic too.
		const topic: string | undefined = m.topic
	}
}
void clientReads

// The broadcast helper only needs this structural interface of a registry.
const checker: { check(event: string, data: unknown): void } = feed
void checker
