// The server side of the replay memory test, in its own process so that its RSS is its own.
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'

const app = new Elysia()
	.use(streaming({ connections: { maxPerAddress: 0 } })) // every client is 127.0.0.1
	.get('/feed', ({ subscribe }) => subscribe('feed', { heartbeatMs: 0 }))
	// Fills the topic's history: `count` frames of `size` characters.
	.post('/fill/:count/:size', async ({ broadcast, params }) => {
		let id = ''
		for (let i = 0; i < Number(params.count); i++) id = (await broadcast.publish('feed', 'tick', 'x'.repeat(Number(params.size)))).id
		return id
	})
	.get('/stats', (): Record<string, number> => {
		Bun.gc(true)
		return { rss: process.memoryUsage().rss, subscribers: app.decorator.broadcast.count('feed') }
	})
	.listen({ port: 0, hostname: '127.0.0.1' })
console.log(`listening on 127.0.0.1:${app.server!.port}`)
process.on('SIGTERM', () => process.exit(0))
