// What a viewer of the dashboard costs the server with N open streams, in process: one update
// (the summary every viewer shares, encoded once, plus one viewer's page of 50 rows) beside what
// a page that polls the JSON snapshot (`/connections`: every connection) would cost per refresh,
// measured in the same run. Also the per-second tick (rates read every live stream's counters).
//   bun run bench dashboard --streams 10000 --rounds 50
import { ResponseStream } from '../plugins'
import { ConnectionRegistry } from '../src/connections'
import { Dashboard } from '../src/connections/dashboard'
import { option } from './support/options'
import { printTable, type Row } from './support/table'

const STREAMS = option('streams', 'DASHBOARD_STREAMS', 10_000)
const ROUNDS = option('rounds', 'DASHBOARD_ROUNDS', 50)
const encoder = new TextEncoder()

const registry = new ConnectionRegistry({ maxStreams: 0, maxPerAddress: 0 })
for (let i = 0; i < STREAMS; i++) {
	const stream = new ResponseStream({ contentType: 'text/event-stream', heartbeatMs: 0 })
	stream.bytesSent = i * 10
	registry.add(stream, {
		kind: i % 4 === 0 ? 'ndjson' : 'sse',
		route: i % 2 ? '/chat/:room' : '/events',
		topics: i % 2 ? [`room:${i % 500}`] : [],
		address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
		userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench'
	})
}
const dashboard = new Dashboard(registry, { tickMs: 3_600_000 })

async function measure(name: string, once: () => Promise<number> | number): Promise<Row> {
	await once() // warm-up
	let bytes = 0
	const start = performance.now()
	for (let i = 0; i < ROUNDS; i++) bytes += await once()
	const ms = (performance.now() - start) / ROUNDS
	return { name, values: { 'ms per update': ms, 'bytes per update': bytes / ROUNDS, 'updates/s': 1000 / ms } }
}

const rows = [
	await measure('snapshot JSON (/connections)', () =>
		encoder.encode(JSON.stringify({ counts: registry.counts(), connections: registry.list() })).byteLength
	),
	await measure('dashboard update (summary + 50 rows)', async () => {
		const { frame } = await freshSummary()
		return frame.byteLength + encoder.encode(JSON.stringify(dashboard.page(STREAMS - 50, 50))).byteLength
	}),
	await measure('per-second tick (rates)', () => {
		dashboard.rates.sample()
		return 0
	})
]
printTable(`Dashboard with ${STREAMS.toLocaleString('en-US')} open streams (${ROUNDS} rounds)`, rows, 'ms per update', ['snapshot JSON (/connections)'])
dashboard.close()

/** A summary built now (as after a change), not the one kept since the last. */
async function freshSummary() {
	const stream = new ResponseStream({ contentType: 'text/plain', heartbeatMs: 0 })
	registry.add(stream, { kind: 'stream', route: '/x', topics: [] })
	stream.close()
	return dashboard.current()
}
