import { link, rename, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { nameSegments } from './resolve'

/** Options of saveUpload. */
export interface UploadOptions {
	/** The folder uploads are written to. */
	root: string
	/** Largest body accepted, in bytes. @default 100 MiB */
	maxBytes?: number
	/** Replace an existing file of that name. @default false */
	overwrite?: boolean
}

/** What saveUpload did: the status to answer with, and a message or the bytes written. */
export type UploadResult =
	| { status: 201; name: string; bytes: number }
	| { status: 400 | 409 | 411 | 413; error: string }

/**
 * Streams a request body into `root/name`, chunk by chunk, never holding the
 * whole body. The name follows the download rules (one segment, no dotfile,
 * no traversal). A Content-Length over the limit is refused before a byte is
 * read; a body that grows past it is cut off and its partial file removed.
 * The body lands in a hidden temporary file first and is linked into place
 * at the end, so a reader never sees half a file, and an existing file is
 * only replaced when `overwrite` says so.
 */
export async function saveUpload(
	request: Request,
	name: string,
	{ root, maxBytes = 100 * 1024 * 1024, overwrite = false }: UploadOptions
): Promise<UploadResult> {
	const segments = nameSegments(name)
	if (!segments || segments.length !== 1) return { status: 400, error: 'Invalid file name' }
	const declared = request.headers.get('content-length')
	if (declared !== null && Number(declared) > maxBytes)
		return { status: 413, error: `File larger than ${maxBytes} bytes` }
	if (!request.body) return { status: 411, error: 'Request body required' }

	const dir = resolve(root)
	const target = join(dir, segments[0]!)
	const temp = join(dir, `.upload-${crypto.randomUUID()}`)
	const sink = Bun.file(temp).writer({ highWaterMark: 1024 * 1024 })
	let bytes = 0
	let kept = false
	let ended = false
	try {
		const reader = request.body.getReader()
		for (;;) {
			const { value, done } = await reader.read()
			if (done) break
			bytes += value.byteLength
			if (bytes > maxBytes) {
				await reader.cancel().catch(() => {})
				return { status: 413, error: `File larger than ${maxBytes} bytes` }
			}
			sink.write(value)
			await sink.flush()
		}
		await sink.end()
		ended = true
		if (overwrite) await rename(temp, target)
		else {
			try {
				// link() fails if the name exists: no check-then-write race.
				await link(temp, target)
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { status: 409, error: 'File already exists' }
				throw error
			}
		}
		kept = overwrite
		return { status: 201, name: segments[0]!, bytes }
	} finally {
		if (!ended) await Promise.resolve(sink.end()).catch(() => {})
		if (!kept) await rm(temp, { force: true })
	}
}
