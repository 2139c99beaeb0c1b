// The servers of the NDJSON compression benchmark, one per process:
// `bun run ndjson-compress-servers.ts <sluice|raw> <records>`. Each serves two streams:
// `/stream`, <records> records of ~100 bytes from an async generator, and `/export`,
// the seed's large dataset (100,000 records in 1,000 lines of 100, with progress).
// The client picks the coding with Accept-Encoding; the raw server honours it the same way.
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { createCompressor, compressionFor } from '../../src/stream/compression'
import { record } from './ndjson-record'

const [kind = 'sluice', countArg = '1000000'] = process.argv.slice(2)
const count = Number(countArg)

async function* stream() {
	for (let id = 0; id < count; id++) yield record(id)
}
// examples/large-dataset.ts's batches.
async function* exportBatches() {
	const total = 100_000
	for (let start = 0; start < total; start += 100) {
		const timestamp = new Date().toISOString()
		const batch = []
		for (let id = start; id < start + 100; id++) batch.push({ id, data: `Record ${id}`, timestamp })
		yield { batch, batch_start: start, batch_size: 100, total_records: total, progress: Math.round(((start + 100) / total) * 10_000) / 100 }
	}
}
const cpu = () => Response.json(process.cpuUsage())

/**
 * Hand-written raw Bun with the same compressor (node:zlib, same level, a flush
 * with every write): 64 KB batches written to it, its output written to a
 * direct stream, waiting for the compressor and the socket before the next batch.
 */
function raw() {
	return Bun.serve({
		port: 0,
		hostname: '127.0.0.1',
		idleTimeout: 0,
		fetch: (request) => {
			const path = new URL(request.url).pathname
			if (path === '/cpu') return cpu()
			const source = path === '/export' ? exportBatches : stream
			const compression = compressionFor(request, true, true)
			const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' }
			if (compression) headers['content-encoding'] = compression.encoding
			return new Response(
				new ReadableStream({
					type: 'direct',
					async pull(c) {
						let pending: Promise<number> | undefined
						const out = (bytes: string | Uint8Array) => {
							const w = c.write(bytes)
							if (typeof w !== 'number') pending = w
						}
						const z = compression && createCompressor(compression, true)
						z?.on('data', out)
						const send = async (batch: string) => {
							if (!z) out(batch)
							else
								await new Promise<void>((resolve) => z.write(batch, () => resolve()))
							if (pending) await pending
							pending = undefined
						}
						let batch = ''
						for await (const r of source()) {
							batch += JSON.stringify(r) + '\n'
							if (batch.length >= 65536) {
								await send(batch)
								batch = ''
							}
						}
						if (batch) await send(batch)
						if (z)
							await new Promise<void>((resolve) => {
								z.once('end', resolve)
								z.end()
							})
						if (pending) await pending
						c.close()
					}
				}),
				{ headers }
			)
		}
	})
}

const sluice = () =>
	new Elysia()
		.use(streaming())
		.get('/cpu', cpu)
		.get('/stream', ({ ndjson }) => ndjson(stream()))
		.get('/export', ({ ndjson }) => ndjson(exportBatches()))
		.listen({ port: 0, hostname: '127.0.0.1' }).server!

console.log(`PORT ${(kind === 'raw' ? raw() : sluice()).port}`)
