// Typed events, both ends. (1) The server's cost of checking every send against the
// registry: registry.encode() beside the unchecked encodeSse(). (2) A client reading N
// events over loopback into typed values: sluice/client connect() and Eden + edenSse()
// beside a bare eventsource-parser loop, the `eventsource` npm client and Eden's own
// parser (which returns wrong values for some data; here only its speed is compared).
import { Type as t } from '@sinclair/typebox'
import { treaty } from '@elysiajs/eden'
import { EventSource } from 'eventsource'
import { createParser } from 'eventsource-parser'
import { encodeSse } from '../src/sse'
import { events } from '../src/events'
import { connect, edenSse } from '../src/client'
import { printTable, type Row } from './support/table'

const EVENTS = Number(process.env.EVENTS ?? 200_000)
const RUNS = Number(process.env.RUNS ?? 3)
const feed = events({ tick: t.Object({ n: t.Number(), name: t.String() }), note: t.String() })
const item = (n: number) =>
	n % 4 === 0 ? ({ event: 'note', data: `note ${n}` } as const) : ({ event: 'tick', data: { n, name: 'sensor' } } as const)

const median = (runs: number[]) => runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!
const time = async (run: () => unknown) => {
	const runs: number[] = []
	await run() // warm-up
	for (let i = 0; i < RUNS; i++) {
		const t0 = performance.now()
		await run()
		runs.push((performance.now() - t0) / 1000)
	}
	return median(runs)
}

// (1) Encoding with and without the registry's compiled check.
const encodeRows: Row[] = []
for (const [name, encode] of [
	['encodeSse() (unchecked)', (n: number) => encodeSse({ ...item(n), id: n })],
	['registry.encode() (checked)', (n: number) => { const i = item(n); return feed.encode(i.event, i.data as never, { id: n }) }]
] as const) {
	const seconds = await time(() => {
		let bytes = 0
		for (let n = 0; n < EVENTS; n++) bytes += encode(n).length
		return bytes
	})
	encodeRows.push({ name, values: { 'events/s': EVENTS / seconds, 'ns/event': (seconds * 1e9) / EVENTS } })
}
printTable(`Server: encode ${EVENTS.toLocaleString('en-US')} events (median of ${RUNS})`, encodeRows, 'events/s', ['encodeSse() (unchecked)'])

// (2) Reading: the body is encoded once and served from memory, so the client is what is measured.
let body = ''
for (let n = 0; n < EVENTS; n++) body += feed.encode(item(n).event, item(n).data as never, { id: n })
const bytes = new TextEncoder().encode(body)
const server = Bun.serve({
	port: 0,
	hostname: '127.0.0.1',
	fetch: () => new Response(bytes, { headers: { 'content-type': 'text/event-stream' } })
})
const url = `http://127.0.0.1:${server.port}/`

// The untyped treaty of a URL: only its SSE reading is measured.
const edenGet = (config?: ReturnType<typeof edenSse>) =>
	(treaty<any>(url, config) as unknown as { get(): Promise<{ data: AsyncIterable<unknown> }> }).get()

const readers: [string, () => Promise<number>][] = [
	[
		'eventsource-parser loop (floor)',
		async () => {
			let count = 0
			const parser = createParser({ onEvent: (e) => { if (e.event === 'tick') JSON.parse(e.data); count++ } })
			const decoder = new TextDecoder()
			for await (const chunk of (await fetch(url)).body!) parser.feed(decoder.decode(chunk, { stream: true }))
			return count
		}
	],
	[
		'sluice/client connect()',
		async () => {
			let count = 0
			for await (const _ of connect(url, { events: feed, reconnect: false })) count++
			return count
		}
	],
	[
		'Eden treaty + edenSse()',
		async () => {
			let count = 0
			const { data } = await edenGet(edenSse({ events: feed }))
			for await (const _ of data) count++
			return count
		}
	],
	[
		"Eden treaty's own parser",
		async () => {
			let count = 0
			const { data } = await edenGet()
			for await (const _ of data) count++
			return count
		}
	],
	[
		'eventsource (npm) + JSON.parse',
		() =>
			new Promise<number>((resolve) => {
				let count = 0
				const source = new EventSource(url)
				const done = () => {
					source.close()
					resolve(count)
				}
				source.addEventListener('tick', (e) => { JSON.parse(e.data); if (++count === EVENTS) done() })
				source.addEventListener('note', () => { if (++count === EVENTS) done() })
			})
	]
]
const readRows: Row[] = []
for (const [name, read] of readers) {
	const seconds = await time(async () => {
		const count = await read()
		if (count !== EVENTS) throw new Error(`${name} read ${count} of ${EVENTS} events`)
	})
	readRows.push({ name, values: { 'events/s': EVENTS / seconds, 'MB/s': bytes.length / 1e6 / seconds } })
}
server.stop(true)
printTable(
	`Client: read ${EVENTS.toLocaleString('en-US')} events (${(bytes.length / 1e6).toFixed(1)} MB) over loopback (median of ${RUNS})`,
	readRows,
	'events/s',
	['eventsource-parser loop (floor)', "Eden treaty's own parser", 'eventsource (npm) + JSON.parse']
)
