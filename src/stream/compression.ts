import zlib from 'node:zlib'
import type { Transform } from 'node:stream'
import { negotiateEncoding, SERVER_PREFERENCE, type Encoding } from './accept-encoding'
import { canCompressNow, compressNow } from './compress-now'

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

/** The flush that makes everything written so far decodable, without ending the stream. */
const FLUSH: Record<Encoding, number> = {
	gzip: C.Z_SYNC_FLUSH,
	br: C.BROTLI_OPERATION_FLUSH,
	zstd: C.ZSTD_e_flush
}

/**
 * A node:zlib compressor for `encoding` (Bun implements them natively, on its
 * thread pool). With `flushEach`, every write is flushed in the same pass
 * (one trip to the thread pool, not two), so its bytes are decodable at once.
 */
export function createCompressor({ encoding, level }: Compression, flushEach = false): Transform {
	const flush = flushEach ? FLUSH[encoding] : undefined
	if (encoding === 'gzip') return zlib.createGzip({ level, flush })
	if (encoding === 'br')
		return zlib.createBrotliCompress({
			flush,
			params: { [C.BROTLI_PARAM_QUALITY]: level, [C.BROTLI_PARAM_MODE]: C.BROTLI_MODE_TEXT }
		})
	return zlib.createZstdCompress({ flush, params: { [C.ZSTD_c_compressionLevel]: level } } as zlib.ZstdOptions)
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

// A write this large is a batch (pump joins records up to batchChars): compressed and flushed on its own.
const BATCH_BYTES = 16 * 1024
// The first bytes of a stream are compressed on this thread, at most this much of its first write:
// time to the first record stays close to identity's (the rest goes to the thread pool).
const FIRST_BYTES = 8 * 1024

let live = 0
/** Compressors whose native handle is still open (for tests and metrics: it returns to 0 when streams end). */
export const openCompressors = (): number => live

/**
 * Compresses a stream's writes as they come, flushed at every batch
 * boundary: a whole batch is compressed and flushed on the thread pool; a
 * write to an idle compressor (the first record, one after a pause) on this
 * thread, so its bytes are sent before write() returns; small
 * writes in a burst (records sent one by one) are joined and flushed together
 * once the burst is over (the next turn of the event loop) or 16 KB have
 * gathered. The client can decode every record written so far without
 * waiting for more: compression never holds a record back. `pending` is the
 * bytes written and not yet compressed, which the stream counts as unsent for
 * backpressure.
 */
export class StreamCompressor {
	/** Bytes written and not yet compressed. */
	pending = 0
	readonly encoding: Encoding
	#z: Transform
	#sink: CompressorSink
	#held: Uint8Array[] = []
	#heldBytes = 0
	#timer: ReturnType<typeof setImmediate> | undefined
	#done = false
	#failed = false
	#started = false
	#flush: number
	#now: boolean

	constructor(compression: Compression, sink: CompressorSink) {
		this.encoding = compression.encoding
		this.#sink = sink
		this.#z = createCompressor(compression, true)
		this.#flush = FLUSH[compression.encoding]
		this.#now = canCompressNow(this.#z)
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

	/** Queues `chunk` for compression (see the class). */
	write(chunk: string | Uint8Array): void {
		if (this.#done) return
		const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
		const n = bytes.byteLength
		if (n === 0) return
		const first = !this.#started
		this.#started = true
		// An idle compressor (no write in flight, no output waiting) compresses the stream's first
		// bytes, and a record after a pause, here and now: they reach the socket in this call, not
		// after a trip to the thread pool and some turns of the event loop. Batches go to the pool.
		// The writes that follow in the same burst are held and joined (the timer is the burst's end).
		const idle = this.pending === 0 && !this.#timer
		if (idle && this.#now && (first || n < BATCH_BYTES) && this.#z.readableLength === 0) {
			this.#timer = setImmediate(this.#writeHeld)
			if (n <= FIRST_BYTES || !first) return this.#compressNow(bytes)
			this.#compressNow(bytes.subarray(0, FIRST_BYTES))
			// The rest waits for the end of the burst: until then Bun has not yet taken the response.
			this.pending += n - FIRST_BYTES
			this.#held.push(bytes.subarray(FIRST_BYTES))
			this.#heldBytes += n - FIRST_BYTES
			return
		}
		this.pending += n
		if (idle || n >= BATCH_BYTES) {
			this.#writeHeld()
			this.#compress(bytes)
			return
		}
		this.#held.push(bytes)
		this.#heldBytes += n
		if (this.#heldBytes >= BATCH_BYTES) this.#writeHeld()
		else this.#timer ??= setImmediate(this.#writeHeld)
	}

	/** One write, flushed by the compressor itself; `pending` drops once it is compressed. */
	#compress(bytes: Uint8Array): void {
		const n = bytes.byteLength
		this.#z.write(bytes, () => {
			this.pending -= n
			if (this.pending === 0) this.#sink.compressorIdle()
		})
	}

	#compressNow(bytes: Uint8Array): void {
		let out: Uint8Array[]
		try {
			out = compressNow(this.#z, bytes, this.#flush)
		} catch (error) {
			this.#z.destroy(error as Error)
			return
		}
		for (const chunk of out) this.#sink.compressed(chunk)
	}

	#writeHeld = (): void => {
		if (this.#timer) clearImmediate(this.#timer)
		this.#timer = undefined
		if (this.#heldBytes === 0 || this.#done) return
		const held = this.#held
		const joined = held.length === 1 ? held[0]! : Buffer.concat(held)
		this.#held = []
		this.#heldBytes = 0
		this.#compress(joined)
	}

	/** Ends the compressed stream: its last bytes follow, then `compressorEnded`. */
	end(): void {
		if (this.#done) return
		this.#writeHeld()
		this.#done = true
		this.#z.end()
	}

	/** Drops everything and frees the native handle (the client left). */
	destroy(): void {
		this.#done = true
		if (this.#timer) clearImmediate(this.#timer)
		this.#timer = undefined
		this.#held = []
		this.#z.removeAllListeners('data')
		this.#z.removeAllListeners('end')
		this.#z.destroy()
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
