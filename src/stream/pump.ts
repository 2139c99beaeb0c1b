import type { ResponseStream } from './response-stream'

/** A source of items: a sync or async iterable (generators included). */
export type Source<T> = Iterable<T> | AsyncIterable<T>

/** Options of pump(). */
export interface PumpOptions {
	/** Characters joined into one write when items come faster than the socket drains. @default 65536 */
	batchChars?: number
}

const isAsync = <T>(source: Source<T>): source is AsyncIterable<T> =>
	typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function'

/**
 * Drives `source` into `stream`, encoding each item with `encode`. Items that
 * arrive in one burst are joined into one write; an item that arrives after a
 * pause is written at once. Bytes (an item encoded to a Uint8Array) are written
 * as they are, after what was joined before them. Waits while the client is behind. Stops the source
 * (its `finally` runs) when the stream closes. Resolves when the source is done
 * or the stream closed; rejects with what the source or `encode` threw.
 */
export async function pump<T>(
	stream: ResponseStream,
	source: Source<T>,
	encode: (item: T) => string | Uint8Array,
	{ batchChars = 65_536 }: PumpOptions = {}
): Promise<void> {
	let batch = ''
	let count = 0
	let flushScheduled = false
	// Runs once the burst is over (the producer waits on something outside this tick).
	const flushLater = () => {
		flushScheduled = false
		if (batch) flush()
	}
	const flush = () => {
		const ok = stream.write(batch, count)
		batch = ''
		count = 0
		return ok
	}
	const add = (item: T) => {
		const chunk = encode(item)
		if (typeof chunk !== 'string') {
			if (batch) flush()
			return stream.write(chunk, 1)
		}
		batch += chunk
		count++
		if (batch.length >= batchChars) return flush()
		if (!flushScheduled) {
			flushScheduled = true
			setImmediate(flushLater)
		}
		return true
	}

	if (!isAsync(source)) {
		try {
			// for-of returns the iterator (its `finally` runs) when the loop breaks or throws.
			// Nothing closes the stream between two items but a write or a wait, both checked below.
			if (stream.closed) return
			for (const item of source) {
				if (!add(item)) {
					await stream.drained()
					if (stream.closed) break
				}
			}
		} finally {
			if (batch && !stream.closed) flush()
		}
		return
	}

	const it = source[Symbol.asyncIterator]()
	// A generator parked on a pending promise cannot be stopped from outside; asking it
	// to return now makes it run its `finally` as soon as that promise settles.
	const stop = () => void it.return?.()?.catch?.(() => {})
	stream.signal.addEventListener('abort', stop, { once: true })
	try {
		// for-await (cheaper per item than calling next() by hand) also returns the
		// iterator when the body breaks or throws. Over a generator itself, not a wrapper,
		// it takes the engine's faster path.
		for await (const item of (it as unknown) === source ? source : { [Symbol.asyncIterator]: () => it }) {
			if (stream.closed) break
			if (!add(item)) {
				await stream.drained()
				if (stream.closed) break
			}
		}
	} catch (error) {
		if (!stream.closed) throw error
	} finally {
		stream.signal.removeEventListener('abort', stop)
		if (batch && !stream.closed) flush()
	}
}
