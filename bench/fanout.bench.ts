// Broadcast fan-out: N raw-socket SSE subscribers (1,000, 5,000, 10,000), 200-byte JSON
// events, Sluice's hub beside hand-written raw Bun.serve, Elysia's generator with a
// per-client queue, and Hono's streamSSE, each server in its own process, in one run.
// Env: SIZES=1000,5000 KINDS=raw,sluice DELIVERIES=300000 ROUNDS=2 BURST=10 BURST_N=5000.
// Capacity first (idle subscribers: memory per subscriber and fixed, setup rate), at
// CAPACITY=5000,10000,15000 in steps of one server process (CAPACITY=0 skips it; CAPACITY_ROUNDS=3;
// TYPES=1 prints the JS heap by object type).
// Many topics (docs/topics.md): TOPIC_CLIENTS=5000 clients each on 5 topics, over one stream
// each against 5 streams each (TOPIC_CLIENTS=0 leaves it out).
import type { Socket } from 'bun'
import { printTable, type Row } from './support/table'
import { spawnServer } from './support/spawn-server'

const SIZES = (process.env.SIZES ?? '1000,5000,10000').split(',').map(Number).filter((n) => n > 0)
const DELIVERIES = Number(process.env.DELIVERIES ?? 300_000)
/** Going further: events published in bursts (several per tick), at this N. */
const BURST_N = Number(process.env.BURST_N ?? 5000)
const BURST = Number(process.env.BURST ?? 10)
const LATENCY_EVENTS = 30
const kinds = [
	['raw Bun.serve', 'raw'],
	['raw stream in an Elysia route', 'elysia-raw'],
	['raw stream in an Elysia route with streaming()', 'elysia-raw-plugins'],
	['raw stream in an Elysia route, reading peer address and Last-Event-ID', 'elysia-raw-reads'],
	['sluice broadcast', 'sluice'],
	['sluice hub on Bun.serve, no Elysia', 'bare'],
	['Elysia generator + queue', 'elysia'],
	['Hono streamSSE', 'hono']
] as const
// Measured on demand: the hub on plain Bun.serve (no Elysia), KINDS=raw,sluice,bare; the floor
// with streaming() on the app (what the plugins cost a stream they do not serve), elysia-raw-plugins.
const only = process.env.KINDS?.split(',') ?? ['raw', 'elysia-raw', 'elysia-raw-reads', 'sluice', 'elysia', 'hono', 'topics', 'topic-streams']
/** The reading floor is a capacity row: its deliveries are the floor's. */
const deliveryKinds = kinds.filter(([, kind]) => kind !== 'elysia-raw-reads')
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

// Capacity: idle subscribers. RSS and JS heap after GC in the server before any subscriber and
// after each step of connections in one process (5,000, then 5,000 more, ...): the slope is what
// one more subscriber costs, the intercept what appears with the first connections (pools, code
// compiled, heap growth). Steps in one process keep the slope clear of what differs between
// processes. Each contender runs CAPACITY_ROUNDS times, interleaved: memory is the mean of the
// rounds, CPU per open the least disturbed round by a warm server's CPU per open (the steps after the
// first; the machine is shared with the client and its host).
const CAPACITY = (process.env.CAPACITY ?? '5000,10000,15000').split(',').map(Number).filter((n) => n > 0)
const CAPACITY_ROUNDS = Number(process.env.CAPACITY_ROUNDS ?? 3)
const SHOW_TYPES = process.env.TYPES === '1'
const capacityKinds = kinds.filter(([, kind]) => ['raw', 'elysia-raw', 'elysia-raw-reads', 'sluice', 'elysia', 'bare', 'elysia-raw-plugins'].includes(kind) && only.includes(kind))
// The servers are started with their descriptor limit at the hard limit; the client holds every socket itself.
const hardLimit = Number(Bun.spawnSync(['bash', '-c', 'ulimit -Hn']).stdout.toString().trim()) || 1024
const fitting = CAPACITY.filter((n) => n + 1000 <= hardLimit)
if (fitting.length < CAPACITY.length)
	console.log(`\n(capacity: ${CAPACITY.filter((n) => !fitting.includes(n)).join(', ')} left out: the descriptor limit is ${hardLimit})`)

interface Stats {
	subscribers: number
	rss: number
	heap: number
	capacity: number
	extra: number
	types?: Record<string, number>
	sizes?: Record<string, number>
}

interface CapacityPoint {
	n: number
	rss: number
	heap: number
	capacity: number
	extra: number
	/** Connections per second of this step, as the client saw them open. */
	setup: number
	idle: Stats
}

