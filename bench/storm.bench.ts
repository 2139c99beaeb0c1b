// Reconnect storms: N SSE subscribers on raw sockets while publishing goes on; all drop at
// once and reconnect at once with their last ids (Last-Event-ID), while CPU burners keep
// every core busy. Every client must end gapless, duplicate-free and not cut off.
//  1. The storm: Sluice with replay, the same storm without replay, and raw Bun.serve (a
//     hand-written history array) as the floor.
//  2. A history ring filled to within a few bytes of its limit by frames of odd sizes (what
//     the clients missed while away), beside a half-full ring and the raw floor.
//  3. Redis: two processes, kill -9 the one holding the clients, all reconnect to the other.
// Flags (or env): --subscribers (STORM_SUBSCRIBERS) --rate --pad --away-ms --history-bytes
// --history-frames --full-subscribers --slack --redis-subscribers --burners --timeout-s
// --rounds --tables storm,ring,redis.
import { printTable, type Row } from './support/table'
import { spawnServer, type BenchServer } from './support/spawn-server'
import { StormClients } from './support/storm-clients'
import { startBurners } from './support/burners'
import { option, textOption } from './support/options'
import { redisAnswers, redisUrl } from '../test/support/services'
import { availableParallelism } from 'node:os'

const SUBSCRIBERS = option('subscribers', 'STORM_SUBSCRIBERS', 1000)
const RATE = option('rate', 'STORM_RATE', 50)
const PAD = option('pad', 'STORM_PAD', 150)
const AWAY_MS = option('away-ms', 'STORM_AWAY_MS', 1000)
const HISTORY_BYTES = option('history-bytes', 'STORM_HISTORY_BYTES', 1024 * 1024)
const HISTORY_FRAMES = option('history-frames', 'STORM_HISTORY_FRAMES', 1000)
const FULL_SUBSCRIBERS = option('full-subscribers', 'STORM_FULL_SUBSCRIBERS', 100)
const SLACK = option('slack', 'STORM_SLACK', 4)
const REDIS_SUBSCRIBERS = option('redis-subscribers', 'STORM_REDIS_SUBSCRIBERS', 500)
const BURNERS = option('burners', 'STORM_BURNERS', availableParallelism())
const TIMEOUT_MS = option('timeout-s', 'STORM_TIMEOUT_S', 30) * 1000
const ROUNDS = Math.max(1, option('rounds', 'STORM_ROUNDS', 3))
/** Which tables: storm, ring, redis. */
const TABLES = (textOption('tables', 'STORM_TABLES') ?? 'storm,ring,redis').split(',')

const sluiceServer = `${import.meta.dir}/support/storm-server.ts`
const rawServer = `${import.meta.dir}/support/raw-storm-server.ts`

interface Stats {
	subscribers: number
	streams: number
	lastId: string
	published: number
	failed: number
	cpuUs: number
	rss: number
}
/** The server's control port; a request that hangs fails after the timeout. */
const control = (server: BenchServer) => {
	const call = async <T>(path: string, method = 'POST') =>
		(await (
			await fetch(`http://127.0.0.1:${server.control}${path}`, { method, signal: AbortSignal.timeout(TIMEOUT_MS) })
		).json()) as T
	return {
		stats: () => call<Stats>('/stats', 'GET'),
		publish: (rate: number) => call<{ lastId: string }>(`/publish?rate=${rate}&pad=${PAD}`),
		fill: (bytes: number) => call<{ frames: number; bytes: number; lastId: string }>(`/fill?bytes=${bytes}`)
	}
}

interface Storm {
	name: string
	/** Server processes: the clients connect to the first; with two, the first is killed and they go to the second, which publishes. */
	servers: () => Promise<BenchServer[]>
	subscribers: number
	/** Reconnect with Last-Event-ID. */
	replay: boolean
	/** While the clients are away, instead of the live publisher: frames of odd sizes summing to these bytes. */
	fill?: number
	/** The clients lose their server to a kill -9 instead of dropping their sockets. */
	kill?: boolean
}

const MB = 1024 * 1024
const maxOf = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), -Infinity)

