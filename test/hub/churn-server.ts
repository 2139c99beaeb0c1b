// The server side of the churn test, in its own process so that its RSS is its own.
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'

// 2,000 subscribers a wave, all from 127.0.0.1: the default per-address limit is off.
const app = new Elysia().use(streaming({ connections: { maxPerAddress: 0 } }))
app

	.get('/feed', ({ subscribe }) => subscribe('feed', { last: 1 }))
	.post('/publish', async ({ broadcast }) => (await broadcast.publish('feed', 'tick', { at: Date.now() })).id)
	.get('/stats', (): Record<string, number> => {
		Bun.gc(true)
		return {
			rss: process.memoryUsage().rss,
			subscribers: app.decorator.broadcast.count('feed'),
			topics: Object.keys(app.decorator.broadcast.counts()).length,
			connections: app.decorator.connections.count
		}
	})
	.listen({ port: 0, hostname: '127.0.0.1' })
console.log(`listening on 127.0.0.1:${app.server!.port}`)
process.on('SIGTERM', () => process.exit(0))
