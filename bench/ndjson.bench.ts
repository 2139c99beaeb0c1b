// One NDJSON stream of 1,000,000 records of ~100 bytes to one client: Sluice's ndjson()
// beside raw Bun.serve writing 64 KB batches, Elysia's own generator streaming and Hono's
// stream(), measured in one run. Each server runs in its own process; the client reads
// over a raw socket.
import { printTable, type Row } from './support/table'
import { spawnServer } from './support/spawn-server'
import { drainOnce } from './support/drain-client'
import { record } from './support/ndjson-record'
import { splitLines } from '../src/ndjson'

const RECORDS = Number(process.env.RECORDS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 5)
const kinds = [
	['raw Bun.serve, 64 KB batches, sync generator', 'raw'],
	['sluice ndjson(), sync generator', 'sluice-sync'],
	['raw Bun.serve, 64 KB batches, async generator', 'raw-async'],
	['sluice ndjson(), async generator', 'sluice'],
	['Elysia generator', 'elysia'],
	['Hono stream()', 'hono']
] as const
// ONLY=raw-async,sluice measures a subset (while working on one path).
const only = process.env.ONLY?.split(',')

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
let payload = 0
for (let id = 0; id < RECORDS; id++) payload += JSON.stringify(record(id)).length + 1

// Request bodies: one 1 MB line split into lines from chunks of several sizes, in this
// process. The work should not grow with the number of chunks (it did: the unfinished line
// was copied again for each chunk, ~20x the CPU of one chunk at 500-byte chunks).
if (!only || only.includes('lines')) {
	const LINE_RUNS = Number(process.env.LINE_RUNS ?? 50)
	const line = new TextEncoder().encode(JSON.stringify('x'.repeat(1_000_000 - 2)) + '\n')
	const chunksOf = (size: number) => {
		const chunks: Uint8Array[] = []
		for (let at = 0; at < line.byteLength; at += size) chunks.push(line.slice(at, at + size))
		return chunks
	}
	async function* feed(chunks: Uint8Array[]) {
		yield* chunks
	}
	const ways = {
		// The floor: handing the chunks over, without looking at them.
		'iterate only': async (chunks: Uint8Array[]) => {
			for await (const _ of feed(chunks));
		},
		// How the line was joined before: the unfinished line copied again for each chunk.
		'copy per chunk (before)': async (chunks: Uint8Array[]) => {
			let carry = new Uint8Array(0)
			for await (const chunk of feed(chunks)) {
				const joined = new Uint8Array(carry.byteLength + chunk.byteLength)
				joined.set(carry)
				joined.set(chunk, carry.byteLength)
				carry = joined
			}
		},
		splitLines: async (chunks: Uint8Array[]) => {
			for await (const _ of splitLines(feed(chunks), 2_000_000));
		}
	}
	const sizes = [['one chunk', line.byteLength], ['64 KB chunks', 65_536], ['500-byte chunks', 500]] as const
	const lineRows: Row[] = []
	for (const [sizeName, size] of sizes) {
		const chunks = chunksOf(size)
		for (const [way, run] of Object.entries(ways)) {
			await run(chunks) // warm-up
			const cpu = process.cpuUsage()
			for (let i = 0; i < LINE_RUNS; i++) await run(chunks)
			const used = process.cpuUsage(cpu)
			const ms = (used.user + used.system) / 1000 / LINE_RUNS
			lineRows.push({ name: `${way}, ${sizeName}`, values: { chunks: String(chunks.length), 'CPU ms per 1 MB line': ms, 'MB per CPU s': line.byteLength / 1e3 / ms } })
		}
	}
	printTable(`NDJSON request body: one 1 MB line, split from chunks of each size (mean of ${LINE_RUNS})`, lineRows, 'MB per CPU s', ['splitLines, one chunk', 'iterate only, 500-byte chunks', 'copy per chunk (before), 500-byte chunks'])
}

