// The server side of the descriptor-limit test, in its own process so that it
// can run under `ulimit -n`. CONNECTIONS (JSON) are its connection options.
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'

const app = new Elysia()
	.use(streaming({ connections: JSON.parse(process.env.CONNECTIONS ?? '{}') }))
	.get('/s', ({ sse }) => sse(async (s) => void (await s.sleep(600_000))))
	.get('/ping', () => 'pong')
	.get('/stats', ({ connections }) => ({ streams: connections.count, maxStreams: connections.limits.maxStreams }))
	.listen({ port: 0, hostname: '127.0.0.1' })
console.log(`listening on 127.0.0.1:${app.server!.port}`)
process.on('SIGTERM', () => process.exit(0))
