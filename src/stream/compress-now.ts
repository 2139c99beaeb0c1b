import type { Transform } from 'node:stream'

/** The native handle under a node:zlib stream, as Node and Bun both lay it out. */
interface ZlibHandle {
	writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void
}
interface ZlibInternals {
	_handle?: ZlibHandle | null
	/** [avail_out, avail_in] after the last write. */
	_writeState?: Uint32Array
}

const OUT_BYTES = 16 * 1024

/** True when `z` can be driven synchronously by compressNow (an internal of node:zlib that Node and Bun share). */
export const canCompressNow = (z: Transform): boolean => {
	const { _handle, _writeState } = z as unknown as ZlibInternals
	return typeof _handle?.writeSync === 'function' && _writeState instanceof Uint32Array
}

/**
 * Compresses `input` on this thread through `z`'s own handle, flushed with
 * `flush`, and returns the bytes, in the same stream as `z`'s asynchronous
 * writes. Why not zlib's `_processChunk` without a callback: it closes the
 * handle after one call (it is the path of the one-shot `gzipSync`), so a
 * second write fails. Only call it while `z` has no write in flight and no
 * output buffered: the caller keeps the order of bytes.
 */
export function compressNow(z: Transform, input: Uint8Array, flush: number): Uint8Array[] {
	const { _handle, _writeState } = z as unknown as ZlibInternals
	const handle = _handle!
	const state = _writeState!
	const out: Uint8Array[] = []
	let inOff = 0
	let inLen = input.byteLength
	for (;;) {
		const buf = Buffer.allocUnsafe(OUT_BYTES)
		handle.writeSync(flush, input, inOff, inLen, buf, 0, OUT_BYTES)
		const availOut = state[0]!
		const availIn = state[1]!
		if (availOut < OUT_BYTES) out.push(buf.subarray(0, OUT_BYTES - availOut))
		inOff += inLen - availIn
		inLen = availIn
		// A full output buffer means more may be waiting; otherwise the flush is complete.
		if (availOut !== 0) return out
	}
}