// Compression: the 100,000-record export (examples/large-dataset.ts) and the stream of
// RECORDS records, in each coding, from Sluice's ndjson() and from raw Bun with the same
// node:zlib compressor flushed per 64 KB batch. Wire bytes, MB/s of records delivered
// (uncompressed bytes per second), server CPU per MB of records, time to the first record.
if (!only || only.includes('compress')) {
	const Z_RUNS = Number(process.env.Z_RUNS ?? 3)
	const TTFR_RUNS = Number(process.env.TTFR_RUNS ?? 7)
	const codings = ['identity', 'gzip', 'br', 'zstd'] as const
	let exportPayload = 0
	for (let start = 0; start < 100_000; start += 100) {
		const batch = []
		for (let id = start; id < start + 100; id++) batch.push({ id, data: `Record ${id}`, timestamp: new Date().toISOString() })
		exportPayload += JSON.stringify({ batch, batch_start: start, batch_size: 100, total_records: 100_000, progress: Math.round(((start + 100) / 100_000) * 10_000) / 100 }).length + 1
	}
	const zServers = await Promise.all(['sluice', 'raw'].map((k) => spawnServer(`${import.meta.dir}/support/ndjson-compress-servers.ts`, [k, String(RECORDS)])))
	const cpuMsOf = async (port: number) => {
		const { user, system } = (await (await fetch(`http://127.0.0.1:${port}/cpu`)).json()) as { user: number; system: number }
		return (user + system) / 1000
	}
	// A client that leaves after the first record leaves the server finishing what it had in hand
	// (a whole compressed export fits in the socket buffers): without this wait, that work ran on
	// into the next measurement, of this server or of the other one.
	const quiet = async (port: number) => {
		for (let i = 0; i < 100; i++) {
			const before = await cpuMsOf(port)
			await Bun.sleep(20)
			if ((await cpuMsOf(port)) - before < 2) return
		}
	}
	/** ms from the request to the first whole record, read with fetch (which decodes), median of TTFR_RUNS. */
	const firstRecordMs = async (port: number, path: string, coding: string) => {
		const times: number[] = []
		for (let i = 0; i < TTFR_RUNS; i++) {
			await quiet(port)
			const t0 = performance.now()
			const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'accept-encoding': coding } })
			const reader = res.body!.getReader()
			for (;;) {
				const { value, done } = await reader.read()
				if (done || value.includes(10)) break
			}
			times.push(performance.now() - t0)
			await reader.cancel()
		}
		await quiet(port)
		return median(times)
	}
	for (const [path, label, bytesOfRecords] of [['/export', '100,000-record export (examples/large-dataset.ts)', exportPayload], ['/stream', `${RECORDS.toLocaleString('en-US')}-record stream`, payload]] as const) {
		const rows: Row[] = []
		const mbsOf: Record<string, number> = {}
		for (const coding of codings) {
			const header = coding === 'identity' ? '' : `Accept-Encoding: ${coding}\r\n`
			// Each round reads one stream from each server in turn, so a change in the machine's
			// load weighs on both alike.
			const runs: { bytes: number; seconds: number; cpuMs: number }[][] = zServers.map(() => [])
			for (const server of zServers) await drainOnce(server.port, path, header) // warm-up
			for (let r = 0; r < Z_RUNS; r++)
				for (const [s, server] of zServers.entries()) {
					await quiet(server.port)
					const before = await cpuMsOf(server.port)
					const run = await drainOnce(server.port, path, header)
					runs[s]!.push({ ...run, cpuMs: (await cpuMsOf(server.port)) - before })
				}
			for (const [s, server] of zServers.entries()) {
				const name = `${s === 0 ? 'sluice ndjson()' : 'raw Bun.serve, same compressor'}, ${coding}`
				const seconds = median(runs[s]!.map((r) => r.seconds))
				mbsOf[name] = bytesOfRecords / 1e6 / seconds
				rows.push({
					name,
					values: {
						'wire MB': median(runs[s]!.map((r) => r.bytes)) / 1e6,
						'x identity bytes': 0,
						'MB/s of records': mbsOf[name]!,
						'server CPU ms per MB': median(runs[s]!.map((r) => r.cpuMs)) / (bytesOfRecords / 1e6),
						'first record ms': await firstRecordMs(server.port, path, coding),
						'x raw, same coding': 0
					}
				})
			}
		}
		const identityWire = rows.find((r) => r.name === 'sluice ndjson(), identity')!.values['wire MB'] as number
		for (const row of rows) {
			row.values['x identity bytes'] = (row.values['wire MB'] as number) / identityWire
			const coding = row.name.split(', ').at(-1)!
			row.values['x raw, same coding'] = mbsOf[row.name]! / mbsOf[`raw Bun.serve, same compressor, ${coding}`]!
		}
		printTable(`NDJSON compression, ${label}: each coding (median of ${Z_RUNS}; first record: median of ${TTFR_RUNS})`, rows, 'first record ms', ['sluice ndjson(), identity'])
	}
	await Promise.all(zServers.map((s) => s.stop()))
}

