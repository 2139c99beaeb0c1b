// A live analytics dashboard: GET /analytics-stream sends the current counters first,
// then every update; / is a dashboard page with the counters and a moving chart, which
// reads the stream with sluice/client (served as /sluice-client.js, bundled at start).
import { Elysia, t } from 'elysia'
import { streaming } from 'sluice'
import { analyticsEvents } from './pages/events'
import { pagesClient } from './support/browser-bundle'
import { serveExample } from './support/serve'
import { transportFromEnv } from './support/transport'

const TOPIC = 'analytics'
const everyMs = Number(process.env.ANALYTICS_INTERVAL_MS ?? 2000)
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 15_000)
const page = Bun.file(`${import.meta.dir}/pages/analytics.html`)
const client = await pagesClient()

const counters = { page_views: 0, api_calls: 0, errors: 0 }
const visitors = new Set<string>()

const app = new Elysia().use(streaming({ transport: transportFromEnv(), broadcast: { registry: analyticsEvents } }))
const { broadcast } = app.decorator

/** Publishes the whole state on every change, so the topic's last frame is always the current state. */
const publishState = () =>
	broadcast
		.publish(TOPIC, 'update', { ...counters, unique_visitors: visitors.size, timestamp: new Date().toISOString() })
		.catch((error) => console.error('analytics publish failed:', error))

const track = {
	'page-view': (visitor: string = crypto.randomUUID()) => {
		counters.page_views++
		visitors.add(visitor)
	},
	'api-call': () => void counters.api_calls++,
	error: () => void counters.errors++
}

app
	.get('/', () => new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } }))
	.get('/sluice-client.js', client)
	// last: 1 is the current state (the latest full snapshot), then live updates.
	.get('/analytics-stream', ({ subscribe }) => subscribe(TOPIC, { last: 1, heartbeatMs, retryMs: 2000 }))
	.post(
		'/track/:kind',
		({ params, body }) => {
			track[params.kind](body?.visitor)
			publishState()
			return { status: 'tracked', kind: params.kind }
		},
		{
			params: t.Object({ kind: t.Union([t.Literal('page-view'), t.Literal('api-call'), t.Literal('error')]) }),
			body: t.Optional(t.Object({ visitor: t.Optional(t.String({ maxLength: 64 })) }))
		}
	)

// Simulated traffic, as in the seed: a page view every 3rd tick, an API call every 2nd, an error every 10th.
let tick = 0
const simulation = setInterval(() => {
	tick++
	if (tick % 3 === 0) track['page-view']()
	if (tick % 2 === 0) track['api-call']()
	if (tick % 10 === 0) track.error()
	if (tick % 2 === 0 || tick % 3 === 0) publishState()
}, everyMs)
simulation.unref()
publishState()

serveExample(app, 'open $URL/ for the dashboard', 'curl -N $URL/analytics-stream', 'curl -X POST $URL/track/page-view')