async function capacity(kind: string, sizes: number[]) {
	const server = await spawnServer(`${import.meta.dir}/support/fanout-servers.ts`, [kind], {}, true)
	const held: Subscribers[] = []
	try {
		const stats = async (types = false): Promise<Stats> =>
			(await fetch(`http://127.0.0.1:${server.control}/stats${types ? '?types' : ''}`)).json() as Promise<Stats>
		const cpu = async () => ((await (await fetch(`http://127.0.0.1:${server.control}/cpu`)).json()) as { cpuMs: number }).cpuMs
		const before = await stats(SHOW_TYPES)
		const points: CapacityPoint[] = []
		let n = 0
		let openCpuMs = 0
		const stepUs: number[] = []
		for (const size of sizes) {
			const cpu0 = await cpu()
			const t0 = performance.now()
			held.push(await Subscribers.open(server.port, size - n))
			const setupSeconds = (performance.now() - t0) / 1000
			// What the server spent accepting them (the client shares the machine: the steadier measure).
			const stepCpuMs = (await cpu()) - cpu0
			openCpuMs += stepCpuMs
			stepUs.push((stepCpuMs * 1000) / (size - n))
			await Bun.sleep(200)
			const idle = await stats(SHOW_TYPES)
			points.push({
				n: size,
				rss: idle.rss - before.rss,
				heap: idle.heap - before.heap,
				capacity: idle.capacity - before.capacity,
				extra: idle.extra - before.extra,
				setup: (size - n) / setupSeconds,
				idle
			})
			n = size
		}
		// A warm server's CPU per open: the steps after the first, which also paid for compiling the
		// code an open runs (that part is in the fixed memory; here it would be spread over N).
		const warmOpens = n - sizes[0]!
		const warmUs = warmOpens > 0 ? (stepUs.slice(1).reduce((a, us, i) => a + us * (sizes[i + 1]! - sizes[i]!), 0) / warmOpens) : openCpuMs * 1000 / n
		return { points, openUs: (openCpuMs * 1000) / n, warmUs, stepUs, before }
	} finally {
		for (const subs of held) subs.close()
		await server.stop()
	}
}

/** Least-squares line through (n, y): slope and intercept. */
function fit(points: { n: number; y: number }[]): { slope: number; intercept: number } {
	const mean = (f: (p: { n: number; y: number }) => number) => points.reduce((a, p) => a + f(p), 0) / points.length
	const mn = mean((p) => p.n)
	const my = mean((p) => p.y)
	const sxx = points.reduce((a, p) => a + (p.n - mn) ** 2, 0)
	const slope = sxx > 0 ? points.reduce((a, p) => a + (p.n - mn) * (p.y - my), 0) / sxx : my / mn
	return { slope, intercept: my - slope * mn }
}

