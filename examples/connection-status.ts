// GET /stream/status: a status stream (ten updates, one every two seconds, as
// in the seed) of the connection manager's live counts. Clients that leave
// are unregistered at once, so active_connections goes down as well as up.
//
//   bun run examples/connection-status.ts
//   curl -N http://127.0.0.1:3000/stream/status
import { Elysia } from 'elysia'
import { streaming, stopOnSignals } from 'sluice'

const port = Number(process.env.PORT ?? 3000)
const hostname = process.env.HOST ?? '127.0.0.1'
const intervalMs = Number(process.env.INTERVAL_MS ?? 2000)
const updates = Number(process.env.UPDATES ?? 10)

const app = new Elysia()
	.use(streaming({ connections: { drain: { graceMs: 5000 } } }))
	.get('/stream/status', ({ sse, connections }) =>
		sse(async function* (s) {
			for (let update = 1; update <= updates; update++) {
				yield {
					event: 'status',
					id: update,
					data: {
						connection_id: s.stream.id,
						timestamp: new Date().toISOString(),
						active_connections: connections.count,
						total_connections: connections.opened,
						by_route: connections.counts().byRoute,
						update_number: update
					}
				}
				if (update < updates) await s.sleep(intervalMs)
			}
		})
	)
	.listen({ port, hostname })

stopOnSignals(app)
const url = `http://${hostname}:${app.server!.port}`
// One write: a reader of stdout (the tests) sees every line together.
console.log([
	`connection status on ${url}/stream/status`,
	`try: curl -N ${url}/stream/status`
].join('\n'))
