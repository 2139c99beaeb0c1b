// A chat room: GET /chat/:username joins (the last 10 messages first, then live ones,
// join and leave announced), POST /chat/send speaks, and / is a chat page that reads
// the room with sluice/client (served as /sluice-client.js, bundled at start). /_sluice is
// the connection manager's live dashboard, for the holder of ADMIN_TOKEN (one is made and
// printed when it is unset): open the URL it prints on the line that says "dashboard".
import { Elysia, t } from 'elysia'
import { streaming } from 'sluice'
import { chatEvents } from './pages/events'
import { pagesClient } from './support/browser-bundle'
import { serveExample } from './support/serve'
import { transportFromEnv } from './support/transport'
import { adminToken } from './support/admin'

const ROOM = 'chat'
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 15_000)
const now = () => new Date().toISOString()
const page = Bun.file(`${import.meta.dir}/pages/chat.html`)
const client = await pagesClient()
const admin = adminToken()

const app = new Elysia()
	// Every publish (messages, joins, leaves) is checked against the room's typed events.
	.use(
		streaming({
			transport: transportFromEnv(),
			broadcast: { registry: chatEvents },
			connections: { routes: { guard: ({ request }) => admin.refusal(request) ?? true, dashboard: '/_sluice' } }
		})
	)
	.get('/', () => new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } }))
	.get('/sluice-client.js', client)
	.get(
		'/chat/:username',
		({ subscribe, params: { username } }) =>
			subscribe(ROOM, {
				last: 10,
				heartbeatMs,
				retryMs: 2000,
				presence: {
					join: (clients_count) => ({ type: 'user_joined', user: username, clients_count, timestamp: now() }),
					leave: (clients_count) => ({ type: 'user_left', user: username, clients_count, timestamp: now() })
				}
			}),
		{ params: t.Object({ username: t.String({ minLength: 1, maxLength: 32, pattern: '^[^<>&"\']+$' }) }) }
	)
	.post(
		'/chat/send',
		async ({ broadcast, body }) => {
			const message = { type: 'chat_message' as const, sender: body.sender, message: body.message, timestamp: now() }
			const frame = await broadcast.publish(ROOM, 'message', message)
			return { status: 'message_sent', id: frame.id, message }
		},
		{
			body: t.Object({
				sender: t.String({ minLength: 1, maxLength: 32 }),
				message: t.String({ minLength: 1, maxLength: 2000 })
			})
		}
	)

serveExample(
	app,
	'open $URL/ in two browser windows',
	'curl -N $URL/chat/Alice',
	`curl -X POST $URL/chat/send -H 'content-type: application/json' -d '{"sender":"Bob","message":"Hello"}'`,
	`open the dashboard: ${admin.dashboardUrl('$URL/_sluice')}   (${admin.hint})`
)
