// The server of bench/soak.bench.ts: every kind of stream streaming() serves, on one app.
//   GET /sub (broadcast subscription, replay on Last-Event-ID), POST /publish,
//   GET /sse?n= (an sse() generator), GET /ndjson?n= (ndjson() records),
//   POST /ingest (ndjsonBody() records counted), POST /upload/:name (saveUpload),
//   GET /file/:name (file()).
// A control port (not counted among the streams) answers GET /stats: RSS and heap after
// Bun.gc(true), the connection manager's counts and the hub's subscribers.
// `bun run soak-server.ts <uploads folder>`
import { Elysia } from 'elysia'
import { streaming, saveUpload, memory } from '../../plugins'

const root = process.argv[2]
if (!root) throw new Error('usage: soak-server.ts <uploads folder>')
const MAX_UPLOAD = 4 * 1024 * 1024
const count = (q: { n?: string }) => Math.min(100_000, Number(q.n ?? 100) || 0)

const app = new Elysia({ serve: { maxRequestBodySize: MAX_UPLOAD * 2 } })
	.use(
		streaming({
			file: { root },
			// Every client is 127.0.0.1: no per-address limit in the way.
			connections: { maxStreams: 10_000, maxPerAddress: 10_000 },
			transport: memory({ history: { maxFrames: 1000, maxBytes: 1024 * 1024 } })
		})
	)
	.get('/sub', ({ subscribe }) => subscribe('soak', { retryMs: 1000 }))
	.post('/publish', async ({ broadcast, body }) => (await broadcast.publish('soak', 'tick', body)).id)
	.get('/sse', ({ sse, query }) =>
		sse(async function* () {
			for (let i = 0; i < count(query); i++) {
				yield { id: String(i), data: { i } }
				if (i % 10 === 9) await Bun.sleep(1)
			}
		})
	)
	.get('/ndjson', ({ ndjson, query }) =>
		ndjson(async function* () {
			for (let i = 0; i < count(query); i++) yield { i, name: `record-${i}`, pad: 'x'.repeat(i % 97) }
		})
	)
	.post(
		'/ingest',
		async ({ ndjsonBody }) => {
			let n = 0
			for await (const _ of ndjsonBody()) n++
			return { n }
		},
		{ parse: 'none' }
	)
	.post(
		'/upload/:name',
		async ({ request, params, status }) => {
			const { status: code, ...body } = await saveUpload(request, params.name, { root, maxBytes: MAX_UPLOAD, overwrite: true })
			return status(code, body)
		},
		{ parse: 'none' }
	)
	.get('/file/:name', ({ file, params }) => file(params.name))
	.listen({ port: 0, hostname: '127.0.0.1' })

const control = Bun.serve({
	port: 0,
	hostname: '127.0.0.1',
	fetch() {
		Bun.gc(true)
		const { rss, heapUsed } = process.memoryUsage()
		return Response.json({
			rss,
			heapUsed,
			connections: app.decorator.connections.counts(),
			subscribers: app.decorator.broadcast.counts()
		})
	}
})
console.log(`PORT ${app.server!.port} CONTROL ${control.port}`)
process.on('SIGTERM', () => process.exit(0))
