// The fan-out benchmark's servers, one per process: `bun run fanout-servers.ts <kind>`.
// Each serves GET / as an SSE subscription to one broadcast; a control server on a
// second port publishes on demand and reports how many subscribers it still holds.
import { heapStats } from 'bun:jsc'
import { Elysia, sse } from 'elysia'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { streaming } from '../../plugins'
import { directSubscriber, type Direct } from './direct-subscriber'

const kind = process.argv[2] ?? 'sluice'
const utf8 = new TextEncoder()
const now = () => performance.timeOrigin + performance.now()
const pad = 'x'.repeat(200)
/** A 200-byte JSON event carrying its sequence number and the time it was published. */
const event = (seq: number) => {
	const head = `{"seq":${seq},"t":${now().toFixed(3)},"pad":"`
	return head + pad.slice(0, 200 - head.length - 2) + '"}'
}

/** A per-client queue with a waiting reader: what a generator or a writeSSE loop needs. */
class Queue {
	items: string[] = []
	wake: (() => void) | undefined
	push(item: string) {
		this.items.push(item)
		this.wake?.()
	}
	async next(): Promise<string> {
		while (this.items.length === 0) await new Promise<void>((resolve) => (this.wake = resolve))
		this.wake = undefined
		return this.items.shift()!
	}
}

interface Contender {
	port: number
	/** Publishes one event to every subscriber. */
	publish(data: string): void
	subscribers(): number
}

function directContender(port: number, clients: Set<Direct>): Contender {
	return {
		port,
		publish(data) {
			const bytes = utf8.encode(`data: ${data}\n\n`)
			for (const c of clients) c.write(bytes)
		},
		subscribers: () => clients.size
	}
}

function rawBun(): Contender {
	const clients = new Set<Direct>()
	const server = Bun.serve({
		port: 0,
		hostname: '127.0.0.1',
		idleTimeout: 0,
		fetch: (request) => directSubscriber(request, clients)
	})
	return directContender(server.port as number, clients)
}

/** The floor of any Elysia plugin: the same hand-written stream, returned from an Elysia route. */
function elysiaDirect(): Contender {
	const clients = new Set<Direct>()
	const app = new Elysia().get('/', ({ request }) => directSubscriber(request, clients))
	app.listen({ port: 0, hostname: '127.0.0.1', idleTimeout: 0 })
	return directContender(app.server!.port as number, clients)
}

/**
 * The floor that reads what a resumable, per-address limited subscription must read of its
 * request: the peer's address, the Last-Event-ID header and the query (Bun's price for each
 * first read, paid before any code of a plugin's own runs).
 */
function elysiaDirectReads(): Contender {
	const clients = new Set<Direct>()
	let reads = 0
	const app = new Elysia().get('/', ({ request, server }) => {
		const address = server?.requestIP(request)?.address
		const url = request.url
		const q = url.indexOf('?')
		// The query is parsed only when there is one, as Sluice's lastEventIdOf does.
		const lastEventId = request.headers.get('last-event-id') ?? (q === -1 ? null : new URLSearchParams(url.slice(q + 1)).get('lastEventId'))
		if (address && lastEventId === null) reads++
		return directSubscriber(request, clients)
	})
	app.listen({ port: 0, hostname: '127.0.0.1', idleTimeout: 0 })
	return directContender(app.server!.port as number, clients)
}

/** The floor with streaming() on the app: what the plugins cost a stream they do not serve. */
function elysiaDirectPlugins(): Contender {
	const clients = new Set<Direct>()
	const app = new Elysia()
		.use(streaming({ connections: { maxStreams: 0, maxPerAddress: 0 } }))
		.get('/', ({ request }) => directSubscriber(request, clients))
	app.listen({ port: 0, hostname: '127.0.0.1', idleTimeout: 0 })
	return directContender(app.server!.port as number, clients)
}

function sluice(): Contender {
	// Every subscriber is on 127.0.0.1 and there may be 10,000: the default limits are off.
	const app = new Elysia().use(streaming({ connections: { maxStreams: 0, maxPerAddress: 0 } })).get('/', ({ subscribe }) => subscribe('bench'))
	app.listen({ port: 0, hostname: '127.0.0.1' })
	const hub = app.decorator.broadcast
	return {
		port: app.server!.port as number,
		publish: (data) => void hub.publish('bench', 'message', data),
		subscribers: () => hub.count('bench')
	}
}

/** Each client reads topics t0..t4: over one stream of many topics (GET /), or one stream per topic (GET /t/:i). */
function sluiceTopics(): () => Contender {
	return () => {
		const topics = ['t0', 't1', 't2', 't3', 't4']
		const app = new Elysia()
			.use(streaming({ connections: { maxStreams: 0, maxPerAddress: 0 } }))
			.get('/', ({ subscribe }) => subscribe(topics))
			.get('/t/:i', ({ subscribe, params }) => subscribe(topics[Number(params.i)]!))
		app.listen({ port: 0, hostname: '127.0.0.1' })
		const hub = app.decorator.broadcast
		let n = 0
		return {
			port: app.server!.port as number,
			publish: (data) => void hub.publish(topics[n++ % topics.length]!, 'message', data),
			// One per client either way: a stream of many topics, or the client's stream of t0.
			subscribers: () => hub.count('t0')
		}
	}
}

