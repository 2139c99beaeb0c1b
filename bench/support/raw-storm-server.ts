// The floor of bench/storm.bench.ts: the same routes on a hand-written Bun.serve (direct
// streams, an array of encoded frames as history, the frames after Last-Event-ID joined
// into one write), no framework. `bun run raw-storm-server.ts '<json>'`: { historyFrames }.
import { directSubscriber, type Direct } from './direct-subscriber'
import { serveStormControl } from './storm-control'

const { historyFrames = 1000 } = JSON.parse(process.argv[2] ?? '{}') as { historyFrames?: number }
const utf8 = new TextEncoder()
const clients = new Set<Direct>()
const history: Uint8Array[] = []
let firstId = 1
let lastId = 0

/** The frames after `after` (all held when it is older than the history), joined. */
function replay(after: number): Uint8Array | undefined {
	const from = Math.max(0, after + 1 - firstId)
	const frames = history.slice(from)
	if (frames.length === 0) return undefined
	const out = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0))
	let at = 0
	for (const f of frames) {
		out.set(f, at)
		at += f.byteLength
	}
	return out
}

const server = Bun.serve({
	port: 0,
	hostname: '127.0.0.1',
	idleTimeout: 0,
	fetch(request) {
		if (new URL(request.url).pathname !== '/sub') return new Response('not found', { status: 404 })
		const after = Number(request.headers.get('last-event-id') ?? NaN)
		return directSubscriber(request, clients, Number.isInteger(after) ? () => replay(after) : undefined)
	}
})

const control = serveStormControl({
	publish: async (data) => {
		const frame = utf8.encode(`id: ${++lastId}\nevent: tick\ndata: ${data}\n\n`)
		history.push(frame)
		if (history.length > historyFrames) (history.shift(), firstId++)
		for (const c of clients) c.write(frame)
		return { id: String(lastId), bytes: frame.byteLength }
	},
	subscribers: () => clients.size,
	streams: () => clients.size
})
console.log(`PORT ${server.port} CONTROL ${control}`)
process.on('SIGTERM', () => process.exit(0))
