import zlib from 'node:zlib'
import { Readable, pipeline, type Transform } from 'node:stream'
import type { Encoding } from './accept-encoding'

/** The request Content-Encodings a body may carry (RFC 9110 §8.4); `identity` (or none) is read as it is. */
export const BODY_ENCODINGS: readonly Encoding[] = ['gzip', 'br', 'zstd']

/** A request body in a Content-Encoding the server does not read (415), or whose bytes do not decode (400). */
export class BodyEncodingError extends Error {
	constructor(
		readonly status: 400 | 415,
		message: string
	) {
		super(message)
		this.name = 'BodyEncodingError'
	}
}

/** A request body whose bytes, once decoded, pass the limit. */
export class BodyTooLargeError extends Error {
	constructor(readonly limit: number) {
		super(`the request body is over ${limit} bytes (decoded)`)
		this.name = 'BodyTooLargeError'
	}
}

/**
 * The coding named by a request's Content-Encoding: undefined for none or
 * `identity`. Anything else, or more than one coding, is a BodyEncodingError
 * 415 (RFC 9110 §15.5.16): guessing would read compressed bytes as text.
 */
export function bodyEncodingOf(header: string | null): Encoding | undefined {
	if (header === null) return undefined
	const codings = header
		.split(',')
		.map((c) => c.trim().toLowerCase())
		.filter((c) => c && c !== 'identity')
	if (codings.length === 0) return undefined
	const coding = codings[0] === 'x-gzip' ? 'gzip' : codings[0]
	if (codings.length > 1 || !BODY_ENCODINGS.includes(coding as Encoding))
		throw new BodyEncodingError(415, `Content-Encoding ${header.trim()} is not supported; send gzip, br, zstd or identity`)
	return coding as Encoding
}

const decompressorFor = (encoding: Encoding): Transform =>
	encoding === 'gzip'
		? zlib.createGunzip()
		: encoding === 'br'
			? zlib.createBrotliDecompress()
			: zlib.createZstdDecompress()

/**
 * Decodes a body's chunks as they are read, pulled by the reader: the
 * decompressor makes output only as it is taken, so a small body that expands
 * to gigabytes (a decompression bomb) never sits in memory, and reading stops
 * with BodyTooLargeError as soon as the decoded bytes pass `maxBytes`.
 * Errors of `chunks` (a body timeout) come out as they are; bytes that do not
 * decode are a BodyEncodingError 400. Stopping early frees the decompressor
 * and stops `chunks` (its `finally` runs, cancelling the body).
 */
export async function* decodeChunks(
	chunks: AsyncIterable<Uint8Array>,
	encoding: Encoding | undefined,
	maxBytes = Infinity
): AsyncGenerator<Uint8Array> {
	let total = 0
	if (!encoding) {
		for await (const chunk of chunks) {
			total += chunk.byteLength
			if (total > maxBytes) throw new BodyTooLargeError(maxBytes)
			yield chunk
		}
		return
	}
	const z = decompressorFor(encoding)
	const source = Readable.from(chunks, { objectMode: false })
	let sourceError: unknown
	source.once('error', (error) => (sourceError = error))
	pipeline(source, z, () => {})
	try {
		for await (const chunk of z as AsyncIterable<Uint8Array>) {
			total += chunk.byteLength
			if (total > maxBytes) throw new BodyTooLargeError(maxBytes)
			yield chunk
		}
	} catch (error) {
		if (sourceError !== undefined) throw sourceError
		if (error instanceof BodyTooLargeError) throw error
		throw new BodyEncodingError(400, `the request body is not valid ${encoding} (${(error as Error).message ?? error})`)
	} finally {
		z.destroy()
		source.destroy()
	}
}
