// The connection manager's cost and its drain, on loopback, bounded in count and time.
//  1. Churn: short SSE streams (open, one event, end) per second, with every stream
//     registered, counted and checked against the limits, beside raw Bun.serve and
//     Elysia's own generator stream, measured in the same run.
//  2. Registry: the manager's own cost per stream (admit, add, count, close), in process.
//  3. Drain: how long app.stop() takes with N SSE clients connected (raw sockets),
//     and how many got their last frame; Elysia's own stop() beside it.
import { Elysia, sse as elysiaSse } from 'elysia'
import { streaming, ResponseStream } from '../plugins'
import { sseStream } from '../src/sse'
import { ConnectionRegistry } from '../src/connections'
import { streamContext } from '../plugins/stream-context'
import { printTable, type Row } from './support/table'

const CHURN_STREAMS = Number(process.env.CHURN_STREAMS ?? 5_000)
const CHURN_CONCURRENCY = 32
const DRAIN_SIZES = (process.env.DRAIN_SIZES ?? '1000,5000').split(',').map(Number)
const FRAME = 'data: {"hello":"world"}\n\n'

type Server = { port: number; stop(): Promise<unknown> }

function rawBun(): Server {
	const server = Bun.serve({
		port: 0,
		hostname: '127.0.0.1',
		fetch: () =>
			new Response(
				new ReadableStream({
					type: 'direct',
					pull(ctrl) {
						ctrl.write(FRAME)
						ctrl.close()
					}
				}),
				{ headers: { 'content-type': 'text/event-stream' } }
			)
	})
	return { port: server.port as number, stop: () => server.stop(true) }
}

function elysiaGenerator(): Server {
	const app = new Elysia()
		.get('/s', function* () {
			yield elysiaSse({ data: { hello: 'world' } })
		})
		.listen({ port: 0, hostname: '127.0.0.1' })
	return { port: app.server!.port as number, stop: () => app.stop(true) }
}

function sluice(): Server {
	const app = new Elysia()
		.use(streaming({ connections: { maxStreams: 100_000, maxPerAddress: 100_000 } }))
		.get('/s', ({ sse }) => sse([{ data: { hello: 'world' } }]))
		.listen({ port: 0, hostname: '127.0.0.1' })
	return { port: app.server!.port as number, stop: () => app.stop(true) }
}

// The same SSE core, with no connection manager: what registration, counting and limits cost.
function sluiceUnmanaged(): Server {
	const app = new Elysia()
		.get('/s', ({ request, server }) => sseStream({ request, server }, [{ data: { hello: 'world' } }]).response)
		.listen({ port: 0, hostname: '127.0.0.1' })
	return { port: app.server!.port as number, stop: () => app.stop(true) }
}

// The SSE core with the manager, through streamContext(), but no global derive: the manager's
// end-to-end cost without Elysia's context inference being turned off (see README).
function sluiceManagedNoDerive(): Server {
	const registry = new ConnectionRegistry({ maxStreams: 100_000, maxPerAddress: 100_000 })
	const app = new Elysia()
		.get('/s', ({ request, server, route }) => {
			const ctx = streamContext({ request, server, route }, registry, 'sse')
			return ctx.admit() ?? sseStream(ctx, [{ data: { hello: 'world' } }]).response
		})
		.listen({ port: 0, hostname: '127.0.0.1' })
	return { port: app.server!.port as number, stop: () => app.stop(true) }
}

async function churn(server: Server): Promise<number> {
	const url = `http://127.0.0.1:${server.port}/s`
	let left = CHURN_STREAMS
	const worker = async () => {
		while (left-- > 0) {
			const body = await (await fetch(url)).text()
			if (!body.includes('hello')) throw new Error(`unexpected body: ${body}`)
		}
	}
	const t = performance.now()
	await Promise.all(Array.from({ length: CHURN_CONCURRENCY }, worker))
	return CHURN_STREAMS / ((performance.now() - t) / 1000)
}

