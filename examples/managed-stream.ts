// GET /managed-stream: an SSE stream whose every message reports the connection
// manager's live counts. Unlike the seed's tracker, a stream is unregistered
// however it ends, so the counts go down when clients leave.
//
//   bun run examples/managed-stream.ts
//   curl -N http://127.0.0.1:3000/managed-stream
//   curl -H "Authorization: Bearer $ADMIN_TOKEN" http://127.0.0.1:3000/connections
//   open http://127.0.0.1:3000/_sluice?token=$ADMIN_TOKEN   (the live dashboard)
//
// ADMIN_TOKEN guards /connections, /connections/watch, /metrics and the dashboard (one is made
// and printed when it is unset). TRUST_PROXY (comma-separated addresses or
// ranges, e.g. 127.0.0.1) names the proxies whose X-Forwarded-For is believed.
import { Elysia } from 'elysia'
import { streaming, stopOnSignals } from 'sluice'
import { adminToken } from './support/admin'

const port = Number(process.env.PORT ?? 3000)
const hostname = process.env.HOST ?? '127.0.0.1'
const intervalMs = Number(process.env.INTERVAL_MS ?? 1000)
const admin = adminToken()

const app = new Elysia()
	.use(
		streaming({
			connections: {
				// maxStreams and maxPerAddress keep their defaults (docs/production.md).
				trustProxy: process.env.TRUST_PROXY?.split(',').filter(Boolean),
				drain: { graceMs: 5000, retryMs: 2000 },
				routes: {
					// The admin routes show client addresses: only the token's holder may read them.
					guard: ({ request }) => admin.refusal(request) ?? true,
					snapshot: '/connections',
					watch: '/connections/watch',
					metrics: '/metrics',
					dashboard: '/_sluice'
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
	`try: curl -N ${url}/managed-stream   (counts: curl -H "Authorization: Bearer <token>" ${url}/connections)`,
	`dashboard: ${admin.dashboardUrl(`${url}/_sluice`)}`,
	admin.hint
].join('\n'))
