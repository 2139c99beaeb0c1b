// One SSE stream, N small events as fast as the client reads: Sluice's sse() beside raw
// Bun.serve writing the same frames and Elysia's own sse() generator, measured in one run.
// Each server runs in its own process; the client reads over a raw socket.
import { printTable, type Row } from './support/table'
import { spawnServer } from './support/spawn-server'
import { drainOnce } from './support/drain-client'

const EVENTS = Number(process.env.EVENTS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 3)
// Each producer style is compared with raw Bun fed by the same style of generator,
// so the ratio is the cost of the framework, not of the generator protocol.
const kinds = [
	['raw Bun.serve, sync generator', 'raw'],
	['sluice sse(), sync generator', 'sluice-sync'],
	['raw Bun.serve, async generator', 'raw-async'],
	['sluice sse(), async generator', 'sluice'],
	['sluice sseStream() on bare Bun.serve, async generator', 'sluice-bare'],
	['Elysia sse(), async generator', 'elysia']
] as const

const rows: Row[] = []
for (const [name, kind] of kinds) {
	const server = await spawnServer(`${import.meta.dir}/support/sse-servers.ts`, [kind, String(EVENTS)])
	await drainOnce(server.port, '/') // warm-up
	const results = []
	for (let i = 0; i < RUNS; i++) results.push(await drainOnce(server.port, '/'))
	await server.stop()
	results.sort((a, b) => a.seconds - b.seconds)
	const median = results[Math.floor(results.length / 2)]!
	rows.push({
		name,
		values: {
			'events/s': EVENTS / median.seconds,
			'MB/s': median.bytes / 1e6 / median.seconds,
			'ms (median)': median.seconds * 1000
		}
	})
}
printTable(`SSE, one stream, ${EVENTS.toLocaleString('en-US')} events (median of ${RUNS})`, rows, 'events/s', [
	'raw Bun.serve, sync generator',
	'raw Bun.serve, async generator',
	'Elysia sse(), async generator'
])
