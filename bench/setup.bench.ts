// Connection setup on a warm server: where the time of one subscriber's open and close goes.
// One server process holds the floor (raw Bun's direct stream in an Elysia route), the reading
// floor (the same, reading what a resumable subscription with a per-address limit must read: peer
// address, Last-Event-ID, URL) and Sluice's subscribe() (on one topic, and on a topic per
// subscriber, as per-user topics have it). Each is timed from the inside (handler, the body's
// first pull, disconnect, each of Bun's reads) and by the server's CPU per open and close.
// Rounds alternate them; the first WARMUP rounds let the JIT settle and are not counted.
// Env: SETUP_N=4000 SETUP_ROUNDS=12 WARMUP=4.
import type { Socket } from 'bun'
import { printTable, type Row } from './support/table'
import { spawnServer } from './support/spawn-server'
import { option } from './support/options'

const N = option('setup-n', 'SETUP_N', 4000)
const ROUNDS = option('setup-rounds', 'SETUP_ROUNDS', 12)
const WARMUP = option('warmup', 'WARMUP', 4)

interface Counters {
	cpuMs: number
	ns: Record<string, number>
}

const server = await spawnServer(`${import.meta.dir}/support/setup-server.ts`, [], {}, true)
const control = `http://127.0.0.1:${server.control}`
const ports = (await (await fetch(`${control}/ports`)).json()) as { floor: number; sluice: number; hooked: number }
const counters = async () => (await (await fetch(control)).json()) as Counters

const targets = [
	{ name: 'floor', port: ports.floor, path: '/' },
	{ name: 'reading floor', port: ports.floor, path: '/reads' },
	{ name: 'floor timed from a derive', port: ports.hooked, path: '/' },
	{ name: 'sluice subscribe()', port: ports.sluice, path: '/' },
	{ name: 'sluice, a topic per subscriber', port: ports.sluice, path: '/u/' }
]

/** Opens `N` idle subscribers, waits for each one's first bytes, then drops them all and waits until the server has seen every one go. */
async function openAndClose(port: number, path: string): Promise<void> {
	// A path ending in `/` is a prefix: each subscriber gets its own (a topic of its own).
	const request = (i: number) =>
		`GET ${path.length > 1 && path.endsWith('/') ? path + i : path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`
	const sockets: Socket<{ first: boolean }>[] = []
	let answered = 0
	const allAnswered = Promise.withResolvers<void>()
	for (let i = 0; i < N; i += 200)
		sockets.push(
			...(await Promise.all(
				Array.from({ length: Math.min(200, N - i) }, (_, k) =>
					Bun.connect<{ first: boolean }>({
						hostname: '127.0.0.1',
						port,
						data: { first: true },
						socket: {
							open: (socket) => void socket.write(request(i + k)),
							data(socket) {
								if (!socket.data.first) return
								socket.data.first = false
								if (++answered === N) allAnswered.resolve()
							}
						}
					})
				)
			))
		)
	await allAnswered.promise
	for (const socket of sockets) socket.terminate()
	const until = Date.now() + 30_000
	while ((await (await fetch(`${control}/live`)).json()) !== 0) {
		if (Date.now() > until) throw new Error(`setup: the server still holds streams of ${path} after 30 s`)
		await Bun.sleep(20)
	}
}

const rounds = new Map<string, Counters[]>(targets.map((t) => [t.name, []]))
try {
	for (let round = 0; round < ROUNDS; round++)
		for (const target of targets) {
			const before = await counters()
			await openAndClose(target.port, target.path)
			const after = await counters()
			if (round >= WARMUP) rounds.get(target.name)!.push({ cpuMs: after.cpuMs - before.cpuMs, ns: after.ns })
		}
} finally {
	await server.stop()
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN
/** µs of server CPU per open and close, in the least disturbed round and the median one. */
const cpu = (name: string) => rounds.get(name)!.map((r) => (r.cpuMs * 1000) / N)
/** The median over the counted rounds of one part's mean ns. */
const part = (name: string, key: string) => median(rounds.get(name)!.map((r) => r.ns[key] ?? NaN))

const handlerKey: Record<string, string> = {
	floor: 'floor handler',
	'reading floor': 'reads handler',
	'floor timed from a derive': 'hooked floor handler',
	'sluice subscribe()': 'sluice handler',
	'sluice, a topic per subscriber': 'sluice handler'
}
const reads = part('reading floor', 'requestIP') + part('reading floor', 'first header read') + part('reading floor', 'URL')
const floorCpu = Math.min(...cpu('floor'))
const sluiceRow = (name: string) => name.startsWith('sluice')
/** µs spent at the open, inside: the handler (with the reads) and the body's first pull. */
const atOpen = (name: string) =>
	(part(name, handlerKey[name]!) + (name === 'reading floor' ? reads : 0) + part(name, sluiceRow(name) ? 'sluice pull' : 'floor pull')) / 1000
const atDisconnect = (name: string) => part(name, sluiceRow(name) ? 'sluice disconnect' : 'floor disconnect') / 1000
const inside = (name: string) => atOpen(name) + atDisconnect(name)
const rows: Row[] = targets.map(({ name }) => ({
	name,
	values: {
		'opens per CPU second (best round)': 1e6 / Math.min(...cpu(name)),
		'CPU µs per open and close, best': Math.min(...cpu(name)),
		median: median(cpu(name)),
		'at the open (handler and first pull) µs': atOpen(name),
		'at the disconnect µs': atDisconnect(name),
		// The whole process's CPU moves by more than these differences from round to round on a busy
		// machine; the floor's CPU plus what the row spends inside beyond the floor's does not.
		'rate vs floor, from the inside': floorCpu / (floorCpu + inside(name) - inside('floor'))
	}
}))
printTable(
	`Setup on a warm server: ${N.toLocaleString('en-US')} idle subscribers open and leave, ${ROUNDS - WARMUP} rounds after ${WARMUP} of warm-up; each side timed from the inside (medians of the rounds' means); the ratio columns are of the whole process's rate (best rounds)`,
	rows,
	'opens per CPU second (best round)',
	['floor', 'reading floor']
)

const ns = (name: string, key: string) => part(name, key) / 1000
const sluiceOwn = atOpen('sluice subscribe()') - atOpen('floor timed from a derive') - reads / 1000
const breakdown: Row[] = [
	{ name: "Bun's requestIP()", values: { µs: ns('reading floor', 'requestIP') } },
	{ name: "Bun's first header read (builds the request's Headers)", values: { µs: ns('reading floor', 'first header read') } },
	{ name: "Bun's request.url", values: { µs: ns('reading floor', 'URL') } },
	{ name: "Sluice's own work at the open (derive, admission, registration, subscription, heartbeat)", values: { µs: sluiceOwn } },
	{
		name: "Sluice's own work at the disconnect (registry, topic, ticker, listeners)",
		values: { µs: atDisconnect('sluice subscribe()') - atDisconnect('floor') }
	}
]
for (const row of breakdown) row.values["share of the floor's CPU per open"] = `${((100 * (row.values.µs as number)) / floorCpu).toFixed(1)}%`
printTable(
	`Where the difference goes, per open and close (the floor: ${floorCpu.toFixed(1)} µs of CPU); Bun's reads alone bound any subscriber that reads them at ${(floorCpu / (floorCpu + reads / 1000)).toFixed(2)} of the floor's rate`,
	breakdown,
	'µs',
	[]
)
