// The replay as the client reads: what happens when the history moves on under a slow client,
// when the replay budget runs out, and when a filter skips frames; never a cut-off.
import { describe, expect, test } from 'bun:test'
import { ResponseStream } from '../../src/stream'
import { Hub, HubEvents, MemoryTransport } from '../../src/hub'
import { until } from '../support/server'
import { idsOf, parseEvents } from './sse-events'
import { readTextInto } from '../support/read-text'

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** An SSE stream whose body is read only once read() is called: until then its client does not read. */
function lateReader() {
	const stream = new ResponseStream({ contentType: 'text/event-stream', heartbeatMs: 0 })
	const state = {
		text: '',
		stream,
		read: () => readTextInto(stream.response, state)
	}
	return state
}

describe('replay in pages', () => {
	test('frames evicted while the client was not reading: replay-incomplete with the last id it was sent, then what the history holds, then live', async () => {
		const hub = new Hub({ transport: new MemoryTransport({ history: { maxFrames: 400 } }) })
		for (let n = 1; n <= 400; n++) await hub.publish('t', 'tick', 'x'.repeat(1000))
		const r = lateReader()
		hub.subscribe(r.stream, 't', { lastEventId: '0' })
		// The replay stops once the stream holds what the client has not read (64 KB before Bun's first pull).
		await until(() => r.stream.lastEventId !== undefined && r.stream.backpressured)
		const sentBeforeWait = Number(r.stream.lastEventId)
		expect(sentBeforeWait).toBeLessThan(100)
		// Meanwhile the history moves on past everything the client was not sent (but the page in hand).
		for (let n = 401; n <= 800; n++) await hub.publish('t', 'tick', 'x'.repeat(1000))
		void r.read()
		await hub.publish('t', 'tick', 'live')
		await until(() => r.text.includes('id: 801\n'), 3000)
		const events = parseEvents(r.text)
		const at = events.findIndex((e) => e.event === HubEvents.replayIncomplete)
		expect(at).toBeGreaterThan(0)
		const sent = Number(events[at - 1]!.id)
		expect(sent).toBeGreaterThanOrEqual(sentBeforeWait)
		expect(JSON.parse(events[at]!.data)).toEqual({ lastEventId: String(sent), replayed: sent })
		expect(sent).toBeLessThan(400)
		// The live frame 801 evicted 401 too: the ring holds 402..801.
		expect(idsOf(r.text)).toEqual([...range(1, sent), ...range(402, 801)])
		expect(events.filter((e) => e.event === HubEvents.slowConsumer)).toEqual([])
		expect(r.stream.closed).toBe(false)
		r.stream.close()
	})

	test('past its replay budget the client gets replay-incomplete with the last id sent, then live frames, still open', async () => {
		const hub = new Hub({ replayBytes: 10_000 })
		for (let n = 1; n <= 50; n++) await hub.publish('t', 'tick', 'x'.repeat(1000))
		const r = lateReader()
		void r.read()
		hub.subscribe(r.stream, 't', { lastEventId: '0' })
		await until(() => r.text.includes(HubEvents.replayIncomplete))
		await hub.publish('t', 'tick', 'live')
		await until(() => r.text.includes('id: 51\n'))
		const events = parseEvents(r.text)
		const notice = events.find((e) => e.event === HubEvents.replayIncomplete)!
		// Frames of ~1,020 bytes: nine fit in 10,000.
		expect(JSON.parse(notice.data)).toEqual({ lastEventId: '9', replayed: 9 })
		expect(idsOf(r.text)).toEqual([...range(1, 9), 51])
		expect(r.stream.closed).toBe(false)
		r.stream.close()
	})

	test('a full history always reaches a client that reads, whatever the slow-consumer limit', async () => {
		const hub = new Hub({ maxUnsentBytes: 2000 })
		for (let n = 1; n <= 500; n++) await hub.publish('t', 'tick', 'y'.repeat(1500 + (n % 13)))
		const r = lateReader()
		void r.read()
		hub.subscribe(r.stream, 't', { lastEventId: '0' })
		await until(() => r.text.includes('id: 500\n'), 5000)
		expect(idsOf(r.text)).toEqual(range(1, 500))
		expect(parseEvents(r.text).filter((e) => e.event !== 'tick')).toEqual([])
		r.stream.close()
	})

	test('a filter skips replayed frames as it skips live ones; the replay goes on past them', async () => {
		const hub = new Hub()
		for (let n = 1; n <= 600; n++) await hub.publish('t', 'tick', { n, mine: n % 3 === 0 })
		const r = lateReader()
		void r.read()
		hub.subscribe(r.stream, 't', { last: 600, filter: (f) => !(f.json() as { mine: boolean }).mine })
		await hub.publish('t', 'tick', { n: 601, mine: false })
		await hub.publish('t', 'tick', { n: 602, mine: true })
		await hub.publish('t', 'tick', { n: 603, mine: false })
		await until(() => r.text.includes('id: 603\n'), 3000)
		expect(idsOf(r.text)).toEqual([...range(1, 600).filter((n) => n % 3 !== 0), 601, 603])
		r.stream.close()
	})
})
