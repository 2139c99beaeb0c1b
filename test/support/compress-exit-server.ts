// A server whose only stream is compressed and left by its client mid-way.
// It stops listening once the producer's finally has run; the test asserts
// the process then exits by itself: no compressor handle or timer keeps it alive.
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { openCompressors } from '../../src/stream/compression'

const app = new Elysia().use(streaming()).get('/x', ({ ndjson }) =>
	ndjson(async function* () {
		try {
			for (let i = 0; ; i++) yield { i, pad: crypto.randomUUID() }
		} finally {
			setTimeout(async () => {
				await app.stop(true)
				console.log(`stopped open=${openCompressors()}`)
			}, 50)
		}
	})
)
app.listen({ port: 0, hostname: '127.0.0.1' })
console.log(`port=${app.server!.port}`)
