// One connection for every feed of a page (docs/topics.md). GET /live?topics=news,prices
// opens one stream of many topics (the app decides which a client may read); every frame
// carries its topic, and a reconnect resumes each topic where it was. POST /live/topics adds
// or removes a topic on an open stream, named by the `sluice-connection` header its response
// carried; the app authorizes it as any POST. The page at / reads its topics with
// shareTopics(): all its tabs share one connection.
import { Elysia, t } from 'elysia'
import { streaming } from 'sluice'
import { browserBundle } from './support/browser-bundle'
import { serveExample } from './support/serve'
import { transportFromEnv } from './support/transport'

const FEEDS = ['news', 'prices', 'weather'] as const
const everyMs = Number(process.env.TOPICS_INTERVAL_MS ?? 1000)
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 15_000)
const page = Bun.file(`${import.meta.dir}/pages/topics.html`)
const client = await browserBundle(`${import.meta.dir}/pages/topics-client.ts`)
const worker = await browserBundle(`${import.meta.dir}/pages/topics-worker.ts`)

/** What a client may read: here the public feeds. A real app checks the user's session too. */
const allowed = (topic: string) => (FEEDS as readonly string[]).includes(topic)

const app = new Elysia().use(streaming({ transport: transportFromEnv() }))
const { broadcast } = app.decorator

app
	.get('/', () => new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } }))
	.get('/topics-client.js', client)
	.get('/topics-worker.js', worker)
	.get(
		'/live',
		({ subscribe, query, status }) => {
			const topics = query.topics.split(',')
			if (!topics.every(allowed)) return status(403, { error: 'not a topic you may read' })
			return subscribe(topics, { heartbeatMs, retryMs: 2000 })
		},
		{ query: t.Object({ topics: t.String({ minLength: 1, maxLength: 200 }) }) }
	)
	.post(
		'/live/topics',
		({ body, status }) => {
			if (!allowed(body.topic)) return status(403, { error: 'not a topic you may read' })
			const changed =
				body.action === 'add'
					? broadcast.addTopic(body.connection, body.topic, { after: body.after, last: body.last })
					: broadcast.removeTopic(body.connection, body.topic)
			if (!changed) return status(404, { error: 'no such open stream here, or nothing to change' })
			return { status: 'ok', topics: broadcast.topicsOf(body.connection) }
		},
		{
			body: t.Object({
				connection: t.Integer({ minimum: 1 }),
				action: t.Union([t.Literal('add'), t.Literal('remove')]),
				topic: t.String({ minLength: 1, maxLength: 64 }),
				after: t.Optional(t.Integer({ minimum: 0 })),
				last: t.Optional(t.Integer({ minimum: 0, maximum: 100 }))
			})
		}
	)

// Each feed gets an item now and then.
let n = 0
const feed = setInterval(() => {
	const topic = FEEDS[n++ % FEEDS.length]!
	broadcast.publish(topic, 'item', { topic, n, at: new Date().toISOString() }).catch((error) => console.error('publish failed:', error))
}, everyMs)
feed.unref()

serveExample(
	app,
	'open $URL/ in several tabs (one connection for all of them)',
	'curl -N -i "$URL/live?topics=news,prices"',
	`curl -X POST $URL/live/topics -H 'content-type: application/json' -d '{"connection":1,"action":"add","topic":"weather","last":3}'`
)
