// A server process for bench/redis.bench.ts: subscribers on GET /sub, a timed
// publisher on POST /run, its local subscriber count on GET /count.
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { memory } from '../../src/hub'
import { redis } from '../../src/hub/redis'

if (process.env.TRANSPORT === 'raw') {
	await import('./raw-broadcast-node')
	await new Promise(() => {}) // serves until killed
}

const transport =
	process.env.TRANSPORT === 'redis' ? redis({ url: process.env.REDIS_URL, prefix: process.env.PREFIX }) : memory()
if ('ready' in transport) await (transport as ReturnType<typeof redis>).ready()
const port = Number(process.env.PORT)
const now = () => performance.timeOrigin + performance.now()

const app = new Elysia()
	// Every subscriber is on 127.0.0.1: the default per-address and total limits are off.
	.use(streaming({ transport, broadcast: { sse: { heartbeatMs: 0 } }, connections: { maxStreams: 0, maxPerAddress: 0 } }))
	.get('/sub', ({ subscribe }) => subscribe('bench'))
	.get('/count', ({ broadcast }) => broadcast.count('bench'))
	// CPU time this process has used, in ms (user + system).
	.get('/cpu', () => {
		const { user, system } = process.cpuUsage()
		return (user + system) / 1000
	})
	.post('/run', async ({ broadcast, body }) => {
		// Publishes `rate` events a second for `seconds`, each stamped with the time
		// publish() was called, without waiting for one publish before the next.
		const { rate, seconds, pad } = body as { rate: number; seconds: number; pad: number }
		const padding = 'x'.repeat(pad)
		const total = Math.round(rate * seconds)
		const start = performance.now()
		const pending: Promise<unknown>[] = []
		let sent = 0
		let failed = 0
		while (sent < total) {
			const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1)
			for (; sent < due; sent++)
				pending.push(broadcast.publish('bench', 'tick', { t: now(), pad: padding }).catch(() => failed++))
			await Bun.sleep(1)
		}
		await Promise.all(pending)
		return { sent, failed, seconds: (performance.now() - start) / 1000 }
	})
	.listen({ port, hostname: '127.0.0.1' })
console.log(`listening on http://127.0.0.1:${port}`)
process.on('SIGTERM', () => process.exit(0))
