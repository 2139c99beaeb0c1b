// GET /managed-stream: an SSE stream whose every message reports the connection
// manager's live counts. Unlike the seed's tracker, a stream is unregistered
// however it ends, so the counts go down when clients leave.
//
//   bun run examples/managed-stream.ts
//   curl -N http://127.0.0.1:3000/managed-stream
//   curl http://127.0.0.1:3000/connections          (loopback only)
import { Elysia } from 'elysia'
import { streaming, stopOnSignals } from 'sluice'

const port = Number(process.env.PORT ?? 3000)
const hostname = process.env.HOST ?? '127.0.0.1'
const intervalMs = Number(process.env.INTERVAL_MS ?? 1000)
const loopback = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

const app = new Elysia()
	.use(
		streaming({
			connections: {
				maxStreams: 10_000,
				maxPerAddress: 100,
				drain: { graceMs: 5000, retryMs: 2000 },
				routes: {
					// The admin routes show client addresses: only this machine may read them.
					guard: ({ request, server }) => loopback.has(server?.requestIP(request)?.address ?? ''),
					snapshot: '/connections',
					watch: '/connections/watch',
					metrics: '/metrics'
				}
			}
		})
	)
	.get('/managed-stream', ({ sse, connections }) =>
		sse(async (s) => {
			for (let n = 0; ; n++) {
				await s.send(
					'message',
					{
						connection_id: s.stream.id,
						message: `Managed message ${n}`,
						active_connections: connections.counts().byRoute['/managed-stream'] ?? 0,
						all_streams: connections.count,
						timestamp: new Date().toISOString()
					},
					{ id: n }
				)
				await s.sleep(intervalMs)
			}
		})
	)
	.listen({ port, hostname })

stopOnSignals(app)
const url = `http://${hostname}:${app.server!.port}`
// One write: a reader of stdout (the tests) sees every line together.
console.log([
	`managed stream on ${url}/managed-stream`,
	`try: curl -N ${url}/managed-stream   (counts: curl ${url}/connections)`
].join('\n'))
