// The baseline of bench/redis.bench.ts: the same routes as broadcast-node.ts on a
// hand-written Bun.serve fan-out (direct streams, one write per subscriber per
// event, no framework), to show what this machine allows at the same load.
import { directSubscriber, type Direct } from './direct-subscriber'

const port = Number(process.env.PORT)
const now = () => performance.timeOrigin + performance.now()
const utf8 = new TextEncoder()

const clients = new Set<Direct>()
let id = 0

Bun.serve({
	port,
	hostname: '127.0.0.1',
	idleTimeout: 0,
	async fetch(request) {
		const { pathname } = new URL(request.url)
		if (pathname === '/sub') return directSubscriber(request, clients)
		if (pathname === '/count') return new Response(String(clients.size))
		if (pathname === '/cpu') {
			const { user, system } = process.cpuUsage()
			return new Response(String((user + system) / 1000))
		}
		if (pathname === '/run') {
			const { rate, seconds, pad } = (await request.json()) as { rate: number; seconds: number; pad: number }
			const padding = 'x'.repeat(pad)
			const total = Math.round(rate * seconds)
			const start = performance.now()
			let sent = 0
			while (sent < total) {
				const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1)
				for (; sent < due; sent++) {
					const frame = utf8.encode(`id: ${++id}\nevent: tick\ndata: ${JSON.stringify({ t: now(), pad: padding })}\n\n`)
					for (const c of clients) c.write(frame)
				}
				await Bun.sleep(1)
			}
			return Response.json({ sent, failed: 0, seconds: (performance.now() - start) / 1000 })
		}
		return new Response('not found', { status: 404 })
	}
})
console.log(`listening on http://127.0.0.1:${port}`)
process.on('SIGTERM', () => process.exit(0))
