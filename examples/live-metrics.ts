// Live system metrics as `event: metrics` every 2 seconds.
import { Elysia } from 'elysia'
import { streaming } from 'sluice'
import { serveExample } from './support/serve'

const round2 = (n: number) => Math.round(n * 100) / 100
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo)

const app = new Elysia()
	.use(streaming())
	.get('/live-metrics', ({ sse }) =>
		sse(async function* (stream) {
			for (;;) {
				yield {
					event: 'metrics',
					data: {
						cpu_usage: round2(between(10, 90)),
						memory_usage: round2(between(30, 85)),
						active_connections: Math.floor(between(50, 201)),
						requests_per_second: Math.floor(between(100, 501)),
						timestamp: new Date().toISOString()
					}
				}
				await stream.sleep(2000)
			}
		})
	)

serveExample(app, 'curl -N $URL/live-metrics')
