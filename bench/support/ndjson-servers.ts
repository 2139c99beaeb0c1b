// The servers the NDJSON benchmark compares, one per process: `bun run ndjson-servers.ts <kind> <records>`.
import { Elysia } from 'elysia'
import { Hono } from 'hono'
import { stream as honoStream } from 'hono/streaming'
import { streaming } from '../../plugins'
import { record } from './ndjson-record'

const [kind = 'sluice', countArg = '1000000'] = process.argv.slice(2)
const count = Number(countArg)

function* records() {
	for (let id = 0; id < count; id++) yield record(id)
}
async function* recordsAsync() {
	for (let id = 0; id < count; id++) yield record(id)
}

/** Hand-written raw Bun: one JSON line per record, written in 64 KB batches, from `source`. */
function raw(source: () => Iterable<object> | AsyncIterable<object>) {
	return Bun.serve({
		port: 0,
		hostname: '127.0.0.1',
		fetch: (request) =>
			new URL(request.url).pathname === '/cpu'
				? cpu()
				: new Response(
				new ReadableStream({
					type: 'direct',
					async pull(c) {
						let batch = ''
						const write = async () => {
							const w = c.write(batch)
							batch = ''
							if (typeof w !== 'number') await w
						}
						const it = source()
						if (Symbol.asyncIterator in it) {
							for await (const r of it) {
								batch += JSON.stringify(r) + '\n'
								if (batch.length >= 65536) await write()
							}
						} else {
							for (const r of it) {
								batch += JSON.stringify(r) + '\n'
								if (batch.length >= 65536) await write()
							}
						}
						if (batch) c.write(batch)
						c.close()
					}
				}),
				{ headers: { 'content-type': 'application/x-ndjson' } }
			)
	})
}

/** The server's own CPU time so far (µs), so the bench can report CPU per stream, which the machine's load disturbs less than wall time. */
const cpu = () => Response.json(process.cpuUsage())

const listen = (app: Elysia<any, any, any, any, any, any, any>) =>
	app.get('/cpu', cpu).listen({ port: 0, hostname: '127.0.0.1' }).server!

const apps: Record<string, () => { port?: number | undefined }> = {
	raw: () => raw(records),
	'raw-async': () => raw(recordsAsync),
	'sluice-sync': () => listen(new Elysia().use(streaming()).get('/', ({ ndjson }) => ndjson(records()))),
	sluice: () => listen(new Elysia().use(streaming()).get('/', ({ ndjson }) => ndjson(recordsAsync()))),
	// Elysia's own generator streaming: one chunk per yield (it adds no newline, so the line is yielded whole).
	elysia: () =>
		listen(
			new Elysia().get('/', async function* ({ set }) {
				set.headers['content-type'] = 'application/x-ndjson'
				for (let id = 0; id < count; id++) yield JSON.stringify(record(id)) + '\n'
			})
		),
	// Hono's stream() helper as its docs use it: one awaited write per record.
	hono: () => {
		const app = new Hono().get('/cpu', cpu).get('/', (c) => {
			c.header('content-type', 'application/x-ndjson')
			return honoStream(c, async (s) => {
				for (let id = 0; id < count; id++) await s.write(JSON.stringify(record(id)) + '\n')
			})
		})
		return Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch })
	}
}

const make = apps[kind]
if (!make) throw new Error(`unknown server kind ${kind}; one of ${Object.keys(apps).join(', ')}`)
console.log(`PORT ${make().port}`)
