import zlib from 'node:zlib'
import type { Transform } from 'node:stream'
import { negotiateEncoding, SERVER_PREFERENCE, type Encoding } from './accept-encoding'

/** How a response is compressed, when the client accepts it. */
export interface CompressOptions {
	/** The codings offered, in the server's order of preference (ties between equal q-values go to the first). @default ['zstd', 'br', 'gzip'] */
	encodings?: readonly Encoding[]
	/**
	 * Level per coding. @default { zstd: 3, br: 4, gzip: 6 }: each coding's
	 * usual streaming setting (brotli's own default, 11, is for files compressed
	 * once, and runs at a few MB/s).
	 */
	level?: Partial<Record<Encoding, number>>
}

/** `false`: never compress; `true`: the defaults; or the codings and levels to offer. */
export type CompressOption = boolean | CompressOptions

/** The coding chosen for one response, with its level. */
export interface Compression {
	encoding: Encoding
	level: number
}

export const DEFAULT_LEVELS: Readonly<Record<Encoding, number>> = { zstd: 3, br: 4, gzip: 6 }

/**
 * The compression a request gets under `option` (undefined means `fallback`):
 * the coding negotiated from its Accept-Encoding, or undefined for none.
 */
export function compressionFor(
	request: Request,
	option: CompressOption | undefined,
	fallback: boolean
): Compression | undefined {
	const chosen = option ?? fallback
	if (chosen === false) return undefined
	const { encodings = SERVER_PREFERENCE, level } = chosen === true ? ({} as CompressOptions) : chosen
	const encoding = negotiateEncoding(request.headers.get('accept-encoding'), encodings)
	if (encoding === 'identity') return undefined
	return { encoding, level: level?.[encoding] ?? DEFAULT_LEVELS[encoding] }
}

const C = zlib.constants

/** A node:zlib compressor for `encoding` (Bun implements them natively, on its thread pool). */
export function createCompressor({ encoding, level }: Compression): Transform {
	if (encoding === 'gzip') return zlib.createGzip({ level })
	if (encoding === 'br')
		return zlib.createBrotliCompress({
			params: { [C.BROTLI_PARAM_QUALITY]: level, [C.BROTLI_PARAM_MODE]: C.BROTLI_MODE_TEXT }
		})
	return zlib.createZstdCompress({ params: { [C.ZSTD_c_compressionLevel]: level } })
}

/** The flush that makes everything written so far decodable, without ending the stream. */
const FLUSH: Record<Encoding, number> = {
	gzip: C.Z_SYNC_FLUSH,
	br: C.BROTLI_OPERATION_FLUSH,
	zstd: C.ZSTD_e_flush
}

/** What a StreamCompressor tells the stream it feeds. */
export interface CompressorSink {
	/** Compressed bytes to send. */
	compressed(bytes: Uint8Array): void
	/** Everything written has been compressed (and handed to `compressed`). */
	compressorIdle(): void
	/** The compressed stream has ended (after `end`): its last bytes were handed over. */
	compressorEnded(): void
	/** The compressor failed (never expected): the response cannot go on. */
	compressorFailed(error: unknown): void
}

// A write this large is a batch (pump joins records up to batchChars): flushed on its own.
const FLUSH_NOW_BYTES = 16 * 1024

let live = 0
/** Compressors whose native handle is still open (for tests and metrics: it returns to 0 when streams end). */
export const openCompressors = (): number => live

/**
 * Compresses a stream's writes as they come, and flushes at every batch
 * boundary: after a write of a whole batch, after a write to an idle
 * compressor, and otherwise once the burst of small writes is over (the next
 * turn of the event loop). The client can decode every record written so far
 * without waiting for more: compression never holds a record back. `pending` is the bytes written and not yet compressed, which the
 * stream counts as unsent for backpressure.
 */
export class StreamCompressor {
	/** Bytes written and not yet compressed. */
	pending = 0
	readonly encoding: Encoding
	#z: Transform
	#sink: CompressorSink
	#flush: number
	#flushTimer: ReturnType<typeof setImmediate> | undefined
	#done = false
	#failed = false

	constructor(compression: Compression, sink: CompressorSink) {
		this.encoding = compression.encoding
		this.#sink = sink
		this.#flush = FLUSH[compression.encoding]
		this.#z = createCompressor(compression)
		live++
		this.#z.on('data', (bytes: Uint8Array) => this.#sink.compressed(bytes))
		this.#z.once('end', () => this.#sink.compressorEnded())
		// Kept after destroy(): an error then must not become an uncaught one.
		this.#z.on('error', (error) => {
			if (this.#failed) return
			this.#failed = true
			this.destroy()
			this.#sink.compressorFailed(error)
		})
		this.#z.once('close', () => live--)
	}

	/** Queues `chunk` for compression; it is flushed out once the current burst is over. */
	write(chunk: string | Uint8Array): void {
		if (this.#done) return
		const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
		if (bytes.byteLength === 0) return
		const n = bytes.byteLength
		const idle = this.pending === 0
		this.pending += n
		this.#z.write(bytes, () => {
			this.pending -= n
			if (this.pending === 0) this.#sink.compressorIdle()
		})
		// A write to an idle compressor (the first record, one after a pause) or a whole batch
		// goes out at once; small writes in a burst (records sent one by one) share one flush.
		if (idle || n >= FLUSH_NOW_BYTES) {
			this.#cancelFlush()
			this.#flushNow()
		} else this.#flushTimer ??= setImmediate(this.#flushNow)
	}

	#flushNow = () => {
		this.#flushTimer = undefined
		if (!this.#done) (this.#z as unknown as { flush(kind: number): void }).flush(this.#flush)
	}

	/** Ends the compressed stream: its last bytes follow, then `compressorEnded`. */
	end(): void {
		if (this.#done) return
		this.#done = true
		this.#cancelFlush()
		this.#z.end()
	}

	/** Drops everything and frees the native handle (the client left). */
	destroy(): void {
		this.#done = true
		this.#cancelFlush()
		this.#z.removeAllListeners('data')
		this.#z.removeAllListeners('end')
		this.#z.destroy()
	}

	#cancelFlush(): void {
		if (this.#flushTimer) clearImmediate(this.#flushTimer)
		this.#flushTimer = undefined
	}
}

/** `headers` with Accept-Encoding added to Vary (a response that depends on it says so, compressed or not). */
export function withVary(headers: Record<string, string> | undefined): Record<string, string> {
	const out = { ...headers }
	const key = Object.keys(out).find((k) => k.toLowerCase() === 'vary')
	const current = key ? out[key]! : ''
	if (key) delete out[key]
	out.vary = /(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(current) ? current : current ? `${current}, Accept-Encoding` : 'Accept-Encoding'
	return out
}
