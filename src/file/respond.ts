import type { LiveStream } from '../connections'
import type { TimeoutSetter } from '../stream'
import { contentDisposition } from './disposition'
import { parseRange, type ByteRange } from './range'
import { resolveInRoot } from './resolve'
import { streamFile, type BodyPart } from './streamed'
import { ZeroCopyTransfer, type RequestWatcher } from './transfer'
import { evaluatePreconditions, ifRangeHolds, validatorsOf, type EtagMode } from './validators'
import { isCompressible, pickSibling, siblingsOf } from './precompressed'
import { SERVER_PREFERENCE, type Encoding } from '../stream/accept-encoding'
import { compressionFor, type Compression, type CompressOptions } from '../stream/compression'

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
	/**
	 * Serve a precompressed sibling (`name.zst`, `name.br`, `name.gz`) when one
	 * exists, the client's Accept-Encoding takes it, and it is no older than
	 * the file: still by sendfile, with its own ETag, Range and conditional
	 * requests. `false`: never; a list: only those codings. @default true
	 */
	precompressed?: boolean | readonly Encoding[]
	/**
	 * Compress compressible types (text, JSON, NDJSON, XML, SVG) on the fly
	 * when no sibling is served. This trades sendfile for bytes: the file is
	 * read and compressed through JavaScript, and sent whole (200, no Range).
	 * Precompress what you serve often instead. @default false
	 */
	compress?: boolean | FileCompressOptions
}

/** On-the-fly compression of file(): the codings and levels, and the smallest file worth it. */
export interface FileCompressOptions extends CompressOptions {
	/** Files smaller than this are sent as they are. @default 1024 */
	minBytes?: number
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
	const type = options.contentType ?? (Bun.file(found.path).type || 'application/octet-stream')

	// The representation: a precompressed sibling, the file compressed on the fly, or the file.
	const offered = options.precompressed === false ? [] : options.precompressed === true || !options.precompressed ? SERVER_PREFERENCE : options.precompressed
	const siblings = offered.length ? await siblingsOf(options.root, name, found.stats, offered, options) : []
	const sibling = pickSibling(request, siblings)
	const { path, stats } = sibling ?? found
	const onTheFly = sibling ? undefined : compressOnTheFly(request, options, type, stats.size)
	const coding = sibling?.encoding ?? onTheFly?.encoding
	const size = stats.size
	const blob = Bun.file(path)
	const v = validatorsOf(stats, options.etag ?? 'strong', options.lastModified !== false, coding ? `-${coding}` : '')

	const validators: Record<string, string> = {}
	// Caches must key on Accept-Encoding whenever it can change the answer (304s included).
	if (siblings.length || onTheFly !== undefined || (options.compress && isCompressible(type)))
		validators.vary = options.headers?.vary ? `${options.headers.vary}, Accept-Encoding` : 'Accept-Encoding'
	if (v.etag) validators.etag = v.etag
	if (v.lastModified) validators['last-modified'] = v.lastModified
	if (options.cacheControl) validators['cache-control'] = options.cacheControl

	const method = request.method
	const precondition = evaluatePreconditions(method, request.headers, v)
	if (precondition !== 'proceed') return new Response(null, { status: precondition, headers: validators })

	const headers: Record<string, string> = {
		...options.headers,
		...validators,
		'accept-ranges': onTheFly ? 'none' : 'bytes',
		// The type is the extension's: a browser must not guess another (an upload that looks like HTML).
		'x-content-type-options': 'nosniff',
		// Bun adds `filename="<name on disk>"` to a file body unless told otherwise.
		'content-disposition': options.download
			? contentDisposition(typeof options.download === 'string' ? options.download : name)
			: 'inline'
	}
	if (coding) headers['content-encoding'] = coding

	if (onTheFly) {
		// Compressed as it is read: its length is unknown, so no Range (and HEAD has no Content-Length).
		if (method === 'HEAD') return new Response(null, { headers: { ...headers, 'content-type': type } })
		const refused = ctx.admit?.()
		if (refused) return refused
		return streamFile(ctx, path, [{ start: 0, end: size - 1 }], {
			status: 200,
			contentType: type,
			headers,
			compression: onTheFly
		}).response
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

/** The coding a file is compressed with on the fly, when asked for, worth it, and accepted. */
function compressOnTheFly(request: Request, options: FileOptions, type: string, size: number): Compression | undefined {
	const option = options.compress
	if (!option || !isCompressible(type)) return undefined
	const minBytes = (option === true ? undefined : option.minBytes) ?? 1024
	if (size < minBytes || size === 0) return undefined
	return compressionFor(request, option, false)
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
