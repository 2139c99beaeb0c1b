// Broadcast fan-out: N raw-socket SSE subscribers (1,000, 5,000, 10,000), 200-byte JSON
// events, Sluice's hub beside hand-written raw Bun.serve, Elysia's generator with a
// per-client queue, and Hono's streamSSE, each server in its own process, in one run.
// Env: SIZES=1000,5000 KINDS=raw,sluice DELIVERIES=300000 ROUNDS=2 BURST=10 BURST_N=5000.
// Many topics (docs/topics.md): TOPIC_CLIENTS=5000 clients each on 5 topics, over one stream
// each against 5 streams each (TOPIC_CLIENTS=0 leaves it out).
import type { Socket } from 'bun'
import { printTable, type Row } from './support/table'
import { spawnServer } from './support/spawn-server'

const SIZES = (process.env.SIZES ?? '1000,5000,10000').split(',').map(Number)
const DELIVERIES = Number(process.env.DELIVERIES ?? 300_000)
/** Going further: events published in bursts (several per tick), at this N. */
const BURST_N = Number(process.env.BURST_N ?? 5000)
const BURST = Number(process.env.BURST ?? 10)
const LATENCY_EVENTS = 30
const kinds = [
	['raw Bun.serve', 'raw'],
	['raw stream in an Elysia route', 'elysia-raw'],
	['sluice broadcast', 'sluice'],
	['sluice hub on Bun.serve, no Elysia', 'bare'],
	['Elysia generator + queue', 'elysia'],
	['Hono streamSSE', 'hono']
] as const
// Measured on demand: the hub on plain Bun.serve (no Elysia), KINDS=raw,sluice,bare.
const only = process.env.KINDS?.split(',') ?? ['raw', 'elysia-raw', 'sluice', 'elysia', 'hono', 'topics', 'topic-streams']
/** Topics each client reads in the many-topics rows, and how many clients. */
const TOPICS = 5
const TOPIC_CLIENTS = Number(process.env.TOPIC_CLIENTS ?? 5000)
const now = () => performance.timeOrigin + performance.now()

interface Client {
	tail: string
	events: number
	open: boolean
	/** Latency samples are taken on every 10th client (parsing every event would load the client). */
	sampled: boolean
}

/** Holds `n` SSE subscribers on raw sockets; counts `"seq"` in what arrives, and samples latency. */
class Subscribers {
	sockets: Socket<Client>[] = []
	total = 0
	latencies: number[] | undefined
	waiters: (() => void)[] = []

	static async open(port: number, n: number, path: (i: number) => string = () => '/'): Promise<Subscribers> {
		const subs = new Subscribers()
		const request = (i: number) => `GET ${path(i)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`
		for (let i = 0; i < n; i += 250) {
			const batch = await Promise.all(
				Array.from({ length: Math.min(250, n - i) }, (_, k) =>
					Bun.connect<Client>({
						hostname: '127.0.0.1',
						port,
						data: { tail: '', events: 0, open: false, sampled: (i + k) % 10 === 0 },
						socket: {
							open: (s) => void s.write(request(i + k)),
							data: (s, chunk) => subs.#read(s.data, chunk.toString('latin1')),
							error: () => {}
						}
					})
				)
			)
			subs.sockets.push(...batch)
		}
		await subs.until(() => subs.sockets.every((s) => s.data.open), 30_000)
		return subs
	}

	#read(client: Client, text: string) {
		const all = client.tail + text
		if (!client.open && all.includes('\r\n\r\n')) client.open = true
		let at = all.indexOf('"seq"')
		while (at !== -1) {
			client.events++
			this.total++
			if (this.latencies && client.sampled) {
				const t = all.indexOf('"t":', at)
				const end = all.indexOf(',', t)
				if (t !== -1 && end !== -1) this.latencies.push(now() - Number(all.slice(t + 4, end)))
			}
			at = all.indexOf('"seq"', at + 5)
		}
		// Enough to hold a `"seq"` cut in two, and the timestamp after it.
		client.tail = all.slice(-48)
		for (const w of this.waiters.splice(0)) w()
	}

	async until(predicate: () => boolean, ms: number): Promise<boolean> {
		const end = performance.now() + ms
		while (!predicate()) {
			if (performance.now() > end) return false
			await Promise.race([new Promise<void>((r) => this.waiters.push(r)), Bun.sleep(20)])
		}
		return true
	}

	close() {
		for (const s of this.sockets) s.terminate()
	}
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN

