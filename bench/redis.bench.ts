// Cross-process broadcast through Redis beside the same in one process.
// 1,000 SSE subscribers over raw sockets, 1,000 events/s (then 100/s) for a few seconds,
// latency from publish() on one process to receipt by a subscriber (of
// another process, when there are two). Needs a Redis at REDIS_URL.
//   bun run bench redis          (BENCH_SECONDS, BENCH_RATE, BENCH_SUBSCRIBERS to change)
import { resolve } from 'node:path'
import { printTable, type Row } from './support/table'
import { redisAnswers, redisUrl } from '../test/support/services'
import { freePort } from '../test/support/example'

const seconds = Number(process.env.BENCH_SECONDS ?? 3)
const rate = Number(process.env.BENCH_RATE ?? 1000)
const subscribers = Number(process.env.BENCH_SUBSCRIBERS ?? 1000)
const fewSubscribers = 10 // few enough that the CPU is idle: what remains is the Redis hop
const pad = 150 // a frame of about 200 bytes
const sampledPerNode = 25 // sockets whose frames are parsed for latency; the rest only count

if (!(await redisAnswers())) {
	console.log(`Redis does not answer at ${redisUrl}; skipping the redis benchmark`)
	process.exit(0)
}

interface Node {
	url: string
	port: number
	stop(): Promise<void>
}

async function startNode(env: Record<string, string>): Promise<Node> {
	const port = freePort()
	const proc = Bun.spawn(['bun', 'run', resolve(import.meta.dir, 'support/broadcast-node.ts')], {
		env: { ...process.env, ...env, PORT: String(port) },
		stdout: 'ignore',
		stderr: 'inherit'
	})
	const url = `http://127.0.0.1:${port}`
	for (let i = 0; ; i++) {
		try {
			if ((await fetch(`${url}/count`)).ok) break
		} catch {}
		if (i > 200) throw new Error('bench node did not start')
		await Bun.sleep(25)
	}
	return { url, port, stop: async () => (proc.kill(), void (await proc.exited)) }
}

const now = () => performance.timeOrigin + performance.now()
const NL2 = Buffer.from('\n\n')

/** Opens `count` raw SSE subscribers on `node`; `sampled` of them parse each frame's stamp. */
async function subscribe(node: Node, count: number, sampled: number, latencies: number[], frames: { n: number }) {
	const request = `GET /sub HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\nAccept: text/event-stream\r\n\r\n`
	const sockets = []
	for (let i = 0; i < count; i++) {
		const measured = i < sampled
		sockets.push(
			await Bun.connect({
				hostname: '127.0.0.1',
				port: node.port,
				socket: {
					data(_socket, chunk: Buffer) {
						const at = now()
						for (let i = chunk.indexOf(NL2); i !== -1; i = chunk.indexOf(NL2, i + 2)) frames.n++
						if (!measured) return
						const text = chunk.toString('latin1')
						for (let j = text.indexOf('"t":'); j !== -1; j = text.indexOf('"t":', j + 4))
							latencies.push(at - Number.parseFloat(text.slice(j + 4, j + 30)))
					},
					open(socket) {
						socket.write(request)
					}
				}
			})
		)
	}
	for (;;) {
		if (Number(await (await fetch(`${node.url}/count`)).text()) >= count) break
		await Bun.sleep(25)
	}
	return sockets
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN

async function scenario(
	name: string,
	transport: 'raw' | 'memory' | 'redis',
	processes: number,
	subscribers: number,
	rate: number
): Promise<Row> {
	const env = { TRANSPORT: transport, REDIS_URL: redisUrl, PREFIX: `sluice-bench:${process.pid}:${name}` }
	const nodes = await Promise.all(Array.from({ length: processes }, () => startNode(env)))
	const latencies: number[] = []
	const frames = { n: 0 }
	const share = Math.floor(subscribers / processes)
	const sampled = Math.min(share, sampledPerNode)
	const sockets = (
		await Promise.all(nodes.map((node) => subscribe(node, share, sampled, latencies, frames)))
	).flat()
	await Bun.sleep(300)
	const framesBefore = frames.n
	latencies.length = 0
	const cpu = async () => (await Promise.all(nodes.map(async (n) => Number(await (await fetch(`${n.url}/cpu`)).text())))).reduce((a, b) => a + b)
	const serverCpuBefore = await cpu()
	const clientCpuBefore = process.cpuUsage()
	const startedAt = performance.now()
	// The publisher is the first process; with two, half the subscribers are on the other.
	const run = (await (
		await fetch(`${nodes[0]!.url}/run`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ rate, seconds, pad })
		})
	).json()) as { sent: number; failed: number; seconds: number }
	await Bun.sleep(500)
	const elapsed = performance.now() - startedAt
	const serverCpu = (await cpu()) - serverCpuBefore
	const clientCpu = process.cpuUsage(clientCpuBefore)
	const delivered = frames.n - framesBefore
	for (const s of sockets) s.end()
	await Promise.all(nodes.map((n) => n.stop()))
	if (transport === 'redis') {
		const { RedisClient } = await import('bun')
		const client = new RedisClient(redisUrl)
		let cursor = '0'
		do {
			const [next, keys] = await client.send('SCAN', [cursor, 'MATCH', `${env.PREFIX}:*`, 'COUNT', '1000'])
			if (keys.length) await client.send('DEL', keys)
			cursor = next
		} while (cursor !== '0')
		client.close()
	}
	const sorted = latencies.sort((a, b) => a - b)
	return {
		name,
		values: {
			'events/s published': run.sent / run.seconds,
			'deliveries/s': delivered / run.seconds,
			'lost deliveries': run.sent * share * processes - delivered,
			'p50 ms': percentile(sorted, 0.5),
			'p99 ms': percentile(sorted, 0.99),
			'max ms': sorted.at(-1) ?? NaN,
			// Share of one core over the run: above 100 for servers means both cores were busy.
			'server CPU %': (100 * serverCpu) / elapsed,
			'client CPU %': (100 * (clientCpu.user + clientCpu.system)) / 1000 / elapsed
		}
	}
}

const scenarios = [
	// What the machine allows: a hand-written fan-out, no framework, no Redis.
	['raw Bun.serve, 1 process', 'raw', 1],
	['memory, 1 process', 'memory', 1],
	['redis, 1 process', 'redis', 1],
	['redis, 2 processes', 'redis', 2]
] as const
// The target load; the same subscribers at a tenth of the rate (a machine that is not
// saturated); then fewer subscribers, where what remains is the Redis hop.
const loads = [
	[subscribers, rate],
	[subscribers, Math.round(rate / 10)],
	[100, rate],
	[fewSubscribers, rate]
] as const
for (const [count, rate] of loads) {
	const rows: Row[] = []
	for (const [name, transport, processes] of scenarios) rows.push(await scenario(name, transport, processes, count, rate))
	printTable(
		`Broadcast through Redis: ${count.toLocaleString('en-US')} subscribers, ${rate.toLocaleString('en-US')} events/s for ${seconds} s, ~200-byte frames`,
		rows,
		'p50 ms',
		['raw Bun.serve, 1 process', 'memory, 1 process']
	)
	const p50 = (name: string) => rows.find((r) => r.name === name)!.values['p50 ms'] as number
	const hop = p50('redis, 2 processes') - p50('memory, 1 process')
	console.log(`\nRedis hop at p50 (redis, 2 processes minus memory, 1 process): ${hop.toFixed(2)} ms`)
}