async function storm(s: Storm): Promise<Row> {
	const servers = await s.servers()
	const [first, last] = [servers[0]!, servers.at(-1)!]
	const clients = new StormClients(s.subscribers)
	let burners: { stop(): Promise<void> } | undefined
	let sampler: Timer | undefined
	try {
		const publisher = control(last)
		const all = (p: (c: (typeof clients.clients)[number]) => boolean) => () => clients.clients.every(p)
		await clients.connect(first.port, { batch: 250 })
		if (
			!(await clients.until(
				all((c) => c.backAt !== undefined),
				TIMEOUT_MS
			))
		)
			throw new Error(`${s.name}: not every client connected`)
		await publisher.publish(RATE)
		await clients.until(
			all((c) => c.lastId >= 0),
			TIMEOUT_MS
		)
		await Bun.sleep(500)
		if (s.fill) {
			// The ring must hold every frame a client missed: stop, let all catch up, then drop.
			const { lastId } = await publisher.publish(0)
			await clients.until(
				all((c) => c.lastId >= Number(lastId)),
				TIMEOUT_MS
			)
		}
		const rssBefore = last.rss()
		// Bounded by the storm's own phases (each at most TIMEOUT_MS), should this process die before stopping them.
		burners = BURNERS > 0 ? startBurners(BURNERS, (4 * TIMEOUT_MS) / 1000 + 30) : undefined
		const dropped = performance.now()
		if (s.kill) process.kill(first.pid, 'SIGKILL')
		else clients.dropAll()
		await clients.until(
			all((c) => !c.open),
			TIMEOUT_MS
		)
		await Bun.sleep(Math.max(0, AWAY_MS - (performance.now() - dropped)))
		const filled = s.fill ? await publisher.fill(s.fill) : undefined
		const before = await publisher.stats()
		clients.target = Number(before.lastId)
		const missed = mean(clients.clients.map((c) => clients.target - c.lastId))
		let peak = rssBefore
		sampler = setInterval(() => {
			try {
				peak = Math.max(peak, last.rss())
			} catch {}
		}, 20)

		const t0 = performance.now()
		await clients.connect(last.port, { resume: s.replay })
		const allBack = await clients.until(
			all((c) => c.backAt !== undefined || !c.open),
			TIMEOUT_MS
		)
		if (s.fill) await publisher.publish(RATE)
		// A client cut off (closed) will not catch up: waiting for it would only wait out the timeout.
		await clients.until(
			all((c) => c.caughtAt !== undefined || !c.open),
			TIMEOUT_MS
		)
		const after = await publisher.stats()
		clearInterval(sampler)
		await burners?.stop()
		burners = undefined

		// A short tail of live frames, then every client that is still open must have the last one.
		await Bun.sleep(300)
		const { lastId: finalId } = await publisher.publish(0)
		await clients.until(
			all((c) => !c.open || c.lastId >= Number(finalId)),
			5000
		)

		const cs = clients.clients
		const replayed = cs.reduce((n, c) => n + c.replayed, 0)
		const cpuMs = (after.cpuUs - before.cpuUs) / 1000
		const back = cs.filter((c) => c.backAt !== undefined).map((c) => c.backAt! - t0)
		const caught = cs.filter((c) => c.caughtAt !== undefined).map((c) => c.caughtAt! - t0)
		return {
			name: s.name,
			values: {
				clients: String(s.subscribers),
				'missed/client': filled ? `${filled.frames} (${(filled.bytes / 1024).toFixed(1)} KB)` : missed,
				'all back ms': allBack && back.length === cs.length ? maxOf(back) : `${cs.length - back.length} never`,
				'all caught up ms': caught.length === cs.length ? maxOf(caught) : `${cs.length - caught.length} never`,
				'replayed frames': replayed.toLocaleString('en-US'),
				'server CPU ms': cpuMs,
				'server µs/replayed frame': replayed ? (cpuMs * 1000) / replayed : '',
				'RSS before MB': rssBefore / MB,
				'peak RSS MB': peak / MB,
				'cut off': String(sum(cs, (c) => c.cutOff)),
				'replay incomplete': String(sum(cs, (c) => c.incomplete)),
				gaps: s.replay ? String(sum(cs, (c) => c.gaps)) : `${sum(cs, (c) => c.gaps)} (+ missed by design)`,
				dups: String(sum(cs, (c) => c.dups)),
				'not at last id': String(cs.filter((c) => c.lastId < Number(finalId)).length)
			}
		}
	} finally {
		clearInterval(sampler)
		clients.close()
		await burners?.stop()
		await Promise.all(servers.map((server) => server.stop()))
	}
}

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0)
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)

/** A row's checks: what a failed storm looks like, or undefined. */
function failures(row: Row): string | undefined {
	const v = row.values
	// Counts are printed as text; a count with a note ("missed by design") is not checked.
	const bad = ['cut off', 'replay incomplete', 'gaps', 'dups', 'not at last id'].filter(
		(k) => /^\d+$/.test(String(v[k])) && v[k] !== '0'
	)
	for (const k of ['all back ms', 'all caught up ms']) if (typeof v[k] === 'string') bad.push(k)
	return bad.length ? `${row.name}: ${bad.map((k) => `${k} ${v[k]}`).join(', ')}` : undefined
}

const history = { historyBytes: HISTORY_BYTES, historyFrames: HISTORY_FRAMES }
const one = (script: string, config: object) => async () => [await spawnServer(script, [JSON.stringify(config)])]
const failed: string[] = []
const caughtUp = (row: Row) => {
	const v = row.values['all caught up ms']
	return typeof v === 'number' ? v : Infinity
}

/**
 * Runs each storm ROUNDS times, interleaved (the machine is shared), and prints each one's
 * median round by time to catch up; every round's failures count.
 */