// All servers start first; each round then reads one stream from each in turn, so a
// change in the machine's load (2 shared cores) weighs on every contender alike.
const chosen = kinds.filter(([, k]) => !only || only.includes(k))
if (chosen.length === 0) process.exit(0)
const servers = await Promise.all(chosen.map(([, kind]) => spawnServer(`${import.meta.dir}/support/ndjson-servers.ts`, [kind, String(RECORDS)])))
const results: { bytes: number; seconds: number; cpuMs: number }[][] = chosen.map(() => [])
const cpuOf = async (port: number) => {
	const { user, system } = (await (await fetch(`http://127.0.0.1:${port}/cpu`)).json()) as { user: number; system: number }
	return (user + system) / 1000
}
for (const server of servers) await drainOnce(server.port, '/') // warm-up
for (let round = 0; round < RUNS; round++)
	for (const [i, server] of servers.entries()) {
		const cpuBefore = await cpuOf(server.port)
		const r = { ...(await drainOnce(server.port, '/')), cpuMs: 0 }
		r.cpuMs = (await cpuOf(server.port)) - cpuBefore
		if (r.bytes < payload) throw new Error(`${chosen[i]![0]}: got ${r.bytes} bytes, expected at least the ${payload} of the records`)
		results[i]!.push(r)
	}
const rows: Row[] = chosen.map(([name], i) => {
	const seconds = median(results[i]!.map((r) => r.seconds))
	const cpuMs = median(results[i]!.map((r) => r.cpuMs))
	return {
		name,
		values: {
			'MB/s': payload / 1e6 / seconds,
			'records/s': RECORDS / seconds,
			'ms (median)': seconds * 1000,
			'server CPU ms': cpuMs,
			'MB per server CPU s': payload / 1e3 / cpuMs,
			'server RSS MB': servers[i]!.rss() / 1e6
		}
	}
})
await Promise.all(servers.map((s) => s.stop()))
const baselines = ['raw Bun.serve, 64 KB batches, sync generator', 'raw Bun.serve, 64 KB batches, async generator', 'Elysia generator', 'Hono stream()']
printTable(
	`NDJSON, one stream, ${RECORDS.toLocaleString('en-US')} records of ~${Math.round(payload / RECORDS)} bytes (median of ${RUNS})`,
	rows,
	'MB/s',
	baselines
)
// The same runs by server CPU: wall time on a shared machine moves with its load, CPU time much less.
printTable(
	'The same runs, by server CPU (MB sent per CPU-second of the server process)',
	rows.map((r) => ({ name: r.name, values: { 'MB per server CPU s': r.values['MB per server CPU s']!, 'server CPU ms': r.values['server CPU ms']! } })),
	'MB per server CPU s',
	baselines
)
