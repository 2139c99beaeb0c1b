// Basic Server-Sent Events: a counter event every second.
import { Elysia } from 'elysia'
import { streaming, eventIdNumber } from 'sluice'
import { serveExample } from './support/serve'

const app = new Elysia()
	.use(streaming())
	.get('/events', ({ sse }) =>
		sse(async function* (stream) {
			// Resume the count where the client left off, if it reconnects with an id we could have sent.
			let counter = (eventIdNumber(stream.lastEventId) ?? -1) + 1
			for (;;) {
				yield { id: counter, data: { id: counter, message: `Event ${counter}`, timestamp: Date.now() / 1000 } }
				counter++
				await stream.sleep(1000)
			}
		}, { headers: { 'access-control-allow-origin': '*' } })
	)

serveExample(app, 'curl -N $URL/events')
