// Real-time data as JSON lines: ten readings, one a second, then a completed line.
import { Elysia } from 'elysia'
import { streaming } from 'sluice'
import { serveExample } from './support/serve'

const intervalMs = Number(process.env.REALTIME_INTERVAL_MS ?? 1000)

const app = new Elysia().use(streaming()).get('/stream/realtime', ({ ndjson }) =>
	ndjson(async function* ({ sleep }) {
		let count = 0
		for (let i = 0; i < 10; i++) {
			count++
			yield { timestamp: new Date().toISOString(), count, value: count * 1.5, status: 'active' }
			// Abortable: a client that leaves stops this loop at once, not a second later.
			await sleep(intervalMs)
		}
		yield { status: 'completed', total_items: count }
	})
)

serveExample(app, 'curl -N $URL/stream/realtime')
