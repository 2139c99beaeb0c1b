import { afterEach, expect, test } from 'bun:test'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { startExample, type ExampleProcess } from './support/example'

const running: ExampleProcess[] = []
afterEach(async () => {
	for (const p of running.splice(0)) await p.stop()
})

/** Reads events from `url` until `count` have arrived, then disconnects. */
async function take(url: string, count: number, headers: Record<string, string> = {}): Promise<EventSourceMessage[]> {
	const controller = new AbortController()
	const res = await fetch(url, { headers, signal: controller.signal })
	expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
	const events: EventSourceMessage[] = []
	const parser = createParser({ onEvent: (e) => events.push(e) })
	const decoder = new TextDecoder()
	for await (const chunk of res.body!) {
		parser.feed(decoder.decode(chunk, { stream: true }))
		if (events.length >= count) break
	}
	controller.abort()
	return events.slice(0, count)
}

test('examples/events.ts: a counter event every second, resumable', async () => {
	const app = await startExample('events')
	running.push(app)
	expect(app.output()).toContain('curl -N http://localhost:')
	const t0 = performance.now()
	const events = await take(`${app.url}/events`, 2)
	expect(performance.now() - t0).toBeGreaterThan(900)
	expect(events.map((e) => e.id)).toEqual(['0', '1'])
	const first = JSON.parse(events[0]!.data)
	expect(first).toMatchObject({ id: 0, message: 'Event 0' })
	expect(typeof first.timestamp).toBe('number')
	const resumed = await take(`${app.url}/events`, 1, { 'Last-Event-ID': '41' })
	expect(JSON.parse(resumed[0]!.data)).toMatchObject({ id: 42, message: 'Event 42' })
})

test('examples/live-metrics.ts: event: metrics with the metric fields', async () => {
	const app = await startExample('live-metrics')
	running.push(app)
	const [event] = await take(`${app.url}/live-metrics`, 1)
	expect(event!.event).toBe('metrics')
	const m = JSON.parse(event!.data)
	for (const key of ['cpu_usage', 'memory_usage', 'active_connections', 'requests_per_second']) expect(typeof m[key]).toBe('number')
	expect(m.cpu_usage).toBeGreaterThanOrEqual(10)
	expect(m.cpu_usage).toBeLessThanOrEqual(90)
	expect(Number.isNaN(Date.parse(m.timestamp))).toBe(false)
})

test('examples/health-monitored-stream.ts: data every interval and a ping every ping interval', async () => {
	const app = await startExample('health-monitored-stream', { env: { PING_INTERVAL_MS: '300', DATA_INTERVAL_MS: '100' } })
	running.push(app)
	const events = await take(`${app.url}/health-monitored-stream`, 8)
	const data = events.filter((e) => e.event === undefined).map((e) => JSON.parse(e.data))
	const pings = events.filter((e) => e.event === 'ping').map((e) => JSON.parse(e.data))
	expect(pings.length).toBeGreaterThanOrEqual(1)
	expect(pings[0]).toMatchObject({ type: 'ping' })
	expect(data.map((d) => d.counter)).toEqual(data.map((_, i) => i))
	expect(data[0]).toMatchObject({ type: 'data', status: 'healthy' })
})