/** Opens `n` SSE clients on raw sockets; resolves once each has its response head. */
async function holdClients(port: number, n: number) {
	const received: string[] = Array(n).fill('')
	let ready = 0
	const sockets: Bun.Socket[] = []
	let resolveReady: () => void = () => {}
	const allReady = new Promise<void>((r) => (resolveReady = r))
	for (let i = 0; i < n; i++) {
		const socket = await Bun.connect({
			hostname: '127.0.0.1',
			port,
			socket: {
				data(_s, chunk) {
					const before = received[i]!
					received[i] += chunk.toString()
					if (!before.includes('\r\n\r\n') && received[i]!.includes('\r\n\r\n') && ++ready === n) resolveReady()
				},
				error() {}
			}
		})
		socket.write(`GET /s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
		sockets.push(socket)
	}
	await allReady
	return { received, close: () => sockets.forEach((s) => s.end()) }
}

async function drainRow(n: number, withDrain: boolean): Promise<Row> {
	const app = new Elysia()
		// Every client is on 127.0.0.1 and n may pass the default limits: they are off.
		.use(streaming({ connections: { maxStreams: 0, maxPerAddress: 0, drain: withDrain ? { graceMs: 5000 } : false } }))
		.get('/s', ({ sse }) => sse(async (s) => s.sleep(600_000)))
		.listen({ port: 0, hostname: '127.0.0.1' })
	const clients = await holdClients(app.server!.port as number, n)
	const server = app.server!
	const t = performance.now()
	const outcome = await Promise.race([app.stop().then(() => 'stopped'), Bun.sleep(3000).then(() => 'waiting')])
	const ms = performance.now() - t
	if (outcome === 'waiting') server.stop(true)
	await Bun.sleep(100)
	const told = clients.received.filter((r) => r.includes('event: shutdown')).length
	clients.close()
	return {
		name: withDrain ? `sluice drain, ${n} clients` : `Elysia stop(), ${n} clients`,
		values: {
			'stop() ms': outcome === 'stopped' ? ms : 'never (> 3,000)',
			'clients told why': String(told),
			'open after': String(app.decorator.connections.count)
		}
	}
}

// The machine is shared: rounds interleave the contenders, and each keeps its best round.
const contenders = [
	['raw Bun.serve', rawBun],
	['Elysia generator', elysiaGenerator],
	['sluice core, no manager', sluiceUnmanaged],
	['sluice core + manager, no derive', sluiceManagedNoDerive],
	['sluice sse() + manager', sluice]
] as const
const best = new Map<string, number>()
for (let round = 0; round < 3; round++)
	for (const [name, make] of contenders) {
		const server = make()
		await churn(server) // warm-up
		best.set(name, Math.max(best.get(name) ?? 0, await churn(server)))
		await server.stop()
	}
const rows: Row[] = contenders.map(([name]) => ({ name, values: { 'streams/s': best.get(name)! } }))
printTable(`Churn: ${CHURN_STREAMS.toLocaleString('en-US')} short SSE streams, ${CHURN_CONCURRENCY} at a time (best of 3 rounds)`, rows, 'streams/s', [
	'raw Bun.serve',
	'Elysia generator'
])

/** Microseconds per stream to create and close a ResponseStream, with or without the registry. */
function perStream(withRegistry: boolean, n = 200_000): number {
	const registry = new ConnectionRegistry({ maxStreams: 1e9, maxPerAddress: 1e9 })
	const t = performance.now()
	for (let i = 0; i < n; i++) {
		const stream = new ResponseStream({ contentType: 'text/event-stream', heartbeatMs: 0, stallTimeoutMs: 0 })
		if (withRegistry) {
			if (registry.admit('127.0.0.1', 'sse')) throw new Error('refused')
			registry.add(stream, { kind: 'sse', route: '/s', topics: ['t'], address: '127.0.0.1', userAgent: 'bench' })
		}
		stream.close('done')
	}
	if (registry.count !== 0) throw new Error('streams left registered')
	return ((performance.now() - t) * 1000) / n
}
const micro = { bare: Infinity, managed: Infinity }
for (let round = 0; round < 5; round++) {
	micro.bare = Math.min(micro.bare, perStream(false))
	micro.managed = Math.min(micro.managed, perStream(true))
}
printTable(
	'Registry: µs per stream (create + close), best of 5 rounds of 200,000',
	[
		{ name: 'ResponseStream alone', values: { 'µs/stream': micro.bare } },
		{ name: '+ admit, register, count, unregister', values: { 'µs/stream': micro.managed } }
	],
	'µs/stream',
	['ResponseStream alone']
)

const drains: Row[] = []
for (const n of DRAIN_SIZES) drains.push(await drainRow(n, true))
drains.push(await drainRow(DRAIN_SIZES[0]!, false))
printTable('Drain: app.stop() with SSE clients connected', drains, 'stop() ms', [])
process.exit(0)