/** With `topics`: n clients, each reading 5 topics over one stream (`topics`) or 5 streams (`topic-streams`). */
async function measure(kind: string, n: number, burst = 1) {
	const server = await spawnServer(`${import.meta.dir}/support/fanout-servers.ts`, [kind])
	const topics = kind === 'topics' || kind === 'topic-streams'
	const sockets = kind === 'topic-streams' ? n * TOPICS : n
	try {
		const stats = async (controlPort: number) =>
			(await (await fetch(`http://127.0.0.1:${controlPort}/stats`)).json()) as { subscribers: number; rss: number }
		const controlPort = server.control!
		const before = await stats(controlPort)
		const subs = await Subscribers.open(server.port, sockets, (i) => (kind === 'topic-streams' ? `/t/${i % TOPICS}` : '/'))
		await Bun.sleep(200)
		const idle = await stats(controlPort)

		// Throughput: one event per tick, back to back, until every subscriber has them all.
		// Events go round the topics: each client gets every one, over one stream or over five.
		const events = topics ? TOPICS * Math.max(4, Math.round(DELIVERIES / n / TOPICS)) : Math.max(20, Math.round(DELIVERIES / n))
		const cpu = async () => (await (await fetch(`http://127.0.0.1:${controlPort}/cpu`)).json()) as { cpuMs: number; userMs: number }
		const cpu0 = await cpu()
		const t0 = performance.now()
		const run = fetch(`http://127.0.0.1:${controlPort}/run?events=${events}&burst=${burst}`)
		const complete = await subs.until(() => subs.total >= events * n, 60_000)
		const seconds = (performance.now() - t0) / 1000
		await run
		const delivered = subs.total
		const cpu1 = await cpu()
		const serverCpuMs = cpu1.cpuMs - cpu0.cpuMs
		const serverUserMs = cpu1.userMs - cpu0.userMs

		// Latency: events paced 20 ms apart, time from publish to arrival on sampled clients.
		await Bun.sleep(100)
		subs.latencies = []
		const base = subs.total
		await fetch(`http://127.0.0.1:${controlPort}/run?events=${LATENCY_EVENTS}&paceMs=${topics ? 4 : 20}`)
		await subs.until(() => subs.total >= base + LATENCY_EVENTS * n, 30_000)
		const lat = subs.latencies.sort((a, b) => a - b)

		subs.close()
		await Bun.sleep(1000)
		const after = await stats(controlPort)
		return {
			'events/s': delivered / seconds,
			delivered: complete ? 'all' : `${((100 * delivered) / (events * n)).toFixed(1)}%`,
			// Client and server share the machine, so wall-clock events/s moves with the client's share
			// of the CPU; what the server spends per delivery is the steadier measure.
			'server µs/delivery': (serverCpuMs * 1000) / delivered,
			// The kernel's share (loopback TCP) is the same bytes for everyone; user time is the code's own.
			'user µs/delivery': (serverUserMs * 1000) / delivered,
			'deliveries/server CPU s': delivered / (serverCpuMs / 1000),
			'p50 ms': percentile(lat, 0.5),
			'p99 ms': percentile(lat, 0.99),
			// Per client: with 5 streams each, a client's five connections together.
			[topics ? 'KB/client idle' : 'KB/conn idle']: (idle.rss - before.rss) / n / 1024,
			'left after disconnect': after.subscribers
		}
	} finally {
		await server.stop()
	}
}

// Other processes share the machine: each contender runs ROUNDS times, interleaved with the
// others, and its least disturbed round (the least server CPU per delivery) is reported.
const ROUNDS = Number(process.env.ROUNDS ?? 2)
async function bestOf(n: number, contenders: readonly (readonly [string, string])[], burst = 1): Promise<Row[]> {
	const best = new Map<string, Awaited<ReturnType<typeof measure>>>()
	for (let round = 0; round < ROUNDS; round++)
		for (const [name, kind] of contenders) {
			if (only && !only.includes(kind)) continue
			const result = await measure(kind, n, burst)
			const key = 'deliveries/server CPU s'
			if ((best.get(name)?.[key] ?? -1) < result[key]) best.set(name, result)
		}
	return [...best].map(([name, values]) => ({ name, values }))
}

for (const n of SIZES) {
	const rows = await bestOf(n, kinds)
	printTable(`Fan-out to ${n.toLocaleString('en-US')} subscribers, 200-byte events`, rows, 'deliveries/server CPU s', ['raw Bun.serve', 'Elysia generator + queue', 'Hono streamSSE'])
}

if (TOPIC_CLIENTS > 0) {
	const rows = await bestOf(TOPIC_CLIENTS, [
		['5 topics over 1 stream each', 'topics'],
		['5 topics over 5 streams each', 'topic-streams']
	])
	printTable(
		`Many topics: ${TOPIC_CLIENTS.toLocaleString('en-US')} clients, each reading 5 topics (events round the topics; server CPU per delivered event)`,
		rows,
		'deliveries/server CPU s',
		['5 topics over 5 streams each']
	)
}

if (BURST > 1) {
	const rows = await bestOf(BURST_N, kinds.filter(([, kind]) => kind === 'raw' || kind === 'sluice'), BURST)
	printTable(
		`Going further: bursts of ${BURST} events per tick, ${BURST_N.toLocaleString('en-US')} subscribers (raw writes each event; Sluice joins a tick's frames into one write)`,
		rows,
		'deliveries/server CPU s',
		['raw Bun.serve']
	)
}
