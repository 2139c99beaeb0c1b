// Soak: one server, and for `--minutes N` (default 10) clients of every kind at once:
// subscribers that join and leave, subscribers that drop and resume with Last-Event-ID,
// slow readers, publishers, sse() and NDJSON streams, NDJSON and file uploads, all bounded
// in count, on 127.0.0.1. Every minute it prints the server's RSS after a full GC, its open
// registrations and subscribers. It fails (exit 1) when the RSS after GC at the end (the last
// minute, and again once every client has left) is more than 10% above the first minute's,
// anything is still registered or subscribed after every client left, a replaying subscriber
// saw a gap or a duplicate, or an operation failed.
// Flags (or env): --minutes (SOAK_MINUTES) --scale (SOAK_SCALE: multiplies every client count)
// --interval-s (SOAK_INTERVAL_S, default 60).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { printTable, type Row } from './support/table'
import { spawnServer } from './support/spawn-server'
import { SoakClients, SoakLog } from './support/soak-clients'
import { option } from './support/options'

const MINUTES = option('minutes', 'SOAK_MINUTES', 10)
const SCALE = option('scale', 'SOAK_SCALE', 1)
/** Seconds between samples (60: "every minute"; shorter only to try the soak out). */
const INTERVAL_S = option('interval-s', 'SOAK_INTERVAL_S', 60)
const SAMPLES = Math.max(1, Math.round((MINUTES * 60) / INTERVAL_S))
const GROWTH = 1.1
const MB = 1024 * 1024
/** Clients of each kind running at once. */
const mix = {
	churn: Math.ceil(40 * SCALE),
	replayer: Math.ceil(10 * SCALE),
	'slow reader': Math.ceil(5 * SCALE),
	publish: Math.ceil(2 * SCALE),
	sse: Math.ceil(2 * SCALE),
	ndjson: Math.ceil(2 * SCALE),
	ingest: Math.ceil(2 * SCALE),
	upload: Math.ceil(2 * SCALE)
}

interface Stats {
	rss: number
	heapUsed: number
	connections: { total: number; byKind: Record<string, number> }
	subscribers: Record<string, number>
}

