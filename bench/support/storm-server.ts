// A Sluice server for bench/storm.bench.ts: SSE subscribers of one topic on GET /sub
// (a reconnecting client's Last-Event-ID gets the history replayed), and the storm
// control port (publisher, history fill, stats).
// `bun run storm-server.ts '<json>'`: { transport: 'memory' | 'redis', historyBytes,
// historyFrames, redisUrl, prefix }.
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { memory } from '../../src/hub'
import { redis } from '../../src/hub/redis'
import { serveStormControl } from './storm-control'

const config = JSON.parse(process.argv[2] ?? '{}') as {
	transport?: 'memory' | 'redis'
	historyBytes?: number
	historyFrames?: number
	redisUrl?: string
	prefix?: string
}
const TOPIC = 'storm'
const transport =
	config.transport === 'redis'
		? redis({ url: config.redisUrl, prefix: config.prefix, history: { maxFrames: config.historyFrames } })
		: memory({ history: { maxBytes: config.historyBytes, maxFrames: config.historyFrames } })
if ('ready' in transport) await (transport as ReturnType<typeof redis>).ready()

const app = new Elysia()
	// Thousands of clients come from 127.0.0.1: no per-address limit in the way.
	.use(streaming({ transport, connections: { maxStreams: 100_000, maxPerAddress: 100_000 } }))
	// A retry hint, as examples/broadcast.ts sends: the opening frame a replay follows.
	.get('/sub', ({ subscribe }) => subscribe(TOPIC, { retryMs: 2000 }))
	.listen({ port: 0, hostname: '127.0.0.1' })

const hub = app.decorator.broadcast
const control = serveStormControl({
	publish: async (data) => {
		const frame = await hub.publish(TOPIC, 'tick', data)
		return { id: frame.id, bytes: frame.bytes.byteLength }
	},
	subscribers: () => hub.count(TOPIC),
	streams: () => app.decorator.connections.count
})
console.log(`PORT ${app.server!.port} CONTROL ${control}`)
process.on('SIGTERM', () => process.exit(0))
