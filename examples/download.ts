// File downloads and uploads, on the seed's route: GET /download/{filename}
// serves from an uploads folder (created with a sample file), with ranges,
// conditional requests and sendfile; POST /upload/{filename} streams a body
// into it, never whole in memory.
import { Elysia } from 'elysia'
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
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

// Bun's own cap (128 MiB by default) sits above ours, so the client gets our JSON 413.
const app = new Elysia({ serve: { maxRequestBodySize: maxBytes + 1024 * 1024 } })
	.use(streaming({ file: { root: uploads } }))
	.get('/download/:filename', ({ file, params }) => file(params.filename, { download: true }))
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
	`  curl -OJ http://localhost:${app.server!.port}/download/sample.txt`,
	`  curl -X POST -T ./photo.jpg http://localhost:${app.server!.port}/upload/photo.jpg`,
	`  replace it: curl -X POST -T ./photo.jpg -H "Authorization: Bearer <token>" "http://localhost:${app.server!.port}/upload/photo.jpg?overwrite=1"`,
	admin.hint
].join('\n'))

for (const signal of ['SIGINT', 'SIGTERM'] as const)
	process.on(signal, async () => {
		await app.stop(true)
		process.exit(0)
	})