async function table(title: string, storms: Storm[], baselines: string[]) {
	const rounds = new Map<string, Row[]>(storms.map((s) => [s.name, []]))
	for (let round = 0; round < ROUNDS; round++) for (const s of storms) rounds.get(s.name)!.push(await storm(s))
	const rows = storms.map(({ name }) => {
		const all = rounds.get(name)!
		const bad = all.map(failures).filter((why) => why !== undefined)
		failed.push(...bad)
		const median = [...all].sort((a, b) => caughtUp(a) - caughtUp(b))[Math.floor((all.length - 1) / 2)]!
		return { name, values: { ...median.values, 'rounds failed': `${bad.length}/${all.length}` } }
	})
	printTable(`${title} (median of ${ROUNDS})`, rows, 'all caught up ms', baselines)
}
console.log(`storm: ${BURNERS} CPU burners during each storm; away ${AWAY_MS} ms; timeout ${TIMEOUT_MS / 1000} s per phase`)

if (TABLES.includes('storm'))
	await table(
		`Reconnect storm: ${SUBSCRIBERS.toLocaleString('en-US')} subscribers, ${RATE} events/s of ~${PAD + 50} bytes, away ${AWAY_MS} ms, ${BURNERS} CPU burners`,
		(
			[
				['raw Bun.serve, replay', rawServer, true],
				['raw Bun.serve, no replay', rawServer, false],
				['sluice, replay (Last-Event-ID)', sluiceServer, true],
				['sluice, no replay', sluiceServer, false]
			] as const
		).map(([name, script, replay]) => ({ name, servers: one(script, history), subscribers: SUBSCRIBERS, replay })),
		['raw Bun.serve, replay', 'sluice, no replay']
	)

if (TABLES.includes('ring')) {
	const full = HISTORY_BYTES - SLACK
	const raw = `raw Bun.serve, ${full.toLocaleString('en-US')} bytes missed`
	await table(
		`Replay of a full history: ${FULL_SUBSCRIBERS} subscribers missed frames of 1-3 KB (odd sizes) filling the ${(HISTORY_BYTES / 1024).toLocaleString('en-US')} KB ring to ${SLACK} bytes short, ${BURNERS} CPU burners`,
		(
			[
				[raw, rawServer, full],
				['sluice, ring half full', sluiceServer, Math.floor(HISTORY_BYTES / 2)],
				[`sluice, ring ${SLACK} bytes short of full`, sluiceServer, full]
			] as const
		).map(([name, script, fill]) => ({ name, servers: one(script, history), subscribers: FULL_SUBSCRIBERS, replay: true, fill })),
		[raw, 'sluice, ring half full']
	)
}

if (!TABLES.includes('redis')) {
} else if (REDIS_SUBSCRIBERS > 0 && (await redisAnswers())) {
	// Each storm gets keys of its own, deleted at the end.
	const prefixes: string[] = []
	const nodes = async (count: number) => {
		const prefix = `sluice-bench:storm:${process.pid}:${prefixes.length}`
		prefixes.push(prefix)
		const config = JSON.stringify({ transport: 'redis', redisUrl, prefix, historyFrames: HISTORY_FRAMES })
		const servers: BenchServer[] = []
		try {
			for (let i = 0; i < count; i++) servers.push(await spawnServer(sluiceServer, [config]))
		} catch (error) {
			await Promise.all(servers.map((server) => server.stop()))
			throw error
		}
		return servers
	}
	const same = 'redis, drop and reconnect to the same process'
	try {
		await table(
			`Through Redis: ${REDIS_SUBSCRIBERS} subscribers, ${RATE} events/s, the process holding them killed (kill -9)`,
			[
				{ name: same, servers: () => nodes(1), subscribers: REDIS_SUBSCRIBERS, replay: true },
				{
					name: 'redis, kill -9, reconnect to the other process',
					servers: () => nodes(2),
					subscribers: REDIS_SUBSCRIBERS,
					replay: true,
					kill: true
				}
			],
			[same]
		)
	} finally {
		await deleteKeys(prefixes)
	}
} else console.log(`\nRedis does not answer at ${redisUrl} (or --redis-subscribers 0): the Redis storm is skipped`)

if (failed.length) {
	console.log(`\nstorm: FAILED, not every client ended gapless, duplicate-free and connected:\n  ${failed.join('\n  ')}`)
	process.exit(1)
}
console.log('\nstorm: every client ended gapless, duplicate-free, never cut off, at the last id')
process.exit(0)

async function deleteKeys(prefixes: string[]) {
	const { RedisClient } = await import('bun')
	const client = new RedisClient(redisUrl)
	try {
		for (const p of prefixes) {
			let cursor = '0'
			do {
				const [next, keys] = (await client.send('SCAN', [cursor, 'MATCH', `${p}:*`, 'COUNT', '1000'])) as [string, string[]]
				if (keys.length) await client.send('DEL', keys)
				cursor = next
			} while (cursor !== '0')
		}
	} finally {
		client.close()
	}
}
