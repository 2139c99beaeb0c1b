// A chat room with identity: POST /login { username } returns a signed token that
// expires (TOKEN_TTL_S, default 3600; signed with CHAT_SECRET, made at start when
// missing: processes of a cluster must share it). GET /chat/:username joins (the last
// 10 messages first, then live ones, join and leave announced) with that token only:
// `Authorization: Bearer <token>`, or `?token=` for an EventSource (which cannot send
// headers; a token in a URL ends up in logs). The stream ends when the token expires
// (`event: sluice:expired`): the client comes back with a fresh one and resumes from its
// Last-Event-ID. POST /chat/send speaks as the token's user, whatever the body says.
// POST /admin/kick/:username (ADMIN_TOKEN) ends that user's streams on every process.
// / is a chat page that logs in, then reads the room with sluice/client.
// /_sluice is the connection manager's live dashboard, for the holder of ADMIN_TOKEN (one is
// made and printed when it is unset): open the URL it prints on the line that says "dashboard".
import { Elysia, t } from 'elysia'
import { streaming } from 'sluice'
import { chatEvents } from './pages/events'
import { adminToken } from './support/admin'
import { pagesClient } from './support/browser-bundle'
import { serveExample } from './support/serve'
import { bearerOf, tokenSigner, type TokenClaims } from './support/token'
import { transportFromEnv } from './support/transport'

const ROOM = 'chat'
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 15_000)
const tokenTtlS = Number(process.env.TOKEN_TTL_S ?? 3600)
const now = () => new Date().toISOString()
const page = Bun.file(`${import.meta.dir}/pages/chat.html`)
const client = await pagesClient()
const tokens = tokenSigner(process.env, 'CHAT_SECRET')
const admin = adminToken()
const username = t.String({ minLength: 1, maxLength: 32, pattern: '^[^<>&"\']+$' })

const refuse = (status: 401 | 403, error: string) =>
	Response.json({ error }, { status, headers: status === 401 ? { 'www-authenticate': 'Bearer' } : {} })

/** The token's claims, or the 401 to answer: Elysia decides who may open a stream, Sluice keeps it. */
function signedIn(request: Request): TokenClaims | Response {
	const token = bearerOf(request)
	if (!token) return refuse(401, 'sign in first: POST /login, then send Authorization: Bearer <token>')
	return tokens.verify(token) ?? refuse(401, 'token invalid or expired: POST /login again')
}

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
	.post(
		'/login',
		({ body }) => {
			// Rounded up: a token lives at least TOKEN_TTL_S seconds (exp is in whole seconds, as JWT's).
			const exp = Math.ceil(Date.now() / 1000) + tokenTtlS
			return { token: tokens.sign({ sub: body.username, exp }), user: body.username, expiresAt: exp * 1000 }
		},
		{ body: t.Object({ username }) }
	)
	.get(
		'/chat/:username',
		({ subscribe, params, request }) => {
			const session = signedIn(request)
			if (session instanceof Response) return session
			if (session.sub !== params.username) return refuse(403, `this token is for ${session.sub}, not ${params.username}`)
			return subscribe(ROOM, {
				user: session.sub,
				expiresAt: session.exp * 1000,
				last: 10,
				heartbeatMs,
				retryMs: 2000,
				presence: {
					join: (clients_count, user = '') => ({ type: 'user_joined', user, clients_count, timestamp: now() }),
					leave: (clients_count, user = '') => ({ type: 'user_left', user, clients_count, timestamp: now() })
				}
			})
		},
		{ params: t.Object({ username }) }
	)
	.post(
		'/chat/send',
		async ({ broadcast, body, request }) => {
			const session = signedIn(request)
			if (session instanceof Response) return session
			// The sender is who the token says, never what the body says.
			const message = { type: 'chat_message' as const, sender: session.sub, message: body.message, timestamp: now() }
			const frame = await broadcast.publish(ROOM, 'message', message)
			return { status: 'message_sent', id: frame.id, message }
		},
		{ body: t.Object({ message: t.String({ minLength: 1, maxLength: 2000 }), sender: t.Optional(t.String()) }) }
	)
	.post(
		'/admin/kick/:username',
		({ connections, params, request }) =>
			// Ends the user's streams here and, with REDIS_URL, on every process. Their client may
			// come back while its token is valid: keeping someone out is the guard's job.
			admin.refusal(request) ?? { user: params.username, closedHere: connections.close({ user: params.username }) },
		{ params: t.Object({ username }) }
	)

serveExample(
	app,
	'open $URL/ in two browser windows',
	`TOKEN=$(curl -s -X POST $URL/login -H 'content-type: application/json' -d '{"username":"Alice"}' | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')`,
	'curl -N -H "Authorization: Bearer $TOKEN" $URL/chat/Alice',
	`curl -X POST $URL/chat/send -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"message":"Hello"}'`,
	`curl -X POST $URL/admin/kick/Alice -H "Authorization: Bearer $ADMIN_TOKEN"   (${admin.hint})`,
	`open the dashboard: ${admin.dashboardUrl('$URL/_sluice')}`
)
