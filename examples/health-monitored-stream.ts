// Data every second, and an `event: ping` every 10 seconds so the client can see the link is alive.
import { Elysia } from 'elysia'
import { streaming } from 'sluice'
import { serveExample } from './support/serve'

const PING_INTERVAL_MS = Number(process.env.PING_INTERVAL_MS ?? 10_000)
const DATA_INTERVAL_MS = Number(process.env.DATA_INTERVAL_MS ?? 1_000)

const app = new Elysia()
	.use(streaming())
	.get('/health-monitored-stream', ({ sse }) =>
		sse(
			async function* (stream) {
				const openedAt = Date.now()
				let lastPing = openedAt
				for (let counter = 0; ; counter++) {
					const now = Date.now()
					if (now - lastPing >= PING_INTERVAL_MS) {
						yield { event: 'ping', data: { type: 'ping', server_time: now / 1000, connection_duration: (now - openedAt) / 1000 } }
						lastPing = now
					}
					yield { data: { type: 'data', counter, timestamp: new Date(now).toISOString(), status: 'healthy' } }
					await stream.sleep(DATA_INTERVAL_MS)
				}
			},
			{ headers: { 'x-health-monitoring': 'enabled', 'x-ping-interval': String(PING_INTERVAL_MS / 1000) } }
		)
	)

serveExample(app, 'curl -N $URL/health-monitored-stream')
