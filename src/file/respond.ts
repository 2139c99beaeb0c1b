import type { LiveStream } from '../connections'
import type { TimeoutSetter } from '../stream'
import { contentDisposition } from './disposition'
import { parseRange, type ByteRange } from './range'
import { resolveInRoot } from './resolve'
import { streamFile, type BodyPart } from './streamed'
import { ZeroCopyTransfer, type RequestWatcher } from './transfer'
import { evaluatePreconditions, ifRangeHolds, validatorsOf, type EtagMode } from './validators'

/** Options of file(). */
export interface FileOptions {
	/** The folder files are served from; nothing outside it (symlinks included) is ever sent. */
	root: string
	/**
	 * Send as an attachment (Content-Disposition): `true` uses the file's name,
	 * a string is the name the client saves it as. @default false (inline)
	 */
	download?: boolean | string
	/** Serve names with a segment that starts with a dot. @default false */
	dotfiles?: boolean
	/** ETag kind; 'strong' lets If-Range work. @default 'strong' */
	etag?: EtagMode
	/** Send Last-Modified and honour If-Modified-Since / If-Unmodified-Since. @default true */
	lastModified?: boolean
	/** Cache-Control value, if any. */
	cacheControl?: string
	/** Content-Type; by default Bun's guess from the extension. */
	contentType?: string
	/** Extra response headers. */
	headers?: Record<string, string>
	/**
	 * Per-download bandwidth limit in bytes per second. A limited download is
	 * streamed through JavaScript (counted live, closable) rather than sent by
	 * sendfile. @default 0 (no limit)
	 */
	bytesPerSecond?: number
	/**
	 * Let Bun send the file with sendfile(2), never copying it through
	 * JavaScript. false streams it in chunks instead: slower, but bytesSent is
	 * live and the connection manager can close it. @default true
	 */
	zeroCopy?: boolean
	/** A Range with more parts than this is ignored (whole file). @default 100 */
	maxRanges?: number
}

/** What file() needs of the framework. */
export interface FileContext {
	request: Request
	server?: (TimeoutSetter & RequestWatcher) | null
	onError?: (error: unknown) => void
	/** The connection manager's limits: a refusal Response (503, 429), or undefined to go on. */
	admit?: () => Response | undefined
	/** Called with each download that sends a body (connection registry). */
	onOpen?: (stream: LiveStream) => void
}

const notFound = () =>
	new Response(JSON.stringify({ error: 'File not found' }), {
		status: 404,
		headers: { 'content-type': 'application/json' }
	})

const contentRange = (r: ByteRange, size: number) => `bytes ${r.start}-${r.end}/${size}`

/**
 * Answers a request for the file `name` inside `options.root` with the whole
 * HTTP of a careful static-file server: root confinement (404 for anything
 * refused or missing, without saying which), ETag / Last-Modified and the
 * conditional requests of RFC 9110 §13, Range / If-Range and
 * multipart/byteranges of §14, HEAD, and Content-Disposition. Whole files
 * and single ranges go out on Bun's zero-copy path.
 */
export async function serveFile(ctx: FileContext, name: string, options: FileOptions): Promise<Response> {
	const { request } = ctx
	const found = await resolveInRoot(options.root, name, { dotfiles: options.dotfiles })
	if (!found) return notFound()
	const { path, stats } = found
	const size = stats.size
	const blob = Bun.file(path)
	const type = options.contentType ?? (blob.type || 'application/octet-stream')
	const v = validatorsOf(stats, options.etag ?? 'strong', options.lastModified !== false)

	const validators: Record<string, string> = {}
	if (v.etag) validators.etag = v.etag
	if (v.lastModified) validators['last-modified'] = v.lastModified
	if (options.cacheControl) validators['cache-control'] = options.cacheControl

	const method = request.method
	const precondition = evaluatePreconditions(method, request.headers, v)
	if (precondition !== 'proceed') return new Response(null, { status: precondition, headers: validators })

	const headers: Record<string, string> = {
		...options.headers,
		...validators,
		'accept-ranges': 'bytes',
		// The type is the extension's: a browser must not guess another (an upload that looks like HTML).
		'x-content-type-options': 'nosniff',
		// Bun adds `filename="<name on disk>"` to a file body unless told otherwise.
		'content-disposition': options.download
			? contentDisposition(typeof options.download === 'string' ? options.download : name)
			: 'inline'
	}

	// Range is defined for GET only (RFC 9110 §14.2); If-Range may void it.
	const range =
		method === 'GET' && ifRangeHolds(request.headers, v)
			? parseRange(request.headers.get('range'), size, options.maxRanges)
			: ({ kind: 'full' } as const)

	if (range.kind === 'unsatisfiable')
		return new Response(null, { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` } })

	// Bun sends no body for HEAD, but only keeps Content-Length when the body is the file.
	if (method === 'HEAD') return new Response(blob, { headers: { ...headers, 'content-type': type } })

	if (range.kind === 'ranges' && range.ranges.length > 1) {
		const boundary = `sluice-${crypto.randomUUID().replaceAll('-', '')}`
		const parts: BodyPart[] = []
		for (const r of range.ranges) {
			parts.push(`--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: ${contentRange(r, size)}\r\n\r\n`, r, '\r\n')
		}
		parts.push(`--${boundary}--\r\n`)
		return send(ctx, path, parts, 206, `multipart/byteranges; boundary=${boundary}`, headers, options)
	}

	const whole = { start: 0, end: size - 1 }
	const one = range.kind === 'ranges' ? range.ranges[0]! : whole
	const status = range.kind === 'ranges' ? 206 : 200
	if (status === 206) headers['content-range'] = contentRange(one, size)
	if (size === 0) return new Response(new Uint8Array(0), { status, headers: { ...headers, 'content-type': type } })
	return send(ctx, path, [one], status, type, headers, options, one === whole ? blob : undefined)
}

/** Sends the body: by sendfile when it is one slice and nothing asks otherwise, else streamed. */
function send(
	ctx: FileContext,
	path: string,
	parts: BodyPart[],
	status: number,
	contentType: string,
	headers: Record<string, string>,
	options: FileOptions,
	whole?: Blob
): Response {
	// Checked right before the body opens, with no await in between, so limits hold.
	const refused = ctx.admit?.()
	if (refused) return refused
	const only = parts.length === 1 ? parts[0] : undefined
	const zeroCopy = options.zeroCopy !== false && !options.bytesPerSecond && typeof only === 'object'
	if (!zeroCopy) {
		return streamFile(ctx, path, parts, {
			status,
			contentType,
			headers,
			bytesPerSecond: options.bytesPerSecond
		}).response
	}
	const body = whole ?? Bun.file(path).slice(only.start, only.end + 1)
	const length = only.end - only.start + 1
	if (ctx.server && ctx.onOpen) ctx.onOpen(new ZeroCopyTransfer(ctx.request, ctx.server, length))
	return new Response(body, {
		status,
		headers: { ...headers, 'content-type': contentType, 'content-length': String(length) }
	})
}
