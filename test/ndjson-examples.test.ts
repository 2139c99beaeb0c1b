import { afterEach, expect, test } from 'bun:test'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { readNdjsonRecords } from '../src/client'
import { startExample, type ExampleProcess } from './support/example'

const running: ExampleProcess[] = []
afterEach(async () => {
	for (const p of running.splice(0)) await p.stop()
})
const start = async (name: string, env: Record<string, string> = {}) => {
	const app = await startExample(name, { env })
	running.push(app)
	return app
}
const collect = async <T>(res: Response) => {
	const out: T[] = []
	for await (const r of readNdjsonRecords<T>(res)) out.push(r)
	return out
}
const isIso = (s: unknown) => typeof s === 'string' && new Date(s).toISOString() === s
const ndjsonPost = (body: string, headers: Record<string, string> = {}) => ({
	method: 'POST',
	headers: { 'content-type': 'application/x-ndjson', ...headers },
	body
})
async function sseEvents(res: Response): Promise<EventSourceMessage[]> {
	expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
	const events: EventSourceMessage[] = []
	createParser({ onEvent: (e) => events.push(e) }).feed(await res.text())
	return events
}

test('examples/realtime.ts: ten JSON lines, one an interval, then a completed line', async () => {
	const app = await start('realtime', { REALTIME_INTERVAL_MS: '30' })
	expect(app.output()).toContain('curl -N http://localhost:')
	const t0 = performance.now()
	const res = await fetch(`${app.url}/stream/realtime`)
	expect(res.headers.get('content-type')).toBe('application/x-ndjson')
	const lines = await collect<Record<string, unknown>>(res)
	expect(performance.now() - t0).toBeGreaterThan(9 * 30)
	expect(lines).toHaveLength(11)
	lines.slice(0, 10).forEach((line, i) => {
		expect(line).toMatchObject({ count: i + 1, value: (i + 1) * 1.5, status: 'active' })
		expect(isIso(line.timestamp)).toBe(true)
	})
	expect(lines[10]).toEqual({ status: 'completed', total_items: 10 })
})

test('examples/process-stream.ts: 1,000 generated items with progress, then the completion line', async () => {
	const app = await start('process-stream', { PROCESS_DELAY_MS: '0' })
	const lines = await collect<Record<string, any>>(await fetch(`${app.url}/process-stream`, { method: 'POST' }))
	expect(lines).toHaveLength(1001)
	expect(lines[0]).toMatchObject({ item_id: 0, result: 'Processed item 0', progress: 0.1 })
	expect(lines[999]).toMatchObject({ item_id: 999, progress: 100 })
	expect(lines.slice(0, 1000).every((l, i) => l.item_id === i && isIso(l.processed_at))).toBe(true)
	expect(lines[1000]).toMatchObject({ event: 'completed', total_processed: 1000 })
	expect(isIso(lines[1000]!.completed_at)).toBe(true)
})

test('examples/process-stream.ts: an NDJSON body of items, read as a stream; a bad line is named', async () => {
	const app = await start('process-stream', { PROCESS_DELAY_MS: '0' })
	const body = '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n'
	const lines = await collect<Record<string, any>>(await fetch(`${app.url}/process-stream`, ndjsonPost(body, { 'x-total-items': '3' })))
	expect(lines.map((l) => [l.item_id, l.progress])).toEqual([['a', 33.33], ['b', 66.67], ['c', 100], [undefined, undefined]])
	expect(lines[3]).toMatchObject({ event: 'completed', total_processed: 3 })
	// The response has started when line 2 turns out bad: the stream ends with the error line.
	const res = await fetch(`${app.url}/process-stream`, ndjsonPost('{"id":1}\n[not json\n{"id":3}\n'))
	expect(await res.text()).toEndWith('{"error":"line 2: not valid JSON (JSON Parse error: Unexpected identifier \\"not\\")","records":1,"status":400,"line":2}\n')
})

test('examples/process-stream.ts: the same stream as SSE, ending with event: completed', async () => {
	const app = await start('process-stream', { PROCESS_DELAY_MS: '0' })
	for (const [path, headers] of [
		['/process-stream', { accept: 'text/event-stream' }],
		['/process-stream/sse', {}]
	] as const) {
		const events = await sseEvents(await fetch(`${app.url}${path}`, { method: 'POST', headers }))
		expect(events).toHaveLength(1001)
		expect(events.slice(0, 1000).every((e, i) => e.event === undefined && JSON.parse(e.data).item_id === i)).toBe(true)
		expect(events[1000]!.event).toBe('completed')
		expect(JSON.parse(events[1000]!.data)).toMatchObject({ event: 'completed', total_processed: 1000 })
	}
	const uploaded = await sseEvents(
		await fetch(`${app.url}/process-stream/sse`, ndjsonPost('{"id":"x"}\n'))
	)
	expect(uploaded.map((e) => e.event)).toEqual([undefined, 'completed'])
	expect(JSON.parse(uploaded[0]!.data).item_id).toBe('x')
})

test('examples/large-dataset.ts: 100,000 records in batches of 100, with progress', async () => {
	const app = await start('large-dataset')
	const lines = await collect<{ batch: { id: number; data: string }[]; batch_start: number; batch_size: number; total_records: number; progress: number }>(
		await fetch(`${app.url}/large-dataset`)
	)
	expect(lines).toHaveLength(1000)
	let next = 0
	for (const line of lines) {
		expect(line.batch_start).toBe(next)
		expect(line.batch_size).toBe(100)
		expect(line.total_records).toBe(100_000)
		for (const record of line.batch) expect(record.id).toBe(next++)
	}
	expect(lines[0]!.batch[0]).toMatchObject({ id: 0, data: 'Record 0' })
	expect(lines[0]!.progress).toBe(0.1)
	expect(lines[999]!.progress).toBe(100)
})

test('examples/large-dataset.ts: compressed for a client that accepts it, at most 0.2x the bytes; its hint says --compressed', async () => {
	const app = await start('large-dataset')
	expect(app.output()).toContain('/large-dataset --compressed')
	const identity = await fetch(`${app.url}/large-dataset`, { headers: { 'accept-encoding': 'identity' } })
	const plainBytes = (await identity.arrayBuffer()).byteLength
	const gzip = await fetch(`${app.url}/large-dataset`, { headers: { 'accept-encoding': 'gzip' }, decompress: false })
	expect(gzip.headers.get('content-encoding')).toBe('gzip')
	expect((await gzip.arrayBuffer()).byteLength).toBeLessThan(plainBytes * 0.2)
	const curl = Bun.spawn(['curl', '-sS', '-N', '--compressed', `${app.url}/large-dataset`], { stdout: 'pipe' })
	const text = await new Response(curl.stdout).text()
	expect(text.trimEnd().split('\n')).toHaveLength(1000)
	expect(text.length).toBe(plainBytes)
})