if (fitting.length) {
	const rounds = new Map<string, Awaited<ReturnType<typeof capacity>>[]>()
	for (let round = 0; round < CAPACITY_ROUNDS; round++)
		for (const [name, kind] of capacityKinds) rounds.set(name, [...(rounds.get(name) ?? []), await capacity(kind, fitting)])
	const KB = 1024
	const MB = 1024 * 1024
	const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length
	// Memory: the mean of the rounds' fits (RSS moves a little between processes), and the spread
	// of their slopes. CPU and setup rate: the least disturbed round.
	const lines = [...rounds].map(([name, results]) => {
		const fits = results.map(({ points }) => ({
			rss: fit(points.map((r) => ({ n: r.n, y: r.rss }))),
			heap: fit(points.map((r) => ({ n: r.n, y: r.heap }))),
			capacity: fit(points.map((r) => ({ n: r.n, y: r.capacity }))),
			extra: fit(points.map((r) => ({ n: r.n, y: r.extra })))
		}))
		const best = results.reduce((a, r) => (r.warmUs < a.warmUs ? r : a))
		const slopes = fits.map((f) => f.rss.slope / KB)
		const values: Record<string, number | string> = {}
		for (const [i, r] of best.points.entries())
			values[`RSS growth ${r.n.toLocaleString('en-US')}, MB`] = mean(results.map((x) => x.points[i]!.rss)) / MB
		values['per subscriber KB (slope)'] = mean(slopes)
		values['slope spread KB'] = `${Math.min(...slopes).toFixed(2)}–${Math.max(...slopes).toFixed(2)}`
		values['fixed MB (intercept)'] = mean(fits.map((f) => f.rss.intercept)) / MB
		values['JS heap per subscriber KB'] = mean(fits.map((f) => f.heap.slope)) / KB
		values['JS heap fixed MB'] = mean(fits.map((f) => f.heap.intercept)) / MB
		// The heap's blocks (live objects and the free space among them), and what native objects
		// (strings, buffers) report to the collector: the parts of RSS the JS side accounts for.
		values['JS heap capacity per subscriber KB'] = mean(fits.map((f) => f.capacity.slope)) / KB
		values['native extra per subscriber KB'] = mean(fits.map((f) => f.extra.slope)) / KB
		values['setup conn/s (mean of steps)'] = mean(best.points.map((r) => r.setup))
		values['server µs/open'] = best.openUs
		// The first step also pays for compiling the code an open runs; the others are a warm server's.
		values['server µs/open by step'] = best.stepUs.map((us) => us.toFixed(1)).join(' / ')
		values['server µs/open, warm'] = best.warmUs
		return { name, values, runs: best.points, before: best.before }
	})
	const floor = lines.find((l) => l.name === 'raw stream in an Elysia route')?.values
	for (const l of lines)
		if (floor) {
			l.values['slope - floor KB'] = (l.values['per subscriber KB (slope)'] as number) - (floor['per subscriber KB (slope)'] as number)
			l.values['fixed - floor MB'] = (l.values['fixed MB (intercept)'] as number) - (floor['fixed MB (intercept)'] as number)
			// Opens per second of a warm server's CPU, as a ratio to the floor's: the setup rate the server allows.
			l.values['server opens/CPU s vs floor (warm)'] = ((floor['server µs/open, warm'] as number) / (l.values['server µs/open, warm'] as number)).toFixed(2)
		}
	printTable(
		`Capacity: idle subscribers, RSS and JS heap after GC in the server, in steps of one process (fit over ${fitting.map((n) => n.toLocaleString('en-US')).join(', ')}; memory: mean of ${CAPACITY_ROUNDS} rounds, CPU and setup: the best); the ratio columns are of the client-seen setup rate`,
		lines.map(({ name, values }) => ({ name, values })),
		'setup conn/s (mean of steps)',
		['raw Bun.serve', 'raw stream in an Elysia route']
	)
	if (SHOW_TYPES) {
		// What one idle subscriber holds on the JS heap, by object type: the count per subscriber
		// between the smallest and the largest N, types that differ from 0 by 0.05 or more.
		for (const { name, runs, before } of lines) {
			const [lo, hi] = [runs[0]!, runs[runs.length - 1]!]
			if (lo === hi) continue
			const types = new Set([...Object.keys(lo.idle.types ?? {}), ...Object.keys(hi.idle.types ?? {})])
			const perSub = (of: Record<string, number> | undefined, lower: Record<string, number> | undefined, t: string) =>
				((of?.[t] ?? 0) - (lower?.[t] ?? 0)) / (hi.n - lo.n)
			const per = [...types]
				.map((t) => [t, perSub(hi.idle.types, lo.idle.types, t), perSub(hi.idle.sizes, lo.idle.sizes, t)] as const)
				.filter(([, v]) => Math.abs(v) >= 0.05)
				.sort((a, b) => b[2] - a[2])
			const bytes = per.reduce((sum, [, , b]) => sum + b, 0)
			console.log(`\n${name}: JS objects per idle subscriber, by type: count (bytes), ${lo.n} to ${hi.n}; ${Math.round(bytes)} B in all`)
			console.log(per.map(([t, v, b]) => `${t} ${v.toFixed(2)} (${Math.round(b)})`).join(', '))
			// And what appears with the first connections: at the smallest N, less the fresh server's
			// and less N subscribers' worth.
			const fixedOf = (of: 'types' | 'sizes', t: string) =>
				(lo.idle[of]?.[t] ?? 0) - (before[of]?.[t] ?? 0) - perSub(hi.idle[of], lo.idle[of], t) * lo.n
			const fixed = [...types]
				.map((t) => [t, fixedOf('types', t), fixedOf('sizes', t)] as const)
				.filter(([, v, b]) => Math.abs(v) >= 50 || Math.abs(b) >= 16 * 1024)
				.sort((a, b) => b[2] - a[2])
			const fixedBytes = fixed.reduce((sum, [, , b]) => sum + b, 0)
			console.log(`${name}: JS objects that appear with the first connections (intercept), by type: count (KB); ${Math.round(fixedBytes / 1024)} KB in these`)
			console.log(fixed.map(([t, v, b]) => `${t} ${Math.round(v)} (${Math.round(b / 1024)})`).join(', '))
		}
	}
}

for (const n of SIZES) {
	const rows = await bestOf(n, deliveryKinds)
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
