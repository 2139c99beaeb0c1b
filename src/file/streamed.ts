import { open } from 'node:fs/promises'
import { ResponseStream, abortableSleep, type StreamContext } from '../stream'
import type { ByteRange } from './range'
import type { Compression } from '../stream/compression'

/** A piece of a streamed body: literal bytes (multipart framing) or a range of the file. */
export type BodyPart = string | ByteRange

/** Options of streamFile. */
export interface StreamFileOptions {
	status: number
	contentType: string
	headers: Record<string, string>
	/** Bytes per second; 0 or undefined sends as fast as the client reads. */
	bytesPerSecond?: number
	/** Bytes read and written at a time. @default 262144 */
	chunkBytes?: number
	/** Compress the body with this coding (file()'s on-the-fly compression). */
	compression?: Compression
}

/** What streamFile needs of the framework. */
export type StreamFileContext = StreamContext

/**
 * Sends `parts` of the file at `path` through a ResponseStream: read by
 * chunk, written with backpressure, paced to `bytesPerSecond` when set. Slower
 * than Bun's zero-copy path, but every byte is counted as it goes and the
 * download can be closed. A file that shrinks under it ends the response
 * early (the client sees a short body against Content-Length, never garbage).
 */
export function streamFile(
	ctx: StreamFileContext,
	path: string,
	parts: BodyPart[],
	options: StreamFileOptions
): ResponseStream {
	const rate = options.bytesPerSecond && options.bytesPerSecond > 0 ? options.bytesPerSecond : 0
	// Paced downloads write small chunks (about 20 a second) so the rate holds over short spans.
	const chunkSize = rate
		? Math.max(1024, Math.min(options.chunkBytes ?? 262_144, Math.floor(rate / 20)))
		: (options.chunkBytes ?? 262_144)
	const stream = new ResponseStream({
		request: ctx.request,
		server: ctx.server,
		status: options.status,
		contentType: options.contentType,
		// Bun sends an asynchronously written body chunked and drops a Content-Length
		// (measured on 1.4.5), so none is given: never both.
		headers: options.headers,
		heartbeatMs: 0,
		// A client that takes nothing for a minute is gone (a half-open connection).
		stallTimeoutMs: 60_000,
		compression: options.compression
	})
	ctx.onOpen?.(stream)

	const run = async () => {
		const file = await open(path, 'r')
		try {
			const startedAt = performance.now()
			let sent = 0
			for (const part of parts) {
				if (typeof part === 'string') {
					if (!stream.write(part)) await stream.drained()
					continue
				}
				for (let at = part.start; at <= part.end && !stream.closed; ) {
					const want = Math.min(chunkSize, part.end - at + 1)
					// A fresh buffer each time: Bun may still hold the last one written.
					const buffer = Buffer.allocUnsafe(want)
					const { bytesRead } = await file.read(buffer, 0, want, at)
					if (bytesRead === 0) return stream.close('error')
					at += bytesRead
					sent += bytesRead
					if (!stream.write(buffer.subarray(0, bytesRead))) await stream.drained()
					if (rate) {
						const due = startedAt + (sent / rate) * 1000
						const wait = due - performance.now()
						if (wait > 1) await abortableSleep(wait, stream.signal)
					}
				}
				if (stream.closed) return
			}
			stream.close('done')
		} finally {
			await file.close()
		}
	}
	run().catch((error) => {
		if (stream.closed) return
		stream.close('error')
		ctx.onError?.(error)
	})
	return stream
}
