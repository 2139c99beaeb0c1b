import { link, rename, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { TimeoutSetter } from '../stream'
import { BODY_TIMEOUT_MS, BodyTimeoutError, chunksOf } from '../stream/request-body'
import { idleTimeoutAfter, idleTimeoutForAbandoned } from '../stream/idle-timeout'
import { nameSegments } from './resolve'
import { cleanUploadsOnce, uploadTempName } from './upload-temp'

/** Options of saveUpload. */
export interface UploadOptions {
	/** The folder uploads are written to. */
	root: string
	/** Largest body accepted, in bytes. @default 100 MiB */
	maxBytes?: number
	/** Replace an existing file of that name. @default false */
	overwrite?: boolean
	/**
	 * Milliseconds the body may send nothing before the upload is answered 408
	 * and its partial file removed (a slow body that keeps sending is fine);
	 * 0: wait forever. @default 30000
	 */
	bodyTimeoutMs?: number
	/**
	 * Bun's server (`server` in an Elysia handler). With it, Bun's idle timeout
	 * for the request is moved past `bodyTimeoutMs`, so a silent body gets its
	 * 408 rather than a dropped connection, and a body given up on does not
	 * hold its connection afterwards.
	 */
	server?: TimeoutSetter | null
	/**
	 * Where a failure that is not the client's (disk full, permissions) is
	 * reported; the client gets a 500 or 507 that names no path. @default console.error
	 */
	onError?: (error: unknown) => void
}

/** What saveUpload did: the status to answer with, and a message or the bytes written. */
export type UploadResult =
	| { status: 201; name: string; bytes: number }
	| { status: 400 | 408 | 409 | 411 | 413 | 500 | 507; error: string }

type Failure = Extract<UploadResult, { error: string }>

const fail = (status: Failure['status'], error: string): Failure => ({ status, error })
const codeOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code

/** The answer to a file-system error, in words that name no path. */
function storageFailure(error: unknown, report: (error: unknown) => void): Failure {
	switch (codeOf(error)) {
		case 'EISDIR':
			return fail(409, 'A folder of that name exists')
		case 'ENOSPC':
		case 'EDQUOT':
			report(error)
			return fail(507, 'Not enough storage for the upload')
		default:
			report(error)
			return fail(500, 'The upload could not be stored')
	}
}

const defaultReport = (error: unknown) => console.error('[sluice] upload failed:', error)

/**
 * Streams a request body into `root/name`, chunk by chunk, never holding the
 * whole body. The name follows the download rules (one segment, no dotfile,
 * no traversal). A Content-Length over the limit is refused before a byte is
 * read; a body that grows past it is cut off and its partial file removed, as
 * is one that sends nothing for `bodyTimeoutMs` (408) or whose client leaves.
 * The body lands in a hidden temporary file first and is linked into place
 * at the end, so a reader never sees half a file, and an existing file is
 * only replaced when `overwrite` says so. Errors are answers with a status
 * and a message, never a file-system path. The first upload into a root
 * removes what uploads of dead processes left there (see cleanUploads).
 */
export async function saveUpload(
	request: Request,
	name: string,
	{
		root,
		maxBytes = 100 * 1024 * 1024,
		overwrite = false,
		bodyTimeoutMs = BODY_TIMEOUT_MS,
		server,
		onError = defaultReport
	}: UploadOptions
): Promise<UploadResult> {
	const segments = nameSegments(name)
	if (!segments || segments.length !== 1) return fail(400, 'Invalid file name')
	const declared = request.headers.get('content-length')
	if (declared !== null && Number(declared) > maxBytes) return fail(413, `File larger than ${maxBytes} bytes`)
	if (!request.body) return fail(411, 'Request body required')

	const dir = resolve(root)
	await cleanUploadsOnce(dir, onError)
	if (server) idleTimeoutAfter(server, request, bodyTimeoutMs)
	const target = join(dir, segments[0]!)
	const temp = join(dir, uploadTempName())
	let sink: ReturnType<ReturnType<typeof Bun.file>['writer']> | undefined
	let bytes = 0
	let kept = false
	// A body given up on leaves its unread rest on the connection: let Bun drop it soon after the answer.
	const abandon = (result: Failure) => {
		if (server) idleTimeoutForAbandoned(server, request, 1000)
		return result
	}
	try {
		sink = Bun.file(temp).writer({ highWaterMark: 1024 * 1024 })
		const chunks = chunksOf(request.body, bodyTimeoutMs)
		for (;;) {
			let next: IteratorResult<Uint8Array>
			try {
				next = await chunks.next()
			} catch (error) {
				if (error instanceof BodyTimeoutError) return abandon(fail(408, `The request body sent nothing for ${bodyTimeoutMs} ms`))
				// The client left (or its body was malformed) mid-way: there is no one to answer, and nothing is kept.
				return abandon(fail(400, 'The request body ended before it was complete'))
			}
			if (next.done) break
			bytes += next.value.byteLength
			if (bytes > maxBytes) {
				await chunks.return(undefined)
				return abandon(fail(413, `File larger than ${maxBytes} bytes`))
			}
			sink.write(next.value)
			await sink.flush()
		}
		await sink.end()
		sink = undefined
		if (overwrite) await rename(temp, target)
		else {
			try {
				// link() fails if the name exists: no check-then-write race.
				await link(temp, target)
			} catch (error) {
				if (codeOf(error) === 'EEXIST') return fail(409, 'File already exists')
				throw error
			}
		}
		kept = overwrite
		return { status: 201, name: segments[0]!, bytes }
	} catch (error) {
		return storageFailure(error, onError)
	} finally {
		if (sink) await Promise.resolve(sink.end()).catch(() => {})
		if (!kept) await rm(temp, { force: true }).catch(onError)
	}
}
