// Broadcasting: every subscriber of /broadcast-stream gets each message, encoded once.
// A server message goes out every 5 seconds; POST /broadcast sends one of yours.
import { Elysia, t } from 'elysia'
import { streaming } from 'sluice'
import { serveExample } from './support/serve'
import { transportFromEnv } from './support/transport'

const TOPIC = 'broadcast'
const everyMs = Number(process.env.BROADCAST_INTERVAL_MS ?? 5000)
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 15_000)

const app = new Elysia()
	.use(streaming({ transport: transportFromEnv() }))
	// A reconnecting client (Last-Event-ID) gets what it missed from the topic's history.
	.get('/broadcast-stream', ({ subscribe }) => subscribe(TOPIC, { heartbeatMs, retryMs: 2000 }))
	.post(
		'/broadcast',
		async ({ broadcast, body }) => {
			const message = { type: 'manual_broadcast', ...body, timestamp: new Date().toISOString() }
			const frame = await broadcast.publish(TOPIC, 'message', message)
			const recipients = (await broadcast.clusterCounts())[TOPIC] ?? broadcast.count(TOPIC)
			return { status: 'broadcast_sent', id: frame.id, message, recipients }
		},
		{
			body: t.Object({
				message: t.String({ minLength: 1, maxLength: 2000 }),
				sender: t.String({ minLength: 1, maxLength: 64 })
			})
		}
	)

let counter = 0
// In a cluster (examples/cluster.ts), one worker sends the periodic message for all.
const periodic = setInterval(() => {
	if ((process.env.WORKER ?? '0') !== '0') return
	const n = counter++
	app.decorator.broadcast
		.publish(TOPIC, 'message', {
			type: 'broadcast',
			id: n,
			timestamp: new Date().toISOString(),
			message: `Broadcast message ${n}`
		})
		.catch((error) => console.error('periodic broadcast failed:', error))
}, everyMs)
periodic.unref()

serveExample(
	app,
	'curl -N $URL/broadcast-stream',
	`curl -X POST $URL/broadcast -H 'content-type: application/json' -d '{"message":"hi","sender":"me"}'`
)
