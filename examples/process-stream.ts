// A data processing pipeline: POST items as NDJSON (or nothing, for 1,000
// generated items) and get a result line per item with progress, then a
// completion line. The same stream as SSE, ending with `event: completed`, at
// POST /process-stream/sse or with `Accept: text/event-stream`.
import { Elysia, t } from 'elysia'
import { streaming, type NdjsonBodyFunction } from 'sluice'
import { serveExample } from './support/serve'

const generatedItems = 1000
const delayMs = Number(process.env.PROCESS_DELAY_MS ?? 10)
const Item = t.Record(t.String(), t.Unknown())

interface Processed {
	item_id: unknown
	processed_at: string
	result: string
	/** Percent done, when the number of items is known (generated, or an X-Total-Items header). */
	progress: number | null
}

/** The items to process: the uploaded NDJSON body, read as it arrives, or generated ones. */
function itemsOf(request: Request, ndjsonBody: NdjsonBodyFunction) {
	const uploaded = request.body !== null && /ndjson|jsonl/.test(request.headers.get('content-type') ?? '')
	if (uploaded) {
		const total = Number(request.headers.get('x-total-items')) || null
		return { items: ndjsonBody(Item), total }
	}
	return { items: Array.from({ length: generatedItems }, (_, i) => ({ id: i })), total: generatedItems }
}

interface Sleeper {
	/** Abortable: rejects as soon as the client leaves, which ends the loop. */
	sleep(ms: number): Promise<void>
}

async function* processAll(
	items: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
	total: number | null,
	{ sleep }: Sleeper
): AsyncGenerator<Processed, number> {
	let i = 0
	for await (const item of items) {
		if (delayMs) await sleep(delayMs) // the processing
		const id = item.id ?? i
		yield {
			item_id: id,
			processed_at: new Date().toISOString(),
			result: `Processed item ${id}`,
			progress: total ? Math.round(((i + 1) / total) * 10_000) / 100 : null
		}
		i++
	}
	return i
}

const completion = (count: number) => ({ event: 'completed', total_processed: count, completed_at: new Date().toISOString() })

/** As JSON lines: a result per item, then the completion line. */
const asNdjson = (items: ReturnType<typeof itemsOf>) =>
	async function* (handle: Sleeper) {
		const count = yield* processAll(items.items, items.total, handle)
		yield completion(count)
	}

/** As SSE: a message event per item, then `event: completed`. */
const asSse = (items: ReturnType<typeof itemsOf>) =>
	async function* (handle: Sleeper) {
		const results = processAll(items.items, items.total, handle)
		let r = await results.next()
		for (; !r.done; r = await results.next()) yield { data: r.value }
		yield { event: 'completed', data: completion(r.value) }
	}

const wantsSse = (request: Request) => request.headers.get('accept')?.includes('text/event-stream') ?? false

const app = new Elysia()
	.use(streaming())
	.post('/process-stream', ({ request, ndjson, ndjsonBody, sse }) => {
		const items = itemsOf(request, ndjsonBody)
		return wantsSse(request) ? sse(asSse(items)) : ndjson(asNdjson(items))
	})
	.post('/process-stream/sse', ({ request, ndjsonBody, sse }) => sse(asSse(itemsOf(request, ndjsonBody))))

serveExample(
	app,
	'curl -N -X POST $URL/process-stream',
	`printf '{"id":"a"}\\n{"id":"b"}\\n' | curl -N -X POST -H 'content-type: application/x-ndjson' --data-binary @- $URL/process-stream`,
	'curl -N -X POST $URL/process-stream/sse'
)
