import zlib from 'node:zlib'
import type { Transform } from 'node:stream'

export type Coding = 'gzip' | 'br' | 'zstd'
export const CODINGS: Coding[] = ['gzip', 'br', 'zstd']

const decompressor = (coding: Coding): Transform =>
	coding === 'gzip' ? zlib.createGunzip() : coding === 'br' ? zlib.createBrotliDecompress() : zlib.createZstdDecompress()

/**
 * Decodes what a compressed body has sent so far, ended or not: a stream that
 * was flushed decodes up to its last flush, which is how a test sees that a
 * record was sent before the producer went on.
 */
export async function decodeSoFar(coding: Coding, bytes: Uint8Array): Promise<string> {
	const z = decompressor(coding)
	const out: Buffer[] = []
	z.on('data', (d: Buffer) => out.push(d))
	z.on('error', () => {})
	await new Promise<void>((resolve) => {
		z.write(bytes)
		;(z as unknown as { flush(cb: () => void): void }).flush(() => resolve())
	})
	z.destroy()
	return Buffer.concat(out).toString('utf8')
}

/** Decodes a whole compressed body (throws if it is cut short). */
export function decodeWhole(coding: Coding, bytes: Uint8Array): string {
	const b = Buffer.from(bytes)
	const out = coding === 'gzip' ? zlib.gunzipSync(b) : coding === 'br' ? zlib.brotliDecompressSync(b) : zlib.zstdDecompressSync(b)
	return out.toString('utf8')
}

/** Compresses bytes whole (request bodies, precompressed files). */
export function encodeWhole(coding: Coding, bytes: string | Uint8Array): Buffer {
	const b = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes)
	return coding === 'gzip' ? zlib.gzipSync(b) : coding === 'br' ? zlib.brotliCompressSync(b) : zlib.zstdCompressSync(b)
}

/** True once a chunked body has ended (its last chunk arrived). */
export const chunkedEnded = (raw: Buffer) => raw.subarray(-5).toString('latin1') === '0\r\n\r\n'
