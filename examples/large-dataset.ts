// A large dataset as JSON lines: 100,000 records in batches of 100, with progress.
// Memory stays constant: the generator makes a batch only when the client has
// taken the previous ones (backpressure), however slowly it reads. A client that
// accepts it (browsers, fetch, curl --compressed) gets it compressed (zstd, br or
// gzip: about 11 MB becomes well under 1 MB), each batch flushed as it is made.
import { Elysia } from 'elysia'
import { streaming } from 'sluice'
import { serveExample } from './support/serve'

const totalRecords = 100_000
const batchSize = 100

function* batches() {
	for (let batchStart = 0; batchStart < totalRecords; batchStart += batchSize) {
		const end = Math.min(batchStart + batchSize, totalRecords)
		const timestamp = new Date().toISOString()
		const batch = []
		for (let id = batchStart; id < end; id++) batch.push({ id, data: `Record ${id}`, timestamp })
		yield {
			batch,
			batch_start: batchStart,
			batch_size: batch.length,
			total_records: totalRecords,
			progress: Math.round((end / totalRecords) * 10_000) / 100
		}
	}
}

const app = new Elysia().use(streaming()).get('/large-dataset', ({ ndjson }) => ndjson(batches()))

serveExample(app, 'curl -N $URL/large-dataset --compressed', 'curl -sS -o /dev/null -w "%{size_download} bytes\\n" -H "Accept-Encoding: gzip" $URL/large-dataset')
