// The setup benchmark's server (bench/setup.bench.ts): the floor, the reading floor and Sluice's
// subscribe() in one process, each timed from the inside. Two apps, so that the floor's routes do
// not pay for the plugins: GET / on the first port is the floor, GET /reads the reading floor;
// GET / on the second port is Sluice on one topic, GET /u/:id on a topic per subscriber. The control port answers /ports, /live (streams open) and / (the counters since the last call, and the CPU used).
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { ResponseStream } from '../../src/stream'
import { directSubscriber, type Direct } from './direct-subscriber'

const clients = new Set<Direct>()
/** Nanoseconds spent, and how many times, per part. */
const spent: Record<string, number> = {}
const times: Record<string, number> = {}
const add = (part: string, ns: number) => {
	spent[part] = (spent[part] ?? 0) + ns
	times[part] = (times[part] ?? 0) + 1
}
const clock = Bun.nanoseconds

// The floor's disconnect: its abort listener, timed by wrapping what it calls.
const timedClients = {
	add: (c: Direct) => clients.add(c),
	delete: (c: Direct) => {
		const at = clock()
		const had = clients.delete(c)
		add('floor disconnect', clock() - at)
		return had
	}
} as unknown as Set<Direct>

// The floor's pull: its opening bytes, its client list, its abort listener.
const floorPulled = (ns: number) => add('floor pull', ns)

const floor = new Elysia()
	.get('/', ({ request }) => {
		const at = clock()
		const response = directSubscriber(request, timedClients, undefined, floorPulled)
		add('floor handler', clock() - at)
		return response
	})
	.get('/reads', ({ request, server }) => {
		// What a resumable subscription with a per-address limit reads, each read timed on its own.
		let at = clock()
		const address = server?.requestIP(request)?.address
		let then = clock()
		add('requestIP', then - at)
		at = then
		let lastEventId = request.headers.get('last-event-id')
		then = clock()
		add('first header read', then - at)
		at = then
		const url = request.url
		const q = url.indexOf('?')
		then = clock()
		add('URL', then - at)
		if (lastEventId === null && q !== -1) lastEventId = new URLSearchParams(url.slice(q + 1)).get('lastEventId')
		at = clock()
		const response = directSubscriber(request, timedClients, undefined, floorPulled)
		add('reads handler', clock() - at)
		// Read, so that none of the reads can be left out.
		if (address === undefined && lastEventId === 'never') console.log(address)
		return response
	})
	.listen({ port: 0, hostname: '127.0.0.1', idleTimeout: 0 })

// Sluice's disconnect starts where a stream hears its request's abort.
const heard = ResponseStream.prototype.handleEvent
ResponseStream.prototype.handleEvent = function (this: ResponseStream) {
	const at = clock()
	heard.call(this)
	add('sluice disconnect', clock() - at)
}

// Sluice's pull: the opening bytes written at open go out.
const pull = ResponseStream.prototype.pull
ResponseStream.prototype.pull = function (this: ResponseStream, ctrl: Parameters<typeof pull>[0]) {
	const at = clock()
	const ended = pull.call(this, ctrl)
	add('sluice pull', clock() - at)
	return ended
}

// The default limits are off: every client is on 127.0.0.1.
const sluice = new Elysia()
	// A derive that runs before the plugins' own: from here on is what the plugins cost. (An
	// onRequest hook would make Elysia read every request's URL.)
	.derive({ as: 'global' }, () => {
		started = clock()
		return {}
	})
	.use(streaming({ connections: { maxStreams: 0, maxPerAddress: 0 } }))
	.get('/', ({ subscribe }) => {
		const response = subscribe('bench')
		add('sluice handler', clock() - started)
		return response
	})
	// A topic per subscriber (per-user topics): thousands of topics, one subscriber each.
	.get('/u/:id', ({ subscribe, params }) => {
		const response = subscribe(`user:${params.id}`)
		add('sluice handler', clock() - started)
		return response
	})
	.listen({ port: 0, hostname: '127.0.0.1' })
let started = 0

/** The floor timed the same way, from a derive: Elysia's own work between the hook and the handler. */
const hooked = new Elysia()
	.derive({ as: 'global' }, () => {
		started = clock()
		return {}
	})
	.get('/', ({ request }) => {
		const response = directSubscriber(request, timedClients, undefined, floorPulled)
		add('hooked floor handler', clock() - started)
		return response
	})
	.listen({ port: 0, hostname: '127.0.0.1', idleTimeout: 0 })

const control = Bun.serve({
	port: 0,
	hostname: '127.0.0.1',
	fetch(request) {
		if (new URL(request.url).pathname === '/ports')
			return Response.json({ floor: floor.server!.port, sluice: sluice.server!.port, hooked: hooked.server!.port })
		const used = process.cpuUsage()
		const live = clients.size + sluice.decorator.connections.count
		if (new URL(request.url).pathname === '/live') return Response.json(live)
		const perPart: Record<string, number> = {}
		for (const part of Object.keys(spent)) perPart[part] = spent[part]! / times[part]!
		const body = { cpuMs: (used.user + used.system) / 1000, live, ns: perPart, times: { ...times } }
		for (const part of Object.keys(spent)) spent[part] = times[part] = 0
		return Response.json(body)
	}
})
console.log(`PORT ${floor.server!.port} CONTROL ${control.port}`)
process.on('SIGTERM', () => process.exit(0))