function sluiceBare(): Contender {
	const { Hub } = require('../../src/hub')
	const { ResponseStream } = require('../../src/stream')
	const hub = new Hub()
	const server = Bun.serve({
		port: 0,
		hostname: '127.0.0.1',
		fetch(request, server) {
			const stream = new ResponseStream({ request, server, contentType: 'text/event-stream' })
			stream.write(': open\n\n')
			hub.subscribe(stream, 'bench')
			return stream.response
		}
	})
	return {
		port: server.port as number,
		publish: (data) => void hub.publish('bench', 'message', data),
		subscribers: () => hub.count('bench')
	}
}

function elysiaGenerator(): Contender {
	const clients = new Set<Queue>()
	const app = new Elysia().get('/', async function* () {
		const queue = new Queue()
		clients.add(queue)
		try {
			// Elysia sends the headers with the first yield.
			yield sse({ event: 'open', data: 'open' })
			for (;;) yield sse({ data: await queue.next() })
		} finally {
			clients.delete(queue)
		}
	})
	app.listen({ port: 0, hostname: '127.0.0.1', idleTimeout: 0 })
	return {
		port: app.server!.port as number,
		publish: (data) => {
			for (const q of clients) q.push(data)
		},
		subscribers: () => clients.size
	}
}

function hono(): Contender {
	const clients = new Set<Queue>()
	const app = new Hono().get('/', (c) =>
		streamSSE(c, async (stream) => {
			const queue = new Queue()
			clients.add(queue)
			stream.onAbort(() => void clients.delete(queue))
			await stream.writeSSE({ event: 'open', data: 'open' })
			while (!stream.aborted) await stream.writeSSE({ data: await queue.next() })
		})
	)
	const server = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, fetch: app.fetch })
	return {
		port: server.port as number,
		publish: (data) => {
			for (const q of clients) q.push(data)
		},
		subscribers: () => clients.size
	}
}

/**
 * Objects and bytes on the JS heap by type, from a heap snapshot (heapStats() has counts only,
 * and counts instances of our classes as Object; the snapshot names them).
 */
function byType(): { types: Record<string, number>; sizes: Record<string, number> } {
	const snapshot = Bun.generateHeapSnapshot() as unknown as { nodes: number[]; nodeClassNames: string[] }
	// JSC's snapshot: each node is [id, size, class name index, flags].
	const types: Record<string, number> = {}
	const sizes: Record<string, number> = {}
	const { nodes, nodeClassNames } = snapshot
	for (let i = 0; i < nodes.length; i += 4) {
		const name = nodeClassNames[nodes[i + 2]!]!
		types[name] = (types[name] ?? 0) + 1
		sizes[name] = (sizes[name] ?? 0) + nodes[i + 1]!
	}
	return { types, sizes }
}

const contenders: Record<string, () => Contender> = {
	raw: rawBun,
	'elysia-raw': elysiaDirect,
	'elysia-raw-plugins': elysiaDirectPlugins,
	'elysia-raw-reads': elysiaDirectReads,
	sluice,
	bare: sluiceBare,
	elysia: elysiaGenerator,
	hono,
	topics: sluiceTopics(),
	'topic-streams': sluiceTopics()
}
const contender = contenders[kind]!()

/**
 * Control: POST /run?events=E&burst=B&paceMs=P publishes E events, B per tick
 * (one tick apart, or P ms apart), and answers when it has published them all.
 */
const control = Bun.serve({
	port: 0,
	hostname: '127.0.0.1',
	idleTimeout: 0,
	async fetch(request) {
		const url = new URL(request.url)
		if (url.pathname === '/stats') {
			// Twice: the first collection's finalizers free more for the second.
			Bun.gc(true)
			Bun.gc(true)
			const heap = heapStats()
			return Response.json({
				subscribers: contender.subscribers(),
				rss: process.memoryUsage().rss,
				heap: heap.heapSize,
				capacity: heap.heapCapacity,
				extra: heap.extraMemorySize,
				// By type (the breakdown): only when asked, the list is long.
				...(url.searchParams.has('types') ? byType() : {})
			})
		}
		if (url.pathname === '/cpu') {
			const used = process.cpuUsage()
			return Response.json({ cpuMs: (used.user + used.system) / 1000, userMs: used.user / 1000 })
		}
		const events = Number(url.searchParams.get('events') ?? 100)
		const burst = Number(url.searchParams.get('burst') ?? 1)
		const paceMs = Number(url.searchParams.get('paceMs') ?? 0)
		let seq = 0
		const cpu = process.cpuUsage()
		const started = performance.now()
		while (seq < events) {
			for (let b = 0; b < burst && seq < events; b++) contender.publish(event(seq++))
			await (paceMs > 0 ? Bun.sleep(paceMs) : new Promise((resolve) => setImmediate(resolve)))
		}
		// Server CPU until the subscribers' sockets have taken everything is read with /stats.
		const used = process.cpuUsage(cpu)
		return Response.json({ published: seq, cpuMs: (used.user + used.system) / 1000, ms: performance.now() - started })
	}
})
console.log(`PORT ${contender.port} CONTROL ${control.port}`)
process.on('SIGTERM', () => process.exit(0))
