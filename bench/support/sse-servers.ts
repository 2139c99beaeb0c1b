// The servers the SSE benchmark compares, one per process: `bun run sse-servers.ts <kind> <events>`.
import { Elysia, sse as elysiaSse } from 'elysia'
import { streaming } from '../../plugins'
import { sseStream } from '../../src/sse'

const [kind = 'sluice', countArg = '1000000'] = process.argv.slice(2)
const count = Number(countArg)
const payload = (n: number) => ({ n, type: 'tick', ok: true })

/**
 * Hand-written raw Bun: template-literal frames, written in 64 KB batches, from the
 * same `{ data }` events the sse() rows get, so only the framework's cost differs.
 */
function raw(source: () => Iterable<{ data: object }> | AsyncIterable<{ data: object }>) {
	return Bun.serve({
		port: 0,
		hostname: '127.0.0.1',
		fetch: () =>
			new Response(
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
							for await (const event of it) {
								batch += `data: ${JSON.stringify(event.data)}\n\n`
								if (batch.length >= 65536) await write()
							}
						} else {
							for (const event of it) {
								batch += `data: ${JSON.stringify(event.data)}\n\n`
								if (batch.length >= 65536) await write()
							}
						}
						if (batch) c.write(batch)
						c.close()
					}
				}),
				{ headers: { 'content-type': 'text/event-stream' } }
			)
	})
}

const apps: Record<string, () => { port?: number | undefined }> = {
	raw: () =>
		raw(function* () {
			for (let n = 0; n < count; n++) yield { data: payload(n) }
		}),
	'raw-async': () =>
		raw(async function* () {
			for (let n = 0; n < count; n++) yield { data: payload(n) }
		}),
	sluice: () =>
		new Elysia()
			.use(streaming())
			.get('/', ({ sse }) =>
				sse(async function* () {
					for (let n = 0; n < count; n++) yield { data: payload(n) }
				})
			)
			.listen({ port: 0, hostname: '127.0.0.1' }).server!,
	'sluice-sync': () =>
		new Elysia()
			.use(streaming())
			.get('/', ({ sse }) =>
				sse(function* () {
					for (let n = 0; n < count; n++) yield { data: payload(n) }
				})
			)
			.listen({ port: 0, hostname: '127.0.0.1' }).server!,
	// Without Elysia in front: what the stream core itself costs.
	'sluice-bare': () =>
		Bun.serve({
			port: 0,
			hostname: '127.0.0.1',
			fetch: (request, server) =>
				sseStream({ request, server }, (async function* () {
					for (let n = 0; n < count; n++) yield { data: payload(n) }
				})()).response
		}),
	elysia: () =>
		new Elysia()
			.get('/', async function* () {
				for (let n = 0; n < count; n++) yield elysiaSse({ data: payload(n) })
			})
			.listen({ port: 0, hostname: '127.0.0.1' }).server!
}

const server = apps[kind]!()
console.log(`PORT ${server.port}`)