const uploads = await mkdtemp(join(tmpdir(), 'sluice-soak-'))
const server = await spawnServer(`${import.meta.dir}/support/soak-server.ts`, [uploads])
// Whatever happens, the soak ends: the clients stop at the deadline, and this stops the rest.
const watchdog = setTimeout(
	async () => {
		console.error('soak: FAILED, did not finish in time; stopping')
		process.kill(server.pid, 'SIGKILL')
		await rm(uploads, { recursive: true, force: true })
		process.exit(1)
	},
	(SAMPLES * INTERVAL_S + 180) * 1000
)
const failures: string[] = []
try {
	const stats = async () =>
		(await (await fetch(`http://127.0.0.1:${server.control}/`, { signal: AbortSignal.timeout(30_000) })).json()) as Stats
	const subscribed = (s: Stats) => Object.values(s.subscribers).reduce((a, b) => a + b, 0)
	const log = new SoakLog()
	const sampleRow = (name: string, s: Stats, ops: string): Row => ({
		name,
		values: {
			'RSS after GC MB': s.rss / MB,
			'heap MB': s.heapUsed / MB,
			registered: String(s.connections.total),
			'by kind':
				Object.entries(s.connections.byKind)
					.map(([k, n]) => `${k} ${n}`)
					.join(', ') || '-',
			subscribers: String(subscribed(s)),
			ops,
			errors: String(log.errorCount)
		}
	})
	const started = performance.now()
	const clients = new SoakClients(server.port, started + SAMPLES * INTERVAL_S * 1000, log)
	console.log(
		`soak: ${MINUTES} min against one server; at once: ${Object.entries(mix)
			.map(([k, n]) => `${n} ${k}`)
			.join(', ')}`
	)
	const loops = [
		...clients.loop('churn', mix.churn, () => clients.churn()),
		...clients.loop('replayer', mix.replayer, () => clients.replayer()),
		...clients.loop('slow reader', mix['slow reader'], () => clients.slowReader()),
		...clients.loop('publish', mix.publish, () => clients.publish()),
		...clients.loop('sse', mix.sse, () => clients.sse()),
		...clients.loop('ndjson', mix.ndjson, () => clients.ndjson()),
		...clients.loop('ingest', mix.ingest, () => clients.ingest()),
		...clients.loop('upload', mix.upload, (i) => clients.upload(i))
	]

	const rows: Row[] = []
	let opsBefore = 0
	for (let sample = 1; sample <= SAMPLES; sample++) {
		await Bun.sleep(Math.max(0, started + sample * INTERVAL_S * 1000 - performance.now()))
		const s = await stats()
		const ops = Object.values(log.ops).reduce((a, b) => a + b, 0)
		const row = sampleRow(INTERVAL_S === 60 ? `minute ${sample}` : `after ${sample * INTERVAL_S} s`, s, String(ops - opsBefore))
		opsBefore = ops
		rows.push(row)
		console.log(
			`${row.name}: ${Object.entries(row.values)
				.map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(1) : v}`)
				.join(', ')}`
		)
	}

	// Every client leaves: the loops end their current operation (each bounded), then whatever is open is cut.
	await Promise.race([Promise.all(loops), Bun.sleep(45_000)])
	clients.close()
	let end = await stats()
	for (const until = performance.now() + 15_000; performance.now() < until; end = await stats()) {
		if (end.connections.total === 0 && subscribed(end) === 0) break
		await Bun.sleep(200)
	}
	await Bun.sleep(1000)
	end = await stats()
	rows.push(sampleRow('after every client left', end, ''))
	printTable(
		`Soak: ${MINUTES} min, RSS after Bun.gc(true) every ${INTERVAL_S} s, then after every client left`,
		rows,
		'RSS after GC MB',
		[rows[0]!.name]
	)
	console.log(
		`\noperations: ${Object.entries(log.ops)
			.map(([k, n]) => `${k} ${n}`)
			.join(', ')}`
	)

	// The end is the last sample under load (the same load as the first) and the server once every client left.
	const first = rows[0]!.values['RSS after GC MB'] as number
	const last = rows.at(-2)!.values['RSS after GC MB'] as number
	for (const [when, mb] of [
		[rows.at(-2)!.name, last],
		['after every client left', end.rss / MB]
	] as const)
		if (mb > first * GROWTH)
			failures.push(`RSS after GC ${when}, ${mb.toFixed(1)} MB, is more than 10% above ${first.toFixed(1)} MB ${rows[0]!.name}`)
	if (end.connections.total !== 0)
		failures.push(
			`${end.connections.total} streams still registered after every client left: ${JSON.stringify(end.connections.byKind)}`
		)
	if (subscribed(end) !== 0) failures.push(`subscribers left after every client left: ${JSON.stringify(end.subscribers)}`)
	if (log.gaps || log.dups) failures.push(`replaying subscribers saw ${log.gaps} missing and ${log.dups} duplicate ids`)
	if (log.errorCount)
		failures.push(`${log.errorCount} operations failed (${JSON.stringify(log.errors)}); first: ${log.firstErrors.join(' | ')}`)
} catch (error) {
	failures.push(`the soak stopped: ${error instanceof Error ? error.message : String(error)}`)
} finally {
	await server.stop()
	await rm(uploads, { recursive: true, force: true })
	clearTimeout(watchdog)
}
if (failures.length) {
	console.log(`\nsoak: FAILED\n  ${failures.join('\n  ')}`)
	process.exit(1)
}
console.log(
	'\nsoak: passed (RSS after GC at the end within 10% of the first sample, nothing left registered or subscribed, no failed operation)'
)
process.exit(0)
