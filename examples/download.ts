// File downloads and uploads, on the seed's route: GET /download/{filename}
// serves from an uploads folder (created with a sample file), with ranges,
// conditional requests and sendfile; POST /upload/{filename} streams a body
// into it, never whole in memory. GET /static/{filename} shows precompressed
// files: a build step (here, the start) writes report.ndjson with .zst, .br and
// .gz beside it, and file() sends the one the client accepts, still by sendfile.
import { Elysia } from 'elysia'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { brotliCompressSync, gzipSync, zstdCompressSync } from 'node:zlib'
import { streaming, saveUpload, cleanUploads } from 'sluice'
import { adminToken } from './support/admin'

const port = Number(process.env.PORT ?? 3000)
const uploads = resolve(process.env.UPLOADS_DIR ?? 'uploads')
const maxBytes = Number(process.env.MAX_UPLOAD_BYTES ?? 100 * 1024 * 1024)
// Replacing a file is an admin's act: `?overwrite=1` needs Authorization: Bearer <ADMIN_TOKEN>.
const admin = adminToken()

await mkdir(uploads, { recursive: true })
// What uploads cut short by a crash (kill -9) left behind.
await cleanUploads(uploads)
const sample = Bun.file(`${uploads}/sample.txt`)
if (!(await sample.exists())) await Bun.write(sample, 'Hello from Sluice!\n'.repeat(1000))

// Static files with their precompressed siblings, in a folder of their own that is removed on exit.
const assets = await mkdtemp(join(tmpdir(), 'sluice-assets-'))
const report = Array.from({ length: 10_000 }, (_, id) => JSON.stringify({ id, data: `Record ${id}` }) + '\n').join('')
await Bun.write(join(assets, 'report.ndjson'), report)
await Bun.write(join(assets, 'report.ndjson.gz'), gzipSync(report, { level: 9 }))
await Bun.write(join(assets, 'report.ndjson.br'), brotliCompressSync(report))
await Bun.write(join(assets, 'report.ndjson.zst'), zstdCompressSync(report))

// Bun's own cap (128 MiB by default) sits above ours, so the client gets our JSON 413.
const app = new Elysia({ serve: { maxRequestBodySize: maxBytes + 1024 * 1024 } })
	.use(streaming({ file: { root: uploads } }))
	.get('/download/:filename', ({ file, params }) => file(params.filename, { download: true }))
	.get('/static/:filename', ({ file, params }) => file(params.filename, { root: assets }))
	.post(
		'/upload/:filename',
		async ({ request, params, query, status, server }) => {
			const overwrite = query.overwrite === '1' || query.overwrite === 'true'
			const refused = overwrite ? admin.refusal(request) : undefined
			if (refused) return refused
			const result = await saveUpload(request, params.filename, { root: uploads, server, maxBytes, overwrite })
			const { status: code, ...body } = result
			return status(code, body)
		},
		// The body is read as a stream by saveUpload, never parsed (buffered) by Elysia.
		{ parse: 'none' }
	)
	.listen(port)

// One write: a reader of stdout (the tests) sees every line together.
console.log([
	`Downloads on http://localhost:${app.server!.port}/download/sample.txt (folder ${uploads})`,
	`  curl -OJ --compressed http://localhost:${app.server!.port}/download/sample.txt`,
	`  precompressed: curl --compressed -sS -D - -o report.ndjson http://localhost:${app.server!.port}/static/report.ndjson`,
	`  curl -X POST -T ./photo.jpg http://localhost:${app.server!.port}/upload/photo.jpg`,
	`  replace it: curl -X POST -T ./photo.jpg -H "Authorization: Bearer <token>" "http://localhost:${app.server!.port}/upload/photo.jpg?overwrite=1"`,
	admin.hint
].join('\n'))

for (const signal of ['SIGINT', 'SIGTERM'] as const)
	process.on(signal, async () => {
		await app.stop(true)
		await rm(assets, { recursive: true, force: true })
		process.exit(0)
	})
